#!/usr/bin/env bash
# bench/names_bench.sh: what names cost (issue 10), on two simulated hosts A and B
# with etcd, weft and a real dockerd each, a test resolver (dnsmasq, sim_dns) as the
# hosts' resolver, and network blue (10.77.0.0/24, gateway and resolver 10.77.0.1) on
# both. A probe container on B asks; every lookup and the load run in the probe's
# namespaces, entered with nsenter (not `docker exec`, which adds dockerd, containerd
# and runc to every call: the table shows one lookup through each, about 190 against
# 35 ms here), so queries come from inside the overlay as a container's do.
#  - propagation: NAMES_RUNS times `docker run -d --name nI` on A while, in B's probe,
#    build/dns_load -w asks weft's resolver for nI from before the run starts (one
#    query at a time, at most one every 5 ms: the figure's grain is about 5 ms) and
#    notes when nI first has an address. names_propagation_*: from the moment `docker
#    run -d` returned on A (negative: resolvable on B before it returned);
#    names_from_run_start_*: from the moment it was called. After `docker rm -f` the
#    next run waits until nI is gone.
#  - queries/s: build/dns_load in the probe's network namespace sends A queries for a
#    name of blue (a container on A) at concurrency 1 and 32 for NAMES_SECS, then for
#    www.example.test (not blue's: weft forwards it to dnsmasq on another simulated
#    host). B's weft CPU during the c32 run gives its cost per answered query.
# Usage: bench/names_bench.sh [RESULTS_FILE]: prints a table; writes "key value" lines
# (names_*) to RESULTS_FILE when given. Knobs: NAMES_RUNS (20), NAMES_SECS (5).
# Needs build/weft and build/dns_load, root, dockerd, dnsmasq, busybox-static.
# A benchmark: nothing here fails on a figure.
set -euo pipefail
cd "$(dirname "$0")/.."
. tests/lib/sim.sh

NAMES_RUNS=${NAMES_RUNS:-20} NAMES_SECS=${NAMES_SECS:-5}
RESULTS=${1:-}
LOAD=build/dns_load
export WEFT_BIN=${WEFT_BIN:-build/weft}
for bin in "$WEFT_BIN" "$LOAD"; do
    [ -x "$bin" ] || { echo "names_bench: $bin is missing (make $bin)" >&2; exit 2; }
done
GW=10.77.0.1 IMG=weft-test
POLL_LIMIT_MS=30000
declare -A R

now_ms() { date +%s%3N; }
pct() { # P: the P-th percentile (nearest rank) of numbers on stdin
    sort -g | awk -v p="$1" '{v[NR]=$1} END {if (NR == 0) {print "null"; exit} i = int(p/100*NR + 0.999); if (i < 1) i = 1; print v[i]}'
}
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

sim_init
sim_switch
sim_host A 192.168.77.1
sim_host B 192.168.77.2
sim_etcd
sim_dns
DNS_PID=$SIM_LAST_PID # stopped at the end: sim_cleanup would SIGKILL it (and bash say so)
sim_weft A
sim_weft B
sim_dockerd A
sim_dockerd B
for h in A B; do
    sim_docker "$h" network create -d weft --ipam-driver weft --subnet 10.77.0.0/24 blue >/dev/null
done
run_on() { sim_docker "$1" run -d --network blue --dns "$GW" --name "$2" "$IMG" sleep 3600 >/dev/null 2>&1; }
# (dockerd warns that forwarding is off: true, and wanted here; nothing is routed out.)
run_on B probe
PROBE=$(sim_docker B inspect -f '{{.State.Pid}}' probe)
in_probe() { nsenter -t "$PROBE" -m -n "$@"; } # the probe's network and files (its busybox)
# The first address weft's resolver on B gives for NAME; nothing when it has none.
addr_of() { { in_probe nslookup "$1" "$GW" 2>/dev/null || true; } | sed -n 's/^Address: \([0-9.]*\)$/\1/p' | head -n 1; }
# Polls until NAME has an address (WANT=1) or has none (WANT=0); prints the ms it
# took, or "timeout" after POLL_LIMIT_MS.
poll_until() { # NAME WANT
    local t0 a
    t0=$(now_ms)
    while :; do
        a=$(addr_of "$1")
        if { [ "$2" = 1 ] && [ -n "$a" ]; } || { [ "$2" = 0 ] && [ -z "$a" ]; }; then
            echo $(($(now_ms) - t0))
            return
        fi
        [ $(($(now_ms) - t0)) -lt $POLL_LIMIT_MS ] || { echo timeout; return; }
    done
}
ip_of() { sim_docker "$1" inspect -f '{{(index .NetworkSettings.Networks "blue").IPAddress}}' "$2"; }

run_on A target
[ "$(poll_until target 1)" != timeout ] || fail "target on A never resolved from B"
# Why nsenter and not docker exec: what one lookup costs each way (median of 5).
: >"$SIM_DIR/via_exec" && : >"$SIM_DIR/via_nsenter"
for _ in 1 2 3 4 5; do
    t0=$(now_ms); sim_docker B exec probe nslookup target "$GW" >/dev/null 2>&1 || true
    echo $(($(now_ms) - t0)) >>"$SIM_DIR/via_exec"
    t0=$(now_ms); addr_of target >/dev/null; echo $(($(now_ms) - t0)) >>"$SIM_DIR/via_nsenter"
done
R[names_lookup_docker_exec_ms]=$(pct 50 <"$SIM_DIR/via_exec")
R[names_lookup_nsenter_ms]=$(pct 50 <"$SIM_DIR/via_nsenter")

# ---------------- propagation: docker run on A until resolvable on B ----------------
# dns_load -w asks B's resolver for nI in the probe from before `docker run` starts
# (one query at a time, at most one every 5 ms) and prints when nI first had an
# address; the run counts from the moment `docker run -d` returned on A.
: >"$SIM_DIR/prop" && : >"$SIM_DIR/from_start" && : >"$SIM_DIR/run"
timeouts=0
for i in $(seq 1 "$NAMES_RUNS"); do
    nsenter -t "$PROBE" -n "$LOAD" -s "$GW" -n "n$i" -w $((POLL_LIMIT_MS / 1000)) >"$SIM_DIR/wait" 2>&1 &
    waiter=$!
    sleep 0.1 # it is asking before docker run starts
    t0=$(now_ms)
    run_on A "n$i"
    t1=$(now_ms)
    if wait "$waiter"; then
        t2=$(sed -n 's/.*resolved_ms=\([0-9]*\).*/\1/p' "$SIM_DIR/wait")
        echo $((t1 - t0)) >>"$SIM_DIR/run"
        echo $((t2 - t1)) >>"$SIM_DIR/prop"
        echo $((t2 - t0)) >>"$SIM_DIR/from_start"
        got=$(addr_of "n$i") want=$(ip_of A "n$i")
        [ "$got" = "$want" ] || echo "names_bench: n$i resolved to $got, docker says $want" >&2
    else
        timeouts=$((timeouts + 1))
        echo "names_bench: n$i did not resolve from B: $(cat "$SIM_DIR/wait")" >&2
    fi
    sim_docker A rm -f "n$i" >/dev/null
    # the next run starts once this name is gone (no deletes of this one in its way)
    [ "$(poll_until "n$i" 0)" != timeout ] || echo "names_bench: n$i still resolves after rm -f" >&2
done
R[names_runs]=$NAMES_RUNS
R[names_timeouts]=$timeouts
R[names_propagation_p50_ms]=$(pct 50 <"$SIM_DIR/prop")
R[names_propagation_p99_ms]=$(pct 99 <"$SIM_DIR/prop")
R[names_propagation_max_ms]=$(sort -g "$SIM_DIR/prop" | tail -n 1)
R[names_from_run_start_p50_ms]=$(pct 50 <"$SIM_DIR/from_start")
R[names_from_run_start_p99_ms]=$(pct 99 <"$SIM_DIR/from_start")
R[names_docker_run_p50_ms]=$(pct 50 <"$SIM_DIR/run")
echo "names_bench: measured propagation over $NAMES_RUNS runs" >&2

# ---------------- queries/s at the resolver ----------------
field() { sed -n "s/.*\\b$1=\\([0-9.]*\\).*/\\1/p" <<<"$2"; } # KEY LINE
load() { # KEY CONCURRENCY DNS_LOAD_ARGS...
    local key=$1 c=$2 out
    shift 2
    out=$(nsenter -t "$PROBE" -n "$LOAD" -s "$GW" -c "$c" -d "$NAMES_SECS" "$@")
    echo "names_bench: $key c$c: $out" >&2
    R[${key}_qps_c$c]=$(field qps "$out")
    R[${key}_p50_us_c$c]=$(field p50_us "$out")
    R[${key}_p99_us_c$c]=$(field p99_us "$out")
    R[${key}_lost_c$c]=$(field lost "$out")
    R[${key}_bad_c$c]=$(field bad "$out")
}
weft_b=$(sim_weft_pid B)
load names 1 -n target
c0=$(cpu_ticks "$weft_b")
load names 32 -n target
c1=$(cpu_ticks "$weft_b")
R[names_weft_cpu_us_per_query]=$(awk -v t=$((c1 - c0)) -v hz="$(getconf CLK_TCK)" \
    -v n="${R[names_qps_c32]}" -v s="$NAMES_SECS" 'BEGIN {if (n > 0) printf "%.1f", t / hz * 1e6 / (n * s); else print "null"}')
load names_fwd 1 -x
load names_fwd 32 -x
echo "names_bench: measured the resolver's queries/s" >&2

sim_stop_pid "$DNS_PID" 5 || true

# ---------------- results ----------------
r() { printf '%s' "${R[$1]:-n/a}"; }
if [ -n "$RESULTS" ]; then
    : >"$RESULTS"
    for k in $(printf '%s\n' "${!R[@]}" | sort); do echo "$k ${R[$k]}" >>"$RESULTS"; done
fi
row() { printf '%-52s %22s\n' "$1" "$2"; }
echo "names: two simulated hosts, real dockerd, weft's resolver on blue's gateway $GW"
row "name on B after docker run on A p50 / p99 (ms, $NAMES_RUNS)" "$(r names_propagation_p50_ms) / $(r names_propagation_p99_ms)"
row "  max (ms); runs that never resolved" "$(r names_propagation_max_ms); $(r names_timeouts)"
row "  counted from docker run's start p50 / p99 (ms)" "$(r names_from_run_start_p50_ms) / $(r names_from_run_start_p99_ms)"
row "  docker run -d itself p50 (ms)" "$(r names_docker_run_p50_ms)"
row "one nslookup in the probe: docker exec / nsenter (ms)" "$(r names_lookup_docker_exec_ms) / $(r names_lookup_nsenter_ms)"
row "blue's names, c1: queries/s; p50 / p99 (us)" "$(r names_qps_c1); $(r names_p50_us_c1) / $(r names_p99_us_c1)"
row "blue's names, c32: queries/s; p50 / p99 (us)" "$(r names_qps_c32); $(r names_p50_us_c32) / $(r names_p99_us_c32)"
row "  lost (1 s timeout) c1 / c32" "$(r names_lost_c1) / $(r names_lost_c32)"
row "  B's weft CPU per answered query, c32 (us)" "$(r names_weft_cpu_us_per_query)"
row "forwarded, c1: queries/s; p50 / p99 (us)" "$(r names_fwd_qps_c1); $(r names_fwd_p50_us_c1) / $(r names_fwd_p99_us_c1)"
row "forwarded, c32: queries/s; p50 / p99 (us)" "$(r names_fwd_qps_c32); $(r names_fwd_p50_us_c32) / $(r names_fwd_p99_us_c32)"
row "  lost (1 s timeout) c1 / c32" "$(r names_fwd_lost_c1) / $(r names_fwd_lost_c32)"
echo "(load: build/dns_load in the probe's namespace, $NAMES_SECS s per figure, one UDP socket;"
echo " forwarded: www.example.test, relayed by weft to dnsmasq on another simulated host)"
