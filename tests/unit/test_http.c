/* test_http.c: the plugin socket speaks HTTP the way Docker expects: answers
 * POSTs with the plugin content type, refuses other methods and oversized
 * bodies with an Err that reaches every kind of client, serves calls at the
 * same time, is created 0660, replaces a stale socket file, refuses to steal
 * a live one, and goes away on stop. Only calls that need no domain. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
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
#include <sys/time.h>
#include <sys/un.h>
#include <time.h>
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
    struct weft_err err = {0};
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

/* A connected client socket that gives up after 10 s instead of hanging the test. */
static int connect_raw(const char *sock)
{
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_true(fd >= 0);
    struct timeval limit = {.tv_sec = 10};
    assert_int_equal(setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &limit, sizeof(limit)), 0);
    assert_int_equal(setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof(limit)), 0);
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    memcpy(addr.sun_path, sock, strlen(sock) + 1);
    assert_int_equal(connect(fd, (struct sockaddr *)&addr, sizeof(addr)), 0);
    return fd;
}

/* Writes all of data; false when the server stopped taking it (reset, closed). */
static bool write_all(int fd, const char *data, size_t len)
{
    while (len > 0) {
        ssize_t n = send(fd, data, len, MSG_NOSIGNAL);
        if (n <= 0)
            return false;
        data += n;
        len -= (size_t)n;
    }
    return true;
}

/* Reads one answer (headers and Content-Length bytes of body) into buf. */
static void read_answer(int fd, char *buf, size_t size)
{
    size_t got = 0;
    buf[0] = '\0';
    for (;;) {
        char *end = strstr(buf, "\r\n\r\n");
        const char *length = strcasestr(buf, "\r\nContent-Length:");
        if (end && length && got >= (size_t)(end + 4 - buf) + strtoul(length + 17, NULL, 10))
            return;
        if (got == size - 1)
            fail_msg("answer larger than %zu bytes: %s", size, buf);
        ssize_t n = read(fd, buf + got, size - 1 - got);
        if (n <= 0)
            fail_msg("read after %zu bytes of the answer: %s (answer so far: \"%s\")", got,
                     n < 0 ? strerror(errno) : "end of stream", buf);
        got += (size_t)n;
        buf[got] = '\0';
    }
}

/* The client Docker is: Go's net/http writes the whole request, body and all,
 * and sends no Expect, before it reads the answer. */
static void go_style_call(const char *sock, const char *method, const char *body, size_t len,
                          char *answer, size_t size)
{
    int fd = connect_raw(sock);
    char head[512];
    snprintf(head, sizeof(head),
             "%s /Plugin.Activate HTTP/1.1\r\nHost: \r\nUser-Agent: Go-http-client/1.1\r\n"
             "Content-Length: %zu\r\nAccept: application/vnd.docker.plugins.v1.2+json\r\n"
             "Accept-Encoding: gzip\r\n\r\n",
             method, len);
    if (!write_all(fd, head, strlen(head)) || !write_all(fd, body, len))
        fail_msg("%s of %zu bytes: the server stopped reading: %s", method, len, strerror(errno));
    read_answer(fd, answer, size);
    /* the connection is kept for the next call, as Docker expects */
    const char *next = "POST /Plugin.Activate HTTP/1.1\r\nHost: \r\nContent-Length: 0\r\n\r\n";
    char again[2048];
    assert_true(write_all(fd, next, strlen(next)));
    read_answer(fd, again, sizeof(again));
    assert_non_null(strstr(again, "HTTP/1.1 200"));
    close(fd);
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
    /* curl's default for big bodies: Expect: 100-continue */
    request(f->sock, "POST", "/Plugin.Activate", body, len, NULL, &r);
    assert_err(&r, 413, "larger than 1048576 bytes");
    free(r.body);
    /* no Expect: the body comes at once */
    request(f->sock, "POST", "/Plugin.Activate", body, len, "Expect:", &r);
    assert_err(&r, 413, "larger than 1048576 bytes");
    free(r.body);
    /* chunked: no length up front, counted and dropped */
    request(f->sock, "POST", "/Plugin.Activate", body, len, "Transfer-Encoding: chunked", &r);
    assert_err(&r, 413, "larger than 1048576 bytes");
    free(r.body);

    char answer[4096];
    go_style_call(f->sock, "POST", body, len, answer, sizeof(answer));
    assert_non_null(strstr(answer, "HTTP/1.1 413"));
    assert_non_null(strstr(answer, "{\"Err\":\"request body is larger than 1048576 bytes\"}"));
    /* other refusals wait for the body too */
    go_style_call(f->sock, "PUT", body, 64 * 1024, answer, sizeof(answer));
    assert_non_null(strstr(answer, "HTTP/1.1 405"));
    assert_non_null(strstr(answer, "{\"Err\":\"plugin calls are POST, not PUT\"}"));
    free(body);

    /* the server still answers afterwards */
    request(f->sock, "POST", "/Plugin.Activate", NULL, 0, NULL, &r);
    assert_int_equal(r.status, 200);
    free(r.body);
}

/* Too big to read and drop: a client that asks first is refused before it sends. */
static void huge_body_refused_before_it_is_sent(void **state)
{
    struct fixture *f = *state;
    start(f);
    int fd = connect_raw(f->sock);
    char head[256];
    snprintf(head, sizeof(head),
             "POST /Plugin.Activate HTTP/1.1\r\nHost: \r\nContent-Length: %d\r\n"
             "Expect: 100-continue\r\n\r\n",
             HTTP_DRAIN_MAX + 1);
    assert_true(write_all(fd, head, strlen(head)));
    char answer[4096];
    read_answer(fd, answer, sizeof(answer));
    assert_null(strstr(answer, "100 Continue"));
    assert_non_null(strstr(answer, "HTTP/1.1 413"));
    assert_non_null(strstr(answer, "{\"Err\":\"request body is larger than 1048576 bytes\"}"));
    close(fd);

    /* chunked past the drain cap: the connection is closed, the server lives on */
    fd = connect_raw(f->sock);
    const char *chunked = "POST /Plugin.Activate HTTP/1.1\r\nHost: \r\n"
                          "Transfer-Encoding: chunked\r\n\r\n";
    assert_true(write_all(fd, chunked, strlen(chunked)));
    enum { CHUNK = 64 * 1024 };
    char *chunk = malloc(CHUNK + 16);
    assert_non_null(chunk);
    int head_len = snprintf(chunk, 16, "%x\r\n", CHUNK);
    memset(chunk + head_len, 'x', CHUNK);
    memcpy(chunk + head_len + CHUNK, "\r\n", 2);
    size_t sent = 0;
    while (sent <= 2 * (size_t)HTTP_DRAIN_MAX && write_all(fd, chunk, (size_t)head_len + CHUNK + 2))
        sent += CHUNK;
    free(chunk);
    close(fd);
    if (sent > 2 * (size_t)HTTP_DRAIN_MAX)
        fail_msg("the server read %zu bytes of a chunked body, drain cap %d", sent, HTTP_DRAIN_MAX);
    struct reply r;
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
    struct weft_err err = {0};
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
    struct weft_err err = {0};
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

/* A handler that answers 200 only once BARRIER_CALLS calls are inside it at the
 * same time: a server that answers one call at a time never gets there, and
 * its calls give up after BARRIER_WAIT_S with a 500. */
enum { BARRIER_CALLS = 16, BARRIER_WAIT_S = 5 };

struct barrier {
    pthread_mutex_t lock;
    pthread_cond_t changed;
    int inside, most_inside;
    bool gave_up; /* once one call gave up, the rest answer at once */
};

static void barrier_call(void *cls, const char *path, const char *body, size_t body_len,
                         struct driver_response *out)
{
    (void)path;
    (void)body;
    (void)body_len;
    struct barrier *b = cls;
    struct timespec deadline;
    clock_gettime(CLOCK_MONOTONIC, &deadline);
    deadline.tv_sec += BARRIER_WAIT_S;
    pthread_mutex_lock(&b->lock);
    b->inside++;
    if (b->inside > b->most_inside)
        b->most_inside = b->inside;
    pthread_cond_broadcast(&b->changed);
    while (b->most_inside < BARRIER_CALLS && !b->gave_up) {
        if (pthread_cond_timedwait(&b->changed, &b->lock, &deadline) == ETIMEDOUT) {
            b->gave_up = true;
            pthread_cond_broadcast(&b->changed);
        }
    }
    bool met = b->most_inside >= BARRIER_CALLS;
    b->inside--;
    pthread_mutex_unlock(&b->lock);
    out->status = met ? 200 : 500;
    out->body = strdup(met ? "{}" : "{\"Err\":\"calls were not served at the same time\"}");
}

struct worker {
    const char *sock;
    long status;
};

static void *concurrent_call(void *arg)
{
    struct worker *w = arg;
    struct reply r;
    request(w->sock, "POST", "/Test.Barrier", "{}", 2, NULL, &r);
    w->status = r.status;
    free(r.body);
    return NULL;
}

static void concurrent_calls_are_served(void **state)
{
    struct fixture *f = *state;
    struct barrier b = {.inside = 0};
    pthread_mutex_init(&b.lock, NULL);
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&b.changed, &attr);
    pthread_condattr_destroy(&attr);
    struct weft_err err = {0};
    if (http_server_start_handler(f->sock, barrier_call, &b, &f->server, &err) < 0)
        fail_msg("start: %s", err.msg);
    pthread_t threads[BARRIER_CALLS];
    struct worker workers[BARRIER_CALLS];
    for (int i = 0; i < BARRIER_CALLS; i++) {
        workers[i] = (struct worker){.sock = f->sock};
        assert_int_equal(pthread_create(&threads[i], NULL, concurrent_call, &workers[i]), 0);
    }
    for (int i = 0; i < BARRIER_CALLS; i++)
        pthread_join(threads[i], NULL);
    http_server_stop(f->server); /* no call is left inside before b goes */
    f->server = NULL;
    if (b.most_inside < BARRIER_CALLS)
        fail_msg("at most %d of %d calls were served at the same time", b.most_inside,
                 BARRIER_CALLS);
    for (int i = 0; i < BARRIER_CALLS; i++)
        assert_int_equal(workers[i].status, 200);
    pthread_cond_destroy(&b.changed);
    pthread_mutex_destroy(&b.lock);
}

int main(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(activate_answers_json, setup, teardown),
        cmocka_unit_test_setup_teardown(refusals_carry_err, setup, teardown),
        cmocka_unit_test_setup_teardown(oversized_bodies_are_413, setup, teardown),
        cmocka_unit_test_setup_teardown(huge_body_refused_before_it_is_sent, setup, teardown),
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
