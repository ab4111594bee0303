/*
 * fake_etcd.c: store/etcd.h's keys, leases and client state on one in-memory
 * store, and the test calls of fake_store.h; transactions are in
 * fake_etcd_txn.c, the watch in fake_etcd_watch.c. etcd_b64_* and
 * etcd_prefix_end are left out: nothing linked with the fakes calls them.
 * As etcd: each write moves the store revision on once (a transaction once for
 * all its operations), a key keeps its create revision until deleted, deleting
 * a lease deletes its keys, and a write under a lease that is gone fails. Each
 * round trip asks fault.h first; a failed one makes etcd_unreachable answer
 * true until a call succeeds, as the real client's "no member answered".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/fakes/fake_store_internal.h"
#include "tests/fakes/fault.h"

#define UNREACHABLE "store unreachable at 127.0.0.1:2379: "

struct fs fs = {.lock = PTHREAD_MUTEX_INITIALIZER, .changed = PTHREAD_COND_INITIALIZER};

struct etcd {
    long timeout_ms;
};

/* ---------- keys (under fs.lock) ---------- */

/* Index of key, or where it would go (*found false). */
size_t fs_kv_find(const char *key, bool *found)
{
    size_t lo = 0, hi = fs.count;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int c = strcmp(fs.kvs[mid].key, key);
        if (c == 0) {
            *found = true;
            return mid;
        }
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    *found = false;
    return lo;
}

bool fs_lease_alive(int64_t lease)
{
    for (size_t i = 0; i < fs.lease_count; i++)
        if (fs.leases[i] == lease)
            return true;
    return lease == 0;
}

/* Sets key at revision rev, with its event in batch. -1 when out of memory. */
int fs_kv_put(const char *key, const char *value, int64_t lease, int64_t rev,
              struct fs_batch *batch)
{
    bool found;
    size_t i = fs_kv_find(key, &found);
    if (!found && fs.count == fs.cap) {
        size_t cap = fs.cap ? fs.cap * 2 : 64;
        struct etcd_kv *kvs = realloc(fs.kvs, cap * sizeof(*kvs));
        if (!kvs)
            return -1;
        fs.kvs = kvs;
        fs.cap = cap;
    }
    char *k = found ? NULL : strdup(key), *v = strdup(value);
    int64_t created = found ? fs.kvs[i].create_revision : rev;
    if ((!found && !k) || !v || fs_batch_add(batch, ETCD_EVENT_PUT, key, value, rev, created) < 0) {
        free(k);
        free(v);
        return -1;
    }
    if (!found) {
        memmove(&fs.kvs[i + 1], &fs.kvs[i], (fs.count - i) * sizeof(*fs.kvs));
        fs.count++;
        fs.kvs[i] = (struct etcd_kv){.key = k, .create_revision = rev};
    }
    free(fs.kvs[i].value);
    fs.kvs[i].value = v;
    fs.kvs[i].mod_revision = rev;
    fs.kvs[i].lease = lease;
    return 0;
}

static void kv_remove_at(size_t i, int64_t rev, struct fs_batch *batch)
{
    fs_batch_add(batch, ETCD_EVENT_DELETE, fs.kvs[i].key, NULL, rev, 0);
    etcd_kv_clear(&fs.kvs[i]);
    memmove(&fs.kvs[i], &fs.kvs[i + 1], (fs.count - i - 1) * sizeof(*fs.kvs));
    fs.count--;
}

/* Deletes key, or every key starting with it (prefix); the number deleted. */
size_t fs_kv_delete(const char *key, bool prefix, int64_t rev, struct fs_batch *batch)
{
    bool found;
    size_t i = fs_kv_find(key, &found), n = 0;
    if (!prefix) {
        if (found)
            kv_remove_at(i, rev, batch);
        return found;
    }
    while (i < fs.count && strncmp(fs.kvs[i].key, key, strlen(key)) == 0) {
        kv_remove_at(i, rev, batch);
        n++;
    }
    return n;
}

bool fs_prefix_empty(const char *prefix)
{
    bool found;
    size_t i = fs_kv_find(prefix, &found);
    return i >= fs.count || strncmp(fs.kvs[i].key, prefix, strlen(prefix)) != 0;
}

/* ---------- calls ---------- */

/* Starts a round trip: takes fs.lock, or fails as an unreachable store. */
int fs_call_start(struct weft_err *err)
{
    bool injected = fault_hit(FAULT_STORE);
    pthread_mutex_lock(&fs.lock);
    if (!injected && !fs.down)
        return 0;
    fs.failed = true;
    pthread_mutex_unlock(&fs.lock);
    return weft_err_set(err, injected ? -ETIMEDOUT : -ECONNREFUSED, UNREACHABLE "%s",
                        injected ? "Timeout was reached" : "Connection refused");
}

/* Ends a round trip that reached the store: writes reach the watches. */
int fs_call_end(struct fs_batch *batch, int rc)
{
    fs.failed = false;
    if (batch)
        fs_publish(batch);
    fs_changed();
    pthread_mutex_unlock(&fs.lock);
    return rc;
}

int etcd_open(struct etcd **out, const char *endpoints, struct weft_err *err)
{
    (void)endpoints;
    *out = calloc(1, sizeof(**out));
    return *out ? 0 : weft_err_set(err, -ENOMEM, "out of memory");
}

void etcd_close(struct etcd *etcd)
{
    free(etcd);
}

void etcd_set_timeout_ms(struct etcd *etcd, long timeout_ms)
{
    etcd->timeout_ms = timeout_ms;
}

bool etcd_unreachable(struct etcd *etcd, struct weft_err *err)
{
    (void)etcd;
    bool injected = fault_hit(FAULT_STORE);
    pthread_mutex_lock(&fs.lock);
    bool away = injected || fs.down || fs.failed;
    const char *why = injected || fs.failed ? "Timeout was reached" : "Connection refused";
    pthread_mutex_unlock(&fs.lock);
    if (away)
        weft_err_set(err, injected ? -ETIMEDOUT : -ECONNREFUSED, UNREACHABLE "%s", why);
    return away;
}

void etcd_kv_clear(struct etcd_kv *kv)
{
    free(kv->key);
    free(kv->value);
    memset(kv, 0, sizeof(*kv));
}

void etcd_kvs_free(struct etcd_kvs *kvs)
{
    for (size_t i = 0; i < kvs->count; i++)
        etcd_kv_clear(&kvs->items[i]);
    free(kvs->items);
    memset(kvs, 0, sizeof(*kvs));
}

static int kv_copy(const struct etcd_kv *from, struct etcd_kv *to)
{
    *to = *from;
    to->key = strdup(from->key);
    to->value = strdup(from->value);
    if (to->key && to->value)
        return 0;
    etcd_kv_clear(to);
    return -1;
}

int etcd_get(struct etcd *etcd, const char *key, struct etcd_kv *out, bool *found,
             struct weft_err *err)
{
    (void)etcd;
    if (fs_call_start(err) < 0)
        return -1;
    size_t i = fs_kv_find(key, found);
    int rc =
        *found && kv_copy(&fs.kvs[i], out) < 0 ? weft_err_set(err, -ENOMEM, "out of memory") : 0;
    return fs_call_end(NULL, rc);
}

/* Copies the keys under prefix (or key itself, when !prefix) into out. Under fs.lock. */
static int range_copy(const char *key, bool prefix, struct etcd_kvs *out, struct weft_err *err)
{
    bool found;
    size_t first = fs_kv_find(key, &found), n = 0;
    if (!prefix)
        n = found;
    else
        while (first + n < fs.count && strncmp(fs.kvs[first + n].key, key, strlen(key)) == 0)
            n++;
    out->revision = fs.revision;
    out->items = calloc(n ? n : 1, sizeof(*out->items));
    int rc = out->items ? 0 : weft_err_set(err, -ENOMEM, "out of memory");
    for (size_t i = 0; rc == 0 && i < n; i++, out->count++)
        if (kv_copy(&fs.kvs[first + i], &out->items[i]) < 0)
            rc = weft_err_set(err, -ENOMEM, "out of memory");
    return rc;
}

int etcd_get_prefix(struct etcd *etcd, const char *prefix, struct etcd_kvs *out,
                    struct weft_err *err)
{
    (void)etcd;
    memset(out, 0, sizeof(*out));
    if (fs_call_start(err) < 0)
        return -1;
    int rc = range_copy(prefix, true, out, err);
    if (rc < 0)
        etcd_kvs_free(out);
    return fs_call_end(NULL, rc);
}

int etcd_put_read_many(struct etcd *etcd, const char *key, const char *value, int64_t lease,
                       const struct etcd_read *reads, size_t count, struct etcd_kvs *out,
                       struct weft_err *err)
{
    (void)etcd;
    memset(out, 0, count * sizeof(*out));
    if (fs_call_start(err) < 0)
        return -1;
    struct fs_batch batch = {0};
    int rc = 0;
    if (key && !fs_lease_alive(lease))
        rc = weft_err_set(err, -ENOENT, "etcdserver: requested lease not found");
    else if (key && fs_kv_put(key, value, lease, fs.revision + 1, &batch) < 0)
        rc = weft_err_set(err, -ENOMEM, "out of memory");
    if (batch.count)
        fs.revision++;
    for (size_t i = 0; rc == 0 && i < count; i++)
        rc = range_copy(reads[i].key, reads[i].prefix, &out[i], err);
    for (size_t i = 0; rc < 0 && i < count; i++)
        etcd_kvs_free(&out[i]);
    return fs_call_end(&batch, rc);
}

int etcd_read_many(struct etcd *etcd, const struct etcd_read *reads, size_t count,
                   struct etcd_kvs *out, struct weft_err *err)
{
    return etcd_put_read_many(etcd, NULL, NULL, 0, reads, count, out, err);
}

int etcd_get_prefix_created_after(struct etcd *etcd, const char *prefix, int64_t after,
                                  struct etcd_kvs *out, struct weft_err *err)
{
    if (etcd_get_prefix(etcd, prefix, out, err) < 0)
        return -1;
    size_t kept = 0;
    for (size_t i = 0; i < out->count; i++) {
        if (out->items[i].create_revision > after)
            out->items[kept++] = out->items[i];
        else
            etcd_kv_clear(&out->items[i]);
    }
    out->count = kept;
    return 0;
}

/* One write at the next revision; the revision moves only if something changed. */
static int write_one(const char *key, const char *value, int64_t lease, bool prefix, bool *deleted,
                     struct weft_err *err)
{
    struct fs_batch batch = {0};
    int rc = 0;
    if (value && !fs_lease_alive(lease))
        rc = weft_err_set(err, -ENOENT, "etcdserver: requested lease not found");
    else if (value && fs_kv_put(key, value, lease, fs.revision + 1, &batch) < 0)
        rc = weft_err_set(err, -ENOMEM, "out of memory");
    else if (!value && deleted)
        *deleted = fs_kv_delete(key, prefix, fs.revision + 1, &batch) > 0;
    else if (!value)
        fs_kv_delete(key, prefix, fs.revision + 1, &batch);
    if (batch.count)
        fs.revision++;
    return fs_call_end(&batch, rc);
}

int etcd_put(struct etcd *etcd, const char *key, const char *value, int64_t lease,
             struct weft_err *err)
{
    (void)etcd;
    if (fs_call_start(err) < 0)
        return -1;
    return write_one(key, value, lease, false, NULL, err);
}

int etcd_delete(struct etcd *etcd, const char *key, bool *deleted, struct weft_err *err)
{
    (void)etcd;
    if (fs_call_start(err) < 0)
        return -1;
    bool gone = false;
    int rc = write_one(key, NULL, 0, false, &gone, err);
    if (deleted)
        *deleted = gone;
    return rc;
}

int etcd_delete_prefix(struct etcd *etcd, const char *prefix, struct weft_err *err)
{
    (void)etcd;
    if (fs_call_start(err) < 0)
        return -1;
    return write_one(prefix, NULL, 0, true, NULL, err);
}

int etcd_create(struct etcd *etcd, const char *key, const char *value, int64_t lease, bool *created,
                struct etcd_kv *existing, struct weft_err *err)
{
    (void)etcd;
    *created = false;
    if (fs_call_start(err) < 0)
        return -1;
    bool found;
    size_t i = fs_kv_find(key, &found);
    if (!found)
        return write_one(key, value, lease, false, NULL, err) < 0 ? -1 : (*created = true, 0);
    /* Exactly this value under this lease: our own write, retried (see etcd.h). */
    *created = strcmp(fs.kvs[i].value, value) == 0 && fs.kvs[i].lease == lease;
    int rc = !*created && existing && kv_copy(&fs.kvs[i], existing) < 0
                 ? weft_err_set(err, -ENOMEM, "out of memory")
                 : 0;
    return fs_call_end(NULL, rc);
}

/* ---------- leases ---------- */

static int64_t lease_new(void)
{
    if (fs.lease_count == fs.lease_cap) {
        size_t cap = fs.lease_cap ? fs.lease_cap * 2 : 16;
        int64_t *leases = realloc(fs.leases, cap * sizeof(*leases));
        if (!leases)
            return 0;
        fs.leases = leases;
        fs.lease_cap = cap;
    }
    int64_t id = ++fs.next_lease + 0x7000;
    fs.leases[fs.lease_count++] = id;
    return id;
}

/* Drops lease and deletes its keys, at one revision. */
static void lease_end(int64_t lease, struct fs_batch *batch)
{
    for (size_t i = 0; i < fs.lease_count; i++)
        if (fs.leases[i] == lease)
            fs.leases[i--] = fs.leases[--fs.lease_count];
    for (size_t i = 0; i < fs.count;)
        if (fs.kvs[i].lease == lease)
            kv_remove_at(i, fs.revision + 1, batch);
        else
            i++;
    if (batch->count)
        fs.revision++;
}

int etcd_lease_grant(struct etcd *etcd, int64_t ttl_seconds, int64_t *lease_id,
                     struct weft_err *err)
{
    (void)etcd;
    (void)ttl_seconds; /* leases end when a test says so (fake_store_expire_lease) */
    if (fs_call_start(err) < 0)
        return -1;
    *lease_id = lease_new();
    return fs_call_end(NULL, *lease_id ? 0 : weft_err_set(err, -ENOMEM, "out of memory"));
}

int etcd_lease_keepalive(struct etcd *etcd, int64_t lease_id, bool *alive, struct weft_err *err)
{
    (void)etcd;
    if (fs_call_start(err) < 0)
        return -1;
    *alive = lease_id && fs_lease_alive(lease_id);
    return fs_call_end(NULL, 0);
}

int etcd_lease_count(struct etcd *etcd, size_t *count, struct weft_err *err)
{
    (void)etcd;
    if (fs_call_start(err) < 0)
        return -1;
    *count = fs.lease_count;
    return fs_call_end(NULL, 0);
}

/* The fake has no idle probes to pace. */
void etcd_set_cluster_hosts(struct etcd *etcd, size_t hosts)
{
    (void)etcd;
    (void)hosts;
}

int etcd_lease_revoke(struct etcd *etcd, int64_t lease_id, struct weft_err *err)
{
    (void)etcd;
    if (fs_call_start(err) < 0)
        return -1;
    struct fs_batch batch = {0};
    lease_end(lease_id, &batch);
    return fs_call_end(&batch, 0);
}

/* ---------- the test's side (fake_store.h): no round trips, no faults ---------- */

void fake_store_reset(void)
{
    pthread_mutex_lock(&fs.lock);
    for (size_t i = 0; i < fs.count; i++)
        etcd_kv_clear(&fs.kvs[i]);
    free(fs.kvs);
    free(fs.leases);
    fs.kvs = NULL;
    fs.leases = NULL;
    fs.count = fs.cap = fs.lease_count = fs.lease_cap = 0;
    fs.revision = 1;
    fs.down = fs.failed = fs.hold = false;
    fs_changed();
    pthread_mutex_unlock(&fs.lock);
}

void fake_store_set_down(bool down)
{
    pthread_mutex_lock(&fs.lock);
    if (down != fs.down) {
        fs.down = down;
        if (down) {
            fs_disconnect_all();
        } else { /* the watches list again: a request that answers */
            fs.failed = false;
            fs_relist_all();
        }
    }
    fs_changed();
    pthread_mutex_unlock(&fs.lock);
}

void fake_store_put(const char *key, const char *value, int64_t lease)
{
    pthread_mutex_lock(&fs.lock);
    struct fs_batch batch = {0};
    if (fs_kv_put(key, value, lease, fs.revision + 1, &batch) == 0)
        fs.revision++;
    fs_publish(&batch);
    fs_changed();
    pthread_mutex_unlock(&fs.lock);
}

void fake_store_delete(const char *key)
{
    pthread_mutex_lock(&fs.lock);
    struct fs_batch batch = {0};
    if (fs_kv_delete(key, false, fs.revision + 1, &batch))
        fs.revision++;
    fs_publish(&batch);
    fs_changed();
    pthread_mutex_unlock(&fs.lock);
}

int64_t fake_store_grant(void)
{
    pthread_mutex_lock(&fs.lock);
    int64_t lease = lease_new();
    pthread_mutex_unlock(&fs.lock);
    return lease;
}

void fake_store_expire_lease(int64_t lease)
{
    pthread_mutex_lock(&fs.lock);
    struct fs_batch batch = {0};
    lease_end(lease, &batch);
    fs_publish(&batch);
    fs_changed();
    pthread_mutex_unlock(&fs.lock);
}

char *fake_store_get(const char *key, int64_t *lease)
{
    pthread_mutex_lock(&fs.lock);
    bool found;
    size_t i = fs_kv_find(key, &found);
    char *value = found ? strdup(fs.kvs[i].value) : NULL;
    if (lease)
        *lease = found ? fs.kvs[i].lease : 0;
    pthread_mutex_unlock(&fs.lock);
    return value;
}

size_t fake_store_count(const char *prefix)
{
    pthread_mutex_lock(&fs.lock);
    size_t n = 0;
    for (size_t i = 0; i < fs.count; i++)
        n += strncmp(fs.kvs[i].key, prefix, strlen(prefix)) == 0;
    pthread_mutex_unlock(&fs.lock);
    return n;
}

char *fake_store_snapshot(void)
{
    pthread_mutex_lock(&fs.lock);
    size_t len = 1;
    for (size_t i = 0; i < fs.count; i++)
        len += strlen(fs.kvs[i].key) + strlen(fs.kvs[i].value) + 48;
    char *text = malloc(len), *p = text;
    for (size_t i = 0; text && i < fs.count; i++) /* kvs are sorted by key */
        p += sprintf(p, "%s = %s (lease %lld)\n", fs.kvs[i].key, fs.kvs[i].value,
                     (long long)fs.kvs[i].lease);
    if (text)
        *p = '\0';
    pthread_mutex_unlock(&fs.lock);
    return text;
}
