/*
 * test_etcd_watch_grpc.c: `--store-watch grpc` (store/etcd_watch_grpc.c) gives the
 * consumer exactly what the JSON gateway's watch (store/etcd_watch.c) gives. Two
 * clients of one loopback etcd, one of each kind, watch one prefix while keys are
 * put and deleted, etcd is restarted, and a revision is compacted while both are
 * away; each sees the same events (type, key, value, revisions) in the same order:
 * the listing, the changes, the re-listing after the compaction (DISCONNECTED, told
 * by each when the store is away long, is left out of the comparison).
 */
#include <inttypes.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "store/etcd_status.h"
#include "tests/live/etcd_live.h"

#define MAX_SEEN 256
#define WAIT_MS 15000

struct seen {
    enum etcd_event_type type;
    char key[64], value[64];
    int64_t revision, create_revision;
};

struct recorder {
    pthread_mutex_t lock;
    struct seen events[MAX_SEEN];
    size_t count;
};

static long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

static void record(void *ctx, const struct etcd_event *events, size_t n)
{
    struct recorder *r = ctx;
    pthread_mutex_lock(&r->lock);
    for (size_t i = 0; i < n && r->count < MAX_SEEN; i++) {
        const struct etcd_event *ev = &events[i];
        if (ev->type == ETCD_EVENT_DISCONNECTED)
            continue;
        struct seen *s = &r->events[r->count++];
        s->type = ev->type;
        snprintf(s->key, sizeof(s->key), "%s", ev->key ? ev->key : "");
        snprintf(s->value, sizeof(s->value), "%s", ev->value ? ev->value : "(null)");
        s->revision = ev->revision;
        s->create_revision = ev->create_revision;
    }
    pthread_mutex_unlock(&r->lock);
}

/* How many events of type (and key, if given) r holds. */
static size_t count_of(struct recorder *r, enum etcd_event_type type, const char *key)
{
    size_t n = 0;
    pthread_mutex_lock(&r->lock);
    for (size_t i = 0; i < r->count; i++)
        if (r->events[i].type == type && (!key || strcmp(r->events[i].key, key) == 0))
            n++;
    pthread_mutex_unlock(&r->lock);
    return n;
}

/* Waits until both recorders hold at least n events of type (and key). */
static bool wait_both(struct recorder *a, struct recorder *b, enum etcd_event_type type,
                      const char *key, size_t n)
{
    long deadline = now_ms() + WAIT_MS;
    while (now_ms() < deadline) {
        if (count_of(a, type, key) >= n && count_of(b, type, key) >= n)
            return true;
        usleep(20 * 1000);
    }
    return false;
}

static void dump(const char *name, struct recorder *r)
{
    static const char *names[] = {"PUT", "DELETE", "SYNC_BEGIN", "SYNC_END", "DISCONNECTED"};
    for (size_t i = 0; i < r->count; i++)
        fprintf(stderr, "  %s %zu: %s %s=%s rev %" PRId64 " created %" PRId64 "\n", name, i,
                names[r->events[i].type], r->events[i].key, r->events[i].value,
                r->events[i].revision, r->events[i].create_revision);
}

/* Both recorders hold the same events in the same order (after a moment for strays). */
static void assert_same(struct recorder *gw, struct recorder *grpc)
{
    usleep(300 * 1000);
    pthread_mutex_lock(&gw->lock);
    pthread_mutex_lock(&grpc->lock);
    bool same = gw->count == grpc->count;
    for (size_t i = 0; same && i < gw->count; i++) {
        const struct seen *x = &gw->events[i], *y = &grpc->events[i];
        same = x->type == y->type && strcmp(x->key, y->key) == 0 &&
               strcmp(x->value, y->value) == 0 && x->revision == y->revision &&
               x->create_revision == y->create_revision;
    }
    if (!same) {
        dump("gateway", gw);
        dump("grpc", grpc);
    }
    pthread_mutex_unlock(&grpc->lock);
    pthread_mutex_unlock(&gw->lock);
    assert_true(same);
}

static void put(struct etcd *etcd, const char *key, const char *value)
{
    struct weft_err err = {0};
    if (etcd_put(etcd, key, value, 0, &err) < 0)
        fail_msg("put %s: %s", key, err.msg);
}

/* Both watches streaming again (a listing may have come first). */
static bool wait_streaming(struct etcd_watch *a, struct etcd_watch *b)
{
    long deadline = now_ms() + WAIT_MS;
    while (now_ms() < deadline) {
        int64_t rev;
        bool sa, sb;
        etcd_watch_progress(a, &rev, &sa);
        etcd_watch_progress(b, &rev, &sb);
        if (sa && sb)
            return true;
        usleep(20 * 1000);
    }
    return false;
}

/* etcd stopped; on another client port the revision of the last put is compacted,
 * after /gx/b is deleted and /gx/away put; then etcd is back on its own port. */
static void compact_while_away(struct etcd_live *l)
{
    char endpoint[64];
    struct etcd *side;
    int port = etcd_live_away(l, &side, endpoint);
    assert_true(port > 0);
    struct weft_err err = {0};
    assert_int_equal(etcd_delete(side, "/gx/b", NULL, &err), 0);
    put(side, "/gx/away", "while away");
    struct etcd_kv kv;
    bool found = false;
    assert_int_equal(etcd_get(side, "/gx/away", &kv, &found, &err), 0);
    assert_true(found);
    etcd_close(side);
    assert_int_equal(etcd_live_compact(endpoint, kv.mod_revision), 0);
    etcd_kv_clear(&kv);
    assert_int_equal(etcd_live_back(l, port), 0);
}

static void grpc_watch_delivers_what_the_gateway_watch_does(void **state)
{
    struct etcd_live *l = *state;
    struct weft_err err = {0};
    struct etcd *grpc_client;
    const struct etcd_config config = {.endpoints = l->fx.endpoint, .watch_grpc = true};
    assert_int_equal(etcd_open_config(&grpc_client, &config, &err), 0);
    static struct recorder gw, grpc;
    pthread_mutex_init(&gw.lock, NULL);
    pthread_mutex_init(&grpc.lock, NULL);
    put(l->etcd, "/gx/a", "A");
    put(l->etcd, "/gx/b", "B");
    put(l->etcd, "/gx0", "not ours");
    struct etcd_watch *wg, *wr;
    assert_int_equal(etcd_watch_start(l->etcd, "/gx/", record, &gw, &wg, &err), 0);
    assert_int_equal(etcd_watch_start(grpc_client, "/gx/", record, &grpc, &wr, &err), 0);
    assert_true(wait_both(&gw, &grpc, ETCD_EVENT_SYNC_END, NULL, 1));
    /* A restart is no outage for either: with the default grace (2.5 s) one that takes
     * about that long on a loaded machine made one kind list again and the other resume,
     * as their outage clocks start a retry apart. */
    etcd_watch_grace_ms(wg, 20000);
    etcd_watch_grace_ms(wr, 20000);

    /* Changes: puts, a delete, a put over a key, a transaction of several. */
    put(l->etcd, "/gx/c", "C");
    assert_int_equal(etcd_delete(l->etcd, "/gx/a", NULL, &err), 0);
    put(l->etcd, "/gx/c", "C2");
    struct etcd_txn *txn = etcd_txn_new();
    assert_non_null(txn);
    etcd_txn_put(txn, "/gx/t1", "x", 0);
    etcd_txn_put(txn, "/gx/t2", "y", 0);
    etcd_txn_delete(txn, "/gx/c");
    bool ok = false;
    assert_int_equal(etcd_txn_commit(l->etcd, txn, &ok, &err), 0);
    etcd_txn_free(txn);
    put(l->etcd, "/gx/m1", "1");
    assert_true(wait_both(&gw, &grpc, ETCD_EVENT_PUT, "/gx/m1", 1));
    assert_same(&gw, &grpc);

    /* etcd restarted: both resume from the next revision. */
    assert_int_equal(etcd_fixture_restart(&l->fx), 0);
    assert_true(wait_streaming(wg, wr));
    put(l->etcd, "/gx/d", "D");
    put(l->etcd, "/gx/m2", "2");
    assert_true(wait_both(&gw, &grpc, ETCD_EVENT_PUT, "/gx/m2", 1));
    assert_same(&gw, &grpc);

    /* A compacted revision while away: both list again. */
    size_t lists = count_of(&gw, ETCD_EVENT_SYNC_END, NULL);
    compact_while_away(l);
    assert_true(wait_both(&gw, &grpc, ETCD_EVENT_SYNC_END, NULL, lists + 1));
    assert_true(wait_streaming(wg, wr));
    put(l->etcd, "/gx/m3", "3");
    assert_true(wait_both(&gw, &grpc, ETCD_EVENT_PUT, "/gx/m3", 1));
    assert_same(&gw, &grpc);
    assert_int_equal(count_of(&grpc, ETCD_EVENT_PUT, "/gx/away"), 1); /* in the listing */

    long before = now_ms();
    etcd_watch_stop(wr);
    assert_true(now_ms() - before < 1500);
    etcd_watch_stop(wg);
    etcd_close(grpc_client);
    pthread_mutex_destroy(&gw.lock);
    pthread_mutex_destroy(&grpc.lock);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(grpc_watch_delivers_what_the_gateway_watch_does),
    };
    return etcd_fixture_run_group(tests, etcd_live_group_setup, etcd_live_group_teardown);
}
