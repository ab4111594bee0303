/*
 * etcd_watch.c: list+watch of a prefix on a background thread (see etcd.h).
 *
 * Owns one thread and one streaming curl handle per watch. The thread lists
 * the prefix (SYNC_BEGIN, PUT..., SYNC_END at revision R), then streams
 * POST /v3/watch from R + 1, splitting the chunked answer on newlines. A broken
 * stream resumes from the last revision seen + 1; compaction, cancellation or
 * an outage sends it back to a fresh list. Callers: etcd_watch_start/stop only.
 */
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/buf.h"
#include "common/clock.h"
#include "store/etcd_status.h"
#include "common/log.h"
#include "store/etcd_internal.h"

#define BACKOFF_MIN_MS 200
#define BACKOFF_MAX_MS 2000
/* A stream that stays up this long counts as healthy: its breaking is news, not a loop. */
#define HEALTHY_STREAM_MS 1000
/* How long no member may take a watch before it counts as an outage (about two elections). */
#define OUTAGE_GRACE_MS 2500
/* etcd sends progress notifications only every 10 minutes; an idle stream is recycled
 * after this long without a byte, which costs one reconnect and loses nothing. */
#define IDLE_STREAM_S 60L

enum stream_outcome {
    STREAM_STOPPED,     /* etcd_watch_stop asked */
    STREAM_BROKEN,      /* was watching, connection ended: resume from last + 1 */
    STREAM_RESYNC,      /* compacted or canceled: list again */
    STREAM_UNREACHABLE, /* no member would start a watch */
};

struct etcd_watch {
    struct etcd_watch_grpc *grpc; /* set: the gRPC adapter does the work, nothing below */
    struct etcd *etcd;            /* borrowed; must outlive the watch */
    char *prefix;
    etcd_watch_fn fn;
    void *ctx;
    pthread_t thread;
    atomic_bool stop;
    pthread_mutex_t lock; /* with cond: interruptible sleeps */
    pthread_cond_t cond;
    CURL *stream;
    size_t member;            /* index of the member streamed from */
    size_t current_at_create; /* etcd->current when the stream started */

    /* Touched only by the watch thread. */
    struct weft_buf stream_buf; /* bytes of the stream up to an unfinished line */
    struct etcd_kv *batch_kvs;  /* events read but not yet delivered: their strings */
    struct etcd_event *batch_events;
    size_t batch_count, batch_cap;
    int64_t last_rev; /* every event up to here has been delivered */
    bool created, resync, stream_failed;
    bool token_expired; /* etcd refused the stream's token: get a new one, resume */
    unsigned token_generation;
    char errbuf[CURL_ERROR_SIZE]; /* the stream handle's error buffer */
    long attempt_started_ms;      /* when the current member was asked for the stream */
    atomic_long grace_ms;         /* out of reach this long: an outage (OUTAGE_GRACE_MS) */
    bool announce;                /* the last stream ended: say where the next one runs */
    char stream_error[256];
    /* For other threads (etcd_watch_progress, `weft status`): last_rev as of the last
     * read, and whether a stream is open. Written by the watch thread only. */
    _Atomic int64_t published_rev;
    atomic_bool streaming;
};

static void deliver_one(struct etcd_watch *w, enum etcd_event_type type, int64_t revision)
{
    struct etcd_event ev = {.type = type, .revision = revision};
    w->fn(w->ctx, &ev, 1);
}

/* Hands the events read so far to the consumer in one call. */
static void flush_batch(struct etcd_watch *w)
{
    if (w->batch_count == 0)
        return;
    w->fn(w->ctx, w->batch_events, w->batch_count);
    for (size_t i = 0; i < w->batch_count; i++)
        etcd_kv_clear(&w->batch_kvs[i]);
    w->batch_count = 0;
}

/* Takes kv's strings into the pending batch (the event points at them).
 * -1 when out of memory: kv is then still the caller's. */
static int batch_append(struct etcd_watch *w, struct etcd_kv *kv, bool is_delete)
{
    if (w->batch_count == w->batch_cap) {
        size_t cap = w->batch_cap ? w->batch_cap * 2 : 64;
        struct etcd_kv *kvs = realloc(w->batch_kvs, cap * sizeof(*kvs));
        if (!kvs)
            return -1;
        w->batch_kvs = kvs;
        struct etcd_event *events = realloc(w->batch_events, cap * sizeof(*events));
        if (!events)
            return -1;
        w->batch_events = events;
        w->batch_cap = cap;
    }
    w->batch_kvs[w->batch_count] = *kv;
    w->batch_events[w->batch_count] =
        (struct etcd_event){.type = is_delete ? ETCD_EVENT_DELETE : ETCD_EVENT_PUT,
                            .key = kv->key,
                            .value = is_delete ? NULL : kv->value,
                            .revision = kv->mod_revision,
                            .create_revision = is_delete ? 0 : kv->create_revision};
    w->batch_count++;
    return 0;
}

/* Called about once a second during a stream: ends it when the watch is stopped, or when
 * one-shot requests have since failed over to another member than ours (ours may be hung,
 * and a silent stream would otherwise look idle for a long time). */
static int stream_progress(void *clientp, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                           curl_off_t ulnow)
{
    (void)dltotal, (void)dlnow, (void)ultotal, (void)ulnow;
    struct etcd_watch *w = clientp;
    if (atomic_load(&w->stop))
        return 1;
    /* Until etcd says the watch is created this is a request like any other, and gets
     * the request timeout: a member that took the connection but does not answer is
     * left for the next, not waited on for the idle limit. */
    long timeout = atomic_load(&w->etcd->timeout_ms);
    if (!w->created && clock_monotonic_ms() - w->attempt_started_ms > timeout) {
        snprintf(w->stream_error, sizeof(w->stream_error),
                 "no answer to the watch request within %ld ms", timeout);
        return 1;
    }
    size_t current = atomic_load(&w->etcd->current);
    if (w->created && current != w->current_at_create && current != w->member) {
        snprintf(w->stream_error, sizeof(w->stream_error), "store requests moved to %s",
                 w->etcd->members[current % w->etcd->member_count]);
        return 1;
    }
    return 0;
}

/* Dead peers (power loss, partition) must end a stream in seconds, not the kernel's
 * default of minutes: curl sets idle and interval, we add the probe count. */
static int stream_sockopt(void *clientp, curl_socket_t fd, curlsocktype purpose)
{
    (void)clientp;
    if (purpose == CURLSOCKTYPE_IPCXN) {
        int count = 3;
        unsigned int user_timeout_ms = 15000;
        setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &count, sizeof(count));
        setsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &user_timeout_ms, sizeof(user_timeout_ms));
    }
    return CURL_SOCKOPT_OK;
}

/* Sleeps ms, returning early when the watch is stopped. */
static void watch_sleep(struct etcd_watch *w, long ms)
{
    clock_sleep_unless(&w->lock, &w->cond, &w->stop, ms);
}

/* Step 1: the whole prefix as SYNC_BEGIN, PUT..., SYNC_END. */
static int watch_list(struct etcd_watch *w, struct weft_err *err)
{
    return etcd_list_prefix(w->etcd, w->prefix, &w->stop, w->fn, w->ctx, &w->last_rev, err);
}

/* Queues a watch message's events for the consumer. -1 (the stream must end and
 * the prefix be listed again) when one could not be decoded or held: skipping it
 * would leave the consumer without that change while last_rev says it was delivered. */
static int handle_events(struct etcd_watch *w, json_t *events)
{
    size_t i;
    json_t *event;
    json_array_foreach(events, i, event)
    {
        struct etcd_kv kv;
        if (etcd_kv_from_json(json_object_get(event, "kv"), &kv) < 0) {
            /* Skipping it would lose that change for good, as if the event never came:
             * list the prefix again instead, which tells the consumer the whole state. */
            snprintf(w->stream_error, sizeof(w->stream_error), "undecodable watch event");
            w->resync = true;
            return -1;
        }
        const char *type = json_string_value(json_object_get(event, "type"));
        bool is_delete = type && strcmp(type, "DELETE") == 0; /* a PUT has no "type" */
        if (batch_append(w, &kv, is_delete) < 0) {
            /* No room to hold it: deliver what is pending, then room is there again. */
            flush_batch(w);
            if (batch_append(w, &kv, is_delete) < 0) {
                etcd_kv_clear(&kv);
                snprintf(w->stream_error, sizeof(w->stream_error),
                         "out of memory holding a watch event");
                w->resync = true;
                return -1;
            }
        }
        if (kv.mod_revision > w->last_rev)
            w->last_rev = kv.mod_revision;
    }
    return 0;
}

/* One line of the stream. Returns -1 to end the stream. */
static int handle_line(struct etcd_watch *w, const char *line, size_t len)
{
    json_t *json = json_loadb(line, len, 0, NULL);
    if (!json) {
        snprintf(w->stream_error, sizeof(w->stream_error), "undecodable watch answer");
        return -1;
    }
    int rc = 0;
    json_t *result = json_object_get(json, "result");
    json_t *error = json_object_get(json, "error");
    if (!result) {
        const char *msg = etcd_json_reason(error, "message");
        snprintf(w->stream_error, sizeof(w->stream_error), "%s", msg ? msg : "watch error");
        rc = -1;
    } else if (json_is_true(json_object_get(result, "canceled")) &&
               strstr(json_string_value(json_object_get(result, "cancel_reason")) ?: "",
                      "invalid auth token")) {
        /* Refused at creation for an expired token: nothing was missed, resume. */
        snprintf(w->stream_error, sizeof(w->stream_error), "the store's token expired");
        w->token_expired = true;
        rc = -1;
    } else if (json_is_true(json_object_get(result, "canceled")) ||
               etcd_json_int64(result, "compact_revision") > 0) {
        /* etcd leaves a canceled watch's response open: end it and list afresh. */
        const char *reason = json_string_value(json_object_get(result, "cancel_reason"));
        snprintf(w->stream_error, sizeof(w->stream_error),
                 "watch canceled%s%s (compacted at %" PRId64 ")", reason ? ": " : "",
                 reason ? reason : "", etcd_json_int64(result, "compact_revision"));
        w->resync = true;
        rc = -1;
    } else if (json_is_true(json_object_get(result, "created"))) {
        w->created = true;
        w->current_at_create = atomic_load(&w->etcd->current);
        if (w->announce)
            log_info("store watch streaming again", "prefix=%s member=%s revision=%" PRId64,
                     w->prefix, w->etcd->members[w->member], w->last_rev + 1);
        w->announce = false;
    } else {
        json_t *events = json_object_get(result, "events");
        if (json_array_size(events) > 0) {
            rc = handle_events(w, events);
        } else {
            /* A progress notification: nothing for us up to the header revision. */
            int64_t rev = etcd_json_int64(json_object_get(result, "header"), "revision");
            if (rev > w->last_rev)
                w->last_rev = rev;
        }
    }
    json_decref(json);
    return rc;
}

static size_t stream_write(char *data, size_t size, size_t nmemb, void *userdata)
{
    struct etcd_watch *w = userdata;
    struct weft_buf *buf = &w->stream_buf;
    size_t n = size * nmemb;
    if (weft_buf_append(buf, data, n, NULL) < 0) { /* the failure is told here instead */
        snprintf(w->stream_error, sizeof(w->stream_error),
                 "out of memory holding %zu bytes of the watch stream", buf->len + n);
        return 0; /* aborts the transfer */
    }
    long status = 0;
    curl_easy_getinfo(w->stream, CURLINFO_RESPONSE_CODE, &status);
    if (status != 200) {
        if (etcd_auth_token_invalid(status, buf->data, buf->len))
            w->token_expired = true;
        return buf->len < 65536 ? n : 0; /* keep the error body for the message */
    }
    /* Chunks do not follow object boundaries: handle complete lines only. */
    size_t done = 0;
    char *nl;
    while ((nl = memchr(buf->data + done, '\n', buf->len - done))) {
        size_t line_len = (size_t)(nl - (buf->data + done));
        if (line_len > 0 && handle_line(w, buf->data + done, line_len) < 0) {
            flush_batch(w);
            w->stream_failed = true;
            return 0; /* aborts the transfer */
        }
        done += line_len + 1;
    }
    flush_batch(w);
    weft_buf_consume(buf, done);
    atomic_store(&w->published_rev, w->last_rev);
    atomic_store(&w->streaming, w->created);
    return n;
}

/* Runs the stream on member m (the request is set on the handle) until it ends. -1
 * when out of memory for its headers. */
static int stream_perform(struct etcd_watch *w, size_t m, CURLcode *cc, struct weft_err *err)
{
    struct etcd *etcd = w->etcd;
    CURL *h = w->stream;
    char url[512];
    snprintf(url, sizeof(url), "%s://%s/v3/watch", etcd_scheme(etcd), etcd->members[m]);
    curl_easy_setopt(h, CURLOPT_URL, url);
    w->member = m;
    weft_buf_clear(&w->stream_buf);
    w->created = w->resync = w->stream_failed = w->token_expired = false;
    w->errbuf[0] = '\0';
    w->stream_error[0] = '\0';
    w->attempt_started_ms = clock_monotonic_ms();
    /* When the prober finds this member silent it shuts the stream's socket: the
     * stream ends at once and resumes from last_rev + 1 on a live member. */
    struct etcd_socket_owner owner = {&etcd->health, m, etcd_health_dead(&etcd->health, m)};
    etcd_health_perform_on(h, &owner);
    struct curl_slist *own;
    if (etcd_auth_headers(etcd, h, "/v3/watch", &own, &w->token_generation, err) < 0)
        return -1;
    *cc = curl_easy_perform(h);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, etcd->headers); /* own is freed */
    curl_slist_free_all(own);
    return 0;
}

/* The stream handle's options for one watch request (body: text, borrowed). */
static void stream_setup(struct etcd_watch *w, const char *text)
{
    CURL *h = w->stream;
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, text);
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(text));
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, stream_write);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, w);
    curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, stream_progress);
    curl_easy_setopt(h, CURLOPT_XFERINFODATA, w);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS,
                     etcd_connect_timeout_ms(w->etcd, atomic_load(&w->etcd->timeout_ms)));
    curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, IDLE_STREAM_S);
}

/* Step 2: one watch stream from last_rev + 1, on the first member that takes it. */
static enum stream_outcome watch_stream(struct etcd_watch *w, struct weft_err *err)
{
    struct etcd *etcd = w->etcd;
    char start_rev[32];
    snprintf(start_rev, sizeof(start_rev), "%" PRId64, w->last_rev + 1);
    json_t *body = json_pack("{s:{s:o, s:o, s:s, s:b}}", "create_request", "key",
                             etcd_json_b64(w->prefix, strlen(w->prefix)), "range_end",
                             etcd_json_range_end(w->prefix), "start_revision", start_rev,
                             "progress_notify", 1);
    char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
    json_decref(body);
    if (!text) {
        weft_err_set(err, -ENOMEM, "out of memory building the watch request");
        return STREAM_UNREACHABLE;
    }
    CURL *h = w->stream;
    stream_setup(w, text);
    char failures[WEFT_ERR_MAX - 64] = "";
    bool trusted = true; /* no member failed TLS trust */
    enum stream_outcome outcome = STREAM_UNREACHABLE;
    size_t order[etcd->member_count];
    etcd_member_order(etcd, order); /* a member the prober found silent comes last */
    for (size_t i = 0; i < etcd->member_count; i++) {
        size_t m = order[i];
        if (etcd_health_skip(&etcd->health, order, etcd->member_count, i))
            continue; /* found silent since the order was made */
        const char *member = etcd->members[m];
        CURLcode cc;
        if (stream_perform(w, m, &cc, err) < 0)
            break;
        if (atomic_load(&w->stop)) {
            outcome = STREAM_STOPPED;
            break;
        }
        long status = 0;
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
        const char *why = w->stream_error[0] ? w->stream_error : curl_easy_strerror(cc);
        if (status != 200 && status != 0) {
            snprintf(w->stream_error, sizeof(w->stream_error), "HTTP status %ld", status);
            why = w->stream_error;
        }
        if (w->token_expired) {
            /* Resumed from last_rev + 1 with a new token: no event is lost. */
            etcd_auth_refresh(etcd, w->token_generation, err);
            weft_err_set(err, -EACCES, "(%s): the store's token expired", member);
            outcome = STREAM_BROKEN;
            break;
        }
        if (cc != CURLE_OK && etcd_tls_failure(etcd, member, cc, w->errbuf, err) < 0) {
            snprintf(w->stream_error, sizeof(w->stream_error), "%.200s", err->msg);
            why = w->stream_error;
            trusted = false;
        }
        if (w->created || w->resync) {
            if (!etcd_health_dead(&etcd->health, m)) /* requests need not try it first */
                atomic_store(&etcd->current, m);
            weft_err_set(err, -EIO, "(%s): %s", member, cc == CURLE_OK ? "stream ended" : why);
            outcome = w->resync ? STREAM_RESYNC : STREAM_BROKEN;
            break;
        }
        size_t used = strlen(failures);
        snprintf(failures + used, sizeof(failures) - used, "%s(%s): %s", used ? "; " : "", member,
                 why);
    }
    if (outcome == STREAM_UNREACHABLE)
        weft_err_set(err, trusted ? -ETIMEDOUT : -EKEYREJECTED, "%s%s",
                     trusted ? "store unreachable " : "", failures);
    free(text);
    /* The handle must not point at freed memory between streams. */
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, NULL);
    return outcome;
}

static void *watch_main(void *arg)
{
    struct etcd_watch *w = arg;
    bool need_list = true, disconnected = false;
    long backoff = BACKOFF_MIN_MS;
    long outage_since = 0; /* when streams began failing; 0: they work */
    while (!atomic_load(&w->stop)) {
        struct weft_err err = {0};
        if (need_list) {
            if (watch_list(w, &err) < 0) {
                if (atomic_load(&w->stop))
                    break;
                if (!disconnected) {
                    log_warn("store watch disconnected", "prefix=%s error=\"%s\"", w->prefix,
                             err.msg);
                    deliver_one(w, ETCD_EVENT_DISCONNECTED, 0);
                    disconnected = true;
                }
                watch_sleep(w, backoff);
                backoff = backoff * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : backoff * 2;
                continue;
            }
            if (disconnected)
                log_info("store watch resynced", "prefix=%s revision=%" PRId64, w->prefix,
                         w->last_rev);
            need_list = false;
            atomic_store(&w->published_rev, w->last_rev);
        }
        long started = clock_monotonic_ms();
        enum stream_outcome outcome = watch_stream(w, &err);
        atomic_store(&w->streaming, false);
        bool healthy = w->created && clock_monotonic_ms() - started >= HEALTHY_STREAM_MS;
        if (w->created) {
            disconnected = false;
            outage_since = 0;
            if (healthy)
                backoff = BACKOFF_MIN_MS;
        }
        switch (outcome) {
        case STREAM_STOPPED:
            break;
        case STREAM_BROKEN:
            w->announce = true;
            log_info("store watch stream ended, resuming",
                     "prefix=%s revision=%" PRId64 " error=\"%s\"", w->prefix, w->last_rev + 1,
                     err.msg);
            break;
        case STREAM_RESYNC:
            log_info("store watch must list again", "prefix=%s error=\"%s\"", w->prefix, err.msg);
            need_list = true;
            break;
        case STREAM_UNREACHABLE:
            /* A short gap (a leader election, a member restarting) is bridged by resuming
             * from last + 1. A longer one is an outage: history we missed may be
             * compacted by the time we are back, so list afresh. */
            if (!outage_since)
                outage_since = clock_monotonic_ms();
            if (clock_monotonic_ms() - outage_since < atomic_load(&w->grace_ms))
                break;
            need_list = true;
            if (!disconnected) {
                log_warn("store watch disconnected", "prefix=%s error=\"%s\"", w->prefix, err.msg);
                deliver_one(w, ETCD_EVENT_DISCONNECTED, 0);
                disconnected = true;
            }
            break;
        }
        if (outcome == STREAM_STOPPED)
            break;
        if (!healthy) {
            long grace_left =
                outage_since ? outage_since + atomic_load(&w->grace_ms) - clock_monotonic_ms() : 0;
            /* Wake for the end of the grace period rather than oversleep it. */
            watch_sleep(w, grace_left > 0 && grace_left < backoff ? grace_left : backoff);
            backoff = backoff * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : backoff * 2;
        }
    }
    return NULL;
}

void etcd_watch_grace_ms(struct etcd_watch *watch, long grace_ms)
{
    if (watch->grpc)
        etcd_watch_grpc_grace_ms(watch->grpc, grace_ms);
    else
        atomic_store(&watch->grace_ms, grace_ms > 0 ? grace_ms : OUTAGE_GRACE_MS);
}

void etcd_watch_progress(const struct etcd_watch *watch, int64_t *revision, bool *streaming)
{
    if (watch->grpc)
        return etcd_watch_grpc_progress(watch->grpc, revision, streaming);
    *revision = atomic_load(&watch->published_rev);
    *streaming = atomic_load(&watch->streaming);
}

static void watch_free(struct etcd_watch *w)
{
    if (w->stream)
        curl_easy_cleanup(w->stream);
    pthread_cond_destroy(&w->cond);
    pthread_mutex_destroy(&w->lock);
    for (size_t i = 0; i < w->batch_count; i++)
        etcd_kv_clear(&w->batch_kvs[i]);
    free(w->batch_kvs);
    free(w->batch_events);
    weft_buf_free(&w->stream_buf);
    free(w->prefix);
    free(w);
}

int etcd_watch_start(struct etcd *etcd, const char *prefix, etcd_watch_fn fn, void *ctx,
                     struct etcd_watch **out, struct weft_err *err)
{
    *out = NULL;
    struct etcd_watch *w = calloc(1, sizeof(*w));
    if (!w)
        return weft_err_set(err, -ENOMEM, "out of memory");
    if (etcd->watch_grpc) {
        if (etcd_watch_grpc_start(etcd, prefix, fn, ctx, &w->grpc, err) < 0) {
            free(w);
            return -1;
        }
        *out = w;
        return 0;
    }
    w->etcd = etcd;
    w->fn = fn;
    w->ctx = ctx;
    atomic_init(&w->stop, false);
    atomic_init(&w->grace_ms, OUTAGE_GRACE_MS);
    pthread_mutex_init(&w->lock, NULL);
    clock_cond_init_monotonic(&w->cond);
    w->prefix = strdup(prefix);
    w->stream = etcd_handle_new(etcd);
    if (!w->prefix || !w->stream) {
        watch_free(w);
        return weft_err_set(err, -ENOMEM, "out of memory");
    }
    curl_easy_setopt(w->stream, CURLOPT_SOCKOPTFUNCTION, stream_sockopt);
    curl_easy_setopt(w->stream, CURLOPT_TCP_KEEPIDLE, 5L);
    curl_easy_setopt(w->stream, CURLOPT_TCP_KEEPINTVL, 2L);
    curl_easy_setopt(w->stream, CURLOPT_ERRORBUFFER, w->errbuf);
    int rc = pthread_create(&w->thread, NULL, watch_main, w);
    if (rc != 0) {
        watch_free(w);
        return weft_err_set(err, -rc, "starting the store watch thread: %s", strerror(rc));
    }
    *out = w;
    return 0;
}

void etcd_watch_stop(struct etcd_watch *w)
{
    if (!w)
        return;
    if (w->grpc) {
        etcd_watch_grpc_stop(w->grpc);
        free(w);
        return;
    }
    pthread_mutex_lock(&w->lock);
    atomic_store(&w->stop, true);
    pthread_cond_broadcast(&w->cond);
    pthread_mutex_unlock(&w->lock);
    pthread_join(w->thread, NULL);
    watch_free(w);
}
