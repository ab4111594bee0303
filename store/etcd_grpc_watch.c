/*
 * etcd_grpc_watch.c: the watches of a gRPC Watch stream (see the header), and what
 * a resume does to them. Callers: the public API (add, cancel, progress: any
 * thread) and etcd_grpc_answer.c / etcd_grpc_stream.c (the loop thread), all
 * through etcd_grpc_internal.h.
 *
 * Watch ids: etcd names a watch by an id it picks (a grpc-proxy picks its own). etcd
 * answers the creates of one stream in the order sent, but a grpc-proxy does not: it
 * answers a create that joins a watch it holds at once, and one it must open on etcd
 * when etcd answers (taking answers in send order, a watch was handed another's
 * events). So one create is on its way at a time: each watch gets our id at once,
 * waits in state PENDING, its create is sent when the one before it is answered, and
 * it takes the id of that "created" answer. The
 * table keeps live watches only: one cancelled (or refused) is removed when etcd
 * says so. Each keeps its key and range and the revision a re-add starts from, so
 * a resumed stream re-adds them in table order (which is creation order).
 *
 * A request is a frame put on `out` under the stream's lock; the loop's next pass
 * hands it to curl (curl_multi_wakeup tells it there is something).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "store/etcd.h"
#include "store/etcd_grpc_internal.h"

struct watch_slot *grpc_slot_in_flight_locked(struct etcd_grpc_watch *w)
{
    for (size_t i = 0; i < w->slot_count; i++)
        if (w->slots[i].state == SLOT_PENDING && w->slots[i].create_sent)
            return &w->slots[i];
    return NULL;
}

/* Sends the create of the first watch waiting for it, in table (creation) order. */
static int send_first_waiting_locked(struct etcd_grpc_watch *w, struct weft_err *err)
{
    for (size_t i = 0; i < w->slot_count; i++) {
        struct watch_slot *s = &w->slots[i];
        if (s->state != SLOT_PENDING)
            continue;
        if (grpc_frame_create(&w->out, s->key, s->range_end, s->next_rev, err) < 0)
            return -1;
        s->create_sent = true;
        grpc_frame_queued_locked(w);
        return 0;
    }
    return 0;
}

/* The next create, when none is on its way. Not on a stream that is down: its resume
 * re-adds them all. */
int grpc_send_next_create_locked(struct etcd_grpc_watch *w, struct weft_err *err)
{
    if (w->down || grpc_slot_in_flight_locked(w))
        return 0;
    return send_first_waiting_locked(w, err);
}

struct watch_slot *grpc_slot_by_server_id_locked(struct etcd_grpc_watch *w, int64_t server_id)
{
    for (size_t i = 0; i < w->slot_count; i++)
        if (w->slots[i].state == SLOT_ACTIVE && w->slots[i].server_id == server_id)
            return &w->slots[i];
    return NULL;
}

static struct watch_slot *slot_by_id_locked(struct etcd_grpc_watch *w, int64_t id)
{
    for (size_t i = 0; i < w->slot_count; i++)
        if (w->slots[i].id == id)
            return &w->slots[i];
    return NULL;
}

/* Frees the slot and closes the gap, keeping the order creates were sent in. */
void grpc_slot_remove_locked(struct etcd_grpc_watch *w, struct watch_slot *slot)
{
    size_t i = (size_t)(slot - w->slots);
    free(slot->key); /* and its range_end, in the same block */
    memmove(&w->slots[i], &w->slots[i + 1], (w->slot_count - i - 1) * sizeof(*slot));
    w->slot_count--;
}

static struct watch_slot *slot_new_locked(struct etcd_grpc_watch *w, struct weft_err *err)
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

void grpc_frame_queued_locked(struct etcd_grpc_watch *w)
{
    if (w->send_paused)
        w->unpause_wanted = true;
}

/* After a request was queued (lock released): the loop may be asleep in poll. */
static void wake_loop(struct etcd_grpc_watch *w)
{
    curl_multi_wakeup(w->loop->multi);
}

static int add_locked(struct etcd_grpc_watch *w, char *key_and_end, int64_t start_revision,
                      int64_t *id, struct weft_err *err)
{
    if (w->ended)
        return weft_err_set(err, -EPIPE, "etcd watch stream: already ended");
    struct watch_slot *slot = slot_new_locked(w, err);
    if (!slot)
        return -1;
    *slot = (struct watch_slot){.id = ++w->next_id,
                                .server_id = -1,
                                .state = SLOT_PENDING,
                                .key = key_and_end,
                                .range_end = key_and_end + strlen(key_and_end) + 1,
                                .next_rev = start_revision};
    if (grpc_send_next_create_locked(w, err) < 0) {
        w->slot_count--; /* the last: nothing was sent for it */
        return -1;
    }
    *id = w->slots[w->slot_count - 1].id;
    return 0;
}

/* key and its range end in one block (a member of a large overlay holds a watch per
 * member host): "key\0range_end\0"; without a range end, key's prefix end, made in
 * place from a second copy of key. */
static char *key_and_end_new(const char *key, const char *range_end, struct weft_err *err)
{
    const char *end = range_end ? range_end : key;
    size_t key_len = strlen(key), end_len = strlen(end);
    char *both = malloc(key_len + end_len + 2);
    if (!both) {
        weft_err_set(err, -ENOMEM, "out of memory");
        return NULL;
    }
    memcpy(both, key, key_len + 1);
    memcpy(both + key_len + 1, end, end_len + 1);
    if (!range_end && etcd_prefix_end_in_place(both + key_len + 1) == 0) {
        weft_err_set(err, -EINVAL, "etcd watch: no prefix range for key %s", key);
        free(both);
        return NULL;
    }
    return both;
}

int etcd_grpc_watch_add(struct etcd_grpc_watch *w, const char *key, const char *range_end,
                        int64_t start_revision, int64_t *id, struct weft_err *err)
{
    if (!key || !key[0] || start_revision < 0)
        return weft_err_set(err, -EINVAL, "etcd watch: %s",
                            !key || !key[0] ? "empty key" : "negative start revision");
    char *key_and_end = key_and_end_new(key, range_end, err);
    if (!key_and_end)
        return -1;
    pthread_mutex_lock(&w->lock);
    int rc = add_locked(w, key_and_end, start_revision, id, err);
    pthread_mutex_unlock(&w->lock);
    if (rc < 0) {
        free(key_and_end);
        return -1;
    }
    wake_loop(w);
    return 0;
}

int etcd_grpc_watch_cancel(struct etcd_grpc_watch *w, int64_t id, struct weft_err *err)
{
    int rc = 0;
    pthread_mutex_lock(&w->lock);
    struct watch_slot *slot = slot_by_id_locked(w, id);
    if (!slot)
        rc = weft_err_set(err, -ENOENT, "etcd watch %lld: no such watch on this stream",
                          (long long)id);
    else if (slot->state == SLOT_ACTIVE && !w->down &&
             (rc = grpc_frame_cancel(&w->out, slot->server_id, err)) == 0)
        grpc_frame_queued_locked(w);
    if (rc == 0 && slot) /* also once sent: a resume before etcd's answer drops it */
        slot->cancel_wanted = true;
    pthread_mutex_unlock(&w->lock);
    if (rc == 0)
        wake_loop(w);
    return rc;
}

int etcd_grpc_watch_progress(struct etcd_grpc_watch *w, struct weft_err *err)
{
    int rc;
    pthread_mutex_lock(&w->lock);
    if (w->ended)
        rc = weft_err_set(err, -EPIPE, "etcd watch stream: already ended");
    else if (w->down)
        rc = weft_err_set(err, -EAGAIN, "etcd watch stream: resuming, ask again after it");
    else if ((rc = grpc_frame_progress(&w->out, err)) == 0)
        grpc_frame_queued_locked(w);
    pthread_mutex_unlock(&w->lock);
    if (rc == 0)
        wake_loop(w);
    return rc;
}

bool etcd_grpc_watch_ended(const struct etcd_grpc_watch *w)
{
    struct etcd_grpc_watch *m = (struct etcd_grpc_watch *)w; /* the lock, not the state */
    pthread_mutex_lock(&m->lock);
    bool ended = m->ended;
    pthread_mutex_unlock(&m->lock);
    return ended;
}

int grpc_slots_readd_locked(struct etcd_grpc_watch *w, int64_t **gone, size_t *gone_n,
                            struct weft_err *err)
{
    *gone = NULL;
    *gone_n = 0;
    weft_buf_clear(&w->out);
    w->send_paused = w->unpause_wanted = false;
    for (size_t i = 0; i < w->slot_count;) {
        struct watch_slot *s = &w->slots[i];
        if (s->cancel_wanted) { /* asked to end: not created again, gone now */
            int64_t *more = realloc(*gone, (*gone_n + 1) * sizeof(**gone));
            if (!more)
                return weft_err_set(err, -ENOMEM, "out of memory");
            *gone = more;
            (*gone)[(*gone_n)++] = s->id;
            grpc_slot_remove_locked(w, s);
            continue;
        }
        s->state = SLOT_PENDING;
        s->create_sent = false;
        s->server_id = -1;
        i++;
    }
    return send_first_waiting_locked(w, err); /* still down: the caller brings it up */
}

void grpc_slots_free_locked(struct etcd_grpc_watch *w)
{
    for (size_t i = 0; i < w->slot_count; i++)
        free(w->slots[i].key); /* and its range_end */
    free(w->slots);
    w->slots = NULL;
    w->slot_count = w->slot_cap = 0;
}
