/*
 * etcd_pacing.h: how often a store client probes etcd while idle, from how many
 * hosts the cluster has (issue 18; docs/scale.md, "What an idle host costs etcd").
 *
 * Owns two paces and the rule behind them: the member prober's round (etcd_health.c:
 * a TCP handshake with every member, when --store names several) and a watch
 * stream's idle progress request (etcd_watch_set_stream.c); and how often the hosts
 * are counted for them (fabric/lease.c counts etcd's leases). Both probes cost
 * etcd's process per host, so at a fixed pace their sum grows with the cluster:
 * measured on this kind of machine, a handshake costs etcd about 0.15 ms of CPU (Go
 * accepts the connection and reads its reset) and a progress request about 0.5 ms;
 * 1,000 hosts probing every 200 ms would keep every member three quarters busy. So a pace
 * stretches with the hosts, keeping what all of them together send etcd about
 * constant, between a floor (a small cluster's pace, as before) and a ceiling (how
 * late a silent member or a hung stream may be found at most). A silent member is
 * also found by the kernel's keepalives on every socket to it (etcd_health.c), which
 * cost etcd's process nothing: a busy request within ETCD_SOCKET_USER_TIMEOUT_MS, an
 * idle stream within about two seconds, however slow the prober.
 *
 * Pure functions: anyone may call them (store/etcd*.c, tests).
 */
#ifndef WEFT_ETCD_PACING_H
#define WEFT_ETCD_PACING_H

#include <stddef.h>

/* Handshakes a second that all hosts together send one member, at most (about 1.5 %
 * of a core at 0.15 ms each), and the prober's floor and ceiling. */
#define ETCD_PACING_HANDSHAKES_PER_S 100L
#define ETCD_PACING_PROBE_MIN_MS 200L
#define ETCD_PACING_PROBE_MAX_MS 10000L
/* Idle progress requests a second from all hosts together (about 1 % of a core at
 * 0.5 ms each), and a watch stream's floor and ceiling. */
#define ETCD_PACING_PROGRESS_PER_S 20L
#define ETCD_PACING_IDLE_PROBE_MIN_MS 5000L
#define ETCD_PACING_IDLE_PROBE_MAX_MS 60000L

/* Counting the hosts costs etcd too (a list of every lease: 4 ms at 1,000): all hosts
 * together count at most this often a second, each at least every base_ms. */
#define ETCD_PACING_COUNTS_PER_S 1L

/* The member prober's round for a cluster of hosts (0: not known, the floor). */
long etcd_pacing_member_probe_ms(size_t hosts);
/* How long a watch stream may say nothing before it is asked for progress. */
long etcd_pacing_watch_idle_probe_ms(size_t hosts);
/* When to count the hosts again, base_ms (the caller's own pace) or later. */
long etcd_pacing_count_interval_ms(long base_ms, size_t hosts);

#endif
