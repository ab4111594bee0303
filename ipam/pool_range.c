/*
 * pool_range.c: one --ip-range per pool, cluster-wide (see ipam.h, ipam_fix_pool).
 *
 * The first host's RequestPool writes addrs/<sk>/pool create-if-absent, with its
 * range or none; every later host's must match it. Written even without a range, so
 * that a host passing one where the first passed none is refused too. The record
 * lives under addrs/<sk>/, so the overlay's release (which drops that prefix with
 * the gateway) frees the subnet for another range. IPv6 pools alike (pool_id6.c).
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

/* The subnet and range texts of a pool ID of either family (range "" for none). */
static int pool_texts(const char *pool_id, char subnet[ADDR_STR_MAX], char range[ADDR_STR_MAX],
                      struct weft_err *err)
{
    if (addr_text_is_ipv6(pool_id)) {
        struct ipam_pool6 pool6;
        if (ipam_pool6_parse(pool_id, &pool6, err) < 0)
            return -1;
        memcpy(subnet, pool6.subnet_text, ADDR_STR_MAX);
        memcpy(range, pool6.range_text, ADDR_STR_MAX);
        return 0;
    }
    struct ipam_pool pool;
    if (ipam_pool_parse(pool_id, &pool, err) < 0)
        return -1;
    memcpy(subnet, pool.subnet_text, ADDR_STR_MAX);
    memcpy(range, pool.range_text, ADDR_STR_MAX);
    return 0;
}

/* Compares the record found in the store with this host's range. */
static int check_fixed(const char *subnet, const char *range, const char *text,
                       struct weft_err *err)
{
    struct pool_record fixed;
    struct weft_err why = {0};
    if (pool_record_decode(text, &fixed, &why) < 0)
        return weft_err_set(err, -EPROTO, "the pool record of %s is unreadable: %s", subnet,
                            why.msg);
    if (strcmp(fixed.range, range) == 0)
        return 0;
    return weft_err_set(err, -EEXIST,
                        "subnet %s is in use with --ip-range %s; this host asked for %s: every "
                        "host must pass the same --ip-range for one subnet",
                        subnet, range_words(fixed.range), range_words(range));
}

int ipam_fix_pool(struct etcd *etcd, const char *pool_id, struct weft_err *err)
{
    char subnet[ADDR_STR_MAX], range[ADDR_STR_MAX];
    if (pool_texts(pool_id, subnet, range, err) < 0)
        return -1;
    struct pool_record rec = {0};
    snprintf(rec.subnet, sizeof(rec.subnet), "%s", subnet);
    snprintf(rec.range, sizeof(rec.range), "%s", range);
    char key[WEFT_KEY_MAX];
    key_pool(key, subnet);
    char *value = pool_record_encode(&rec);
    if (!value)
        return weft_err_set(err, -ENOMEM, "out of memory");
    bool created = false;
    struct etcd_kv existing = {0};
    int rc = etcd_create(etcd, key, value, 0, &created, &existing, err);
    free(value);
    if (rc == 0 && !created)
        rc = check_fixed(subnet, range, existing.value, err);
    etcd_kv_clear(&existing);
    return rc;
}
