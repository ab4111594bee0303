/* ip_addr.c: an underlay address of either family (see ip_addr.h). */
#include "common/ip_addr.h"

#include <arpa/inet.h>
#include <errno.h>
#include <string.h>

#include "common/addr6.h"

struct ip_addr ip_addr_from_ipv4(uint32_t net_order)
{
    struct ip_addr a;
    memset(&a, 0, sizeof(a));
    a.family = AF_INET;
    memcpy(a.bytes, &net_order, 4);
    return a;
}

struct ip_addr ip_addr_from_ipv6(const uint8_t bytes[16])
{
    struct ip_addr a;
    memset(&a, 0, sizeof(a));
    a.family = AF_INET6;
    memcpy(a.bytes, bytes, 16);
    return a;
}

int ip_addr_len(const struct ip_addr *a)
{
    return a->family == AF_INET ? 4 : a->family == AF_INET6 ? 16 : 0;
}

bool ip_addr_is_ipv6(const struct ip_addr *a)
{
    return a->family == AF_INET6;
}

uint32_t ip_addr_ipv4(const struct ip_addr *a)
{
    uint32_t ip = 0;
    if (a->family == AF_INET)
        memcpy(&ip, a->bytes, 4);
    return ip;
}

uint32_t ip_addr_last32(const struct ip_addr *a)
{
    uint32_t ip = 0;
    if (a->family)
        memcpy(&ip, a->bytes + ip_addr_len(a) - 4, 4);
    return ip;
}

static bool ipv6_is_unicast(const uint8_t b[16])
{
    static const uint8_t zero[16];
    static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (memcmp(b, zero, 15) == 0)
        return false; /* :: and ::1 */
    if (b[0] == 0xff || memcmp(b, mapped, sizeof(mapped)) == 0)
        return false; /* multicast; an IPv4 address in IPv6 clothing */
    /* Link-local: names no host without an interface, which a VXLAN FDB entry lacks. */
    return !(b[0] == 0xfe && (b[1] & 0xc0) == 0x80);
}

bool ip_addr_is_unicast(const struct ip_addr *a)
{
    if (a->family == AF_INET)
        return ipv4_is_unicast(ntohl(ip_addr_ipv4(a)));
    return a->family == AF_INET6 && ipv6_is_unicast(a->bytes);
}

int ip_addr_parse(const char *text, struct ip_addr *out, struct weft_err *err)
{
    memset(out, 0, sizeof(*out));
    if (addr_text_is_ipv6(text)) {
        struct ipv6_addr v6;
        if (ipv6_parse(text, &v6, err) < 0)
            return -1;
        *out = ip_addr_from_ipv6(v6.bytes);
    } else {
        uint32_t host_order;
        if (ipv4_parse(text, &host_order, err) < 0)
            return -1;
        *out = ip_addr_from_ipv4(htonl(host_order));
    }
    if (!ip_addr_is_unicast(out))
        return weft_err_set(err, -EINVAL, "%.64s is not a unicast address", text);
    return 0;
}

void ip_addr_format(const struct ip_addr *a, char out[ADDR_STR_MAX])
{
    out[0] = '\0';
    if (a->family == AF_INET) {
        ipv4_format(ntohl(ip_addr_ipv4(a)), out);
    } else if (a->family == AF_INET6) {
        struct ipv6_addr v6;
        memcpy(v6.bytes, a->bytes, 16);
        ipv6_format(&v6, out);
    }
}

bool ip_addr_equal(const struct ip_addr *a, const struct ip_addr *b)
{
    return a->family == b->family && memcmp(a->bytes, b->bytes, sizeof(a->bytes)) == 0;
}

int ip_addr_compare(const struct ip_addr *a, const struct ip_addr *b)
{
    if (a->family != b->family)
        return a->family == AF_INET ? -1 : b->family == AF_INET ? 1 : a->family - b->family;
    return memcmp(a->bytes, b->bytes, sizeof(a->bytes));
}

const char *ip_addr_family_name(const struct ip_addr *a)
{
    return a->family == AF_INET6 ? "IPv6" : "IPv4";
}
