/*
 * test_etcd_status.c: what `weft status` learns from the store client, against a
 * real loopback etcd (etcd_fixture.h): etcd's revision, the newest put under the
 * watched prefix, and whether the watch trails it. A watch whose consumer is stuck
 * (here: held in its callback, as a fabric lock held too long would) trails a put
 * it has not delivered after ETCD_STATUS_TRAIL_MS; released, it catches up and no
 * longer trails. A put elsewhere in etcd moves the revision but is nothing the
 * watch must deliver.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/clock.h"
#include "store/etcd.h"
#include "store/etcd_status.h"
#include "tests/live/etcd_live.h"

/* A watch consumer that can be held in its callback. */
struct gate {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    bool hold;
    bool synced;
    size_t puts;
};

static void consume(void *ctx, const struct etcd_event *events, size_t n)
{
    struct gate *g = ctx;
    pthread_mutex_lock(&g->lock);
    while (g->hold)
        pthread_cond_wait(&g->cond, &g->lock);
    for (size_t i = 0; i < n; i++) {
        g->synced |= events[i].type == ETCD_EVENT_SYNC_END;
        g->puts += events[i].type == ETCD_EVENT_PUT;
    }
    pthread_cond_broadcast(&g->cond);
    pthread_mutex_unlock(&g->lock);
}

static void set_hold(struct gate *g, bool hold)
{
    pthread_mutex_lock(&g->lock);
    g->hold = hold;
    pthread_cond_broadcast(&g->cond);
    pthread_mutex_unlock(&g->lock);
}

static void put(struct etcd_live *l, const char *key)
{
    struct weft_err err = {0};
    if (etcd_put(l->etcd, key, "v", 0, &err) < 0)
        fail_msg("put %s: %s", key, err.msg);
}

static void stuck_consumer_trails_then_catches_up(void **state)
{
    struct etcd_live *l = *state;
    struct gate g = {.lock = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER};
    struct weft_err err = {0};
    struct etcd_watch *w = NULL;
    put(l, "/s/a");
    assert_int_equal(etcd_watch_start(l->etcd, "/s/", consume, &g, &w, &err), 0);
    pthread_mutex_lock(&g.lock);
    while (!g.synced)
        pthread_cond_wait(&g.cond, &g.lock);
    pthread_mutex_unlock(&g.lock);
    /* The stream opens after the listing is delivered. */
    int64_t rev = 0;
    bool streaming = false;
    long deadline = clock_monotonic_ms() + 5000;
    while (!streaming && clock_monotonic_ms() < deadline) {
        struct timespec step = {0, 20 * 1000000L};
        clock_nanosleep(CLOCK_MONOTONIC, 0, &step, NULL);
        etcd_watch_progress(w, &rev, &streaming);
    }

    struct etcd_status st;
    etcd_status_read(l->etcd, "/s/", 0, w, &st);
    assert_true(st.reachable);
    assert_true(st.watch_streaming);
    assert_false(st.watch_trailing);
    assert_true(st.watch_revision >= st.prefix_revision);
    int64_t listed = st.prefix_revision;
    assert_true(listed > 0);

    put(l, "/elsewhere"); /* not the watch's: moves etcd's revision only */
    etcd_status_read(l->etcd, "/s/", 0, w, &st);
    assert_false(st.watch_trailing);
    assert_int_equal(st.prefix_revision, listed);
    assert_true(st.revision > listed);

    set_hold(&g, true);
    put(l, "/s/b");
    long started = clock_monotonic_ms();
    etcd_status_read(l->etcd, "/s/", 0, w, &st);
    long waited = clock_monotonic_ms() - started;
    assert_true(st.watch_streaming);
    assert_true(st.watch_trailing);
    assert_true(st.prefix_revision > listed);
    assert_true(st.watch_revision < st.prefix_revision);
    assert_true(waited >= ETCD_STATUS_TRAIL_MS && waited < ETCD_STATUS_TRAIL_MS + 3000);

    set_hold(&g, false);
    etcd_status_read(l->etcd, "/s/", 0, w, &st);
    assert_false(st.watch_trailing);
    assert_true(st.watch_revision >= st.prefix_revision);
    etcd_watch_stop(w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(stuck_consumer_trails_then_catches_up),
    };
    return etcd_fixture_run_group(tests, etcd_live_group_setup, etcd_live_group_teardown);
}
