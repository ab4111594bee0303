#!/usr/bin/env bash
# address_hijack.sh: one host claims another host's container address (issue 17).
# Three hosts, no Docker (the plugin protocol by hand, containers are namespaces),
# daemons under ASan/UBSan. Each host writes only under its own prefix
# (fabric/<host>/), so host B, broken into, can at most publish a claim of its own:
# B writes a peer for cA's address with B's VTEP and another MAC. Proves:
#  - C keeps A's entry (the older claim wins: bridge fdb, ip neigh), cA stays
#    reachable from cC, C logs the conflict and A the claim of its endpoint's address;
#  - C, restarted with both claims in the store, programs A's again and its sweep
#    leaves no entry of B's claim;
#  - a record under A's prefix naming B's VTEP is refused by every host;
#  - once A's endpoint goes, the next claim (B's) is programmed; once B's claim goes
#    too, nothing is left; all daemons stay up, with no sanitizer report.
# C, the judge, follows the store through the JSON gateway's one watch of fabric/
# (--store-watch gateway); A and B watch per member (the default): both ways of
# ordering claims are on trial.
set -euo pipefail
. "$(dirname "$0")/../lib/sim.sh"
. "$(dirname "$0")/../lib/plugin.sh"

export WEFT_BIN=${WEFT_BIN:-build/weft-san}
SUBNET=10.77.0.0/24
HOSTS=(A B C)
declare -A HADDR=([A]=192.168.77.1 [B]=192.168.77.2 [C]=192.168.77.3)
declare -A POOL NID GW EID IP MAC SRC
PA=/weft/v1/fabric/${HADDR[A]}/10.77.0.0_24 PB=/weft/v1/fabric/${HADDR[B]}/10.77.0.0_24
declare -A WATCH=([A]=grpc [B]=grpc [C]=gateway)
HIJACK_MAC=02:de:ad:00:00:0b
FOREIGN_MAC=02:de:ad:00:00:0c

sanitizer_clean() {
    ! grep -qE 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error|^==[0-9]+== ' "$SIM_DIR/$1/weft.log"
}
put() { printf '%s' "$2" | sim_etcdctl put "$1" >/dev/null; }
logged() { grep -F "$2" "$SIM_DIR/$1/weft.log" >/dev/null; } # HOST TEXT
# HOST keeps exactly one entry for cA's address: MAC at VTEP.
holds_claim() { # HOST MAC VTEP
    local fdb neigh
    fdb=$(fdb_of "$1") neigh=$(neigh_of "$1")
    grep -i "^$2 dev wvx[0-9]* dst $3 " <<<"$fdb" >/dev/null &&
        [ "$(grep -ci "^${IP[A]%/*} " <<<"$neigh")" = 1 ] &&
        grep -i "^${IP[A]%/*} dev wvx[0-9]* lladdr $2 " <<<"$neigh" >/dev/null
}
a_wins() { holds_claim "$1" "${MAC[A]}" "${HADDR[A]}" && lacks_mac "$1" "$HIJACK_MAC"; }

sim_init
sim_switch
for h in "${HOSTS[@]}"; do sim_host "$h" "${HADDR[$h]}"; done
sim_etcd
for h in "${HOSTS[@]}"; do sim_weft "$h" --store-watch "${WATCH[$h]}"; done
for h in "${HOSTS[@]}"; do create_network "$h"; done
for h in "${HOSTS[@]}"; do create_endpoint "$h"; done
wait_for 5 pings C A || fail "cC cannot ping cA"
wait_for 5 pings A C || fail "cA cannot ping cC"
check "C holds A's entry" a_wins C

# ---- B claims cA's address under its own prefix ----
put "$PB/peers/${IP[A]%/*}" "$(peer_json "${IP[A]%/*}" "$HIJACK_MAC" "${HADDR[B]}")"
conflict="msg=\"address claimed by two hosts; the older claim wins\" subnet=$SUBNET ip=${IP[A]%/*} winner=${HADDR[A]} loser=${HADDR[B]}"
wait_for 5 logged C "$conflict" || fail "C did not log the conflict"
check "C keeps A's entry and never took B's claim" a_wins C
check "cC pings cA" pings C A
check "cA pings cC" pings A C
wait_for 5 logged A "msg=\"address of an endpoint on this host claimed by another host; not programmed\" subnet=$SUBNET ip=${IP[A]%/*} vtep=${HADDR[B]} " ||
    fail "A did not log B's claim of its endpoint's address"
check "A's kernel never took B's claim" lacks_mac A "$HIJACK_MAC"
[ "$(grep -cF "$conflict" "$SIM_DIR/C/weft.log")" = 1 ] || fail "C logged the conflict more than once"
echo "ok   B's claim of cA's address: C keeps A's entry, cA reachable, the conflict logged once"

# ---- C restarted with both claims in the store ----
syncs=$(grep -c 'msg="fabric in sync"' "$SIM_DIR/C/weft.log")
sim_weft_stop C || fail "C needed SIGKILL to stop"
sim_weft C --store-watch "${WATCH[C]}"
synced() { [ "$(grep -c 'msg="fabric in sync"' "$SIM_DIR/C/weft.log")" -gt "$syncs" ]; }
wait_for 10 synced || fail "C did not list the store after its restart"
wait_for 5 a_wins C || fail "restarted C does not hold A's entry alone: $(fdb_of C) $(neigh_of C)"
check "cC pings cA after C's restart" pings C A
echo "ok   restarted C programs the older claim"

# ---- a record under A's prefix naming B's VTEP ----
foreign_ip=10.77.0.250 # an address no endpoint of this run holds (they are random)
for h in "${HOSTS[@]}"; do [ "${IP[$h]%/*}" != "$foreign_ip" ] || foreign_ip=10.77.0.251; done
for h in "${HOSTS[@]}"; do [ "${IP[$h]%/*}" != "$foreign_ip" ] || foreign_ip=10.77.0.252; done
foreign_key=$PA/peers/$foreign_ip
put "$foreign_key" "$(peer_json "$foreign_ip" "$FOREIGN_MAC" "${HADDR[B]}")"
refused() { logged "$1" "msg=\"ignoring fabric record\" key=\"$foreign_key\""; }
for h in "${HOSTS[@]}"; do
    wait_for 5 refused "$h" || fail "$h did not refuse a record under A's prefix naming B"
    check "$h's kernel never took it" lacks_mac "$h" "$FOREIGN_MAC"
done
grep -F "key=\"$foreign_key\"" "$SIM_DIR/C/weft.log" | grep -F "not the host whose key it is under" >/dev/null ||
    fail "C's refusal does not say why"
sim_etcdctl del "$foreign_key" >/dev/null
echo "ok   a record under A's prefix naming B's VTEP is refused everywhere"

# ---- the older claim goes: the next one is programmed; then that goes too ----
remove_endpoint A
b_wins() { holds_claim C "$HIJACK_MAC" "${HADDR[B]}" && lacks_mac C "${MAC[A]}"; }
wait_for 5 b_wins || fail "C did not program the next claim once A's went: $(fdb_of C) $(neigh_of C)"
sim_etcdctl del "$PB/peers/${IP[A]%/*}" >/dev/null
gone() { lacks_mac C "$HIJACK_MAC" && [ -z "$(neigh_of C | grep "^${IP[A]%/*} " || true)" ]; }
wait_for 5 gone || fail "C kept B's claim after it was deleted"
echo "ok   the next claim is programmed once the older goes, and withdrawn with it"

for h in "${HOSTS[@]}"; do check "$h is alive" weft_alive "$h"; done
for h in "${HOSTS[@]}"; do sim_weft_stop "$h" || fail "$h needed SIGKILL to stop"; done
for h in "${HOSTS[@]}"; do
    sanitizer_clean "$h" || { grep -A 30 -E 'ERROR|runtime error' "$SIM_DIR/$h/weft.log" >&2; fail "sanitizer report on $h"; }
done
echo "ok   no sanitizer reports"
echo "PASS address_hijack"
