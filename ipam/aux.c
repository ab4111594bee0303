/*
 * aux.c: --aux-address reservations (see ipam.h, ipam_reserve_aux).
 *
 * Docker reserves each aux address with a plain RequestAddress on every host that
 * creates the network; like the gateway, the first host's request writes the
 * record (kind "aux") and the others find it and share it. An aux address is never
 * an endpoint's: no fabric claim, never released by one host, never reaped.
 */
#include "ipam/ipam.h"

#include <errno.h>
#include <string.h>

#include "common/addr6.h"
#include "ipam/ipam6.h"
#include "ipam/ipam_internal.h"

int ipam_reserve_aux(struct etcd *etcd, const char *pool_id, const char *host, const char *wanted,
                     char out[ADDR_STR_MAX], struct weft_err *err)
{
    if (addr_text_is_ipv6(pool_id))
        return ipam6_reserve_aux(etcd, pool_id, host, wanted, out, err);
    struct ipam_pool pool;
    uint32_t ip;
    if (ipam_pool_parse(pool_id, &pool, err) < 0 || ipv4_parse(wanted, &ip, err) < 0)
        return -1;
    char text[ADDR_STR_MAX];
    ipv4_format(ip, text);
    if (!ipv4_subnet_contains(&pool.subnet, ip) || ipv4_subnet_is_reserved(&pool.subnet, ip))
        return weft_err_set(err, -ERANGE, "--aux-address %s is not a host address of %s", text,
                            pool.subnet_text);
    bool taken;
    struct addr_record owner;
    if (ipam_try_claim(etcd, pool.subnet_text, ip, host, KIND_AUX, &taken, &owner, err) < 0)
        return -1;
    if (taken && strcmp(owner.kind, KIND_AUX) != 0) {
        if (strcmp(owner.kind, KIND_GATEWAY) == 0)
            return weft_err_set(err, -EEXIST, "--aux-address %s is the gateway of %s", text,
                                pool.subnet_text);
        return weft_err_set(err, -EEXIST,
                            "--aux-address %s is already used by an endpoint on host %s", text,
                            owner.host);
    }
    /* Taken as aux: another host of the overlay reserved it already. */
    ipam_format_answer(&pool.subnet, ip, out);
    return 0;
}

bool ipam_kind_is_shared(const char *kind)
{
    return strcmp(kind, KIND_GATEWAY) == 0 || strcmp(kind, KIND_AUX) == 0;
}
