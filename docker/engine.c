/*
 * engine.c: HTTP GETs and one line stream to dockerd over its unix socket (see
 * engine.h). Each transfer runs on its own multi handle, polled at most 100 ms at
 * a time, so a stop request never waits on a silent dockerd.
 */
#include "docker/engine.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/clock.h"
#include "docker/answers.h"

#define POLL_MS 100L
#define GET_TIMEOUT_MS 10000L
#define CONNECT_TIMEOUT_MS 2000L
#define ANSWER_MAX ((size_t)16 << 20)
#define LINE_MAX_BYTES ((size_t)1 << 20)
/* The host part is ignored on a unix socket; Docker's own clients say "docker". */
#define URL_BASE "http://docker"

struct transfer {
    CURLM *multi;
    CURL *h;
    struct weft_buf buf;
    size_t limit;  /* at most this many bytes held */
    bool overflow; /* the limit was hit: the transfer was aborted */
    bool fresh;    /* bytes arrived since the last look */
    bool added;    /* h is in multi */
    long status;   /* the answer's HTTP status; 0 until its headers came */
    char errbuf[CURL_ERROR_SIZE];
};

struct docker_engine {
    char *socket_path;
    const atomic_bool *stop;
    char version[16];
    struct transfer get, stream;
};

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_result = CURLE_FAILED_INIT;

static void curl_init(void)
{
    curl_init_result = curl_global_init(CURL_GLOBAL_DEFAULT);
}

static size_t on_write(char *data, size_t size, size_t n, void *arg)
{
    struct transfer *t = arg;
    size_t len = size * n;
    if (t->buf.len + len > t->limit) {
        t->overflow = true;
        return 0; /* aborts the transfer */
    }
    if (weft_buf_append(&t->buf, data, len, NULL) < 0)
        return 0;
    t->fresh = true;
    return len;
}

static int transfer_init(struct transfer *t, const char *socket_path, size_t limit)
{
    t->limit = limit;
    t->multi = curl_multi_init();
    t->h = curl_easy_init();
    if (!t->multi || !t->h)
        return -1;
    curl_easy_setopt(t->h, CURLOPT_UNIX_SOCKET_PATH, socket_path);
    curl_easy_setopt(t->h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(t->h, CURLOPT_PROTOCOLS_STR, "http");
    curl_easy_setopt(t->h, CURLOPT_WRITEFUNCTION, on_write);
    curl_easy_setopt(t->h, CURLOPT_WRITEDATA, t);
    curl_easy_setopt(t->h, CURLOPT_ERRORBUFFER, t->errbuf);
    curl_easy_setopt(t->h, CURLOPT_CONNECTTIMEOUT_MS, CONNECT_TIMEOUT_MS);
    return 0;
}

static void transfer_end(struct transfer *t)
{
    if (t->added)
        curl_multi_remove_handle(t->multi, t->h);
    t->added = false;
}

static void transfer_free(struct transfer *t)
{
    transfer_end(t);
    if (t->h)
        curl_easy_cleanup(t->h);
    if (t->multi)
        curl_multi_cleanup(t->multi);
    weft_buf_free(&t->buf);
}

int docker_engine_new(struct docker_engine **out, const char *socket_path, const atomic_bool *stop,
                      struct weft_err *err)
{
    pthread_once(&curl_once, curl_init);
    if (curl_init_result != CURLE_OK)
        return weft_err_set(err, -EIO, "starting libcurl failed");
    struct docker_engine *e = calloc(1, sizeof(*e));
    if (!e || !(e->socket_path = strdup(socket_path))) {
        free(e);
        return weft_err_set(err, -ENOMEM, "no memory for the docker engine client");
    }
    e->stop = stop;
    if (transfer_init(&e->get, socket_path, ANSWER_MAX) < 0 ||
        transfer_init(&e->stream, socket_path, LINE_MAX_BYTES) < 0) {
        docker_engine_free(e);
        return weft_err_set(err, -ENOMEM, "no memory for the docker engine client");
    }
    curl_easy_setopt(e->get.h, CURLOPT_TIMEOUT_MS, GET_TIMEOUT_MS);
    curl_easy_setopt(e->stream.h, CURLOPT_FORBID_REUSE, 1L);
    *out = e;
    return 0;
}

void docker_engine_free(struct docker_engine *e)
{
    if (!e)
        return;
    transfer_free(&e->get);
    transfer_free(&e->stream);
    free(e->socket_path);
    free(e);
}

const char *docker_engine_version(const struct docker_engine *e)
{
    return e->version;
}

/*
 * Runs t until it ends (1, *result set), until wait_ms passed or, with
 * until_fresh, bytes arrived (0), or until stop (-ECANCELED).
 */
static int drive(struct docker_engine *e, struct transfer *t, long wait_ms, bool until_fresh,
                 CURLcode *result)
{
    long until = clock_monotonic_ms() + wait_ms;
    for (;;) {
        if (atomic_load(e->stop))
            return -ECANCELED;
        int running = 0;
        if (curl_multi_perform(t->multi, &running) != CURLM_OK) {
            *result = CURLE_OUT_OF_MEMORY;
            return 1;
        }
        if (running == 0) {
            int left;
            CURLMsg *msg = curl_multi_info_read(t->multi, &left);
            *result = msg && msg->msg == CURLMSG_DONE ? msg->data.result : CURLE_RECV_ERROR;
            return 1;
        }
        long left = until - clock_monotonic_ms();
        if (left <= 0 || (until_fresh && t->fresh))
            return 0;
        curl_multi_poll(t->multi, NULL, 0, (int)(left < POLL_MS ? left : POLL_MS), NULL);
    }
}

static int start(struct transfer *t, const char *url, struct weft_err *err)
{
    transfer_end(t);
    weft_buf_clear(&t->buf);
    t->overflow = t->fresh = false;
    t->status = 0;
    t->errbuf[0] = '\0';
    curl_easy_setopt(t->h, CURLOPT_URL, url);
    if (curl_multi_add_handle(t->multi, t->h) != CURLM_OK)
        return weft_err_set(err, -ENOMEM, "starting a docker request failed");
    t->added = true;
    return 0;
}

/* The failure of a transfer that ended with rc, in err. */
static int transport_error(const struct transfer *t, CURLcode rc, const char *what,
                           struct weft_err *err)
{
    const char *why = t->errbuf[0] ? t->errbuf : curl_easy_strerror(rc);
    if (t->overflow)
        return weft_err_set(err, -EPROTO, "%s: dockerd sent over %zu bytes", what, t->limit);
    if (rc == CURLE_COULDNT_CONNECT)
        return weft_err_set(err, -ECONNREFUSED, "%s: %s", what, why);
    if (rc == CURLE_OPERATION_TIMEDOUT)
        return weft_err_set(err, -ETIMEDOUT, "%s: %s", what, why);
    return weft_err_set(err, -EIO, "%s: %s", what, why);
}

/* Up to 160 bytes of dockerd's answer, quotes and control bytes replaced, for a message. */
static void snippet(const struct weft_buf *buf, char *out, size_t size)
{
    size_t n = 0;
    for (; n + 1 < size && n < 160 && n < buf->len; n++) {
        char c = buf->data[n];
        out[n] = c < 0x20 || c == '"' || c == '\\' || c == 0x7f ? '?' : c;
    }
    out[n] = '\0';
}

static int get_url(struct docker_engine *e, const char *url, char **body, size_t *len,
                   struct weft_err *err)
{
    struct transfer *t = &e->get;
    CURLcode result = CURLE_OK;
    if (start(t, url, err) < 0)
        return -1;
    int rc = drive(e, t, GET_TIMEOUT_MS + POLL_MS, false, &result);
    long status = 0;
    curl_easy_getinfo(t->h, CURLINFO_RESPONSE_CODE, &status);
    transfer_end(t);
    if (rc < 0)
        return weft_err_set(err, -ECANCELED, "GET %s: stopped", url + strlen(URL_BASE));
    if (rc == 0 || result != CURLE_OK)
        return transport_error(t, rc == 0 ? CURLE_OPERATION_TIMEDOUT : result, "docker engine",
                               err);
    if (status != 200) {
        char text[161];
        snippet(&t->buf, text, sizeof(text));
        return weft_err_set(err, status == 404 ? -ENOENT : -EPROTO,
                            "GET %s: dockerd answered %ld %s", url + strlen(URL_BASE), status,
                            text);
    }
    *len = t->buf.len;
    *body = weft_buf_take(&t->buf, NULL);
    if (!*body && !(*body = calloc(1, 1)))
        return weft_err_set(err, -ENOMEM, "no memory for an empty answer");
    return 0;
}

int docker_engine_negotiate(struct docker_engine *e, struct weft_err *err)
{
    char *body = NULL;
    size_t len = 0;
    struct docker_api_version v;
    docker_engine_stream_close(e);
    e->version[0] = '\0';
    if (get_url(e, URL_BASE "/version", &body, &len, err) < 0)
        return -1;
    int rc = docker_answer_version(body, len, &v, err);
    free(body);
    if (rc < 0)
        return -1;
    snprintf(e->version, sizeof(e->version), "%d.%d", v.major, v.minor);
    return 0;
}

static int versioned_url(const struct docker_engine *e, const char *path, char **url,
                         struct weft_err *err)
{
    if (!e->version[0])
        return weft_err_set(err, -EINVAL, "docker engine: no API version negotiated");
    if (asprintf(url, "%s/v%s%s", URL_BASE, e->version, path) < 0)
        return weft_err_set(err, -ENOMEM, "no memory for a docker URL");
    return 0;
}

int docker_engine_get(struct docker_engine *e, const char *path, char **body, size_t *len,
                      struct weft_err *err)
{
    char *url;
    *body = NULL;
    *len = 0;
    if (versioned_url(e, path, &url, err) < 0)
        return -1;
    int rc = get_url(e, url, body, len, err);
    free(url);
    return rc;
}

int docker_engine_stream_open(struct docker_engine *e, const char *path, struct weft_err *err)
{
    char *url;
    if (versioned_url(e, path, &url, err) < 0)
        return -1;
    int rc = start(&e->stream, url, err);
    free(url);
    return rc;
}

bool docker_engine_stream_up(const struct docker_engine *e)
{
    return e->stream.added && e->stream.status == 200;
}

void docker_engine_stream_close(struct docker_engine *e)
{
    transfer_end(&e->stream);
    weft_buf_clear(&e->stream.buf);
}

/* Hands over the complete lines held; 0 or fn's nonzero return (those lines are gone). */
static int split_lines(struct transfer *t, docker_line_fn fn, void *ctx)
{
    size_t used = 0;
    int rc = 0;
    char *nl;
    while (rc == 0 && (nl = memchr(t->buf.data + used, '\n', t->buf.len - used))) {
        size_t n = (size_t)(nl - (t->buf.data + used));
        *nl = '\0';
        if (n > 0 && nl[-1] == '\r')
            nl[-1] = '\0', n--;
        if (n > 0)
            rc = fn(ctx, t->buf.data + used, n);
        used = (size_t)(nl - t->buf.data) + 1;
    }
    weft_buf_consume(&t->buf, used);
    return rc;
}

int docker_engine_stream_pump(struct docker_engine *e, long wait_ms, docker_line_fn fn, void *ctx,
                              struct weft_err *err)
{
    struct transfer *t = &e->stream;
    if (!t->added)
        return weft_err_set(err, -EPIPE, "docker events: no stream open");
    CURLcode result = CURLE_OK;
    t->fresh = false;
    int rc = drive(e, t, wait_ms, true, &result);
    long status = 0;
    curl_easy_getinfo(t->h, CURLINFO_RESPONSE_CODE, &status);
    t->status = status;
    if (rc < 0) {
        docker_engine_stream_close(e);
        return weft_err_set(err, -ECANCELED, "docker events: stopped");
    }
    if (status != 0 && status != 200) {
        char text[161];
        snippet(&t->buf, text, sizeof(text));
        docker_engine_stream_close(e);
        return weft_err_set(err, -EPROTO, "docker events: dockerd answered %ld %s", status, text);
    }
    int fn_rc = t->buf.len > 0 ? split_lines(t, fn, ctx) : 0;
    if (fn_rc != 0)
        return fn_rc;
    if (rc == 0)
        return 0;
    docker_engine_stream_close(e);
    if (result == CURLE_OK)
        return weft_err_set(err, -EPIPE, "docker events: dockerd ended the stream");
    if (result == CURLE_COULDNT_CONNECT || t->overflow)
        return transport_error(t, result, "docker events", err);
    return weft_err_set(err, -EPIPE, "docker events: stream broke: %s",
                        t->errbuf[0] ? t->errbuf : curl_easy_strerror(result));
}
