/*
 * etcd_internal.h: what the files of the etcd client share.
 *
 * Owns nothing new: the client state, one-shot requests with failover
 * (etcd_call.c), the codec and JSON helpers (etcd_codec.c), so the key/value and
 * txn calls (etcd_kv.c), leases (etcd_lease.c) and the watch thread
 * (etcd_watch.c) speak to etcd the same way. Only store/etcd*.c include this.
 */
#ifndef WEFT_ETCD_INTERNAL_H
#define WEFT_ETCD_INTERNAL_H

#include <curl/curl.h>
#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>

#include "store/etcd.h"
#include "store/etcd_gate.h"
#include "store/etcd_health.h"
#include "store/etcd_member.h"

#define ETCD_POOL_MAX 16
/* An idle handle holds three descriptors (its connection and the socket pair of
 * curl's internal multi handle), so the pool gives back what a burst left: a handle
 * unused this long is closed, down to one. The pool is a stack, so the handles at
 * its bottom are the ones a quieter load no longer reaches. */
#define ETCD_POOL_IDLE_MS 30000L
/* Connecting to one of several members: a LAN handshake takes under a millisecond,
 * and a member that has not answered in half a second is not going to (one lost SYN
 * is resent only after 1 s, so a lost one moves us to the next member). The request
 * timeout (etcd_set_timeout_ms) is the budget once connected. */
#define ETCD_CONNECT_TIMEOUT_MS 500L

/* The user weft is at etcd and its current token (etcd_auth.c). The password is kept
 * for getting a new token when etcd forgets the old one, and wiped on close. */
struct etcd_auth {
    pthread_mutex_t lock; /* guards token and generation; held while authenticating */
    char *user;           /* owned; NULL: no authentication */
    char *password;       /* owned, wiped on close */
    char *token;          /* owned; NULL until authenticated */
    unsigned generation;  /* counts new tokens */
};

/* How weft proves who it is and checks who etcd is (etcd_tls.c); all set once by
 * etcd_open_config before any handle exists, read-only afterwards. */
struct etcd_tls {
    bool on;         /* https to every member */
    char *ca_file;   /* owned; NULL: the system's CAs */
    char *cert_file; /* owned; NULL: no client certificate */
    char *key_file;  /* owned */
};

struct etcd {
    char **members; /* "host:port", owned */
    size_t member_count;
    atomic_size_t current; /* member that answered last */
    atomic_long timeout_ms;
    struct curl_slist *headers; /* shared, read-only after open */
    pthread_mutex_t pool_lock;
    CURL *pool[ETCD_POOL_MAX]; /* idle handles keep their connections open */
    long pool_idle_since[ETCD_POOL_MAX]; /* clock_monotonic_ms() when given back */
    size_t pool_count;
    atomic_long pool_idle_ms; /* ETCD_POOL_IDLE_MS; tests shorten it */
    atomic_bool unreachable;      /* no member answered the last request */
    atomic_ulong answers;         /* requests a member answered, ever */
    struct weft_err last_failure; /* its error; under pool_lock */
    struct etcd_health health;    /* which members answer; their open sockets */
    struct etcd_gate gate;        /* requests in flight (lease calls excepted) */
    struct etcd_tls tls;
    struct etcd_auth auth;
    bool watch_grpc;       /* etcd_config.watch_grpc; read-only after open */
    char *watch_endpoints; /* owned; NULL: the members */
};

/* The connect timeout for a request whose whole budget is timeout_ms. With a single
 * member there is nowhere else to go, and a short limit would only turn a loaded
 * moment (a thread not scheduled for half a second, as under valgrind) into an
 * error: that member gets the whole budget. */
long etcd_connect_timeout_ms(const struct etcd *etcd, long timeout_ms);

/* The cluster's hosts as etcd_set_cluster_hosts last said (0: not known), for the
 * idle probes' paces (etcd_pacing.h). */
static inline size_t etcd_cluster_hosts(struct etcd *etcd)
{
    return atomic_load(&etcd->health.cluster_hosts);
}

/* The members in the order to try them: from the one that answered last onwards,
 * skipping those the prober found silent, which come last (when every member
 * seems silent they are all tried anyway). order has member_count entries. */
void etcd_member_order(struct etcd *etcd, size_t *order);

/*
 * POSTs body (borrowed) to path on the member that last worked, failing over
 * to the next on connection errors, timeouts and 503. On HTTP 200 *reply
 * receives the parsed answer (caller frees). cancel (may be NULL) aborts the
 * request as soon as it becomes true. The kinds of failure (err->code):
 * -ETIMEDOUT or -ECONNREFUSED when no member answered (every one refused the
 * connection: -ECONNREFUSED), -ECANCELED, -ENOMEM, -EBUSY (too many requests
 * already waiting, see etcd_gate.h), -EPROTO for an answer that is not JSON, and
 * for an HTTP error status: -ENOENT (404), -EACCES (401, 403), -EEXIST (409),
 * -EINVAL (400), else -EIO. With TLS or a user: -EKEYREJECTED when a member could
 * not be trusted or refused our certificate (no other member answering; never
 * counted as unreachable), -EACCES when etcd refused the user or the key (a token
 * that expired is renewed and the request asked once more first).
 */
int etcd_call(struct etcd *etcd, const char *path, json_t *body, json_t **reply,
              const atomic_bool *cancel, struct weft_err *err);

/* etcd_call for the common case: consumes body (which may be NULL: out of memory). */
int etcd_call_consume(struct etcd *etcd, const char *path, json_t *body, json_t **reply,
                      struct weft_err *err);

/* Ranges prefix into out (sorted by key), with the store revision. */
int etcd_range_prefix(struct etcd *etcd, const char *prefix, struct etcd_kvs *out,
                      const atomic_bool *cancel, struct weft_err *err);

/* A watch's listing: ranges prefix and hands it to fn as one batch, SYNC_BEGIN,
 * PUT..., SYNC_END, at the store revision it was read at (*revision). */
int etcd_list_prefix(struct etcd *etcd, const char *prefix, const atomic_bool *cancel,
                     etcd_watch_fn fn, void *ctx, int64_t *revision, struct weft_err *err);

/* Starts libsodium once per process (its base64 is ours); etcd_open calls it so a
 * failure shows there, the codec calls it again for users that never open. */
int etcd_codec_init(struct weft_err *err);

/* Decodes one JSON kv ({"key","value"?,"mod_revision",...}) into out.
 * 0, -EPROTO (not a kv: no key, or not base64) or -ENOMEM; out is then empty. */
int etcd_kv_from_json(json_t *json, struct etcd_kv *out);

/* A 64-bit number that etcd sends as a string (or a number); 0 when absent. */
int64_t etcd_json_int64(json_t *object, const char *field);

/* What an error field of etcd's says went wrong: the string, or NULL when it is absent,
 * not a string or empty (an empty reason would be logged as nothing). */
const char *etcd_json_reason(json_t *object, const char *field);

/* A JSON string of n in decimal, as etcd wants 64-bit numbers; NULL when out of memory. */
json_t *etcd_json_int64_string(int64_t n);

/* {"key": base64 of key}: the body of a one-key read or delete; NULL when out of memory. */
json_t *etcd_json_key_object(const char *key);

/* A JSON string holding base64 of data; NULL when out of memory. */
json_t *etcd_json_b64(const char *data, size_t len);

/* A JSON string holding base64 of range_end for prefix ("\0" for the empty prefix). */
json_t *etcd_json_range_end(const char *prefix);

/* ---- TLS (etcd_tls.c) ---- */

/* Sets a handle's protocol, certificates and checks as etcd->tls says ("http" only
 * when TLS is off; "https" only, the peer and its name verified, when on). */
void etcd_tls_apply(const struct etcd *etcd, CURL *h);
/* "https" or "http". */
const char *etcd_scheme(const struct etcd *etcd);
/* Whether a failed transfer to member (cc, the handle's error buffer text) is a TLS
 * trust failure, either side: then fills err (-EKEYREJECTED, a message saying what
 * to fix) and returns -1; else 0. */
int etcd_tls_failure(const struct etcd *etcd, const char *member, CURLcode cc, const char *errbuf,
                     struct weft_err *err);
/* The same for an answer: the gateway's refusal of a client certificate with a
 * Common Name (HTTP 400, not JSON). -1 with err filled, or 0. */
int etcd_tls_answer_failure(const struct etcd *etcd, const char *member, long status,
                            const char *body, size_t len, struct weft_err *err);
void etcd_tls_free(struct etcd_tls *tls);

/* ---- list+watch over gRPC (etcd_watch_grpc.c), what etcd_watch_start gives when
 * etcd->watch_grpc: same events, same threads, same stop ---- */
struct etcd_watch_grpc;
int etcd_watch_grpc_start(struct etcd *etcd, const char *prefix, etcd_watch_fn fn, void *ctx,
                          struct etcd_watch_grpc **out, struct weft_err *err);
void etcd_watch_grpc_stop(struct etcd_watch_grpc *watch);
void etcd_watch_grpc_progress(const struct etcd_watch_grpc *watch, int64_t *revision,
                              bool *streaming);
void etcd_watch_grpc_grace_ms(struct etcd_watch_grpc *watch, long grace_ms);

/* ---- users (etcd_auth.c) ---- */

/* Keeps user and password (copied) and gets the first token: -EACCES with "etcd user
 * NAME: wrong password or no such user" when etcd refuses them. */
int etcd_auth_start(struct etcd *etcd, const char *user, const char *password,
                    struct weft_err *err);
/* Gives h the headers for a request to path: the shared ones, plus the token when a
 * user is set, in a list made for this request (*own, freed by the caller with
 * curl_slist_free_all after the transfer; NULL when the shared list is used).
 * *generation receives the token's generation for etcd_auth_refresh. -1: out of memory. */
int etcd_auth_headers(struct etcd *etcd, CURL *h, const char *path, struct curl_slist **own,
                      unsigned *generation, struct weft_err *err);
/* etcd said the token of that generation is invalid (expired): gets a new one, unless
 * another thread already did. */
int etcd_auth_refresh(struct etcd *etcd, unsigned generation, struct weft_err *err);
/* Whether an answer (status, body) says the token is invalid or expired. */
bool etcd_auth_token_invalid(long status, const char *body, size_t len);
/* An answer refusing the request for who we are (HTTP 403, 401 other than an expired
 * token, or "user name is empty"): fills err with -EACCES and a message naming the
 * user and the key of request (the JSON body sent to path), returns -1; else 0. */
int etcd_auth_failure(struct etcd *etcd, const char *member, const char *path, const char *request,
                      long status, const char *body, size_t len, struct weft_err *err);
void etcd_auth_free(struct etcd_auth *auth);

/* Common options for a fresh handle: headers, no signals, the answer appended to the
 * struct weft_buf given as CURLOPT_WRITEDATA (common/buf.h), its sockets in the
 * health register (call etcd_health_perform_on before each perform). */
CURL *etcd_handle_new(struct etcd *etcd);

#endif
