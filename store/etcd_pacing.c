/*
 * etcd_pacing.c: the idle probes' paces (see etcd_pacing.h).
 */
#include "store/etcd_pacing.h"

/* hosts probing every interval send hosts / interval a second: the interval that
 * keeps that at per_s, within [min_ms, max_ms]. */
static long stretched(size_t hosts, long per_s, long min_ms, long max_ms)
{
    if (hosts > (size_t)(max_ms / 1000 * per_s))
        return max_ms; /* also keeps the product below from overflowing */
    long ms = (long)hosts * 1000 / per_s;
    return ms < min_ms ? min_ms : ms > max_ms ? max_ms : ms;
}

long etcd_pacing_member_probe_ms(size_t hosts)
{
    return stretched(hosts, ETCD_PACING_HANDSHAKES_PER_S, ETCD_PACING_PROBE_MIN_MS,
                     ETCD_PACING_PROBE_MAX_MS);
}

long etcd_pacing_watch_idle_probe_ms(size_t hosts)
{
    return stretched(hosts, ETCD_PACING_PROGRESS_PER_S, ETCD_PACING_IDLE_PROBE_MIN_MS,
                     ETCD_PACING_IDLE_PROBE_MAX_MS);
}

long etcd_pacing_count_interval_ms(long base_ms, size_t hosts)
{
    long ceiling = 24L * 3600 * 1000; /* a day: far beyond any cluster here */
    long ms = stretched(hosts, ETCD_PACING_COUNTS_PER_S, 0, ceiling);
    return ms > base_ms ? ms : base_ms;
}
