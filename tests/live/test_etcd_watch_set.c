/*
 * test_etcd_watch_set.c: a watch set (store/etcd_watch_set.h) against a loopback etcd.
 * The callback keeps, per prefix, the keys it was told (a listing replaces them) and
 * checks every batch as it comes: its keys under its prefix, its prefix in the set
 * (the test marks a prefix out only after remove returned), revisions only rising
 * outside listings (an event doubled or out of order would not). Each test then
 * compares what the callback holds with what etcd holds, and counts listings:
 *   - prefixes added at start and later, puts and deletes under them and beside them,
 *     one removed while the others flow;
 *   - prefixes added and removed from another thread while a writer puts;
 *   - a compaction that only one prefix's resumed watch is behind: that prefix alone
 *     is listed again;
 *   - etcd restarted: every prefix resumes without a listing; etcd away longer than
 *     the grace: DISCONNECTED once (no prefix) and every prefix listed again;
 *   - the fabric's shape: members' prefixes added and removed by the callback of a
 *     watch of members in the same set;
 *   - a prefix added from a revision: an empty listing and the events from there; from
 *     a compacted revision: listed after all; during an outage: one listing, nothing lost.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "store/etcd_watch_set.h"
#include "tests/live/etcd_live.h"

#define MAX_PREFIXES 8
#define MAX_KEYS 128
#define WAIT_MS 15000

struct model {
    char prefix[64];
    bool in_set;    /* the test's view: set before add, cleared after remove returned */
    char keys[MAX_KEYS][48], values[MAX_KEYS][48];
    size_t n;
    int lists;      /* SYNC_BEGIN..SYNC_END batches */
    int events;     /* PUT and DELETE outside listings */
    int64_t last;   /* the revision of the last event or listing */
};

struct rec {
    pthread_mutex_t lock;
    struct model m[MAX_PREFIXES];
    size_t n;
    int disconnected;
    int bad; /* a foreign key, a batch for a prefix out of the set, a revision not rising */
    char why[160];
};

static long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

static struct model *model_of(struct rec *r, const char *prefix)
{
    for (size_t i = 0; i < r->n; i++)
        if (strcmp(r->m[i].prefix, prefix) == 0)
            return &r->m[i];
    if (r->n == MAX_PREFIXES)
        return NULL;
    struct model *m = &r->m[r->n++];
    snprintf(m->prefix, sizeof(m->prefix), "%s", prefix);
    return m;
}

static void bad(struct rec *r, const char *what, const char *prefix, const char *key)
{
    if (!r->bad++)
        snprintf(r->why, sizeof(r->why), "%s: prefix %s key %s", what, prefix, key ? key : "-");
}

static void apply(struct rec *r, struct model *m, const struct etcd_event *ev, bool listing)
{
    if (strncmp(ev->key, m->prefix, strlen(m->prefix)) != 0)
        return bad(r, "a key outside its prefix", m->prefix, ev->key);
    if (!listing) {
        if (ev->revision <= m->last)
            bad(r, "a revision not above the last", m->prefix, ev->key);
        m->last = ev->revision;
        m->events++;
    }
    size_t i = 0;
    while (i < m->n && strcmp(m->keys[i], ev->key) != 0)
        i++;
    if (ev->type == ETCD_EVENT_DELETE) {
        if (i < m->n) {
            memmove(m->keys[i], m->keys[i + 1], (m->n - i - 1) * sizeof(m->keys[0]));
            memmove(m->values[i], m->values[i + 1], (m->n - i - 1) * sizeof(m->values[0]));
            m->n--;
        }
        return;
    }
    if (i == m->n && m->n == MAX_KEYS)
        return bad(r, "too many keys for the test", m->prefix, ev->key);
    if (i == m->n)
        snprintf(m->keys[m->n++], sizeof(m->keys[0]), "%s", ev->key);
    snprintf(m->values[i], sizeof(m->values[0]), "%s", ev->value);
}

static void on_batch(void *ctx, const char *prefix, const struct etcd_event *events, size_t count)
{
    struct rec *r = ctx;
    pthread_mutex_lock(&r->lock);
    struct model *m = prefix ? model_of(r, prefix) : NULL;
    if (!prefix && (count != 1 || events[0].type != ETCD_EVENT_DISCONNECTED))
        bad(r, "a batch without a prefix that is not DISCONNECTED alone", "(null)", NULL);
    else if (!prefix)
        r->disconnected++;
    else if (!m || !m->in_set)
        bad(r, "a batch for a prefix out of the set", prefix, count ? events[0].key : NULL);
    bool listing = false;
    for (size_t i = 0; m && m->in_set && i < count; i++) {
        const struct etcd_event *ev = &events[i];
        if (ev->type == ETCD_EVENT_SYNC_BEGIN) {
            listing = true;
            m->n = 0;
        } else if (ev->type == ETCD_EVENT_SYNC_END) {
            listing = false;
            m->lists++;
            m->last = ev->revision;
        } else if (ev->type == ETCD_EVENT_PUT || ev->type == ETCD_EVENT_DELETE)
            apply(r, m, ev, listing);
        else
            bad(r, "DISCONNECTED with a prefix", prefix, NULL);
    }
    pthread_mutex_unlock(&r->lock);
}

static struct rec *rec_new(void)
{
    struct rec *r = calloc(1, sizeof(*r));
    assert_non_null(r);
    pthread_mutex_init(&r->lock, NULL);
    return r;
}

static void rec_free(struct rec *r)
{
    pthread_mutex_destroy(&r->lock);
    free(r);
}

/* Adds prefix, marked in the set first (its listing may come before add returns). */
static int add(struct etcd_watch_set *set, struct rec *r, const char *prefix)
{
    pthread_mutex_lock(&r->lock);
    model_of(r, prefix)->in_set = true;
    pthread_mutex_unlock(&r->lock);
    struct weft_err err = {0};
    int rc = etcd_watch_set_add(set, prefix, &err);
    if (rc < 0) /* no fail_msg: the churner calls this on its own thread */
        fprintf(stderr, "add %s: %s\n", prefix, err.msg);
    return rc;
}

/* Adds prefix from revision rev on, marked in the set first like add. */
static int add_from(struct etcd_watch_set *set, struct rec *r, const char *prefix, int64_t rev)
{
    pthread_mutex_lock(&r->lock);
    model_of(r, prefix)->in_set = true;
    pthread_mutex_unlock(&r->lock);
    struct weft_err err = {0};
    int rc = etcd_watch_set_add_from(set, prefix, rev, &err);
    if (rc < 0)
        fprintf(stderr, "add %s from %lld: %s\n", prefix, (long long)rev, err.msg);
    return rc;
}

static bool remove_prefix(struct etcd_watch_set *set, struct rec *r, const char *prefix)
{
    bool was = etcd_watch_set_remove(set, prefix);
    pthread_mutex_lock(&r->lock);
    model_of(r, prefix)->in_set = false;
    pthread_mutex_unlock(&r->lock);
    return was;
}

/* A number about prefix's model, read under the lock. */
static int lists_of(struct rec *r, const char *prefix)
{
    pthread_mutex_lock(&r->lock);
    int n = model_of(r, prefix)->lists;
    pthread_mutex_unlock(&r->lock);
    return n;
}

static int events_of(struct rec *r, const char *prefix)
{
    pthread_mutex_lock(&r->lock);
    int n = model_of(r, prefix)->events;
    pthread_mutex_unlock(&r->lock);
    return n;
}

/* Whether what the callback holds for prefix is what etcd holds, key for key. */
static bool matches_etcd(struct etcd *etcd, struct rec *r, const char *prefix)
{
    struct etcd_kvs kvs;
    struct weft_err err = {0};
    if (etcd_get_prefix(etcd, prefix, &kvs, &err) < 0)
        fail_msg("get %s: %s", prefix, err.msg);
    pthread_mutex_lock(&r->lock);
    struct model *m = model_of(r, prefix);
    bool same = m->lists > 0 && m->n == kvs.count;
    for (size_t i = 0; same && i < kvs.count; i++) {
        size_t j = 0;
        while (j < m->n && strcmp(m->keys[j], kvs.items[i].key) != 0)
            j++;
        same = j < m->n && strcmp(m->values[j], kvs.items[i].value) == 0;
    }
    pthread_mutex_unlock(&r->lock);
    etcd_kvs_free(&kvs);
    return same;
}

/* What a wait looks at: the callback's model of prefix (key in it), etcd's copy. */
struct probe {
    struct etcd *etcd;
    struct rec *r;
    const char *prefix;
    const char *key;
};

/* Whether done(p) came true within WAIT_MS, polled every 20 ms. */
static bool wait_for(bool (*done)(const struct probe *), const struct probe *p)
{
    long deadline = now_ms() + WAIT_MS;
    while (!done(p) && now_ms() < deadline)
        usleep(20 * 1000);
    return done(p);
}

static bool probe_matches(const struct probe *p)
{
    return matches_etcd(p->etcd, p->r, p->prefix);
}

static void wait_matches(struct etcd *etcd, struct rec *r, const char *prefix)
{
    if (!wait_for(probe_matches, &(struct probe){.etcd = etcd, .r = r, .prefix = prefix}))
        fail_msg("what the set told of %s is not what etcd holds", prefix);
}

static void assert_clean(struct rec *r)
{
    pthread_mutex_lock(&r->lock);
    int n = r->bad;
    pthread_mutex_unlock(&r->lock);
    if (n)
        fail_msg("%d bad batches, the first: %s", n, r->why);
}

static void put(struct etcd *etcd, const char *key, const char *value)
{
    struct weft_err err = {0};
    if (etcd_put(etcd, key, value, 0, &err) < 0)
        fail_msg("put %s: %s", key, err.msg);
}

static void del(struct etcd *etcd, const char *key)
{
    struct weft_err err = {0};
    if (etcd_delete(etcd, key, NULL, &err) < 0)
        fail_msg("delete %s: %s", key, err.msg);
}

static struct etcd_watch_set *set_start(struct etcd *etcd, struct rec *r)
{
    struct etcd_watch_set *set;
    struct weft_err err = {0};
    if (etcd_watch_set_start(etcd, on_batch, r, &set, &err) < 0)
        fail_msg("start: %s", err.msg);
    return set;
}

static void prefixes_tagged_added_removed(void **state)
{
    struct etcd_live *l = *state;
    struct rec *r = rec_new();
    put(l->etcd, "/ws1/a/k1", "a1");
    put(l->etcd, "/ws1/b/k1", "b1");
    put(l->etcd, "/ws1/c/k1", "c1");
    put(l->etcd, "/ws1/a0", "beside a");
    struct etcd_watch_set *set = set_start(l->etcd, r);
    assert_int_equal(add(set, r, "/ws1/a/"), 0);
    assert_int_equal(add(set, r, "/ws1/b/"), 0);
    assert_int_equal(add(set, r, "/ws1/a/"), 1); /* already there: nothing done */
    wait_matches(l->etcd, r, "/ws1/a/");
    wait_matches(l->etcd, r, "/ws1/b/");

    put(l->etcd, "/ws1/a/k2", "a2");
    put(l->etcd, "/ws1/b/k2", "b2");
    put(l->etcd, "/ws1/c/k2", "c2"); /* not in the set (yet) */
    put(l->etcd, "/ws1/a1", "beside a");
    del(l->etcd, "/ws1/a/k1");
    put(l->etcd, "/ws1/b/k1", "b1 again");
    wait_matches(l->etcd, r, "/ws1/a/");
    wait_matches(l->etcd, r, "/ws1/b/");

    /* Added later: its listing holds what was put before, then its events come. */
    assert_int_equal(add(set, r, "/ws1/c/"), 0);
    wait_matches(l->etcd, r, "/ws1/c/");
    put(l->etcd, "/ws1/c/k3", "c3");
    wait_matches(l->etcd, r, "/ws1/c/");
    assert_int_equal(events_of(r, "/ws1/c/"), 1);

    /* Removed: nothing of it after remove returned, the others flow on. */
    assert_true(remove_prefix(set, r, "/ws1/b/"));
    assert_false(etcd_watch_set_remove(set, "/ws1/b/"));
    put(l->etcd, "/ws1/b/k3", "b3");
    put(l->etcd, "/ws1/a/k3", "a3");
    put(l->etcd, "/ws1/c/k4", "c4");
    wait_matches(l->etcd, r, "/ws1/a/");
    wait_matches(l->etcd, r, "/ws1/c/");
    usleep(200 * 1000); /* time for a stray b batch to show */
    assert_int_equal(lists_of(r, "/ws1/a/"), 1);
    assert_int_equal(lists_of(r, "/ws1/b/"), 1);
    assert_int_equal(lists_of(r, "/ws1/c/"), 1);
    assert_int_equal(events_of(r, "/ws1/a/"), 3);
    assert_int_equal(events_of(r, "/ws1/b/"), 2);
    assert_clean(r);

    /* Added again: listed afresh, b3 in the listing. */
    assert_int_equal(add(set, r, "/ws1/b/"), 0);
    wait_matches(l->etcd, r, "/ws1/b/");
    assert_int_equal(lists_of(r, "/ws1/b/"), 2);
    long before = now_ms();
    etcd_watch_set_stop(set);
    assert_true(now_ms() - before < 1500);
    assert_clean(r);
    rec_free(r);
}

#define CHURN_PREFIXES 5
#define WRITES 300
#define CHURNS 40 /* adds and removes at least, during the writes and after */

struct churn {
    struct etcd *etcd;
    struct etcd_watch_set *set;
    struct rec *r;
    atomic_bool done;
    int adds, removes, wrong; /* wrong: an add or remove that did not answer as expected */
    int p0_changes;           /* the writer's puts and deletes under p0 that changed it */
};

static void churn_prefix(int i, char *out, size_t size)
{
    snprintf(out, size, "/ws2/p%d/", i);
}

static void *writer(void *arg)
{
    struct churn *c = arg;
    for (int n = 0; n < WRITES; n++) {
        char key[48], value[16];
        snprintf(key, sizeof(key), "/ws2/p%d/k%d", n % CHURN_PREFIXES, n % 7);
        snprintf(value, sizeof(value), "v%d", n);
        bool changed = true;
        struct weft_err err = {0};
        if (n % 11 == 10 && etcd_delete(c->etcd, key, &changed, &err) < 0)
            changed = false, c->wrong++;
        else if (n % 11 != 10 && etcd_put(c->etcd, key, value, 0, &err) < 0)
            changed = false, c->wrong++;
        c->p0_changes += changed && n % CHURN_PREFIXES == 0;
    }
    atomic_store(&c->done, true);
    return NULL;
}

/* Prefixes 1.. in and out of the set while the writer runs (and on, to CHURNS); p0
 * stays in. */
static void *churner(void *arg)
{
    struct churn *c = arg;
    unsigned seed = 7;
    bool in[CHURN_PREFIXES] = {true};
    while (!atomic_load(&c->done) || c->adds + c->removes < CHURNS) {
        int i = 1 + (int)(rand_r(&seed) % (CHURN_PREFIXES - 1));
        char prefix[32];
        churn_prefix(i, prefix, sizeof(prefix));
        if (in[i]) {
            c->wrong += !remove_prefix(c->set, c->r, prefix);
            c->removes++;
        } else {
            c->wrong += add(c->set, c->r, prefix) != 0;
            c->adds++;
        }
        in[i] = !in[i];
        usleep((rand_r(&seed) % 5) * 1000);
    }
    for (int i = 1; i < CHURN_PREFIXES; i++) { /* all in at the end, to compare */
        char prefix[32];
        churn_prefix(i, prefix, sizeof(prefix));
        if (!in[i])
            c->wrong += add(c->set, c->r, prefix) != 0;
    }
    return NULL;
}

static void add_remove_from_another_thread(void **state)
{
    struct etcd_live *l = *state;
    struct churn c = {.etcd = l->etcd, .r = rec_new()};
    atomic_init(&c.done, false);
    c.set = set_start(l->etcd, c.r);
    assert_int_equal(add(c.set, c.r, "/ws2/p0/"), 0);
    wait_matches(l->etcd, c.r, "/ws2/p0/");
    pthread_t w, ch;
    assert_int_equal(pthread_create(&w, NULL, writer, &c), 0);
    assert_int_equal(pthread_create(&ch, NULL, churner, &c), 0);
    pthread_join(w, NULL);
    pthread_join(ch, NULL);
    for (int i = 0; i < CHURN_PREFIXES; i++) {
        char prefix[32];
        churn_prefix(i, prefix, sizeof(prefix));
        wait_matches(l->etcd, c.r, prefix);
    }
    /* p0 never left: one listing, then each change the writer made under it, once. */
    assert_int_equal(lists_of(c.r, "/ws2/p0/"), 1);
    assert_int_equal(c.wrong, 0);
    assert_int_equal(events_of(c.r, "/ws2/p0/"), c.p0_changes);
    print_message("churn: %d adds, %d removes during %d writes\n", c.adds, c.removes, WRITES);
    etcd_watch_set_stop(c.set);
    assert_clean(c.r);
    rec_free(c.r);
}

/* etcd away (not longer than the set's grace), meanwhile on another client port:
 * changes, and a compaction at `compact`; then back on its own port. */
static void change_while_away(struct etcd_live *l, const char *(*changes)[2], size_t n,
                              int64_t *compact)
{
    char endpoint[64];
    struct etcd *side;
    int port = etcd_live_away(l, &side, endpoint);
    assert_true(port > 0);
    struct weft_err err = {0};
    for (size_t i = 0; i < n; i++) {
        if (changes[i][1])
            put(side, changes[i][0], changes[i][1]);
        else
            del(side, changes[i][0]);
        if (i == 0) { /* compact at the first change's revision */
            struct etcd_kv kv;
            bool found = false;
            assert_int_equal(etcd_get(side, changes[0][0], &kv, &found, &err), 0);
            assert_true(found);
            *compact = kv.mod_revision;
            etcd_kv_clear(&kv);
        }
    }
    etcd_close(side);
    assert_int_equal(etcd_live_compact(endpoint, *compact), 0);
    assert_int_equal(etcd_live_back(l, port), 0);
}

static void compaction_relists_only_the_prefix_behind(void **state)
{
    struct etcd_live *l = *state;
    struct rec *r = rec_new();
    struct etcd_watch_set *set = set_start(l->etcd, r);
    etcd_watch_set_grace_ms(set, 30000); /* the away time must not count as an outage */
    assert_int_equal(add(set, r, "/ws3/a/"), 0);
    assert_int_equal(add(set, r, "/ws3/b/"), 0);
    wait_matches(l->etcd, r, "/ws3/a/");
    wait_matches(l->etcd, r, "/ws3/b/");
    put(l->etcd, "/ws3/a/x", "x"); /* a's watch resumes after this revision */
    put(l->etcd, "/ws3/b/y", "y"); /* b's after this one, the compaction's - 1 */
    wait_matches(l->etcd, r, "/ws3/a/");
    wait_matches(l->etcd, r, "/ws3/b/");
    const char *changes[][2] = {
        {"/ws3/out", "outside"}, {"/ws3/a/z", "z"}, {"/ws3/a/x", NULL}, {"/ws3/b/w", "w"}};
    int64_t compact = 0;
    change_while_away(l, changes, 4, &compact);
    wait_matches(l->etcd, r, "/ws3/a/");
    wait_matches(l->etcd, r, "/ws3/b/");
    put(l->etcd, "/ws3/a/after", "1");
    put(l->etcd, "/ws3/b/after", "2");
    wait_matches(l->etcd, r, "/ws3/a/");
    wait_matches(l->etcd, r, "/ws3/b/");
    assert_int_equal(lists_of(r, "/ws3/a/"), 2); /* compacted: listed again */
    assert_int_equal(lists_of(r, "/ws3/b/"), 1); /* resumed at the compaction: not */
    assert_int_equal(events_of(r, "/ws3/b/"), 3); /* y, w (through the watch), after */
    pthread_mutex_lock(&r->lock);
    assert_int_equal(r->disconnected, 0);
    pthread_mutex_unlock(&r->lock);
    etcd_watch_set_stop(set);
    assert_clean(r);
    rec_free(r);
}

static void put_each(struct etcd *etcd, const char *const *prefixes, size_t n, const char *key)
{
    for (size_t i = 0; i < n; i++) {
        char k[64];
        snprintf(k, sizeof(k), "%s%s", prefixes[i], key);
        put(etcd, k, key);
    }
}

static void restart_resumes_every_prefix(void **state)
{
    struct etcd_live *l = *state;
    struct rec *r = rec_new();
    struct etcd_watch_set *set = set_start(l->etcd, r);
    etcd_watch_set_grace_ms(set, 20000); /* a restart is no outage here */
    const char *const p[] = {"/ws4/a/", "/ws4/b/", "/ws4/c/"};
    for (size_t i = 0; i < 3; i++)
        assert_int_equal(add(set, r, p[i]), 0);
    for (size_t i = 0; i < 3; i++) /* listed (empty) before k1, which is then an event */
        wait_matches(l->etcd, r, p[i]);
    put_each(l->etcd, p, 3, "k1");
    for (size_t i = 0; i < 3; i++)
        wait_matches(l->etcd, r, p[i]);
    assert_int_equal(etcd_fixture_restart(&l->fx), 0);
    put_each(l->etcd, p, 3, "k2");
    put_each(l->etcd, p, 3, "k3");
    for (size_t i = 0; i < 3; i++) {
        wait_matches(l->etcd, r, p[i]);
        assert_int_equal(lists_of(r, p[i]), 1);  /* resumed, not listed */
        assert_int_equal(events_of(r, p[i]), 3); /* k1, k2, k3: none lost, none twice */
    }
    /* Away longer than the grace: DISCONNECTED once, every prefix listed again. */
    etcd_watch_set_grace_ms(set, 300);
    etcd_fixture_kill(&l->fx);
    long deadline = now_ms() + WAIT_MS;
    for (;;) {
        pthread_mutex_lock(&r->lock);
        int told = r->disconnected;
        pthread_mutex_unlock(&r->lock);
        if (told || now_ms() > deadline)
            break;
        usleep(20 * 1000);
    }
    usleep(500 * 1000); /* a second one would come now */
    assert_int_equal(etcd_fixture_spawn(&l->fx), 0);
    put_each(l->etcd, p, 3, "k4");
    for (size_t i = 0; i < 3; i++)
        wait_matches(l->etcd, r, p[i]);
    pthread_mutex_lock(&r->lock);
    assert_int_equal(r->disconnected, 1);
    pthread_mutex_unlock(&r->lock);
    for (size_t i = 0; i < 3; i++)
        assert_int_equal(lists_of(r, p[i]), 2);
    etcd_watch_set_stop(set);
    assert_clean(r);
    rec_free(r);
}

/* The fabric's shape: a watch of members (joined/) whose callback adds each member's
 * prefix and removes it when the member leaves, from inside the set's own thread. */
struct members {
    struct rec *r;
    struct etcd_watch_set *set;
    int wrong; /* an add or remove from the callback that did not answer as expected */
};

static void on_members(void *ctx, const char *prefix, const struct etcd_event *events,
                       size_t count)
{
    struct members *mb = ctx;
    for (size_t i = 0; prefix && strcmp(prefix, "/ws5/joined/") == 0 && i < count; i++) {
        const struct etcd_event *ev = &events[i];
        char member[48];
        if (ev->type != ETCD_EVENT_PUT && ev->type != ETCD_EVENT_DELETE)
            continue;
        snprintf(member, sizeof(member), "/ws5/fabric/%s/", ev->key + strlen(prefix));
        if (ev->type == ETCD_EVENT_PUT)
            mb->wrong += add(mb->set, mb->r, member) < 0;
        else
            mb->wrong += !remove_prefix(mb->set, mb->r, member);
    }
    on_batch(mb->r, prefix, events, count);
}

static void members_added_and_removed_from_the_callback(void **state)
{
    struct etcd_live *l = *state;
    struct members mb = {.r = rec_new()};
    put(l->etcd, "/ws5/fabric/m1/x", "x");
    put(l->etcd, "/ws5/fabric/m2/y", "y");
    put(l->etcd, "/ws5/fabric/m3/z", "never a member");
    put(l->etcd, "/ws5/joined/m1", "{}");
    struct weft_err err = {0};
    if (etcd_watch_set_start(l->etcd, on_members, &mb, &mb.set, &err) < 0)
        fail_msg("start: %s", err.msg);
    assert_int_equal(add(mb.set, mb.r, "/ws5/joined/"), 0);
    wait_matches(l->etcd, mb.r, "/ws5/joined/");
    wait_matches(l->etcd, mb.r, "/ws5/fabric/m1/"); /* added by the joined/ listing */
    put(l->etcd, "/ws5/joined/m2", "{}");
    wait_matches(l->etcd, mb.r, "/ws5/fabric/m2/");
    put(l->etcd, "/ws5/joined/m2", "{\"again\":1}"); /* put again: no second listing */
    put(l->etcd, "/ws5/fabric/m2/y2", "y2");
    wait_matches(l->etcd, mb.r, "/ws5/fabric/m2/");
    del(l->etcd, "/ws5/joined/m1");
    wait_matches(l->etcd, mb.r, "/ws5/joined/"); /* m1 removed in that batch */
    put(l->etcd, "/ws5/fabric/m1/x2", "after it left");
    put(l->etcd, "/ws5/fabric/m2/y3", "y3");
    wait_matches(l->etcd, mb.r, "/ws5/fabric/m2/");
    usleep(200 * 1000); /* time for a stray m1 batch to show */
    etcd_watch_set_stop(mb.set);
    assert_int_equal(mb.wrong, 0);
    assert_int_equal(lists_of(mb.r, "/ws5/fabric/m1/"), 1);
    assert_int_equal(events_of(mb.r, "/ws5/fabric/m1/"), 0);
    assert_int_equal(lists_of(mb.r, "/ws5/fabric/m2/"), 1);
    assert_int_equal(events_of(mb.r, "/ws5/fabric/m2/"), 2);
    assert_int_equal(lists_of(mb.r, "/ws5/fabric/m3/"), 0);
    assert_clean(mb.r);
    rec_free(mb.r);
}

/* The revision key was last written at. */
static int64_t mod_revision_of(struct etcd *etcd, const char *key)
{
    struct etcd_kv kv;
    bool found = false;
    struct weft_err err = {0};
    if (etcd_get(etcd, key, &kv, &found, &err) < 0 || !found)
        fail_msg("get %s: %s", key, found ? err.msg : "absent");
    int64_t rev = kv.mod_revision;
    etcd_kv_clear(&kv);
    return rev;
}

/* Whether prefix's model holds key. */
static bool holds(struct rec *r, const char *prefix, const char *key)
{
    pthread_mutex_lock(&r->lock);
    struct model *m = model_of(r, prefix);
    bool found = false;
    for (size_t i = 0; i < m->n && !found; i++)
        found = strcmp(m->keys[i], key) == 0;
    pthread_mutex_unlock(&r->lock);
    return found;
}

static bool probe_holds(const struct probe *p)
{
    return holds(p->r, p->prefix, p->key);
}

static void wait_holds(struct rec *r, const char *prefix, const char *key)
{
    if (!wait_for(probe_holds, &(struct probe){.r = r, .prefix = prefix, .key = key}))
        fail_msg("the set never told %s", key);
}

/* Whether the set told the callback it lost the store. */
static bool probe_disconnected(const struct probe *p)
{
    pthread_mutex_lock(&p->r->lock);
    bool told = p->r->disconnected;
    pthread_mutex_unlock(&p->r->lock);
    return told;
}

/* A prefix added from a revision: an empty listing, then the events from that revision
 * (one written at it included, one written before it not: the caller vouches that the
 * prefix held nothing then); added from a revision etcd compacted away: listed after
 * all, the older key in the listing. */
static void added_from_a_revision_is_watched_without_a_listing(void **state)
{
    struct etcd_live *l = *state;
    struct rec *r = rec_new();
    put(l->etcd, "/ws6/a/before", "not told");
    put(l->etcd, "/ws6/a/at", "told");
    int64_t at = mod_revision_of(l->etcd, "/ws6/a/at");
    put(l->etcd, "/ws6/a/after", "told");
    struct etcd_watch_set *set = set_start(l->etcd, r);
    struct weft_err err = {0};
    assert_int_equal(etcd_watch_set_add_from(set, "/ws6/a/", 0, &err), -1);
    assert_int_equal(err.code, -EINVAL);
    assert_int_equal(add_from(set, r, "/ws6/a/", at), 0);
    assert_int_equal(add_from(set, r, "/ws6/a/", at), 1); /* already there */
    wait_holds(r, "/ws6/a/", "/ws6/a/after");
    put(l->etcd, "/ws6/a/later", "told");
    wait_holds(r, "/ws6/a/", "/ws6/a/later");
    assert_true(holds(r, "/ws6/a/", "/ws6/a/at"));
    assert_false(holds(r, "/ws6/a/", "/ws6/a/before"));
    assert_int_equal(lists_of(r, "/ws6/a/"), 1); /* the empty one */
    assert_int_equal(events_of(r, "/ws6/a/"), 3);

    /* From a revision compacted away: listed, "before" with the rest. */
    put(l->etcd, "/ws6/b/before", "listed");
    int64_t gone = mod_revision_of(l->etcd, "/ws6/b/before");
    put(l->etcd, "/ws6/b/at", "listed");
    assert_int_equal(etcd_live_compact(l->fx.endpoint, mod_revision_of(l->etcd, "/ws6/b/at")), 0);
    assert_int_equal(add_from(set, r, "/ws6/b/", gone), 0); /* below "at" */
    wait_matches(l->etcd, r, "/ws6/b/");
    assert_int_equal(lists_of(r, "/ws6/b/"), 2); /* the empty one, then the real one */
    put(l->etcd, "/ws6/b/later", "told");
    wait_matches(l->etcd, r, "/ws6/b/");

    /* Added from a revision during an outage: once the store is back, one listing (the
     * outage's, or the empty one), never both (an empty one after a real one would wipe
     * what it told), and nothing from the revision on lost. */
    put(l->etcd, "/ws6/c/before", "listed");
    put(l->etcd, "/ws6/c/at", "listed");
    int64_t c_at = mod_revision_of(l->etcd, "/ws6/c/at");
    etcd_watch_set_grace_ms(set, 300);
    etcd_fixture_kill(&l->fx);
    assert_true(wait_for(probe_disconnected, &(struct probe){.r = r}));
    assert_int_equal(add_from(set, r, "/ws6/c/", c_at), 0);
    assert_int_equal(etcd_fixture_spawn(&l->fx), 0);
    put(l->etcd, "/ws6/c/later", "told");
    wait_holds(r, "/ws6/c/", "/ws6/c/later");
    usleep(300 * 1000); /* time for a stray empty listing to come */
    assert_true(holds(r, "/ws6/c/", "/ws6/c/at"));
    assert_true(holds(r, "/ws6/c/", "/ws6/c/later"));
    assert_int_equal(lists_of(r, "/ws6/c/"), 1);
    etcd_watch_set_stop(set);
    assert_clean(r);
    rec_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(prefixes_tagged_added_removed),
        cmocka_unit_test(add_remove_from_another_thread),
        cmocka_unit_test(compaction_relists_only_the_prefix_behind),
        cmocka_unit_test(restart_resumes_every_prefix),
        cmocka_unit_test(members_added_and_removed_from_the_callback),
        cmocka_unit_test(added_from_a_revision_is_watched_without_a_listing),
    };
    return etcd_fixture_run_group(tests, etcd_live_group_setup, etcd_live_group_teardown);
}
