#!/usr/bin/env bash
# status.sh: `weft status` (issue 13) on two simulated hosts, no Docker. A and B
# each have an endpoint on one overlay; A's daemon then says, over its root-only
# control socket, what it knows: the overlay, its VNI, A's endpoint, B as a member
# with its endpoint programmed (exit 0). Host C (lease TTL 3 s) joins with an
# endpoint and is killed: once its records expire A lists it dead, since the
# moment they went (before that, every host names the same reaper, the one host that
# reclaims dead hosts' addresses; after, not C); B leaves the overlay and stays alive: listed alive, on no
# overlay of A's. With etcd gone it is degraded (exit 1, a line naming the store);
# with the daemon gone, unreachable (exit 2).
set -euo pipefail
. "$(dirname "$0")/../lib/sim.sh"
. "$(dirname "$0")/../lib/plugin.sh"

export WEFT_BIN=${WEFT_BIN:-build/weft-san}
weft=$SIM_REPO/build/weft
SUBNET=10.79.0.0/24
declare -A HADDR=([A]=192.168.77.1 [B]=192.168.77.2 [C]=192.168.77.3)
declare -A POOL NID GW EID IP MAC SRC

sim_init
sim_switch
for h in A B C; do sim_host "$h" "${HADDR[$h]}"; done
sim_etcd
# A's control socket in a directory it must make (sim_weft's is in the host's dir).
sim_weft A --control-socket "$SIM_DIR/A/run/control.sock"
sim_weft B
sim_weft C --lease-ttl 3
for h in A B C; do create_network "$h"; done
for h in A B C; do create_endpoint "$h"; done

status() { # HOST ARGS...: weft status against HOST's daemon; sets rc, out, err
    local h=$1
    shift
    set +e
    out=$("$weft" status --control-socket "$SIM_DIR/$h/run/control.sock" "$@" 2>"$SIM_DIR/status.err")
    rc=$?
    set -e
    err=$(cat "$SIM_DIR/status.err")
}
b_programmed() {
    status A --json
    [ "$rc" = 0 ] && jq -e --arg ip "${IP[B]%/*}" --arg host "${HADDR[B]}" \
        '.overlays[0].remote_endpoints[] | select(.ip == $ip and .host == $host and .programmed)' \
        <<<"$out" >/dev/null
}

sock=$SIM_DIR/A/run/control.sock
[ "$(stat -c %a "$sock")" = 600 ] || fail "control socket mode $(stat -c %a "$sock"), want 600"
[ "$(stat -c %a "$SIM_DIR/A/plugins/weft.sock")" = 660 ] || fail "the plugin socket's mode changed"
[ "$(ls "$SIM_DIR/A/plugins")" = weft.sock ] || fail "Docker's plugin directory holds more than weft.sock"
echo "ok   control socket mode 0600, outside Docker's plugin directory"

wait_for 5 b_programmed || fail "A's status never showed B's endpoint programmed (rc $rc): $out $err"
vni=$(sim_ns_exec A ip -d link show type vxlan | sed -n 's/.*vxlan id \([0-9]*\) .*/\1/p' | head -n 1)
jq -e --arg s "$SUBNET" --argjson vni "$vni" --arg eid "${EID[A]}" --arg ip "${IP[A]}" \
    --arg b "${HADDR[B]}" --arg nid "${NID[A]}" '
    .health.status == "healthy" and .host == "192.168.77.1" and .store.reachable and
    (.libraries | startswith("libcurl/")) and
    .store.watch.streaming and .store.lease_ttl_seconds > 0 and (.uptime_seconds >= 0) and
    (.overlays | length == 1) and .overlays[0].subnets[0] == $s and .overlays[0].vni == $vni and
    .overlays[0].network == $nid and (.overlays[0].members | index($b)) and
    (.overlays[0].endpoints[] | select(.id == $eid and .ip == $ip)) and
    (.hosts[] | select(.host == $b and .alive))' <<<"$out" >/dev/null ||
    fail "weft status --json on A lacks what it should say: $out"
echo "ok   --json names the overlay ($SUBNET, VNI $vni), A's endpoint, B as member with its endpoint programmed"

status A
[ "$rc" = 0 ] || fail "weft status exited $rc: $err"
for word in "store" "overlays" "$SUBNET" "vni $vni" "${IP[A]}" "${IP[B]%/*}" "programmed" "hosts" "healthy" \
    "built with libcurl/" " libmicrohttpd/" " ldns/" " libsodium/"; do
    grep -qF -- "$word" <<<"$out" || fail "weft status does not show \"$word\": $out"
done
echo "ok   weft status for people:"
sed 's/^/       /' <<<"$out"

status A hosts --json
[ "$rc" = 0 ] && jq -e 'has("hosts") and (has("overlays") | not)' <<<"$out" >/dev/null ||
    fail "weft status hosts --json is not the hosts section: $out"
status A endpoints
[ "$rc" = 0 ] && grep -qF "${IP[A]}" <<<"$out" && ! grep -q '^store' <<<"$out" ||
    fail "weft status endpoints: $out"
status A frobs
[ "$rc" = 2 ] || fail "weft status frobs exited $rc"
echo "ok   hosts, endpoints narrow it; an unknown section is refused"

host_is() { # HOST JQ-CONDITION: A's status lists HOST so
    status A hosts --json
    [ "$rc" = 0 ] && jq -e --arg h "${HADDR[$1]}" ".hosts[] | select(.host == \$h) | $2" \
        <<<"$out" >/dev/null
}
wait_for 5 host_is C '.alive and .overlays == 1 and .endpoints == 1' ||
    fail "A does not list C alive with its overlay and endpoint: $out"
reaper_of() { # HOST: the reaper its status names ("none")
    local sock=$SIM_DIR/$1/control.sock o
    [ "$1" != A ] || sock=$SIM_DIR/A/run/control.sock
    o=$("$weft" status hosts --json --control-socket "$sock" 2>/dev/null) && jq -r '.reaper // "none"' <<<"$o"
}
one_reaper() { # every host's status names the same one of A, B, C
    REAPER=$(reaper_of A) && [[ " ${HADDR[*]} " == *" $REAPER "* ]] &&
        [ "$(reaper_of B)" = "$REAPER" ] && [ "$(reaper_of C)" = "$REAPER" ]
}
wait_for 15 one_reaper || fail "the hosts' status does not name one reaper: A $(reaper_of A), B $(reaper_of B), C $(reaper_of C)"
status A hosts
grep -qF "dead hosts' addresses reclaimed by $REAPER" <<<"$out" || fail "weft status hosts does not name the reaper: $out"
echo "ok   every host's status names $REAPER as the one that reclaims dead hosts' addresses"
killed=$(date +%s)
sim_weft_kill C
wait_for 15 host_is C '.alive == false' || fail "C killed, A still does not list it dead: $out"
listed=$(date +%s)
host_is C ".overlays == 0 and .endpoints == 0 and .since >= $killed and .since <= $listed and
    .for_seconds <= $listed - $killed + 1" || fail "C dead, but not since its records went: $out"
since=$(jq -r --arg h "${HADDR[C]}" '.hosts[] | select(.host == $h) | .since' <<<"$out")
status A hosts
grep -qE "^  ${HADDR[C]} +dead +[0-9]+s +gone" <<<"$out" || fail "weft status hosts on C: $out"
echo "ok   C killed at $killed (Unix time): A lists it dead since $since (its records gone with its 3 s lease)"
[ "$(reaper_of A)" != "${HADDR[C]}" ] || fail "dead C is still named the reaper"

remove_endpoint B
call B NetworkDriver.DeleteNetwork "{\"NetworkID\":\"${NID[B]}\"}" >/dev/null
wait_for 5 host_is B '.alive and .overlays == 0 and .endpoints == 0' ||
    fail "B left the overlay, A does not list it alive on no overlay: $out"
status A hosts
grep -qE "^  ${HADDR[B]} +alive +[0-9]+s +on no overlay of ours" <<<"$out" ||
    fail "weft status hosts on B: $out"
echo "ok   B left the overlay: A lists it alive, on no overlay of A's:"
sed 's/^/       /' <<<"$out"

sim_etcd_stop
status A
[ "$rc" = 1 ] || fail "with etcd stopped weft status exited $rc, want 1: $err"
[ "$(grep -c . <<<"$err")" = 1 ] && grep -q "store ($(sim_etcd_hostport))" <<<"$err" ||
    fail "degraded, but the line does not name the store: $err"
echo "ok   etcd stopped: exit 1, \"$err\""

sim_weft_stop A || true
status A
[ "$rc" = 2 ] || fail "with the daemon stopped weft status exited $rc, want 2: $err"
[ "$(grep -c . <<<"$err")" = 1 ] && grep -q "does not answer" <<<"$err" ||
    fail "unreachable, but the line does not say so: $err"
echo "ok   daemon stopped: exit 2, \"$err\""
[ ! -e "$sock" ] || fail "the control socket outlived its daemon"

if grep -qE 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error' "$SIM_DIR/A/weft.log"; then
    grep -A 30 -E 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error' "$SIM_DIR/A/weft.log" >&2
    fail "sanitizer report in weft log on A"
fi
echo "ok   no sanitizer report"
