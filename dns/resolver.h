/*
 * resolver.h: weft's DNS resolver, one per host, answering each local overlay's
 * containers at the overlay's gateway address (issue 10; docs/design.md "Names").
 *
 * Owns, per local overlay, a service port (vxlan/service_port.h: a namespace of
 * weft's own on the overlay's bridge, holding the gateway address) with a UDP
 * socket and a TCP listener on port 53 there (the connections: dns_tcp.h); and one
 * thread that answers every query, over either: the overlay's
 * names from the fabric (fabric.h: fabric_name_addresses, fabric_address_name and
 * their IPv6 twins, for the IPv6 pool the overlay info names) through dns_query.h,
 * everything else relayed unchanged to the host's resolvers (resolv_conf.h) from
 * the host's own namespace, the answer relayed back (SERVFAIL when none answers).
 * The overlay's containers are those of all its network's IPv4 subnets (issue 12:
 * the port holds an on-link route to each extra one); a query from a source outside
 * them is dropped and counted, as is one that does not parse. Containers reach it
 * with `--dns <gateway>`; Docker's embedded DNS (127.0.0.11) forwards to it every
 * name it does not know itself.
 * Callers: daemon/main.c: open, then the fabric's overlay hooks
 * (resolver_overlay_up/_down, fabric.h), then set_fabric once the fabric is open,
 * close after the fabric. Thread-safe.
 */
#ifndef WEFT_RESOLVER_H
#define WEFT_RESOLVER_H

#include "common/err.h"
#include "fabric/fabric.h"

struct resolver;

/* resolv_conf: the file naming the host's resolvers (resolv_conf.h's default when
 * NULL). Starts the thread. */
int resolver_open(struct resolver **out, const char *resolv_conf, struct weft_err *err);
/* Where names come from; until set, every name is unknown. */
void resolver_set_fabric(struct resolver *r, struct fabric *fabric);
/* The fabric's overlay hooks (ctx: the resolver). */
int resolver_overlay_up(void *resolver, const struct fabric_overlay_info *info,
                        struct weft_err *err);
void resolver_overlay_down(void *resolver, const char *subnet);
/* Stops the thread, closes every port. */
void resolver_close(struct resolver *r);

#endif
