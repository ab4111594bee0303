/*
 * watch_seeds.c: writes the seeds of tests/fuzz/fuzz_watch.c (run by corpus_watch.sh):
 * gRPC Watch answers as etcd 3.4 sends them to a stream holding fuzz_watch.c's three
 * watches, packed with the same protobuf-c code the daemon reads them with. A seed is
 * fuzz_watch.c's piece byte, then the frames. Usage: watch_seeds DIR
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/etcd_rpc.pb-c.h"

static unsigned char seed[65536];
static size_t seed_len;

/* Appends one gRPC frame: no compression, a 4-byte big-endian length, the message. */
static void frame(const Weftetcd__WatchResponse *r)
{
    size_t len = weftetcd__watch_response__get_packed_size(r);
    if (seed_len + 5 + len > sizeof(seed))
        exit(1);
    unsigned char *p = seed + seed_len;
    p[0] = 0;
    p[1] = (unsigned char)(len >> 24), p[2] = (unsigned char)(len >> 16);
    p[3] = (unsigned char)(len >> 8), p[4] = (unsigned char)len;
    weftetcd__watch_response__pack(r, p + 5);
    seed_len += 5 + len;
}

static void response(int64_t revision, int64_t watch_id, int created, int canceled, int64_t compact,
                     const char *reason, Weftetcd__Event **events, size_t n)
{
    Weftetcd__ResponseHeader header = WEFTETCD__RESPONSE_HEADER__INIT;
    header.revision = revision;
    Weftetcd__WatchResponse r = WEFTETCD__WATCH_RESPONSE__INIT;
    r.header = &header;
    r.watch_id = watch_id;
    r.created = created;
    r.canceled = canceled;
    r.compact_revision = compact;
    r.cancel_reason = (char *)(reason ? reason : "");
    r.events = events;
    r.n_events = n;
    frame(&r);
}

static void event(Weftetcd__Event *e, Weftetcd__KeyValue *kv, int deleted, const char *key,
                  const char *value, int64_t revision)
{
    *e = (Weftetcd__Event)WEFTETCD__EVENT__INIT;
    *kv = (Weftetcd__KeyValue)WEFTETCD__KEY_VALUE__INIT;
    e->type = deleted ? WEFTETCD__EVENT__EVENT_TYPE__DELETE : WEFTETCD__EVENT__EVENT_TYPE__PUT;
    e->kv = kv;
    kv->key.data = (uint8_t *)key;
    kv->key.len = strlen(key);
    kv->value.data = (uint8_t *)value;
    kv->value.len = deleted ? 0 : strlen(value);
    kv->mod_revision = revision;
    kv->create_revision = deleted ? 0 : revision;
    kv->version = deleted ? 0 : 1;
}

static void write_seed(const char *dir, const char *name, unsigned char piece)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (!f || fputc(piece, f) == EOF || fwrite(seed, 1, seed_len, f) != seed_len || fclose(f))
        exit(1);
    seed_len = 0;
}

int main(int argc, char **argv)
{
    if (argc != 2)
        return 2;
    const char *dir = argv[1];
    Weftetcd__Event e[3];
    Weftetcd__KeyValue kv[3];
    Weftetcd__Event *list[3] = {&e[0], &e[1], &e[2]};
    const char *peer =
        "{\"ip\":\"10.77.0.9\",\"mac\":\"02:42:0a:4d:00:09\",\"vtep\":\"192.0.2.2\"}";

    /* The first watch created, then its events: two puts and a delete. */
    response(10, 0, 1, 0, 0, NULL, NULL, 0);
    event(&e[0], &kv[0], 0, "/weft/v1/fabric/a/peers/10.77.0.9", peer, 11);
    event(&e[1], &kv[1], 0, "/weft/v1/fabric/a/member", "{\"vtep\":\"192.0.2.2\"}", 12);
    event(&e[2], &kv[2], 1, "/weft/v1/fabric/a/peers/10.77.0.9", "", 13);
    response(13, 0, 0, 0, 0, NULL, list, 3);
    write_seed(dir, "created_events", 0xff);

    /* All three created in turn (etcd numbers them 0, 1, 2), events for each,
     * a stream progress answer, a watch's own progress. */
    response(10, 0, 1, 0, 0, NULL, NULL, 0);
    response(10, 1, 1, 0, 0, NULL, NULL, 0);
    response(10, 2, 1, 0, 0, NULL, NULL, 0);
    event(&e[0], &kv[0], 0, "/weft/v1/fabric/b/member", "{\"vtep\":\"192.0.2.3\"}", 14);
    response(14, 1, 0, 0, 0, NULL, list, 1);
    event(&e[0], &kv[0], 0, "/weft/v1/hosts/192.0.2.3", "{}", 15);
    response(15, 2, 0, 0, 0, NULL, list, 1);
    response(15, -1, 0, 0, 0, NULL, NULL, 0);
    response(15, 1, 0, 0, 0, NULL, NULL, 0);
    write_seed(dir, "three_watches", 7);

    /* The first created, the second refused (no permission), the third's start
     * revision compacted. */
    response(10, 0, 1, 0, 0, NULL, NULL, 0);
    response(10, -1, 1, 1, 0, "permission denied", NULL, 0);
    response(10, 1, 1, 0, 0, NULL, NULL, 0);
    response(10, 1, 0, 1, 9, "mvcc: required revision has been compacted", NULL, 0);
    write_seed(dir, "refused_compacted", 0);

    /* A progress answer before anything is created, then the watch cancelled. */
    response(20, -1, 0, 0, 0, NULL, NULL, 0);
    response(20, 0, 1, 0, 0, NULL, NULL, 0);
    response(21, 0, 0, 1, 0, "canceled by the server", NULL, 0);
    write_seed(dir, "progress_cancel", 3);
    return 0;
}
