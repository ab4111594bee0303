/*
 * etcd_grpc_answer.c: what comes back on a gRPC Watch stream (etcd_grpc_internal.h).
 *
 * Owns curl's write and header callbacks of a stream (the loop thread): answers
 * come in pieces of any size and gather in `in` until a whole frame is there
 * (etcd_grpc_codec.c cuts and unpacks it); each WatchResponse is matched to its
 * watch and delivered to the stream's callback. grpc-status and grpc-message come
 * as trailers (or as headers, for an answer with no body).
 *
 * The watch table is read and changed under the stream's lock, which is released
 * before every delivery (a callback may add or cancel); nothing found under the
 * lock is used after it is released, only copies (ids).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/etcd_grpc_internal.h"

void grpc_deliver(struct etcd_grpc_watch *w, struct etcd_grpc_answer *a)
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
    grpc_deliver(w, a);
    free(events);
    return 0;
}

/* A "created" answer: the watch whose create was on its way is now in place (or was
 * refused), and the next watch's create goes out. */
static int on_created(struct etcd_grpc_watch *w, struct etcd_grpc_answer *a,
                      const Weftetcd__WatchResponse *r)
{
    pthread_mutex_lock(&w->lock);
    struct watch_slot *slot = grpc_slot_in_flight_locked(w);
    if (!slot) {
        pthread_mutex_unlock(&w->lock);
        return weft_err_set(&w->failure, -EPROTO,
                            "etcd watch: a watch created that was not asked for");
    }
    a->watch = slot->id;
    if (r->canceled) { /* refused: an empty range, a bad revision, no permission */
        grpc_slot_remove_locked(w, slot);
        int rc = grpc_send_next_create_locked(w, &w->failure);
        pthread_mutex_unlock(&w->lock);
        a->kind = ETCD_GRPC_CANCELED;
        a->reason = r->cancel_reason && r->cancel_reason[0] ? r->cancel_reason : "refused";
        grpc_deliver(w, a);
        return rc;
    }
    slot->state = SLOT_ACTIVE;
    slot->server_id = r->watch_id;
    if (slot->next_rev == 0) /* from now: now is this revision */
        slot->next_rev = a->revision + 1;
    bool tell = !slot->told_created;
    slot->told_created = true;
    int rc = 0;
    if (slot->cancel_wanted) { /* asked while pending: sent now */
        if ((rc = grpc_frame_cancel(&w->out, slot->server_id, &w->failure)) == 0)
            grpc_frame_queued_locked(w);
    }
    if (rc == 0)
        rc = grpc_send_next_create_locked(w, &w->failure);
    w->attempts = 0;
    pthread_mutex_unlock(&w->lock);
    if (tell) {
        a->kind = ETCD_GRPC_CREATED;
        grpc_deliver(w, a);
    }
    return rc;
}

/* etcd refuses an empty key, so an event without one is not from etcd (and its NULL
 * key data would reach the consumer's copies). */
static bool events_have_keys(const Weftetcd__WatchResponse *r)
{
    for (size_t i = 0; i < r->n_events; i++)
        if (!r->events[i]->kv || r->events[i]->kv->key.len == 0 || !r->events[i]->kv->key.data)
            return false;
    return true;
}

static int on_response(struct etcd_grpc_watch *w, const Weftetcd__WatchResponse *r)
{
    struct etcd_grpc_answer a = {.watch = -1, .grpc_status = -1};
    a.revision = r->header ? r->header->revision : 0;
    if (r->created)
        return on_created(w, &a, r);
    if (r->watch_id == -1 && !r->canceled && r->n_events == 0) {
        a.kind = ETCD_GRPC_PROGRESS;
        grpc_deliver(w, &a);
        return 0;
    }
    if (!events_have_keys(r))
        return weft_err_set(&w->failure, -EPROTO, "etcd watch: an event without a key");
    pthread_mutex_lock(&w->lock);
    struct watch_slot *slot = grpc_slot_by_server_id_locked(w, r->watch_id);
    if (!slot) { /* a watch cancelled by us may still have had events under way */
        pthread_mutex_unlock(&w->lock);
        return 0;
    }
    a.watch = slot->id;
    if (r->n_events > 0) /* a resume starts after the last event delivered */
        slot->next_rev = r->events[r->n_events - 1]->kv->mod_revision + 1;
    if (r->canceled)
        grpc_slot_remove_locked(w, slot);
    pthread_mutex_unlock(&w->lock);
    if (r->n_events > 0 && deliver_events(w, &a, r) < 0)
        return -1;
    if (r->canceled) {
        a = (struct etcd_grpc_answer){.kind = ETCD_GRPC_CANCELED,
                                      .watch = a.watch,
                                      .revision = a.revision,
                                      .grpc_status = -1,
                                      .compact_revision = r->compact_revision,
                                      .reason = r->cancel_reason};
        grpc_deliver(w, &a);
    } else if (r->n_events == 0) { /* a watch's own progress notification */
        a.kind = ETCD_GRPC_PROGRESS;
        grpc_deliver(w, &a);
    }
    return 0;
}

/* Decodes and delivers every whole frame in `in`, keeping the rest. */
static int drain_frames(struct etcd_grpc_watch *w)
{
    size_t off = 0;
    int rc = 0;
    Weftetcd__WatchResponse *r = NULL;
    while (rc == 0 && grpc_frame_next(&w->in, &off, &r, &w->failure) == 1) {
        rc = on_response(w, r);
        weftetcd__watch_response__free_unpacked(r, NULL);
        r = NULL;
    }
    if (w->failure.code)
        rc = -1;
    weft_buf_consume(&w->in, off);
    return rc;
}

size_t grpc_write_cb(char *data, size_t size, size_t nmemb, void *userp)
{
    struct etcd_grpc_watch *w = userp;
    size_t n = size * nmemb;
    if (weft_buf_append(&w->in, data, n, &w->failure) < 0 || drain_frames(w) < 0)
        return 0; /* ends the transfer: the failure is reported at its end */
    return n;
}

/* "grpc-status: 0" and "grpc-message: ..." among headers or trailers. */
size_t grpc_header_cb(char *line, size_t size, size_t nitems, void *userp)
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
