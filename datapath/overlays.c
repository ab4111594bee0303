/*
 * overlays.c: the overlays one data path serves (datapath.h): their slots, the
 * VNI index the workers find a datagram's overlay in, and adding and removing
 * overlays while the workers run: queue i of an overlay's TAP joins or leaves
 * worker i's epoll set, and the slot changes under the table's write lock
 * (datapath_internal.h says who holds what when).
 */
#include <errno.h>
#include <string.h>
#include <sys/epoll.h>

#include "datapath/datapath_internal.h"

int overlay_table_init(struct overlay_table *t, struct weft_err *err)
{
    pthread_rwlockattr_t attr;
    int rc = pthread_rwlockattr_init(&attr);
    if (rc != 0)
        return weft_err_set(err, -rc, "setting up the data path's overlay lock: %s", strerror(rc));
    /* A writer waits only for the batches running now, not for every one to come. */
    rc = pthread_rwlockattr_setkind_np(&attr, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
    if (rc == 0)
        rc = pthread_rwlock_init(&t->lock, &attr);
    pthread_rwlockattr_destroy(&attr);
    if (rc != 0)
        return weft_err_set(err, -rc, "setting up the data path's overlay lock: %s", strerror(rc));
    rc = pthread_mutex_init(&t->owner_lock, NULL);
    if (rc != 0) {
        pthread_rwlock_destroy(&t->lock);
        return weft_err_set(err, -rc, "setting up the data path's overlay lock: %s", strerror(rc));
    }
    memset(t->slots, 0, sizeof(t->slots));
    for (unsigned h = 0; h < OVERLAY_INDEX_LEN; h++)
        t->by_vni[h] = -1;
    return 0;
}

void overlay_table_destroy(struct overlay_table *t)
{
    pthread_mutex_destroy(&t->owner_lock);
    pthread_rwlock_destroy(&t->lock);
}

/* The VNI index again from the used slots (under the write lock): a removal
 * leaves no hole in a probe sequence this way, and it is at most 512 entries. */
static void index_rebuild(struct overlay_table *t)
{
    for (unsigned h = 0; h < OVERLAY_INDEX_LEN; h++)
        t->by_vni[h] = -1;
    for (int s = 0; s < DATAPATH_MAX_OVERLAYS; s++) {
        if (!t->slots[s].used)
            continue;
        unsigned h = overlay_index_hash(t->slots[s].vni);
        while (t->by_vni[h] >= 0)
            h = (h + 1) & (OVERLAY_INDEX_LEN - 1);
        t->by_vni[h] = (int16_t)s;
    }
}

/* Slot s serves spec from now on (fill) or nothing any more (spec NULL). */
static void slot_set(struct overlay_table *t, int s, const struct datapath_overlay_spec *spec,
                     int nworkers)
{
    struct overlay_slot *slot = &t->slots[s];
    pthread_rwlock_wrlock(&t->lock);
    if (spec) {
        slot->used = true;
        slot->vni = spec->vni;
        memcpy(slot->tap_fds, spec->tap_fds, (size_t)nworkers * sizeof(int));
        slot->lookup = spec->lookup;
        slot->lookup_ctx = spec->lookup_ctx;
    } else {
        /* Events raised before this moment carry the old generation. */
        slot->used = false;
        slot->generation++;
        slot->lookup = NULL;
        slot->lookup_ctx = NULL;
    }
    index_rebuild(t);
    pthread_rwlock_unlock(&t->lock);
}

/* Takes the queues of slot s out of the epoll sets of workers [0, n). A queue a
 * worker dropped itself (its TAP went) is not there: that is fine. */
static void unwatch_queues(struct datapath *dp, int s, int n)
{
    for (int i = 0; i < n; i++)
        (void)epoll_ctl(dp->workers[i].epoll_fd, EPOLL_CTL_DEL, dp->overlays.slots[s].tap_fds[i],
                        NULL);
}

static int check_spec(const struct datapath *dp, const struct datapath_overlay_spec *spec,
                      struct weft_err *err)
{
    if (!spec || !spec->tap_fds || !spec->lookup)
        return weft_err_set(err, -EINVAL,
                            "an overlay of the data path needs TAP queues and a "
                            "lookup");
    for (int i = 0; i < dp->nworkers; i++)
        if (spec->tap_fds[i] < 0)
            return weft_err_set(err, -EINVAL, "overlay %u: TAP queue %d of %d is not open",
                                (unsigned)spec->vni, i, dp->nworkers);
    return 0;
}

static int free_slot(const struct overlay_table *t)
{
    for (int s = 0; s < DATAPATH_MAX_OVERLAYS; s++)
        if (!t->slots[s].used)
            return s;
    return -1;
}

int datapath_overlay_add(struct datapath *dp, const struct datapath_overlay_spec *spec,
                         struct weft_err *err)
{
    struct overlay_table *t = &dp->overlays;
    if (check_spec(dp, spec, err) < 0)
        return -1;
    pthread_mutex_lock(&t->owner_lock); /* the slots change only under it */
    int rc = 0, s = free_slot(t);
    if (overlay_find(t, spec->vni))
        rc = weft_err_set(err, -EEXIST, "the data path serves overlay %u already",
                          (unsigned)spec->vni);
    else if (s < 0)
        rc = weft_err_set(err, -ENOSPC, "the data path serves %d overlays, no more",
                          DATAPATH_MAX_OVERLAYS);
    if (rc < 0)
        goto out;
    slot_set(t, s, spec, dp->nworkers);
    struct epoll_event ev = {.events = EPOLLIN,
                             .data.u64 = event_tap((unsigned)s, t->slots[s].generation)};
    for (int i = 0; i < dp->nworkers; i++)
        if (epoll_ctl(dp->workers[i].epoll_fd, EPOLL_CTL_ADD, spec->tap_fds[i], &ev) < 0) {
            rc = weft_err_set(
                err, errno == EEXIST || errno == EBADF || errno == EPERM ? -EINVAL : -errno,
                "overlay %u: watching TAP queue %d: %s", (unsigned)spec->vni, i, strerror(errno));
            unwatch_queues(dp, s, i);
            slot_set(t, s, NULL, dp->nworkers);
            goto out;
        }
out:
    pthread_mutex_unlock(&t->owner_lock);
    return rc;
}

void datapath_overlay_remove(struct datapath *dp, uint32_t vni)
{
    struct overlay_table *t = &dp->overlays;
    pthread_mutex_lock(&t->owner_lock);
    const struct overlay_slot *slot = overlay_find(t, vni);
    if (slot) {
        int s = (int)(slot - t->slots);
        unwatch_queues(dp, s, dp->nworkers); /* no new events for its queues */
        slot_set(t, s, NULL, dp->nworkers);  /* and none in flight is acted on */
    }
    pthread_mutex_unlock(&t->owner_lock);
}
