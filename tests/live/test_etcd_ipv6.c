/*
 * test_etcd_ipv6.c: weft's store client with etcd on an IPv6 underlay (issue 12),
 * against etcd on [::1] only (loopback). --store spells the members "[ADDR]:PORT"
 * (etcd://, etcds://, http://, https://): requests and the watch reach them through
 * libcurl URLs with the brackets, the health prober connects to the address
 * without them, a failover between two members on [::1] loses no request, and
 * with TLS the member's certificate must carry the IP subjectAltName ::1.
 *
 * The two members of the failover test are two single-member etcds, not one
 * cluster: a two-member cluster stops serving when one member stops (no quorum).
 * What is tested is the client's side: which member it asks, and how it reaches it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/etcd.h"
#include "store/etcd_internal.h"
#include "tests/live/etcd_fixture.h"

#define NETS "/weft/v1/nets/"

static struct etcd_fixture fx;     /* plain, on [::1] */
static struct etcd_fixture fx_tls; /* https with client certificates, on [::1] */
static char pki[128];

static int run(const char *command)
{
    int rc = system(command);
    if (rc != 0)
        fprintf(stderr, "failed (%d): %s\n", rc, command);
    return rc;
}

static int setup(void **state)
{
    (void)state;
    snprintf(pki, sizeof(pki), "/tmp/weft-test-pki-XXXXXX");
    if (!mkdtemp(pki))
        return -1;
    char cmd[512];
    snprintf(cmd, sizeof(cmd), "bash -c '. tests/lib/pki.sh && pki_make %s ::1' >/dev/null", pki);
    if (run(cmd) != 0 || etcd_fixture_start_on(&fx, true) < 0 ||
        etcd_fixture_start_tls_on(&fx_tls, pki, 300, true) < 0)
        return -1;
    usleep(500 * 1000); /* the TLS gateway takes a moment more */
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    etcd_fixture_stop(&fx);
    etcd_fixture_stop(&fx_tls);
    char cmd[256];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", pki);
    return run(cmd);
}

/* Opens --store url as the daemon does: etcd_url_parse, then etcd_open_config. */
static struct etcd *open_url(const char *url, struct etcd_config config)
{
    char endpoints[256];
    struct weft_err err = {0};
    if (etcd_url_parse(url, endpoints, sizeof(endpoints), &config.tls, &err) < 0)
        fail_msg("--store %s: %s", url, err.msg);
    config.endpoints = endpoints;
    if (!config.timeout_ms)
        config.timeout_ms = 10000; /* ASan on a loaded machine */
    struct etcd *etcd = NULL;
    if (etcd_open_config(&etcd, &config, &err) < 0)
        fail_msg("open %s: %s", url, err.msg);
    return etcd;
}

static void put_get(struct etcd *etcd, const char *key, const char *value)
{
    struct weft_err err = {0};
    if (etcd_put(etcd, key, value, 0, &err) < 0)
        fail_msg("put %s: %s", key, err.msg);
    struct etcd_kv kv;
    bool found = false;
    if (etcd_get(etcd, key, &kv, &found, &err) < 0)
        fail_msg("get %s: %s", key, err.msg);
    assert_true(found);
    assert_string_equal(kv.value, value);
    etcd_kv_clear(&kv);
}

struct seen {
    pthread_mutex_t lock;
    int puts;
    char last_key[128];
};

static void on_events(void *ctx, const struct etcd_event *events, size_t count)
{
    struct seen *seen = ctx;
    pthread_mutex_lock(&seen->lock);
    for (size_t i = 0; i < count; i++) {
        if (events[i].type != ETCD_EVENT_PUT)
            continue;
        seen->puts++;
        snprintf(seen->last_key, sizeof(seen->last_key), "%s", events[i].key);
    }
    pthread_mutex_unlock(&seen->lock);
}

/* Waits up to 10 s for want PUT events. */
static void await_puts(struct seen *seen, int want)
{
    int n = 0;
    for (int i = 0; i < 200; i++) {
        pthread_mutex_lock(&seen->lock);
        n = seen->puts;
        pthread_mutex_unlock(&seen->lock);
        if (n >= want)
            break;
        usleep(50 * 1000);
    }
    assert_int_equal(n, want);
}

/* Requests and a watch event, to the member as each spelling of --store names it. */
static void test_kv_and_watch_on_v6(void **state)
{
    (void)state;
    char url[96];
    snprintf(url, sizeof(url), "etcd://[::1]:%d", fx.client_port);
    struct etcd *etcd = open_url(url, (struct etcd_config){0});
    assert_string_equal(etcd->members[0], fx.endpoint); /* "[::1]:PORT", as written */
    struct seen seen = {.lock = PTHREAD_MUTEX_INITIALIZER};
    struct etcd_watch *watch;
    struct weft_err err = {0};
    assert_int_equal(etcd_watch_start(etcd, NETS "v6/", on_events, &seen, &watch, &err), 0);
    put_get(etcd, NETS "v6/a", "{\"a\":1}");
    await_puts(&seen, 1);
    etcd_watch_stop(watch);
    assert_string_equal(seen.last_key, NETS "v6/a");
    etcd_close(etcd);

    snprintf(url, sizeof(url), "http://[::1]:%d/", fx.client_port);
    etcd = open_url(url, (struct etcd_config){0});
    put_get(etcd, NETS "v6/b", "{}");
    etcd_close(etcd);
}

/* Two members on [::1]: the first stops; the prober finds it (and only it) silent,
 * requests go on at the second, and once both are gone the error names each
 * member as --store wrote it. */
static void test_failover_between_v6_members(void **state)
{
    (void)state;
    struct etcd_fixture a = {0}, b = {0};
    if (etcd_fixture_start_on(&a, true) < 0 || etcd_fixture_start_on(&b, true) < 0) {
        etcd_fixture_stop(&a);
        etcd_fixture_stop(&b);
        fail_msg("no two etcds on [::1]");
    }
    char url[128];
    snprintf(url, sizeof(url), "etcd://[::1]:%d,[::1]:%d", a.client_port, b.client_port);
    struct etcd *etcd = open_url(url, (struct etcd_config){.timeout_ms = 3000});
    put_get(etcd, NETS "v6/first", "{}");
    etcd_fixture_kill(&a);
    put_get(etcd, NETS "v6/after", "{\"at\":\"b\"}");
    for (int i = 0; i < 100 && !etcd_health_dead(&etcd->health, 0); i++)
        usleep(50 * 1000);
    bool a_dead = etcd_health_dead(&etcd->health, 0);
    bool b_dead = etcd_health_dead(&etcd->health, 1);
    etcd_fixture_kill(&b);
    struct weft_err err = {0};
    int rc = etcd_put(etcd, NETS "v6/none", "{}", 0, &err);
    etcd_close(etcd);
    etcd_fixture_stop(&a);
    etcd_fixture_stop(&b);
    assert_true(a_dead);  /* the prober reached [::1] and was refused */
    assert_false(b_dead); /* and completed a handshake with the other */
    assert_int_equal(rc, -1);
    assert_true(etcd_err_unreachable(&err));
    if (!strstr(err.msg, a.endpoint) || !strstr(err.msg, b.endpoint))
        fail_msg("\"%s\" does not name %s and %s", err.msg, a.endpoint, b.endpoint);
}

/* TLS to [::1]: libcurl checks the address against the certificate's IP
 * subjectAltName ::1 (pki.sh's server certificate carries it). */
static void test_tls_on_v6(void **state)
{
    (void)state;
    char url[96], ca[192], cert[192], key[192];
    snprintf(url, sizeof(url), "etcds://[::1]:%d", fx_tls.client_port);
    snprintf(ca, sizeof(ca), "%s/ca.pem", pki);
    snprintf(cert, sizeof(cert), "%s/client.pem", pki);
    snprintf(key, sizeof(key), "%s/client.key", pki);
    struct etcd_config config = {.ca_file = ca, .cert_file = cert, .key_file = key};
    struct etcd *etcd = open_url(url, config);
    put_get(etcd, NETS "v6/tls", "{}");
    etcd_close(etcd);
}

/* An etcd on [::1] whose certificate names only 192.0.2.99: refused, and the message
 * says which name it lacks and how to give it. */
static void test_tls_name_checked_on_v6(void **state)
{
    (void)state;
    struct etcd_fixture wrong;
    assert_int_equal(etcd_fixture_prepare_on(&wrong, true), 0);
    snprintf(wrong.pki_dir, sizeof(wrong.pki_dir), "%s", pki);
    snprintf(wrong.server_cert, sizeof(wrong.server_cert), "wrong-name");
    if (etcd_fixture_spawn(&wrong) < 0) {
        etcd_fixture_stop(&wrong);
        fail_msg("no etcd with the wrong-name certificate");
    }
    char ca[192], cert[192], key[192], words[256];
    snprintf(ca, sizeof(ca), "%s/ca.pem", pki);
    snprintf(cert, sizeof(cert), "%s/client.pem", pki);
    snprintf(key, sizeof(key), "%s/client.key", pki);
    struct etcd_config config = {.endpoints = wrong.endpoint,
                                 .tls = true,
                                 .ca_file = ca,
                                 .cert_file = cert,
                                 .key_file = key,
                                 .timeout_ms = 10000};
    struct etcd *etcd = NULL;
    struct weft_err err = {0};
    int rc = etcd_open_config(&etcd, &config, &err);
    if (rc == 0) /* opening asks nothing without a user: a request does */
        rc = etcd_put(etcd, NETS "v6/wrong", "{}", 0, &err);
    etcd_close(etcd);
    etcd_fixture_stop(&wrong);
    assert_int_equal(rc, -1);
    snprintf(words, sizeof(words),
             "store %s: its certificate does not name ::1 (give its certificate the "
             "subjectAltName IP:::1",
             wrong.endpoint);
    if (err.code != -EKEYREJECTED || !strstr(err.msg, words))
        fail_msg("got %d: %s", err.code, err.msg);
}

/* Why these tests cannot run here, or NULL. */
static const char *missing(void)
{
    const char *no_etcd = etcd_fixture_missing();
    if (no_etcd)
        return no_etcd;
    if (etcd_fixture_free_port_on(true) < 0)
        return "needs IPv6 on loopback (::1)";
    if (system("command -v openssl >/dev/null 2>&1") != 0)
        return "needs openssl (to make certificates)";
    return NULL;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kv_and_watch_on_v6),
        cmocka_unit_test(test_failover_between_v6_members),
        cmocka_unit_test(test_tls_on_v6),
        cmocka_unit_test(test_tls_name_checked_on_v6),
    };
    return group_run_or_skip(missing(), tests, setup, teardown);
}
