/*
 * test_etcd_secure.c: weft's store client against an etcd with TLS, client
 * certificates required (--client-cert-auth) and users on (issue 17). The
 * certificates come from tests/lib/pki.sh at test time, in the test's own folder.
 * Proves: put/get/txn/lease/watch work; a token that expires (TTL 2 s), or that
 * etcd forgets on restart, costs no request, keepalive or watch event; and every
 * failure of trust or of the user gives its own message and code (-EKEYREJECTED,
 * -EACCES), never "store unreachable".
 */
#include <inttypes.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "etcd_fixture.h"
#include "store/etcd.h"
#include "store/etcd_status.h"
#include "store/etcd_watch_set.h"

#define TOKEN_TTL_S 2
#define USER "weft"
#define PASSWORD "weft-secret"
#define NETS "/weft/v1/nets/"

static struct etcd_fixture fx;
static char pki[128];

static int run(const char *command)
{
    int rc = system(command);
    if (rc != 0)
        fprintf(stderr, "failed (%d): %s\n", rc, command);
    return rc;
}

/* A user whose role may read and write under NETS only, and auth on. */
static int add_users(void)
{
    char cmd[1024];
    const char *steps[] = {"user add root --new-user-password=root-secret",
                           "user add " USER " --new-user-password=" PASSWORD,
                           "role add weft",
                           "role grant-permission weft --prefix=true readwrite " NETS,
                           "user grant-role " USER " weft",
                           "auth enable"};
    for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
        snprintf(cmd, sizeof(cmd),
                 "ETCDCTL_API=3 timeout 20 etcdctl --endpoints https://%s --cacert %s/ca.pem "
                 "--cert %s/client.pem --key %s/client.key %s >/dev/null 2>&1",
                 fx.endpoint, pki, pki, pki, steps[i]);
        if (run(cmd) != 0)
            return -1;
    }
    return 0;
}

static int setup(void **state)
{
    (void)state;
    snprintf(pki, sizeof(pki), "/tmp/weft-test-pki-XXXXXX");
    if (!mkdtemp(pki))
        return -1;
    char cmd[512];
    snprintf(cmd, sizeof(cmd), "bash -c '. tests/lib/pki.sh && pki_make %s 127.0.0.1' >/dev/null",
             pki);
    if (run(cmd) != 0 || etcd_fixture_start_tls(&fx, pki, TOKEN_TTL_S) < 0)
        return -1;
    usleep(500 * 1000); /* the TLS gateway takes a moment more */
    return add_users();
}

static int teardown(void **state)
{
    (void)state;
    etcd_fixture_stop(&fx);
    char cmd[256];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", pki);
    return run(cmd);
}

/* A config for our etcd; file names are in pki (static strings per call site). */
struct files {
    char ca[192], cert[192], key[192];
};

static struct etcd_config config_of(struct files *f, const char *ca, const char *client,
                                    const char *password)
{
    snprintf(f->ca, sizeof(f->ca), "%s/%s.pem", pki, ca);
    snprintf(f->cert, sizeof(f->cert), "%s/%s.pem", pki, client);
    snprintf(f->key, sizeof(f->key), "%s/%s.key", pki, client);
    return (struct etcd_config){.endpoints = fx.endpoint,
                                .tls = true,
                                .ca_file = f->ca,
                                .cert_file = f->cert,
                                .key_file = f->key,
                                .user = USER,
                                .password = password,
                                /* TLS handshakes and etcd's password check under ASan
                                 * on a loaded machine took more than the default 2 s */
                                .timeout_ms = 10000};
}

static struct etcd *open_ok(void)
{
    struct files f;
    struct etcd_config config = config_of(&f, "ca", "client", PASSWORD);
    struct etcd *etcd;
    struct weft_err err = {0};
    if (etcd_open_config(&etcd, &config, &err) < 0)
        fail_msg("open: %s", err.msg);
    return etcd;
}

/* ---- what works ---- */

struct seen {
    pthread_mutex_t lock;
    int puts, syncs;
    char last_key[128];
};

static void on_events(void *ctx, const struct etcd_event *events, size_t count)
{
    struct seen *seen = ctx;
    pthread_mutex_lock(&seen->lock);
    for (size_t i = 0; i < count; i++) {
        if (events[i].type == ETCD_EVENT_PUT) {
            seen->puts++;
            snprintf(seen->last_key, sizeof(seen->last_key), "%s", events[i].key);
        }
        seen->syncs += events[i].type == ETCD_EVENT_SYNC_BEGIN;
    }
    pthread_mutex_unlock(&seen->lock);
}

static int puts_seen(struct seen *seen)
{
    pthread_mutex_lock(&seen->lock);
    int n = seen->puts;
    pthread_mutex_unlock(&seen->lock);
    return n;
}

/* Waits up to 5 s for want PUT events. */
static void await_puts(struct seen *seen, int want)
{
    /* Up to 20 s: a watch resuming after a restart waits out its backoff first. */
    for (int i = 0; i < 400 && puts_seen(seen) < want; i++)
        usleep(50 * 1000);
    assert_int_equal(puts_seen(seen), want);
}

static void test_kv_txn_lease_watch(void **state)
{
    (void)state;
    struct etcd *etcd = open_ok();
    struct weft_err err = {0};
    struct seen seen = {.lock = PTHREAD_MUTEX_INITIALIZER};
    struct etcd_watch *watch;
    assert_int_equal(etcd_watch_start(etcd, NETS "kv/", on_events, &seen, &watch, &err), 0);
    int64_t lease;
    assert_int_equal(etcd_lease_grant(etcd, 30, &lease, &err), 0);
    assert_int_equal(etcd_put(etcd, NETS "kv/a", "{\"a\":1}", lease, &err), 0);
    struct etcd_kv kv;
    bool found = false;
    assert_int_equal(etcd_get(etcd, NETS "kv/a", &kv, &found, &err), 0);
    assert_true(found);
    assert_string_equal(kv.value, "{\"a\":1}");
    etcd_kv_clear(&kv);
    struct etcd_txn *txn = etcd_txn_new();
    etcd_txn_cmp_absent(txn, NETS "kv/b");
    etcd_txn_put(txn, NETS "kv/b", "{}", 0);
    bool succeeded = false;
    assert_int_equal(etcd_txn_commit(etcd, txn, &succeeded, &err), 0);
    etcd_txn_free(txn);
    assert_true(succeeded);
    bool alive = false;
    assert_int_equal(etcd_lease_keepalive(etcd, lease, &alive, &err), 0);
    assert_true(alive);
    /* A user with a role over weft's keys only may count the leases (the hosts). */
    size_t leases = 0;
    assert_int_equal(etcd_lease_count(etcd, &leases, &err), 0);
    assert_true(leases >= 1);
    await_puts(&seen, 2);
    etcd_watch_stop(watch);
    assert_int_equal(etcd_lease_revoke(etcd, lease, &err), 0);
    etcd_close(etcd);
}

/* The token expires between calls (TTL 2 s), and etcd forgets every token when it
 * restarts: requests, the keepalive and the open watch go on, no event lost. */
static void test_token_expiry_loses_nothing(void **state)
{
    (void)state;
    struct etcd *etcd = open_ok();
    /* A member just restarted (TLS handshakes, an election) may take more than the
     * default 2 s on a loaded machine; what is tested is that nothing is lost. */
    etcd_set_timeout_ms(etcd, 15000);
    struct weft_err err = {0};
    struct seen seen = {.lock = PTHREAD_MUTEX_INITIALIZER};
    struct etcd_watch *watch;
    assert_int_equal(etcd_watch_start(etcd, NETS "ttl/", on_events, &seen, &watch, &err), 0);
    int64_t lease;
    assert_int_equal(etcd_lease_grant(etcd, 60, &lease, &err), 0);
    int written = 0;
    /* Two expiries: the put's token, then the token the put got (a renewed token
     * expires too). More rounds cost 6 s each and test nothing new. */
    for (int round = 0; round < 1; round++) {
        sleep(TOKEN_TTL_S + 1); /* the token is gone */
        char key[64];
        snprintf(key, sizeof(key), NETS "ttl/%d", round);
        if (etcd_put(etcd, key, "{}", lease, &err) < 0)
            fail_msg("put after expiry: %s", err.msg);
        written++;
        sleep(TOKEN_TTL_S + 1);
        bool alive = false;
        if (etcd_lease_keepalive(etcd, lease, &alive, &err) < 0)
            fail_msg("keepalive after expiry: %s", err.msg);
        assert_true(alive);
    }
    await_puts(&seen, written);
    /* A restart: every token is forgotten, the stream breaks and must resume with a
     * new one from where it was (no new listing). */
    assert_int_equal(etcd_fixture_restart(&fx), 0);
    usleep(500 * 1000);
    for (int i = 0; i < 3; i++) {
        char key[64];
        snprintf(key, sizeof(key), NETS "ttl/after-%d", i);
        if (etcd_put(etcd, key, "{}", lease, &err) < 0)
            fail_msg("put after restart: %s", err.msg);
        written++;
    }
    await_puts(&seen, written);
    pthread_mutex_lock(&seen.lock);
    assert_int_equal(seen.syncs, 1); /* resumed, never listed again */
    pthread_mutex_unlock(&seen.lock);
    etcd_watch_stop(watch);
    assert_int_equal(etcd_lease_revoke(etcd, lease, &err), 0);
    etcd_close(etcd);
}

/* --store-watch grpc (store/etcd_watch_grpc.c) over TLS with a user: its stream takes
 * the certificates and the token; after a restart, which forgets every token, the
 * stream's resume carries the old one, is refused, and reopens with a new token from
 * where it was: no event lost, no new listing. */
static void test_grpc_watch_token_after_restart(void **state)
{
    (void)state;
    struct files f;
    struct etcd_config config = config_of(&f, "ca", "client", PASSWORD);
    config.watch_grpc = true;
    struct etcd *etcd;
    struct weft_err err = {0};
    if (etcd_open_config(&etcd, &config, &err) < 0)
        fail_msg("open: %s", err.msg);
    etcd_set_timeout_ms(etcd, 15000);
    struct seen seen = {.lock = PTHREAD_MUTEX_INITIALIZER};
    struct etcd_watch *watch;
    assert_int_equal(etcd_watch_start(etcd, NETS "grpc/", on_events, &seen, &watch, &err), 0);
    /* The restart below is the point, not an outage: etcd with TLS takes longer than
     * the 2.5 s grace to come back when the machine is busy (it did, once). */
    etcd_watch_grace_ms(watch, 20000);
    assert_int_equal(etcd_put(etcd, NETS "grpc/before", "{}", 0, &err), 0);
    /* Streaming, the put seen (a stream that failed its first handshake, etcd being
     * fresh from the last test's restart, lists again: count from here). */
    bool streaming = false, before = false;
    for (int i = 0; i < 400 && !(streaming && before); i++) {
        int64_t rev;
        usleep(50 * 1000);
        etcd_watch_progress(watch, &rev, &streaming);
        pthread_mutex_lock(&seen.lock);
        before = strstr(seen.last_key, "before") != NULL;
        pthread_mutex_unlock(&seen.lock);
    }
    assert_true(streaming && before);
    pthread_mutex_lock(&seen.lock);
    int puts = seen.puts, syncs = seen.syncs;
    pthread_mutex_unlock(&seen.lock);
    assert_int_equal(etcd_fixture_restart(&fx), 0);
    usleep(500 * 1000);
    for (int i = 0; i < 3; i++) {
        char key[64];
        snprintf(key, sizeof(key), NETS "grpc/after-%d", i);
        if (etcd_put(etcd, key, "{}", 0, &err) < 0)
            fail_msg("put after restart: %s", err.msg);
    }
    await_puts(&seen, puts + 3);
    pthread_mutex_lock(&seen.lock);
    assert_int_equal(seen.syncs, syncs); /* resumed, never listed again */
    assert_string_equal(seen.last_key, NETS "grpc/after-2");
    pthread_mutex_unlock(&seen.lock);
    etcd_watch_stop(watch);
    etcd_close(etcd);
}

/* A watch set (store/etcd_watch_set.h) over TLS with a user who may not read one of
 * its prefixes: that prefix alone is refused (its listing, again after a backoff),
 * the other one is listed and streams. */
struct set_seen {
    pthread_mutex_t lock;
    int allowed_puts, forbidden_batches, disconnected;
};

static void on_set_batch(void *ctx, const char *prefix, const struct etcd_event *events,
                         size_t count)
{
    struct set_seen *seen = ctx;
    pthread_mutex_lock(&seen->lock);
    for (size_t i = 0; prefix && strcmp(prefix, NETS "set/") == 0 && i < count; i++)
        seen->allowed_puts += events[i].type == ETCD_EVENT_PUT;
    seen->forbidden_batches += prefix && strcmp(prefix, NETS "set/") != 0;
    seen->disconnected += !prefix;
    pthread_mutex_unlock(&seen->lock);
}

static int set_puts(struct set_seen *seen, int want)
{
    int n = 0;
    for (int i = 0; i < 400 && n < want; i++) { /* up to 20 s */
        pthread_mutex_lock(&seen->lock);
        n = seen->allowed_puts;
        pthread_mutex_unlock(&seen->lock);
        if (n < want)
            usleep(50 * 1000);
    }
    return n;
}

static void test_watch_set_refused_prefix_alone(void **state)
{
    (void)state;
    struct etcd *etcd = open_ok();
    struct weft_err err = {0};
    struct set_seen seen = {.lock = PTHREAD_MUTEX_INITIALIZER};
    struct etcd_watch_set *set;
    assert_int_equal(etcd_watch_set_start(etcd, on_set_batch, &seen, &set, &err), 0);
    assert_int_equal(etcd_watch_set_add(set, "/weft/v1/fabric/forbidden/", &err), 0);
    assert_int_equal(etcd_watch_set_add(set, NETS "set/", &err), 0);
    assert_int_equal(etcd_put(etcd, NETS "set/a", "{}", 0, &err), 0);
    assert_int_equal(set_puts(&seen, 1), 1);
    usleep(1000 * 1000); /* the refused listing tried again meanwhile */
    assert_int_equal(etcd_put(etcd, NETS "set/b", "{}", 0, &err), 0);
    assert_int_equal(set_puts(&seen, 2), 2);
    etcd_watch_set_stop(set);
    pthread_mutex_lock(&seen.lock);
    assert_int_equal(seen.forbidden_batches, 0);
    assert_int_equal(seen.disconnected, 0);
    pthread_mutex_unlock(&seen.lock);
    etcd_close(etcd);
}

/* ---- failures: each with its message and code ---- */

/* Opening (which authenticates) fails with code and a message holding words. */
static void assert_open_fails(const struct etcd_config *config, int code, const char *words)
{
    struct etcd *etcd = NULL;
    struct weft_err err = {0};
    assert_int_equal(etcd_open_config(&etcd, config, &err), -1);
    assert_null(etcd);
    if (err.code != code || !strstr(err.msg, words))
        fail_msg("want code %d and \"%s\", got %d: %s", code, words, err.code, err.msg);
    assert_false(etcd_err_unreachable(&err));
}

static void test_wrong_ca(void **state)
{
    (void)state;
    struct files f;
    struct etcd_config config = config_of(&f, "other-ca", "client", PASSWORD);
    char words[512];
    snprintf(words, sizeof(words),
             "store %s: its certificate is not signed by the CA in "
             "--store-ca (%s)",
             fx.endpoint, f.ca);
    assert_open_fails(&config, -EKEYREJECTED, words);
}

/* The server's certificate names 127.0.0.1 only: asked as localhost, it is refused;
 * and a second etcd whose certificate names only 192.0.2.99 is refused at 127.0.0.1. */
static void test_server_name_checked(void **state)
{
    (void)state;
    struct files f;
    struct etcd_config config = config_of(&f, "ca", "client", PASSWORD);
    char endpoint[64], words[160];
    snprintf(endpoint, sizeof(endpoint), "localhost:%d", fx.client_port);
    config.endpoints = endpoint;
    snprintf(words, sizeof(words), "store %s: its certificate does not name localhost", endpoint);
    assert_open_fails(&config, -EKEYREJECTED, words);

    struct etcd_fixture wrong;
    assert_int_equal(etcd_fixture_prepare(&wrong), 0);
    snprintf(wrong.pki_dir, sizeof(wrong.pki_dir), "%s", pki);
    snprintf(wrong.server_cert, sizeof(wrong.server_cert), "wrong-name");
    if (etcd_fixture_spawn(&wrong) < 0) {
        etcd_fixture_stop(&wrong);
        fail_msg("no etcd with the wrong-name certificate");
    }
    config.endpoints = wrong.endpoint;
    snprintf(words, sizeof(words), "store %s: its certificate does not name 127.0.0.1",
             wrong.endpoint);
    struct etcd *etcd = NULL;
    struct weft_err err = {0};
    int rc = etcd_open_config(&etcd, &config, &err);
    etcd_fixture_stop(&wrong);
    assert_int_equal(rc, -1);
    if (err.code != -EKEYREJECTED || !strstr(err.msg, words))
        fail_msg("got %d: %s", err.code, err.msg);
}

static void test_client_certificate_refused(void **state)
{
    (void)state;
    const char *clients[] = {"other-client", "expired"};
    for (size_t i = 0; i < 2; i++) {
        struct files f;
        struct etcd_config config = config_of(&f, "ca", clients[i], PASSWORD);
        char words[512];
        snprintf(words, sizeof(words),
                 "store %s: refused our client certificate (--store-cert "
                 "%s): expired, or not from a CA it trusts",
                 fx.endpoint, f.cert);
        assert_open_fails(&config, -EKEYREJECTED, words);
    }
    struct files f;
    struct etcd_config config = config_of(&f, "ca", "client", PASSWORD);
    config.cert_file = config.key_file = NULL;
    assert_open_fails(&config, -EKEYREJECTED, "wants a client certificate");
}

static void test_client_certificate_with_cn(void **state)
{
    (void)state;
    struct files f;
    struct etcd_config config = config_of(&f, "ca", "client-cn", PASSWORD);
    struct etcd *etcd = NULL;
    struct weft_err err = {0};
    if (etcd_open_config(&etcd, &config, &err) == 0) {
        /* Accepted at authentication: then the first request must be refused. */
        struct etcd_kv kv;
        bool found;
        assert_int_equal(etcd_get(etcd, NETS "cn", &kv, &found, &err), -1);
        etcd_close(etcd);
    }
    if (err.code != -EKEYREJECTED || !strstr(err.msg, "carries a Common Name, which etcd's JSON "
                                                      "gateway refuses: make it with a "
                                                      "subjectAltName and no CN"))
        fail_msg("got %d: %s", err.code, err.msg);
}

static void test_wrong_password(void **state)
{
    (void)state;
    struct files f;
    struct etcd_config config = config_of(&f, "ca", "client", "not-the-password");
    assert_open_fails(&config, -EACCES, "etcd user " USER ": wrong password or no such user");
    config.user = "nobody";
    assert_open_fails(&config, -EACCES, "etcd user nobody: wrong password or no such user");
}

static void test_permission_denied_names_the_key(void **state)
{
    (void)state;
    struct etcd *etcd = open_ok();
    struct weft_err err = {0};
    assert_int_equal(etcd_put(etcd, "/weft/v1/hosts/X/alive", "{}", 0, &err), -1);
    assert_int_equal(err.code, -EACCES);
    assert_string_equal(err.msg, "permission denied on /weft/v1/hosts/X/alive: etcd user " USER
                                 "'s role lacks write on that key");
    assert_false(etcd_unreachable(etcd, NULL));
    struct etcd_kv kv;
    bool found;
    assert_int_equal(etcd_get(etcd, "/weft/v1/hosts/X/alive", &kv, &found, &err), -1);
    assert_int_equal(err.code, -EACCES);
    assert_non_null(strstr(err.msg, "lacks read on that key"));
    struct etcd_txn *txn = etcd_txn_new();
    etcd_txn_put(txn, "/weft/v1/hosts/Y/alive", "{}", 0);
    bool succeeded;
    assert_int_equal(etcd_txn_commit(etcd, txn, &succeeded, &err), -1);
    etcd_txn_free(txn);
    assert_int_equal(err.code, -EACCES);
    assert_non_null(strstr(err.msg, "permission denied on /weft/v1/hosts/Y/alive"));
    etcd_close(etcd);
}

/* Without a user, an etcd with auth on is told apart from one that is away. */
static void test_no_user(void **state)
{
    (void)state;
    struct files f;
    struct etcd_config config = config_of(&f, "ca", "client", NULL);
    config.user = NULL;
    struct etcd *etcd;
    struct weft_err err = {0};
    assert_int_equal(etcd_open_config(&etcd, &config, &err), 0);
    struct etcd_kv kv;
    bool found;
    assert_int_equal(etcd_get(etcd, NETS "x", &kv, &found, &err), -1);
    assert_int_equal(err.code, -EACCES);
    assert_non_null(strstr(err.msg, "authentication on: give --store-user"));
    etcd_close(etcd);
}

static const char *missing(void)
{
    const char *no_etcd = etcd_fixture_missing();
    if (no_etcd)
        return no_etcd;
    if (system("command -v openssl >/dev/null 2>&1 && command -v etcdctl >/dev/null 2>&1") != 0)
        return "needs openssl and etcdctl (to make certificates and users)";
    return NULL;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kv_txn_lease_watch),
        cmocka_unit_test(test_wrong_ca),
        cmocka_unit_test(test_server_name_checked),
        cmocka_unit_test(test_client_certificate_refused),
        cmocka_unit_test(test_client_certificate_with_cn),
        cmocka_unit_test(test_wrong_password),
        cmocka_unit_test(test_permission_denied_names_the_key),
        cmocka_unit_test(test_no_user),
        cmocka_unit_test(test_token_expiry_loses_nothing),
        cmocka_unit_test(test_grpc_watch_token_after_restart),
        cmocka_unit_test(test_watch_set_refused_prefix_alone),
    };
    return group_run_or_skip(missing(), tests, setup, teardown);
}
