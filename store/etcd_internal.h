/*
 * etcd_internal.h: what store/etcd.c shares with store/etcd_watch.c.
 *
 * Owns nothing new: the client state, one-shot requests with failover and the
 * JSON helpers, so the watch thread speaks to etcd the same way every other
 * call does. Only store/etcd*.c include this.
 */
#ifndef WEFT_ETCD_INTERNAL_H
#define WEFT_ETCD_INTERNAL_H

#include <curl/curl.h>
#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>

#include "store/etcd.h"

#define ETCD_POOL_MAX 16

struct etcd {
    char **members; /* "host:port", owned */
    size_t member_count;
    atomic_size_t current; /* member that answered last */
    atomic_long timeout_ms;
    struct curl_slist *headers; /* shared, read-only after open */
    pthread_mutex_t pool_lock;
    CURL *pool[ETCD_POOL_MAX]; /* idle handles keep their connections open */
    size_t pool_count;
    atomic_bool unreachable;           /* no member answered the last request */
    char last_failure[WEFT_ERR_MAX];   /* its error; under pool_lock */
};

/*
 * POSTs body (borrowed) to path on the member that last worked, failing over
 * to the next on connection errors, timeouts and 503. On HTTP 200 *reply
 * receives the parsed answer (caller frees). cancel (may be NULL) aborts the
 * request as soon as it becomes true.
 */
int etcd_call(struct etcd *etcd, const char *path, json_t *body, json_t **reply,
              const atomic_bool *cancel, struct weft_err *err);

/* Ranges prefix into out (sorted by key), with the store revision. */
int etcd_range_prefix(struct etcd *etcd, const char *prefix, struct etcd_kvs *out,
                      const atomic_bool *cancel, struct weft_err *err);

/* Decodes one JSON kv ({"key","value"?,"mod_revision",...}) into out. */
int etcd_kv_from_json(json_t *json, struct etcd_kv *out);

/* A 64-bit number that etcd sends as a string (or a number); 0 when absent. */
int64_t etcd_json_int64(json_t *object, const char *field);

/* A JSON string holding base64 of data; NULL when out of memory. */
json_t *etcd_json_b64(const char *data, size_t len);

/* A JSON string holding base64 of range_end for prefix ("\0" for the empty prefix). */
json_t *etcd_json_range_end(const char *prefix);

/* Common options for a fresh handle (headers, no signals, write into a buffer). */
CURL *etcd_handle_new(struct etcd *etcd);

#endif
