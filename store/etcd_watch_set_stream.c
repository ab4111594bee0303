/*
 * etcd_watch_set_stream.c: the gRPC stream of a watch set (etcd_watch_set_internal.h):
 * what comes back on it, opening it again, and telling an outage.
 *
 * The gRPC client (etcd_grpc_watch.h) resumes a broken stream by itself, re-adding
 * every watch from the revision after its last event, so a stream that breaks costs
 * no listing. What it cannot mend comes here: a watch etcd cancels for compaction
 * (that prefix lists again), a token refused (a new token, the stream reopened, every
 * prefix watched from its last revision + 1), a stream that ended for good (every
 * prefix listed, as after an outage), a stream that stops answering (reopened). No
 * stream up for the grace tells DISCONNECTED once, and every prefix is listed again.
 * All of it runs on the set's thread, inside etcd_grpc_loop_run or between its calls.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "common/log.h"
#include "store/etcd_pacing.h"
#include "store/etcd_watch_set_internal.h"

#define RESUME_MS 200 /* the gRPC client's first backoff before a resume */
#define PROBE_MS 1000 /* while not known to stream: ask for progress this often */
/* A stream that has said nothing for etcd_pacing_watch_idle_probe_ms (5 s, longer in a
 * cluster of over 100 hosts) is asked for progress; when its endpoint has answered
 * progress before and does not within SILENT_MS, the stream is taken for hung (seen
 * once in three runs after a TLS etcd's restart: no end was ever told) and reopened,
 * every prefix from its last revision + 1. An endpoint that never answers progress (a
 * proxy that does not pass it on) is not judged by it. */
#define SILENT_MS 3000

/* One answer's events to the consumer, as one batch of NUL-terminated strings. */
static void deliver_events(struct etcd_watch_set *s, struct set_entry *e,
                           const struct etcd_grpc_answer *a)
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
        log_warn("store watch must list again", "prefix=%s error=\"out of memory holding %zu "
                 "watch events\"", e->prefix, a->event_count);
        struct weft_err err = {0};
        etcd_grpc_watch_cancel(s->stream, e->id, &err);
        e->id = 0;
        e->need_list = true;
        return;
    }
    char *at = text;
    for (size_t i = 0; i < a->event_count; i++) {
        const struct etcd_grpc_event *g = &a->events[i];
        char *key = at, *value = at + g->key_len + 1;
        memcpy(key, g->key, g->key_len);
        key[g->key_len] = '\0';
        memcpy(value, g->value, g->value_len);
        value[g->value_len] = '\0';
        at = value + g->value_len + 1;
        events[i] = (struct etcd_event){.type = g->deleted ? ETCD_EVENT_DELETE : ETCD_EVENT_PUT,
                                        .key = key,
                                        .value = g->deleted ? NULL : value,
                                        .revision = g->mod_revision,
                                        .create_revision = g->deleted ? 0 : g->create_revision};
        if (g->mod_revision > e->last_rev)
            e->last_rev = g->mod_revision;
    }
    set_deliver(s, e, events, a->event_count);
    free(events);
    free(text);
    if (e->last_rev > atomic_load(&s->published_rev))
        atomic_store(&s->published_rev, e->last_rev);
}

static void stream_up(struct etcd_watch_set *s)
{
    if (s->disconnected)
        log_info("store watch streaming again", "transport=grpc prefixes=%zu",
                 set_live_count(s));
    s->disconnected = false;
    s->down_since = 0;
    s->answered = true;
    atomic_store(&s->streaming, true);
}

void set_stream_down(struct etcd_watch_set *s)
{
    if (!s->down_since)
        s->down_since = clock_monotonic_ms();
    atomic_store(&s->streaming, false);
}

/* A watch ended that was not asked to: compaction lists that prefix again, a refused
 * token reopens the stream with a new one, anything else (a refusal of that prefix)
 * watches it again after a backoff. */
static void on_canceled(struct etcd_watch_set *s, struct set_entry *e,
                        const struct etcd_grpc_answer *a)
{
    e->id = 0;
    if (a->compact_revision > 0) {
        log_info("store watch must list again",
                 "prefix=%s transport=grpc error=\"watch canceled: compacted at %" PRId64 "\"",
                 e->prefix, a->compact_revision);
        e->need_list = true;
        return;
    }
    /* etcd 3.4.23 says "rpc error: code = Unauthenticated desc = etcdserver: invalid
     * auth token" for a token it does not know (an expired one, or after a restart),
     * "... PermissionDenied desc = etcdserver: permission denied" for a prefix the user
     * may not read: that one alone waits and tries again, the stream stays. */
    if (strstr(a->reason, "auth") || strstr(a->reason, "token")) {
        /* The store answered: the grace starts again for the stream with a new token
         * (after a restart the refusal came 1.3 to 2.1 s into the outage, and the new
         * stream's handshake then ran past the grace: DISCONNECTED and a listing). */
        s->down_since = clock_monotonic_ms();
        atomic_store(&s->streaming, false);
        s->refresh_token = s->reopen = true;
        snprintf(s->why, sizeof(s->why), "watch of %.100s canceled: %.100s", e->prefix,
                 a->reason);
        return;
    }
    if (!e->backoff) /* the first of a row */
        log_warn("store watch canceled, watching again", "prefix=%s transport=grpc "
                 "error=\"%.200s\"", e->prefix, a->reason[0] ? a->reason : "no reason given");
    e->backoff = e->backoff ? e->backoff * 2 : SET_BACKOFF_MIN_MS;
    if (e->backoff > SET_BACKOFF_MAX_MS)
        e->backoff = SET_BACKOFF_MAX_MS;
    e->not_before = clock_monotonic_ms() + e->backoff;
}

/* What concerns the whole stream: progress, a resume, its end. */
static void on_stream_answer(struct etcd_watch_set *s, const struct etcd_grpc_answer *a)
{
    switch (a->kind) {
    case ETCD_GRPC_PROGRESS:
        stream_up(s);
        break;
    case ETCD_GRPC_RESUMING:
        s->progress_works = false; /* the next endpoint may be another kind */
        if (!s->down_since)
            log_info("store watch stream ended, resuming",
                     "transport=grpc prefixes=%zu error=\"%s\"", set_live_count(s), a->reason);
        set_stream_down(s);
        break;
    case ETCD_GRPC_STREAM_END:
        set_stream_down(s);
        s->reopen = true;
        s->refresh_token = a->code == -EACCES;
        s->relist_all |= !s->refresh_token; /* it did not resume: list, as after an outage */
        snprintf(s->why, sizeof(s->why), "%s", a->reason);
        break;
    default:
        break;
    }
}

void set_on_answer(void *ctx, const struct etcd_grpc_answer *a)
{
    struct etcd_watch_set *s = ctx;
    s->probe_pending = 0; /* anything at all, or a resume, answers the question */
    s->last_answer_ms = clock_monotonic_ms();
    s->progress_works |= a->kind == ETCD_GRPC_PROGRESS;
    if (a->watch == -1) {
        on_stream_answer(s, a);
        return;
    }
    struct set_entry *e = set_entry_by_id(s, a->watch);
    if (!e)
        return; /* a watch already given up (removed, or before a re-listing) */
    switch (a->kind) {
    case ETCD_GRPC_CREATED: {
        bool first = !s->answered;
        stream_up(s);
        e->backoff = 0;
        /* Whether this endpoint answers progress, for set_probe to judge it later. */
        struct weft_err err = {0};
        if (first && etcd_grpc_watch_progress(s->stream, &err) == 0)
            s->probe_pending = s->last_answer_ms;
        break;
    }
    case ETCD_GRPC_PROGRESS:
        stream_up(s);
        break;
    case ETCD_GRPC_EVENTS:
        stream_up(s);
        deliver_events(s, e, a);
        break;
    case ETCD_GRPC_CANCELED:
        on_canceled(s, e, a);
        break;
    default:
        break;
    }
}

/* The current token (a copy, NULL without a user) and its generation. */
static int take_token(struct etcd_watch_set *s, char **token, struct weft_err *err)
{
    struct etcd_auth *auth = &s->etcd->auth;
    pthread_mutex_lock(&auth->lock);
    s->token_generation = auth->generation;
    pthread_mutex_unlock(&auth->lock);
    return etcd_grpc_token(s->etcd, token, err);
}

/* A new stream, with no watch yet, on the configured endpoints or the members. */
static int stream_open(struct etcd_watch_set *s, struct weft_err *err)
{
    char *members = NULL, *token = NULL;
    if ((!s->endpoints && etcd_grpc_endpoints(s->etcd, &members, err) < 0) ||
        take_token(s, &token, err) < 0) {
        free(members);
        return -1;
    }
    const struct etcd_tls *tls = &s->etcd->tls;
    const struct etcd_grpc_config config = {.endpoint = s->endpoints ? s->endpoints : members,
                                            .tls = tls->on,
                                            .ca_file = tls->ca_file,
                                            .cert_file = tls->cert_file,
                                            .key_file = tls->key_file,
                                            .token = token,
                                            .resume_ms = RESUME_MS,
                                            .health = &s->etcd->health};
    int rc = etcd_grpc_watch_open(s->loop, &config, set_on_answer, s, &s->stream, err);
    free(members);
    free(token);
    if (rc < 0)
        return -1;
    s->answered = s->progress_works = false;
    s->probed_at = s->last_answer_ms = clock_monotonic_ms();
    s->probe_pending = 0;
    return 0;
}

void set_outage_check(struct etcd_watch_set *s, const char *error)
{
    long now = clock_monotonic_ms();
    if (s->down_since && set_live_count(s) == 0) {
        /* Nothing to watch, nothing missed: the grace starts with the first prefix (a
         * proxy that does not answer progress leaves an empty stream "down"). */
        s->down_since = now;
        return;
    }
    if (s->disconnected || !s->down_since || now - s->down_since < atomic_load(&s->grace_ms))
        return;
    log_warn("store watch disconnected", "transport=grpc prefixes=%zu error=\"%s\"",
             set_live_count(s), error);
    struct etcd_event ev = {.type = ETCD_EVENT_DISCONNECTED};
    set_deliver(s, NULL, &ev, 1);
    s->disconnected = true;
    /* As etcd_watch.c: the store was away for long, list afresh when it is back
     * (a resume would be told of compaction anyway; this keeps the two alike). */
    s->relist_all = s->reopen = true;
    snprintf(s->why, sizeof(s->why), "%.200s", error);
}

int set_restart(struct etcd_watch_set *s, struct weft_err *err)
{
    etcd_grpc_watch_close(s->stream);
    s->stream = NULL;
    /* A new loop, so no connection of the old one is reused: on etcd 3.4.23, a stream
     * opened on a loop whose stream was closed while resuming failed every resume with
     * "Error in the HTTP2 framing layer" (seen in tests/live/test_etcd_watch_grpc.c). */
    pthread_mutex_lock(&s->lock);
    struct etcd_grpc_loop *old = s->loop;
    s->loop = NULL;
    pthread_mutex_unlock(&s->lock);
    etcd_grpc_loop_free(old);
    struct etcd_grpc_loop *loop;
    if (etcd_grpc_loop_new(&loop, false, err) < 0)
        return -1;
    pthread_mutex_lock(&s->lock);
    s->loop = loop;
    pthread_mutex_unlock(&s->lock);
    if (s->refresh_token && s->etcd->auth.user) {
        /* At most one new token per backoff, whatever keeps refusing them. */
        long wait = s->token_refreshed_at + SET_BACKOFF_MAX_MS - clock_monotonic_ms();
        if (s->token_refreshed_at && wait > 0)
            set_sleep(s, wait);
        if (atomic_load(&s->stop))
            return weft_err_set(err, -ECANCELED, "store watch set: stopping");
        s->token_refreshed_at = clock_monotonic_ms();
        if (etcd_auth_refresh(s->etcd, s->token_generation, err) < 0)
            return -1;
    }
    s->refresh_token = false;
    set_entries_reset(s, s->relist_all);
    s->relist_all = false;
    if (stream_open(s, err) < 0)
        return -1;
    s->reopen = false;
    return 0;
}

void set_probe(struct etcd_watch_set *s)
{
    long now = clock_monotonic_ms();
    if (s->reopen || !s->stream)
        return;
    if (s->probe_pending && now - s->probe_pending >= SILENT_MS) {
        s->probe_pending = 0;
        if (s->progress_works) {
            snprintf(s->why, sizeof(s->why), "no answer to a progress request in %d ms", SILENT_MS);
            set_stream_down(s);
            s->reopen = true;
        }
        return;
    }
    bool streaming = atomic_load(&s->streaming);
    long idle_probe_ms = etcd_pacing_watch_idle_probe_ms(etcd_cluster_hosts(s->etcd));
    if (s->probe_pending || now - (streaming ? s->last_answer_ms : s->probed_at) <
                                (streaming ? idle_probe_ms : PROBE_MS))
        return;
    struct weft_err err = {0};
    s->probed_at = now;
    if (etcd_grpc_watch_progress(s->stream, &err) == 0) /* -EAGAIN while it resumes */
        s->probe_pending = now;
}
