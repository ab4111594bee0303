/*
 * etcd.h: weft's client for etcd v3 over its JSON gateway (libcurl + jansson).
 *
 * Owns: the HTTP conversation with etcd, failover across the members named in
 * --store, leases, list+watch streams, and base64 of keys and values (through
 * libsodium). Files: etcd.c (open/close, members), etcd_call.c (failover, the one
 * request path), etcd_kv.c (get/put/delete/txn), etcd_lease.c, etcd_watch.c (and, over
 * gRPC, etcd_watch_grpc.c on the watch set of store/etcd_watch_set.h),
 * etcd_codec.c, with etcd_health.c (which members answer) and etcd_gate.c
 * (requests in flight) underneath, etcd_config.c (--store and opening with TLS and
 * a user), etcd_tls.c (https) and etcd_auth.c (the user's token); they share
 * store/etcd_internal.h.
 * Callers: fabric/ and ipam/ (which build keys with store/keys.h and records
 * with store/records.h), daemon/ (open and close) and driver/ (which only
 * carries the handle to ipam/). Nobody else speaks HTTP to etcd.
 *
 * Every call is thread-safe on one struct etcd (a struct etcd_txn belongs to
 * one thread) and has a bounded time: the request timeout (default 2 s) per
 * member tried; with several members connecting to one takes at most 0.5 s.
 * With several members a prober (etcd_health.c) finds a silent one within
 * about 0.5 s (in a cluster of up to 20 hosts; about 2 s in a larger one):
 * requests and watch streams waiting on it fail over at once, later ones try it
 * last.
 *
 * A failing call returns -1 and fills err once, logging nothing (the caller
 * decides): a user-facing message ("store unreachable (127.0.0.1:2379): ...")
 * and a kind in err->code: -ETIMEDOUT or -ECONNREFUSED when no member answered
 * (test with etcd_err_unreachable), -ENOENT, -EEXIST, -EACCES or -EINVAL from
 * etcd's answer, -EPROTO for an answer weft cannot read, -ENOMEM, -EBUSY when
 * too many requests already wait on a silent store, -ECANCELED. With TLS or a user
 * (etcd_open_config), failures of who is who are never "unreachable" (they set no
 * etcd_unreachable, and a member that gave one counts as having answered):
 * -EKEYREJECTED when trust failed either side (a member's certificate not from the
 * CA or not naming it, our client certificate refused, expired, unreadable or
 * carrying a Common Name), -EACCES when etcd refused the user (wrong password, no
 * such user, a role lacking permission on the key the message names). A token that
 * expires is renewed and the request asked again, the watch resumed where it was:
 * callers never see it. A compare that
 * fails or a key that exists is not an error: *succeeded / *created say so.
 * Values are NUL-terminated text (weft stores JSON).
 */
#ifndef WEFT_ETCD_H
#define WEFT_ETCD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

struct etcd;

/* endpoints: "host:port[,host:port...]" (the part after etcd:// in --store): plain
 * HTTP, no authentication. Same as etcd_open_config with only endpoints set. */
int etcd_open(struct etcd **out, const char *endpoints, struct weft_err *err);

/* How weft reaches etcd and proves itself to it (issue 17). Every string is
 * borrowed for the call only: etcd_open_config copies what it keeps, and wipes its
 * copy of the password on close. */
struct etcd_config {
    const char *endpoints; /* "host:port[,host:port...]" */
    bool tls;              /* https to every member, the member's name checked against its
                            * certificate: every request, the lease keepalive, the watch */
    const char *ca_file;   /* PEM bundle the members' certificates must chain to;
                            * NULL: the system's CAs */
    const char *cert_file; /* client certificate (PEM); NULL: none. Needs key_file. */
    const char *key_file;  /* its private key (PEM) */
    const char *user;      /* etcd user; NULL: no authentication */
    const char *password;  /* its password; required with user */
    long timeout_ms;       /* per-request timeout from the start, authentication
                            * included (0: the default 2000); etcd_set_timeout_ms
                            * changes it later */
    bool watch_grpc;       /* etcd_watch_start streams over etcd's gRPC Watch API
                            * (etcd_watch_grpc.c) rather than the JSON gateway */
    const char *watch_endpoints; /* for it: "host:port[,...]" (a grpc-proxy in front
                                  * of etcd); NULL: the members of endpoints */
};
int etcd_open_config(struct etcd **out, const struct etcd_config *config, struct weft_err *err);

/* Reads --store into endpoints (size bytes) and *tls. Accepted spellings:
 * "etcd://H:P[,H:P...]" (plain), "etcds://H:P[,H:P...]" (TLS, the documented one),
 * and etcdctl's "http://H:P[,http://H:P...]" or "https://H:P[,https://H:P...]" (one
 * scheme for all members). Anything else is refused with a message saying so. */
int etcd_url_parse(const char *url, char *endpoints, size_t size, bool *tls, struct weft_err *err);
void etcd_close(struct etcd *etcd);
/* Per-request timeout in milliseconds (default 2000). */
void etcd_set_timeout_ms(struct etcd *etcd, long timeout_ms);
/* How long an idle pooled connection is kept beyond the first (default 30 s); for tests. */
void etcd_set_pool_idle_ms(struct etcd *etcd, long idle_ms);
/* True while the last request found no member answering, until one answers again (a
 * request that only timed out while members answered others leaves it as it was: a
 * slow store, its error saying "store too slow");
 * err (may be NULL) then receives that request's error (message and code). Costs no
 * round trip: for callers that refuse work at once rather than queue it for a store
 * that is away. Kept while fabric/ asks it after a failure; new code tests the
 * failure's own err with etcd_err_unreachable instead. */
bool etcd_unreachable(struct etcd *etcd, struct weft_err *err);
/* Whether err (may be NULL) is a store call's "no member answered": code -ETIMEDOUT
 * or -ECONNREFUSED. The same failures set etcd_unreachable. */
bool etcd_err_unreachable(const struct weft_err *err);

struct etcd_kv {
    char *key;   /* owned */
    char *value; /* owned, NUL-terminated */
    int64_t create_revision;
    int64_t mod_revision;
    int64_t lease; /* 0: none */
};

struct etcd_kvs {
    struct etcd_kv *items; /* owned array */
    size_t count;
    int64_t revision; /* store revision the read was made at */
};

void etcd_kv_clear(struct etcd_kv *kv);
void etcd_kvs_free(struct etcd_kvs *kvs); /* frees the contents, not kvs itself */

/* Reads one key. *found tells whether it exists; out is filled only then. */
int etcd_get(struct etcd *etcd, const char *key, struct etcd_kv *out, bool *found,
             struct weft_err *err);
/* Reads every key starting with prefix, sorted by key. */
int etcd_get_prefix(struct etcd *etcd, const char *prefix, struct etcd_kvs *out,
                    struct weft_err *err);
/* Reads the keys starting with prefix whose create revision is above after: what a
 * watch that has read up to revision `after` may not have delivered yet. etcd filters
 * on the server (the answer is small) but walks the prefix's index to do it. */
int etcd_get_prefix_created_after(struct etcd *etcd, const char *prefix, int64_t after,
                                  struct etcd_kvs *out, struct weft_err *err);
/* Several reads in one transaction, at one revision: out[i] receives what reads[i]
 * names (a key, or every key under a prefix; none when absent), each out[i].revision the
 * store's revision then. More reads than a transaction may hold (ETCD_TXN_OPS_MAX, etcd's
 * default --max-txn-ops) go in the transactions after, each at its own, later revision.
 * On failure nothing is left in out. */
#define ETCD_TXN_OPS_MAX 128
struct etcd_read {
    const char *key;
    bool prefix;
};
int etcd_read_many(struct etcd *etcd, const struct etcd_read *reads, size_t count,
                   struct etcd_kvs *out, struct weft_err *err);
/* The same after putting key=value (lease 0: none) in the first transaction: every
 * read sees the put. */
int etcd_put_read_many(struct etcd *etcd, const char *key, const char *value, int64_t lease,
                       const struct etcd_read *reads, size_t count, struct etcd_kvs *out,
                       struct weft_err *err);
/* lease 0: no lease. */
int etcd_put(struct etcd *etcd, const char *key, const char *value, int64_t lease,
             struct weft_err *err);
/* Deletes one key; *deleted (may be NULL) tells whether it existed. */
int etcd_delete(struct etcd *etcd, const char *key, bool *deleted, struct weft_err *err);
int etcd_delete_prefix(struct etcd *etcd, const char *prefix, struct weft_err *err);

/*
 * Compare-and-swap transactions. Build with etcd_txn_new, add compares and
 * operations, commit once, free. If all compares hold the success operations
 * run, else none do and *succeeded is false.
 */
struct etcd_txn;
struct etcd_txn *etcd_txn_new(void);
void etcd_txn_free(struct etcd_txn *txn);
void etcd_txn_cmp_absent(struct etcd_txn *txn, const char *key); /* create_revision == 0 */
void etcd_txn_cmp_mod_revision(struct etcd_txn *txn, const char *key,
                               int64_t rev); /* unchanged since */
void etcd_txn_cmp_value(struct etcd_txn *txn, const char *key, const char *value);
/* No key starts with prefix (a range compare). */
void etcd_txn_cmp_prefix_absent(struct etcd_txn *txn, const char *prefix);
void etcd_txn_put(struct etcd_txn *txn, const char *key, const char *value, int64_t lease);
void etcd_txn_delete(struct etcd_txn *txn, const char *key);
void etcd_txn_delete_prefix(struct etcd_txn *txn, const char *prefix);
int etcd_txn_commit(struct etcd *etcd, struct etcd_txn *txn, bool *succeeded, struct weft_err *err);

/* Creates key=value only if key is absent. If present, *created=false and, when
 * existing is non-NULL, it receives the current kv (so the caller learns the owner).
 * A key already holding exactly value under lease counts as created: a request that
 * timed out after etcd applied it is retried on another member, and the retry must
 * not take its own write for someone else's. So a caller that needs to tell two
 * writers apart makes value unique to the write (ipam's claim token). */
int etcd_create(struct etcd *etcd, const char *key, const char *value, int64_t lease, bool *created,
                struct etcd_kv *existing, struct weft_err *err);

/* How many hosts use this store, as the caller last counted them (0: not known):
 * the idle probes of etcd (the member prober's rounds, a quiet watch stream's
 * progress requests) stretch with it, so that all hosts together keep etcd's idle
 * work about constant (store/etcd_pacing.h). */
void etcd_set_cluster_hosts(struct etcd *etcd, size_t hosts);

/* Leases. keepalive sets *alive=false when the lease has expired (lost).
 * etcd_lease_count counts the leases etcd holds (every weft daemon holds one, so
 * this counts the hosts; other users' leases in a shared etcd count too). */
int etcd_lease_grant(struct etcd *etcd, int64_t ttl_seconds, int64_t *lease_id,
                     struct weft_err *err);
int etcd_lease_keepalive(struct etcd *etcd, int64_t lease_id, bool *alive, struct weft_err *err);
int etcd_lease_revoke(struct etcd *etcd, int64_t lease_id, struct weft_err *err);
int etcd_lease_count(struct etcd *etcd, size_t *count, struct weft_err *err);

/*
 * List+watch of a prefix, delivered to one callback on a background thread.
 *
 * The stream starts with SYNC_BEGIN, a PUT for every existing key, SYNC_END;
 * then PUT/DELETE events as they happen. Whenever the watch cannot continue
 * losslessly (connection lost and the store unreachable for a while, history
 * compacted), the thread re-lists and delivers SYNC_BEGIN..SYNC_END again:
 * the consumer marks everything stale on SYNC_BEGIN, refreshes on each PUT,
 * and drops whatever is still stale on SYNC_END. While the store is down the
 * thread retries with backoff; DISCONNECTED tells the consumer once per outage.
 * The callback must not block for long and must not stop the watch itself.
 *
 * Events come in batches, one callback call each: a whole listing
 * (SYNC_BEGIN, PUT..., SYNC_END) is one batch, and so is every event that one
 * read from the stream brought (etcd coalesces a burst of changes), so a
 * consumer can apply a burst at once. DISCONNECTED comes alone.
 */
enum etcd_event_type {
    ETCD_EVENT_PUT,
    ETCD_EVENT_DELETE,
    ETCD_EVENT_SYNC_BEGIN,
    ETCD_EVENT_SYNC_END,
    ETCD_EVENT_DISCONNECTED,
};

struct etcd_event {
    enum etcd_event_type type;
    const char *key;   /* PUT, DELETE */
    const char *value; /* PUT; NULL for DELETE */
    int64_t revision;  /* mod revision of the event, or the list revision for SYNC_* */
    int64_t create_revision; /* PUT: the revision that created the key (which of two
                              * claims is older); 0 otherwise */
};

typedef void (*etcd_watch_fn)(void *ctx, const struct etcd_event *events, size_t count);

struct etcd_watch;
int etcd_watch_start(struct etcd *etcd, const char *prefix, etcd_watch_fn fn, void *ctx,
                     struct etcd_watch **out, struct weft_err *err);
/* Stops the thread (within about a second) and frees the watch. */
void etcd_watch_stop(struct etcd_watch *watch);

/* Base64 (standard, padded), exposed for tests. Returns a malloc'd string or NULL. */
char *etcd_b64_encode(const char *data, size_t len);
/* Decodes into a malloc'd NUL-terminated buffer; *len receives the byte count. NULL if invalid. */
char *etcd_b64_decode(const char *b64, size_t *len);
/* prefix with its last byte incremented, as range_end wants. malloc'd. */
char *etcd_prefix_end(const char *prefix);
/* The same, written over prefix; its new length, 0 when prefix is all 0xff bytes (or
 * empty): no upper bound. */
size_t etcd_prefix_end_in_place(char *prefix);

/* What the client runs on, as the libraries report it at run time: "libcurl/8.21.0
 * OpenSSL/3.0.19 nghttp2/1.52.0 jansson/2.14" into out (daemon/libraries.h). */
void etcd_client_libraries(char *out, size_t size);

#endif
