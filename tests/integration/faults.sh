#!/usr/bin/env bash
# faults.sh: the overlay under faults, three hosts without Docker (daemons under
# ASan/UBSan, --lease-ttl 3, --reclaim-after 6 so the test is quick).
# Proves:
#  - kill -9 of a daemon: containers keep pinging while it is down; after a
#    restart it adopts what exists (no duplicate device, entry or allocation);
#  - an endpoint whose container vanished while its daemon was down is withdrawn
#    and its address freed when the daemon returns;
#  - a daemon killed after answering CreateEndpoint but before publishing the
#    endpoint adopts it from its veth on restart and publishes it;
#  - a dead host (daemon and containers gone) is withdrawn everywhere within
#    TTL + 2 s, and its addresses are reclaimed only after the grace period, by
#    another host taking over the dead one's reaper role;
#  - etcd down: running containers keep talking, requests fail within 2 s saying
#    the store is unreachable and leave nothing behind; when etcd returns the
#    daemons catch up on what they missed without a restart;
#  - SIGTERM stops a daemon cleanly and leaves the data plane up.
set -euo pipefail
. "$(dirname "$0")/../lib/sim.sh"
. "$(dirname "$0")/../lib/plugin.sh"

export WEFT_BIN=${WEFT_BIN:-build/weft-san}
TTL=3
GRACE=6
SUBNET=10.77.0.0/24
HOSTS=(A B C)
declare -A HADDR=([A]=192.168.77.1 [B]=192.168.77.2 [C]=192.168.77.3)
declare -A POOL NID GW EID IP MAC SRC

start_weft() { sim_weft "$1" --lease-ttl "$TTL" --reclaim-after "$GRACE"; }
etcd_count() { sim_etcdctl get --prefix --keys-only "$1" | grep -c . || true; }
# etcd_keys KEY: 1 if exactly that key exists, else 0. Not a prefix count: the address
# 10.77.0.2 is a prefix of 10.77.0.237's key, and a prefix count flaked on it.
etcd_keys() { sim_etcdctl get --keys-only "$1" | grep -c . || true; }
fdb_count() { # HOST MAC: entries for MAC on the vxlan device (self entries)
    sim_ns_exec "$1" bridge fdb show | grep -ci "^$2 dev wvx.* self" || true
}
sanitizer_clean() {
    ! grep -qE 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error|^==[0-9]+== ' "$SIM_DIR/$1/weft.log"
}

sim_init
sim_switch
for h in "${HOSTS[@]}"; do sim_host "$h" "${HADDR[$h]}"; done
sim_etcd
# C first, so that it takes the reaper role (one host reclaims for the cluster): its
# death below must hand the role on, or no host would reclaim its addresses.
reaper_holder() { sim_etcdctl get --print-value-only /weft/v1/roles/reaper | sed -n 's/.*"vtep":"\([^"]*\)".*/\1/p'; }
reaper_is() { [ "$(reaper_holder)" = "$1" ]; }
start_weft C
wait_for 5 reaper_is "${HADDR[C]}" || fail "C did not take the reaper role (holder: '$(reaper_holder)')"
for h in A B; do start_weft "$h"; done
for h in "${HOSTS[@]}"; do create_network "$h"; done
for h in "${HOSTS[@]}"; do create_endpoint "$h"; done
for s in A B; do for d in A B C; do
    [ "$s" = "$d" ] || wait_for 5 pings "$s" "$d" || fail "c$s cannot ping c$d"
done; done
echo "ok   three hosts ping each other"

# ---- kill -9 and restart: the data plane stays, nothing is duplicated ----
weft_links() { # devices and endpoint veths (wh<id>, or a spare taken: ws<n>), not spares
    sim_ns_exec "$1" ip -o link show | grep -E ': (wbr|wvx|wh|ws)' | grep -vc 'alias weft spare' || true
}
links_before=$(weft_links A)
addrs_before=$(etcd_count /weft/v1/addrs/)
sim_weft_kill A
check "cA pings cB while A's daemon is dead" pings A B
check "cB pings cA while A's daemon is dead" pings B A
start_weft A
wait_for 5 pings A B || fail "cA cannot ping cB after A's restart"
links_after=$(weft_links A)
[ "$links_after" = "$links_before" ] || fail "A has $links_after weft links after restart, had $links_before"
[ "$(fdb_count A "${MAC[B]}")" = 1 ] || fail "A has $(fdb_count A "${MAC[B]}") fdb entries for cB"
[ "$(etcd_count /weft/v1/addrs/)" = "$addrs_before" ] || fail "allocations changed across restart"
peer_records() { sim_etcdctl get --prefix --keys-only /weft/v1/fabric/ | grep -c '/10\.77\.0\.0_24/peers/' || true; }
[ "$(peer_records)" = 3 ] || fail "peer records changed across restart"
echo "ok   A restarted after kill -9: adopted its devices, no duplicates"

# ---- a container that vanished while its daemon was down ----
sim_weft_kill B
sim_fake_container_kill cB
start_weft B
wait_for 5 lacks_peer A B || fail "A still has cB's entries after B came back without it"
[ "$(etcd_keys "/weft/v1/addrs/10.77.0.0_24/${IP[B]%/*}")" = 0 ] || fail "cB's address was not freed"
echo "ok   B withdrew the endpoint that vanished while it was down, and freed its address"
create_endpoint B
wait_for 5 pings A B || fail "cA cannot reach B's new endpoint"

# ---- killed after answering CreateEndpoint, before publishing it ----
# The publisher writes an endpoint's records just after CreateEndpoint answers. A
# daemon killed in between leaves the veth (with its alias) and no records: made
# here deterministically by deleting the records after the kill. On restart the
# daemon must find the endpoint by its veth's alias and publish it.
out=$(call A IpamDriver.RequestAddress "{\"PoolID\":\"${POOL[A]}\",\"Address\":\"\",\"Options\":null}")
late_ip=$(sim_json_str Address <<<"$out")
late_eid=$(sim_random_id)
call A NetworkDriver.CreateEndpoint "{\"NetworkID\":\"${NID[A]}\",\"EndpointID\":\"$late_eid\",\"Interface\":{\"Address\":\"$late_ip\",\"MacAddress\":\"\"},\"Options\":{}}" >/dev/null
late_src=$(call A NetworkDriver.Join "{\"NetworkID\":\"${NID[A]}\",\"EndpointID\":\"$late_eid\",\"SandboxKey\":\"/x\"}" | sim_json_str SrcName)
sim_fake_container A clate "$late_src" "$late_ip" ""
late_record=/weft/v1/hosts/${HADDR[A]}/endpoints/$late_eid
late_peer=/weft/v1/fabric/${HADDR[A]}/10.77.0.0_24/peers/${late_ip%/*}
wait_for 5 test "$(etcd_keys "$late_record")" = 1 || fail "the endpoint was never published"
sim_weft_kill A
sim_etcdctl del "$late_record" >/dev/null
sim_etcdctl del "$late_peer" >/dev/null
late_pings() { sim_ns_exec cB ping -c 1 -W 1 "${late_ip%/*}"; }
late_gone() { ! late_pings; }
wait_for 5 late_gone || fail "cB still reaches the endpoint after its records were deleted"
start_weft A
wait_for 10 late_pings || fail "cB cannot reach the endpoint whose records A never wrote"
[ "$(etcd_keys "$late_record")" = 1 ] || fail "A did not record the adopted endpoint in the store"
[ "$(etcd_keys "$late_peer")" = 1 ] || fail "A did not publish the adopted endpoint"
grep -q "endpoint adopted from its veth" "$SIM_DIR/A/weft.log" || fail "no adoption line in A's log"
echo "ok   A killed before publishing an endpoint: adopted it from its veth on restart, B reaches it"
sim_fake_container_kill clate
call A NetworkDriver.DeleteEndpoint "{\"NetworkID\":\"${NID[A]}\",\"EndpointID\":\"$late_eid\"}" >/dev/null
call A IpamDriver.ReleaseAddress "{\"PoolID\":\"${POOL[A]}\",\"Address\":\"${late_ip%/*}\"}" >/dev/null

# ---- a dead host: withdrawn within TTL + 2 s, addresses kept for the grace period ----
sim_weft_kill C
sim_fake_container_kill cC
died=$SECONDS
for h in A B; do
    wait_for $((TTL + 2)) lacks_peer "$h" C || fail "$h still has C's entries $((TTL + 2)) s after C died"
    [ -z "$(sim_ns_exec "$h" bridge fdb show | grep -i "dst ${HADDR[C]}" || true)" ] ||
        fail "$h still floods to dead host C"
done
echo "ok   A and B withdrew dead host C within $((SECONDS - died)) s (TTL $TTL s)"
c_addr=/weft/v1/addrs/10.77.0.0_24/${IP[C]%/*}
[ "$(etcd_keys "$c_addr")" = 1 ] || fail "C's address was reclaimed before the grace period"
c_addr_freed() { [ "$(etcd_keys "$c_addr")" = 0 ]; }
wait_for $((GRACE + 2 * TTL + 4)) c_addr_freed ||
    fail "C's address was not reclaimed after the grace period"
holder=$(reaper_holder)
[ "$holder" = "${HADDR[A]}" ] || [ "$holder" = "${HADDR[B]}" ] ||
    fail "the reaper role is held by '$holder', not by A or B"
for h in A B; do
    if [ "${HADDR[$h]}" = "$holder" ]; then
        grep -q "reclaimed address of a dead host" "$SIM_DIR/$h/weft.log" || fail "$h holds the role but logged no reclaim"
    else
        ! grep -q "reclaimed address of a dead host" "$SIM_DIR/$h/weft.log" || fail "$h reclaimed without the role"
    fi
done
echo "ok   C's address kept through the grace period, then reclaimed by $holder, which took dead C's reaper role ($((SECONDS - died)) s after death)"

# ---- etcd down ----
sim_etcd_stop
check "cA pings cB with the store down" pings A B
start=$SECONDS
out=$(sim_plugin_call A IpamDriver.RequestAddress "{\"PoolID\":\"${POOL[A]}\",\"Address\":\"\",\"Options\":null}") &&
    fail "RequestAddress succeeded with the store down: $out"
elapsed=$((SECONDS - start))
grep -qi "unreachable" <<<"$out" || fail "store-down error does not say so: $out"
[ "$elapsed" -le 2 ] || fail "store-down error took $elapsed s (want <= 2)"
echo "ok   store down: RequestAddress fails in ${elapsed} s: $out"
eid=$(sim_random_id)
out=$(sim_plugin_call A NetworkDriver.CreateEndpoint "{\"NetworkID\":\"${NID[A]}\",\"EndpointID\":\"$eid\",\"Interface\":{\"Address\":\"10.77.0.250/24\",\"MacAddress\":\"\"},\"Options\":{}}") &&
    fail "CreateEndpoint succeeded with the store down: $out"
[ -z "$(sim_ns_exec A ip -o link show "wh${eid:0:10}" 2>/dev/null)" ] || fail "failed CreateEndpoint left its veth"
echo "ok   store down: CreateEndpoint fails and leaves nothing: $out"
sim_etcd_start
# While A's watch was cut off, B gets a new endpoint; A must catch up by itself.
wait_for 10 sim_plugin_call B IpamDriver.GetCapabilities '' || fail "B not answering"
old_b_mac=${MAC[B]}
sim_fake_container_del B cB "${SRC[B]}"
call B NetworkDriver.DeleteEndpoint "{\"NetworkID\":\"${NID[B]}\",\"EndpointID\":\"${EID[B]}\"}" >/dev/null
create_endpoint B
wait_for 10 pings A B || fail "A did not catch up with B's new endpoint after the store returned"
[ "$(fdb_count A "$old_b_mac")" = 0 ] || fail "A kept B's old endpoint"
echo "ok   store back: A caught up (new endpoint reachable, old one withdrawn) without a restart"

# ---- SIGTERM: clean stop, data plane stays ----
sim_weft_stop A || fail "weft on A needed SIGKILL to stop on SIGTERM"
check "cA pings cB after A's daemon stopped" pings A B
grep -q "stopping; the data plane stays up" "$SIM_DIR/A/weft.log" || fail "no clean-stop line in A's log"
echo "ok   SIGTERM: clean stop, data plane up"
sim_weft_stop B || fail "weft on B needed SIGKILL to stop on SIGTERM"
for h in A B C; do sanitizer_clean "$h" || { grep -A 30 -E 'ERROR|runtime error' "$SIM_DIR/$h/weft.log" >&2; fail "sanitizer report on $h"; }; done
# Restarts renumber spares above the names endpoints kept: no clash, ever.
! grep -h "spare veth pair failed" "$SIM_DIR"/{A,B,C}/weft.log || fail "a spare veth pair could not be made"
echo "ok   no sanitizer reports"
echo "PASS faults"
