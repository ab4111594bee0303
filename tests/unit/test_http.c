/* test_http.c: the plugin socket speaks HTTP the way Docker expects: answers
 * POSTs with the plugin content type, refuses other methods and oversized
 * bodies with an Err, is created 0660, replaces a stale socket file, refuses to
 * steal a live one, and goes away on stop. Only calls that need no domain. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <jansson.h>
#include <pthread.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "daemon/http.h"

struct fixture {
    char dir[64];
    char sock[128];
    struct driver_ctx ctx;
    struct http_server *server;
};

struct reply {
    long status;
    char content_type[128];
    char *body;
    size_t len;
};

static size_t on_body(char *data, size_t size, size_t n, void *cls)
{
    struct reply *r = cls;
    char *grown = realloc(r->body, r->len + size * n + 1);
    if (!grown)
        return 0;
    r->body = grown;
    memcpy(r->body + r->len, data, size * n);
    r->len += size * n;
    r->body[r->len] = '\0';
    return size * n;
}

/* extra_header may be NULL; chunked sends the body without Content-Length. */
static void request(const char *sock, const char *method, const char *path, const char *body,
                    size_t len, const char *extra_header, struct reply *r)
{
    memset(r, 0, sizeof(*r));
    CURL *curl = curl_easy_init();
    assert_non_null(curl);
    char url[256];
    snprintf(url, sizeof(url), "http://localhost%s", path);
    struct curl_slist *headers = NULL;
    headers = curl_slist_append(headers, "Accept: application/vnd.docker.plugins.v1.2+json");
    if (extra_header)
        headers = curl_slist_append(headers, extra_header);
    curl_easy_setopt(curl, CURLOPT_UNIX_SOCKET_PATH, sock);
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, r);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT, 10L);
    if (body) {
        curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    }
    CURLcode rc = curl_easy_perform(curl);
    if (rc != CURLE_OK)
        fail_msg("%s %s: %s", method, path, curl_easy_strerror(rc));
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &r->status);
    char *type = NULL;
    curl_easy_getinfo(curl, CURLINFO_CONTENT_TYPE, &type);
    if (type)
        snprintf(r->content_type, sizeof(r->content_type), "%s", type);
    curl_slist_free_all(headers);
    curl_easy_cleanup(curl);
}

/* The Err of an error answer, checked to contain want. */
static void assert_err(const struct reply *r, long status, const char *want)
{
    assert_int_equal(r->status, status);
    assert_string_equal(r->content_type, "application/vnd.docker.plugins.v1+json");
    json_t *answer = json_loads(r->body ? r->body : "", 0, NULL);
    if (!answer)
        fail_msg("answer is not JSON: %s", r->body ? r->body : "(none)");
    const char *msg = json_string_value(json_object_get(answer, "Err"));
    if (!msg || !strstr(msg, want))
        fail_msg("Err %s lacks \"%s\"", r->body, want);
    json_decref(answer);
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    snprintf(f->dir, sizeof(f->dir), "/tmp/weft-http-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    /* a parent that does not exist yet */
    snprintf(f->sock, sizeof(f->sock), "%s/run/plugins/weft.sock", f->dir);
    *state = f;
    return 0;
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    http_server_stop(f->server);
    nftw(f->dir, remove_entry, 8, FTW_DEPTH | FTW_PHYS);
    free(f);
    return 0;
}

static void start(struct fixture *f)
{
    struct weft_err err = {.msg = ""};
    if (http_server_start(f->sock, &f->ctx, &f->server, &err) < 0)
        fail_msg("start: %s", err.msg);
}

static void activate_answers_json(void **state)
{
    struct fixture *f = *state;
    start(f);
    struct reply r;
    request(f->sock, "POST", "/Plugin.Activate", "", 0, NULL, &r);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.content_type, "application/vnd.docker.plugins.v1+json");
    assert_string_equal(r.body, "{\"Implements\":[\"NetworkDriver\",\"IpamDriver\"]}");
    free(r.body);

    request(f->sock, "POST", "/IpamDriver.GetDefaultAddressSpaces", "{}", 2, NULL, &r);
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.body, "\"LocalDefaultAddressSpace\":\"weft\""));
    free(r.body);

    /* Docker sends an empty Host header */
    request(f->sock, "POST", "/NetworkDriver.GetCapabilities", NULL, 0, "Host:", &r);
    assert_int_equal(r.status, 200);
    free(r.body);
}

static void refusals_carry_err(void **state)
{
    struct fixture *f = *state;
    start(f);
    struct reply r;
    request(f->sock, "POST", "/NetworkDriver.Frobnicate", "{}", 2, NULL, &r);
    assert_err(&r, 404, "unknown call /NetworkDriver.Frobnicate");
    free(r.body);

    request(f->sock, "GET", "/Plugin.Activate", NULL, 0, NULL, &r);
    assert_err(&r, 405, "POST");
    free(r.body);

    request(f->sock, "POST", "/NetworkDriver.CreateNetwork", "{\"NetworkID\":7}", 15, NULL, &r);
    assert_err(&r, 500, "must be a string");
    free(r.body);
}

static void oversized_bodies_are_413(void **state)
{
    struct fixture *f = *state;
    start(f);
    size_t len = 2 * 1024 * 1024;
    char *body = malloc(len);
    assert_non_null(body);
    memset(body, ' ', len);
    struct reply r;
    /* curl's default: Expect: 100-continue, refused before the body is sent */
    request(f->sock, "POST", "/Plugin.Activate", body, len, NULL, &r);
    assert_err(&r, 413, "larger than");
    free(r.body);
    /* no Expect: refused on Content-Length */
    request(f->sock, "POST", "/Plugin.Activate", body, len, "Expect:", &r);
    assert_err(&r, 413, "larger than");
    free(r.body);
    /* chunked: no length up front, counted and dropped */
    request(f->sock, "POST", "/Plugin.Activate", body, len, "Transfer-Encoding: chunked", &r);
    assert_err(&r, 413, "larger than");
    free(r.body);
    free(body);

    /* the server still answers afterwards */
    request(f->sock, "POST", "/Plugin.Activate", NULL, 0, NULL, &r);
    assert_int_equal(r.status, 200);
    free(r.body);
}

static int open_fds(void)
{
    int n = 0;
    for (int fd = 0; fd < 1024; fd++)
        n += fcntl(fd, F_GETFD) >= 0;
    return n;
}

static void socket_is_0660_and_removed_on_stop(void **state)
{
    struct fixture *f = *state;
    int fds = open_fds();
    start(f);
    struct stat st;
    assert_int_equal(lstat(f->sock, &st), 0);
    assert_true(S_ISSOCK(st.st_mode));
    assert_int_equal(st.st_mode & 07777, 0660);
    http_server_stop(f->server);
    f->server = NULL;
    assert_int_equal(lstat(f->sock, &st), -1);
    assert_int_equal(errno, ENOENT);
    assert_int_equal(open_fds(), fds); /* the listening socket is closed too */
}

/* A socket file bound by a process that is gone: connect is refused. */
static void make_stale_socket(const char *path)
{
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    assert_true(strlen(path) < sizeof(addr.sun_path));
    memcpy(addr.sun_path, path, strlen(path) + 1);
    assert_int_equal(bind(fd, (struct sockaddr *)&addr, sizeof(addr)), 0);
    close(fd);
}

static void stale_socket_is_replaced(void **state)
{
    struct fixture *f = *state;
    start(f);
    http_server_stop(f->server);
    f->server = NULL;
    make_stale_socket(f->sock);
    start(f);
    struct reply r;
    request(f->sock, "POST", "/Plugin.Activate", NULL, 0, NULL, &r);
    assert_int_equal(r.status, 200);
    free(r.body);
}

static void live_socket_is_not_stolen(void **state)
{
    struct fixture *f = *state;
    start(f);
    struct http_server *second = NULL;
    struct weft_err err = {.msg = ""};
    assert_int_equal(http_server_start(f->sock, &f->ctx, &second, &err), -1);
    assert_null(second);
    char want[256];
    snprintf(want, sizeof(want), "another weft daemon is listening on %s", f->sock);
    assert_string_equal(err.msg, want);
    /* the first one still serves */
    struct reply r;
    request(f->sock, "POST", "/Plugin.Activate", NULL, 0, NULL, &r);
    assert_int_equal(r.status, 200);
    free(r.body);
}

static void other_files_are_not_deleted(void **state)
{
    struct fixture *f = *state;
    char path[160];
    snprintf(path, sizeof(path), "%s/plain", f->dir);
    FILE *file = fopen(path, "w");
    assert_non_null(file);
    fclose(file);
    struct http_server *server = NULL;
    struct weft_err err = {.msg = ""};
    assert_int_equal(http_server_start(path, &f->ctx, &server, &err), -1);
    assert_non_null(strstr(err.msg, "is not a socket"));
    struct stat st;
    assert_int_equal(lstat(path, &st), 0);
    assert_true(S_ISREG(st.st_mode));
}

/* Docker's own bytes (observed): an empty Host header, Content-Length 0, and
 * the connection kept for the next call. */
static void docker_request_bytes_on_one_connection(void **state)
{
    struct fixture *f = *state;
    start(f);
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    memcpy(addr.sun_path, f->sock, strlen(f->sock) + 1);
    assert_int_equal(connect(fd, (struct sockaddr *)&addr, sizeof(addr)), 0);
    const char *req = "POST /Plugin.Activate HTTP/1.1\r\nHost: \r\n"
                      "User-Agent: Go-http-client/1.1\r\nContent-Length: 0\r\n"
                      "Accept: application/vnd.docker.plugins.v1.2+json\r\n"
                      "Accept-Encoding: gzip\r\n\r\n";
    for (int round = 0; round < 2; round++) {
        assert_int_equal(write(fd, req, strlen(req)), (ssize_t)strlen(req));
        char buf[2048];
        size_t got = 0;
        /* read until the JSON answer is complete */
        while (got < sizeof(buf) - 1) {
            ssize_t n = read(fd, buf + got, sizeof(buf) - 1 - got);
            assert_true(n > 0);
            got += (size_t)n;
            buf[got] = '\0';
            if (strstr(buf, "\"IpamDriver\"]}"))
                break;
        }
        assert_non_null(strstr(buf, "HTTP/1.1 200"));
        assert_non_null(strstr(buf, "application/vnd.docker.plugins.v1+json"));
    }
    close(fd);
}

struct worker {
    const char *sock;
    long status;
};

static void *concurrent_call(void *arg)
{
    struct worker *w = arg;
    struct reply r;
    request(w->sock, "POST", "/IpamDriver.GetCapabilities", "{}", 2, NULL, &r);
    w->status = r.status;
    free(r.body);
    return NULL;
}

static void concurrent_calls_are_served(void **state)
{
    struct fixture *f = *state;
    start(f);
    enum { N = 32 };
    pthread_t threads[N];
    struct worker workers[N];
    for (int i = 0; i < N; i++) {
        workers[i] = (struct worker){.sock = f->sock};
        assert_int_equal(pthread_create(&threads[i], NULL, concurrent_call, &workers[i]), 0);
    }
    for (int i = 0; i < N; i++) {
        pthread_join(threads[i], NULL);
        assert_int_equal(workers[i].status, 200);
    }
}

int main(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(activate_answers_json, setup, teardown),
        cmocka_unit_test_setup_teardown(refusals_carry_err, setup, teardown),
        cmocka_unit_test_setup_teardown(oversized_bodies_are_413, setup, teardown),
        cmocka_unit_test_setup_teardown(socket_is_0660_and_removed_on_stop, setup, teardown),
        cmocka_unit_test_setup_teardown(stale_socket_is_replaced, setup, teardown),
        cmocka_unit_test_setup_teardown(live_socket_is_not_stolen, setup, teardown),
        cmocka_unit_test_setup_teardown(other_files_are_not_deleted, setup, teardown),
        cmocka_unit_test_setup_teardown(concurrent_calls_are_served, setup, teardown),
        cmocka_unit_test_setup_teardown(docker_request_bytes_on_one_connection, setup, teardown),
    };
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    curl_global_cleanup();
    return failed;
}
