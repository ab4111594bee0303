/*
 * etcd_grpc_stream.c: the loop and the streams of the gRPC Watch client (see
 * etcd_grpc_watch.h and etcd_grpc_internal.h).
 *
 * Owns the curl side, on the loop thread: the multi handle, each stream's POST
 * whose body never ends (HTTP/2: prior knowledge for http, ALPN for https), its
 * read callback (frames of `out`; it pauses the upload when nothing is queued and
 * the loop resumes it when a request is queued, from whatever thread), the end of a
 * stream, and a resume: when a stream with resume_ms set ends with an error that a
 * new stream may not have (the connection lost, etcd gone or restarting, the
 * server ending the stream), the caller hears RESUMING, and after a backoff
 * (resume_ms, doubling to 16 times it while nothing gets created) a new stream
 * opens on the next endpoint of the list and re-adds every live watch
 * (etcd_grpc_watch.c). Called by the public API and nothing else.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "store/etcd_grpc_internal.h"
#include "store/etcd_internal.h"

static size_t read_cb(char *dst, size_t size, size_t nitems, void *userp)
{
    struct etcd_grpc_watch *w = userp;
    size_t room = size * nitems, n;
    pthread_mutex_lock(&w->lock);
    if (w->out.len == 0) {
        w->send_paused = true;
        pthread_mutex_unlock(&w->lock);
        return CURL_READFUNC_PAUSE;
    }
    n = w->out.len < room ? w->out.len : room;
    memcpy(dst, w->out.data, n);
    weft_buf_consume(&w->out, n);
    pthread_mutex_unlock(&w->lock);
    return n;
}

static int curl_code_errno(CURLcode cc)
{
    switch (cc) {
    case CURLE_COULDNT_CONNECT:
        return -ECONNREFUSED;
    case CURLE_OPERATION_TIMEDOUT:
        return -ETIMEDOUT;
    case CURLE_OUT_OF_MEMORY:
        return -ENOMEM;
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
        return -EKEYREJECTED;
    default:
        return -ECONNRESET;
    }
}

/* Why the stream ended: a negative errno and reason. */
static int end_reason(struct etcd_grpc_watch *w, CURLcode cc, char *reason, size_t size)
{
    long http = 0;
    curl_easy_getinfo(w->h, CURLINFO_RESPONSE_CODE, &http);
    if (w->failure.code) {
        snprintf(reason, size, "%s", w->failure.msg);
        return w->failure.code;
    }
    if (cc != CURLE_OK) {
        snprintf(reason, size, "etcd watch stream: %s",
                 w->errbuf[0] ? w->errbuf : curl_easy_strerror(cc));
        return curl_code_errno(cc);
    }
    if (w->grpc_status > 0) {
        snprintf(reason, size, "etcd watch stream: grpc-status %d: %s", w->grpc_status,
                 w->grpc_message);
        return w->grpc_status == 16 || w->grpc_status == 7 ? -EACCES : -EIO;
    }
    if (http != 200) {
        snprintf(reason, size, "etcd watch stream: HTTP status %ld (not a gRPC server?)", http);
        return -EPROTO;
    }
    snprintf(reason, size, "etcd watch stream: ended by the server (grpc-status %d)",
             w->grpc_status);
    return -EPIPE;
}

/* Whether a new stream may fare better: not for refusals, nor answers unreadable. */
static bool resumable(int code)
{
    return code == -ECONNREFUSED || code == -ECONNRESET || code == -ETIMEDOUT || code == -EPIPE ||
           code == -EIO;
}

static void drop_handle(struct etcd_grpc_watch *w)
{
    if (!w->h)
        return;
    curl_multi_remove_handle(w->loop->multi, w->h);
    curl_easy_cleanup(w->h);
    w->h = NULL;
}

static void stream_finished(struct etcd_grpc_watch *w, CURLcode cc)
{
    char reason[WEFT_ERR_MAX + 64];
    struct etcd_grpc_answer a = {
        .kind = ETCD_GRPC_STREAM_END, .watch = -1, .grpc_status = w->grpc_status, .reason = reason};
    a.code = end_reason(w, cc, reason, sizeof(reason));
    drop_handle(w);
    pthread_mutex_lock(&w->lock);
    bool resume = w->resume_ms > 0 && resumable(a.code);
    if (resume)
        w->down = true;
    else
        w->ended = true;
    pthread_mutex_unlock(&w->lock);
    if (resume) {
        unsigned shift = w->attempts < 4 ? w->attempts : 4;
        w->resume_at = clock_monotonic_ms() + ((long)w->resume_ms << shift);
        w->attempts++;
        w->endpoint_at = (w->endpoint_at + 1) % w->endpoint_count;
        a.kind = ETCD_GRPC_RESUMING;
    }
    grpc_deliver(w, &a);
}

static void set_options(struct etcd_grpc_watch *w, const char *url)
{
    CURL *h = w->h;
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_PRIVATE, (char *)w);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, w->errbuf);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, w->headers);
    curl_easy_setopt(h, CURLOPT_POST, 1L);
    curl_easy_setopt(h, CURLOPT_READFUNCTION, read_cb);
    curl_easy_setopt(h, CURLOPT_READDATA, w);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, grpc_write_cb);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, w);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, grpc_header_cb);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, w);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, 2000L);
    curl_easy_setopt(h, CURLOPT_TCP_NODELAY, 1L);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, w->tls ? "https" : "http");
    curl_easy_setopt(h, CURLOPT_HTTP_VERSION,
                     w->tls ? CURL_HTTP_VERSION_2TLS : CURL_HTTP_VERSION_2_PRIOR_KNOWLEDGE);
    if (w->tls) {
        if (w->ca_file)
            curl_easy_setopt(h, CURLOPT_CAINFO, w->ca_file);
        if (w->cert_file) {
            curl_easy_setopt(h, CURLOPT_SSLCERT, w->cert_file);
            curl_easy_setopt(h, CURLOPT_SSLKEY, w->key_file);
        }
    }
}

/* From endpoint_at on, the first endpoint that is not a member found silent (the
 * health register's); endpoint_at itself when every one is. */
static void pass_silent_members(struct etcd_grpc_watch *w)
{
    for (size_t i = 0; w->health && i < w->endpoint_count; i++) {
        size_t at = (w->endpoint_at + i) % w->endpoint_count;
        if (!etcd_health_dead(w->health, w->endpoint_member[at])) {
            w->endpoint_at = at;
            return;
        }
    }
}

/* A curl handle for the current endpoint, on the loop (w->h). */
static int start_handle(struct etcd_grpc_watch *w, struct weft_err *err)
{
    pass_silent_members(w);
    char url[320];
    snprintf(url, sizeof(url), "%s://%s/etcdserverpb.Watch/Watch", w->tls ? "https" : "http",
             w->endpoints[w->endpoint_at]);
    w->errbuf[0] = '\0';
    w->grpc_status = -1;
    w->grpc_message[0] = '\0';
    w->failure = (struct weft_err){0};
    weft_buf_clear(&w->in);
    if (!(w->h = curl_easy_init()))
        return weft_err_set(err, -ENOMEM, "out of memory");
    set_options(w, url);
    size_t member = w->endpoint_member[w->endpoint_at];
    if (w->health && member != SIZE_MAX) {
        /* Its sockets in the register: the prober shuts them if the member goes silent,
         * and with several members the kernel's keepalives find it between rounds. */
        w->owner =
            (struct etcd_socket_owner){w->health, member, etcd_health_dead(w->health, member)};
        etcd_health_attach(w->health, w->h);
        etcd_health_perform_on(w->h, &w->owner);
    }
    if (curl_multi_add_handle(w->loop->multi, w->h) != CURLM_OK) {
        curl_easy_cleanup(w->h);
        w->h = NULL;
        return weft_err_set(err, -ENOMEM, "etcd watch: curl refused the stream");
    }
    return 0;
}

/* The backoff is over: a new stream re-adds the live watches. A failure here (no
 * memory) ends the stream for good. */
static void resume_stream(struct etcd_grpc_watch *w)
{
    struct weft_err err = {0};
    int64_t *gone = NULL;
    size_t gone_n = 0;
    pthread_mutex_lock(&w->lock);
    int rc = grpc_slots_readd_locked(w, &gone, &gone_n, &err);
    if (rc == 0)
        w->down = false;
    else
        w->ended = true;
    pthread_mutex_unlock(&w->lock);
    for (size_t i = 0; i < gone_n; i++) {
        struct etcd_grpc_answer a = {.kind = ETCD_GRPC_CANCELED,
                                     .watch = gone[i],
                                     .grpc_status = -1,
                                     .reason = "cancelled while resuming"};
        grpc_deliver(w, &a);
    }
    free(gone);
    if (rc == 0 && (rc = start_handle(w, &err)) < 0) {
        pthread_mutex_lock(&w->lock);
        w->ended = true;
        pthread_mutex_unlock(&w->lock);
    }
    if (rc < 0) {
        struct etcd_grpc_answer a = {.kind = ETCD_GRPC_STREAM_END,
                                     .watch = -1,
                                     .code = err.code,
                                     .grpc_status = -1,
                                     .reason = err.msg};
        grpc_deliver(w, &a);
    }
}

/* Streams due to resume resume; uploads with something queued go on. Returns the
 * milliseconds until the next resume is due (or max_ms). */
static int tend_streams(struct etcd_grpc_loop *loop, int max_ms)
{
    long now = clock_monotonic_ms(), wait = max_ms;
    for (struct etcd_grpc_watch *w = loop->streams; w; w = w->next) {
        bool down, ended, unpause;
        pthread_mutex_lock(&w->lock);
        down = w->down;
        ended = w->ended;
        unpause = w->unpause_wanted && w->h;
        if (unpause)
            w->unpause_wanted = w->send_paused = false;
        pthread_mutex_unlock(&w->lock);
        if (down && !ended && w->resume_at <= now)
            resume_stream(w);
        else if (down && !ended && w->resume_at - now < wait)
            wait = w->resume_at - now;
        if (unpause)
            curl_easy_pause(w->h, CURLPAUSE_CONT); /* nothing receives paused: only sending */
    }
    return (int)wait;
}

int etcd_grpc_loop_run(struct etcd_grpc_loop *loop, int timeout_ms, struct weft_err *err)
{
    int running = 0;
    tend_streams(loop, timeout_ms);
    CURLMcode mc = curl_multi_perform(loop->multi, &running);
    if (mc == CURLM_OK)
        mc = curl_multi_poll(loop->multi, NULL, 0, tend_streams(loop, timeout_ms), NULL);
    if (mc == CURLM_OK) {
        tend_streams(loop, timeout_ms);
        mc = curl_multi_perform(loop->multi, &running);
    }
    if (mc != CURLM_OK)
        return weft_err_set(err, -EIO, "etcd watch loop: %s", curl_multi_strerror(mc));
    CURLMsg *msg;
    int left;
    while ((msg = curl_multi_info_read(loop->multi, &left))) {
        if (msg->msg != CURLMSG_DONE)
            continue;
        struct etcd_grpc_watch *w = NULL;
        curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&w);
        if (w && w->h == msg->easy_handle)
            stream_finished(w, msg->data.result);
    }
    return 0;
}

int etcd_grpc_loop_new(struct etcd_grpc_loop **out, bool separate_connections, struct weft_err *err)
{
    struct etcd_grpc_loop *loop = calloc(1, sizeof(*loop));
    if (!loop || !(loop->multi = curl_multi_init())) {
        free(loop);
        return weft_err_set(err, -ENOMEM, "out of memory");
    }
    curl_multi_setopt(loop->multi, CURLMOPT_PIPELINING,
                      separate_connections ? CURLPIPE_NOTHING : CURLPIPE_MULTIPLEX);
    *out = loop;
    return 0;
}

void etcd_grpc_loop_wakeup(struct etcd_grpc_loop *loop)
{
    curl_multi_wakeup(loop->multi);
}

void etcd_grpc_loop_free(struct etcd_grpc_loop *loop)
{
    if (!loop)
        return;
    curl_multi_cleanup(loop->multi);
    free(loop);
}

static int build_headers(struct etcd_grpc_watch *w, const char *token, struct weft_err *err)
{
    const char *fixed[] = {"Content-Type: application/grpc", "TE: trailers",
                           "Expect:", "User-Agent: weft-grpc"};
    for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++) {
        struct curl_slist *next = curl_slist_append(w->headers, fixed[i]);
        if (!next)
            return weft_err_set(err, -ENOMEM, "out of memory");
        w->headers = next;
    }
    if (!token)
        return 0;
    char *line = NULL;
    if (asprintf(&line, "token: %s", token) < 0)
        return weft_err_set(err, -ENOMEM, "out of memory");
    struct curl_slist *next = curl_slist_append(w->headers, line);
    free(line);
    if (!next)
        return weft_err_set(err, -ENOMEM, "out of memory");
    w->headers = next;
    return 0;
}

/* The comma-separated endpoints, files and resume of config, copied into w. */
static int copy_config(struct etcd_grpc_watch *w, const struct etcd_grpc_config *c,
                       struct weft_err *err)
{
    const char *p = c->endpoint;
    while (*p) {
        size_t n = strcspn(p, ",");
        if (n == 0 || n > 256 || w->endpoint_count == GRPC_ENDPOINTS_MAX)
            return weft_err_set(err, -EINVAL, "etcd watch: endpoints \"%s\": %s", c->endpoint,
                                n == 0    ? "an empty one"
                                : n > 256 ? "one too long"
                                          : "too many");
        if (!(w->endpoints[w->endpoint_count] = strndup(p, n)))
            return weft_err_set(err, -ENOMEM, "out of memory");
        w->endpoint_count++;
        p += n + (p[n] == ',');
    }
    w->health = c->health;
    for (size_t i = 0; i < w->endpoint_count; i++) {
        w->endpoint_member[i] = SIZE_MAX; /* a proxy, or any endpoint not a member */
        for (size_t m = 0; w->health && m < w->health->member_count; m++)
            if (strcmp(w->endpoints[i], w->health->members[m]) == 0)
                w->endpoint_member[i] = m;
    }
    w->tls = c->tls;
    w->resume_ms = c->resume_ms;
    if ((c->ca_file && !(w->ca_file = strdup(c->ca_file))) ||
        (c->cert_file && !(w->cert_file = strdup(c->cert_file))) ||
        (c->key_file && !(w->key_file = strdup(c->key_file))))
        return weft_err_set(err, -ENOMEM, "out of memory");
    return 0;
}

static void free_stream(struct etcd_grpc_watch *w)
{
    drop_handle(w);
    curl_slist_free_all(w->headers);
    weft_buf_free(&w->out);
    weft_buf_free(&w->in);
    grpc_slots_free_locked(w);
    for (size_t i = 0; i < w->endpoint_count; i++)
        free(w->endpoints[i]);
    free(w->ca_file);
    free(w->cert_file);
    free(w->key_file);
    pthread_mutex_destroy(&w->lock);
    free(w);
}

int etcd_grpc_watch_open(struct etcd_grpc_loop *loop, const struct etcd_grpc_config *config,
                         etcd_grpc_watch_fn fn, void *ctx, struct etcd_grpc_watch **out,
                         struct weft_err *err)
{
    if (!config->endpoint || !config->endpoint[0] || !fn || config->resume_ms < 0)
        return weft_err_set(err, -EINVAL,
                            "etcd watch: no endpoint, no callback or a "
                            "negative resume");
    struct etcd_grpc_watch *w = calloc(1, sizeof(*w));
    if (!w)
        return weft_err_set(err, -ENOMEM, "out of memory");
    *w = (struct etcd_grpc_watch){.loop = loop, .fn = fn, .ctx = ctx, .grpc_status = -1};
    pthread_mutex_init(&w->lock, NULL);
    if (copy_config(w, config, err) < 0 || build_headers(w, config->token, err) < 0 ||
        start_handle(w, err) < 0) {
        free_stream(w);
        return -1;
    }
    w->next = loop->streams;
    loop->streams = w;
    *out = w;
    return 0;
}

void etcd_grpc_watch_close(struct etcd_grpc_watch *w)
{
    if (!w)
        return;
    for (struct etcd_grpc_watch **p = &w->loop->streams; *p; p = &(*p)->next)
        if (*p == w) {
            *p = w->next;
            break;
        }
    free_stream(w);
}

int etcd_grpc_token(struct etcd *etcd, char **token, struct weft_err *err)
{
    struct etcd_auth *auth = &etcd->auth;
    *token = NULL;
    pthread_mutex_lock(&auth->lock);
    if (auth->user && auth->token && !(*token = strdup(auth->token))) {
        pthread_mutex_unlock(&auth->lock);
        return weft_err_set(err, -ENOMEM, "out of memory");
    }
    pthread_mutex_unlock(&auth->lock);
    return 0;
}

int etcd_grpc_endpoints(struct etcd *etcd, char **list, struct weft_err *err)
{
    struct weft_buf b = WEFT_BUF_INIT;
    size_t first = atomic_load(&etcd->current) % etcd->member_count;
    for (size_t i = 0; i < etcd->member_count; i++) {
        const char *m = etcd->members[(first + i) % etcd->member_count];
        if ((i > 0 && weft_buf_append(&b, ",", 1, err) < 0) ||
            weft_buf_append(&b, m, strlen(m), err) < 0) {
            weft_buf_free(&b);
            return -1;
        }
    }
    *list = weft_buf_take(&b, NULL);
    return 0;
}
