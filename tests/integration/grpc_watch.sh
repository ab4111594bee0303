#!/usr/bin/env bash
# grpc_watch.sh: two hosts whose daemons (under ASan/UBSan) watch the store over etcd's
# gRPC Watch API (--store-watch grpc), B's through an `etcd grpc-proxy` on its own
# loopback (--store-watch-endpoints), as a host of a large cluster would (issue 18,
# docs/scale.md). Each programs the other's endpoint (they ping both ways), and drops
# it when that endpoint goes; B's watch is seen to run through the proxy, and, when
# the proxy goes, to move on to etcd itself (the next of its watch endpoints) and
# still withdraw what goes.
set -euo pipefail
. "$(dirname "$0")/../lib/sim.sh"
. "$(dirname "$0")/../lib/plugin.sh"

export WEFT_BIN=${WEFT_BIN:-build/weft-san}
SUBNET=10.77.0.0/24
PROXY=127.0.0.1:23790
declare -A HADDR=([A]=192.168.77.1 [B]=192.168.77.2)
declare -A POOL NID GW EID IP MAC SRC

# proxy_start: etcd's grpc-proxy in B's namespace, on B's loopback, in front of the
# simulated etcd; its pid in $SIM_DIR/B/proxy.pid (sim_cleanup also ends it, by cgroup).
proxy_start() {
    sim_spawn "$SIM_DIR/B/proxy.log" nsenter --net="/run/netns/$(sim_ns B)" etcd grpc-proxy \
        start --endpoints="$(sim_etcd_hostport)" --listen-addr="$PROXY"
    echo "$SIM_LAST_PID" >"$SIM_DIR/B/proxy.pid"
    wait_for 10 sim_ns_exec B bash -c "exec 3<>/dev/tcp/${PROXY%:*}/${PROXY#*:}" ||
        { cat "$SIM_DIR/B/proxy.log" >&2; fail "grpc-proxy did not listen on $PROXY in B"; }
}
proxy_stop() {
    local f=$SIM_DIR/B/proxy.pid
    [ -f "$f" ] || return 0
    sim_stop_pid "$(cat "$f")" 5 || true
    rm -f "$f"
}
# weft_via_proxy: B's daemon holds a connection to the proxy (its watch stream).
weft_via_proxy() {
    local out
    out=$(sim_ns_exec B ss -Htnp state established dst "$PROXY")
    grep "pid=$(sim_weft_pid B)," <<<"$out" >/dev/null
}

sim_init
sim_switch
for h in A B; do sim_host "$h" "${HADDR[$h]}"; done
sim_etcd
proxy_start
sim_weft A --store-watch grpc
sim_weft B --store-watch grpc --store-watch-endpoints "$PROXY,$(sim_etcd_hostport)"
for h in A B; do create_network "$h"; done
for h in A B; do create_endpoint "$h"; done
wait_for 10 has_peer B A || fail "B did not program A's endpoint"
wait_for 10 has_peer A B || fail "A did not program B's endpoint"
wait_for 5 pings A B || fail "cA cannot ping cB"
wait_for 5 pings B A || fail "cB cannot ping cA"
echo "ok   each host programmed the other's endpoint over the gRPC watch; they ping"
check "B's watch runs through the grpc-proxy" weft_via_proxy

remove_endpoint A
wait_for 10 lacks_peer B A || fail "B kept A's endpoint after it went (through the proxy)"
remove_endpoint B
wait_for 10 lacks_peer A B || fail "A kept B's endpoint after it went"
echo "ok   each host withdrew the other's endpoint when it went"

# The proxy goes: B's stream resumes on etcd itself, and what changes meanwhile arrives.
create_endpoint A
wait_for 10 has_peer B A || fail "B did not program A's new endpoint (through the proxy)"
proxy_stop
remove_endpoint A
wait_for 10 lacks_peer B A || fail "B kept A's endpoint after it went, with the proxy gone"
grep 'store watch stream ended, resuming.*transport=grpc' "$SIM_DIR/B/weft.log" >/dev/null ||
    fail "B's watch stream never ended with the proxy (the path under test was not reached)"
# Away long (2.5 s), the watch would list again through the store's members and so
# withdraw A's endpoint even with no stream: the resume itself must have done it.
! grep 'store watch disconnected' "$SIM_DIR/B/weft.log" ||
    fail "B's watch found no endpoint and listed again instead of resuming on etcd"
echo "ok   the proxy gone, B's watch resumed on etcd itself and withdrew A's endpoint"

for h in A B; do
    kill -0 "$(sim_weft_pid "$h")" || fail "the daemon on $h died"
    sim_weft_stop "$h" || fail "the daemon on $h needed SIGKILL to stop"
    ! grep -qE 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error' "$SIM_DIR/$h/weft.log" ||
        fail "sanitizer report on $h"
done
proxy_stop
echo "ok   both daemons stopped cleanly, no sanitizer report"
