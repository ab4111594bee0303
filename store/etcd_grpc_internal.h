/*
 * etcd_grpc_internal.h: what the files of the gRPC Watch client share (see
 * etcd_grpc_watch.h for the contract). Only store/etcd_grpc_*.c include this.
 *
 *   etcd_grpc_codec.c   gRPC framing and the WatchRequest/WatchResponse messages:
 *                       pure, no curl, no state (the other three call it).
 *   etcd_grpc_watch.c   the watch table of a stream: add, cancel, progress (any
 *                       thread), and re-adding every live watch when it resumes.
 *   etcd_grpc_answer.c  answers in (curl's write and header callbacks): frames
 *                       gathered, matched to watches, delivered.
 *   etcd_grpc_stream.c  the loop (curl multi), each stream's HTTP/2 POST, its end,
 *                       and the backoff and member rotation of a resume.
 *
 * Threads: the loop thread (the one calling etcd_grpc_loop_run) runs curl, every
 * callback and every delivery. Other threads may only add, cancel and ask for
 * progress; they touch the stream under its lock and wake the loop with
 * curl_multi_wakeup. `lock` guards the fields marked so below; nothing blocks
 * under it and it is never held while delivering or calling into curl.
 */
#ifndef WEFT_ETCD_GRPC_INTERNAL_H
#define WEFT_ETCD_GRPC_INTERNAL_H

#include <curl/curl.h>
#include <pthread.h>

#include "common/buf.h"
#include "store/etcd_grpc_watch.h"
#include "store/etcd_health.h"
#include "store/etcd_rpc.pb-c.h"

#define GRPC_FRAME_HEADER 5
#define GRPC_FRAME_MAX (64u << 20) /* one answer; etcd's are far smaller */
#define GRPC_ENDPOINTS_MAX 8

struct etcd_grpc_loop {
    CURLM *multi;
    struct etcd_grpc_watch *streams; /* open on this loop; loop thread only */
};

enum slot_state { SLOT_PENDING, SLOT_ACTIVE };

/* One live watch. A cancelled or refused watch's slot is removed at once. */
struct watch_slot {
    int64_t id;        /* ours */
    int64_t server_id; /* etcd's (or the proxy's), once created */
    enum slot_state state;
    bool create_sent;      /* PENDING: its create is on its way (one at a time) */
    bool cancel_wanted;    /* asked: sent (if PENDING: once created); a resume drops it */
    bool told_created;     /* its CREATED was delivered: a resume's re-add is not told */
    char *key, *range_end; /* for re-adding: key owns one block holding both */
    int64_t next_rev;      /* where a re-add starts: 0 (now) until created */
};

struct etcd_grpc_watch {
    struct etcd_grpc_loop *loop;
    struct etcd_grpc_watch *next; /* on loop->streams */
    CURL *h;                      /* NULL while waiting to resume */
    struct curl_slist *headers;
    struct weft_buf in;      /* the start of a frame not yet whole (loop thread) */
    struct weft_err failure; /* why the write callback stopped the transfer */
    int grpc_status;         /* -1 until the trailer (or header) comes */
    char grpc_message[160];
    etcd_grpc_watch_fn fn;
    void *ctx;
    char errbuf[CURL_ERROR_SIZE];
    /* where and how to connect (owned copies), and resuming */
    char *endpoints[GRPC_ENDPOINTS_MAX];
    size_t endpoint_count, endpoint_at;
    size_t endpoint_member[GRPC_ENDPOINTS_MAX]; /* its index in health's members, or SIZE_MAX */
    struct etcd_health *health;                 /* NULL: nothing watches the members */
    struct etcd_socket_owner owner;             /* the current handle's, for its sockets */
    bool tls;
    char *ca_file, *cert_file, *key_file;
    int resume_ms;     /* 0: no resume */
    unsigned attempts; /* resumes since a watch was last created */
    long resume_at;    /* clock_monotonic_ms() of the next stream, when h is NULL */
    /* under lock */
    pthread_mutex_t lock;
    struct weft_buf out; /* frames not yet handed to curl */
    bool send_paused;    /* the read callback paused the upload */
    bool unpause_wanted; /* a frame came while paused: the loop resumes the upload */
    bool down;           /* between a failed stream and its successor */
    bool ended;          /* STREAM_END delivered: nothing more */
    struct watch_slot *slots;
    size_t slot_count, slot_cap;
    int64_t next_id;
};

/* codec */
int grpc_frame_create(struct weft_buf *out, const char *key, const char *range_end,
                      int64_t start_revision, struct weft_err *err);
int grpc_frame_cancel(struct weft_buf *out, int64_t server_id, struct weft_err *err);
int grpc_frame_progress(struct weft_buf *out, struct weft_err *err);
/* The next whole frame of in[*off..len): 1 and *resp (to free with
 * weftetcd__watch_response__free_unpacked) when one is whole, 0 when more bytes are
 * needed, -1 on a frame that cannot be read. */
int grpc_frame_next(const struct weft_buf *in, size_t *off, Weftetcd__WatchResponse **resp,
                    struct weft_err *err);

/* watch table (etcd_grpc_watch.c); *_locked: the caller holds w->lock */
/* The watch whose create is on its way (NULL: none), and sending the next one's. */
struct watch_slot *grpc_slot_in_flight_locked(struct etcd_grpc_watch *w);
int grpc_send_next_create_locked(struct etcd_grpc_watch *w, struct weft_err *err);
struct watch_slot *grpc_slot_by_server_id_locked(struct etcd_grpc_watch *w, int64_t server_id);
void grpc_slot_remove_locked(struct etcd_grpc_watch *w, struct watch_slot *slot);
/* Marks that out has a frame to send: the loop unpauses the upload if paused. */
void grpc_frame_queued_locked(struct etcd_grpc_watch *w);
/* For a new stream: every live watch re-added from its next revision. The ids of
 * watches whose cancel was asked while down go to *gone (to free(); *gone_n). */
int grpc_slots_readd_locked(struct etcd_grpc_watch *w, int64_t **gone, size_t *gone_n,
                            struct weft_err *err);
void grpc_slots_free_locked(struct etcd_grpc_watch *w);

/* answers in (etcd_grpc_answer.c) */
void grpc_deliver(struct etcd_grpc_watch *w, struct etcd_grpc_answer *a);
size_t grpc_write_cb(char *data, size_t size, size_t nmemb, void *userp);
size_t grpc_header_cb(char *line, size_t size, size_t nitems, void *userp);

#endif
