/*
 * test_etcd_grpc_watch_resume.c: what store/etcd_grpc_*.c needs before the daemon can
 * use it, against a real loopback etcd (etcd_fixture.h). Watches added and cancelled
 * from another thread while events flow each see exactly their events; a stream
 * whose etcd is killed mid-stream and restarted resumes by itself, and every watch
 * sees each put before and after exactly once, in order; a revision compacted while
 * etcd was away is reported on the resumed stream; with a list of members the stream
 * moves past one that refuses to the next.
 */
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <unistd.h>

#include "tests/live/etcd_grpc_recorder.h"

#define THREAD_WATCHES 16

struct adder {
    struct etcd_live *l;
    struct etcd_grpc_watch *w;
    int64_t ids[THREAD_WATCHES];
    int64_t revs[THREAD_WATCHES]; /* of /gt/<i>/k */
    atomic_bool added;            /* every watch added */
    atomic_bool cancel_now;       /* main thread: every add answered */
    atomic_bool cancelled;
    int failures;
};

/* Another thread: puts /gt/<i>/k and adds a watch on /gt/<i>/ from revision 1 (so it
 * replays that put), then, when told, cancels the odd ones. */
static void *adder_run(void *arg)
{
    struct adder *a = arg;
    for (int i = 0; i < THREAD_WATCHES; i++) {
        struct weft_err err = {0};
        char key[32], prefix[32];
        snprintf(key, sizeof(key), "/gt/%02d/k", i);
        snprintf(prefix, sizeof(prefix), "/gt/%02d/", i);
        struct etcd_kv kv = {0};
        bool found = false;
        if (etcd_put(a->l->etcd, key, "v", 0, &err) < 0 ||
            etcd_get(a->l->etcd, key, &kv, &found, &err) < 0 || !found ||
            etcd_grpc_watch_add(a->w, prefix, NULL, 1, &a->ids[i], &err) < 0)
            a->failures++;
        a->revs[i] = kv.mod_revision;
        etcd_kv_clear(&kv);
    }
    atomic_store(&a->added, true);
    while (!atomic_load(&a->cancel_now))
        usleep(1000);
    for (int i = 1; i < THREAD_WATCHES; i += 2) {
        struct weft_err err = {0};
        if (etcd_grpc_watch_cancel(a->w, a->ids[i], &err) < 0)
            a->failures++;
    }
    atomic_store(&a->cancelled, true);
    return NULL;
}

static size_t events_of(const struct recorder *r, int64_t watch, size_t *at)
{
    size_t n = 0;
    for (size_t i = 0; i < r->n_events; i++)
        if (r->events[i].watch == watch && n++ == 0 && at)
            *at = i;
    return n;
}

static void watches_added_and_cancelled_from_another_thread(void **state)
{
    struct etcd_live *l = *state;
    struct stream s;
    stream_open(&s, l->fx.endpoint);
    int64_t all = stream_add(&s, "/gt/", 0);
    struct adder a = {.l = l, .w = s.w};
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, adder_run, &a), 0);
    struct weft_err err = {0};
    long deadline = clock_monotonic_ms() + 10000;
    /* the loop runs while the other thread puts and adds */
    while (!(atomic_load(&a.added) && s.rec.n_created == 1 + THREAD_WATCHES &&
             s.rec.n_events == 2 * THREAD_WATCHES) &&
           !s.rec.ended && clock_monotonic_ms() < deadline)
        assert_int_equal(etcd_grpc_loop_run(s.loop, 50, &err), 0);
    assert_int_equal(s.rec.n_created, 1 + THREAD_WATCHES);
    assert_int_equal(s.rec.n_events, 2 * THREAD_WATCHES);
    atomic_store(&a.cancel_now, true);
    while (!(atomic_load(&a.cancelled) && s.rec.n_canceled == THREAD_WATCHES / 2) && !s.rec.ended &&
           clock_monotonic_ms() < deadline)
        assert_int_equal(etcd_grpc_loop_run(s.loop, 50, &err), 0);
    pthread_join(t, NULL);
    assert_int_equal(a.failures, 0);
    assert_int_equal(s.rec.n_canceled, THREAD_WATCHES / 2);
    for (int i = 0; i < THREAD_WATCHES; i++) {
        char key[32];
        snprintf(key, sizeof(key), "/gt/%02d/k", i);
        size_t at = 0;
        assert_int_equal(events_of(&s.rec, a.ids[i], &at), 1);
        check_event(&s.rec.events[at], a.ids[i], false, key, "v", a.revs[i]);
        put(l, key, "w"); /* after the cancels: only the even watches hear it */
    }
    assert_true(
        run_until(s.loop, &s.rec.n_events, 2 * THREAD_WATCHES + THREAD_WATCHES * 3 / 2, &s.rec));
    for (int k = 0; k < 10; k++) /* time for anything that should not come */
        assert_int_equal(etcd_grpc_loop_run(s.loop, 20, &err), 0);
    assert_int_equal(s.rec.n_events, 2 * THREAD_WATCHES + THREAD_WATCHES * 3 / 2);
    assert_int_equal(events_of(&s.rec, all, NULL), 2 * THREAD_WATCHES);
    for (int i = 0; i < THREAD_WATCHES; i++)
        assert_int_equal(events_of(&s.rec, a.ids[i], NULL), i % 2 ? 1 : 2);
    assert_false(s.rec.ended);
    stream_close(&s);
}

#define BIG_LEN (600 * 1000)

/* Puts <prefix><i>=value for i in [from, to), their revisions in revs[i]. */
static void put_range(struct etcd_live *l, const char *prefix, int from, int to, const char *value,
                      int64_t *revs)
{
    for (int i = from; i < to; i++) {
        char key[32];
        snprintf(key, sizeof(key), "%s%02d", prefix, i);
        revs[i] = put(l, key, value);
    }
}

/* etcd SIGKILLed while events are on their way: two puts heard, then ten of 600 kB
 * put and etcd killed before the loop runs again (what it had not sent is lost with
 * it), restarted, three more puts: a watch on /gr/ hears all fifteen once, in order;
 * a watch from "now" on /gq/ that had heard nothing hears the put after the restart;
 * neither is told CREATED again; the stream never ends. */
static void killed_etcd_mid_stream_resumes_without_loss_or_duplicates(void **state)
{
    struct etcd_live *l = *state;
    struct stream s;
    struct etcd_grpc_config c = {.endpoint = l->fx.endpoint, .resume_ms = 100};
    stream_open_config(&s, &c);
    int64_t gr = stream_add(&s, "/gr/", 0);
    int64_t gq = stream_add(&s, "/gq/", 0);
    int64_t revs[16];
    char *big = malloc(BIG_LEN + 1);
    assert_non_null(big);
    for (size_t i = 0; i < BIG_LEN; i++)
        big[i] = (char)('a' + i % 26);
    big[BIG_LEN] = '\0';
    put_range(l, "/gr/", 0, 2, "v", revs);
    assert_true(run_until(s.loop, &s.rec.n_events, 2, &s.rec));
    put_range(l, "/gr/", 2, 12, big, revs); /* on their way when etcd goes */
    free(big);
    kill(l->fx.pid, SIGKILL);  /* no graceful end: what was not sent is lost */
    etcd_fixture_kill(&l->fx); /* reaps it */
    struct weft_err err = {0};
    for (int i = 0; i < 200 && s.rec.n_resuming == 0; i++)
        assert_int_equal(etcd_grpc_loop_run(s.loop, 50, &err), 0);
    assert_true(s.rec.n_resuming >= 1);
    size_t before = s.rec.n_events;
    for (int i = 0; i < 6; i++) /* a refused reconnect or two while etcd is away */
        assert_int_equal(etcd_grpc_loop_run(s.loop, 50, &err), 0);
    assert_int_equal(etcd_fixture_spawn(&l->fx), 0);
    put_range(l, "/gr/", 12, 15, "v", revs);
    revs[15] = put(l, "/gq/x", "v");
    assert_true(run_until(s.loop, &s.rec.n_events, 16, &s.rec));
    for (int k = 0; k < 10; k++) /* time for anything that should not come */
        assert_int_equal(etcd_grpc_loop_run(s.loop, 20, &err), 0);
    print_message("%zu of 12 events heard before the stream ended (%d), resumed after %zu "
                  "RESUMING answers\n",
                  before, s.rec.resume_code, s.rec.n_resuming);
    assert_int_equal(s.rec.n_events, 16);
    size_t n = 0;
    for (size_t i = 0; i < s.rec.n_events; i++) {
        const struct rec_event *e = &s.rec.events[i];
        if (e->watch == gq) {
            check_event(e, gq, false, "/gq/x", "v", revs[15]);
            continue;
        }
        char key[32];
        snprintf(key, sizeof(key), "/gr/%02zu", n);
        assert_int_equal(e->watch, gr);
        assert_string_equal(e->key, key);
        assert_int_equal(e->mod_revision, revs[n]);
        bool large = n >= 2 && n < 12;
        assert_int_equal(e->value_len, large ? BIG_LEN : 1);
        assert_true(large ? e->value_patterned : strcmp(e->value, "v") == 0);
        n++;
    }
    assert_int_equal(n, 15);
    assert_int_equal(s.rec.n_created, 2);
    assert_false(s.rec.ended);
    assert_false(etcd_grpc_watch_ended(s.w));
    stream_close(&s);
}

/* Two members known to etcd's client, the first refusing: the stream says it
 * resumes and moves on to the second. */
static void endpoint_list_moves_past_a_refusing_member(void **state)
{
    struct etcd_live *l = *state;
    char members[96];
    snprintf(members, sizeof(members), "127.0.0.1:%d,%s", etcd_fixture_free_port(), l->fx.endpoint);
    struct etcd *two = NULL;
    struct weft_err err = {0};
    char *endpoints = NULL;
    assert_int_equal(etcd_open(&two, members, &err), 0);
    assert_int_equal(etcd_grpc_endpoints(two, &endpoints, &err), 0);
    etcd_close(two);
    assert_string_equal(endpoints, members);
    struct stream s;
    struct etcd_grpc_config c = {.endpoint = endpoints, .resume_ms = 50};
    stream_open_config(&s, &c);
    int64_t gm = stream_add(&s, "/gm/", 0);
    assert_int_equal(s.rec.n_created, 1);
    assert_int_equal(s.rec.n_resuming, 1);
    assert_int_equal(s.rec.resume_code, -ECONNREFUSED);
    int64_t rev = put(l, "/gm/1", "one");
    assert_true(run_until(s.loop, &s.rec.n_events, 1, &s.rec));
    check_event(&s.rec.events[0], gm, false, "/gm/1", "one", rev);
    stream_close(&s);
    free(endpoints);
}

/* A watch whose next revision is compacted while etcd is away: the resumed stream
 * reports it as CANCELED with the compaction's revision (the caller re-lists). */
static void revision_compacted_while_away_is_reported_on_resume(void **state)
{
    struct etcd_live *l = *state;
    struct stream s;
    struct etcd_grpc_config c = {.endpoint = l->fx.endpoint, .resume_ms = 1000};
    stream_open_config(&s, &c);
    int64_t w = stream_add(&s, "/gc/", 0);
    int64_t r1 = put(l, "/gc/1", "v");
    assert_true(run_until(s.loop, &s.rec.n_events, 1, &s.rec));
    check_event(&s.rec.events[0], w, false, "/gc/1", "v", r1);
    etcd_fixture_kill(&l->fx);
    struct weft_err err = {0};
    for (int i = 0; i < 100 && s.rec.n_resuming == 0; i++)
        assert_int_equal(etcd_grpc_loop_run(s.loop, 50, &err), 0);
    assert_int_equal(s.rec.n_resuming, 1); /* the next stream waits a second */
    assert_int_equal(etcd_fixture_spawn(&l->fx), 0);
    put(l, "/gc/2", "v");
    int64_t r3 = put(l, "/gc/3", "v");
    char cmd[256];
    snprintf(cmd, sizeof(cmd),
             "ETCDCTL_API=3 etcdctl --endpoints=http://%s compact %lld >/dev/null 2>&1",
             l->fx.endpoint, (long long)r3);
    assert_int_equal(system(cmd), 0);
    assert_true(run_until(s.loop, &s.rec.n_canceled, 1, &s.rec));
    assert_int_equal(s.rec.canceled[0], w);
    assert_int_equal(s.rec.compact_rev[0], r3);
    assert_int_equal(s.rec.n_events, 1);
    assert_false(s.rec.ended);
    struct weft_err e2 = {0}; /* forgotten once cancelled */
    assert_int_equal(etcd_grpc_watch_cancel(s.w, w, &e2), -1);
    assert_int_equal(e2.code, -ENOENT);
    stream_close(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(watches_added_and_cancelled_from_another_thread),
        cmocka_unit_test(endpoint_list_moves_past_a_refusing_member),
        cmocka_unit_test(killed_etcd_mid_stream_resumes_without_loss_or_duplicates),
        cmocka_unit_test(revision_compacted_while_away_is_reported_on_resume),
    };
    return etcd_fixture_run_group(tests, etcd_live_group_setup, etcd_live_group_teardown);
}
