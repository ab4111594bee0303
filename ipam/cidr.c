/*
 * cidr.c: strict IPv4 / MAC parsing and subnet arithmetic (see cidr.h).
 * Strict because a typo in --subnet would otherwise name a different overlay.
 */
#include "ipam/cidr.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#define POOL_PREFIX_MIN 8
#define POOL_PREFIX_MAX 30

/* Reads a decimal number of at most max_digits without a leading zero; *end is after it. */
static int read_decimal(const char *p, int max_digits, long max_value, long *value,
                        const char **end)
{
    int digits = 0;
    long v = 0;
    while (isdigit((unsigned char)p[digits]) && digits <= max_digits) {
        v = v * 10 + (p[digits] - '0');
        digits++;
    }
    if (digits == 0 || digits > max_digits || v > max_value || (digits > 1 && p[0] == '0'))
        return -1;
    *value = v;
    *end = p + digits;
    return 0;
}

/* Parses exactly four dotted octets at text; *end is after the last one. */
static int read_ip(const char *text, uint32_t *ip, const char **end)
{
    uint32_t out = 0;
    const char *p = text;
    for (int i = 0; i < 4; i++) {
        long octet;
        if (read_decimal(p, 3, 255, &octet, &p) < 0)
            return -1;
        out = (out << 8) | (uint32_t)octet;
        if (i < 3) {
            if (*p != '.')
                return -1;
            p++;
        }
    }
    *ip = out;
    *end = p;
    return 0;
}

static int refuse_ipv6(const char *text, struct weft_err *err)
{
    if (strchr(text, ':'))
        return weft_errf(err, "IPv6 is not supported by weft yet (got %.64s)", text);
    return 0;
}

int cidr_parse_ip(const char *text, uint32_t *ip, struct weft_err *err)
{
    if (!text || !*text)
        return weft_errf(err, "an IPv4 address is required");
    if (refuse_ipv6(text, err) < 0)
        return -1;
    const char *end;
    if (read_ip(text, ip, &end) < 0 || *end != '\0')
        return weft_errf(err, "%.64s is not a valid IPv4 address", text);
    return 0;
}

int cidr_parse_ip_prefix(const char *text, uint32_t *ip, int *prefix_len, struct weft_err *err)
{
    if (!text || !*text)
        return weft_errf(err, "an IPv4 address with prefix length is required");
    if (refuse_ipv6(text, err) < 0)
        return -1;
    const char *p;
    long len;
    if (read_ip(text, ip, &p) < 0 || *p != '/' || read_decimal(p + 1, 2, 32, &len, &p) < 0 ||
        *p != '\0')
        return weft_errf(err, "%.64s is not a valid IPv4 address with prefix length (a.b.c.d/n)",
                         text);
    *prefix_len = (int)len;
    return 0;
}

static uint32_t mask_of(int prefix_len)
{
    return prefix_len == 0 ? 0 : 0xffffffffu << (32 - prefix_len);
}

int cidr_parse_subnet(const char *text, struct cidr *out, struct weft_err *err)
{
    if (!text || !*text)
        return weft_errf(err, "a subnet is required (for example 10.77.0.0/24)");
    if (refuse_ipv6(text, err) < 0)
        return -1;
    uint32_t ip;
    int len;
    if (cidr_parse_ip_prefix(text, &ip, &len, NULL) < 0)
        return weft_errf(err, "subnet %.64s is not a valid IPv4 CIDR (for example 10.77.0.0/24)",
                         text);
    if (len < POOL_PREFIX_MIN || len > POOL_PREFIX_MAX)
        return weft_errf(err,
                         "subnet %.64s: prefix length must be from /%d to /%d (a pool needs at "
                         "least two host addresses, and larger ones are not useful)",
                         text, POOL_PREFIX_MIN, POOL_PREFIX_MAX);
    struct cidr c = {ip & mask_of(len), len};
    if (c.network != ip) {
        char canonical[CIDR_STR_MAX];
        cidr_format_subnet(&c, canonical);
        return weft_errf(err, "subnet %.64s has host bits set; did you mean %s?", text, canonical);
    }
    *out = c;
    return 0;
}

int cidr_parse_mac(const char *text, uint8_t mac[6], struct weft_err *err)
{
    if (!text || !*text)
        return weft_errf(err, "a MAC address is required");
    uint8_t out[6];
    const char *p = text;
    for (int i = 0; i < 6; i++) {
        if (!isxdigit((unsigned char)p[0]) || !isxdigit((unsigned char)p[1]))
            return weft_errf(err, "%.64s is not a MAC address (aa:bb:cc:dd:ee:ff)", text);
        unsigned int byte;
        sscanf(p, "%2x", &byte);
        out[i] = (uint8_t)byte;
        p += 2;
        if (i < 5) {
            if (*p != ':')
                return weft_errf(err, "%.64s is not a MAC address (aa:bb:cc:dd:ee:ff)", text);
            p++;
        }
    }
    if (*p != '\0')
        return weft_errf(err, "%.64s is not a MAC address (aa:bb:cc:dd:ee:ff)", text);
    if (out[0] & 1)
        return weft_errf(err, "MAC %.64s is a multicast address; an endpoint needs a unicast one",
                         text);
    static const uint8_t zero[6] = {0};
    if (memcmp(out, zero, 6) == 0)
        return weft_errf(err, "MAC 00:00:00:00:00:00 is not a usable address");
    memcpy(mac, out, 6);
    return 0;
}

void cidr_format_ip(uint32_t ip, char out[CIDR_STR_MAX])
{
    snprintf(out, CIDR_STR_MAX, "%u.%u.%u.%u", ip >> 24, (ip >> 16) & 0xff, (ip >> 8) & 0xff,
             ip & 0xff);
}

void cidr_format_subnet(const struct cidr *c, char out[CIDR_STR_MAX])
{
    char ip[CIDR_STR_MAX];
    cidr_format_ip(c->network, ip);
    snprintf(out, CIDR_STR_MAX, "%.15s/%d", ip, c->prefix_len & 63);
}

void cidr_format_mac(const uint8_t mac[6], char out[18])
{
    snprintf(out, 18, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3], mac[4],
             mac[5]);
}

bool cidr_contains(const struct cidr *c, uint32_t ip)
{
    return (ip & mask_of(c->prefix_len)) == c->network;
}

uint32_t cidr_first_host(const struct cidr *c)
{
    return c->network + 1;
}

uint32_t cidr_last_host(const struct cidr *c)
{
    return (c->network | ~mask_of(c->prefix_len)) - 1;
}

uint32_t cidr_host_count(const struct cidr *c)
{
    return cidr_last_host(c) - cidr_first_host(c) + 1;
}

bool cidr_is_reserved(const struct cidr *c, uint32_t ip)
{
    return ip == c->network || ip == (c->network | ~mask_of(c->prefix_len));
}

bool cidr_is_unicast(uint32_t ip)
{
    uint8_t first = (uint8_t)(ip >> 24);
    return first != 0 && first != 127 && first < 224;
}
