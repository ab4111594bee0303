/*
 * etcd_gate.c: a counting gate with a bounded wait (see etcd_gate.h).
 */
#include "store/etcd_gate.h"

#include <errno.h>
#include <time.h>

#include "common/clock.h"

void etcd_gate_init(struct etcd_gate *gate)
{
    pthread_mutex_init(&gate->lock, NULL);
    clock_cond_init_monotonic(&gate->room);
    gate->in_flight = 0;
    gate->waiting = 0;
}

void etcd_gate_destroy(struct etcd_gate *gate)
{
    pthread_cond_destroy(&gate->room);
    pthread_mutex_destroy(&gate->lock);
}

int etcd_gate_enter(struct etcd_gate *gate, struct weft_err *err)
{
    struct timespec until = clock_deadline(CLOCK_MONOTONIC, ETCD_GATE_WAIT_MS);
    pthread_mutex_lock(&gate->lock);
    gate->waiting++;
    int rc = 0;
    while (gate->in_flight >= ETCD_GATE_LIMIT && rc != ETIMEDOUT)
        rc = pthread_cond_timedwait(&gate->room, &gate->lock, &until);
    gate->waiting--;
    if (gate->in_flight >= ETCD_GATE_LIMIT) {
        int waiting = gate->waiting;
        pthread_mutex_unlock(&gate->lock);
        return weft_err_set(err, -EBUSY,
                            "store overloaded: no answer to %d requests for %ld ms, "
                            "%d more waiting",
                            ETCD_GATE_LIMIT, ETCD_GATE_WAIT_MS, waiting);
    }
    gate->in_flight++;
    pthread_mutex_unlock(&gate->lock);
    return 0;
}

void etcd_gate_leave(struct etcd_gate *gate)
{
    pthread_mutex_lock(&gate->lock);
    gate->in_flight--;
    pthread_cond_signal(&gate->room);
    pthread_mutex_unlock(&gate->lock);
}
