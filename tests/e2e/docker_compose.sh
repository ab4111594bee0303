#!/usr/bin/env bash
# docker_compose.sh: weft networks from compose files (issue 13), with Debian's
# docker-compose 1.29 against real dockerd on two simulated hosts. etcd + weft + dockerd on
# hosts A and B; one compose file per host declares network "mesh" (driver weft, IPAM
# driver weft, subnet 10.74.0.0/24) and one service (alpha on A, beta on B, dns: the
# overlay's gateway, where weft's resolver answers). `docker-compose up -d` on both hosts
# at once (both create the overlay together); alpha and beta ping each other both ways by
# address and by name (service name and container_name, through weft's resolver);
# `docker-compose down` on both removes the network (compose names it <project>_mesh: weft
# keys overlays by subnet, so the name does not matter), and nothing of 10.74.0.0/24 is
# left in the store or as a weft device.
#
# API version: nothing to set, on 20.10 and 28.5 alike. Debian's compose 1.29.2 passes no
# version to docker-py unless COMPOSE_API_VERSION is set, and docker-py then asks the
# engine for its own (GET /version): it speaks API 1.41 to dockerd 20.10 and 1.51 to 28.5.
# A pinned COMPOSE_API_VERSION (or DOCKER_API_VERSION, read by the docker CLI) in the
# caller's environment would change that, so both are cleared here.
# Speed: the services run with `init: true` (docker-init is PID 1 and passes SIGTERM on to
# sleep, which then stops at once instead of after the 10 s grace period).
set -euo pipefail
. "$(dirname "$0")/../lib/sim.sh"

SUBNET=10.74.0.0/24
GW=10.74.0.1
PROJECT=weftdemo
NET=${PROJECT}_mesh
unset COMPOSE_API_VERSION DOCKER_API_VERSION DOCKER_CONTEXT DOCKER_TLS_VERIFY DOCKER_CERT_PATH
command -v docker-compose >/dev/null || fail "docker-compose missing (scripts/install-deps.sh test)"

sim_init
sim_switch
sim_host A 192.168.77.1
sim_host B 192.168.77.2
sim_etcd
sim_weft A
sim_weft B
sim_dockerd A
sim_dockerd B

# compose_file HOST SERVICE: the compose file an operator would write for HOST.
compose_file() {
    cat >"$SIM_DIR/$1/compose.yml" <<EOF
services:
  $2:
    image: $SIM_IMAGE
    container_name: c-$2
    command: sleep 600
    init: true
    dns: [$GW]
    networks: [mesh]
networks:
  mesh:
    driver: weft
    ipam:
      driver: weft
      config:
        - subnet: $SUBNET
EOF
}
# compose HOST ARGS...: docker-compose with HOST's file, against HOST's dockerd.
compose() {
    DOCKER_HOST="unix://$SIM_DIR/$1/docker.sock" \
        docker-compose --no-ansi -f "$SIM_DIR/$1/compose.yml" -p "$PROJECT" "${@:2}"
}
# compose_both ARGS...: docker-compose ARGS on A and B at once, as operators of two hosts
# would (and the test is shorter); shows each host's output when it fails.
compose_both() {
    local h rc=0
    local -A pid
    for h in A B; do
        compose "$h" "$@" >"$SIM_DIR/$h/compose.out" 2>&1 &
        pid[$h]=$!
    done
    for h in A B; do
        wait "${pid[$h]}" || { sed "s/^/$h: /" "$SIM_DIR/$h/compose.out"; rc=1; }
    done
    return $rc
}
compose_file A alpha
compose_file B beta
check "docker-compose up on A and B at once" compose_both up -d

ip_of() { sim_docker "$1" inspect -f "{{(index .NetworkSettings.Networks \"$NET\").IPAddress}}" "$2"; }
ipa=$(ip_of A c-alpha)
ipb=$(ip_of B c-beta)
echo "alpha=$ipa beta=$ipb"
case "$ipa $ipb" in 10.74.0.*' '10.74.0.*) ;; *) fail "addresses outside $SUBNET: '$ipa' '$ipb'" ;; esac
[ "$ipa" != "$ipb" ] || fail "both services got $ipa"
drv=$(sim_docker A network inspect -f '{{.Driver}} {{.IPAM.Driver}}' "$NET")
[ "$drv" = "weft weft" ] || fail "$NET on A has driver and IPAM driver '$drv', want 'weft weft'"

check "alpha pings beta" sim_docker A exec c-alpha ping -c 2 -i 0.2 -W 2 "$ipb"
check "beta pings alpha" sim_docker B exec c-beta ping -c 2 -i 0.2 -W 2 "$ipa"
# Names: the service name (compose's network alias) and container_name, from weft's
# resolver at the gateway (asked directly, so Docker's embedded DNS is not in the way).
resolves_to() { # HOST CONTAINER NAME ADDR
    sim_docker "$1" exec "$2" nslookup "$3" "$GW" 2>/dev/null | grep -qxF "Address: $4"
}
while read -r host from name addr; do
    wait_for 10 resolves_to "$host" "$from" "$name" "$addr" || fail "$name does not resolve to \
$addr from $from on $host: $(sim_docker "$host" exec "$from" nslookup "$name" "$GW" 2>&1)"
done <<EOF
A c-alpha beta $ipb
A c-alpha c-beta $ipb
B c-beta alpha $ipa
B c-beta c-alpha $ipa
EOF
echo "ok   service and container names resolve on both hosts through weft's resolver"
check "alpha pings beta by name" sim_docker A exec c-alpha ping -c 2 -i 0.2 -W 2 beta
check "beta pings alpha by name" sim_docker B exec c-beta ping -c 2 -i 0.2 -W 2 alpha

check "docker-compose down on A and B at once" compose_both down -t 2
for h in A B; do
    if sim_docker "$h" network inspect "$NET" >/dev/null 2>&1; then fail "$NET left on $h"; fi
    left=$(weft_devices "$h")
    [ -z "$left" ] || fail "weft devices left on $h after docker-compose down: $left"
done
left=$(sim_etcdctl get --prefix /weft/v1/ | grep -E '10\.74\.0\.' || true)
[ -z "$left" ] || fail "records of $SUBNET left in the store: $left"
echo "ok   network, devices and store records of $SUBNET gone after docker-compose down"

for h in A B; do
    grep -E 'ERROR: AddressSanitizer|runtime error' "$SIM_DIR/$h/weft.log" && fail "sanitizer report on $h"
done
for h in A B; do sim_weft_stop "$h" || fail "weft on $h needed SIGKILL to stop"; done
echo "PASS docker_compose"
