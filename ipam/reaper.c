/*
 * reaper.c: freeing the endpoint addresses of hosts dead for longer than a grace
 * period (see ipam.h). Split from ipam.c: it reads every allocation of the
 * cluster, not one pool's.
 */
#include "ipam/ipam.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <errno.h>

#include "common/log.h"
#include "ipam/ipam_internal.h"
#include "store/keys.h"
#include "store/records.h"

struct dead_host {
    char host[RECORD_TEXT_MAX];
    struct timespec since;
    bool seen; /* still dead in this pass */
};

struct ipam_reaper {
    int grace_seconds;
    struct dead_host *dead;
    size_t count, capacity;
};

struct ipam_reaper *ipam_reaper_new(int grace_seconds)
{
    struct ipam_reaper *r = calloc(1, sizeof(*r));
    if (r)
        r->grace_seconds = grace_seconds;
    return r;
}

void ipam_reaper_free(struct ipam_reaper *reaper)
{
    if (!reaper)
        return;
    free(reaper->dead);
    free(reaper);
}

/* The entry for host, added (dead since now) when new; NULL when out of memory. */
static struct dead_host *dead_host_entry(struct ipam_reaper *r, const char *host,
                                         const struct timespec *now)
{
    for (size_t i = 0; i < r->count; i++)
        if (strcmp(r->dead[i].host, host) == 0)
            return &r->dead[i];
    if (r->count == r->capacity) {
        size_t capacity = r->capacity ? r->capacity * 2 : 8;
        struct dead_host *grown = realloc(r->dead, capacity * sizeof(*grown));
        if (!grown)
            return NULL;
        r->dead = grown;
        r->capacity = capacity;
    }
    struct dead_host *d = &r->dead[r->count++];
    memset(d, 0, sizeof(*d));
    snprintf(d->host, sizeof(d->host), "%s", host);
    d->since = *now;
    return d;
}

/* Whether hosts (a listing, sorted by key as etcd returns it) holds host's alive key:
 * a binary search, since the reaper asks once per address in the cluster. */
static bool host_listed(const struct etcd_kvs *hosts, const char *host)
{
    char key[WEFT_KEY_MAX];
    key_host_alive(key, host);
    size_t low = 0, high = hosts->count;
    while (low < high) {
        size_t mid = low + (high - low) / 2;
        int cmp = strcmp(hosts->items[mid].key, key);
        if (cmp == 0)
            return true;
        if (cmp < 0)
            low = mid + 1;
        else
            high = mid;
    }
    return false;
}

static int delete_if_unchanged(struct etcd *etcd, const struct etcd_kv *kv, struct weft_err *err)
{
    struct etcd_txn *txn = etcd_txn_new();
    if (!txn)
        return weft_err_set(err, -ENOMEM, "out of memory");
    etcd_txn_cmp_mod_revision(txn, kv->key, kv->mod_revision);
    etcd_txn_delete(txn, kv->key);
    bool succeeded = false;
    int rc = etcd_txn_commit(etcd, txn, &succeeded, err);
    etcd_txn_free(txn);
    return rc < 0 ? -1 : succeeded;
}

int ipam_reap(struct etcd *etcd, struct ipam_reaper *reaper, int *reclaimed, struct weft_err *err)
{
    char prefix[WEFT_KEY_MAX];
    struct etcd_kvs alive = {0}, addrs = {0};
    int freed = 0, rc = -1;
    /* Alive keys first: an allocation made after this read belongs to a live host. */
    key_hosts_prefix(prefix);
    if (etcd_get_prefix(etcd, prefix, &alive, err) < 0)
        return -1;
    key_addrs_root(prefix);
    if (etcd_get_prefix(etcd, prefix, &addrs, err) < 0)
        goto out;
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    for (size_t i = 0; i < reaper->count; i++)
        reaper->dead[i].seen = false;
    for (size_t i = 0; i < addrs.count; i++) {
        struct addr_record rec;
        /* A yes/no test: an unreadable record is never reaped (its owner is unknown). */
        if (addr_record_decode(addrs.items[i].value, &rec, NULL) < 0 ||
            strcmp(rec.kind, KIND_ENDPOINT) != 0 || host_listed(&alive, rec.host))
            continue;
        struct dead_host *d = dead_host_entry(reaper, rec.host, &now);
        if (!d) /* out of memory: not counted as dead yet, so nothing is freed early */
            continue;
        d->seen = true;
        if (now.tv_sec - d->since.tv_sec < reaper->grace_seconds)
            continue;
        int deleted = delete_if_unchanged(etcd, &addrs.items[i], err);
        if (deleted < 0)
            goto out;
        if (deleted) {
            freed++;
            log_warn("reclaimed address of a dead host", "key=%s host=%s dead_for=%lds",
                     addrs.items[i].key, rec.host, (long)(now.tv_sec - d->since.tv_sec));
        }
    }
    /* Hosts that came back, or have nothing left, are forgotten. */
    size_t kept = 0;
    for (size_t i = 0; i < reaper->count; i++)
        if (reaper->dead[i].seen)
            reaper->dead[kept++] = reaper->dead[i];
    reaper->count = kept;
    rc = 0;
out:
    etcd_kvs_free(&alive);
    etcd_kvs_free(&addrs);
    if (reclaimed)
        *reclaimed = freed;
    return rc;
}
