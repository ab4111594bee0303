/*
 * etcd_grpc_watch.h: etcd's gRPC Watch API, spoken directly (issue 18; the daemon's
 * `--store-watch grpc`, else it watches through the JSON gateway, etcd_watch.c).
 *
 * Owns: Watch streams (POST /etcdserverpb.Watch/Watch over HTTP/2, libcurl with
 * nghttp2: prior knowledge for http, ALPN for https), each carrying any number of
 * watches; the gRPC framing (5-byte length prefix) and the protobuf messages of
 * store/etcd_rpc.proto (protobuf-c). A loop (struct etcd_grpc_loop, one curl multi
 * handle) drives one or more streams; several streams on one loop are what a load
 * program needs, the daemon would have one. The files: etcd_grpc_internal.h.
 * Callers: the watch set (store/etcd_watch_set*.c), tests/live/test_etcd_grpc_watch*.c
 * and bench/.
 *
 * Threads: a loop, its streams and their callbacks belong to one thread (the one
 * calling etcd_grpc_loop_run; open and close happen there too). etcd_grpc_watch_add,
 * _cancel, _progress and _ended may be called from any thread, also from the
 * stream's own callback: they queue the request under the stream's lock and wake
 * the loop (curl_multi_wakeup), whose next pass sends it. etcd_grpc_watch_close may
 * not be called from the callback, nor while another thread may still add.
 *
 * What comes back is delivered to the stream's callback from etcd_grpc_loop_run:
 * a watch created, its events, a progress answer, a watch cancelled (asked for, or
 * by etcd because its start revision was compacted: the caller re-lists), and the
 * end of the stream (an error: grpc-status trailer, HTTP status, transport failure,
 * or an answer this client cannot read). After the end nothing else arrives on that
 * stream. A cancelled or refused watch is forgotten once its CANCELED is delivered.
 *
 * Resume (config.resume_ms > 0): when the stream ends with an error a new stream may
 * not have (connection refused or lost, a timeout, the server ending it, a
 * grpc-status other than permission), RESUMING is delivered instead of STREAM_END
 * and, after resume_ms (doubling up to 16 times while no watch gets created), a new
 * stream opens on the next endpoint of config.endpoint and re-adds every live watch
 * from the revision after its last delivered event (or, when none was, its start
 * revision, or the revision it was created at + 1 for one started "from now"). Their
 * CREATED is not delivered again; their ids stay. A watch whose revision was
 * compacted meanwhile gets CANCELED with compact_revision, as any. Watches added
 * while waiting are sent with the new stream. Nothing here aborts or logs: errors
 * are returned or delivered.
 *
 * Progress: on etcd 3.4.23 a progress answer carries the store's revision in its
 * header but is not ordered after events of that revision still on their way
 * (etcd-io/etcd#15237, early 2023, marked for 3.4 and 3.5, makes it wait until every
 * watch has caught up; which 3.4 release carries it was not checked); see the test.
 */
#ifndef WEFT_ETCD_GRPC_WATCH_H
#define WEFT_ETCD_GRPC_WATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

struct etcd;
struct etcd_grpc_loop;
struct etcd_health;
struct etcd_grpc_watch;

enum etcd_grpc_kind {
    ETCD_GRPC_CREATED,    /* watch is in place at revision */
    ETCD_GRPC_EVENTS,     /* events of watch (event_count >= 1) */
    ETCD_GRPC_PROGRESS,   /* every watch has seen up to revision (watch == -1) */
    ETCD_GRPC_CANCELED,   /* watch ended: asked for, refused (reason), or compacted */
    ETCD_GRPC_STREAM_END, /* the stream ended (code, reason, grpc_status); nothing follows */
    ETCD_GRPC_RESUMING    /* the stream ended (code, reason); a new one follows, alone */
};

struct etcd_grpc_event {
    bool deleted; /* else a put */
    const char *key;
    size_t key_len;
    const char *value; /* empty for a delete */
    size_t value_len;
    int64_t create_revision;
    int64_t mod_revision; /* a delete's is the revision of the delete */
};

/* One answer; every pointer in it is valid only during the callback. */
struct etcd_grpc_answer {
    enum etcd_grpc_kind kind;
    int64_t watch;    /* the id etcd_grpc_watch_add gave; -1 for progress and the end */
    int64_t revision; /* the header's revision */
    const struct etcd_grpc_event *events;
    size_t event_count;
    int64_t compact_revision; /* CANCELED: nonzero when the start revision was compacted:
                                 the oldest revision etcd still has */
    const char *reason;       /* CANCELED, STREAM_END, RESUMING: why, else "" */
    int code;                 /* STREAM_END, RESUMING: a negative errno */
    int grpc_status;          /* STREAM_END, RESUMING: the grpc-status trailer; -1: none */
};

typedef void (*etcd_grpc_watch_fn)(void *ctx, const struct etcd_grpc_answer *answer);

/* separate_connections: each stream on its own connection (as separate hosts would
 * be), rather than multiplexed on one connection per member. */
int etcd_grpc_loop_new(struct etcd_grpc_loop **out, bool separate_connections,
                       struct weft_err *err);
/* Waits up to timeout_ms for the network, then moves every stream along and
 * delivers what arrived. -1 only when curl itself fails (err filled). */
int etcd_grpc_loop_run(struct etcd_grpc_loop *loop, int timeout_ms, struct weft_err *err);
/* Makes the loop's current or next etcd_grpc_loop_run return at once; any thread. */
void etcd_grpc_loop_wakeup(struct etcd_grpc_loop *loop);
/* Every stream on the loop must be closed first. NULL is fine. */
void etcd_grpc_loop_free(struct etcd_grpc_loop *loop);

struct etcd_grpc_config {
    const char *endpoint;  /* "host:port" of an etcd member or a grpc-proxy; several
                              (members), comma-separated: the first, then the next
                              on each resume (up to 8) */
    bool tls;              /* https (ALPN h2), the peer checked against ca_file */
    const char *ca_file;   /* NULL: the system's CAs */
    const char *cert_file; /* client certificate, NULL: none */
    const char *key_file;
    const char *token; /* an etcd auth token (etcd_grpc_token), NULL: no user */
    int resume_ms;     /* > 0: resume after this backoff (see above); 0: end */
    /* NULL, or the store client's member health (etcd_health.h): an endpoint that is
     * one of its members has its sockets shut when the prober finds that member
     * silent, so the stream resumes elsewhere at once instead of waiting for its own
     * timeouts, and a resume passes silent members by. */
    struct etcd_health *health;
};

/* Opens a Watch stream on loop (config borrowed for the call). The connection is
 * made by the next etcd_grpc_loop_run; a failure to connect is a STREAM_END. */
int etcd_grpc_watch_open(struct etcd_grpc_loop *loop, const struct etcd_grpc_config *config,
                         etcd_grpc_watch_fn fn, void *ctx, struct etcd_grpc_watch **out,
                         struct weft_err *err);
/* Ends the stream (if still running) and frees it. NULL is fine. */
void etcd_grpc_watch_close(struct etcd_grpc_watch *watch);

/* Watches [key, range_end) (range_end NULL: the prefix key; "" : only key) from
 * start_revision (0: from now), without previous values. *id receives this watch's
 * id, named by every answer about it (ids count from 1 on each stream). */
int etcd_grpc_watch_add(struct etcd_grpc_watch *watch, const char *key, const char *range_end,
                        int64_t start_revision, int64_t *id, struct weft_err *err);
/* Asks etcd to end watch id; a CANCELED answer follows. -ENOENT: no such watch. */
int etcd_grpc_watch_cancel(struct etcd_grpc_watch *watch, int64_t id, struct weft_err *err);
/* Asks for a PROGRESS answer. -EAGAIN while waiting to resume. */
int etcd_grpc_watch_progress(struct etcd_grpc_watch *watch, struct weft_err *err);
/* Whether the stream has ended (its STREAM_END was delivered; never while it
 * resumes). */
bool etcd_grpc_watch_ended(const struct etcd_grpc_watch *watch);

/* A copy of the token etcd's client currently holds (to free(); NULL when it has
 * no user), for etcd_grpc_config.token. */
int etcd_grpc_token(struct etcd *etcd, char **token, struct weft_err *err);

/* The members etcd's client knows, comma-separated, from the one that answered
 * last (to free()), for etcd_grpc_config.endpoint. */
int etcd_grpc_endpoints(struct etcd *etcd, char **list, struct weft_err *err);

#endif
