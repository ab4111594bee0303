/*
 * pool_range.c: one --ip-range per pool, cluster-wide (see ipam.h, ipam_fix_pool).
 *
 * The first host's RequestPool writes addrs/<sk>/pool create-if-absent, with its
 * range or none; every later host's must match it. Written even without a range, so
 * that a host passing one where the first passed none is refused too. The record
 * lives under addrs/<sk>/, so the overlay's release (which drops that prefix with
 * the gateway) frees the subnet for another range.
 */
#include "ipam/ipam.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/addr6.h"
#include "store/keys.h"
#include "store/records.h"

static const char *range_words(const char *range)
{
    return range[0] ? range : "none (the whole subnet)";
}

/* Compares the record found in the store with pool. */
static int check_fixed(const struct ipam_pool *pool, const char *text, struct weft_err *err)
{
    struct pool_record fixed;
    struct weft_err why = {0};
    if (pool_record_decode(text, &fixed, &why) < 0)
        return weft_err_set(err, -EPROTO, "the pool record of %s is unreadable: %s",
                            pool->subnet_text, why.msg);
    if (strcmp(fixed.range, pool->range_text) == 0)
        return 0;
    return weft_err_set(err, -EEXIST,
                        "subnet %s is in use with --ip-range %s; this host asked for %s: every "
                        "host must pass the same --ip-range for one subnet",
                        pool->subnet_text, range_words(fixed.range),
                        range_words(pool->range_text));
}

int ipam_fix_pool(struct etcd *etcd, const char *pool_id, struct weft_err *err)
{
    if (addr_text_is_ipv6(pool_id)) /* an IPv6 pool has no range (ipam_request_pool) */
        return 0;
    struct ipam_pool pool;
    if (ipam_pool_parse(pool_id, &pool, err) < 0)
        return -1;
    struct pool_record rec = {0};
    snprintf(rec.subnet, sizeof(rec.subnet), "%s", pool.subnet_text);
    snprintf(rec.range, sizeof(rec.range), "%s", pool.range_text);
    char key[WEFT_KEY_MAX];
    key_pool(key, pool.subnet_text);
    char *value = pool_record_encode(&rec);
    if (!value)
        return weft_err_set(err, -ENOMEM, "out of memory");
    bool created = false;
    struct etcd_kv existing = {0};
    int rc = etcd_create(etcd, key, value, 0, &created, &existing, err);
    free(value);
    if (rc == 0 && !created)
        rc = check_fixed(&pool, existing.value, err);
    etcd_kv_clear(&existing);
    return rc;
}
