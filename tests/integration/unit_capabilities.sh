#!/usr/bin/env bash
# unit_capabilities.sh: the capabilities dist/weft.service.in bounds weft to are
# enough, and each one the unit explains is needed. No systemd here: the daemon runs
# under setpriv with the unit's CapabilityBoundingSet (read off the unit, so the two
# never drift) and no new privileges, in a simulated host's namespace, with a loopback
# etcd. Proves, with exactly those capabilities: an encrypted overlay (its TAP device,
# /dev/net/tun) and its resolver (a namespace of weft's own entered with setns, UDP
# port 53 bound there) come up; a container reaches the gateway and gets a DNS answer
# from it. Then that without CAP_SYS_ADMIN, or without CAP_NET_BIND_SERVICE, the
# resolver cannot be made (so the unit cannot drop them). And the unit's Type=notify:
# with NOTIFY_SOCKET set, as systemd sets it, weft sends READY=1 once its plugin socket
# is there (checked when the datagram arrives), and STOPPING=1 when told to stop.
set -euo pipefail
. "$(dirname "$0")/../lib/sim.sh"
. "$(dirname "$0")/../lib/plugin.sh"

command -v setpriv >/dev/null || { echo "skipped: no setpriv (util-linux)"; exit 0; }
SUBNET=10.78.0.0/24
declare -A HADDR=([A]=192.168.77.1)
declare -A POOL NID GW EID IP MAC SRC
NET_GENERIC='{"encrypted":""}'

unit_caps=$(sed -n 's/^CapabilityBoundingSet=//p' "$SIM_REPO/dist/weft.service.in")
[ -n "$unit_caps" ] || fail "no CapabilityBoundingSet= in dist/weft.service.in"
# confined NAME CAPS...: a wrapper that runs build/weft bounded to CAPS (CAP_X names).
confined() {
    local name=$1 set=-all c
    shift
    for c in "$@"; do set+=",+$(tr 'A-Z' 'a-z' <<<"${c#CAP_}")"; done
    printf '#!/bin/sh\nexec setpriv --bounding-set %s --inh-caps -all --no-new-privs %q "$@"\n' \
        "$set" "$SIM_REPO/build/weft" >"$SIM_DIR/$name"
    chmod 0755 "$SIM_DIR/$name"
    echo "$SIM_DIR/$name"
}

sim_init
sim_switch
sim_host A "${HADDR[A]}"
sim_etcd
"$SIM_REPO/build/weft" keygen >"$SIM_DIR/secret"

grep -qx 'Type=notify' "$SIM_REPO/dist/weft.service.in" || fail "the unit is not Type=notify"
# systemd's side of Type=notify: a datagram socket; each message is logged with whether
# the plugin socket existed when it arrived.
sim_spawn "$SIM_DIR/notify.log" python3 -u -c 'import os, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
print("listening", flush=True)
while True:
    msg = s.recv(4096).decode()
    print(msg, "socket" if os.path.exists(sys.argv[2]) else "no-socket", flush=True)' \
    "$SIM_DIR/notify.sock" "$SIM_DIR/A/plugins/weft.sock"
notify_pid=$SIM_LAST_PID
wait_for 5 grep -q listening "$SIM_DIR/notify.log" || fail "the notification listener did not start"
# shellcheck disable=SC2086 # the unit's list is words
WEFT_BIN=$(confined weft-unit $unit_caps) NOTIFY_SOCKET=$SIM_DIR/notify.sock \
    sim_weft A --secret-file "$SIM_DIR/secret"
grep -E '^CapBnd:' "/proc/$(sim_weft_pid A)/status" >"$SIM_DIR/capbnd"
want=$(setpriv --bounding-set -all,+net_admin,+sys_admin,+net_bind_service sh -c 'grep ^CapBnd: /proc/self/status')
check "the daemon runs bounded to the unit's set ($unit_caps)" [ "$(cat "$SIM_DIR/capbnd")" = "$want" ]
create_network A
create_endpoint A
GWIP=${GW[A]%/*}
sim_ns_exec cA ip route add default via "$GWIP"
wait_for 5 sim_ns_exec cA ping -c 1 -W 1 "$GWIP" >/dev/null || fail "cA cannot reach its gateway $GWIP"
# A name another host (C, .3) publishes, as its daemon would, for the resolver to answer.
C_FABRIC=/weft/v1/fabric/192.168.77.3/10.78.0.0_24
printf '%s' '{"vtep":"192.168.77.3"}' | sim_etcdctl put /weft/v1/joined/10.78.0.0_24/192.168.77.3 >/dev/null
printf '%s' '{"vtep":"192.168.77.3"}' | sim_etcdctl put "$C_FABRIC/member" >/dev/null
GHOST=10.78.0.77 # not A's endpoint's (random): an address held here first would win over C's
[ "$GHOST" != "${IP[A]%/*}" ] || GHOST=10.78.0.78
printf '{"ip":"%s","mac":"02:42:0a:4e:00:4d","names":"ghost","vtep":"192.168.77.3"}' "$GHOST" |
    sim_etcdctl put "$C_FABRIC/peers/$GHOST" >/dev/null
# One DNS query (ID 1, "ghost" IN A) to the gateway's port 53.
ask_ghost() {
    sim_ns_exec cA python3 -c 'import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(2)
s.sendto(bytes.fromhex("0001010000010000000000000567686f73740000010001"), (sys.argv[1], 53))
try:
    s.recv(4096); print("answered")
except socket.timeout:
    print("silent")' "$GWIP"
}
for _ in 1 2 3; do # the record reaches A's watch within a moment
    answered=$(ask_ghost)
    [ "$answered" = answered ] && break
done
[ "$answered" = answered ] || fail "the resolver at $GWIP:53 did not answer"

! grep -E 'level=error' "$SIM_DIR/A/weft.log" || fail "errors logged under the unit's capabilities"
echo "ok   with the unit's capabilities only: encrypted overlay, resolver namespace, port 53"
call A NetworkDriver.Leave "{\"NetworkID\":\"${NID[A]}\",\"EndpointID\":\"${EID[A]}\"}" >/dev/null
call A NetworkDriver.DeleteEndpoint "{\"NetworkID\":\"${NID[A]}\",\"EndpointID\":\"${EID[A]}\"}" >/dev/null
call A NetworkDriver.DeleteNetwork "{\"NetworkID\":\"${NID[A]}\"}" >/dev/null
sim_weft_stop A
wait_for 5 grep -q '^STOPPING=1' "$SIM_DIR/notify.log" || fail "weft did not tell systemd STOPPING=1"
sim_stop_pid "$notify_pid" 5 || true
[ "$(grep -c '^READY=1' "$SIM_DIR/notify.log")" = 1 ] && grep -qx 'READY=1 socket' "$SIM_DIR/notify.log" ||
    fail "weft's READY=1 was not sent once, after its plugin socket: $(cat "$SIM_DIR/notify.log")"
echo "ok   Type=notify: READY=1 once the plugin socket was there, STOPPING=1 on SIGTERM"

# Each capability the unit explains by the resolver is needed: without it, creating
# the overlay fails or its resolver is never made.
for drop in CAP_SYS_ADMIN CAP_NET_BIND_SERVICE; do
    keep=()
    for c in $unit_caps; do [ "$c" = "$drop" ] || keep+=("$c"); done
    : >"$SIM_DIR/A/weft.log"
    WEFT_BIN=$(confined "weft-no-$drop" "${keep[@]}") sim_weft A --secret-file "$SIM_DIR/secret"
    NID[A]=$(sim_random_id)
    space=$(call A IpamDriver.GetDefaultAddressSpaces '' | sim_json_str LocalDefaultAddressSpace)
    body="{\"NetworkID\":\"${NID[A]}\",\"Options\":{\"com.docker.network.generic\":{}},\"IPv4Data\":[{\"AddressSpace\":\"$space\",\"Gateway\":\"10.79.0.1/24\",\"Pool\":\"10.79.0.0/24\"}],\"IPv6Data\":[]}"
    if out=$(sim_plugin_call A NetworkDriver.CreateNetwork "$body"); then
        sim_plugin_call A NetworkDriver.DeleteNetwork "{\"NetworkID\":\"${NID[A]}\"}" >/dev/null || true
        out=$(grep -E 'level=(error|warn).*(service port|resolver|namespace|bind)' "$SIM_DIR/A/weft.log") ||
            fail "without $drop the overlay and its resolver came up: the unit would not need it"
    fi
    sim_weft_stop A
    echo "ok   without $drop the resolver cannot be made: $out"
done
