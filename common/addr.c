/*
 * addr.c: strict address parsing and subnet arithmetic (see addr.h).
 * Dotted quads go through inet_pton/inet_ntop; glibc's inet_pton takes exactly
 * four decimal octets with no leading zeros and nothing around them, which is
 * the strictness weft wants. What the library does not parse (a prefix
 * length, a MAC in one fixed shape) is read here.
 */
#include "common/addr.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#define POOL_PREFIX_MIN 8
#define POOL_PREFIX_MAX 30

static int refuse_ipv6(const char *text, struct weft_err *err)
{
    if (strchr(text, ':'))
        return weft_err_set(err, -EINVAL, "IPv6 is not supported by weft yet (got %.64s)", text);
    return 0;
}

/* The first len bytes of text as a dotted quad; -1 when they are not one. */
static int read_ipv4(const char *text, size_t len, uint32_t *ip)
{
    char quad[INET_ADDRSTRLEN];
    if (len >= sizeof(quad))
        return -1;
    memcpy(quad, text, len);
    quad[len] = '\0';
    struct in_addr addr;
    if (inet_pton(AF_INET, quad, &addr) != 1)
        return -1;
    *ip = ntohl(addr.s_addr);
    return 0;
}

/* A prefix length: one or two decimal digits, no leading zero, at most 32. */
static int read_prefix_len(const char *text, int *len)
{
    size_t digits = strspn(text, "0123456789");
    if (digits == 0 || digits > 2 || text[digits] != '\0' || (digits == 2 && text[0] == '0'))
        return -1;
    int value = digits == 1 ? text[0] - '0' : (text[0] - '0') * 10 + (text[1] - '0');
    if (value > 32)
        return -1;
    *len = value;
    return 0;
}

int ipv4_parse(const char *text, uint32_t *ip, struct weft_err *err)
{
    if (!text || !*text)
        return weft_err_set(err, -EINVAL, "an IPv4 address is required");
    if (refuse_ipv6(text, err) < 0)
        return -1;
    if (read_ipv4(text, strlen(text), ip) < 0)
        return weft_err_set(err, -EINVAL, "%.64s is not a valid IPv4 address", text);
    return 0;
}

int ipv4_parse_with_prefix(const char *text, uint32_t *ip, int *prefix_len, struct weft_err *err)
{
    if (!text || !*text)
        return weft_err_set(err, -EINVAL, "an IPv4 address with prefix length is required");
    if (refuse_ipv6(text, err) < 0)
        return -1;
    const char *slash = strchr(text, '/');
    uint32_t addr;
    int len;
    if (!slash || read_ipv4(text, (size_t)(slash - text), &addr) < 0 ||
        read_prefix_len(slash + 1, &len) < 0)
        return weft_err_set(
            err, -EINVAL, "%.64s is not a valid IPv4 address with prefix length (a.b.c.d/n)", text);
    *ip = addr;
    *prefix_len = len;
    return 0;
}

static uint32_t mask_of(int prefix_len)
{
    return prefix_len == 0 ? 0 : 0xffffffffu << (32 - prefix_len);
}

int ipv4_subnet_parse(const char *text, struct ipv4_subnet *out, struct weft_err *err)
{
    if (!text || !*text)
        return weft_err_set(err, -EINVAL, "a subnet is required (for example 10.77.0.0/24)");
    if (refuse_ipv6(text, err) < 0)
        return -1;
    uint32_t ip;
    int len;
    if (ipv4_parse_with_prefix(text, &ip, &len, NULL) < 0)
        return weft_err_set(
            err, -EINVAL, "subnet %.64s is not a valid IPv4 CIDR (for example 10.77.0.0/24)", text);
    if (len < POOL_PREFIX_MIN || len > POOL_PREFIX_MAX)
        return weft_err_set(err, -EINVAL,
                            "subnet %.64s: prefix length must be from /%d to /%d (a pool needs at "
                            "least two host addresses, and larger ones are not useful)",
                            text, POOL_PREFIX_MIN, POOL_PREFIX_MAX);
    struct ipv4_subnet s = {ip & mask_of(len), len};
    if (s.network != ip) {
        char canonical[ADDR_STR_MAX];
        ipv4_subnet_format(&s, canonical);
        return weft_err_set(err, -EINVAL, "subnet %.64s has host bits set; did you mean %s?", text,
                            canonical);
    }
    *out = s;
    return 0;
}

void ipv4_format(uint32_t ip, char out[ADDR_STR_MAX])
{
    struct in_addr addr = {htonl(ip)};
    /* Cannot fail: AF_INET is supported and ADDR_STR_MAX >= INET_ADDRSTRLEN. */
    if (!inet_ntop(AF_INET, &addr, out, ADDR_STR_MAX))
        out[0] = '\0';
}

void ipv4_subnet_format(const struct ipv4_subnet *s, char out[ADDR_STR_MAX])
{
    char ip[ADDR_STR_MAX];
    ipv4_format(s->network, ip);
    snprintf(out, ADDR_STR_MAX, "%.15s/%d", ip, s->prefix_len & 63);
}

bool ipv4_subnet_contains(const struct ipv4_subnet *s, uint32_t ip)
{
    return (ip & mask_of(s->prefix_len)) == s->network;
}

uint32_t ipv4_subnet_first_host(const struct ipv4_subnet *s)
{
    return s->network + 1;
}

uint32_t ipv4_subnet_last_host(const struct ipv4_subnet *s)
{
    return (s->network | ~mask_of(s->prefix_len)) - 1;
}

uint32_t ipv4_subnet_host_count(const struct ipv4_subnet *s)
{
    return ipv4_subnet_last_host(s) - ipv4_subnet_first_host(s) + 1;
}

bool ipv4_subnet_is_reserved(const struct ipv4_subnet *s, uint32_t ip)
{
    return ip == s->network || ip == (s->network | ~mask_of(s->prefix_len));
}

bool ipv4_is_unicast(uint32_t ip)
{
    uint8_t first = (uint8_t)(ip >> 24);
    return first != 0 && first != 127 && first < 224;
}

static int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    return tolower((unsigned char)c) - 'a' + 10;
}

int mac_parse(const char *text, uint8_t mac[6], struct weft_err *err)
{
    if (!text || !*text)
        return weft_err_set(err, -EINVAL, "a MAC address is required");
    uint8_t out[6];
    const char *p = text;
    for (int i = 0; i < 6; i++) {
        if (!isxdigit((unsigned char)p[0]) || !isxdigit((unsigned char)p[1]) ||
            (i < 5 && p[2] != ':'))
            return weft_err_set(err, -EINVAL, "%.64s is not a MAC address (aa:bb:cc:dd:ee:ff)",
                                text);
        out[i] = (uint8_t)(hex_value(p[0]) << 4 | hex_value(p[1]));
        p += i < 5 ? 3 : 2;
    }
    if (*p != '\0')
        return weft_err_set(err, -EINVAL, "%.64s is not a MAC address (aa:bb:cc:dd:ee:ff)", text);
    if (out[0] & 1)
        return weft_err_set(err, -EINVAL,
                            "MAC %.64s is a multicast address; an endpoint needs a unicast one",
                            text);
    static const uint8_t zero[6] = {0};
    if (memcmp(out, zero, 6) == 0)
        return weft_err_set(err, -EINVAL, "MAC 00:00:00:00:00:00 is not a usable address");
    memcpy(mac, out, 6);
    return 0;
}

void mac_format(const uint8_t mac[6], char out[MAC_STR_MAX])
{
    snprintf(out, MAC_STR_MAX, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3],
             mac[4], mac[5]);
}
