/*
 * fake_etcd_txn.c: etcd.h's compare-and-swap transactions on the fake store:
 * all compares hold and every operation applies at one revision, or none does.
 */
#include <stdlib.h>
#include <string.h>

#include "tests/fakes/fake_store_internal.h"

enum txn_item_type {
    CMP_ABSENT,
    CMP_MOD_REVISION,
    CMP_VALUE,
    CMP_PREFIX_ABSENT,
    OP_PUT,
    OP_DELETE,
    OP_DELETE_PREFIX,
};

struct txn_item {
    enum txn_item_type type;
    char *key, *value;
    int64_t number; /* revision or lease */
};

struct etcd_txn {
    struct txn_item *items;
    size_t count, cap;
    bool broken; /* out of memory while building: commit fails */
};

struct etcd_txn *etcd_txn_new(void)
{
    return calloc(1, sizeof(struct etcd_txn));
}

void etcd_txn_free(struct etcd_txn *txn)
{
    for (size_t i = 0; txn && i < txn->count; i++) {
        free(txn->items[i].key);
        free(txn->items[i].value);
    }
    if (txn)
        free(txn->items);
    free(txn);
}

static void txn_add(struct etcd_txn *txn, enum txn_item_type type, const char *key,
                    const char *value, int64_t number)
{
    if (txn->count == txn->cap) {
        size_t cap = txn->cap ? txn->cap * 2 : 8;
        struct txn_item *items = realloc(txn->items, cap * sizeof(*items));
        if (!items) {
            txn->broken = true;
            return;
        }
        txn->items = items;
        txn->cap = cap;
    }
    struct txn_item *it = &txn->items[txn->count++];
    *it = (struct txn_item){.type = type, .key = strdup(key), .number = number};
    it->value = value ? strdup(value) : NULL;
    txn->broken |= !it->key || (value && !it->value);
}

void etcd_txn_cmp_absent(struct etcd_txn *txn, const char *key)
{
    txn_add(txn, CMP_ABSENT, key, NULL, 0);
}

void etcd_txn_cmp_mod_revision(struct etcd_txn *txn, const char *key, int64_t rev)
{
    txn_add(txn, CMP_MOD_REVISION, key, NULL, rev);
}

void etcd_txn_cmp_value(struct etcd_txn *txn, const char *key, const char *value)
{
    txn_add(txn, CMP_VALUE, key, value, 0);
}

void etcd_txn_cmp_prefix_absent(struct etcd_txn *txn, const char *prefix)
{
    txn_add(txn, CMP_PREFIX_ABSENT, prefix, NULL, 0);
}

void etcd_txn_put(struct etcd_txn *txn, const char *key, const char *value, int64_t lease)
{
    txn_add(txn, OP_PUT, key, value, lease);
}

void etcd_txn_delete(struct etcd_txn *txn, const char *key)
{
    txn_add(txn, OP_DELETE, key, NULL, 0);
}

void etcd_txn_delete_prefix(struct etcd_txn *txn, const char *prefix)
{
    txn_add(txn, OP_DELETE_PREFIX, prefix, NULL, 0);
}

static bool txn_holds(const struct txn_item *it)
{
    bool found;
    size_t i = fs_kv_find(it->key, &found);
    switch (it->type) {
    case CMP_ABSENT:
        return !found;
    case CMP_MOD_REVISION: /* a missing key's mod revision is 0 */
        return (found ? fs.kvs[i].mod_revision : 0) == it->number;
    case CMP_VALUE: /* etcd: a compare on a missing key fails */
        return found && strcmp(fs.kvs[i].value, it->value) == 0;
    case CMP_PREFIX_ABSENT:
        return fs_prefix_empty(it->key);
    default:
        return true;
    }
}

/* Blocks a commit while the test holds transactions. Under fs.lock. */
static void wait_unless_held(void)
{
    if (!fs.hold)
        return;
    fs.held++;
    fs_changed();
    while (fs.hold)
        pthread_cond_wait(&fs.changed, &fs.lock);
    fs.held--;
}

int etcd_txn_commit(struct etcd *etcd, struct etcd_txn *txn, bool *succeeded, struct weft_err *err)
{
    (void)etcd;
    *succeeded = false;
    if (txn->broken)
        return weft_err_set(err, -ENOMEM, "out of memory");
    pthread_mutex_lock(&fs.lock);
    wait_unless_held();
    pthread_mutex_unlock(&fs.lock);
    if (fs_call_start(err) < 0)
        return -1;
    bool holds = true;
    for (size_t i = 0; i < txn->count && holds; i++)
        holds = txn_holds(&txn->items[i]);
    for (size_t i = 0; i < txn->count && holds; i++) /* a put under a dead lease fails it all */
        if (txn->items[i].type == OP_PUT && !fs_lease_alive(txn->items[i].number))
            return fs_call_end(NULL,
                               weft_err_set(err, -ENOENT, "etcdserver: requested lease not found"));
    struct fs_batch batch = {0};
    int64_t rev = fs.revision + 1;
    for (size_t i = 0; i < txn->count && holds; i++) {
        const struct txn_item *it = &txn->items[i];
        if (it->type == OP_PUT && fs_kv_put(it->key, it->value, it->number, rev, &batch) < 0)
            return fs_call_end(&batch, weft_err_set(err, -ENOMEM, "out of memory"));
        if (it->type == OP_DELETE || it->type == OP_DELETE_PREFIX)
            fs_kv_delete(it->key, it->type == OP_DELETE_PREFIX, rev, &batch);
    }
    if (batch.count)
        fs.revision = rev;
    *succeeded = holds;
    return fs_call_end(&batch, 0);
}
