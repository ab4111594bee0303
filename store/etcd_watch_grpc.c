/*
 * etcd_watch_grpc.c: the list+watch of etcd.h (etcd_watch_start) over etcd's gRPC
 * Watch API (etcd_grpc_watch.h) instead of the JSON gateway (etcd_watch.c), chosen
 * by etcd_config.watch_grpc (`weft daemon --store-watch grpc`, issue 18).
 *
 * Owns one thread, one gRPC loop and one stream on it carrying one watch. The
 * consumer sees what etcd_watch.c gives: the prefix listed through the gateway client
 * (SYNC_BEGIN, PUT..., SYNC_END at revision R, one batch), then the watch from R + 1,
 * each answer's events one batch. The gRPC client resumes a broken stream itself from
 * the revision after the last event (on the next endpoint); a watch etcd cancels for
 * compaction, or a stream that ends for good, sends this thread back to a fresh list.
 * A stream refused for the token (an expired one carried into a resume) gets a new
 * token and reopens from the last revision + 1, without a list. DISCONNECTED is told
 * once when no stream has been up for OUTAGE_GRACE_MS, and then the prefix is listed
 * again once the store answers, as etcd_watch.c does. Callers: etcd_watch.c only.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "common/log.h"
#include "store/etcd_grpc_watch.h"
#include "store/etcd_internal.h"

#define BACKOFF_MIN_MS 200
#define BACKOFF_MAX_MS 2000
#define OUTAGE_GRACE_MS 2500 /* as etcd_watch.c: about two elections */
#define LOOP_WAIT_MS 200     /* how long etcd_watch_stop may wait for the loop */
#define RESUME_MS 200        /* the gRPC client's first backoff before a resume */
#define PROBE_MS 1000        /* while not known to stream: ask for progress this often */
/* A stream that has said nothing this long is asked for progress; when its endpoint has
 * answered progress before and does not within SILENT_MS, the stream is taken for
 * hung (seen once in three runs after a TLS etcd's restart: no end was ever told) and
 * reopened from the last revision + 1. An endpoint that never answers progress (a
 * proxy that does not pass it on) is not judged by it. */
#define IDLE_PROBE_MS 5000
#define SILENT_MS 3000

struct etcd_watch_grpc {
    struct etcd *etcd; /* borrowed; must outlive the watch */
    char *prefix;
    char *endpoints; /* etcd_config.watch_endpoints; NULL: the store's members */
    etcd_watch_fn fn;
    void *ctx;
    pthread_t thread;
    atomic_bool stop;
    pthread_mutex_t lock; /* with cond: interruptible sleeps */
    pthread_cond_t cond;

    /* Touched only by the watch thread (the gRPC callback runs on it). */
    struct etcd_grpc_loop *loop;
    struct etcd_grpc_watch *stream;
    int64_t id;       /* the watch's id on stream */
    int64_t last_rev; /* every event up to here has been delivered */
    unsigned token_generation;
    bool need_list, reopen, refresh_token, answered, disconnected;
    long down_since;     /* when the stream was last known down; 0: up */
    long probed_at;      /* when progress was last asked */
    long probe_pending;  /* when the unanswered progress request was sent; 0: none */
    long last_answer_ms; /* when the stream last said anything */
    bool progress_works; /* the stream's endpoint has answered a progress request */
    char why[256];       /* why the stream must be reopened */

    /* For etcd_watch_progress (`weft status`); written by the watch thread only. */
    _Atomic int64_t published_rev;
    atomic_bool streaming;
};

static void watch_sleep(struct etcd_watch_grpc *w, long ms)
{
    clock_sleep_unless(&w->lock, &w->cond, &w->stop, ms);
}

/* The whole prefix as SYNC_BEGIN, PUT..., SYNC_END, through the gateway client. */
static int watch_list(struct etcd_watch_grpc *w, struct weft_err *err)
{
    if (etcd_list_prefix(w->etcd, w->prefix, &w->stop, w->fn, w->ctx, &w->last_rev, err) < 0)
        return -1;
    atomic_store(&w->published_rev, w->last_rev);
    return 0;
}

/* One answer's events to the consumer, as one batch of NUL-terminated strings. */
static void deliver_events(struct etcd_watch_grpc *w, const struct etcd_grpc_answer *a)
{
    size_t bytes = 0;
    for (size_t i = 0; i < a->event_count; i++)
        bytes += a->events[i].key_len + a->events[i].value_len + 2;
    struct etcd_event *events = calloc(a->event_count, sizeof(*events));
    char *text = malloc(bytes);
    if (!events || !text) {
        /* Skipping them would lose these changes: list again, which tells everything. */
        free(events);
        free(text);
        snprintf(w->why, sizeof(w->why), "out of memory holding %zu watch events", a->event_count);
        w->need_list = w->reopen = true;
        return;
    }
    char *at = text;
    for (size_t i = 0; i < a->event_count; i++) {
        const struct etcd_grpc_event *e = &a->events[i];
        char *key = at, *value = at + e->key_len + 1;
        memcpy(key, e->key, e->key_len);
        key[e->key_len] = '\0';
        memcpy(value, e->value, e->value_len);
        value[e->value_len] = '\0';
        at = value + e->value_len + 1;
        events[i] = (struct etcd_event){.type = e->deleted ? ETCD_EVENT_DELETE : ETCD_EVENT_PUT,
                                        .key = key,
                                        .value = e->deleted ? NULL : value,
                                        .revision = e->mod_revision,
                                        .create_revision = e->deleted ? 0 : e->create_revision};
        if (e->mod_revision > w->last_rev)
            w->last_rev = e->mod_revision;
    }
    w->fn(w->ctx, events, a->event_count);
    free(events);
    free(text);
    atomic_store(&w->published_rev, w->last_rev);
}

static void stream_up(struct etcd_watch_grpc *w)
{
    if (w->disconnected)
        log_info("store watch streaming again", "prefix=%s transport=grpc revision=%" PRId64,
                 w->prefix, w->last_rev + 1);
    w->disconnected = false;
    w->down_since = 0;
    w->answered = true;
    atomic_store(&w->streaming, true);
}

static void stream_down(struct etcd_watch_grpc *w)
{
    if (!w->down_since)
        w->down_since = clock_monotonic_ms();
    atomic_store(&w->streaming, false);
}

/* The gRPC client's callback, on the watch thread, inside etcd_grpc_loop_run. */
static void on_answer(void *ctx, const struct etcd_grpc_answer *a)
{
    struct etcd_watch_grpc *w = ctx;
    if (a->watch != -1 && a->watch != w->id)
        return;           /* an earlier watch of this stream, already given up */
    w->probe_pending = 0; /* anything at all, or a resume, answers the question */
    w->last_answer_ms = clock_monotonic_ms();
    w->progress_works |= a->kind == ETCD_GRPC_PROGRESS;
    switch (a->kind) {
    case ETCD_GRPC_CREATED:
        stream_up(w);
        /* Whether this endpoint answers progress, for probe() to judge it later. */
        struct weft_err err = {0};
        if (etcd_grpc_watch_progress(w->stream, &err) == 0)
            w->probe_pending = w->last_answer_ms;
        break;
    case ETCD_GRPC_PROGRESS:
        stream_up(w);
        break;
    case ETCD_GRPC_EVENTS:
        stream_up(w);
        deliver_events(w, a);
        break;
    case ETCD_GRPC_CANCELED:
        stream_down(w);
        w->reopen = true;
        w->need_list = a->compact_revision > 0;
        w->refresh_token = strstr(a->reason, "auth") || strstr(a->reason, "permission");
        if (a->compact_revision > 0)
            snprintf(w->why, sizeof(w->why), "watch canceled: compacted at %" PRId64,
                     a->compact_revision);
        else
            snprintf(w->why, sizeof(w->why), "watch canceled: %.200s",
                     a->reason[0] ? a->reason : "no reason given");
        break;
    case ETCD_GRPC_RESUMING:
        w->progress_works = false; /* the next endpoint may be another kind */
        if (!w->down_since)
            log_info("store watch stream ended, resuming",
                     "prefix=%s transport=grpc revision=%" PRId64 " error=\"%s\"", w->prefix,
                     w->last_rev + 1, a->reason);
        stream_down(w);
        break;
    case ETCD_GRPC_STREAM_END:
        stream_down(w);
        w->reopen = true;
        w->refresh_token = a->code == -EACCES;
        w->need_list = !w->refresh_token; /* it did not resume: list, as after an outage */
        snprintf(w->why, sizeof(w->why), "%s", a->reason);
        break;
    }
}

/* The current token (a copy, NULL without a user) and its generation. */
static int take_token(struct etcd_watch_grpc *w, char **token, struct weft_err *err)
{
    struct etcd_auth *auth = &w->etcd->auth;
    pthread_mutex_lock(&auth->lock);
    w->token_generation = auth->generation;
    pthread_mutex_unlock(&auth->lock);
    return etcd_grpc_token(w->etcd, token, err);
}

/* A new stream from last_rev + 1 on the configured endpoints or the members. */
static int stream_open(struct etcd_watch_grpc *w, struct weft_err *err)
{
    char *members = NULL, *token = NULL;
    if ((!w->endpoints && etcd_grpc_endpoints(w->etcd, &members, err) < 0) ||
        take_token(w, &token, err) < 0) {
        free(members);
        return -1;
    }
    const struct etcd_tls *tls = &w->etcd->tls;
    const struct etcd_grpc_config config = {.endpoint = w->endpoints ? w->endpoints : members,
                                            .tls = tls->on,
                                            .ca_file = tls->ca_file,
                                            .cert_file = tls->cert_file,
                                            .key_file = tls->key_file,
                                            .token = token,
                                            .resume_ms = RESUME_MS};
    int rc = etcd_grpc_watch_open(w->loop, &config, on_answer, w, &w->stream, err);
    free(members);
    free(token);
    if (rc < 0)
        return -1;
    w->answered = w->progress_works = false;
    w->probed_at = w->last_answer_ms = clock_monotonic_ms();
    w->probe_pending = 0;
    if (etcd_grpc_watch_add(w->stream, w->prefix, NULL, w->last_rev + 1, &w->id, err) < 0) {
        etcd_grpc_watch_close(w->stream);
        w->stream = NULL;
        return -1;
    }
    return 0;
}

static void outage_check(struct etcd_watch_grpc *w, const char *error)
{
    if (w->disconnected || !w->down_since || clock_monotonic_ms() - w->down_since < OUTAGE_GRACE_MS)
        return;
    log_warn("store watch disconnected", "prefix=%s transport=grpc error=\"%s\"", w->prefix, error);
    struct etcd_event ev = {.type = ETCD_EVENT_DISCONNECTED};
    w->fn(w->ctx, &ev, 1);
    w->disconnected = true;
    /* As etcd_watch.c: the store was away for long, list afresh when it is back
     * (a resume would be told of compaction anyway; this keeps the two alike). */
    w->need_list = w->reopen = true;
    snprintf(w->why, sizeof(w->why), "%.200s", error);
}

/* Closes the stream, then lists (when asked) and opens a new one on a new loop.
 * -1: sleep, retry. */
static int restart(struct etcd_watch_grpc *w, struct weft_err *err)
{
    etcd_grpc_watch_close(w->stream);
    w->stream = NULL;
    /* A new loop, so no connection of the old one is reused: on etcd 3.4.23, a stream
     * opened on a loop whose stream was closed while resuming failed every resume with
     * "Error in the HTTP2 framing layer" (seen in tests/live/test_etcd_watch_grpc.c). */
    etcd_grpc_loop_free(w->loop);
    w->loop = NULL;
    if (etcd_grpc_loop_new(&w->loop, false, err) < 0)
        return -1;
    if (w->refresh_token && w->etcd->auth.user &&
        etcd_auth_refresh(w->etcd, w->token_generation, err) < 0)
        return -1;
    w->refresh_token = false;
    if (w->need_list && watch_list(w, err) < 0)
        return -1;
    w->need_list = false;
    if (stream_open(w, err) < 0)
        return -1;
    w->reopen = false;
    return 0;
}

/* Asks a quiet stream for progress: a PROGRESS answer tells a resumed stream is up,
 * and no answer from an endpoint that answers progress tells it is hung. */
static void probe(struct etcd_watch_grpc *w)
{
    long now = clock_monotonic_ms();
    if (w->reopen || !w->stream)
        return;
    if (w->probe_pending && now - w->probe_pending >= SILENT_MS) {
        w->probe_pending = 0;
        if (w->progress_works) {
            snprintf(w->why, sizeof(w->why), "no answer to a progress request in %d ms", SILENT_MS);
            stream_down(w);
            w->reopen = true;
        }
        return;
    }
    bool streaming = atomic_load(&w->streaming);
    if (w->probe_pending || now - (streaming ? w->last_answer_ms : w->probed_at) <
                                (streaming ? IDLE_PROBE_MS : PROBE_MS))
        return;
    struct weft_err err = {0};
    w->probed_at = now;
    if (etcd_grpc_watch_progress(w->stream, &err) == 0) /* -EAGAIN while it resumes */
        w->probe_pending = now;
}

static void *watch_main(void *arg)
{
    struct etcd_watch_grpc *w = arg;
    long backoff = BACKOFF_MIN_MS;
    w->need_list = w->reopen = true;
    w->down_since = clock_monotonic_ms();
    while (!atomic_load(&w->stop)) {
        struct weft_err err = {0};
        if (w->reopen) {
            if (w->stream && w->why[0])
                log_info(w->need_list ? "store watch must list again"
                                      : "store watch stream reopens",
                         "prefix=%s transport=grpc error=\"%s\"", w->prefix, w->why);
            bool was_answered = w->stream && w->answered;
            if (!was_answered && w->stream)
                watch_sleep(w, backoff); /* a stream that never answered: do not spin */
            if (atomic_load(&w->stop))
                break;
            w->why[0] = '\0';
            if (restart(w, &err) < 0) {
                if (atomic_load(&w->stop))
                    break;
                stream_down(w);
                outage_check(w, err.msg);
                watch_sleep(w, backoff);
                backoff = backoff * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : backoff * 2;
                continue;
            }
            if (was_answered)
                backoff = BACKOFF_MIN_MS;
        }
        if (etcd_grpc_loop_run(w->loop, LOOP_WAIT_MS, &err) < 0) {
            snprintf(w->why, sizeof(w->why), "%.200s", err.msg);
            w->reopen = true;
            continue;
        }
        if (w->answered)
            backoff = BACKOFF_MIN_MS;
        outage_check(w, "no stream to any endpoint");
        probe(w);
    }
    return NULL;
}

void etcd_watch_grpc_progress(const struct etcd_watch_grpc *w, int64_t *revision, bool *streaming)
{
    *revision = atomic_load(&w->published_rev);
    *streaming = atomic_load(&w->streaming);
}

static void watch_free(struct etcd_watch_grpc *w)
{
    etcd_grpc_watch_close(w->stream);
    etcd_grpc_loop_free(w->loop);
    pthread_cond_destroy(&w->cond);
    pthread_mutex_destroy(&w->lock);
    free(w->endpoints);
    free(w->prefix);
    free(w);
}

int etcd_watch_grpc_start(struct etcd *etcd, const char *prefix, etcd_watch_fn fn, void *ctx,
                          struct etcd_watch_grpc **out, struct weft_err *err)
{
    *out = NULL;
    struct etcd_watch_grpc *w = calloc(1, sizeof(*w));
    if (!w)
        return weft_err_set(err, -ENOMEM, "out of memory");
    *w = (struct etcd_watch_grpc){.etcd = etcd, .fn = fn, .ctx = ctx};
    atomic_init(&w->stop, false);
    atomic_init(&w->streaming, false);
    atomic_init(&w->published_rev, 0);
    pthread_mutex_init(&w->lock, NULL);
    clock_cond_init_monotonic(&w->cond);
    w->prefix = strdup(prefix);
    if (etcd->watch_endpoints)
        w->endpoints = strdup(etcd->watch_endpoints);
    if (!w->prefix || (etcd->watch_endpoints && !w->endpoints)) {
        watch_free(w);
        return weft_err_set(err, -ENOMEM, "out of memory");
    }
    int rc = pthread_create(&w->thread, NULL, watch_main, w);
    if (rc != 0) {
        watch_free(w);
        return weft_err_set(err, -rc, "starting the store watch thread: %s", strerror(rc));
    }
    *out = w;
    return 0;
}

void etcd_watch_grpc_stop(struct etcd_watch_grpc *w)
{
    if (!w)
        return;
    pthread_mutex_lock(&w->lock);
    atomic_store(&w->stop, true);
    pthread_cond_broadcast(&w->cond);
    pthread_mutex_unlock(&w->lock);
    pthread_join(w->thread, NULL);
    watch_free(w);
}
