/*
 * etcd_gate.h: how many requests one store client has in flight at once.
 *
 * A burst (hundreds of RequestAddress at once, as Docker sends when many
 * containers start) would otherwise put every request into etcd together. There
 * each one's 2 s timeout runs while it queues behind the others, and on a loaded
 * machine (or a daemon under valgrind, whose threads take turns) a slow but alive
 * store then looks unreachable. Requests beyond the limit wait here instead, where
 * waiting costs no timeout, for at most ETCD_GATE_WAIT_MS.
 * For store/etcd.c (etcd_call) only; thread-safe.
 */
#ifndef WEFT_ETCD_GATE_H
#define WEFT_ETCD_GATE_H

#include <pthread.h>

#include "common/err.h"

/* Enough to keep a store busy (etcd batches concurrent writes into one fsync),
 * few enough that each request is answered well within its timeout. */
#define ETCD_GATE_LIMIT 16
/* A request that found no room for this long gives up: the store is overloaded. */
#define ETCD_GATE_WAIT_MS 15000L

struct etcd_gate {
    pthread_mutex_t lock;
    pthread_cond_t room; /* a request left */
    int in_flight;
    int waiting;
};

void etcd_gate_init(struct etcd_gate *gate);
void etcd_gate_destroy(struct etcd_gate *gate);
/* Waits for room; -1 with a message and -EBUSY when none came within ETCD_GATE_WAIT_MS. */
int etcd_gate_enter(struct etcd_gate *gate, struct weft_err *err);
void etcd_gate_leave(struct etcd_gate *gate);

#endif
