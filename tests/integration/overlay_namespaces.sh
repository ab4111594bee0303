#!/usr/bin/env bash
# overlay_namespaces.sh: three hosts, no Docker. Each host runs weft (the ASan/UBSan
# build) and this script speaks Docker's plugin protocol to it by hand, with the
# JSON dockerd sends, then does what Docker does with the veth ("containers" are
# plain namespaces). Proves: one overlay across three hosts (every pair pings),
# concurrent RequestAddress from all hosts never hands out an address twice,
# Leave + DeleteEndpoint withdraws the endpoint everywhere, DeleteNetwork leaves
# no devices, and the daemon reports no sanitizer errors.
set -euo pipefail
. "$(dirname "$0")/../lib/sim.sh"
. "$(dirname "$0")/../lib/plugin.sh"

export WEFT_BIN=${WEFT_BIN:-build/weft-san}
SUBNET=10.77.0.0/24
HOSTS=(A B C)
declare -A HADDR=([A]=192.168.77.1 [B]=192.168.77.2 [C]=192.168.77.3 [D]=192.168.77.4)
declare -A POOL NID GW EID IP MAC SRC

sim_init
sim_switch
for h in "${HOSTS[@]}" D; do sim_host "$h" "${HADDR[$h]}"; done
sim_etcd
# With a cluster secret, so that the encrypted overlays' data path and sessions start and
# stop with every daemon here too (valgrind_daemon.sh checks them for leaks).
"$SIM_REPO/build/weft" keygen >"$SIM_DIR/secret"
for h in "${HOSTS[@]}"; do sim_weft "$h" --secret-file "$SIM_DIR/secret"; done


for h in "${HOSTS[@]}"; do create_network "$h"; done
[ "${GW[A]}" = "${GW[B]}" ] && [ "${GW[B]}" = "${GW[C]}" ] ||
    fail "hosts got different gateways: ${GW[*]}"

# What docker run sends, then what Docker does with the interface. dockerd sends
# "Options":null and an empty MacAddress unless the IPAM asks for MACs; C plays
# `docker run --mac-address`.
requires_mac=false
call A IpamDriver.GetCapabilities '' | grep '"RequiresMACAddress" *: *true' >/dev/null && requires_mac=true
for h in "${HOSTS[@]}"; do create_endpoint "$h"; done
[ "${IP[A]}" != "${IP[B]}" ] && [ "${IP[B]}" != "${IP[C]}" ] && [ "${IP[A]}" != "${IP[C]}" ] ||
    fail "endpoints share an address: ${IP[*]}"

# Read through netlink: /sys shows the namespace it was mounted in, not this one.
mtu=$(sim_ns_exec cA ip -o link show eth0 | sed -n 's/.* mtu \([0-9]*\) .*/\1/p')
[ "$mtu" = 1450 ] || fail "endpoint MTU $mtu, want 1450 (underlay 1500 - 50)"
echo "ok   endpoint MTU 1450"

for s in "${HOSTS[@]}"; do
    for d in "${HOSTS[@]}"; do
        [ "$s" = "$d" ] && continue
        # Peers are programmed from an etcd watch: allow it a moment to arrive.
        wait_for 5 pings "$s" "$d" || fail "c$s cannot ping c$d (${IP[$d]})"
        echo "ok   c$s pings c$d"
    done
done

# A host that starts late reads what exists, then watches: D joins after the others
# and everyone reaches it both ways.
sim_weft D --secret-file "$SIM_DIR/secret"
vni=$(sim_ns_exec A ip -d link show type vxlan | sed -n 's/.*vxlan id \([0-9]*\) .*/\1/p' | head -n 1)
[ -n "$vni" ] || fail "no vxlan device on A"
out=$(sim_plugin_call D NetworkDriver.CreateNetwork "{\"NetworkID\":\"$(sim_random_id)\",\"Options\":{\"com.docker.network.generic\":{\"vni\":\"$((vni + 1))\"}},\"IPv4Data\":[{\"AddressSpace\":\"weft\",\"Gateway\":\"${GW[A]}\",\"Pool\":\"$SUBNET\"}],\"IPv6Data\":[]}") &&
    fail "D accepted -o vni=$((vni + 1)) for an overlay on VNI $vni: $out"
grep -q "already uses VNI $vni" <<<"$out" || fail "conflicting -o vni: unclear error: $out"
[ -z "$(sim_ns_exec D ip -o link show type vxlan)" ] || fail "refused CreateNetwork left a device on D"
echo "ok   conflicting -o vni refused: $out"
create_network D
create_endpoint D
for peer in A B C; do
    wait_for 5 pings D "$peer" || fail "late host D cannot ping c$peer"
    wait_for 5 pings "$peer" D || fail "c$peer cannot ping late host D"
done
echo "ok   late host D and A, B, C ping each other"
sim_weft_stop D || fail "weft on D needed SIGKILL to stop"
if grep -qE 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error|^==[0-9]+== ' "$SIM_DIR/D/weft.log"; then
    grep -A 30 -E 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error|^==[0-9]+== ' "$SIM_DIR/D/weft.log" >&2
    fail "sanitizer report in weft log on D"
fi

# Concurrent allocation: 50 requests on each host at once, all distinct. Through
# plugin_bench (a thread per request, each its own connection, as dockerd's concurrent
# calls are): 150 curl processes, and 150 more to release, cost the machine more CPU
# than the daemons they test (23 ms each, under valgrind too, in valgrind_daemon.sh).
bench=$SIM_REPO/build/plugin_bench
[ -x "$bench" ] || fail "build/plugin_bench missing (make build/plugin_bench)"
alloc_dir=$SIM_DIR/alloc
mkdir -p "$alloc_dir"
requests=()
for h in "${HOSTS[@]}"; do
    "$bench" ipam "$SIM_DIR/$h/plugins/weft.sock" "${POOL[$h]}" 50 50 "$alloc_dir/$h.list" \
        >"$alloc_dir/$h.out" 2>&1 &
    requests+=($!)
done
# Only the requests: a bare `wait` would also wait for the daemons sim started.
wait "${requests[@]}" || true
allocated=$(cat "$alloc_dir"/*.list)
n=$(grep -c . <<<"$allocated" || true)
uniq_n=$(sort -u <<<"$allocated" | grep -c . || true)
[ "$n" = 150 ] || { cat "$alloc_dir"/*.out >&2; fail "only $n of 150 concurrent RequestAddress succeeded"; }
[ "$uniq_n" = 150 ] || fail "150 concurrent RequestAddress gave only $uniq_n distinct addresses"
for ip in "${IP[@]}" "${GW[A]}"; do
    grep -qx "$ip" <<<"$allocated" && fail "concurrent RequestAddress handed out $ip, already in use"
done
grep -vx '10\.77\.0\.[0-9]*/24' <<<"$allocated" && fail "an address outside 10.77.0.0/24, or without its prefix"
echo "ok   150 concurrent addresses from 3 hosts, all distinct"
# Release them again (from the host that allocated each), 10 at a time per host.
for h in "${HOSTS[@]}"; do
    "$bench" release "$SIM_DIR/$h/plugins/weft.sock" "${POOL[$h]}" "$alloc_dir/$h.list" 10 \
        >"$alloc_dir/$h.rel" 2>&1 || true
    grep -q '"count":50,"failed":0}' "$alloc_dir/$h.rel" ||
        fail "releasing $h's 50 addresses: $(cat "$alloc_dir/$h.rel")"
done
echo "ok   released them"

for h in A B; do check "$h has C's fdb and neighbour entries" has_peer "$h" C; done

remove_endpoint C
for h in A B; do
    wait_for 3 lacks_peer "$h" C || {
        sim_ns_exec "$h" bridge fdb show | grep -i "${MAC[C]}" >&2 || true
        sim_ns_exec "$h" ip neigh show "${IP[C]%/*}" >&2 || true
        fail "$h still has C's entries 3 s after Leave + DeleteEndpoint"
    }
    echo "ok   $h withdrew C's endpoint"
done
check "cA still pings cB" pings A B

for h in A B C; do
    [ "$h" = C ] || remove_endpoint "$h"
    call "$h" IpamDriver.ReleaseAddress "{\"PoolID\":\"${POOL[$h]}\",\"Address\":\"${GW[$h]%/*}\"}" >/dev/null
    call "$h" IpamDriver.ReleasePool "{\"PoolID\":\"${POOL[$h]}\"}" >/dev/null
    call "$h" NetworkDriver.DeleteNetwork "{\"NetworkID\":\"${NID[$h]}\"}" >/dev/null
    left=$(weft_devices "$h")
    [ -z "$left" ] || fail "devices left on $h after DeleteNetwork: $left"
    echo "ok   $h: network deleted, no devices left"
done

# Stop the daemons (LeakSanitizer reports at exit), then read their logs.
for h in "${HOSTS[@]}"; do
    sim_weft_stop "$h" || fail "weft on $h needed SIGKILL to stop"
done
for h in "${HOSTS[@]}"; do
    if grep -nE 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error|^==[0-9]+== ' "$SIM_DIR/$h/weft.log"; then
        grep -A 30 -E 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error|^==[0-9]+== ' "$SIM_DIR/$h/weft.log" |
            head -n 60 >&2
        fail "sanitizer report in weft log on $h"
    fi
done
echo "ok   no sanitizer reports"
echo "PASS overlay_namespaces"
