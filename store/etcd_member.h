/*
 * etcd_member.h: one etcd member as --store names it, HOST:PORT, where HOST is a
 * name, an IPv4 address, or an IPv6 address in brackets as in a URL
 * ("[fd00::5]:2379"; a bare IPv6 address is refused: its last group and the port
 * cannot be told apart). The one parser of members: etcd.c (the member list),
 * etcd_config.c (--store), etcd_health.c (the prober's connect) and etcd_tls.c (the
 * name a member's certificate must carry). Pure: any thread.
 *
 * The member string itself, as the user wrote it, is what URLs are built from
 * (brackets included, as libcurl wants) and what messages name.
 */
#ifndef WEFT_ETCD_MEMBER_H
#define WEFT_ETCD_MEMBER_H

#include <stdbool.h>

#include "common/err.h"

struct etcd_member_addr {
    char host[256]; /* without brackets: for getaddrinfo, and the name its certificate carries */
    char port[6];   /* decimal, 1..65535 */
    bool ipv6;      /* host is an IPv6 address (written in brackets) */
};

/* Splits member into out. A member that is not HOST:PORT: -EINVAL, with a message
 * naming member as written and what to write instead. */
int etcd_member_parse(const char *member, struct etcd_member_addr *out, struct weft_err *err);

/* Whether member is HOST:PORT (etcd_member_parse without the details). */
bool etcd_member_valid(const char *member);

#endif
