#!/usr/bin/env bash
# hostile_records.sh: records written into etcd by hand, as someone with access to
# the store could, while two hosts run (daemons under ASan/UBSan, Docker's side of
# the plugin protocol by hand). Proves:
#  - a peer with a multicast VTEP, a peer outside the overlay's subnet, a peer whose
#    key and body disagree, a peer with a multicast MAC, a member whose body is not
#    JSON, keys weft never writes, a peer under A's prefix naming B's VTEP (records
#    are believed only from their owner's prefix, fabric/<host>/): none reaches
#    either kernel (watched with
#    `ip monitor` / `bridge monitor` the whole time, and looked at after); each is
#    logged once by each host that reads it, also when the store is listed again;
#  - a valid peer of a host that is not a member is programmed only once its member
#    record arrives (through the gateway; per member, only a peer written after it),
#    and withdrawn with it;
#  - a host is the authority for its own records (those under its prefix): a forged
#    peer record for its container's address, its peer record deleted, its member
#    record replaced are each logged and written back, and the forged MAC never
#    reaches its kernel;
#  - two hosts holding one address each publish their claim under their own prefix:
#    no write war, each logs the other's claim, neither programs it;
#  - pings between the containers keep passing, the daemons stay up, and all of the
#    above holds again after a restart with the bad records still in the store
#    (and, written while it was down, a forged peer record of its own and a forged
#    hosts/<host>/endpoints record naming the underlay's eth0, which it refuses).
# A follows the store through the JSON gateway's one watch of fabric/ (--store-watch
# gateway), B per member (the default): each check holds for both.
set -euo pipefail
. "$(dirname "$0")/../lib/sim.sh"
. "$(dirname "$0")/../lib/plugin.sh"

export WEFT_BIN=${WEFT_BIN:-build/weft-san}
SUBNET=10.77.0.0/24
HOSTS=(A B)
declare -A WATCH=([A]=gateway [B]=grpc)
declare -A HADDR=([A]=192.168.77.1 [B]=192.168.77.2)
PA=/weft/v1/fabric/${HADDR[A]}/10.77.0.0_24 PB=/weft/v1/fabric/${HADDR[B]}/10.77.0.0_24
declare -A PREFIX=([A]=$PA [B]=$PB)
declare -A POOL NID GW EID IP MAC SRC
FORGED_MAC=02:de:ad:be:ef:01
OUTSIDER=192.168.77.8 # a VTEP no host has: member only when the test says so
PO=/weft/v1/fabric/$OUTSIDER/10.77.0.0_24

sanitizer_clean() {
    ! grep -qE 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error|^==[0-9]+== ' "$SIM_DIR/$1/weft.log"
}
alive() { kill -0 "$(sim_weft_pid "$1")" 2>/dev/null; }
other() { [ "$1" = A ] && echo B || echo A; }

# Kernel state of HOST that is anything but the other host's endpoint and flooding
# entry: prints the offending lines (none: clean).
bad_kernel_state() {
    local h=$1 o
    o=$(other "$h")
    sim_ns_exec "$h" bridge fdb show | grep ' dev wvx.* dst ' |
        grep -viE "^(${MAC[$o]}|00:00:00:00:00:00) dev wvx[0-9]+ dst ${HADDR[$o]} " || true
    sim_ns_exec "$h" ip neigh show | grep ' dev wvx' |
        grep -viE "^${IP[$o]%/*} dev wvx[0-9]+ lladdr ${MAC[$o]} " || true
}
kernel_clean() { [ -z "$(bad_kernel_state "$1")" ]; }

start_monitors() { # HOST: kernel FDB and neighbour events, until the test ends
    sim_spawn "$SIM_DIR/$1/monitor.log" nsenter --net="/run/netns/$(sim_ns "$1")" ip monitor neigh
    echo "$SIM_LAST_PID" >>"$SIM_DIR/monitor.pids"
    sim_spawn "$SIM_DIR/$1/monitor.log" nsenter --net="/run/netns/$(sim_ns "$1")" bridge monitor fdb
    echo "$SIM_LAST_PID" >>"$SIM_DIR/monitor.pids"
}
stop_monitors() {
    local pid
    while read -r pid; do sim_stop_pid "$pid" 2 || true; done <"$SIM_DIR/monitor.pids"
    rm -f "$SIM_DIR/monitor.pids"
}
monitors_clean() {
    local h bad=0
    for h in "${HOSTS[@]}"; do
        if grep -E "$BAD_PATTERN" "$SIM_DIR/$h/monitor.log" >&2; then bad=1; fi
    done
    [ "$bad" = 0 ]
}

put() { printf '%s' "$2" | sim_etcdctl put "$1" >/dev/null; }
value_of() { sim_etcdctl get --print-value-only "$1"; }
own_peer_back() { # HOST: its container's peer record is its own again
    local v
    v=$(value_of "${PREFIX[$1]}/peers/${IP[$1]%/*}")
    grep -q "\"vtep\":\"${HADDR[$1]}\"" <<<"$v" && grep -qi "\"mac\":\"${MAC[$1]}\"" <<<"$v"
}
own_member_back() { [ "$(value_of "${PREFIX[$1]}/member")" = "{\"vtep\":\"${HADDR[$1]}\"}" ]; }

# Which records HOST reads: all of fabric/ through the gateway watch; with per-member
# watches (--store-watch grpc, the default) only the prefixes of its overlays' members
# (joined/<sk>/): A's and B's here, so the member record of a host that never joined and
# a key outside any host's prefix are never read, and never refused.
per_member() { grep -q 'msg="watching the fabric per member"' "$SIM_DIR/$1/weft.log"; }
reads() { ! per_member "$1" || [[ "$2" == "$PA/"* || "$2" == "$PB/"* ]]; } # HOST KEY
bad_read_by() { # HOST: how many of the bad records it reads
    local key n=0
    while IFS=$'\t' read -r key _; do if reads "$1" "$key"; then n=$((n + 1)); fi; done <<<"$BAD_RECORDS"
    echo "$n"
}
# Each bad key HOST reads is logged exactly once by it since log line FROM.
logged_once() { # HOST FROM
    local key n want
    while IFS=$'\t' read -r key _; do
        want=0
        if reads "$1" "$key"; then want=1; fi
        n=$(tail -n +"$2" "$SIM_DIR/$1/weft.log" | grep -cF "msg=\"ignoring fabric record\" key=\"$key\"" || true)
        [ "$n" = "$want" ] || { echo "$1 logged $key $n times, want $want" >&2; return 1; }
    done <<<"$BAD_RECORDS"
}
log_lines() { wc -l <"$SIM_DIR/$1/weft.log"; }
all_ping() { pings A B && pings B A; }

sim_init
sim_switch
for h in "${HOSTS[@]}"; do sim_host "$h" "${HADDR[$h]}"; done
sim_etcd
for h in "${HOSTS[@]}"; do sim_weft "$h" --store-watch "${WATCH[$h]}"; done
for h in "${HOSTS[@]}"; do create_network "$h"; done
for h in "${HOSTS[@]}"; do create_endpoint "$h"; done
wait_for 5 all_ping || fail "the containers do not ping each other"
for h in "${HOSTS[@]}"; do check "$h's kernel holds only the other host's entries" kernel_clean "$h"; done
# Addresses for the hand-written records: seven the containers did not get.
FREE=()
for i in $(seq 100 110); do
    [ "10.77.0.$i" = "${IP[A]%/*}" ] || [ "10.77.0.$i" = "${IP[B]%/*}" ] || FREE+=("10.77.0.$i")
done
MCAST_VTEP=${FREE[0]} MISMATCH=${FREE[1]} MISMATCH_BODY=${FREE[2]} MCAST_MAC=${FREE[3]} WAITING=${FREE[4]}
FOREIGN=${FREE[6]}
# The bad records: key <TAB> value. Each must be refused by both hosts (those under
# B's prefix by B too: its own prefix holds them, but they are no record B wrote).
BAD_RECORDS=$(
    printf '%s\t%s\n' "$PB/peers/$MCAST_VTEP" "$(peer_json "$MCAST_VTEP" 02:42:0a:4d:00:64 224.0.0.1)"
    printf '%s\t%s\n' "$PB/peers/10.99.0.5" "$(peer_json 10.99.0.5 02:42:0a:63:00:05 "${HADDR[B]}")"
    printf '%s\t%s\n' "$PB/peers/$MISMATCH" "$(peer_json "$MISMATCH_BODY" 02:42:0a:4d:00:66 "${HADDR[B]}")"
    printf '%s\t%s\n' "$PB/peers/$MCAST_MAC" "$(peer_json "$MCAST_MAC" 01:00:5e:00:00:01 "${HADDR[B]}")"
    printf '%s\t%s\n' "/weft/v1/fabric/192.168.77.9/10.77.0.0_24/member" "not json"
    printf '%s\t%s\n' "$PB/bogus/x" "hello"
    printf '%s\t%s\n' "/weft/v1/fabric/nonsense" "x"
    printf '%s\t%s\n' "$PA/peers/$FOREIGN" "$(peer_json "$FOREIGN" 02:42:0a:4d:00:6a "${HADDR[B]}")"
)
# Everything the bad records could have put into a kernel, as a monitor prints it.
ADDRS="$MCAST_VTEP|$MISMATCH|$MISMATCH_BODY|$MCAST_MAC|$FOREIGN"
BAD_PATTERN="dst 224\.|dst 192\.168\.77\.9|10\.99\.0\.5|(${ADDRS//./\\.}) |$FORGED_MAC|02:de:ad:00:00:99|01:00:5e:00:00:01 dev wvx"
for h in "${HOSTS[@]}"; do start_monitors "$h"; done
declare -A FROM
for h in "${HOSTS[@]}"; do FROM[$h]=$(log_lines "$h"); done

# ---- records that must be refused, and this host's own records tampered with ----
while IFS=$'\t' read -r key value; do put "$key" "$value"; done <<<"$BAD_RECORDS"
put "$PO/peers/$WAITING" "$(peer_json "$WAITING" 02:42:0a:4d:00:68 "$OUTSIDER")"
# A's record redirected to B (B refuses it: it names B under A's prefix), B's
# member record broken (A refuses it); each owner writes its own back.
put "$PA/peers/${IP[A]%/*}" "$(peer_json "${IP[A]%/*}" "$FORGED_MAC" "${HADDR[B]}")"
put "$PB/member" '{"vtep":"224.0.0.1"}'
wait_for 5 own_peer_back A || fail "A did not write back its forged peer record: $(value_of "$PA/peers/${IP[A]%/*}")"
wait_for 5 own_member_back B || fail "B did not write back its member record: $(value_of "$PB/member")"
grep -q 'msg="record of this host replaced in the store; writing it back"' "$SIM_DIR/A/weft.log" ||
    fail "A did not log the conflict"
echo "ok   A rewrote its forged peer record and B its replaced member record, each logging the conflict"
check "cA and cB ping each other" all_ping
for h in "${HOSTS[@]}"; do
    check "$h is alive" alive "$h"
    check "$h's kernel holds only the other host's entries" kernel_clean "$h"
    check "$h's kernel holds the other host's endpoint" has_peer "$h" "$(other "$h")"
    check "$h logged each refused record once" logged_once "$h" "${FROM[$h]}"
done

# ---- a valid peer waits for its host's member record ----
outsider_programmed() { # HOST
    sim_ns_exec "$1" bridge fdb show | grep -i "^02:42:0a:4d:00:68 dev wvx[0-9]* dst $OUTSIDER " >/dev/null
}
outsider_gone() { ! sim_ns_exec "$1" bridge fdb show | grep -i "dst $OUTSIDER " >/dev/null; }
for h in "${HOSTS[@]}"; do check_not "$h has not programmed a peer of a non-member" outsider_programmed "$h"; done
# As a host joins: its joined/ record (which per-member watches follow), then its member record.
JO=/weft/v1/joined/10.77.0.0_24/$OUTSIDER
put "$JO" "{\"vtep\":\"$OUTSIDER\"}"
sleep 0.5 # a per-member watch has listed the outsider's prefix by now: its peer, no member
for h in "${HOSTS[@]}"; do check_not "$h has not programmed a peer of a host without a member record" outsider_programmed "$h"; done
put "$PO/member" "{\"vtep\":\"$OUTSIDER\"}"
# Through the gateway the waiting peer is programmed now. Per member, a claim older than
# its host's member record is no claim (docs/design.md: a host writes its member record
# before any claim, so an older one was forged before it joined): refused, and a peer
# written after the member record is programmed.
# A per-member host that hears the joined/ record arrive watches the outsider's records
# from its revision (a daemon writes its member record in that transaction, everything
# else after): the older peer is not even read; one that lists them refuses it (the
# restart below, and member_watch.sh). Either way it is not programmed: looked at once
# the member record has reached the kernel (flooding to the outsider).
flooding_to_outsider() { # HOST
    sim_ns_exec "$1" bridge fdb show | grep -i "^00:00:00:00:00:00 dev wvx[0-9]* dst $OUTSIDER " >/dev/null
}
PER_MEMBER_HOSTS=()
for h in "${HOSTS[@]}"; do
    if per_member "$h"; then
        PER_MEMBER_HOSTS+=("$h")
        wait_for 5 flooding_to_outsider "$h" || fail "$h did not take the outsider's member record"
        check_not "$h has not programmed a peer older than its host's member record" outsider_programmed "$h"
    else
        wait_for 5 outsider_programmed "$h" || fail "$h did not program the peer once its host became a member"
    fi
done
if [ "${#PER_MEMBER_HOSTS[@]}" -gt 0 ]; then
    sim_etcdctl del "$PO/peers/$WAITING" >/dev/null
    put "$PO/peers/$WAITING" "$(peer_json "$WAITING" 02:42:0a:4d:00:68 "$OUTSIDER")"
    for h in "${HOSTS[@]}"; do
        wait_for 5 outsider_programmed "$h" || fail "$h did not program a peer written after its host's member record"
    done
fi
echo "ok   a peer that came before its host's member record: programmed when the member arrives (gateway), not programmed and a new one programmed (per member: ${PER_MEMBER_HOSTS[*]:-none})"
sim_etcdctl del "$PO/member" >/dev/null
for h in "${HOSTS[@]}"; do
    wait_for 5 outsider_gone "$h" || fail "$h kept the peer (or flooding) of a host no longer a member"
done
sim_etcdctl del "$PO/peers/$WAITING" >/dev/null
sim_etcdctl del "$JO" >/dev/null
echo "ok   ... and withdrawn when the member record goes"

# ---- this host's own peer record deleted by someone else ----
sim_etcdctl del "$PB/peers/${IP[B]%/*}" >/dev/null
wait_for 5 own_peer_back B || fail "B did not write back its deleted peer record"
grep -q 'msg="record of this host deleted from the store; writing it back"' "$SIM_DIR/B/weft.log" ||
    fail "B did not log the deletion"
echo "ok   B wrote back its deleted peer record"

# ---- two hosts holding one address (a broken allocation): no write war ----
# B gets an endpoint on cA's address without asking IPAM (Docker never does this).
# Each host writes only its own prefix: B publishes its claim beside A's, A's record
# is never touched, each logs the other's claim of its endpoint's address once and
# programs neither; B's leaving deletes only its own claim.
peer_revision() { sim_etcdctl get -w json "$PA/peers/${IP[A]%/*}" | grep -o '"mod_revision":[0-9]*'; }
before=$(peer_revision)
dup_eid=$(sim_random_id)
call B NetworkDriver.CreateEndpoint "{\"NetworkID\":\"${NID[B]}\",\"EndpointID\":\"$dup_eid\",\"Interface\":{\"Address\":\"${IP[A]}\",\"MacAddress\":\"02:42:0a:4d:77:77\"},\"Options\":{}}" >/dev/null
b_claims() { local v; v=$(value_of "$PB/peers/${IP[A]%/*}"); grep -q "\"vtep\":\"${HADDR[B]}\"" <<<"$v"; }
wait_for 5 b_claims || fail "B did not publish its claim under its own prefix"
contested() { # HOST CLAIMANT
    grep -q "msg=\"address of an endpoint on this host claimed by another host; not programmed\" subnet=$SUBNET ip=${IP[A]%/*} vtep=${HADDR[$2]} " "$SIM_DIR/$1/weft.log"
}
wait_for 5 contested B A || fail "B did not report A's claim of its endpoint's address"
wait_for 5 contested A B || fail "A did not report B's claim of its endpoint's address"
sleep 2 # a write war would have rewritten the record by now
[ "$(peer_revision)" = "$before" ] || fail "A's record of the doubly-held address was rewritten"
check "A's kernel never took B's claim of A's address" kernel_clean A
call B NetworkDriver.DeleteEndpoint "{\"NetworkID\":\"${NID[B]}\",\"EndpointID\":\"$dup_eid\"}" >/dev/null
wait_for 5 eval '! b_claims' || fail "B's leaving did not withdraw its claim"
sleep 0.5 # had B deleted A's record, A would have written it back (a new revision) by now
[ "$(peer_revision)" = "$before" ] || fail "B's leaving deleted (or touched) A's record of the address"
wait_for 5 has_peer B A || fail "B did not program cA again once it no longer held cA's address itself"
echo "ok   an address held by two hosts: each keeps its own claim, neither programs the other's"

# ---- a listing repeats the bad records: still logged once ----
synced() { [ "$(grep -c 'msg="fabric in sync"' "$SIM_DIR/$1/weft.log")" -gt "$2" ]; }
declare -A SYNCS
for h in "${HOSTS[@]}"; do SYNCS[$h]=$(grep -c 'msg="fabric in sync"' "$SIM_DIR/$h/weft.log"); done
# An outage long enough for the watch to give up resuming: it lists afresh.
count_of() { grep -c "msg=\"$2\"" "$SIM_DIR/$1/weft.log" || true; }
cut_off() { [ "$(count_of "$1" "store unreachable; keeping the data plane as it is")" -gt 0 ]; }
sim_etcd_stop
for h in "${HOSTS[@]}"; do wait_for 20 cut_off "$h" || fail "$h did not notice the store was gone"; done
sim_etcd_start
for h in "${HOSTS[@]}"; do
    wait_for 20 synced "$h" "${SYNCS[$h]}" || fail "$h did not list the store again after etcd came back"
    check "$h logged each refused record once across the listing" logged_once "$h" "${FROM[$h]}"
done
check "cA and cB ping each other after the listing" all_ping

# ---- a restart lists them all again, and finds its own record forged meanwhile ----
syncs_a=$(grep -c 'msg="fabric in sync"' "$SIM_DIR/A/weft.log")
sim_weft_stop A || fail "A needed SIGKILL to stop"
put "$PA/peers/${IP[A]%/*}" "$(peer_json "${IP[A]%/*}" "$FORGED_MAC" "${HADDR[B]}")"
# A record of A's own, forged to adopt the underlay's eth0 as an endpoint (which
# a later DeleteEndpoint would delete) and publish an address A never got.
FAKE_EID=$(sim_random_id) FAKE_IP=${FREE[5]}
FAKE_KEY=/weft/v1/hosts/${HADDR[A]}/endpoints/$FAKE_EID
put "$FAKE_KEY" "{\"endpoint_id\":\"$FAKE_EID\",\"network_id\":\"${NID[A]}\",\"ip\":\"$FAKE_IP/24\",\"mac\":\"02:de:ad:00:00:99\",\"ifname\":\"eth0\"}"
FROM[A]=$(log_lines A)
sim_weft A --store-watch "${WATCH[A]}"
wait_for 5 own_peer_back A || fail "A did not write back the record forged while it was down"
[ -z "$(value_of "$PA/peers/$FAKE_IP")" ] ||
    fail "A adopted its forged endpoint record: $(value_of "$PA/peers/$FAKE_IP")"
grep -qF "msg=\"skipping damaged endpoint record\" key=\"$FAKE_KEY\"" "$SIM_DIR/A/weft.log" ||
    fail "A did not log its forged endpoint record naming eth0"
echo "ok   restarted A refused an endpoint record of its own that names eth0"
wait_for 10 synced A "$syncs_a" || fail "A did not list the store after its restart"
wait_for 5 all_ping || fail "the containers do not ping each other after A's restart"
for h in "${HOSTS[@]}"; do
    check "$h is alive after A's restart" alive "$h"
    check "$h's kernel holds only the other host's entries after A's restart" kernel_clean "$h"
    check "$h's kernel holds the other host's endpoint after A's restart" has_peer "$h" "$(other "$h")"
done
check "restarted A logged each refused record once" logged_once A "${FROM[A]}"
stop_monitors
check "no bad record reached either kernel at any time (ip/bridge monitor)" monitors_clean
# Counted once each: A, restarted, the bad records it read (all 8 through the gateway,
# the 6 under A's and B's prefixes per member; its first run also refused B's replaced
# member record, which B then wrote back); B those and the two forgeries of A's peer
# record naming B (one before A's restart, one while A was down).
last_count() { grep -o 'rejected=[0-9]*' "$SIM_DIR/$1/weft.log" | tail -n 1; }
declare -A WANT=([A]=$(bad_read_by A) [B]=$(($(bad_read_by B) + 2)))
for h in "${HOSTS[@]}"; do
    [ "$(last_count "$h")" = "rejected=${WANT[$h]}" ] ||
        fail "$h counted $(last_count "$h") refused records, want ${WANT[$h]}"
done
echo "ok   each host counted its refused records once (A ${WANT[A]}, B ${WANT[B]})"
for h in "${HOSTS[@]}"; do sim_weft_stop "$h" || fail "$h needed SIGKILL to stop"; done
for h in "${HOSTS[@]}"; do
    sanitizer_clean "$h" || { grep -A 30 -E 'ERROR|runtime error' "$SIM_DIR/$h/weft.log" >&2; fail "sanitizer report on $h"; }
done
echo "ok   no sanitizer reports"
echo "PASS hostile_records"
