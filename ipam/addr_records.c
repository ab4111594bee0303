/*
 * addr_records.c: the steps on addrs/<sk>/ that do not depend on the address family
 * (ipam_internal.h): freeing one endpoint's record, counting a pool's endpoint
 * records. ipam.c (IPv4) and ipam6.c (IPv6) both come here once they have the key.
 */
#include "ipam/ipam_internal.h"

#include <errno.h>
#include <string.h>

#include "common/log.h"
#include "store/keys.h"

int ipam_release_key(struct etcd *etcd, const char *key, const char *host, struct weft_err *err)
{
    struct etcd_kv current = {0};
    bool found = false;
    if (etcd_get(etcd, key, &current, &found, err) < 0)
        return -1;
    if (!found)
        return 0;
    /* Only an endpoint's address is freed: the gateway and aux addresses are shared
     * by every host and live as long as the overlay. The compare on the revision read
     * makes "not shared, this host's" atomic with the delete. A yes/no test: only a
     * readable shared record, or another host's, is kept; anything else is freed. */
    struct addr_record rec;
    int rc = 0;
    bool readable = addr_record_decode(current.value, &rec, NULL) == 0;
    if (readable && !ipam_kind_is_shared(rec.kind) && strcmp(rec.host, host) != 0) {
        /* Docker releasing, after a power cycle, an address this host's restarted
         * daemon had released already and another host took since. */
        log_warn("not releasing an address another host holds now", "key=%s holder=%.64s", key,
                 rec.host);
    } else if (!readable || !ipam_kind_is_shared(rec.kind)) {
        struct etcd_txn *txn = etcd_txn_new();
        if (!txn) {
            etcd_kv_clear(&current);
            return weft_err_set(err, -ENOMEM, "out of memory");
        }
        etcd_txn_cmp_mod_revision(txn, key, current.mod_revision);
        etcd_txn_delete(txn, key);
        bool succeeded;
        rc = etcd_txn_commit(etcd, txn, &succeeded, err);
        etcd_txn_free(txn);
    }
    etcd_kv_clear(&current);
    return rc;
}

int ipam_count_endpoints(struct etcd *etcd, const char *subnet, int *count, struct weft_err *err)
{
    char prefix[WEFT_KEY_MAX];
    key_addr_prefix(prefix, subnet);
    struct etcd_kvs kvs;
    if (etcd_get_prefix(etcd, prefix, &kvs, err) < 0)
        return -1;
    int n = 0;
    for (size_t i = 0; i < kvs.count; i++) {
        struct addr_record rec;
        if (key_is_pool(kvs.items[i].key))
            continue;
        /* A yes/no test: an unreadable record counts as an endpoint's. */
        if (addr_record_decode(kvs.items[i].value, &rec, NULL) == 0 &&
            ipam_kind_is_shared(rec.kind))
            continue;
        n++;
    }
    etcd_kvs_free(&kvs);
    *count = n;
    return 0;
}
