/*
 * etcd_grpc_recorder.h: what the tests of store/etcd_grpc_*.c share: a recorder of
 * everything a stream delivers (struct recorder, record() as the callback), a
 * stream on its own loop (struct stream), running the loop until a count is reached,
 * and puts through the store client. Header-only, as etcd_live.h; used by
 * tests/live/test_etcd_grpc_watch*.c. Records on the loop thread only.
 */
#ifndef WEFT_ETCD_GRPC_RECORDER_H
#define WEFT_ETCD_GRPC_RECORDER_H

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
#include "store/etcd_grpc_watch.h"
#include "tests/live/etcd_live.h"

#define MAX_REC 64

struct rec_event {
    int64_t watch;
    bool deleted;
    char key[48];
    char value[48];
    size_t value_len;
    bool value_patterned; /* every byte i is 'a' + i % 26 (the large value) */
    int64_t mod_revision;
};

/* Everything one stream delivered, in order. */
struct recorder {
    struct rec_event events[MAX_REC];
    size_t n_events;
    int64_t created[MAX_REC];
    size_t n_created;
    int64_t progress_rev[MAX_REC];
    size_t n_progress;
    int64_t canceled[MAX_REC];
    int64_t compact_rev[MAX_REC];
    char cancel_reason[128];
    size_t n_canceled;
    size_t n_resuming; /* RESUMING answers */
    int resume_code;   /* the last one's */
    bool ended;
    int end_code;
    char end_reason[256];
};

static inline void record(void *ctx, const struct etcd_grpc_answer *a)
{
    struct recorder *r = ctx;
    switch (a->kind) {
    case ETCD_GRPC_CREATED:
        assert_true(r->n_created < MAX_REC);
        r->created[r->n_created++] = a->watch;
        break;
    case ETCD_GRPC_EVENTS:
        for (size_t i = 0; i < a->event_count; i++) {
            const struct etcd_grpc_event *e = &a->events[i];
            assert_true(r->n_events < MAX_REC);
            struct rec_event *o = &r->events[r->n_events++];
            o->watch = a->watch;
            o->deleted = e->deleted;
            snprintf(o->key, sizeof(o->key), "%.*s", (int)e->key_len, e->key);
            snprintf(o->value, sizeof(o->value), "%.*s", (int)e->value_len, e->value);
            o->value_len = e->value_len;
            o->value_patterned = true;
            for (size_t j = 0; j < e->value_len; j++)
                o->value_patterned &= e->value[j] == 'a' + (char)(j % 26);
            o->mod_revision = e->mod_revision;
        }
        break;
    case ETCD_GRPC_PROGRESS:
        assert_true(r->n_progress < MAX_REC);
        r->progress_rev[r->n_progress++] = a->revision;
        break;
    case ETCD_GRPC_CANCELED:
        assert_true(r->n_canceled < MAX_REC);
        r->compact_rev[r->n_canceled] = a->compact_revision;
        snprintf(r->cancel_reason, sizeof(r->cancel_reason), "%s", a->reason);
        r->canceled[r->n_canceled++] = a->watch;
        break;
    case ETCD_GRPC_RESUMING:
        r->n_resuming++;
        r->resume_code = a->code;
        break;
    case ETCD_GRPC_STREAM_END:
        r->ended = true;
        r->end_code = a->code;
        snprintf(r->end_reason, sizeof(r->end_reason), "%s", a->reason);
        break;
    }
}

/* Runs the loop until *count reaches want (or the stream ends), at most 5 s. */
static inline bool run_until(struct etcd_grpc_loop *loop, const size_t *count, size_t want,
                             const struct recorder *r)
{
    struct weft_err err = {0};
    long deadline = clock_monotonic_ms() + 5000;
    while (*count < want && !r->ended && clock_monotonic_ms() < deadline)
        assert_int_equal(etcd_grpc_loop_run(loop, 50, &err), 0);
    return *count >= want;
}

/* A stream on endpoint with its loop, and watches on the given prefixes from now. */
struct stream {
    struct etcd_grpc_loop *loop;
    struct etcd_grpc_watch *w;
    struct recorder rec;
};

static inline void stream_open_config(struct stream *s, const struct etcd_grpc_config *c)
{
    struct weft_err err = {0};
    memset(&s->rec, 0, sizeof(s->rec));
    assert_int_equal(etcd_grpc_loop_new(&s->loop, false, &err), 0);
    assert_int_equal(etcd_grpc_watch_open(s->loop, c, record, &s->rec, &s->w, &err), 0);
}

static inline void stream_open(struct stream *s, const char *endpoint)
{
    struct etcd_grpc_config c = {.endpoint = endpoint};
    stream_open_config(s, &c);
}

static inline int64_t stream_add(struct stream *s, const char *prefix, int64_t from)
{
    struct weft_err err = {0};
    int64_t id = 0;
    size_t before = s->rec.n_created + s->rec.n_canceled;
    assert_int_equal(etcd_grpc_watch_add(s->w, prefix, NULL, from, &id, &err), 0);
    size_t answered = 0;
    struct weft_err e2 = {0};
    long deadline = clock_monotonic_ms() + 5000;
    while ((answered = s->rec.n_created + s->rec.n_canceled) == before && !s->rec.ended &&
           clock_monotonic_ms() < deadline)
        assert_int_equal(etcd_grpc_loop_run(s->loop, 50, &e2), 0);
    assert_true(answered > before);
    return id;
}

static inline void stream_close(struct stream *s)
{
    etcd_grpc_watch_close(s->w);
    etcd_grpc_loop_free(s->loop);
}

/* Puts key=value and returns the revision etcd gave it. */
static inline int64_t put(struct etcd_live *l, const char *key, const char *value)
{
    struct weft_err err = {0};
    struct etcd_kv kv = {0};
    bool found = false;
    assert_int_equal(etcd_put(l->etcd, key, value, 0, &err), 0);
    assert_int_equal(etcd_get(l->etcd, key, &kv, &found, &err), 0);
    assert_true(found);
    int64_t rev = kv.mod_revision;
    etcd_kv_clear(&kv);
    return rev;
}

static inline void check_event(const struct rec_event *e, int64_t watch, bool deleted,
                               const char *key, const char *value, int64_t rev)
{
    assert_int_equal(e->watch, watch);
    assert_int_equal(e->deleted, deleted);
    assert_string_equal(e->key, key);
    assert_string_equal(e->value, value);
    assert_int_equal(e->mod_revision, rev);
}

#endif
