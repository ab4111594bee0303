/* pool_id.c: pool IDs with and without a range (see pool_id.h). */
#include "ipam/pool_id.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#define RANGE_SEPARATOR '@'

static uint32_t prefix_mask(int prefix_len)
{
    return prefix_len == 0 ? 0 : 0xffffffffu << (32 - prefix_len);
}

/* A range is written like a subnet, but may be as small as one address (/32). */
static int parse_range(const char *text, struct ipv4_subnet *out, struct weft_err *err)
{
    uint32_t ip;
    int len;
    struct weft_err why = {0};
    if (ipv4_parse_with_prefix(text, &ip, &len, &why) < 0)
        return weft_err_set(err, -EINVAL, "--ip-range %.40s is not an IPv4 CIDR: %s", text,
                            why.msg);
    if (len < 8)
        return weft_err_set(err, -EINVAL, "--ip-range %.40s: prefix length must be /8 to /32",
                            text);
    if (ip & ~prefix_mask(len)) {
        char fixed[ADDR_STR_MAX];
        ipv4_format(ip & prefix_mask(len), fixed);
        return weft_err_set(err, -EINVAL, "--ip-range %.40s has host bits set; did you mean %s/%d?",
                            text, fixed, len);
    }
    out->network = ip;
    out->prefix_len = len;
    return 0;
}

int ipam_pool_new(const char *subnet, const char *range, struct ipam_pool *out,
                  struct weft_err *err)
{
    memset(out, 0, sizeof(*out));
    if (ipv4_subnet_parse(subnet, &out->subnet, err) < 0)
        return -1;
    ipv4_subnet_format(&out->subnet, out->subnet_text);
    if (!range || !*range)
        return 0;
    if (parse_range(range, &out->range, err) < 0)
        return -1;
    if (out->range.prefix_len < out->subnet.prefix_len ||
        !ipv4_subnet_contains(&out->subnet, out->range.network))
        return weft_err_set(err, -EINVAL, "--ip-range %.40s is not inside --subnet %s", range,
                            out->subnet_text);
    out->ranged = true;
    char ip[ADDR_STR_MAX];
    ipv4_format(out->range.network, ip);
    snprintf(out->range_text, sizeof(out->range_text), "%.15s/%d", ip, out->range.prefix_len & 63);
    uint32_t first, count;
    ipam_pool_span(out, &first, &count);
    if (count == 0)
        return weft_err_set(err, -EINVAL,
                            "--ip-range %s holds no host address of %s (only its network or "
                            "broadcast address)",
                            out->range_text, out->subnet_text);
    return 0;
}

int ipam_pool_id_split(const char *pool_id, char text[IPAM_POOL_ID_MAX], const char **range,
                       struct weft_err *err)
{
    if (!pool_id || strlen(pool_id) >= IPAM_POOL_ID_MAX)
        return weft_err_set(err, -ENOENT, "unknown pool %.64s", pool_id ? pool_id : "");
    snprintf(text, IPAM_POOL_ID_MAX, "%s", pool_id);
    char *at = strchr(text, RANGE_SEPARATOR);
    *range = "";
    if (at) {
        *at++ = '\0';
        if (!*at)
            return weft_err_set(err, -ENOENT, "unknown pool %.64s: empty range", pool_id);
        *range = at;
    }
    return 0;
}

int ipam_pool_parse(const char *pool_id, struct ipam_pool *out, struct weft_err *err)
{
    char text[IPAM_POOL_ID_MAX];
    const char *range;
    struct weft_err why = {0};
    if (ipam_pool_id_split(pool_id, text, &range, err) < 0)
        return -1;
    if (ipam_pool_new(text, range, out, &why) < 0)
        return weft_err_set(err, -ENOENT, "unknown pool %.64s: %s", pool_id, why.msg);
    return 0;
}

void ipam_pool_format(const struct ipam_pool *pool, char out[IPAM_POOL_ID_MAX])
{
    if (pool->ranged)
        snprintf(out, IPAM_POOL_ID_MAX, "%.31s%c%.31s", pool->subnet_text, RANGE_SEPARATOR,
                 pool->range_text);
    else
        snprintf(out, IPAM_POOL_ID_MAX, "%.31s", pool->subnet_text);
}

void ipam_pool_span(const struct ipam_pool *pool, uint32_t *first, uint32_t *count)
{
    uint32_t low = ipv4_subnet_first_host(&pool->subnet);
    uint32_t high = ipv4_subnet_last_host(&pool->subnet);
    if (pool->ranged) {
        uint32_t range_low = pool->range.network;
        uint32_t range_high = range_low | ~prefix_mask(pool->range.prefix_len);
        if (range_low > low)
            low = range_low;
        if (range_high < high)
            high = range_high;
    }
    *first = low;
    *count = high >= low ? high - low + 1 : 0;
}
