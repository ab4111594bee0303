/*
 * test_admin_undo.c: weft admit undoes what it made when a later step fails, against
 * a scripted etcd gateway (libmicrohttpd on loopback) that fails one chosen call,
 * as a healthy etcd does not on demand: role made but a grant refused, user made but
 * the role grant refused (the user is removed), the undo itself refused (the message
 * says weft revoke cleans up), a rotate whose password change or grant is refused. The
 * password file never outlives a failure.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "admin/admin.h"

#define OK_ANSWER "{\"header\":{\"revision\":\"1\"}}"
#define NOT_FOUND "{\"error\":\"etcdserver: user name not found\",\"code\":9}"
#define DENIED "{\"error\":\"etcdserver: permission denied\",\"code\":7}"
#define CALLS_MAX 64

struct gateway {
    struct MHD_Daemon *daemon;
    int port;
    pthread_mutex_t lock;
    char calls[CALLS_MAX][48]; /* the paths asked, in order */
    int count;
    bool user_exists;       /* user/get answers 200, else 412 not found */
    const char *fail_path;  /* this call ... */
    int fail_nth;           /* ... the nth time (1-based) is denied; 0: every time */
    const char *fail_path2; /* and this one every time */
};

static enum MHD_Result answer(void *cls, struct MHD_Connection *conn, const char *url,
                              const char *method, const char *version, const char *upload,
                              size_t *upload_size, void **con_cls)
{
    (void)method, (void)version, (void)upload;
    struct gateway *g = cls;
    if (!*con_cls) { /* first call: headers only */
        *con_cls = g;
        return MHD_YES;
    }
    if (*upload_size > 0) { /* the body: the script goes by path */
        *upload_size = 0;
        return MHD_YES;
    }
    pthread_mutex_lock(&g->lock);
    int seen = 0;
    for (int i = 0; i < g->count; i++)
        seen += strcmp(g->calls[i], url) == 0;
    if (g->count < CALLS_MAX)
        snprintf(g->calls[g->count++], sizeof(g->calls[0]), "%s", url);
    bool denied = (g->fail_path && strcmp(url, g->fail_path) == 0 &&
                   (g->fail_nth == 0 || seen + 1 == g->fail_nth)) ||
                  (g->fail_path2 && strcmp(url, g->fail_path2) == 0);
    bool missing = !denied && strcmp(url, "/v3/auth/user/get") == 0 && !g->user_exists;
    pthread_mutex_unlock(&g->lock);
    const char *body = denied ? DENIED : missing ? NOT_FOUND : OK_ANSWER;
    struct MHD_Response *r =
        MHD_create_response_from_buffer(strlen(body), (void *)body, MHD_RESPMEM_PERSISTENT);
    enum MHD_Result rc = MHD_queue_response(conn, denied ? 403 : missing ? 412 : 200, r);
    MHD_destroy_response(r);
    return rc;
}

static int setup(void **state)
{
    struct gateway *g = calloc(1, sizeof(*g));
    if (!g)
        return -1;
    pthread_mutex_init(&g->lock, NULL);
    struct sockaddr_in loopback = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    g->daemon = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD, 0, NULL, NULL, answer, g,
                                 MHD_OPTION_SOCK_ADDR, &loopback, MHD_OPTION_END);
    const union MHD_DaemonInfo *info =
        g->daemon ? MHD_get_daemon_info(g->daemon, MHD_DAEMON_INFO_BIND_PORT) : NULL;
    if (!info)
        return -1;
    g->port = info->port;
    *state = g;
    return 0;
}

static int teardown(void **state)
{
    struct gateway *g = *state;
    if (g && g->daemon)
        MHD_stop_daemon(g->daemon);
    free(g);
    return 0;
}

/* What the gateway does next: fail_path denied the nth time (0: always), fail_path2
 * always; the user exists or not. */
static void script(struct gateway *g, bool user_exists, const char *fail_path, int fail_nth,
                   const char *fail_path2)
{
    pthread_mutex_lock(&g->lock);
    g->user_exists = user_exists;
    g->fail_path = fail_path;
    g->fail_nth = fail_nth;
    g->fail_path2 = fail_path2;
    g->count = 0;
    pthread_mutex_unlock(&g->lock);
}

/* Runs admit against the gateway scripted as given; returns its result and err. */
static int admit(struct gateway *g, bool rotate, struct weft_err *err, char *file, size_t size)
{
    char dir[] = "/tmp/weft-test-undo-XXXXXX";
    assert_non_null(mkdtemp(dir));
    snprintf(file, size, "%s/h.password", dir);
    char endpoint[32];
    snprintf(endpoint, sizeof(endpoint), "127.0.0.1:%d", g->port);
    struct etcd *etcd;
    assert_int_equal(etcd_open(&etcd, endpoint, err), 0);
    struct admit_request req = {"192.168.77.1", file, rotate};
    struct admit_result result;
    int rc = admin_admit(etcd, &req, &result, err);
    etcd_close(etcd);
    struct stat st;
    bool file_left = stat(file, &st) == 0;
    unlink(file);
    rmdir(dir);
    if (rc == 0)
        assert_true(file_left);
    else
        assert_false(file_left); /* a failed admit leaves no password file */
    return rc;
}

/* Whether the calls from index from on are exactly those given (NULL-terminated). */
static void calls_end_with(const struct gateway *g, int from, const char *const *want)
{
    int n = 0;
    while (want[n])
        n++;
    if (g->count - from != n)
        fail_msg("%d calls from %d, want %d (last: %s)", g->count - from, from, n,
                 g->count ? g->calls[g->count - 1] : "none");
    for (int i = 0; i < n; i++)
        assert_string_equal(g->calls[from + i], want[i]);
}

static void role_grant_refused_removes_the_role(void **state)
{
    struct gateway *g = *state;
    script(g, false, "/v3/auth/role/grant", 3, NULL);
    struct weft_err err = {0};
    char file[64];
    assert_int_equal(admit(g, false, &err, file, sizeof(file)), -1);
    assert_int_equal(err.code, -EACCES);
    assert_non_null(strstr(err.msg, "the admin user must have etcd's root role"));
    /* user/get, role/add, grants 1..3 (the 3rd refused), then the role goes again. */
    static const char *const want[] = {"/v3/auth/user/get", "/v3/auth/role/add",
                                       "/v3/auth/role/grant", "/v3/auth/role/grant",
                                       "/v3/auth/role/grant", "/v3/auth/role/delete", NULL};
    calls_end_with(g, 0, want);
}

static void user_grant_refused_removes_user_and_role(void **state)
{
    struct gateway *g = *state;
    script(g, false, "/v3/auth/user/grant", 0, NULL);
    struct weft_err err = {0};
    char file[64];
    assert_int_equal(admit(g, false, &err, file, sizeof(file)), -1);
    assert_int_equal(err.code, -EACCES);
    assert_non_null(strstr(err.msg, "granting etcd role weft-host-192.168.77.1"));
    static const char *const want[] = {"/v3/auth/user/add", "/v3/auth/user/grant",
                                       "/v3/auth/user/delete", "/v3/auth/role/delete", NULL};
    calls_end_with(g, g->count - 4, want);
    assert_int_equal(g->count, 2 + 8 + 4); /* user/get, role/add, 8 grants, the four */
}

static void failed_undo_says_how_to_clean_up(void **state)
{
    struct gateway *g = *state;
    script(g, false, "/v3/auth/user/grant", 0, "/v3/auth/user/delete");
    struct weft_err err = {0};
    char file[64];
    assert_int_equal(admit(g, false, &err, file, sizeof(file)), -1);
    assert_non_null(strstr(err.msg, "removing etcd user again failed: weft revoke 192.168.77.1"));
    static const char *const want[] = {"/v3/auth/user/delete", "/v3/auth/role/delete", NULL};
    calls_end_with(g, g->count - 2, want); /* the role is still removed */
}

static void rotate_refused_keeps_the_old_password(void **state)
{
    struct gateway *g = *state;
    script(g, true, "/v3/auth/user/changepw", 0, NULL);
    struct weft_err err = {0};
    char file[64];
    assert_int_equal(admit(g, true, &err, file, sizeof(file)), -1);
    assert_int_equal(err.code, -EACCES);
    /* The role's grants first (a role made by an older weft gets what it lacks). */
    assert_int_equal(g->count, 1 + 8 + 1);
    static const char *const want[] = {"/v3/auth/role/grant", "/v3/auth/user/changepw", NULL};
    calls_end_with(g, g->count - 2, want); /* nothing deleted */
    /* And when it works, the file stays. */
    script(g, true, NULL, 0, NULL);
    assert_int_equal(admit(g, true, &err, file, sizeof(file)), 0);
}

/* A grant refused while rotating: the password is not changed (the old one stays in
 * force), and the new file is removed. */
static void rotate_grant_refused_changes_no_password(void **state)
{
    struct gateway *g = *state;
    script(g, true, "/v3/auth/role/grant", 2, NULL);
    struct weft_err err = {0};
    char file[64];
    assert_int_equal(admit(g, true, &err, file, sizeof(file)), -1);
    assert_int_equal(err.code, -EACCES);
    assert_non_null(strstr(err.msg, "granting"));
    static const char *const want[] = {"/v3/auth/user/get", "/v3/auth/role/grant",
                                       "/v3/auth/role/grant", NULL};
    calls_end_with(g, 0, want);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(role_grant_refused_removes_the_role),
        cmocka_unit_test(user_grant_refused_removes_user_and_role),
        cmocka_unit_test(failed_undo_says_how_to_clean_up),
        cmocka_unit_test(rotate_refused_keeps_the_old_password),
        cmocka_unit_test(rotate_grant_refused_changes_no_password),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
