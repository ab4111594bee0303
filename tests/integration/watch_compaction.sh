#!/usr/bin/env bash
# watch_compaction.sh: a daemon that missed changes which etcd has since compacted
# away still converges. Two hosts without Docker (daemons under ASan/UBSan).
#  1. B's daemon is frozen (SIGSTOP) with its watch stream open; etcd restarts,
#     which ends that stream; A replaces its endpoint and etcd's history is
#     compacted past those changes. Thawed, B resumes at its last revision + 1, is told
#     that revision is compacted, lists again, and drops A's old endpoint, whose
#     DELETE event no longer exists anywhere. (A restarted daemon always lists
#     afresh, so only a resumed stream reaches this path.)
#  2. The same with B stopped (SIGTERM) and started again after the compaction: the
#     kernel still holds what B's earlier run programmed for A's old endpoint, and
#     no event will name it again, so B sweeps the kernel after its first listing.
set -euo pipefail
. "$(dirname "$0")/../lib/sim.sh"
# Random MACs, as Docker may give: a MAC weft derives from the address would repeat
# whenever the new endpoint happened to get the old one's address.
requires_mac=true
. "$(dirname "$0")/../lib/plugin.sh"

export WEFT_BIN=${WEFT_BIN:-build/weft-san}
SUBNET=10.77.0.0/24
declare -A HADDR=([A]=192.168.77.1 [B]=192.168.77.2)
declare -A POOL NID GW EID IP MAC SRC

store_revision() {
    sim_etcdctl endpoint status -w json | grep -o '"revision":[0-9]*' | head -n 1 | cut -d: -f2
}
has_mac() { sim_ns_exec "$1" bridge fdb show | grep -i "^$2 " >/dev/null; }
lacks_mac() { ! has_mac "$@"; }
# replace_endpoint_a: A's container goes and a new one comes; OLD_MAC is the old one's.
replace_endpoint_a() {
    OLD_MAC=${MAC[A]}
    remove_endpoint A
    create_endpoint A
    [ "${MAC[A]}" != "$OLD_MAC" ] || fail "A's new endpoint has the old MAC $OLD_MAC"
}
compact_now() {
    local rev
    rev=$(store_revision)
    [[ "$rev" =~ ^[0-9]+$ ]] || fail "no store revision: '$rev'"
    sim_etcdctl compact "$rev" >/dev/null || fail "compacting at $rev"
    echo "ok   etcd compacted at revision $rev"
}
converged() { # OLD_MAC: B has A's new endpoint, not the old one, and they ping
    has_mac B "${MAC[A]}" && lacks_mac B "$1" && pings B A && pings A B
}
not_converged() { # OLD_MAC MESSAGE: says what is missing, then fails
    has_mac B "${MAC[A]}" || echo "B has no FDB entry for A's new endpoint ${MAC[A]}" >&2
    lacks_mac B "$1" || echo "B still has an FDB entry for A's old endpoint $1" >&2
    sim_ns_exec B bridge fdb show dev "$(sim_ns_exec B ip -o link show | grep -o 'wvx[0-9]*' | head -n 1)" >&2
    pings B A >/dev/null || echo "cB cannot ping cA" >&2
    fail "$2"
}

sim_init
sim_switch
for h in A B; do sim_host "$h" "${HADDR[$h]}"; done
sim_etcd
for h in A B; do sim_weft "$h"; done
for h in A B; do create_network "$h"; done
for h in A B; do create_endpoint "$h"; done
wait_for 5 pings A B || fail "cA cannot ping cB"

# ---- 1. a frozen daemon whose stream resumes at a compacted revision ----
b_pid=$(sim_weft_pid B)
kill -STOP "$b_pid"
# etcd's restart ends B's stream while B cannot read it, before A's changes: so the
# changes never reach B's socket, and B, thawed, resumes from before them.
sim_etcd_stop
sim_etcd_start
replace_endpoint_a
compact_now
kill -CONT "$b_pid"
wait_for 10 converged "$OLD_MAC" ||
    not_converged "$OLD_MAC" "B did not converge after resuming at a compacted revision"
grep -q 'store watch must list again.*compacted' "$SIM_DIR/B/weft.log" ||
    fail "B never learned its revision was compacted (the path under test was not reached)"
echo "ok   B resumed at a compacted revision, listed again, dropped A's old endpoint"

# ---- 2. a stopped daemon started after the compaction ----
sim_weft_stop B || fail "B needed SIGKILL to stop"
replace_endpoint_a
compact_now
sim_weft B
wait_for 10 converged "$OLD_MAC" ||
    not_converged "$OLD_MAC" "B did not converge after a restart past a compaction"
grep -q 'removed stale remote entries.*count=2' "$SIM_DIR/B/weft.log" ||
    fail "B's restart did not sweep A's old endpoint from the kernel (want its FDB and neighbour entry)"
echo "ok   B restarted past a compaction, swept what its earlier run programmed, and converged"

for h in A B; do
    kill -0 "$(sim_weft_pid "$h")" || fail "the daemon on $h died"
    ! grep -qE 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error' "$SIM_DIR/$h/weft.log" ||
        fail "sanitizer report on $h"
done
echo "ok   both daemons up, no sanitizer report"
