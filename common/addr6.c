/*
 * addr6.c: strict IPv6 parsing, RFC 5952 text and pool arithmetic (see addr6.h).
 * glibc's inet_pton reads every RFC 4291 form and nothing else; its inet_ntop
 * writes RFC 5952 (the longest zero run of at least two groups, the first of
 * equals, lower case) except for IPv4-mapped and -compatible addresses, which
 * lie outside every pool weft accepts. Offsets fit in the low 64 bits because
 * pools are /64 or smaller.
 */
#include "common/addr6.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

bool addr_text_is_ipv6(const char *text)
{
    return text && strchr(text, ':') != NULL;
}

/* The first len bytes of text as an IPv6 address; -1 when they are not one. */
static int read_ipv6(const char *text, size_t len, struct ipv6_addr *out)
{
    char buf[INET6_ADDRSTRLEN];
    if (len >= sizeof(buf))
        return -1;
    memcpy(buf, text, len);
    buf[len] = '\0';
    return inet_pton(AF_INET6, buf, out->bytes) == 1 ? 0 : -1;
}

int ipv6_parse(const char *text, struct ipv6_addr *out, struct weft_err *err)
{
    if (!text || !*text)
        return weft_err_set(err, -EINVAL, "an IPv6 address is required");
    if (read_ipv6(text, strlen(text), out) < 0)
        return weft_err_set(err, -EINVAL, "%.64s is not a valid IPv6 address", text);
    return 0;
}

void ipv6_format(const struct ipv6_addr *a, char out[ADDR_STR_MAX])
{
    /* Cannot fail: AF_INET6 is supported and ADDR_STR_MAX >= INET6_ADDRSTRLEN. */
    if (!inet_ntop(AF_INET6, a->bytes, out, ADDR_STR_MAX))
        out[0] = '\0';
}

/* A prefix length: one to three decimal digits, no leading zero, at most 128. */
static int read_prefix_len(const char *text, int *len)
{
    size_t digits = strspn(text, "0123456789");
    if (digits == 0 || digits > 3 || text[digits] != '\0' || (digits > 1 && text[0] == '0'))
        return -1;
    int value = 0;
    for (size_t i = 0; i < digits; i++)
        value = value * 10 + (text[i] - '0');
    if (value > 128)
        return -1;
    *len = value;
    return 0;
}

int ipv6_parse_with_prefix(const char *text, struct ipv6_addr *out, int *prefix_len,
                           struct weft_err *err)
{
    const char *slash = text ? strchr(text, '/') : NULL;
    if (!slash || read_ipv6(text, (size_t)(slash - text), out) < 0 ||
        read_prefix_len(slash + 1, prefix_len) < 0)
        return weft_err_set(err, -EINVAL,
                            "%.64s is not a valid IPv6 address with prefix length (addr/n)",
                            text ? text : "");
    return 0;
}

/* Clears the host bits of a (those after prefix_len). */
static void mask_host_bits(struct ipv6_addr *a, int prefix_len)
{
    for (int i = 0; i < 16; i++) {
        int keep = prefix_len - 8 * i; /* bits of this byte in the prefix */
        if (keep <= 0)
            a->bytes[i] = 0;
        else if (keep < 8)
            a->bytes[i] &= (uint8_t)(0xff << (8 - keep));
    }
}

/* Global unicast (2000::/3) or unique local (fc00::/7): addresses an overlay's
 * endpoints can use. */
static bool pool_scope_ok(const struct ipv6_addr *a)
{
    return (a->bytes[0] & 0xe0) == 0x20 || (a->bytes[0] & 0xfe) == 0xfc;
}

int ipv6_subnet_parse(const char *text, struct ipv6_subnet *out, struct weft_err *err)
{
    if (!text || !*text)
        return weft_err_set(err, -EINVAL, "an IPv6 subnet is required (for example fd81::/64)");
    const char *slash = strchr(text, '/');
    struct ipv6_subnet s;
    if (!slash || read_ipv6(text, (size_t)(slash - text), &s.network) < 0 ||
        read_prefix_len(slash + 1, &s.prefix_len) < 0)
        return weft_err_set(err, -EINVAL,
                            "subnet %.64s is not a valid IPv6 CIDR (for example fd81::/64)", text);
    if (s.prefix_len < IPV6_POOL_PREFIX_MIN || s.prefix_len > IPV6_POOL_PREFIX_MAX)
        return weft_err_set(err, -EINVAL,
                            "subnet %.64s: an IPv6 prefix length must be from /%d to /%d (a /64 "
                            "is one LAN; a /120 still holds 255 hosts)",
                            text, IPV6_POOL_PREFIX_MIN, IPV6_POOL_PREFIX_MAX);
    if (!pool_scope_ok(&s.network))
        return weft_err_set(err, -EINVAL,
                            "subnet %.64s is not unicast IPv6 an overlay can use: take a unique "
                            "local (fc00::/7, such as fd81::/64) or global (2000::/3) prefix",
                            text);
    struct ipv6_addr given = s.network;
    mask_host_bits(&s.network, s.prefix_len);
    if (memcmp(&given, &s.network, sizeof(given)) != 0) {
        char canonical[ADDR_STR_MAX];
        ipv6_subnet_format(&s, canonical);
        return weft_err_set(err, -EINVAL, "subnet %.64s has host bits set; did you mean %s?", text,
                            canonical);
    }
    *out = s;
    return 0;
}

void ipv6_subnet_format(const struct ipv6_subnet *s, char out[ADDR_STR_MAX])
{
    char ip[ADDR_STR_MAX];
    ipv6_format(&s->network, ip);
    snprintf(out, ADDR_STR_MAX, "%.39s/%d", ip, s->prefix_len & 255);
}

bool ipv6_subnet_contains(const struct ipv6_subnet *s, const struct ipv6_addr *a)
{
    struct ipv6_addr masked = *a;
    mask_host_bits(&masked, s->prefix_len);
    return memcmp(&masked, &s->network, sizeof(masked)) == 0;
}

bool ipv6_subnet_is_host(const struct ipv6_subnet *s, const struct ipv6_addr *a)
{
    return ipv6_subnet_contains(s, a) && memcmp(a, &s->network, sizeof(*a)) != 0;
}

static int host_bits(const struct ipv6_subnet *s)
{
    return 128 - s->prefix_len;
}

uint64_t ipv6_subnet_host_count(const struct ipv6_subnet *s)
{
    int bits = host_bits(s);
    return bits >= 64 ? UINT64_MAX : (UINT64_C(1) << bits) - 1;
}

void ipv6_subnet_host(const struct ipv6_subnet *s, uint64_t offset, struct ipv6_addr *out)
{
    int bits = host_bits(s);
    if (bits < 64)
        offset &= (UINT64_C(1) << bits) - 1;
    *out = s->network;
    for (int i = 15; i >= 8; i--, offset >>= 8)
        out->bytes[i] |= (uint8_t)(offset & 0xff);
}

uint64_t ipv6_subnet_offset(const struct ipv6_subnet *s, const struct ipv6_addr *a)
{
    uint64_t low = 0;
    for (int i = 8; i < 16; i++)
        low = low << 8 | a->bytes[i];
    int bits = host_bits(s);
    return bits >= 64 ? low : low & ((UINT64_C(1) << bits) - 1);
}
