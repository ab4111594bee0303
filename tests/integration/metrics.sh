#!/usr/bin/env bash
# metrics.sh: `weft daemon --metrics` serves Prometheus text that promtool accepts,
# and its counters move with what the daemon does. Two hosts (daemons under
# ASan/UBSan): A is given --metrics 127.0.0.1:9776, B the WEFT_METRICS variable;
# each serves on loopback inside its own namespace, where curl scrapes it. After a
# network and an endpoint on both: A counted the plugin calls (CreateNetwork
# succeeded at least once, with a duration), store round trips, the watch and its
# listing, and programmed B's endpoint; the process metrics are there. A bad
# --metrics address stops the start-up.
set -euo pipefail
. "$(dirname "$0")/../lib/sim.sh"
. "$(dirname "$0")/../lib/plugin.sh"

export WEFT_BIN=${WEFT_BIN:-build/weft-san}
SUBNET=10.78.0.0/24
declare -A HADDR=([A]=192.168.77.1 [B]=192.168.77.2)
declare -A POOL NID GW EID IP MAC SRC
command -v promtool >/dev/null || fail "promtool is missing (Debian's prometheus package: scripts/install-deps.sh test)"

sanitizer_clean() {
    ! grep -qE 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error|^==[0-9]+== ' "$SIM_DIR/$1/weft.log"
}
scrape() { # HOST: the metrics text, into $SIM_DIR/HOST/metrics.txt
    sim_ns_exec "$1" curl -sS -f -m 10 -D "$SIM_DIR/$1/metrics.headers" \
        -o "$SIM_DIR/$1/metrics.txt" http://127.0.0.1:9776/metrics
}
value() { # HOST SERIES: the sample's value in the last scrape ("" if absent)
    awk -v s="$2" '$1 == s { print $2 }' "$SIM_DIR/$1/metrics.txt"
}
at_least() { # HOST SERIES MIN
    local v
    v=$(value "$1" "$2")
    [ -n "$v" ] && awk -v v="$v" -v min="$3" 'BEGIN { exit !(v + 0 >= min + 0) }' ||
        fail "$1: $2 is '${v:-absent}', expected at least $3"
}

sim_init
sim_switch
for h in A B; do
    sim_host "$h" "${HADDR[$h]}"
    sim_ns_exec "$h" ip link set lo up
done
sim_etcd
sim_weft A --metrics 127.0.0.1:9776
WEFT_METRICS=127.0.0.1:9776 sim_weft B
for h in A B; do
    wait_for 5 scrape "$h" || fail "$h does not serve /metrics on 127.0.0.1:9776 in its namespace"
done
echo "ok   --metrics (A) and WEFT_METRICS (B) serve /metrics on loopback"
grep -qi '^content-type: text/plain; version=0.0.4' "$SIM_DIR/A/metrics.headers" ||
    fail "content type: $(grep -i content-type "$SIM_DIR/A/metrics.headers")"
code=$(sim_ns_exec A curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:9776/other)
[ "$code" = 404 ] || fail "GET /other answered $code, not 404"
echo "ok   text format 0.0.4; other paths are 404"

for h in A B; do create_network "$h"; done
for h in A B; do create_endpoint "$h"; done
wait_for 10 pings A B || fail "A cannot reach B's endpoint"

scrape A
at_least A 'weft_plugin_calls_total{method="NetworkDriver.CreateNetwork",outcome="success"}' 1
at_least A 'weft_plugin_calls_total{method="IpamDriver.RequestAddress",outcome="success"}' 2
at_least A 'weft_plugin_call_duration_seconds_count{method="NetworkDriver.Join"}' 1
at_least A 'weft_plugin_call_duration_seconds_bucket{method="NetworkDriver.Join",le="+Inf"}' 1
echo "ok   plugin calls counted by method and outcome, with durations"
at_least A 'weft_store_round_trips_total{operation="kv_txn"}' 1
at_least A 'weft_store_round_trips_total{operation="lease_grant"}' 1
at_least A 'weft_ipam_allocations_total{kind="endpoint"}' 1
at_least A 'weft_ipam_allocations_total{kind="gateway"}' 1
at_least A 'weft_watch_resyncs_total' 1
at_least A 'weft_watch_events_total{type="put"}' 1
at_least A 'weft_remote_entries_programmed' 1
echo "ok   store round trips, IPAM allocations, the watch and B's entries programmed on A"
for m in process_cpu_seconds_total process_resident_memory_bytes process_open_fds process_start_time_seconds; do
    at_least A "$m" 0
done
start=$(value A process_start_time_seconds)
now=$(date +%s)
awk -v s="$start" -v n="$now" 'BEGIN { exit !(s > n - 600 && s <= n + 1) }' ||
    fail "process_start_time_seconds $start is not within the last 10 minutes (now $now)"
echo "ok   process metrics present (started $((now - ${start%.*})) s ago)"

for h in A B; do
    scrape "$h"
    out=$(promtool check metrics <"$SIM_DIR/$h/metrics.txt" 2>&1) ||
        { printf '%s\n' "$out" >&2; fail "promtool check metrics refused $h's metrics"; }
done
echo "ok   promtool check metrics accepts both hosts' output"

for h in A B; do
    sim_weft_stop "$h" || fail "$h needed SIGKILL to stop"
    sanitizer_clean "$h" || { grep -A 30 -E 'ERROR|runtime error' "$SIM_DIR/$h/weft.log" >&2; fail "sanitizer report on $h"; }
done
# A bad address stops the start-up with a reason (a private namespace: nothing to touch).
bin=$(realpath "$WEFT_BIN")
set +e
out=$(timeout 20 unshare -n sh -c "ip link set lo up && exec $bin daemon --advertise 127.0.0.1 \
    --store etcd://127.0.0.1:1 --socket $SIM_DIR/bad.sock --metrics 127.0.0.1" 2>&1); rc=$?
set -e
[ "$rc" = 1 ] && grep -q -- "--metrics 127.0.0.1: expected HOST:PORT" <<<"$out" ||
    fail "--metrics without a port: rc $rc, $out"
echo "ok   --metrics without a port is refused with a reason"
echo "PASS metrics"
