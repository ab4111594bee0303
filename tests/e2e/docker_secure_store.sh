#!/usr/bin/env bash
# docker_secure_store.sh: the user story of docker_overlay.sh against a secured etcd:
# TLS only, client certificates required, authentication on (sim_etcd_secure), and
# each host's weft logged in as its own etcd user, made by `weft admit` (weft-host-
# <address>: reads /weft/v1/, writes its own prefixes and the shared ones). dockerd
# on hosts A and B, "docker network create -d weft --ipam-driver weft" on both, one
# container on each: distinct addresses, ping and TCP both ways; the records land in
# etcd under /weft/v1/; a host's user cannot touch keys outside /weft/v1/ nor the
# other host's records; weft on a host restarts and adopts its container. The store's
# security is weft's alone: runs on the distribution's Docker only.
set -euo pipefail
. "$(dirname "$0")/../lib/sim.sh"
sim_distro_docker_only

SUBNET=10.77.0.0/24
NET=blue

sim_init
sim_switch
sim_host A 192.168.77.1
sim_host B 192.168.77.2
sim_etcd_secure

sim_weft A
sim_weft B
for h in A B; do
    grep -q "store=etcds://" "$SIM_DIR/$h/weft.log" || fail "weft on $h did not log its etcds:// store"
done
sim_dockerd A
sim_dockerd B

for h in A B; do
    check "network create on $h" sim_docker "$h" network create -d weft --ipam-driver weft \
        --subnet "$SUBNET" "$NET"
done
check "container ca on A" sim_docker A run -d --network "$NET" --name ca weft-test sleep 600
check "container cb on B" sim_docker B run -d --network "$NET" --name cb weft-test sleep 600

ip_of() { # HOST CONTAINER
    sim_docker "$1" inspect -f "{{(index .NetworkSettings.Networks \"$NET\").IPAddress}}" "$2"
}
ipa=$(ip_of A ca)
ipb=$(ip_of B cb)
echo "ca=$ipa cb=$ipb"
[ -n "$ipa" ] && [ -n "$ipb" ] || fail "containers have no address on $NET (a='$ipa' b='$ipb')"
[ "$ipa" != "$ipb" ] || fail "both containers got $ipa"

check "ca pings cb" sim_docker A exec ca ping -c 3 -i 0.2 -W 2 "$ipb"
check "cb pings ca" sim_docker B exec cb ping -c 3 -i 0.2 -W 2 "$ipa"

check "TCP ca -> cb" sim_tcp_check A ca B cb "$ipb"
check "TCP cb -> ca" sim_tcp_check B cb A ca "$ipa"

# The state is in the secured etcd, written by the hosts' own users.
keys=$(sim_etcdctl get --prefix --keys-only /weft/v1/ | grep -c . || true)
[ "$keys" -gt 0 ] || fail "no keys under /weft/v1/ in the secured etcd"
echo "ok   $keys keys under /weft/v1/"

# A host's user reaches /weft/v1/ and nothing else.
as_host() { # HOST ETCDCTL_ARGS...
    local host=$1 user
    shift
    user=$(sim_store_user "$host")
    sim_ns_exec etcd env ETCDCTL_API=3 ETCDCTL_USER="$user:$(cat "$SIM_DIR/$host/store.password")" \
        etcdctl --endpoints "https://$SIM_ETCD_IP:2379" --cacert "$SIM_DIR/pki/ca.pem" \
        --cert "$SIM_DIR/pki/client.pem" --key "$SIM_DIR/pki/client.key" "$@"
}
check "A's user reads /weft/v1/" as_host A get --prefix --keys-only /weft/v1/
check_not "A's user cannot write outside /weft/v1/" as_host A put /elsewhere x
check_not "A's user cannot write B's fabric records" as_host A put "/weft/v1/fabric/192.168.77.2/x" x
check_not "A's user cannot delete B's host records" as_host A del --prefix /weft/v1/hosts/192.168.77.2/

# A restart logs in again and adopts the running container.
sim_weft_stop A || fail "weft on A needed SIGKILL to stop"
sim_weft A
check "ca still pings cb after weft on A restarted" sim_docker A exec ca ping -c 2 -i 0.2 -W 2 "$ipb"
check "container cc on A after the restart" sim_docker A run -d --network "$NET" --name cc weft-test sleep 600
ipc=$(ip_of A cc)
check "cb pings cc" sim_docker B exec cb ping -c 2 -i 0.2 -W 2 "$ipc"

for c in ca cc; do check "container $c removed" sim_docker A rm -f "$c"; done
check "container cb removed" sim_docker B rm -f cb
for h in A B; do check "network rm on $h" sim_docker "$h" network rm "$NET"; done
for h in A B; do
    grep -E 'ERROR: AddressSanitizer|runtime error' "$SIM_DIR/$h/weft.log" &&
        fail "sanitizer report in weft log on $h"
    ! grep -F -- "$(cat "$SIM_DIR/$h/store.password")" "$SIM_DIR/$h/weft.log" >/dev/null ||
        fail "weft on $h logged its password"
done
for h in A B; do
    sim_weft_stop "$h" || fail "weft on $h needed SIGKILL to stop"
done
echo "PASS docker_secure_store"
