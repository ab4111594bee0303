/*
 * test_etcd_rbac.c: weft admit and weft revoke (admin/) against a real loopback etcd
 * (etcd_fixture.h): the user and role admit makes hold exactly the host's grants;
 * with etcd's authentication enabled the host's user writes its own and the shared
 * prefixes and nothing of another host's (192.168.77.1 not 192.168.77.10's); revoke
 * removes the user, the role and the host's records and nothing else; password files
 * are 0600 and never overwritten. etcdctl checks the effect, as an operator would.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "admin/admin.h"
#include "store/etcd_rbac.h"
#include "tests/live/etcd_fixture.h"

struct rbac {
    struct etcd_fixture fx;
    struct etcd *etcd;
    char dir[64]; /* password files */
};

static int start(struct rbac *r)
{
    struct weft_err err = {0};
    snprintf(r->dir, sizeof(r->dir), "/tmp/weft-test-rbac-XXXXXX");
    if (!mkdtemp(r->dir) || etcd_fixture_start(&r->fx) < 0 ||
        etcd_open(&r->etcd, r->fx.endpoint, &err) < 0) {
        fprintf(stderr, "could not start etcd or open it: %s\n", err.msg);
        return -1;
    }
    return 0;
}

static int group_setup(void **state)
{
    struct rbac *r = calloc(1, sizeof(*r));
    *state = r;
    return r ? start(r) : -1;
}

static int group_teardown(void **state)
{
    struct rbac *r = *state;
    if (!r)
        return 0;
    etcd_close(r->etcd);
    etcd_fixture_stop(&r->fx);
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", r->dir);
    if (r->dir[0] && system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", r->dir);
    free(r);
    return 0;
}

#define OK(call)                                                                                   \
    do {                                                                                           \
        struct weft_err err_ = {0};                                                               \
        struct weft_err *err = &err_;                                                              \
        if ((call) != 0)                                                                           \
            fail_msg("%s failed: %s", #call, err_.msg);                                            \
    } while (0)

/* Admits host with its password file in the test's directory; returns admin_admit's. */
static int admit(struct rbac *r, const char *host, const char *file, bool rotate,
                 struct weft_err *err)
{
    char path[256];
    snprintf(path, sizeof(path), "%s/%s", r->dir, file);
    struct admit_request req = {host, path, rotate};
    struct admit_result result;
    return admin_admit(r->etcd, &req, &result, err);
}

static void read_file(const struct rbac *r, const char *file, char *out, size_t size)
{
    char path[256];
    snprintf(path, sizeof(path), "%s/%s", r->dir, file);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    size_t n = fread(out, 1, size - 1, f);
    out[n] = '\0';
    fclose(f);
}

static bool file_exists(const struct rbac *r, const char *file)
{
    char path[256];
    snprintf(path, sizeof(path), "%s/%s", r->dir, file);
    struct stat st;
    return stat(path, &st) == 0;
}

static void admit_makes_user_and_role_with_exactly_the_host_grants(void **state)
{
    struct rbac *r = *state;
    OK(admit(r, "192.168.77.5", "h5.password", false, err));

    bool found;
    struct etcd_names roles;
    OK(etcd_user_get(r->etcd, "weft-host-192.168.77.5", &found, &roles, err));
    assert_true(found);
    assert_int_equal(roles.count, 1);
    assert_string_equal(roles.items[0], "weft-host-192.168.77.5");
    etcd_names_free(&roles);

    struct admin_grant want[ADMIN_GRANTS_MAX];
    size_t n = admin_host_grants("192.168.77.5", want);
    assert_int_equal(n, 8);
    struct etcd_grants got;
    OK(etcd_role_get(r->etcd, "weft-host-192.168.77.5", &found, &got, err));
    assert_true(found);
    assert_int_equal(got.count, n);
    static const struct {
        enum etcd_perm perm;
        const char *key, *range_end;
    } expected[] = {
        {ETCD_PERM_READ, "/weft/v1/", "/weft/v10"},
        {ETCD_PERM_READWRITE, "/weft/v1/hosts/192.168.77.5/", "/weft/v1/hosts/192.168.77.50"},
        {ETCD_PERM_READWRITE, "/weft/v1/fabric/192.168.77.5/", "/weft/v1/fabric/192.168.77.50"},
        {ETCD_PERM_READWRITE, "/weft/v1/overlays/", "/weft/v1/overlays0"},
        {ETCD_PERM_READWRITE, "/weft/v1/vnis/", "/weft/v1/vnis0"},
        {ETCD_PERM_READWRITE, "/weft/v1/addrs/", "/weft/v1/addrs0"},
        {ETCD_PERM_READWRITE, "/weft/v1/joined/", "/weft/v1/joined0"},
        {ETCD_PERM_READWRITE, "/weft/v1/roles/", "/weft/v1/roles0"},
    };
    for (size_t e = 0; e < sizeof(expected) / sizeof(expected[0]); e++) {
        bool seen = false;
        for (size_t i = 0; i < got.count; i++)
            seen = seen || (got.items[i].perm == expected[e].perm &&
                            strcmp(got.items[i].key, expected[e].key) == 0 &&
                            strcmp(got.items[i].range_end, expected[e].range_end) == 0);
        if (!seen)
            fail_msg("role lacks %s on [%s, %s)", etcd_perm_name(expected[e].perm),
                     expected[e].key, expected[e].range_end);
    }
    etcd_grants_free(&got);

    char path[256];
    snprintf(path, sizeof(path), "%s/h5.password", r->dir);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0600);
    char password[128];
    read_file(r, "h5.password", password, sizeof(password));
    assert_int_equal(strlen(password), 44); /* base64 of 32 random bytes, no newline */
}

static void password_file_is_never_overwritten(void **state)
{
    struct rbac *r = *state;
    char path[256], text[128];
    snprintf(path, sizeof(path), "%s/kept.password", r->dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("someone else's", f);
    fclose(f);

    struct weft_err err = {0};
    assert_int_equal(admit(r, "192.168.77.6", "kept.password", false, &err), -1);
    assert_int_equal(err.code, -EEXIST);
    assert_non_null(strstr(err.msg, "never overwrites"));
    read_file(r, "kept.password", text, sizeof(text));
    assert_string_equal(text, "someone else's");
    bool found;
    OK(etcd_user_get(r->etcd, "weft-host-192.168.77.6", &found, NULL, err));
    assert_false(found); /* refused before the store changed */

    /* Rotating into the same file is refused too; a new file gets a new password. */
    OK(admit(r, "192.168.77.6", "h6.password", false, err));
    char first[128], second[128];
    read_file(r, "h6.password", first, sizeof(first));
    assert_int_equal(admit(r, "192.168.77.6", "h6.password", true, &err), -1);
    assert_int_equal(err.code, -EEXIST);
    OK(admit(r, "192.168.77.6", "h6-rotated.password", true, err));
    read_file(r, "h6.password", second, sizeof(second));
    assert_string_equal(first, second);
    read_file(r, "h6-rotated.password", second, sizeof(second));
    assert_string_not_equal(first, second);
}

/* A role granted by an older weft (before roles/): --rotate grants what it lacks,
 * and keeps what it had. */
static void rotate_grants_what_an_older_role_lacks(void **state)
{
    struct rbac *r = *state;
    const char *user = "weft-host-192.168.77.11";
    struct admin_grant grants[ADMIN_GRANTS_MAX];
    size_t n = admin_host_grants("192.168.77.11", grants);
    OK(etcd_role_add(r->etcd, user, err));
    for (size_t i = 0; i < n; i++)
        if (strcmp(grants[i].prefix, "/weft/v1/roles/") != 0)
            OK(etcd_role_grant_prefix(r->etcd, user, grants[i].prefix, grants[i].perm, err));
    OK(etcd_user_add(r->etcd, user, "old-password", err));
    OK(etcd_user_grant_role(r->etcd, user, user, err));
    bool found;
    struct etcd_grants got;
    OK(etcd_role_get(r->etcd, user, &found, &got, err));
    assert_int_equal(got.count, n - 1);
    etcd_grants_free(&got);

    OK(admit(r, "192.168.77.11", "h11.password", true, err));
    OK(etcd_role_get(r->etcd, user, &found, &got, err));
    assert_int_equal(got.count, n);
    bool roles = false;
    for (size_t i = 0; i < got.count; i++)
        roles = roles || (strcmp(got.items[i].key, "/weft/v1/roles/") == 0 &&
                          got.items[i].perm == ETCD_PERM_READWRITE);
    assert_true(roles);
    etcd_grants_free(&got);
}

static void refusals_change_nothing(void **state)
{
    struct rbac *r = *state;
    struct weft_err err = {0};
    /* Admitted already, without --rotate: no new file. */
    OK(admit(r, "192.168.77.7", "h7.password", false, err));
    assert_int_equal(admit(r, "192.168.77.7", "h7-again.password", false, &err), -1);
    assert_int_equal(err.code, -EEXIST);
    assert_non_null(strstr(err.msg, "--rotate"));
    assert_false(file_exists(r, "h7-again.password"));
    /* --rotate for a host never admitted. */
    assert_int_equal(admit(r, "192.168.77.8", "h8.password", true, &err), -1);
    assert_int_equal(err.code, -ENOENT);
    assert_false(file_exists(r, "h8.password"));
    /* Not a host address. */
    const char *bad[] = {"192.168.77.01", "192.168.77", "fe80::1", "127.0.0.1", "224.0.0.1", ""};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(admit(r, bad[i], "bad.password", false, &err), -1);
        assert_int_equal(err.code, -EINVAL);
        assert_false(file_exists(r, "bad.password"));
    }
    /* A role left without its user: refused, and the role is not taken over. */
    OK(etcd_role_add(r->etcd, "weft-host-192.168.77.9", err));
    assert_int_equal(admit(r, "192.168.77.9", "h9.password", false, &err), -1);
    assert_int_equal(err.code, -EEXIST);
    assert_non_null(strstr(err.msg, "weft revoke 192.168.77.9"));
    bool found;
    OK(etcd_user_get(r->etcd, "weft-host-192.168.77.9", &found, NULL, err));
    assert_false(found);
    assert_false(file_exists(r, "h9.password"));
    OK(etcd_role_delete(r->etcd, "weft-host-192.168.77.9", err));
}

/* etcdctl as user:password (NULL: none) on r's etcd; its exit status. */
static int etcdctl(const struct rbac *r, const char *user, const char *password, const char *args)
{
    char cmd[1024], who[256] = "";
    if (user)
        snprintf(who, sizeof(who), "--user '%s:%s'", user, password);
    snprintf(cmd, sizeof(cmd),
             "ETCDCTL_API=3 etcdctl --dial-timeout=5s --endpoints=http://%s %s %s >/dev/null 2>&1",
             r->fx.endpoint, who, args);
    int status = system(cmd);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* The auth test turns authentication on: it gets an etcd of its own. */
static int own_etcd_setup(void **state)
{
    struct rbac *r = calloc(1, sizeof(*r));
    if (!r)
        return -1;
    if (start(r) < 0) {
        group_teardown((void **)&r);
        return -1;
    }
    *state = r;
    return 0;
}

static int own_etcd_teardown(void **state)
{
    return group_teardown(state);
}

static void put_allowed(const struct rbac *r, const char *user, const char *password,
                        const char *key, bool allowed)
{
    char args[512];
    snprintf(args, sizeof(args), "put '%s' v", key);
    int rc = etcdctl(r, user, password, args);
    if (allowed && rc != 0)
        fail_msg("%s could not write %s", user, key);
    if (!allowed && rc == 0)
        fail_msg("%s wrote %s", user, key);
}

static void host_user_writes_only_its_own_and_shared_prefixes(void **state)
{
    struct rbac *r = *state;
    OK(admit(r, "192.168.77.1", "h1.password", false, err));
    OK(admit(r, "192.168.77.10", "h10.password", false, err));
    char pw1[128], pw10[128];
    read_file(r, "h1.password", pw1, sizeof(pw1));
    read_file(r, "h10.password", pw10, sizeof(pw10));
    OK(etcd_user_add(r->etcd, "root", "rootpw", err));
    OK(etcd_user_grant_role(r->etcd, "root", "root", err));
    assert_int_equal(etcdctl(r, NULL, NULL, "auth enable"), 0);

    const char *h1 = "weft-host-192.168.77.1", *h10 = "weft-host-192.168.77.10";
    static const char *const own_or_shared[] = {
        "/weft/v1/hosts/192.168.77.1/alive",
        "/weft/v1/hosts/192.168.77.1/endpoints/e1",
        "/weft/v1/fabric/192.168.77.1/10.1.0.0_24/member",
        "/weft/v1/fabric/192.168.77.1/10.1.0.0_24/peers/10.1.0.2",
        "/weft/v1/overlays/10.1.0.0_24",
        "/weft/v1/vnis/00000042",
        "/weft/v1/addrs/10.1.0.0_24/10.1.0.2",
        "/weft/v1/roles/reaper",
    };
    for (size_t i = 0; i < sizeof(own_or_shared) / sizeof(own_or_shared[0]); i++)
        put_allowed(r, h1, pw1, own_or_shared[i], true);
    static const char *const not_its_own[] = {
        "/weft/v1/hosts/192.168.77.10/alive", /* 192.168.77.1 is a prefix of it as text */
        "/weft/v1/fabric/192.168.77.10/10.1.0.0_24/member",
        "/weft/v1/hosts/192.168.77.2/alive",
        "/weft/v1/fabric/192.168.77.2/10.1.0.0_24/peers/10.1.0.3",
        "/weft/v1/hosts/192.168.77.1", /* the host's own name without the slash */
        "/weft/v1/other",
        "/elsewhere",
    };
    for (size_t i = 0; i < sizeof(not_its_own) / sizeof(not_its_own[0]); i++)
        put_allowed(r, h1, pw1, not_its_own[i], false);
    put_allowed(r, h10, pw10, "/weft/v1/hosts/192.168.77.10/alive", true);
    put_allowed(r, h10, pw10, "/weft/v1/hosts/192.168.77.1/alive", false);
    put_allowed(r, h10, pw10, "/weft/v1/fabric/192.168.77.1/10.1.0.0_24/member", false);
    /* Reads: all of weft's state (watches and listings), nothing else. */
    assert_int_equal(etcdctl(r, h1, pw1, "get --prefix /weft/v1/"), 0);
    assert_int_equal(etcdctl(r, h1, pw1, "get --prefix /weft/v1/hosts/192.168.77.10/"), 0);
    assert_int_not_equal(etcdctl(r, h1, pw1, "get /elsewhere"), 0);
    assert_int_not_equal(etcdctl(r, h1, "wrong", "get /weft/v1/x"), 0);

    /* A user without etcd's root role (here a host's) cannot admit: told so, nothing made. */
    struct etcd *host_10;
    struct etcd_config as_host = {.endpoints = r->fx.endpoint, .user = h10, .password = pw10};
    OK(etcd_open_config(&host_10, &as_host, err));
    char path[256];
    snprintf(path, sizeof(path), "%s/h2.password", r->dir);
    struct admit_request req = {"192.168.77.2", path, false};
    struct admit_result result;
    struct weft_err admit_err = {0};
    assert_int_equal(admin_admit(host_10, &req, &result, &admit_err), -1);
    etcd_close(host_10);
    assert_int_equal(admit_err.code, -EACCES);
    assert_non_null(strstr(admit_err.msg, "the admin user must have etcd's root role"));
    assert_false(file_exists(r, "h2.password"));

    /* Revoked by etcd's root user with authentication on, the host can do nothing
     * any more; the other host keeps its rights. */
    struct etcd *root;
    struct etcd_config as_root = {.endpoints = r->fx.endpoint, .user = "root", .password = "rootpw"};
    OK(etcd_open_config(&root, &as_root, err));
    struct revoke_result gone;
    struct weft_err revoke_err = {0};
    int revoked = admin_revoke(root, "192.168.77.1", &gone, &revoke_err);
    etcd_close(root);
    if (revoked < 0)
        fail_msg("revoke as root: %s", revoke_err.msg);
    assert_true(gone.user_deleted && gone.role_deleted);
    assert_true(gone.host_records >= 2 && gone.fabric_records == 2 && gone.addr_claims == 0);
    put_allowed(r, h1, pw1, "/weft/v1/hosts/192.168.77.1/alive", false);
    put_allowed(r, h10, pw10, "/weft/v1/hosts/192.168.77.10/alive", true);
}

static void put_record(struct rbac *r, const char *key, const char *value)
{
    OK(etcd_put(r->etcd, key, value, 0, err));
}

static bool key_exists(struct rbac *r, const char *key)
{
    struct etcd_kv kv;
    bool found = false;
    OK(etcd_get(r->etcd, key, &kv, &found, err));
    if (found)
        etcd_kv_clear(&kv);
    return found;
}

static void revoke_removes_user_role_and_records_only_of_that_host(void **state)
{
    struct rbac *r = *state;
    OK(admit(r, "192.168.77.30", "h30.password", false, err));
    OK(admit(r, "192.168.77.3", "h3.password", false, err));
    put_record(r, "/weft/v1/hosts/192.168.77.30/alive", "{\"vtep\":\"192.168.77.30\"}");
    put_record(r, "/weft/v1/hosts/192.168.77.30/networks/n1", "{}");
    put_record(r, "/weft/v1/fabric/192.168.77.30/10.1.0.0_24/member", "{}");
    put_record(r, "/weft/v1/fabric/192.168.77.30/10.1.0.0_24/peers/10.1.0.5", "{}");
    put_record(r, "/weft/v1/addrs/10.1.0.0_24/10.1.0.5",
               "{\"host\":\"192.168.77.30\",\"kind\":\"endpoint\",\"claim\":\"c1\"}");
    /* Another host whose address is a prefix of it as text, and its claims. */
    put_record(r, "/weft/v1/hosts/192.168.77.3/alive", "{\"vtep\":\"192.168.77.3\"}");
    put_record(r, "/weft/v1/fabric/192.168.77.3/10.1.0.0_24/member", "{}");
    put_record(r, "/weft/v1/addrs/10.1.0.0_24/10.1.0.6",
               "{\"host\":\"192.168.77.3\",\"kind\":\"endpoint\",\"claim\":\"c2\"}");
    put_record(r, "/weft/v1/addrs/10.1.0.0_24/10.1.0.7", "not a record");
    put_record(r, "/weft/v1/overlays/10.1.0.0_24", "{\"subnet\":\"10.1.0.0/24\",\"vni\":42}");

    struct revoke_result gone;
    OK(admin_revoke(r->etcd, "192.168.77.30", &gone, err));
    assert_true(gone.user_deleted);
    assert_true(gone.role_deleted);
    assert_int_equal(gone.host_records, 2);
    assert_int_equal(gone.fabric_records, 2);
    assert_int_equal(gone.addr_claims, 1);
    bool found;
    struct etcd_grants grants;
    OK(etcd_user_get(r->etcd, "weft-host-192.168.77.30", &found, NULL, err));
    assert_false(found);
    OK(etcd_role_get(r->etcd, "weft-host-192.168.77.30", &found, &grants, err));
    assert_false(found);
    assert_false(key_exists(r, "/weft/v1/hosts/192.168.77.30/alive"));
    assert_false(key_exists(r, "/weft/v1/fabric/192.168.77.30/10.1.0.0_24/peers/10.1.0.5"));
    assert_false(key_exists(r, "/weft/v1/addrs/10.1.0.0_24/10.1.0.5"));
    assert_true(key_exists(r, "/weft/v1/hosts/192.168.77.3/alive"));
    assert_true(key_exists(r, "/weft/v1/fabric/192.168.77.3/10.1.0.0_24/member"));
    assert_true(key_exists(r, "/weft/v1/addrs/10.1.0.0_24/10.1.0.6"));
    assert_true(key_exists(r, "/weft/v1/addrs/10.1.0.0_24/10.1.0.7"));
    assert_true(key_exists(r, "/weft/v1/overlays/10.1.0.0_24"));
    OK(etcd_user_get(r->etcd, "weft-host-192.168.77.3", &found, NULL, err));
    assert_true(found);

    /* Again: nothing left, and that is fine. */
    OK(admin_revoke(r->etcd, "192.168.77.30", &gone, err));
    assert_false(gone.user_deleted || gone.role_deleted);
    assert_int_equal(gone.host_records + gone.fabric_records + gone.addr_claims, 0);
    struct weft_err err = {0};
    assert_int_equal(admin_revoke(r->etcd, "192.168.77.300", &gone, &err), -1);
    assert_int_equal(err.code, -EINVAL);
}

/* Why etcdctl cannot be run here, or NULL. */
static const char *etcdctl_missing(void)
{
    return system("command -v etcdctl >/dev/null 2>&1") == 0 ? NULL
                                                             : "needs etcdctl (not found on PATH)";
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(admit_makes_user_and_role_with_exactly_the_host_grants),
        cmocka_unit_test(password_file_is_never_overwritten),
        cmocka_unit_test(refusals_change_nothing),
        cmocka_unit_test(rotate_grants_what_an_older_role_lacks),
        cmocka_unit_test(revoke_removes_user_role_and_records_only_of_that_host),
        cmocka_unit_test_setup_teardown(host_user_writes_only_its_own_and_shared_prefixes,
                                        own_etcd_setup, own_etcd_teardown),
    };
    const char *missing = etcd_fixture_missing();
    return group_run_or_skip(missing ? missing : etcdctl_missing(), tests, group_setup,
                             group_teardown);
}
