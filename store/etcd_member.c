/*
 * etcd_member.c: HOST:PORT of one etcd member, IPv6 in brackets (see etcd_member.h).
 */
#include "store/etcd_member.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NOT_MEMBER "member \"%s\" is not HOST:PORT"

static int port_parse(const char *member, const char *text, struct etcd_member_addr *out,
                      struct weft_err *err)
{
    char *end = (char *)text;
    long port = isdigit((unsigned char)text[0]) ? strtol(text, &end, 10) : 0;
    if (port < 1 || port > 65535 || *end)
        return weft_err_set(err, -EINVAL, NOT_MEMBER ": port \"%s\" is not a number 1..65535",
                            member, text);
    snprintf(out->port, sizeof(out->port), "%ld", port);
    return 0;
}

/* "[v6]:port". */
static int bracketed_parse(const char *member, struct etcd_member_addr *out, struct weft_err *err)
{
    const char *close = strchr(member, ']');
    if (!close)
        return weft_err_set(err, -EINVAL, NOT_MEMBER ": the [ of an IPv6 address has no ]", member);
    size_t len = (size_t)(close - member - 1);
    if (len >= sizeof(out->host))
        return weft_err_set(err, -EINVAL, NOT_MEMBER ": the address is too long", member);
    memcpy(out->host, member + 1, len);
    out->host[len] = '\0';
    struct in6_addr addr;
    if (inet_pton(AF_INET6, out->host, &addr) != 1)
        return weft_err_set(err, -EINVAL, NOT_MEMBER ": \"%s\" in brackets is not an IPv6 address",
                            member, out->host);
    if (close[1] != ':' || !close[2])
        return weft_err_set(err, -EINVAL, NOT_MEMBER ": it needs a port, [%s]:PORT", member,
                            out->host);
    out->ipv6 = true;
    return port_parse(member, close + 2, out, err);
}

/* "name:port" or "a.b.c.d:port". */
static int plain_parse(const char *member, struct etcd_member_addr *out, struct weft_err *err)
{
    const char *colon = strchr(member, ':');
    if (colon && strchr(colon + 1, ':'))
        return weft_err_set(err, -EINVAL,
                            NOT_MEMBER ": an IPv6 address goes in brackets, [ADDR]:PORT "
                                       "(as [fd00::5]:2379)",
                            member);
    if (!colon || !colon[1])
        return weft_err_set(err, -EINVAL, NOT_MEMBER ": it has no port", member);
    size_t len = (size_t)(colon - member);
    if (len == 0)
        return weft_err_set(err, -EINVAL, NOT_MEMBER ": it has no host", member);
    if (len >= sizeof(out->host))
        return weft_err_set(err, -EINVAL, NOT_MEMBER ": the host name is too long", member);
    for (const char *p = member; p < colon; p++)
        if (!isalnum((unsigned char)*p) && *p != '.' && *p != '-' && *p != '_')
            return weft_err_set(err, -EINVAL,
                                NOT_MEMBER ": \"%.*s\" is not a host name or IPv4 address", member,
                                (int)len, member);
    memcpy(out->host, member, len);
    out->host[len] = '\0';
    return port_parse(member, colon + 1, out, err);
}

int etcd_member_parse(const char *member, struct etcd_member_addr *out, struct weft_err *err)
{
    *out = (struct etcd_member_addr){0};
    int rc = member[0] == '[' ? bracketed_parse(member, out, err) : plain_parse(member, out, err);
    if (rc < 0)
        *out = (struct etcd_member_addr){0};
    return rc;
}

bool etcd_member_valid(const char *member)
{
    struct etcd_member_addr addr;
    return etcd_member_parse(member, &addr, NULL) == 0;
}
