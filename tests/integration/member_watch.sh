#!/usr/bin/env bash
# member_watch.sh: per-member watches (--store-watch grpc, issue 14 part 4). Three hosts
# whose daemons (under ASan/UBSan) watch only the records of their overlays' members:
# overlay Y on A and B, overlay X on A and C. Proves:
#  - X works across hosts (C and A program each other's endpoint, ping; an endpoint's
#    removal is withdrawn), and so does Y between A and B;
#  - C receives no event of Y: its weft_watch_events_total stands still while endpoints
#    of Y come and go on B (A's moves);
#  - C joining Y later picks up Y's entries (A's and B's endpoints, a ping);
#  - claims: a member's (B's) claim made first refuses C the address; a claim made
#    first by a host in no joined/ (a forged one) does not, and once that host joins,
#    the hosts that hear it join never read it (a new member's records are watched from
#    its joined/ entry's revision), and a host that lists it (restarted) ignores it
#    (older than its member record);
#  - no daemon died, no sanitizer report.
set -euo pipefail
. "$(dirname "$0")/../lib/sim.sh"
. "$(dirname "$0")/../lib/plugin.sh"

export WEFT_BIN=${WEFT_BIN:-build/weft-san}
X=10.77.0.0/24 Y=10.78.0.0/24 PY=/weft/v1/fabric/%s/10.78.0.0_24
FORGER=192.168.77.9
declare -A HADDR=([A]=192.168.77.1 [B]=192.168.77.2 [C]=192.168.77.3)
declare -A POOL NID GW EID IP MAC SRC SAVED

# One host has networks on both overlays, and plugin.sh keeps one per host: save and
# use switch the host's network, endpoint, SUBNET and container prefix (CTR).
save() { # HOST x|y
    local h=$1 t=$2
    SAVED[pool.$h.$t]=${POOL[$h]} SAVED[nid.$h.$t]=${NID[$h]} SAVED[eid.$h.$t]=${EID[$h]:-}
    SAVED[ip.$h.$t]=${IP[$h]:-} SAVED[mac.$h.$t]=${MAC[$h]:-} SAVED[src.$h.$t]=${SRC[$h]:-}
}
use() { # HOST x|y
    local h=$1 t=$2
    POOL[$h]=${SAVED[pool.$h.$t]} NID[$h]=${SAVED[nid.$h.$t]} EID[$h]=${SAVED[eid.$h.$t]}
    IP[$h]=${SAVED[ip.$h.$t]} MAC[$h]=${SAVED[mac.$h.$t]} SRC[$h]=${SAVED[src.$h.$t]}
    overlay "$t"
}
overlay() { CTR=c$1; if [ "$1" = x ]; then SUBNET=$X; else SUBNET=$Y; fi; } # x|y
events() { # HOST: the watch events its daemon has received (weft_watch_events_total)
    sim_ns_exec "$1" curl -sS -f -m 10 http://127.0.0.1:9776/metrics |
        awk '$1 ~ /^weft_watch_events_total/ {n += $2} END {print n + 0}'
}
put() { printf '%s' "$2" | sim_etcdctl put "$1" >/dev/null; }
request_address() { # HOST IP: RequestAddress of that address on HOST's network
    sim_plugin_call "$1" IpamDriver.RequestAddress \
        "{\"PoolID\":\"${POOL[$1]}\",\"Address\":\"$2\",\"Options\":null}"
}

sim_init
sim_switch
for h in A B C; do sim_host "$h" "${HADDR[$h]}"; done
sim_etcd
for h in A B C; do sim_weft "$h" --store-watch grpc --metrics 127.0.0.1:9776; done
grep 'watching the fabric per member' "$SIM_DIR/C/weft.log" >/dev/null ||
    fail "C's daemon did not say it watches per member"

overlay y
for h in A B; do create_network "$h"; done
for h in A B; do create_endpoint "$h" && save "$h" y; done
overlay x
for h in A C; do create_network "$h"; done
for h in A C; do create_endpoint "$h" && save "$h" x; done
wait_for 10 has_peer C A || fail "C did not program A's endpoint of X"
wait_for 10 has_peer A C || fail "A did not program C's endpoint of X"
wait_for 5 pings C A || fail "cxC cannot ping cxA"
use A y
use B y
wait_for 10 has_peer B A || fail "B did not program A's endpoint of Y"
wait_for 10 has_peer A B || fail "A did not program B's endpoint of Y"
wait_for 5 pings B A || fail "cyB cannot ping cyA"
echo "ok   X works between A and C, Y between A and B, each host watching its members only"

# Y's endpoints come and go on B: A hears them, C nothing.
c0=$(events C) a0=$(events A)
for i in 1 2 3; do
    remove_endpoint B
    wait_for 10 lacks_peer A B || fail "A kept B's endpoint of Y after it went"
    create_endpoint B >/dev/null
    wait_for 10 has_peer A B || fail "A did not program B's new endpoint of Y"
done
save B y
c1=$(events C) a1=$(events A)
[ "$c1" = "$c0" ] || fail "C received $((c1 - c0)) watch events of Y, an overlay it is not in"
[ "$a1" -ge $((a0 + 6)) ] || fail "A received $((a1 - a0)) events of Y's 6 changes"
echo "ok   C received no event of Y while it changed 6 times (A received $((a1 - a0)))"

use C x
use A x
remove_endpoint C
wait_for 10 lacks_peer A C || fail "A kept C's endpoint of X after it went"
echo "ok   C's endpoint of X removed: A withdrew it"

# C joins Y: Y's entries arrive.
overlay y
create_network C
create_endpoint C
save C y
use A y
wait_for 10 has_peer C A || fail "C did not program A's endpoint of Y after joining Y"
wait_for 10 has_peer C B || fail "C did not program B's endpoint of Y after joining Y"
wait_for 10 has_peer B C || fail "B did not program C's endpoint of Y"
wait_for 5 pings C B || fail "cyC cannot ping cyB"
echo "ok   C joined Y and picked up its entries (A's and B's endpoints; cyC pings cyB)"

# Claims on Y, made from C: B's (a member's) claim made first holds its address; the
# forger's (in no joined/) does not, and counts for nothing once it joins. Two addresses
# no endpoint holds (theirs are random: a fixed .200 was A's once in a while).
free_y=()
for i in $(seq 200 250); do
    sim_etcdctl get --keys-only "/weft/v1/addrs/10.78.0.0_24/10.78.0.$i" | grep -q . || free_y+=("10.78.0.$i")
    [ "${#free_y[@]}" -lt 2 ] || break
done
BCLAIM=${free_y[0]} FCLAIM=${free_y[1]}
put "$(printf "$PY" "${HADDR[B]}")/peers/$BCLAIM" "{\"ip\":\"$BCLAIM\",\"vtep\":\"192.168.77.2\"}"
put "$(printf "$PY" "$FORGER")/peers/$FCLAIM" "{\"ip\":\"$FCLAIM\",\"vtep\":\"$FORGER\"}"
if out=$(request_address C "$BCLAIM"); then fail "C was given $BCLAIM, claimed first by B: $out"; fi
grep 'claimed by host 192.168.77.2' <<<"$out" >/dev/null || fail "refusal of $BCLAIM names no holder: $out"
out=$(request_address C "$FCLAIM") || fail "C was refused $FCLAIM, claimed only by a non-member: $out"
put "$(printf "$PY" "$FORGER")/member" "{\"vtep\":\"$FORGER\"}"
put "/weft/v1/joined/10.78.0.0_24/$FORGER" "{\"vtep\":\"$FORGER\"}"
# A, B and C hear the forger join live and watch its records from its joined/ entry's
# revision (a daemon writes its member record and joined/ entry in one transaction and
# everything else after): the older claim is not even read. A daemon that lists the
# forger's records (A, restarted) reads it and ignores it.
sleep 1
for h in A B C; do
    ! grep -q "peers/$FCLAIM" "$SIM_DIR/$h/weft.log" ||
        fail "$h read the forger's claim made before it joined, which its watch starts after"
done
sim_weft_stop A || fail "the daemon on A needed SIGKILL to stop"
! grep -qE 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error' "$SIM_DIR/A/weft.log" ||
    fail "sanitizer report on A"
sim_weft A --store-watch grpc --metrics 127.0.0.1:9776
wait_for 10 grep "peers/$FCLAIM.*claim older than its host" "$SIM_DIR/A/weft.log" \
    >/dev/null || fail "A, restarted, did not ignore the forger's claim made before it joined"
echo "ok   a member's claim made first refused C the address; a non-member's did not, was not read by the hosts that heard it join, and was ignored by one that listed it"

for h in A B C; do
    kill -0 "$(sim_weft_pid "$h")" || fail "the daemon on $h died"
    sim_weft_stop "$h" || fail "the daemon on $h needed SIGKILL to stop"
    ! grep -qE 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error' "$SIM_DIR/$h/weft.log" ||
        fail "sanitizer report on $h"
done
echo "ok   every daemon stopped cleanly, no sanitizer report"
