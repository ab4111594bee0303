#!/usr/bin/env bash
# secure_hijack.sh: host B is broken into, on the secured store (issue 17). Three hosts,
# no Docker (the plugin protocol by hand), etcd with TLS, client certificates and
# users, each host admitted with `weft admit` (its own user, a role that writes only
# its own prefixes and the shared ones), daemons under ASan/UBSan. With B's own
# credentials (its password file, its client certificate), the attacker:
#  - cannot write or delete anything under A's prefixes (fabric/A/, hosts/A/): etcd
#    refuses it;
#  - can write under B's own prefix a peer claiming cA's address with B's VTEP: C
#    keeps A's entry (the older claim wins), cC and cA keep pinging, all daemons up;
#  - can claim a free address before A allocates it: A's IPAM refuses that address
#    (an exact request fails naming B); an address A allocated is claimed at once,
#    so B's claim made after loses on C.
# Then the administrator runs `weft revoke B`: B's user, role and records go; A and C
# drop cB's entries; B's daemon stays up (its data plane too) and says in its log
# that the store refuses it; A and C keep working.
set -euo pipefail
. "$(dirname "$0")/../lib/sim.sh"
. "$(dirname "$0")/../lib/plugin.sh"

export WEFT_BIN=${WEFT_BIN:-build/weft-san}
bin=$SIM_REPO/$WEFT_BIN
SUBNET=10.77.0.0/24
HOSTS=(A B C)
declare -A HADDR=([A]=192.168.77.1 [B]=192.168.77.2 [C]=192.168.77.3)
declare -A POOL NID GW EID IP MAC SRC
PA=/weft/v1/fabric/${HADDR[A]}/10.77.0.0_24 PB=/weft/v1/fabric/${HADDR[B]}/10.77.0.0_24
HIJACK_MAC=02:de:ad:00:00:0b

command -v openssl >/dev/null || { echo "skipped: openssl is not installed"; exit 0; }
# C keeps exactly A's entry for cA's address.
a_wins() {
    grep -i "^${MAC[A]} dev wvx[0-9]* dst ${HADDR[A]} " <<<"$(fdb_of C)" >/dev/null &&
        grep -i "^${IP[A]%/*} dev wvx[0-9]* lladdr ${MAC[A]} " <<<"$(neigh_of C)" >/dev/null &&
        lacks_mac C "$HIJACK_MAC"
}
# as_b ETCDCTL_ARGS...: etcdctl with B's credentials, as an attacker on B would have them.
as_b() {
    sim_ns_exec B env ETCDCTL_API=3 ETCDCTL_USER="weft-host-${HADDR[B]}:$(cat "$SIM_DIR/B/store.password")" \
        etcdctl --endpoints "https://$SIM_ETCD_IP:2379" --cacert "$SIM_DIR/pki/ca.pem" \
        --cert "$SIM_DIR/pki/client.pem" --key "$SIM_DIR/pki/client.key" "$@"
}
denied() { # DESCRIPTION ETCDCTL_ARGS...: B's credentials must be refused with permission denied
    local desc=$1 out
    shift
    if out=$(as_b "$@" 2>&1 </dev/null); then fail "$desc: allowed ($out)"; fi
    grep -q "permission denied" <<<"$out" || fail "$desc: refused, but not for permission: $out"
    echo "ok   $desc: $out"
}

sim_init
sim_switch
for h in "${HOSTS[@]}"; do sim_host "$h" "${HADDR[$h]}"; done
sim_etcd_secure
for h in "${HOSTS[@]}"; do sim_weft "$h"; done
for h in "${HOSTS[@]}"; do create_network "$h"; done
for h in "${HOSTS[@]}"; do create_endpoint "$h"; done
wait_for 10 pings C A || fail "cC cannot ping cA"
wait_for 10 pings C B || fail "cC cannot ping cB"
check "C holds A's entry" a_wins

# ---- B's credentials against A's records ----
hijack=$(peer_json "${IP[A]%/*}" "$HIJACK_MAC" "${HADDR[B]}")
denied "B overwrites A's peer record" put "$PA/peers/${IP[A]%/*}" "$hijack"
denied "B deletes A's membership" del "$PA/member"
denied "B writes A's liveness" put "/weft/v1/hosts/${HADDR[A]}/alive" '{"vtep":"192.168.77.2"}'
denied "B deletes A's endpoint records" del --prefix "/weft/v1/hosts/${HADDR[A]}/endpoints/"
check "B's own prefix is writable by B" as_b put "$PB/peers/${IP[A]%/*}" "$hijack"
wait_for 5 grep -qF "loser=${HADDR[B]}" "$SIM_DIR/C/weft.log" || fail "C did not log B's claim as the loser"
check "C keeps A's entry, never B's claim" a_wins
check "cC pings cA" pings C A
check "cA pings cC" pings A C
check "A's kernel never took B's claim" lacks_mac A "$HIJACK_MAC"
for h in "${HOSTS[@]}"; do check "$h is alive" weft_alive "$h"; done
echo "ok   B's credentials cannot touch A's records; B's own claim of cA's address loses"

# ---- B claims free addresses first, hoping IPAM hands them to A's next containers ----
# Under "the older claim wins", a claim made while an address is free would beat the
# endpoint it is later allocated to; so an address is claimed in the fabric when IPAM
# allocates it, and refused if another host's older claim exists.
# Two addresses no endpoint of this run holds (theirs are random).
unused() { local a; for a in $(seq "$1" 254); do [[ " ${IP[*]%/*} " == *" 10.77.0.$a/"* || " ${IP[*]} " == *" 10.77.0.$a/"* ]] || { echo "10.77.0.$a"; return; }; done; }
PRE=$(unused 200) LATE=$(unused 210)
check "B claims free $PRE (no MAC, as at allocation)" as_b put "$PB/peers/$PRE" "{\"ip\":\"$PRE\",\"vtep\":\"${HADDR[B]}\"}"
pre_seen() { grep -qF "\"ip\":\"$PRE\"" <<<"$(sim_etcdctl get "$PB/peers/$PRE")"; }
wait_for 5 pre_seen || fail "B's claim of $PRE is not in the store"
if out=$(sim_plugin_call A IpamDriver.RequestAddress "{\"PoolID\":\"${POOL[A]}\",\"Address\":\"$PRE\",\"Options\":null}"); then
    fail "A was given $PRE, which B claimed first: $out"
fi
grep -qF "address $PRE of $SUBNET is claimed by host ${HADDR[B]}, whose claim is older" <<<"$out" ||
    fail "A's refusal of $PRE does not name B's claim: $out"
[ -z "$(sim_etcdctl get --keys-only "/weft/v1/addrs/10.77.0.0_24/$PRE")" ] || fail "A's refused request left $PRE allocated"
[ -z "$(sim_etcdctl get --keys-only "$PA/peers/$PRE")" ] || fail "A's refused request left its claim of $PRE"
echo "ok   A refuses $PRE, claimed earlier by B: $out"
# An address A gets is claimed at once: B's claim, made after, is younger and loses.
out=$(call A IpamDriver.RequestAddress "{\"PoolID\":\"${POOL[A]}\",\"Address\":\"$LATE\",\"Options\":null}")
grep -qF "\"ip\":\"$LATE\"" <<<"$(sim_etcdctl get "$PA/peers/$LATE")" || fail "A's claim of $LATE is not under A's prefix"
check "B claims $LATE after A" as_b put "$PB/peers/$LATE" "$(peer_json "$LATE" "$HIJACK_MAC" "${HADDR[B]}")"
late_lost() { grep -F "ip=$LATE winner=${HADDR[A]} loser=${HADDR[B]}" "$SIM_DIR/C/weft.log" >/dev/null; }
wait_for 5 late_lost || fail "C did not rank A's claim of $LATE (made at allocation) over B's"
check "C never programs B's claim of $LATE" lacks_mac C "$HIJACK_MAC"
call A IpamDriver.ReleaseAddress "{\"PoolID\":\"${POOL[A]}\",\"Address\":\"$LATE\"}" >/dev/null
[ -z "$(sim_etcdctl get --keys-only "$PA/peers/$LATE")" ] || fail "A's claim of $LATE outlived its release"
check "B withdraws its claims" as_b del "$PB/peers/$PRE"
check "B withdraws its claims" as_b del "$PB/peers/$LATE"
for h in "${HOSTS[@]}"; do check "$h is alive" weft_alive "$h"; done
echo "ok   an address is A's from its allocation: B's earlier claim refuses it to A, B's later claim loses"

# ---- the administrator revokes B ----
out=$(sim_ns_exec etcd "$bin" revoke "${HADDR[B]}" $(sim_admin_store_flags) 2>&1) ||
    fail "weft revoke B: $out"
echo "ok   weft revoke B: $(tr '\n' ' ' <<<"$out")"
# weft's entries for cB: the VXLAN device's own FDB entry (with a dst) and the
# neighbour; the bridge's learned entry for cB's MAC (no dst) ages out by itself.
dropped() {
    ! grep -i "^${MAC[B]} dev wvx[0-9]* dst " <<<"$(fdb_of "$1")" >/dev/null &&
        ! grep -i "lladdr ${MAC[B]} " <<<"$(neigh_of "$1")" >/dev/null
}
for h in A C; do
    wait_for 5 dropped "$h" || fail "$h kept cB's entries after B was revoked: kernel:
$(fdb_of "$h")
$(neigh_of "$h")
B's keys left: $(sim_etcdctl get --prefix --keys-only "/weft/v1/fabric/${HADDR[B]}/" | tr '\n' ' ')"
done
if out=$(as_b get --prefix --keys-only /weft/v1/ 2>&1 </dev/null); then
    fail "B's credentials still read the store after revoke: $out"
fi
grep -q "authentication failed" <<<"$out" || fail "B's credentials after revoke: $out"
echo "ok   B's credentials after revoke: authentication failed"
check "cC still pings cA" pings C A
# B's daemon finds out at its next store call (lease keepalive, within the TTL's third).
refused() { grep -qE 'authentication failed|wrong password or no such user|permission denied|invalid auth token' "$SIM_DIR/B/weft.log"; }
wait_for 20 refused || fail "B's daemon did not log that the store refuses it: $(tail -n 5 "$SIM_DIR/B/weft.log")"
check "B's daemon is still up" weft_alive B
check "cB's interface is still there on B (the data plane stays)" sim_ns_exec cB ip link show eth0
echo "ok   revoked: B's records gone from A and C, B's daemon up and told"

for h in "${HOSTS[@]}"; do sim_weft_stop "$h" || fail "$h needed SIGKILL to stop"; done
for h in "${HOSTS[@]}"; do
    ! grep -qE 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error' "$SIM_DIR/$h/weft.log" ||
        fail "sanitizer report on $h"
done
echo "PASS secure_hijack"
