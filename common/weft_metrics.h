/*
 * weft_metrics.h: the daemon's metrics, one call per place that counts.
 *
 * Owns the families exposed on /metrics (names, help, label sets, buckets) and
 * their storage, process-wide. Every function is lock-free and allocates nothing,
 * so it may be called from any thread, also under a module's own lock; counting
 * goes on whether or not --metrics serves it. Callers: driver/dispatch.c,
 * store/etcd.c, fabric/peers.c, fabric/lease.c, ipam/ipam.c, netlink/,
 * dns/resolver.c, and the writer in daemon/metrics_http.c.
 */
#ifndef WEFT_WEFT_METRICS_H
#define WEFT_WEFT_METRICS_H

#include <stdbool.h>

#include "common/buf.h"
#include "common/err.h"

/* Seconds on the monotonic clock: when a timed call started. */
double weft_metrics_now(void);

/* A plugin call answered: its path ("/NetworkDriver.Join"), whether it succeeded,
 * and when it started (weft_metrics_now). */
void weft_metrics_plugin_call(const char *path, bool ok, double started);

/* A store request ("/v3/kv/txn") done, through failover and retries; ok: answered 200. */
void weft_metrics_store_round_trip(const char *path, bool ok);
/* A store request was answered by another member than the one in use. */
void weft_metrics_store_failover(void);

/* The watch delivered a changed (put) or removed (delete) record. */
void weft_metrics_watch_event(bool deleted);
/* The watch started a listing of the whole state (first start, or after missed events). */
void weft_metrics_watch_resync(void);

/* Remote entries (peers, flood entries) in the kernel: +1 programmed, -1 removed. */
void weft_metrics_remote_programmed(int delta);
/* The kernel refused a netlink change (errors a request tolerates are not counted). */
void weft_metrics_netlink_error(void);

enum weft_metrics_lease { WEFT_LEASE_RENEWED, WEFT_LEASE_FAILED, WEFT_LEASE_EXPIRED };
/* A lease keepalive: renewed, failed (store unreachable), or found expired (a new one taken). */
void weft_metrics_lease_renewal(enum weft_metrics_lease outcome);

/* A claim of an address in the store (kind "endpoint", "gateway" or "aux"): created
 * is an allocation; an endpoint's claim that found it taken, a conflict (a gateway
 * found taken is shared by design). */
void weft_metrics_ipam_claim(const char *kind, bool created);
/* An endpoint's address was taken in the store but another host claimed it first
 * in the fabric: a conflict too. */
void weft_metrics_ipam_conflict(void);

enum weft_metrics_dns {
    WEFT_DNS_ANSWERED,  /* an overlay's name, answered by weft */
    WEFT_DNS_FORWARDED, /* relayed to the host's resolvers */
    WEFT_DNS_FAILED,    /* answered SERVFAIL: no resolver to relay to, or none answered */
    WEFT_DNS_DROPPED,   /* malformed, or not answerable */
    WEFT_DNS_REFUSED,   /* from outside the overlay's subnets */
};
/* What weft's resolver did with a DNS message (dns/resolver.c). */
void weft_metrics_dns_query(enum weft_metrics_dns outcome);

/* Appends every family above in the text format (common/metrics_text.h). */
int weft_metrics_write(struct weft_buf *out, struct weft_err *err);

#endif
