/*
 * etcd_watch_grpc.c: the list+watch of etcd.h (etcd_watch_start) over etcd's gRPC
 * Watch API instead of the JSON gateway (etcd_watch.c), chosen by
 * etcd_config.watch_grpc (`weft daemon --store-watch grpc`, issue 18).
 *
 * A watch set (etcd_watch_set.h) of one prefix: the consumer sees what etcd_watch.c
 * gives (the prefix listed through the gateway client, SYNC_BEGIN, PUT..., SYNC_END at
 * revision R, one batch, then the watch from R + 1, each answer's events one batch;
 * a broken stream resumed from the last revision + 1, a compaction or a long outage
 * listed again, DISCONNECTED once per outage, a refused token renewed without a
 * listing). Callers: etcd_watch.c only.
 */
#include <errno.h>
#include <stdlib.h>

#include "store/etcd_internal.h"
#include "store/etcd_watch_set.h"

struct etcd_watch_grpc {
    struct etcd_watch_set *set;
    etcd_watch_fn fn;
    void *ctx;
};

/* The set's batches, its one prefix left out. */
static void on_batch(void *ctx, const char *prefix, const struct etcd_event *events, size_t count)
{
    struct etcd_watch_grpc *w = ctx;
    (void)prefix;
    w->fn(w->ctx, events, count);
}

int etcd_watch_grpc_start(struct etcd *etcd, const char *prefix, etcd_watch_fn fn, void *ctx,
                          struct etcd_watch_grpc **out, struct weft_err *err)
{
    *out = NULL;
    struct etcd_watch_grpc *w = calloc(1, sizeof(*w));
    if (!w)
        return weft_err_set(err, -ENOMEM, "out of memory");
    *w = (struct etcd_watch_grpc){.fn = fn, .ctx = ctx};
    if (etcd_watch_set_start(etcd, on_batch, w, &w->set, err) < 0) {
        free(w);
        return -1;
    }
    if (etcd_watch_set_add(w->set, prefix, err) < 0) {
        etcd_watch_set_stop(w->set);
        free(w);
        return -1;
    }
    *out = w;
    return 0;
}

void etcd_watch_grpc_progress(const struct etcd_watch_grpc *w, int64_t *revision, bool *streaming)
{
    etcd_watch_set_progress(w->set, revision, streaming);
}

void etcd_watch_grpc_grace_ms(struct etcd_watch_grpc *w, long grace_ms)
{
    etcd_watch_set_grace_ms(w->set, grace_ms);
}

void etcd_watch_grpc_stop(struct etcd_watch_grpc *w)
{
    if (!w)
        return;
    etcd_watch_set_stop(w->set);
    free(w);
}
