/*
 * etcd_grpc_watch.c: etcd's gRPC Watch stream over libcurl's HTTP/2 (see the header).
 *
 * A stream is one POST whose body never ends: requests go out as gRPC frames (a
 * zero byte, a 4-byte big-endian length, a WatchRequest) through curl's read
 * callback, which pauses the upload when nothing is queued; queueing a request
 * resumes it. Answers come in through the write callback in pieces of any size:
 * they gather in `in` until a whole frame is there, however large (up to
 * FRAME_MAX), and each whole WatchResponse is decoded and delivered. grpc-status
 * and grpc-message arrive as trailers (or as headers, for an answer with no body)
 * through the header callback.
 *
 * Watch ids: etcd names a watch by an id it picks (a grpc-proxy picks its own), and
 * answers the creates of one stream in the order sent. So each watch gets our id
 * at once, waits in state PENDING, and takes the id of the next "created" answer.
 */
#include "store/etcd_grpc_watch.h"

#include <curl/curl.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "store/etcd_internal.h"
#include "store/etcd_rpc.pb-c.h"

#define FRAME_HEADER 5
#define FRAME_MAX (64u << 20) /* one answer; etcd's are far smaller */

struct etcd_grpc_loop {
    CURLM *multi;
};

enum slot_state { SLOT_PENDING, SLOT_ACTIVE, SLOT_GONE };

struct watch_slot {
    int64_t id;        /* ours */
    int64_t server_id; /* etcd's (or the proxy's), once created */
    enum slot_state state;
    bool cancel_wanted; /* asked while PENDING: sent once created */
};

struct etcd_grpc_watch {
    struct etcd_grpc_loop *loop;
    CURL *h;
    struct curl_slist *headers;
    struct weft_buf out; /* frames not yet handed to curl */
    struct weft_buf in;  /* the start of a frame not yet whole */
    bool send_paused;
    bool ended;
    struct weft_err failure; /* why the write callback stopped the transfer */
    int grpc_status;         /* -1 until the trailer (or header) comes */
    char grpc_message[160];
    struct watch_slot *slots;
    size_t slot_count, slot_cap;
    int64_t next_id;
    etcd_grpc_watch_fn fn;
    void *ctx;
    char errbuf[CURL_ERROR_SIZE];
};

/* ---- requests out ---- */

static size_t read_cb(char *dst, size_t size, size_t nitems, void *userp)
{
    struct etcd_grpc_watch *w = userp;
    size_t room = size * nitems;
    if (w->out.len == 0) {
        w->send_paused = true;
        return CURL_READFUNC_PAUSE;
    }
    size_t n = w->out.len < room ? w->out.len : room;
    memcpy(dst, w->out.data, n);
    weft_buf_consume(&w->out, n);
    return n;
}

/* Packs req as one gRPC frame onto the queue and lets curl send it. */
static int queue_request(struct etcd_grpc_watch *w, const Weftetcd__WatchRequest *req,
                         struct weft_err *err)
{
    if (w->ended)
        return weft_err_set(err, -EPIPE, "etcd watch stream: already ended");
    size_t len = weftetcd__watch_request__get_packed_size(req);
    if (weft_buf_reserve(&w->out, FRAME_HEADER + len, err) < 0)
        return -1;
    uint8_t *p = (uint8_t *)w->out.data + w->out.len;
    p[0] = 0; /* not compressed */
    p[1] = (uint8_t)(len >> 24);
    p[2] = (uint8_t)(len >> 16);
    p[3] = (uint8_t)(len >> 8);
    p[4] = (uint8_t)len;
    weftetcd__watch_request__pack(req, p + FRAME_HEADER);
    w->out.len += FRAME_HEADER + len;
    w->out.data[w->out.len] = '\0';
    if (w->send_paused) {
        w->send_paused = false;
        curl_easy_pause(w->h, CURLPAUSE_CONT); /* nothing receives paused: only sending */
    }
    return 0;
}

static struct watch_slot *slot_by_id(struct etcd_grpc_watch *w, int64_t id)
{
    for (size_t i = 0; i < w->slot_count; i++)
        if (w->slots[i].id == id && w->slots[i].state != SLOT_GONE)
            return &w->slots[i];
    return NULL;
}

static struct watch_slot *slot_by_server_id(struct etcd_grpc_watch *w, int64_t server_id)
{
    for (size_t i = 0; i < w->slot_count; i++)
        if (w->slots[i].state == SLOT_ACTIVE && w->slots[i].server_id == server_id)
            return &w->slots[i];
    return NULL;
}

static struct watch_slot *slot_first_pending(struct etcd_grpc_watch *w)
{
    for (size_t i = 0; i < w->slot_count; i++)
        if (w->slots[i].state == SLOT_PENDING)
            return &w->slots[i];
    return NULL;
}

/* A slot for a new watch, at the end: creates are matched to answers in slot order.
 * Slots of ended watches stay (a prototype's simplification: a stream that adds and
 * cancels watches for good would want them compacted). */
static struct watch_slot *slot_new(struct etcd_grpc_watch *w, struct weft_err *err)
{
    if (w->slot_count == w->slot_cap) {
        size_t cap = w->slot_cap ? w->slot_cap * 2 : 8;
        struct watch_slot *slots = realloc(w->slots, cap * sizeof(*slots));
        if (!slots) {
            weft_err_set(err, -ENOMEM, "out of memory");
            return NULL;
        }
        w->slots = slots;
        w->slot_cap = cap;
    }
    return &w->slots[w->slot_count++];
}

int etcd_grpc_watch_add(struct etcd_grpc_watch *w, const char *key, const char *range_end,
                        int64_t start_revision, int64_t *id, struct weft_err *err)
{
    if (!key || !key[0] || start_revision < 0)
        return weft_err_set(err, -EINVAL, "etcd watch: %s",
                            !key || !key[0] ? "empty key" : "negative start revision");
    char *end = NULL;
    size_t key_len = strlen(key);
    if (!range_end) { /* the prefix: key with its last byte below 0xff plus one */
        end = strdup(key);
        if (!end)
            return weft_err_set(err, -ENOMEM, "out of memory");
        size_t n = key_len;
        while (n > 0 && (uint8_t)end[n - 1] == 0xff)
            n--;
        if (n == 0) {
            free(end);
            return weft_err_set(err, -EINVAL, "etcd watch: no prefix range for key %s", key);
        }
        end[n - 1]++;
        end[n] = '\0';
    }
    Weftetcd__WatchCreateRequest create = WEFTETCD__WATCH_CREATE_REQUEST__INIT;
    create.key = (ProtobufCBinaryData){key_len, (uint8_t *)key};
    const char *re = range_end ? range_end : end;
    create.range_end = (ProtobufCBinaryData){strlen(re), (uint8_t *)re};
    create.start_revision = start_revision;
    Weftetcd__WatchRequest req = WEFTETCD__WATCH_REQUEST__INIT;
    req.request_union_case = WEFTETCD__WATCH_REQUEST__REQUEST_UNION_CREATE_REQUEST;
    req.create_request = &create;
    struct watch_slot *slot = slot_new(w, err);
    int rc = slot ? queue_request(w, &req, err) : -1;
    free(end);
    if (rc < 0) {
        if (slot)
            w->slot_count--;
        return -1;
    }
    *slot = (struct watch_slot){.id = ++w->next_id, .server_id = -1, .state = SLOT_PENDING};
    *id = slot->id;
    return 0;
}

static int send_cancel(struct etcd_grpc_watch *w, int64_t server_id, struct weft_err *err)
{
    Weftetcd__WatchCancelRequest cancel = WEFTETCD__WATCH_CANCEL_REQUEST__INIT;
    cancel.watch_id = server_id;
    Weftetcd__WatchRequest req = WEFTETCD__WATCH_REQUEST__INIT;
    req.request_union_case = WEFTETCD__WATCH_REQUEST__REQUEST_UNION_CANCEL_REQUEST;
    req.cancel_request = &cancel;
    return queue_request(w, &req, err);
}

int etcd_grpc_watch_cancel(struct etcd_grpc_watch *w, int64_t id, struct weft_err *err)
{
    struct watch_slot *slot = slot_by_id(w, id);
    if (!slot)
        return weft_err_set(err, -ENOENT, "etcd watch %lld: no such watch on this stream",
                            (long long)id);
    if (slot->state == SLOT_PENDING) {
        slot->cancel_wanted = true;
        return 0;
    }
    return send_cancel(w, slot->server_id, err);
}

int etcd_grpc_watch_progress(struct etcd_grpc_watch *w, struct weft_err *err)
{
    Weftetcd__WatchProgressRequest progress = WEFTETCD__WATCH_PROGRESS_REQUEST__INIT;
    Weftetcd__WatchRequest req = WEFTETCD__WATCH_REQUEST__INIT;
    req.request_union_case = WEFTETCD__WATCH_REQUEST__REQUEST_UNION_PROGRESS_REQUEST;
    req.progress_request = &progress;
    return queue_request(w, &req, err);
}

bool etcd_grpc_watch_ended(const struct etcd_grpc_watch *w)
{
    return w->ended;
}

/* ---- answers in ---- */

static void deliver(struct etcd_grpc_watch *w, struct etcd_grpc_answer *a)
{
    if (!a->reason)
        a->reason = "";
    w->fn(w->ctx, a);
}

static int deliver_events(struct etcd_grpc_watch *w, struct etcd_grpc_answer *a,
                          const Weftetcd__WatchResponse *r)
{
    struct etcd_grpc_event *events = calloc(r->n_events, sizeof(*events));
    if (!events)
        return weft_err_set(&w->failure, -ENOMEM, "out of memory");
    for (size_t i = 0; i < r->n_events; i++) {
        const Weftetcd__Event *e = r->events[i];
        const Weftetcd__KeyValue *kv = e->kv;
        if (!kv) {
            free(events);
            return weft_err_set(&w->failure, -EPROTO, "etcd watch: an event without a key");
        }
        events[i] = (struct etcd_grpc_event){
            .deleted = e->type == WEFTETCD__EVENT__EVENT_TYPE__DELETE,
            .key = (const char *)kv->key.data,
            .key_len = kv->key.len,
            .value = kv->value.data ? (const char *)kv->value.data : "",
            .value_len = kv->value.len,
            .create_revision = kv->create_revision,
            .mod_revision = kv->mod_revision,
        };
    }
    a->kind = ETCD_GRPC_EVENTS;
    a->events = events;
    a->event_count = r->n_events;
    deliver(w, a);
    free(events);
    return 0;
}

/* A "created" answer: the oldest pending watch is now in place (or was refused). */
static int on_created(struct etcd_grpc_watch *w, struct etcd_grpc_answer *a,
                      const Weftetcd__WatchResponse *r)
{
    struct watch_slot *slot = slot_first_pending(w);
    if (!slot)
        return weft_err_set(&w->failure, -EPROTO, "etcd watch: a watch created that was not asked for");
    a->watch = slot->id;
    if (r->canceled) { /* refused: an empty range, a bad revision, no permission */
        slot->state = SLOT_GONE;
        a->kind = ETCD_GRPC_CANCELED;
        a->reason = r->cancel_reason && r->cancel_reason[0] ? r->cancel_reason : "refused";
        deliver(w, a);
        return 0;
    }
    slot->state = SLOT_ACTIVE;
    slot->server_id = r->watch_id;
    a->kind = ETCD_GRPC_CREATED;
    deliver(w, a);
    if (slot->cancel_wanted) {
        slot->cancel_wanted = false;
        return send_cancel(w, slot->server_id, &w->failure);
    }
    return 0;
}

static int on_response(struct etcd_grpc_watch *w, const Weftetcd__WatchResponse *r)
{
    struct etcd_grpc_answer a = {.watch = -1, .grpc_status = -1};
    a.revision = r->header ? r->header->revision : 0;
    if (r->created)
        return on_created(w, &a, r);
    if (r->watch_id == -1 && !r->canceled && r->n_events == 0) {
        a.kind = ETCD_GRPC_PROGRESS;
        deliver(w, &a);
        return 0;
    }
    struct watch_slot *slot = slot_by_server_id(w, r->watch_id);
    if (!slot) /* a watch cancelled by us may still have had events under way */
        return 0;
    a.watch = slot->id;
    if (r->n_events > 0 && deliver_events(w, &a, r) < 0)
        return -1;
    if (r->canceled) {
        slot->state = SLOT_GONE;
        a = (struct etcd_grpc_answer){.kind = ETCD_GRPC_CANCELED, .watch = slot->id,
                                      .revision = a.revision, .grpc_status = -1,
                                      .compact_revision = r->compact_revision,
                                      .reason = r->cancel_reason};
        deliver(w, &a);
    } else if (r->n_events == 0) { /* a watch's own progress notification */
        a.kind = ETCD_GRPC_PROGRESS;
        deliver(w, &a);
    }
    return 0;
}

/* Decodes and delivers every whole frame in `in`, keeping the rest. */
static int drain_frames(struct etcd_grpc_watch *w)
{
    size_t off = 0;
    int rc = 0;
    while (rc == 0 && w->in.len - off >= FRAME_HEADER) {
        const uint8_t *p = (const uint8_t *)w->in.data + off;
        uint32_t len = (uint32_t)p[1] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 8 | p[4];
        if (p[0] != 0)
            rc = weft_err_set(&w->failure, -EPROTO, "etcd watch: a compressed answer (never asked for)");
        else if (len > FRAME_MAX)
            rc = weft_err_set(&w->failure, -EMSGSIZE, "etcd watch: an answer of %u bytes", len);
        if (rc < 0 || w->in.len - off < FRAME_HEADER + (size_t)len)
            break;
        Weftetcd__WatchResponse *r = weftetcd__watch_response__unpack(NULL, len, p + FRAME_HEADER);
        if (!r)
            rc = weft_err_set(&w->failure, -EPROTO, "etcd watch: an answer that is not a WatchResponse");
        else
            rc = on_response(w, r);
        weftetcd__watch_response__free_unpacked(r, NULL);
        off += FRAME_HEADER + len;
    }
    weft_buf_consume(&w->in, off);
    return rc;
}

static size_t write_cb(char *data, size_t size, size_t nmemb, void *userp)
{
    struct etcd_grpc_watch *w = userp;
    size_t n = size * nmemb;
    if (weft_buf_append(&w->in, data, n, &w->failure) < 0 || drain_frames(w) < 0)
        return 0; /* ends the transfer: the failure is reported at its end */
    return n;
}

/* "grpc-status: 0" and "grpc-message: ..." among headers or trailers. */
static size_t header_cb(char *line, size_t size, size_t nitems, void *userp)
{
    struct etcd_grpc_watch *w = userp;
    size_t n = size * nitems, len = n;
    while (len > 0 && (line[len - 1] == '\r' || line[len - 1] == '\n'))
        len--;
    if (len > 12 && strncasecmp(line, "grpc-status:", 12) == 0)
        w->grpc_status = atoi(line + 12);
    else if (len > 13 && strncasecmp(line, "grpc-message:", 13) == 0) {
        size_t skip = 13;
        while (skip < len && line[skip] == ' ')
            skip++;
        snprintf(w->grpc_message, sizeof(w->grpc_message), "%.*s", (int)(len - skip), line + skip);
    }
    return n;
}

/* ---- the end of a stream ---- */

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

static void stream_finished(struct etcd_grpc_watch *w, CURLcode cc)
{
    struct etcd_grpc_answer a = {.kind = ETCD_GRPC_STREAM_END, .watch = -1,
                                 .grpc_status = w->grpc_status};
    char reason[WEFT_ERR_MAX + 64];
    long http = 0;
    curl_easy_getinfo(w->h, CURLINFO_RESPONSE_CODE, &http);
    if (w->failure.code) {
        a.code = w->failure.code;
        snprintf(reason, sizeof(reason), "%s", w->failure.msg);
    } else if (cc != CURLE_OK) {
        a.code = curl_code_errno(cc);
        snprintf(reason, sizeof(reason), "etcd watch stream: %s",
                 w->errbuf[0] ? w->errbuf : curl_easy_strerror(cc));
    } else if (w->grpc_status > 0) {
        a.code = w->grpc_status == 16 || w->grpc_status == 7 ? -EACCES : -EIO;
        snprintf(reason, sizeof(reason), "etcd watch stream: grpc-status %d: %s", w->grpc_status,
                 w->grpc_message);
    } else if (http != 200) {
        a.code = -EPROTO;
        snprintf(reason, sizeof(reason), "etcd watch stream: HTTP status %ld (not a gRPC server?)",
                 http);
    } else {
        a.code = -EPIPE;
        snprintf(reason, sizeof(reason), "etcd watch stream: ended by the server (grpc-status %d)",
                 w->grpc_status);
    }
    a.reason = reason;
    w->ended = true;
    deliver(w, &a);
}

int etcd_grpc_loop_run(struct etcd_grpc_loop *loop, int timeout_ms, struct weft_err *err)
{
    int running = 0;
    CURLMcode mc = curl_multi_perform(loop->multi, &running);
    if (mc == CURLM_OK)
        mc = curl_multi_poll(loop->multi, NULL, 0, timeout_ms, NULL);
    if (mc == CURLM_OK)
        mc = curl_multi_perform(loop->multi, &running);
    if (mc != CURLM_OK)
        return weft_err_set(err, -EIO, "etcd watch loop: %s", curl_multi_strerror(mc));
    CURLMsg *msg;
    int left;
    while ((msg = curl_multi_info_read(loop->multi, &left))) {
        if (msg->msg != CURLMSG_DONE)
            continue;
        struct etcd_grpc_watch *w = NULL;
        curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&w);
        if (w && !w->ended)
            stream_finished(w, msg->data.result);
    }
    return 0;
}

/* ---- open and close ---- */

int etcd_grpc_loop_new(struct etcd_grpc_loop **out, bool separate_connections,
                       struct weft_err *err)
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

void etcd_grpc_loop_free(struct etcd_grpc_loop *loop)
{
    if (!loop)
        return;
    curl_multi_cleanup(loop->multi);
    free(loop);
}

static int build_headers(struct etcd_grpc_watch *w, const char *token, struct weft_err *err)
{
    const char *fixed[] = {"Content-Type: application/grpc", "TE: trailers", "Expect:",
                           "User-Agent: weft-grpc"};
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

static void set_options(struct etcd_grpc_watch *w, const struct etcd_grpc_config *c,
                        const char *url)
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
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, write_cb);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, w);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, header_cb);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, w);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, 2000L);
    curl_easy_setopt(h, CURLOPT_TCP_NODELAY, 1L);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, c->tls ? "https" : "http");
    curl_easy_setopt(h, CURLOPT_HTTP_VERSION,
                     c->tls ? CURL_HTTP_VERSION_2TLS : CURL_HTTP_VERSION_2_PRIOR_KNOWLEDGE);
    if (c->tls) {
        if (c->ca_file)
            curl_easy_setopt(h, CURLOPT_CAINFO, c->ca_file);
        if (c->cert_file) {
            curl_easy_setopt(h, CURLOPT_SSLCERT, c->cert_file);
            curl_easy_setopt(h, CURLOPT_SSLKEY, c->key_file);
        }
    }
}

int etcd_grpc_watch_open(struct etcd_grpc_loop *loop, const struct etcd_grpc_config *config,
                         etcd_grpc_watch_fn fn, void *ctx, struct etcd_grpc_watch **out,
                         struct weft_err *err)
{
    if (!config->endpoint || !config->endpoint[0] || !fn)
        return weft_err_set(err, -EINVAL, "etcd watch: no endpoint or no callback");
    char url[320];
    if (snprintf(url, sizeof(url), "%s://%s/etcdserverpb.Watch/Watch",
                 config->tls ? "https" : "http", config->endpoint) >= (int)sizeof(url))
        return weft_err_set(err, -EINVAL, "etcd watch: endpoint too long");
    struct etcd_grpc_watch *w = calloc(1, sizeof(*w));
    if (!w)
        return weft_err_set(err, -ENOMEM, "out of memory");
    *w = (struct etcd_grpc_watch){.loop = loop, .fn = fn, .ctx = ctx, .grpc_status = -1};
    if (!(w->h = curl_easy_init())) {
        weft_err_set(err, -ENOMEM, "out of memory");
        goto undo_alloc;
    }
    if (build_headers(w, config->token, err) < 0)
        goto undo_handle;
    set_options(w, config, url);
    if (curl_multi_add_handle(loop->multi, w->h) != CURLM_OK) {
        weft_err_set(err, -ENOMEM, "etcd watch: curl refused the stream");
        goto undo_handle;
    }
    *out = w;
    return 0;
undo_handle:
    curl_slist_free_all(w->headers);
    curl_easy_cleanup(w->h);
undo_alloc:
    free(w);
    return -1;
}

void etcd_grpc_watch_close(struct etcd_grpc_watch *w)
{
    if (!w)
        return;
    curl_multi_remove_handle(w->loop->multi, w->h);
    curl_easy_cleanup(w->h);
    curl_slist_free_all(w->headers);
    weft_buf_free(&w->out);
    weft_buf_free(&w->in);
    free(w->slots);
    free(w);
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
