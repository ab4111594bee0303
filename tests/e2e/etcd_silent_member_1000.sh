#!/usr/bin/env bash
# etcd_silent_member_1000.sh: etcd_silent_member.sh in a cluster of a thousand hosts, as
# the daemons count it (etcd holds 998 more leases). They stretch their member prober's
# rounds to 10 s (store/etcd_pacing.h: a thousand hosts probing every 200 ms would keep
# each member three quarters busy), so what finds the silent member is the kernel on every socket
# to it (TCP_USER_TIMEOUT, keepalives: store/etcd_health.h), which then starts a round.
# A silent member may cost weft's part up to 3 s more than before the cut, against 1 s
# in a small cluster. Which Docker runs does not matter here: only on the distribution's
# (etcd_silent_member.sh skips on the others).
set -euo pipefail
cd "$(dirname "$0")/../.."
SILENT_CLUSTER_HOSTS=1000 REACH_EXTRA_MS=3000 exec bash tests/e2e/etcd_silent_member.sh
