/*
 * pool_id6.c: IPv6 pool IDs with and without a range (see pool_id.h). Written
 * like the IPv4 ones, "fd73::/64" or "fd73::/64@fd73::100/120", so that Docker
 * carries the range back in every RequestAddress and no store read is needed.
 * A range is any prefix inside the subnet, down to one address (/128); the
 * offsets it spans fit in 64 bits because a pool is at most a /64.
 */
#include "ipam/pool_id.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#define RANGE_SEPARATOR '@'

/* Whether a has no bit set after prefix_len. */
static bool host_bits_clear(const struct ipv6_addr *a, int prefix_len)
{
    for (int i = 0; i < 16; i++) {
        int keep = prefix_len - 8 * i; /* bits of this byte in the prefix */
        uint8_t host = keep <= 0 ? 0xff : keep < 8 ? (uint8_t)(0xff >> keep) : 0;
        if (a->bytes[i] & host)
            return false;
    }
    return true;
}

/* Parses and places the range; the subnet is already in out. */
static int parse_range(const char *text, struct ipam_pool6 *out, struct weft_err *err)
{
    int len;
    struct weft_err why = {0};
    if (ipv6_parse_with_prefix(text, &out->range_network, &len, &why) < 0)
        return weft_err_set(err, -EINVAL, "--ip-range %.60s is not an IPv6 CIDR: %s", text,
                            why.msg);
    if (!host_bits_clear(&out->range_network, len))
        return weft_err_set(err, -EINVAL, "--ip-range %.60s has host bits set", text);
    if (len < out->subnet.prefix_len || !ipv6_subnet_contains(&out->subnet, &out->range_network))
        return weft_err_set(err, -EINVAL, "--ip-range %.60s is not inside --subnet %s", text,
                            out->subnet_text);
    out->range_prefix_len = len;
    char ip[ADDR_STR_MAX];
    ipv6_format(&out->range_network, ip);
    snprintf(out->range_text, sizeof(out->range_text), "%.39s/%d", ip, len & 255);
    return 0;
}

int ipam_pool6_new(const char *subnet, const char *range, struct ipam_pool6 *out,
                   struct weft_err *err)
{
    memset(out, 0, sizeof(*out));
    if (ipv6_subnet_parse(subnet, &out->subnet, err) < 0)
        return -1;
    ipv6_subnet_format(&out->subnet, out->subnet_text);
    if (!range || !*range)
        return 0;
    if (parse_range(range, out, err) < 0)
        return -1;
    out->ranged = true;
    uint64_t first, count;
    ipam_pool6_span(out, &first, &count);
    if (count == 0)
        return weft_err_set(err, -EINVAL,
                            "--ip-range %s holds no host address of %s (only its subnet-router "
                            "anycast address)",
                            out->range_text, out->subnet_text);
    return 0;
}

int ipam_pool6_parse(const char *pool_id, struct ipam_pool6 *out, struct weft_err *err)
{
    char text[IPAM_POOL_ID_MAX];
    const char *range;
    struct weft_err why = {0};
    if (ipam_pool_id_split(pool_id, text, &range, err) < 0)
        return -1;
    if (ipam_pool6_new(text, range, out, &why) < 0)
        return weft_err_set(err, -ENOENT, "unknown pool %.64s: %s", pool_id, why.msg);
    return 0;
}

void ipam_pool6_format(const struct ipam_pool6 *pool, char out[IPAM_POOL_ID_MAX])
{
    if (pool->ranged)
        snprintf(out, IPAM_POOL_ID_MAX, "%.43s%c%.43s", pool->subnet_text, RANGE_SEPARATOR,
                 pool->range_text);
    else
        snprintf(out, IPAM_POOL_ID_MAX, "%.43s", pool->subnet_text);
}

void ipam_pool6_span(const struct ipam_pool6 *pool, uint64_t *first, uint64_t *count)
{
    uint64_t low = 1, high = ipv6_subnet_host_count(&pool->subnet); /* the last offset */
    if (pool->ranged) {
        uint64_t range_low = ipv6_subnet_offset(&pool->subnet, &pool->range_network);
        int bits = 128 - pool->range_prefix_len;
        uint64_t range_high = bits >= 64 ? UINT64_MAX : range_low + ((UINT64_C(1) << bits) - 1);
        if (range_low > low)
            low = range_low;
        if (range_high < high)
            high = range_high;
    }
    *first = low;
    *count = high >= low ? high - low + 1 : 0;
}
