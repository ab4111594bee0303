/*
 * test_etcd_live.c: the etcd client against a real loopback etcd (etcd_fixture.h):
 * key/value calls, compare-and-swap, leases, concurrent creates, list+watch
 * with an outage and restart of the store, timeouts and failover.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <dirent.h>
#include <unistd.h>

#include "store/etcd.h"
#include "tests/live/etcd_live.h"

static long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

#define OK(call)                                                                                   \
    do {                                                                                           \
        struct weft_err err_ = {0};                                                               \
        struct weft_err *err = &err_;                                                              \
        if ((call) != 0)                                                                           \
            fail_msg("%s failed: %s", #call, err_.msg);                                            \
    } while (0)

static void test_put_get_delete_prefix(void **state)
{
    struct etcd_live *l = *state;
    struct etcd_kv kv;
    bool found, deleted;
    OK(etcd_put(l->etcd, "/t1/a", "{\"x\":1}", 0, err));
    OK(etcd_put(l->etcd, "/t1/b", "", 0, err)); /* empty values come back as "" */
    OK(etcd_put(l->etcd, "/t1/c", "three", 0, err));
    OK(etcd_put(l->etcd, "/t10", "outside the prefix", 0, err));

    OK(etcd_get(l->etcd, "/t1/a", &kv, &found, err));
    assert_true(found);
    assert_string_equal(kv.key, "/t1/a");
    assert_string_equal(kv.value, "{\"x\":1}");
    assert_true(kv.mod_revision > 0);
    assert_int_equal(kv.create_revision, kv.mod_revision);
    assert_int_equal(kv.lease, 0);
    etcd_kv_clear(&kv);

    OK(etcd_get(l->etcd, "/t1/missing", &kv, &found, err));
    assert_false(found);

    struct etcd_kvs kvs;
    OK(etcd_get_prefix(l->etcd, "/t1/", &kvs, err));
    assert_int_equal(kvs.count, 3);
    assert_string_equal(kvs.items[0].key, "/t1/a");
    assert_string_equal(kvs.items[1].key, "/t1/b");
    assert_string_equal(kvs.items[1].value, "");
    assert_string_equal(kvs.items[2].value, "three");
    assert_true(kvs.revision >= kvs.items[2].mod_revision);
    etcd_kvs_free(&kvs);

    OK(etcd_delete(l->etcd, "/t1/a", &deleted, err));
    assert_true(deleted);
    OK(etcd_delete(l->etcd, "/t1/a", &deleted, err));
    assert_false(deleted);
    OK(etcd_delete_prefix(l->etcd, "/t1/", err));
    OK(etcd_get_prefix(l->etcd, "/t1/", &kvs, err));
    assert_int_equal(kvs.count, 0);
    etcd_kvs_free(&kvs);
    OK(etcd_get(l->etcd, "/t10", &kv, &found, err)); /* the range ended at the prefix */
    assert_true(found);
    etcd_kv_clear(&kv);
}

/* Keys created after a revision, and only those: what a lagging watch has not read. */
static void test_prefix_created_after(void **state)
{
    struct etcd_live *l = *state;
    struct etcd_kv kv;
    bool found;
    OK(etcd_put(l->etcd, "/ca/old", "1", 0, err));
    OK(etcd_get(l->etcd, "/ca/old", &kv, &found, err));
    int64_t after = kv.mod_revision;
    etcd_kv_clear(&kv);
    OK(etcd_put(l->etcd, "/ca/new", "2", 0, err));
    OK(etcd_put(l->etcd, "/ca/old", "changed", 0, err)); /* modified, not created, after */
    struct etcd_kvs kvs;
    OK(etcd_get_prefix_created_after(l->etcd, "/ca/", after, &kvs, err));
    assert_int_equal(kvs.count, 1);
    assert_string_equal(kvs.items[0].key, "/ca/new");
    assert_string_equal(kvs.items[0].value, "2");
    assert_true(kvs.items[0].create_revision > after);
    etcd_kvs_free(&kvs);
    OK(etcd_get_prefix_created_after(l->etcd, "/ca/", 0, &kvs, err));
    assert_int_equal(kvs.count, 2);
    etcd_kvs_free(&kvs);
    OK(etcd_delete_prefix(l->etcd, "/ca/", err));
}

/* A put and several reads in one transaction (a per-member claim and its competitors):
 * the reads see the put, a prefix reads every key under it, an absent key reads none. */
static void test_put_then_read_many(void **state)
{
    struct etcd_live *l = *state;
    OK(etcd_put(l->etcd, "/rm/a/1", "one", 0, err));
    OK(etcd_put(l->etcd, "/rm/a/2", "two", 0, err));
    OK(etcd_put(l->etcd, "/rm/b", "bee", 0, err));
    const struct etcd_read reads[] = {
        {"/rm/mine", false}, {"/rm/a/", true}, {"/rm/b", false}, {"/rm/none", false}};
    struct etcd_kvs out[4];
    OK(etcd_put_read_many(l->etcd, "/rm/mine", "claim", 0, reads, 4, out, err));
    assert_int_equal(out[0].count, 1);
    assert_string_equal(out[0].items[0].value, "claim");
    assert_int_equal(out[0].items[0].create_revision, out[0].revision); /* the put's */
    assert_int_equal(out[1].count, 2);
    assert_string_equal(out[1].items[1].value, "two");
    assert_true(out[2].count == 1 && out[2].items[0].create_revision < out[0].revision);
    assert_int_equal(out[3].count, 0);
    for (int i = 0; i < 4; i++)
        etcd_kvs_free(&out[i]);
    OK(etcd_read_many(l->etcd, reads + 3, 1, out, err));
    assert_int_equal(out[0].count, 0);
    etcd_kvs_free(&out[0]);
    OK(etcd_delete_prefix(l->etcd, "/rm/", err));
}

/* More reads than etcd takes in one transaction (--max-txn-ops, 128 by default: one
 * overlay's claim reads each member's): they go in several, each after the put. */
static void test_put_then_read_many_past_txn_limit(void **state)
{
    struct etcd_live *l = *state;
    enum { READS = 2 * ETCD_TXN_OPS_MAX + 3 };
    static char keys[READS][32];
    static struct etcd_read reads[READS];
    static struct etcd_kvs out[READS];
    for (int i = 0; i < READS; i++) {
        snprintf(keys[i], sizeof(keys[i]), "/rt/%03d", i);
        reads[i].key = keys[i];
        if (i % 50 == 7) /* some present, written before the put */
            OK(etcd_put(l->etcd, keys[i], "there", 0, err));
    }
    reads[READS - 1].key = "/rt/mine"; /* the put, read in the last transaction */
    OK(etcd_put_read_many(l->etcd, "/rt/mine", "claim", 0, reads, READS, out, err));
    for (int i = 0; i < READS - 1; i++)
        assert_int_equal(out[i].count, i % 50 == 7);
    assert_int_equal(out[READS - 1].count, 1);
    assert_string_equal(out[READS - 1].items[0].value, "claim");
    assert_true(out[READS - 1].items[0].create_revision <= out[0].revision);
    for (int i = 0; i < READS; i++)
        etcd_kvs_free(&out[i]);
    OK(etcd_delete_prefix(l->etcd, "/rt/", err));
}

static void test_create_if_absent(void **state)
{
    struct etcd_live *l = *state;
    bool created;
    struct etcd_kv existing;
    OK(etcd_create(l->etcd, "/t2/owner", "first", 0, &created, &existing, err));
    assert_true(created);
    assert_null(existing.key);

    OK(etcd_create(l->etcd, "/t2/owner", "second", 0, &created, &existing, err));
    assert_false(created);
    assert_string_equal(existing.key, "/t2/owner");
    assert_string_equal(existing.value, "first"); /* the caller learns who owns it */
    assert_true(existing.create_revision > 0);
    etcd_kv_clear(&existing);

    OK(etcd_create(l->etcd, "/t2/owner", "third", 0, &created, NULL, err));
    assert_false(created);
}

static void test_txn_mod_revision_and_value(void **state)
{
    struct etcd_live *l = *state;
    struct etcd_kv kv;
    bool found, ok;
    OK(etcd_put(l->etcd, "/t3/k", "v1", 0, err));
    OK(etcd_get(l->etcd, "/t3/k", &kv, &found, err));
    int64_t rev = kv.mod_revision;
    etcd_kv_clear(&kv);

    struct etcd_txn *txn = etcd_txn_new();
    etcd_txn_cmp_mod_revision(txn, "/t3/k", rev);
    etcd_txn_put(txn, "/t3/k", "v2", 0);
    etcd_txn_put(txn, "/t3/other", "side", 0);
    OK(etcd_txn_commit(l->etcd, txn, &ok, err));
    etcd_txn_free(txn);
    assert_true(ok);

    /* The same revision is stale now: nothing may happen. */
    txn = etcd_txn_new();
    etcd_txn_cmp_mod_revision(txn, "/t3/k", rev);
    etcd_txn_put(txn, "/t3/k", "v3", 0);
    etcd_txn_delete(txn, "/t3/other");
    OK(etcd_txn_commit(l->etcd, txn, &ok, err));
    etcd_txn_free(txn);
    assert_false(ok);
    OK(etcd_get(l->etcd, "/t3/k", &kv, &found, err));
    assert_string_equal(kv.value, "v2");
    etcd_kv_clear(&kv);
    OK(etcd_get(l->etcd, "/t3/other", &kv, &found, err));
    assert_true(found);
    etcd_kv_clear(&kv);

    /* Compare on value, then delete. */
    txn = etcd_txn_new();
    etcd_txn_cmp_value(txn, "/t3/k", "v2");
    etcd_txn_delete(txn, "/t3/other");
    OK(etcd_txn_commit(l->etcd, txn, &ok, err));
    etcd_txn_free(txn);
    assert_true(ok);
    OK(etcd_get(l->etcd, "/t3/other", &kv, &found, err));
    assert_false(found);

    /* A prefix compare: holds only while no key lives under the prefix. */
    txn = etcd_txn_new();
    etcd_txn_cmp_prefix_absent(txn, "/t3/");
    etcd_txn_put(txn, "/t3x/marker", "1", 0);
    OK(etcd_txn_commit(l->etcd, txn, &ok, err));
    etcd_txn_free(txn);
    assert_false(ok); /* /t3/k is there */
    OK(etcd_delete(l->etcd, "/t3/k", NULL, err));
    txn = etcd_txn_new();
    etcd_txn_cmp_prefix_absent(txn, "/t3/");
    etcd_txn_put(txn, "/t3x/marker", "1", 0);
    OK(etcd_txn_commit(l->etcd, txn, &ok, err));
    etcd_txn_free(txn);
    assert_true(ok); /* an empty prefix, and /t3x/ is not under /t3/ */

    /* A prefix delete inside a transaction takes every key under it, and only those. */
    OK(etcd_put(l->etcd, "/t3/a", "1", 0, err));
    OK(etcd_put(l->etcd, "/t3/b", "2", 0, err));
    txn = etcd_txn_new();
    etcd_txn_cmp_value(txn, "/t3x/marker", "1");
    etcd_txn_delete_prefix(txn, "/t3/");
    OK(etcd_txn_commit(l->etcd, txn, &ok, err));
    etcd_txn_free(txn);
    assert_true(ok);
    struct etcd_kvs kvs;
    OK(etcd_get_prefix(l->etcd, "/t3/", &kvs, err));
    assert_int_equal(kvs.count, 0);
    etcd_kvs_free(&kvs);
    OK(etcd_get(l->etcd, "/t3x/marker", &kv, &found, err));
    assert_true(found);
    etcd_kv_clear(&kv);
}

static void test_lease_lifecycle(void **state)
{
    struct etcd_live *l = *state;
    int64_t lease;
    bool alive, found;
    struct etcd_kv kv;
    size_t before, during, after;
    OK(etcd_lease_count(l->etcd, &before, err));
    OK(etcd_lease_grant(l->etcd, 30, &lease, err));
    assert_true(lease != 0);
    OK(etcd_lease_count(l->etcd, &during, err)); /* how a daemon counts the hosts */
    assert_int_equal(during, before + 1);
    OK(etcd_put(l->etcd, "/t4/leased", "x", lease, err));
    OK(etcd_get(l->etcd, "/t4/leased", &kv, &found, err));
    assert_true(found);
    assert_true(kv.lease == lease); /* 64-bit IDs survive the string round trip */
    etcd_kv_clear(&kv);
    bool created;
    OK(etcd_create(l->etcd, "/t4/leased2", "y", lease, &created, NULL, err));
    assert_true(created);

    OK(etcd_lease_keepalive(l->etcd, lease, &alive, err));
    assert_true(alive);
    OK(etcd_lease_revoke(l->etcd, lease, err));
    OK(etcd_lease_count(l->etcd, &after, err));
    assert_int_equal(after, before);
    OK(etcd_get(l->etcd, "/t4/leased", &kv, &found, err));
    assert_false(found);
    OK(etcd_get(l->etcd, "/t4/leased2", &kv, &found, err));
    assert_false(found);
    OK(etcd_lease_keepalive(l->etcd, lease, &alive, err));
    assert_false(alive);
    OK(etcd_lease_revoke(l->etcd, lease, err)); /* already gone: nothing to do */

    struct weft_err err = {0};
    assert_int_equal(etcd_lease_grant(l->etcd, 0, &lease, &err), -1);
    assert_int_equal(err.code, -EINVAL);
    /* A lease that does not exist cannot carry a key. */
    assert_int_equal(etcd_put(l->etcd, "/t4/bad", "z", 12345, &err), -1);
    assert_non_null(strstr(err.msg, "lease not found"));
    assert_int_equal(err.code, -ENOENT); /* etcd's 404 */
    assert_false(etcd_err_unreachable(&err));
    assert_false(etcd_unreachable(l->etcd, NULL)); /* the member answered */
}

#define RACE_THREADS 8
#define RACE_KEYS 50

struct racer {
    struct etcd *etcd;
    int id;
    int created[RACE_KEYS];
    int failures;
};

static void *race(void *arg)
{
    struct racer *r = arg;
    for (int i = 0; i < RACE_KEYS; i++) {
        char key[64], value[16];
        snprintf(key, sizeof(key), "/t5/key%02d", i);
        snprintf(value, sizeof(value), "owner%d", r->id);
        bool created;
        struct etcd_kv existing;
        struct weft_err err = {0};
        if (etcd_create(r->etcd, key, value, 0, &created, &existing, &err) < 0) {
            r->failures++;
            continue;
        }
        r->created[i] = created;
        if (!created) {
            if (!existing.value || strncmp(existing.value, "owner", 5) != 0)
                r->failures++;
            etcd_kv_clear(&existing);
        }
    }
    return NULL;
}

static void test_concurrent_creates_once_each(void **state)
{
    struct etcd_live *l = *state;
    struct racer racers[RACE_THREADS] = {0};
    pthread_t threads[RACE_THREADS];
    for (int t = 0; t < RACE_THREADS; t++) {
        racers[t].etcd = l->etcd;
        racers[t].id = t;
        assert_int_equal(pthread_create(&threads[t], NULL, race, &racers[t]), 0);
    }
    for (int t = 0; t < RACE_THREADS; t++)
        pthread_join(threads[t], NULL);
    for (int i = 0; i < RACE_KEYS; i++) {
        int winners = 0, winner = -1;
        for (int t = 0; t < RACE_THREADS; t++) {
            winners += racers[t].created[i];
            if (racers[t].created[i])
                winner = t;
        }
        assert_int_equal(winners, 1);
        char key[64], want[16];
        snprintf(key, sizeof(key), "/t5/key%02d", i);
        snprintf(want, sizeof(want), "owner%d", winner);
        struct etcd_kv kv;
        bool found;
        OK(etcd_get(l->etcd, key, &kv, &found, err));
        assert_string_equal(kv.value, want);
        etcd_kv_clear(&kv);
    }
    for (int t = 0; t < RACE_THREADS; t++)
        assert_int_equal(racers[t].failures, 0);
}

/* ---- watch ---- */

struct seen {
    enum etcd_event_type type;
    char key[64];
    char value[64];
    int64_t revision;
};

struct recorder {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    struct seen events[512];
    size_t count;
    size_t calls;         /* callback calls: one per batch */
    size_t largest_batch; /* events in the largest one */
};

static void record(void *ctx, const struct etcd_event *events, size_t n)
{
    struct recorder *r = ctx;
    pthread_mutex_lock(&r->lock);
    r->calls++;
    if (n > r->largest_batch)
        r->largest_batch = n;
    for (size_t i = 0; i < n && r->count < sizeof(r->events) / sizeof(r->events[0]); i++) {
        const struct etcd_event *ev = &events[i];
        struct seen *s = &r->events[r->count++];
        s->type = ev->type;
        snprintf(s->key, sizeof(s->key), "%s", ev->key ? ev->key : "");
        snprintf(s->value, sizeof(s->value), "%s", ev->value ? ev->value : "(null)");
        s->revision = ev->revision;
    }
    pthread_cond_broadcast(&r->cond);
    pthread_mutex_unlock(&r->lock);
}

static void recorder_init(struct recorder *r)
{
    memset(r, 0, sizeof(*r));
    pthread_mutex_init(&r->lock, NULL);
    pthread_cond_init(&r->cond, NULL);
}

static void recorder_destroy(struct recorder *r)
{
    pthread_cond_destroy(&r->cond);
    pthread_mutex_destroy(&r->lock);
}

/* Index of the first event at or after from with this type (and key, if given), waiting up
 * to timeout_ms; -1 if none came. */
static long wait_event(struct recorder *r, size_t from, enum etcd_event_type type, const char *key,
                       long timeout_ms)
{
    long deadline = now_ms() + timeout_ms;
    pthread_mutex_lock(&r->lock);
    for (;;) {
        for (size_t i = from; i < r->count; i++)
            if (r->events[i].type == type && (!key || strcmp(r->events[i].key, key) == 0)) {
                pthread_mutex_unlock(&r->lock);
                return (long)i;
            }
        if (now_ms() >= deadline)
            break;
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += 50 * 1000000L;
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&r->cond, &r->lock, &ts);
    }
    pthread_mutex_unlock(&r->lock);
    return -1;
}

static void dump_events(struct recorder *r)
{
    static const char *names[] = {"PUT", "DELETE", "SYNC_BEGIN", "SYNC_END", "DISCONNECTED"};
    pthread_mutex_lock(&r->lock);
    for (size_t i = 0; i < r->count; i++)
        fprintf(stderr, "  event %zu: %s %s=%s rev %lld\n", i, names[r->events[i].type],
                r->events[i].key, r->events[i].value, (long long)r->events[i].revision);
    pthread_mutex_unlock(&r->lock);
}

#define EXPECT_EVENT(var, r, from, type, key, timeout)                                             \
    long var = wait_event(r, from, type, key, timeout);                                            \
    if (var < 0) {                                                                                 \
        dump_events(r);                                                                            \
        fail_msg("no %s event for %s", #type, key ? key : "-");                                    \
    }

static void test_watch_sync_then_events_in_order(void **state)
{
    struct etcd_live *l = *state;
    struct recorder rec;
    recorder_init(&rec);
    OK(etcd_put(l->etcd, "/t6/a", "A", 0, err));
    OK(etcd_put(l->etcd, "/t6/b", "B", 0, err));
    OK(etcd_put(l->etcd, "/t60", "not ours", 0, err));
    struct etcd_watch *w;
    OK(etcd_watch_start(l->etcd, "/t6/", record, &rec, &w, err));

    EXPECT_EVENT(end, &rec, 0, ETCD_EVENT_SYNC_END, NULL, 3000);
    assert_int_equal(end, 3);
    pthread_mutex_lock(&rec.lock);
    assert_int_equal(rec.calls, 1); /* the whole listing is one batch */
    pthread_mutex_unlock(&rec.lock);
    assert_int_equal(rec.events[0].type, ETCD_EVENT_SYNC_BEGIN);
    assert_int_equal(rec.events[1].type, ETCD_EVENT_PUT);
    assert_string_equal(rec.events[1].key, "/t6/a");
    assert_string_equal(rec.events[1].value, "A");
    assert_string_equal(rec.events[2].key, "/t6/b");
    int64_t list_rev = rec.events[3].revision;
    assert_true(list_rev >= rec.events[2].revision);

    /* Right after the list: events written now must not fall between list and watch. */
    OK(etcd_put(l->etcd, "/t6/c", "C", 0, err));
    OK(etcd_delete(l->etcd, "/t6/a", NULL, err));
    OK(etcd_put(l->etcd, "/t60", "still not ours", 0, err));
    OK(etcd_put(l->etcd, "/t6/c", "C2", 0, err));
    EXPECT_EVENT(last, &rec, 4, ETCD_EVENT_PUT, "/t6/c", 3000);
    (void)last;
    long deadline = now_ms() + 3000;
    while (now_ms() < deadline && rec.count < 7)
        usleep(10 * 1000);
    pthread_mutex_lock(&rec.lock);
    if (rec.count != 7) {
        pthread_mutex_unlock(&rec.lock);
        dump_events(&rec);
        fail_msg("want 7 events, got %zu", rec.count);
    }
    assert_int_equal(rec.events[4].type, ETCD_EVENT_PUT);
    assert_string_equal(rec.events[4].value, "C");
    assert_true(rec.events[4].revision > list_rev);
    assert_int_equal(rec.events[5].type, ETCD_EVENT_DELETE);
    assert_string_equal(rec.events[5].key, "/t6/a");
    assert_string_equal(rec.events[5].value, "(null)");
    assert_int_equal(rec.events[6].type, ETCD_EVENT_PUT);
    assert_string_equal(rec.events[6].value, "C2");
    assert_true(rec.events[6].revision > rec.events[5].revision);
    size_t calls_before_burst = rec.calls;
    pthread_mutex_unlock(&rec.lock);

    /* A burst (one transaction, one revision, one watch message) comes as one batch. */
    struct etcd_txn *txn = etcd_txn_new();
    assert_non_null(txn);
    for (int i = 0; i < 5; i++) {
        char key[32];
        snprintf(key, sizeof(key), "/t6/burst%d", i);
        etcd_txn_put(txn, key, "x", 0);
    }
    bool succeeded = false;
    OK(etcd_txn_commit(l->etcd, txn, &succeeded, err));
    etcd_txn_free(txn);
    assert_true(succeeded);
    EXPECT_EVENT(burst_end, &rec, 7, ETCD_EVENT_PUT, "/t6/burst4", 3000);
    assert_int_equal(burst_end, 11);
    pthread_mutex_lock(&rec.lock);
    assert_int_equal(rec.calls, calls_before_burst + 1);
    assert_int_equal(rec.largest_batch, 5);
    pthread_mutex_unlock(&rec.lock);

    long before = now_ms();
    etcd_watch_stop(w);
    assert_true(now_ms() - before < 1500);
    recorder_destroy(&rec);
}

static void test_timeout_and_failover(void **state)
{
    struct etcd_live *l = *state;
    int dead = etcd_fixture_free_port(); /* nobody listens there */
    char endpoints[128];
    snprintf(endpoints, sizeof(endpoints), "127.0.0.1:%d,%s", dead, l->fx.endpoint);
    struct etcd *etcd;
    OK(etcd_open(&etcd, endpoints, err));
    for (int i = 0; i < 3; i++) {
        char value[16];
        snprintf(value, sizeof(value), "v%d", i);
        OK(etcd_put(etcd, "/t7/failover", value, 0, err));
    }
    struct etcd_kv kv;
    bool found;
    OK(etcd_get(etcd, "/t7/failover", &kv, &found, err));
    assert_string_equal(kv.value, "v2");
    etcd_kv_clear(&kv);
    etcd_close(etcd);

    /* Only the dead member: a clear message, quickly. */
    snprintf(endpoints, sizeof(endpoints), "127.0.0.1:%d", dead);
    OK(etcd_open(&etcd, endpoints, err));
    struct weft_err err = {0};
    assert_int_equal(etcd_put(etcd, "/t7/x", "y", 0, &err), -1);
    assert_non_null(strstr(err.msg, "store unreachable"));
    assert_non_null(strstr(err.msg, endpoints));
    assert_int_equal(err.code, -ECONNREFUSED); /* nobody listens: refused, not timed out */
    assert_true(etcd_err_unreachable(&err));
    /* The flag etcd_unreachable reads says the same, code and message. */
    struct weft_err last = {0};
    assert_true(etcd_unreachable(etcd, &last));
    assert_int_equal(last.code, err.code);
    assert_string_equal(last.msg, err.msg);
    etcd_close(etcd);
}

static void test_watch_survives_store_restart(void **state)
{
    struct etcd_live *l = *state;
    struct recorder rec;
    recorder_init(&rec);
    OK(etcd_put(l->etcd, "/t8/before", "1", 0, err));
    struct etcd_watch *w;
    OK(etcd_watch_start(l->etcd, "/t8/", record, &rec, &w, err));
    EXPECT_EVENT(sync1, &rec, 0, ETCD_EVENT_SYNC_END, NULL, 3000);
    OK(etcd_put(l->etcd, "/t8/live", "2", 0, err));
    EXPECT_EVENT(live, &rec, (size_t)sync1, ETCD_EVENT_PUT, "/t8/live", 3000);

    etcd_fixture_kill(&l->fx);

    /* Store down: a call fails fast with a message naming the problem. */
    struct weft_err err = {0};
    struct etcd_kv kv;
    bool found;
    long before = now_ms();
    assert_int_equal(etcd_get(l->etcd, "/t8/before", &kv, &found, &err), -1);
    assert_true(now_ms() - before < 2500);
    assert_non_null(strstr(err.msg, "unreachable"));
    assert_non_null(strstr(err.msg, l->fx.endpoint));
    assert_true(etcd_err_unreachable(&err));
    EXPECT_EVENT(down, &rec, (size_t)live, ETCD_EVENT_DISCONNECTED, NULL, 5000);

    assert_int_equal(etcd_fixture_restart(&l->fx), 0);
    /* After the outage the watch lists again, then streams new events. */
    EXPECT_EVENT(sync2, &rec, (size_t)down, ETCD_EVENT_SYNC_END, NULL, 5000);
    EXPECT_EVENT(begin2, &rec, (size_t)down, ETCD_EVENT_SYNC_BEGIN, NULL, 0);
    assert_true(begin2 < sync2);
    EXPECT_EVENT(relisted, &rec, (size_t)begin2, ETCD_EVENT_PUT, "/t8/live", 0);
    assert_true(relisted < sync2);
    OK(etcd_put(l->etcd, "/t8/after", "3", 0, err));
    EXPECT_EVENT(after, &rec, (size_t)sync2, ETCD_EVENT_PUT, "/t8/after", 3000);
    (void)after;
    /* DISCONNECTED came once for the outage, however many retries it took. */
    long down_again = wait_event(&rec, (size_t)down + 1, ETCD_EVENT_DISCONNECTED, NULL, 0);
    assert_true(down_again < 0);

    before = now_ms();
    etcd_watch_stop(w);
    assert_true(now_ms() - before < 1500);
    recorder_destroy(&rec);
}

/* A watch started while the store is down reports it, and stops promptly mid-backoff. */
static void test_watch_stop_while_store_down(void **state)
{
    (void)state;
    int dead = etcd_fixture_free_port();
    char endpoint[64];
    snprintf(endpoint, sizeof(endpoint), "127.0.0.1:%d", dead);
    struct etcd *etcd;
    OK(etcd_open(&etcd, endpoint, err));
    struct recorder rec;
    recorder_init(&rec);
    struct etcd_watch *w;
    OK(etcd_watch_start(etcd, "/t9/", record, &rec, &w, err));
    EXPECT_EVENT(down, &rec, 0, ETCD_EVENT_DISCONNECTED, NULL, 3000);
    assert_int_equal(down, 0);
    usleep(1500 * 1000);
    long before = now_ms();
    etcd_watch_stop(w);
    assert_true(now_ms() - before < 1000);
    assert_int_equal(rec.count, 1); /* once per outage */
    recorder_destroy(&rec);
    etcd_close(etcd);
}

/* A member that accepts connections but never answers (stopped process): the request
 * timeout bounds the call, and a watch on it still stops promptly. */
static void test_hung_store_times_out(void **state)
{
    struct etcd_live *l = *state;
    struct recorder rec;
    recorder_init(&rec);
    struct etcd_watch *w;
    OK(etcd_watch_start(l->etcd, "/t11/", record, &rec, &w, err));
    EXPECT_EVENT(sync, &rec, 0, ETCD_EVENT_SYNC_END, NULL, 3000);
    (void)sync;

    assert_int_equal(etcd_fixture_freeze(&l->fx), 0);
    struct weft_err err = {0};
    long before = now_ms();
    int rc = etcd_put(l->etcd, "/t11/x", "y", 0, &err);
    long took = now_ms() - before;
    before = now_ms();
    etcd_watch_stop(w);
    long stop_took = now_ms() - before;
    kill(l->fx.pid, SIGCONT);

    assert_int_equal(rc, -1);
    assert_true(took >= 1500 && took < 2500);
    assert_non_null(strstr(err.msg, "unreachable"));
    assert_int_equal(err.code, -ETIMEDOUT); /* it took the connection but never answered */
    assert_true(etcd_err_unreachable(&err));
    assert_true(stop_took < 1500);
    recorder_destroy(&rec);

    /* Once it runs again, so do we. */
    OK(etcd_put(l->etcd, "/t11/x", "y", 0, err));
}

/* TCP sockets in this namespace whose remote end is port (any state, TIME_WAIT
 * included: a closed client connection lingers there for a minute). */
static int sockets_to_port(int port)
{
    FILE *f = fopen("/proc/net/tcp", "r");
    if (!f)
        return -1;
    char line[512];
    int n = 0;
    while (fgets(line, sizeof(line), f)) {
        unsigned rem_port;
        if (sscanf(line, " %*d: %*x:%*x %*x:%x", &rem_port) == 1 && (int)rem_port == port)
            n++;
    }
    fclose(f);
    return n;
}

/* Serial requests reuse a pooled connection rather than open one each. Counted, not
 * timed: a time limit fails on a loaded machine and proves less. */
static void test_serial_gets_reuse_a_connection(void **state)
{
    struct etcd_live *l = *state;
    OK(etcd_put(l->etcd, "/t12/k", "v", 0, err));
    int before = sockets_to_port(l->fx.client_port);
    assert_true(before >= 0);
    for (int i = 0; i < 200; i++) {
        struct etcd_kv kv;
        bool found;
        OK(etcd_get(l->etcd, "/t12/k", &kv, &found, err));
        etcd_kv_clear(&kv);
    }
    int opened = sockets_to_port(l->fx.client_port) - before;
    fprintf(stderr, "200 gets opened %d connections\n", opened);
    assert_true(opened <= 2);
}

/* Descriptors of this process that are sockets: a pooled handle holds three. */
static int own_sockets(void)
{
    DIR *d = opendir("/proc/self/fd");
    if (!d)
        return -1;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        char path[300], target[64];
        snprintf(path, sizeof(path), "/proc/self/fd/%s", e->d_name);
        ssize_t len = readlink(path, target, sizeof(target) - 1);
        if (len > 0 && (target[len] = 0, strncmp(target, "socket:", 7) == 0))
            n++;
    }
    closedir(d);
    return n;
}

static void *burst_of_gets(void *arg)
{
    struct etcd *etcd = arg;
    for (int i = 0; i < 40; i++) {
        struct etcd_kv kv;
        bool found;
        struct weft_err err = {0};
        if (etcd_get(etcd, "/t13/k", &kv, &found, &err) == 0)
            etcd_kv_clear(&kv);
    }
    return NULL;
}

/* A burst leaves the pool holding a handle per request that was in flight at once;
 * once idle longer than the pool's limit they are closed, down to one (a soak saw a
 * daemon keep three more descriptors for good after one moment of three requests). */
static void test_idle_pooled_connections_closed(void **state)
{
    struct etcd_live *l = *state;
    OK(etcd_put(l->etcd, "/t13/k", "v", 0, err));
    etcd_set_pool_idle_ms(l->etcd, 300);
    int before = own_sockets();
    pthread_t threads[RACE_THREADS];
    for (int t = 0; t < RACE_THREADS; t++)
        assert_int_equal(pthread_create(&threads[t], NULL, burst_of_gets, l->etcd), 0);
    for (int t = 0; t < RACE_THREADS; t++)
        pthread_join(threads[t], NULL);
    int after_burst = own_sockets();
    struct timespec pause = {0, 400 * 1000000L};
    nanosleep(&pause, NULL);
    burst_of_gets(l->etcd); /* one serial user gives back its handle: the rest are stale */
    int after_idle = own_sockets();
    fprintf(stderr, "sockets: %d before, %d after %d threads' gets, %d after 400 ms idle\n", before,
            after_burst, RACE_THREADS, after_idle);
    etcd_set_pool_idle_ms(l->etcd, 30000);
    assert_true(after_burst >= 6); /* at least two handles pooled (earlier tests may have grown it) */
    assert_true(after_idle <= 3);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_put_get_delete_prefix),
        cmocka_unit_test(test_prefix_created_after),
        cmocka_unit_test(test_put_then_read_many),
        cmocka_unit_test(test_put_then_read_many_past_txn_limit),
        cmocka_unit_test(test_create_if_absent),
        cmocka_unit_test(test_txn_mod_revision_and_value),
        cmocka_unit_test(test_lease_lifecycle),
        cmocka_unit_test(test_concurrent_creates_once_each),
        cmocka_unit_test(test_watch_sync_then_events_in_order),
        cmocka_unit_test(test_timeout_and_failover),
        cmocka_unit_test(test_watch_stop_while_store_down),
        cmocka_unit_test(test_hung_store_times_out),
        cmocka_unit_test(test_serial_gets_reuse_a_connection),
        cmocka_unit_test(test_idle_pooled_connections_closed),
        cmocka_unit_test(test_watch_survives_store_restart), /* last: restarts the store */
    };
    return etcd_fixture_run_group(tests, etcd_live_group_setup, etcd_live_group_teardown);
}
