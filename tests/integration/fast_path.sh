#!/usr/bin/env bash
# fast_path.sh: a plain overlay's unicast to remote endpoints skips the bridge
# (vxlan/fast_path.h). Hosts A and B, one network; two containers on A (cA, dA), one
# on B (cB). Shows: the filters are there (a shared block per segment with one pass
# filter per local endpoint, multicast and service-port passes and the catch-all to
# the VXLAN device; one redirect per local endpoint on the VXLAN device's ingress);
# traffic takes them (their packet counters rise by what ping sent, in both
# directions), while local traffic and ARP keep the bridge; a killed daemon leaves
# them working, and its restart puts back exactly the set (a stale filter goes, none
# is doubled); removing the endpoints and the network leaves no qdisc or filter.
# A under ASan/UBSan. Costs about 15 s.
set -euo pipefail
. "$(dirname "$0")/../lib/sim.sh"
. "$(dirname "$0")/../lib/plugin.sh"

export WEFT_BIN=${WEFT_BIN:-build/weft-san}
SUBNET=10.79.0.0/24
declare -A HADDR=([A]=192.168.77.1 [B]=192.168.77.2)
declare -A POOL NID GW EID IP MAC SRC

sanitizer_clean() {
    ! grep -qE 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error|^==[0-9]+== ' "$SIM_DIR/$1/weft.log"
}
tc_a() { sim_ns_exec A tc "$@"; }
# packets counted by the filter at PRIO on the block, or on the VXLAN device's ingress
sent() { # block|dev PRIO
    local where=(block "$VNI")
    [ "$1" = block ] || where=(dev "wvx$VNI" ingress)
    tc_a -s filter show "${where[@]}" prio "$2" | awk '/Sent/ {print $4; exit}'
}
prios() { # block|dev: the sorted priorities there, one line
    local where=(block "$VNI")
    [ "$1" = block ] || where=(dev "wvx$VNI" ingress)
    tc_a filter show "${where[@]}" | awk '/pref/ {for (i = 1; i < NF; i++) if ($i == "pref") print $(i+1)}' |
        sort -un | tr '\n' ' '
}
burst() { sim_ns_exec "$1" ping -q -c 50 -i 0.002 -W 1 "$2" >/dev/null; } # FROM_NS ADDR

sim_init
sim_switch
sim_host A "${HADDR[A]}"
sim_host B "${HADDR[B]}"
sim_etcd
sim_weft A
sim_weft B
create_network A
create_network B
create_endpoint B
create_endpoint A
A1_IP=${IP[A]%/*} A1_EID=${EID[A]} A1_SRC=${SRC[A]}
CTR=d create_endpoint A
A2_IP=${IP[A]%/*}
VNI=$(sim_ns_exec A ip -o link show type vxlan | sed -n 's/.*wvx\([0-9]*\).*/\1/p' | head -n 1)
[ -n "$VNI" ] || fail "no VXLAN device on A"
wait_for 5 sim_ns_exec cB ping -c 1 -W 1 "$A1_IP" || fail "cB cannot reach cA"
wait_for 5 sim_ns_exec cB ping -c 1 -W 1 "$A2_IP" || fail "cB cannot reach dA"

# The filters: block 1 (multicast), 2 (service ports), 256 and 257 (the two local
# endpoints), 65520 (the rest to wvx); on wvx's ingress, 256 and 257.
wanted_block="1 2 256 257 65520 " wanted_dev="256 257 "
[ "$(prios block)" = "$wanted_block" ] || fail "block $VNI holds priorities '$(prios block)', not '$wanted_block'"
[ "$(prios dev)" = "$wanted_dev" ] || fail "wvx$VNI's ingress holds '$(prios dev)', not '$wanted_dev'"
tc_a filter show dev "wvx$VNI" ingress | grep -q "Egress Redirect to device $A1_SRC" &&
    fail "a redirect names the container end $A1_SRC, not the host end"
check "the VXLAN device's filters redirect to the endpoints' host ends" \
    test "$(tc_a filter show dev "wvx$VNI" ingress | grep -c 'mirred (Egress Redirect to device w[hs]')" = 2
check "every endpoint host end and the bridge are bound to block $VNI" \
    test "$(tc_a qdisc show | grep -c "clsact.*\(ingress\|egress\)_block $VNI")" = 3
echo "ok   A holds the fast path filters of both endpoints"

# Traffic takes them: cA -> cB leaves by the catch-all; cB -> cA enters by cA's redirect.
tx0=$(sent block 65520) rx0=$(sent dev 256) rx1=$(sent dev 257)
burst cA "${IP[B]%/*}"
tx1=$(sent block 65520) rx_a=$(( $(sent dev 256) + $(sent dev 257) - rx0 - rx1 ))
[ $((tx1 - tx0)) -ge 50 ] || fail "50 pings to B, the catch-all redirected $((tx1 - tx0))"
[ "$rx_a" -ge 50 ] || fail "50 answers from B, the endpoint redirects took $rx_a"
echo "ok   cA -> cB: $((tx1 - tx0)) frames out past the bridge, $rx_a answers in past it"
# Local traffic keeps the bridge: the catch-all stays put while cA pings dA.
tx0=$(sent block 65520)
burst cA "$A2_IP"
[ "$(sent block 65520)" = "$tx0" ] || fail "frames between local endpoints went to the VXLAN device"
echo "ok   cA -> dA (same host) stays on the bridge"

# A crash leaves the filters working; the restart flushes and re-adds exactly the set.
# A stale filter, for a MAC nobody has, as an earlier run might have left.
tc_a filter add block "$VNI" protocol all prio 300 u32 match u32 0x00000099 0xffffffff at -12 action mirred egress redirect dev "wvx$VNI"
sim_weft_kill A
wait_for 5 sim_ns_exec cB ping -c 1 -W 1 "$A1_IP" || fail "cB lost cA while A's daemon was down"
tx0=$(sent block 65520)
burst cA "${IP[B]%/*}"
[ $(( $(sent block 65520) - tx0 )) -ge 50 ] || fail "the fast path stopped with the daemon"
echo "ok   with A's daemon down, the fast path carries on"
sim_weft A
wait_for 10 grep -q "fast path on" "$SIM_DIR/A/weft.log" || fail "the restarted daemon did not start the fast path"
wait_for 5 test "$(prios block)" = "$wanted_block" ||
    fail "after the restart block $VNI holds '$(prios block)', not '$wanted_block'"
[ "$(prios dev)" = "$wanted_dev" ] || fail "after the restart wvx$VNI holds '$(prios dev)'"
check "one filter per priority on the block" test "$(tc_a filter show block "$VNI" | grep -c ' key ht ')" = 5
wait_for 5 sim_ns_exec cB ping -c 1 -W 1 "$A2_IP" || fail "cB cannot reach dA after A's restart"
rx0=$(sent dev 256) rx1=$(sent dev 257)
burst cB "$A1_IP"
burst cB "$A2_IP"
[ $(( $(sent dev 256) + $(sent dev 257) - rx0 - rx1 )) -ge 100 ] || fail "after the restart B's frames do not take the redirects"
echo "ok   the restart removed the stale filter and put back the set, once"

# Clean-up: the endpoints and the network go, and every qdisc and filter with them.
CTR=d remove_endpoint A
IP[A]=$A1_IP/24 EID[A]=$A1_EID SRC[A]=$A1_SRC
CTR=c remove_endpoint A
[ "$(prios dev)" = "" ] || fail "wvx$VNI keeps '$(prios dev)' with no endpoint"
[ "$(prios block)" = "1 2 65520 " ] || fail "block $VNI keeps '$(prios block)' with no endpoint"
call A NetworkDriver.DeleteNetwork "{\"NetworkID\":\"${NID[A]}\"}" >/dev/null
[ -z "$(tc_a qdisc show | grep clsact || true)" ] || fail "a clsact qdisc outlived the network: $(tc_a qdisc show | grep clsact)"
[ -z "$(tc_a filter show block "$VNI" 2>/dev/null || true)" ] || fail "block $VNI outlived the network"
echo "ok   removing the endpoints and the network left no qdisc or filter"

sim_weft_stop A || fail "A needed SIGKILL to stop"
sanitizer_clean A || { grep -A 30 -E 'ERROR|runtime error' "$SIM_DIR/A/weft.log" >&2; fail "sanitizer report on A"; }
echo "PASS fast_path"
