/*
 * weft_metrics.c: the daemon's metric families (weft_metrics.h): one table of
 * label values and one definition per family, then the one-line calls.
 * Names follow Prometheus' conventions: weft_ prefix, _total for counters,
 * base units (_seconds).
 */
#include "common/weft_metrics.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "common/metrics.h"
#include "common/metrics_text.h"

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))
#define LABEL(name, values)                                                                        \
    {                                                                                              \
        name, values, COUNT(values)                                                                \
    }
#define NO_LABEL                                                                                   \
    {                                                                                              \
        NULL, NULL, 0                                                                              \
    }

/* driver/dispatch.c's routes, without the leading '/'. */
static const char *const methods[] = {
    "Plugin.Activate",
    "NetworkDriver.GetCapabilities",
    "NetworkDriver.CreateNetwork",
    "NetworkDriver.DeleteNetwork",
    "NetworkDriver.CreateEndpoint",
    "NetworkDriver.DeleteEndpoint",
    "NetworkDriver.EndpointOperInfo",
    "NetworkDriver.Join",
    "NetworkDriver.Leave",
    "NetworkDriver.DiscoverNew",
    "NetworkDriver.DiscoverDelete",
    "NetworkDriver.ProgramExternalConnectivity",
    "NetworkDriver.RevokeExternalConnectivity",
    "NetworkDriver.AllocateNetwork",
    "NetworkDriver.FreeNetwork",
    "IpamDriver.GetCapabilities",
    "IpamDriver.GetDefaultAddressSpaces",
    "IpamDriver.RequestPool",
    "IpamDriver.ReleasePool",
    "IpamDriver.RequestAddress",
    "IpamDriver.ReleaseAddress",
    "other",
};
static const char *const outcomes[] = {"success", "error"};
/* The etcd gateway paths under /v3/, '/' as '_'; every /v3/auth/ call is "auth". */
static const char *const operations[] = {"kv_range",     "kv_put",      "kv_deleterange",
                                         "kv_txn",       "lease_grant", "lease_keepalive",
                                         "lease_revoke", "auth",        "other"};
static const char *const event_types[] = {"put", "delete"};
static const char *const lease_outcomes[] = {"renewed", "failed", "expired"};
static const char *const address_kinds[] = {"endpoint", "gateway", "aux", "other"};
/* enum weft_metrics_dns's order. */
static const char *const dns_outcomes[] = {"answered", "forwarded", "failed", "dropped", "refused"};
/* Plugin calls take from a fraction of a millisecond (capabilities) to seconds
 * (a store failover inside CreateEndpoint). */
static const double call_bounds[] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                     0.1,    0.25,  0.5,    1,     2.5,  5,     10};

#define FAMILY(var, cells_n, name, help, type, label0, label1, bounds, bound_count)                \
    static struct metrics_cell var##_cells[cells_n];                                               \
    static struct metrics_family var = {name,   help,        type,       {label0, label1},         \
                                        bounds, bound_count, var##_cells}

FAMILY(plugin_calls, COUNT(methods) * COUNT(outcomes), "weft_plugin_calls_total",
       "Plugin calls from Docker answered, by method and outcome.", METRICS_COUNTER,
       LABEL("method", methods), LABEL("outcome", outcomes), NULL, 0);
FAMILY(plugin_duration, COUNT(methods), "weft_plugin_call_duration_seconds",
       "Time to answer a plugin call, by method.", METRICS_HISTOGRAM, LABEL("method", methods),
       NO_LABEL, call_bounds, COUNT(call_bounds));
FAMILY(store_round_trips, COUNT(operations), "weft_store_round_trips_total",
       "Requests to etcd, failover and retries included, by operation.", METRICS_COUNTER,
       LABEL("operation", operations), NO_LABEL, NULL, 0);
FAMILY(store_failures, COUNT(operations), "weft_store_failures_total",
       "Requests to etcd that failed (unreachable or an error answer), by operation.",
       METRICS_COUNTER, LABEL("operation", operations), NO_LABEL, NULL, 0);
FAMILY(store_failovers, 1, "weft_store_member_failovers_total",
       "Requests answered by another etcd member than the one in use.", METRICS_COUNTER, NO_LABEL,
       NO_LABEL, NULL, 0);
FAMILY(watch_events, COUNT(event_types), "weft_watch_events_total",
       "Records changed or removed as the watch of the store reported them, by type.",
       METRICS_COUNTER, LABEL("type", event_types), NO_LABEL, NULL, 0);
FAMILY(watch_resyncs, 1, "weft_watch_resyncs_total",
       "Listings of the whole cluster state (at start and after missed events).", METRICS_COUNTER,
       NO_LABEL, NO_LABEL, NULL, 0);
FAMILY(remote_programmed, 1, "weft_remote_entries_programmed",
       "Other hosts' entries (peers, flood entries) programmed in the kernel.", METRICS_GAUGE,
       NO_LABEL, NO_LABEL, NULL, 0);
FAMILY(netlink_errors, 1, "weft_netlink_errors_total", "Netlink changes the kernel refused.",
       METRICS_COUNTER, NO_LABEL, NO_LABEL, NULL, 0);
FAMILY(lease_renewals, COUNT(lease_outcomes), "weft_lease_renewals_total",
       "Keepalives of this host's etcd lease, by outcome (expired: a new lease was taken).",
       METRICS_COUNTER, LABEL("outcome", lease_outcomes), NO_LABEL, NULL, 0);
FAMILY(ipam_allocations, COUNT(address_kinds), "weft_ipam_allocations_total",
       "Address records this host created in the store, by kind.", METRICS_COUNTER,
       LABEL("kind", address_kinds), NO_LABEL, NULL, 0);
FAMILY(ipam_conflicts, 1, "weft_ipam_conflicts_total",
       "Endpoint addresses found taken by another claim while allocating.", METRICS_COUNTER,
       NO_LABEL, NO_LABEL, NULL, 0);
FAMILY(dns_queries, COUNT(dns_outcomes), "weft_dns_queries_total",
       "DNS messages at weft's resolvers, by outcome (a forwarded question no resolver "
       "answered is counted failed too).",
       METRICS_COUNTER, LABEL("outcome", dns_outcomes), NO_LABEL, NULL, 0);

static struct metrics_family *const families[] = {
    &plugin_calls,     &plugin_duration, &store_round_trips, &store_failures, &store_failovers,
    &watch_events,     &watch_resyncs,   &remote_programmed, &netlink_errors, &lease_renewals,
    &ipam_allocations, &ipam_conflicts,  &dns_queries,
};

double weft_metrics_now(void)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)now.tv_sec + (double)now.tv_nsec / 1e9;
}

void weft_metrics_plugin_call(const char *path, bool ok, double started)
{
    double seconds = weft_metrics_now() - started;
    const char *method = path && path[0] == '/' ? path + 1 : path;
    metrics_add(&plugin_calls, metrics_cell_of(&plugin_calls, method, ok ? "success" : "error"), 1);
    metrics_observe(&plugin_duration, metrics_cell_of(&plugin_duration, method, NULL), seconds);
}

/* "/v3/kv/range" -> "kv_range"; out holds at least 32 bytes. */
static const char *operation_of(const char *path, char out[32])
{
    if (!path || strncmp(path, "/v3/", 4) != 0)
        return "other";
    if (strncmp(path + 4, "auth/", 5) == 0)
        return "auth";
    snprintf(out, 32, "%s", path + 4);
    for (char *p = out; *p; p++)
        if (*p == '/')
            *p = '_';
    return out;
}

void weft_metrics_store_round_trip(const char *path, bool ok)
{
    char text[32];
    size_t cell = metrics_cell_of(&store_round_trips, operation_of(path, text), NULL);
    metrics_add(&store_round_trips, cell, 1);
    if (!ok)
        metrics_add(&store_failures, cell, 1);
}

void weft_metrics_store_failover(void)
{
    metrics_add(&store_failovers, 0, 1);
}

void weft_metrics_watch_event(bool deleted)
{
    metrics_add(&watch_events, deleted ? 1 : 0, 1);
}

void weft_metrics_watch_resync(void)
{
    metrics_add(&watch_resyncs, 0, 1);
}

void weft_metrics_remote_programmed(int delta)
{
    metrics_add(&remote_programmed, 0, delta);
}

void weft_metrics_netlink_error(void)
{
    metrics_add(&netlink_errors, 0, 1);
}

void weft_metrics_lease_renewal(enum weft_metrics_lease outcome)
{
    metrics_add(&lease_renewals, (size_t)outcome, 1);
}

void weft_metrics_ipam_claim(const char *kind, bool created)
{
    if (created)
        metrics_add(&ipam_allocations, metrics_cell_of(&ipam_allocations, kind, NULL), 1);
    else if (kind && strcmp(kind, "endpoint") == 0)
        metrics_add(&ipam_conflicts, 0, 1);
}

void weft_metrics_ipam_conflict(void)
{
    metrics_add(&ipam_conflicts, 0, 1);
}

void weft_metrics_dns_query(enum weft_metrics_dns outcome)
{
    metrics_add(&dns_queries, (size_t)outcome, 1);
}

int weft_metrics_write(struct weft_buf *out, struct weft_err *err)
{
    for (size_t i = 0; i < COUNT(families); i++)
        if (metrics_text_family(out, families[i], err) < 0)
            return -1;
    return 0;
}
