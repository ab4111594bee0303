/*
 * etcd_kv.c: keys, values and transactions (see etcd.h).
 *
 * Owns the bodies of range, put, deleterange and txn requests and the reading
 * of their answers; every request goes through etcd_call (etcd_call.c). Callers:
 * anyone holding a struct etcd, from any thread; a struct etcd_txn belongs to
 * one thread.
 */
#include "store/etcd_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* The message for a kv that etcd_kv_from_json refused with rc. */
static int kv_error(struct weft_err *err, int rc, const char *key)
{
    if (rc == -ENOMEM)
        return weft_err_set(err, -ENOMEM, "out of memory reading %s from the store",
                            key ? key : "keys");
    if (key)
        return weft_err_set(err, -EPROTO, "store answered an undecodable value for %s", key);
    return weft_err_set(err, -EPROTO, "store answered an undecodable key or value");
}

int etcd_get(struct etcd *etcd, const char *key, struct etcd_kv *out, bool *found,
             struct weft_err *err)
{
    *found = false;
    json_t *reply;
    if (etcd_call_consume(etcd, "/v3/kv/range", etcd_json_key_object(key), &reply, err) < 0)
        return -1;
    json_t *kv = json_array_get(json_object_get(reply, "kvs"), 0);
    int rc = 0;
    if (kv) {
        int decoded = etcd_kv_from_json(kv, out);
        if (decoded < 0)
            rc = kv_error(err, decoded, key);
        else
            *found = true;
    }
    json_decref(reply);
    return rc;
}

/* Fills out from a range answer's "kvs" array. */
static int kvs_from_json(json_t *range, struct etcd_kvs *out, struct weft_err *err)
{
    json_t *kvs = json_object_get(range, "kvs");
    size_t n = json_array_size(kvs);
    out->revision = etcd_json_int64(json_object_get(range, "header"), "revision");
    if (n == 0)
        return 0;
    out->items = calloc(n, sizeof(*out->items));
    if (!out->items)
        return weft_err_set(err, -ENOMEM, "out of memory for a listing of %zu keys", n);
    for (size_t i = 0; i < n; i++) {
        int rc = etcd_kv_from_json(json_array_get(kvs, i), &out->items[i]);
        if (rc < 0) {
            etcd_kvs_free(out);
            return kv_error(err, rc, NULL);
        }
        out->count++;
    }
    return 0;
}

/* A range over prefix; only keys created after `after` when it is above 0. */
static int range_created_after(struct etcd *etcd, const char *prefix, int64_t after,
                               struct etcd_kvs *out, const atomic_bool *cancel,
                               struct weft_err *err)
{
    memset(out, 0, sizeof(*out));
    json_t *body = json_pack("{s:o, s:o}", "key", etcd_json_b64(prefix, strlen(prefix)),
                             "range_end", etcd_json_range_end(prefix));
    if (body && after > 0 &&
        json_object_set_new(body, "min_create_revision", etcd_json_int64_string(after + 1)) < 0) {
        json_decref(body);
        body = NULL;
    }
    json_t *reply;
    int rc = etcd_call(etcd, "/v3/kv/range", body, &reply, cancel, err);
    json_decref(body);
    if (rc < 0)
        return -1;
    rc = kvs_from_json(reply, out, err);
    json_decref(reply);
    return rc;
}

int etcd_range_prefix(struct etcd *etcd, const char *prefix, struct etcd_kvs *out,
                      const atomic_bool *cancel, struct weft_err *err)
{
    return range_created_after(etcd, prefix, 0, out, cancel, err);
}

int etcd_list_prefix(struct etcd *etcd, const char *prefix, const atomic_bool *cancel,
                     etcd_watch_fn fn, void *ctx, int64_t *revision, struct weft_err *err)
{
    struct etcd_kvs kvs;
    if (etcd_range_prefix(etcd, prefix, &kvs, cancel, err) < 0)
        return -1;
    struct etcd_event *events = calloc(kvs.count + 2, sizeof(*events));
    if (!events) {
        etcd_kvs_free(&kvs);
        return weft_err_set(err, -ENOMEM, "out of memory for a listing of %zu keys", kvs.count);
    }
    events[0] = (struct etcd_event){.type = ETCD_EVENT_SYNC_BEGIN, .revision = kvs.revision};
    for (size_t i = 0; i < kvs.count; i++)
        events[i + 1] = (struct etcd_event){.type = ETCD_EVENT_PUT,
                                            .key = kvs.items[i].key,
                                            .value = kvs.items[i].value,
                                            .revision = kvs.items[i].mod_revision,
                                            .create_revision = kvs.items[i].create_revision};
    events[kvs.count + 1] =
        (struct etcd_event){.type = ETCD_EVENT_SYNC_END, .revision = kvs.revision};
    fn(ctx, events, kvs.count + 2);
    free(events);
    *revision = kvs.revision;
    etcd_kvs_free(&kvs);
    return 0;
}

int etcd_get_prefix(struct etcd *etcd, const char *prefix, struct etcd_kvs *out,
                    struct weft_err *err)
{
    return etcd_range_prefix(etcd, prefix, out, NULL, err);
}

int etcd_get_prefix_created_after(struct etcd *etcd, const char *prefix, int64_t after,
                                  struct etcd_kvs *out, struct weft_err *err)
{
    return range_created_after(etcd, prefix, after, out, NULL, err);
}

/* {"key","value","lease"?}: the body of a put, alone or inside a txn. */
static json_t *put_object(const char *key, const char *value, int64_t lease)
{
    json_t *put = json_pack("{s:o, s:o}", "key", etcd_json_b64(key, strlen(key)), "value",
                            etcd_json_b64(value, strlen(value)));
    if (put && lease != 0 && json_object_set_new(put, "lease", etcd_json_int64_string(lease)) < 0) {
        json_decref(put);
        return NULL;
    }
    return put;
}

int etcd_put(struct etcd *etcd, const char *key, const char *value, int64_t lease,
             struct weft_err *err)
{
    json_t *reply;
    if (etcd_call_consume(etcd, "/v3/kv/put", put_object(key, value, lease), &reply, err) < 0)
        return -1;
    json_decref(reply);
    return 0;
}

int etcd_delete(struct etcd *etcd, const char *key, bool *deleted, struct weft_err *err)
{
    json_t *reply;
    if (etcd_call_consume(etcd, "/v3/kv/deleterange", etcd_json_key_object(key), &reply, err) < 0)
        return -1;
    if (deleted)
        *deleted = etcd_json_int64(reply, "deleted") > 0;
    json_decref(reply);
    return 0;
}

int etcd_delete_prefix(struct etcd *etcd, const char *prefix, struct weft_err *err)
{
    json_t *body = json_pack("{s:o, s:o}", "key", etcd_json_b64(prefix, strlen(prefix)),
                             "range_end", etcd_json_range_end(prefix));
    json_t *reply;
    if (etcd_call_consume(etcd, "/v3/kv/deleterange", body, &reply, err) < 0)
        return -1;
    json_decref(reply);
    return 0;
}

/* ---- transactions ---- */

struct etcd_txn {
    json_t *compare, *success, *failure;
    bool broken; /* an allocation failed while building: commit refuses */
};

struct etcd_txn *etcd_txn_new(void)
{
    struct etcd_txn *txn = calloc(1, sizeof(*txn));
    if (!txn)
        return NULL;
    txn->compare = json_array();
    txn->success = json_array();
    txn->failure = json_array();
    txn->broken = !txn->compare || !txn->success || !txn->failure;
    return txn;
}

void etcd_txn_free(struct etcd_txn *txn)
{
    if (!txn)
        return;
    json_decref(txn->compare);
    json_decref(txn->success);
    json_decref(txn->failure);
    free(txn);
}

static void txn_add(struct etcd_txn *txn, json_t *array, json_t *item)
{
    if (!item || !array || json_array_append_new(array, item) < 0)
        txn->broken = true;
}

void etcd_txn_cmp_absent(struct etcd_txn *txn, const char *key)
{
    if (txn)
        txn_add(txn, txn->compare,
                json_pack("{s:o, s:s, s:s}", "key", etcd_json_b64(key, strlen(key)), "target",
                          "CREATE", "create_revision", "0"));
}

void etcd_txn_cmp_prefix_absent(struct etcd_txn *txn, const char *prefix)
{
    /* A range compare holds for every key in the range, and vacuously for none:
     * "create_revision == 0 over the prefix" means no key under it exists. */
    if (txn)
        txn_add(txn, txn->compare,
                json_pack("{s:o, s:o, s:s, s:s}", "key", etcd_json_b64(prefix, strlen(prefix)),
                          "range_end", etcd_json_range_end(prefix), "target", "CREATE",
                          "create_revision", "0"));
}

void etcd_txn_cmp_mod_revision(struct etcd_txn *txn, const char *key, int64_t rev)
{
    if (txn)
        txn_add(txn, txn->compare,
                json_pack("{s:o, s:s, s:o}", "key", etcd_json_b64(key, strlen(key)), "target",
                          "MOD", "mod_revision", etcd_json_int64_string(rev)));
}

void etcd_txn_cmp_value(struct etcd_txn *txn, const char *key, const char *value)
{
    if (txn)
        txn_add(txn, txn->compare,
                json_pack("{s:o, s:s, s:o}", "key", etcd_json_b64(key, strlen(key)), "target",
                          "VALUE", "value", etcd_json_b64(value, strlen(value))));
}

void etcd_txn_put(struct etcd_txn *txn, const char *key, const char *value, int64_t lease)
{
    if (txn)
        txn_add(txn, txn->success,
                json_pack("{s:o}", "request_put", put_object(key, value, lease)));
}

void etcd_txn_delete(struct etcd_txn *txn, const char *key)
{
    if (txn)
        txn_add(txn, txn->success,
                json_pack("{s:o}", "request_delete_range", etcd_json_key_object(key)));
}

void etcd_txn_delete_prefix(struct etcd_txn *txn, const char *prefix)
{
    if (txn)
        txn_add(txn, txn->success,
                json_pack("{s:{s:o, s:o}}", "request_delete_range", "key",
                          etcd_json_b64(prefix, strlen(prefix)), "range_end",
                          etcd_json_range_end(prefix)));
}

/* Commits txn; *reply receives the whole answer for callers that read responses. */
static int txn_run(struct etcd *etcd, struct etcd_txn *txn, bool *succeeded, json_t **reply,
                   struct weft_err *err)
{
    *succeeded = false;
    *reply = NULL;
    if (!txn || txn->broken)
        return weft_err_set(err, -ENOMEM, "out of memory building a store transaction");
    json_t *body = json_pack("{s:O, s:O, s:O}", "compare", txn->compare, "success", txn->success,
                             "failure", txn->failure);
    if (etcd_call_consume(etcd, "/v3/kv/txn", body, reply, err) < 0)
        return -1;
    *succeeded = json_is_true(json_object_get(*reply, "succeeded")); /* omitted when false */
    return 0;
}

int etcd_txn_commit(struct etcd *etcd, struct etcd_txn *txn, bool *succeeded, struct weft_err *err)
{
    json_t *reply;
    int rc = txn_run(etcd, txn, succeeded, &reply, err);
    json_decref(reply);
    return rc;
}

int etcd_create(struct etcd *etcd, const char *key, const char *value, int64_t lease, bool *created,
                struct etcd_kv *existing, struct weft_err *err)
{
    *created = false;
    if (existing)
        memset(existing, 0, sizeof(*existing));
    struct etcd_txn *txn = etcd_txn_new();
    if (!txn)
        return weft_err_set(err, -ENOMEM, "out of memory building a store transaction");
    etcd_txn_cmp_absent(txn, key);
    etcd_txn_put(txn, key, value, lease);
    /* On failure read the key in the same transaction, so the owner we report is the
     * one that beat us, not whoever holds it a round trip later. */
    txn_add(txn, txn->failure, json_pack("{s:o}", "request_range", etcd_json_key_object(key)));
    json_t *reply;
    int rc = txn_run(etcd, txn, created, &reply, err);
    etcd_txn_free(txn);
    if (rc == 0 && !*created) {
        json_t *range = json_object_get(json_array_get(json_object_get(reply, "responses"), 0),
                                        "response_range");
        json_t *kv = json_array_get(json_object_get(range, "kvs"), 0);
        struct etcd_kv found = {0};
        int decoded = kv ? etcd_kv_from_json(kv, &found) : 0;
        if (decoded < 0)
            rc = kv_error(err, decoded, key);
        else if (kv && found.lease == lease && strcmp(found.value, value) == 0)
            *created = true; /* our own write, applied by a try whose answer was lost */
        if (rc == 0 && !*created && existing)
            *existing = found;
        else
            etcd_kv_clear(&found);
    }
    json_decref(reply);
    return rc;
}

int etcd_read_many(struct etcd *etcd, const struct etcd_read *reads, size_t count,
                   struct etcd_kvs *out, struct weft_err *err)
{
    return etcd_put_read_many(etcd, NULL, NULL, 0, reads, count, out, err);
}

/* One transaction: the put (when key), then count reads. */
static int put_read_txn(struct etcd *etcd, const char *key, const char *value, int64_t lease,
                        const struct etcd_read *reads, size_t count, struct etcd_kvs *out,
                        struct weft_err *err)
{
    struct etcd_txn *txn = etcd_txn_new();
    if (!txn)
        return weft_err_set(err, -ENOMEM, "out of memory building a store transaction");
    if (key)
        etcd_txn_put(txn, key, value, lease);
    for (size_t i = 0; i < count; i++) {
        json_t *range = etcd_json_key_object(reads[i].key);
        if (range && reads[i].prefix &&
            json_object_set_new(range, "range_end", etcd_json_range_end(reads[i].key)) < 0) {
            json_decref(range);
            range = NULL;
        }
        txn_add(txn, txn->success, range ? json_pack("{s:o}", "request_range", range) : NULL);
    }
    bool succeeded;
    json_t *reply;
    int rc = txn_run(etcd, txn, &succeeded, &reply, err);
    etcd_txn_free(txn);
    json_t *responses = json_object_get(reply, "responses");
    int64_t revision = etcd_json_int64(json_object_get(reply, "header"), "revision");
    for (size_t i = 0; rc == 0 && i < count; i++) {
        json_t *range =
            json_object_get(json_array_get(responses, i + (key != NULL)), "response_range");
        rc = kvs_from_json(range, &out[i], err);
        out[i].revision = revision;
    }
    json_decref(reply);
    return rc;
}

int etcd_put_read_many(struct etcd *etcd, const char *key, const char *value, int64_t lease,
                       const struct etcd_read *reads, size_t count, struct etcd_kvs *out,
                       struct weft_err *err)
{
    memset(out, 0, count * sizeof(*out));
    /* etcd refuses a transaction of more than --max-txn-ops operations (128 by default):
     * the reads go in as many as it takes, the put in the first. */
    size_t done = 0;
    int rc = 0;
    do {
        size_t room = ETCD_TXN_OPS_MAX - (done == 0 && key != NULL);
        size_t n = count - done < room ? count - done : room;
        rc = put_read_txn(etcd, done == 0 ? key : NULL, value, lease, reads + done, n, out + done,
                          err);
        done += n;
    } while (rc == 0 && done < count);
    for (size_t i = 0; rc < 0 && i < count; i++)
        etcd_kvs_free(&out[i]);
    return rc;
}
