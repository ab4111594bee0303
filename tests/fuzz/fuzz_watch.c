/*
 * fuzz_watch.c: libFuzzer target over what a gRPC Watch stream brings back from
 * etcd (or from whatever answers on its address): the frames gathered from curl's
 * pieces, unpacked, matched to their watches and delivered (store/etcd_grpc_answer.c,
 * etcd_grpc_codec.c, the watch table of etcd_grpc_watch.c).
 *
 * Each input runs on a fresh stream (opened on a loop that is never run, so nothing
 * connects) holding three watches: the first's create is on its way, the other two
 * wait their turn. The first input byte says how the rest is cut into the pieces
 * curl would hand over. What must hold, beyond not crashing and no sanitizer report:
 *  - answers name only watches that exist: CREATED once per watch, and only for the
 *    one whose create was on its way; EVENTS and CANCELED only for a created watch;
 *    nothing for a watch after its CANCELED;
 *  - an EVENTS answer carries at least one event, each with a key of at least one
 *    byte and a value (empty for a delete) that can be copied as the watch set does;
 *  - the write callback stops the stream only with a failure that says why, and
 *    delivers neither STREAM_END nor RESUMING (those come from the stream's end).
 * Seeds: tests/fuzz/corpus_watch.sh (answers as etcd 3.4 sends them). Built with
 * -DFUZZ_WATCH_VERBOSE it prints each answer (to check what a seed reaches).
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/etcd_grpc_internal.h"

#define WATCHES 3

static struct {
    int64_t ids[WATCHES];
    bool created[WATCHES], canceled[WATCHES];
} state;

static int watch_index(int64_t id)
{
    for (int i = 0; i < WATCHES; i++)
        if (state.ids[i] == id)
            return i;
    return -1;
}

static void on_answer(void *ctx, const struct etcd_grpc_answer *a)
{
    (void)ctx;
    int i = watch_index(a->watch);
#ifdef FUZZ_WATCH_VERBOSE
    fprintf(stderr, "answer kind %d watch %lld (index %d) revision %lld events %zu reason \"%s\"\n",
            (int)a->kind, (long long)a->watch, i, (long long)a->revision, a->event_count,
            a->reason ? a->reason : "(null)");
#endif
    switch (a->kind) {
    case ETCD_GRPC_CREATED:
        if (i < 0 || state.created[i] || state.canceled[i])
            abort();
        state.created[i] = true;
        break;
    case ETCD_GRPC_EVENTS:
        if (i < 0 || !state.created[i] || state.canceled[i] || a->event_count == 0)
            abort();
        for (size_t e = 0; e < a->event_count; e++) {
            const struct etcd_grpc_event *ev = &a->events[e];
            if (!ev->key || ev->key_len == 0 || !ev->value)
                abort();
            char *copy = malloc(ev->key_len + ev->value_len + 2); /* as the watch set does */
            if (!copy)
                abort();
            memcpy(copy, ev->key, ev->key_len);
            memcpy(copy + ev->key_len + 1, ev->value, ev->value_len);
            free(copy);
        }
        break;
    case ETCD_GRPC_PROGRESS:
        if (a->watch != -1 && (i < 0 || !state.created[i] || state.canceled[i]))
            abort();
        break;
    case ETCD_GRPC_CANCELED:
        /* A refused create cancels a watch that was never created. */
        if (i < 0 || state.canceled[i] || !a->reason)
            abort();
        state.canceled[i] = true;
        break;
    default: /* STREAM_END and RESUMING come from the stream's end, not from its bytes */
        abort();
    }
}

static struct etcd_grpc_loop *loop;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct weft_err err = {0};
    if (!loop && etcd_grpc_loop_new(&loop, false, &err) < 0)
        abort();
    if (size < 1)
        return 0;
    /* Piece sizes 1..64 (the byte's low six bits + 1), or all at once for 0xff. */
    size_t piece = data[0] == 0xff ? size : (size_t)(data[0] & 0x3f) + 1;
    data++, size--;

    memset(&state, 0, sizeof(state));
    const struct etcd_grpc_config config = {.endpoint = "127.0.0.1:9"};
    struct etcd_grpc_watch *w = NULL;
    if (etcd_grpc_watch_open(loop, &config, on_answer, NULL, &w, &err) < 0)
        abort();
    static const char *const keys[WATCHES] = {"/weft/v1/fabric/a/", "/weft/v1/fabric/b/",
                                              "/weft/v1/hosts/"};
    for (int i = 0; i < WATCHES; i++)
        if (etcd_grpc_watch_add(w, keys[i], NULL, i == 2 ? 7 : 0, &state.ids[i], &err) < 0)
            abort();

    char *bytes = malloc(size ? size : 1); /* curl hands over a buffer of its own */
    if (!bytes)
        abort();
    memcpy(bytes, data, size);
    for (size_t off = 0; off < size;) {
        size_t n = size - off < piece ? size - off : piece;
        size_t taken = grpc_write_cb(bytes + off, 1, n, w);
        if (taken != n) {
#ifdef FUZZ_WATCH_VERBOSE
            fprintf(stderr, "stream stopped: %s\n", w->failure.msg);
#endif
            if (taken != 0 || w->failure.code == 0 || w->failure.msg[0] == '\0')
                abort();
            break;
        }
        off += n;
    }
    free(bytes);
    etcd_grpc_watch_close(w);
    return 0;
}
