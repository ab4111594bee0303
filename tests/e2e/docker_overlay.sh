#!/usr/bin/env bash
# docker_overlay.sh: the user story with real dockerd on two simulated hosts.
# etcd + weft + dockerd on hosts A and B, "docker network create -d weft
# --ipam-driver weft" on both, one container on each: they get distinct
# addresses, ping and talk TCP both ways over the overlay with MTU 1450; removing
# B's container withdraws its entries on A; removing the network on B leaves no
# weft devices; Docker's default IPAM is refused with a helpful message; an
# encrypted overlay (-o encrypted, issue 11) beside the plain one carries ping,
# full-size packets and TCP both ways.
set -euo pipefail
. "$(dirname "$0")/../lib/sim.sh"

SUBNET=10.77.0.0/24
NET=blue

sim_init
sim_switch
sim_host A 192.168.77.1
sim_host B 192.168.77.2
sim_etcd
"$SIM_REPO/build/weft" keygen >"$SIM_DIR/secret"
sim_weft A --secret-file "$SIM_DIR/secret"
sim_weft B --secret-file "$SIM_DIR/secret"
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
mac_of() {
    sim_docker "$1" inspect -f "{{(index .NetworkSettings.Networks \"$NET\").MacAddress}}" "$2"
}
ipa=$(ip_of A ca)
ipb=$(ip_of B cb)
macb=$(mac_of B cb)
echo "ca=$ipa cb=$ipb (mac $macb)"
[ -n "$ipa" ] && [ -n "$ipb" ] || fail "containers have no address on $NET (a='$ipa' b='$ipb')"
[ -n "$macb" ] || fail "cb has no MAC on $NET (CreateEndpoint should report the one weft chose)"
[ "$ipa" != "$ipb" ] || fail "both containers got $ipa"
case "$ipa $ipb" in 10.77.0.*' '10.77.0.*) ;; *) fail "addresses outside $SUBNET: $ipa $ipb" ;; esac

# The overlay interface is the one holding the overlay address (eth1 is docker_gwbridge).
ifname_of() { # HOST CONTAINER IP
    sim_docker "$1" exec "$2" ip -o -4 addr show | awk -v ip="$3" '$4 ~ "^"ip"/" {print $2}'
}
ifa=$(ifname_of A ca "$ipa")
[ -n "$ifa" ] || fail "no interface holds $ipa in ca"
mtu=$(sim_docker A exec ca cat "/sys/class/net/$ifa/mtu")
[ "$mtu" = 1450 ] || fail "overlay interface $ifa in ca has MTU $mtu, want 1450 (underlay 1500)"
echo "ok   ca's $ifa has MTU 1450"

check "ca pings cb" sim_docker A exec ca ping -c 3 -i 0.2 -W 2 "$ipb"
check "cb pings ca" sim_docker B exec cb ping -c 3 -i 0.2 -W 2 "$ipa"
# A full-size packet: 1450 - 28 bytes of IP and ICMP headers, don't fragment.
check "full-MTU ping ca -> cb" sim_docker A exec ca ping -c 2 -i 0.2 -W 2 -s 1422 "$ipb"

check "TCP ca -> cb" sim_tcp_check A ca B cb "$ipb"
check "TCP cb -> ca" sim_tcp_check B cb A ca "$ipa"

# Withdrawal: A has B's endpoint programmed now, and must drop it once cb is gone.
a_has_peer() {
    sim_ns_exec A bridge fdb show | grep -i "^$macb .*dst 192.168.77.2" >/dev/null &&
        sim_ns_exec A ip neigh show "$ipb" | grep -i "$macb" >/dev/null
}
a_lacks_peer() {
    ! sim_ns_exec A bridge fdb show | grep -i "^$macb " >/dev/null &&
        ! sim_ns_exec A ip neigh show "$ipb" | grep -i "$macb" >/dev/null
}
check "A has cb's fdb and neighbour entries" a_has_peer
check "docker rm -f cb" sim_docker B rm -f cb
wait_for 5 a_lacks_peer || {
    sim_ns_exec A bridge fdb show | grep -i "$macb" >&2 || true
    sim_ns_exec A ip neigh show "$ipb" >&2 || true
    fail "A still has cb's fdb/neighbour entries 5 s after docker rm -f"
}
echo "ok   A withdrew cb's entries"

check "network rm on B" sim_docker B network rm "$NET"
left=$(weft_devices B)
[ -z "$left" ] || fail "devices left in B after network rm: $left"
echo "ok   no weft devices left on B"

# A network on Docker's default IPAM would allocate clashing addresses across hosts.
if out=$(sim_docker A network create -d weft --subnet 10.78.0.0/24 red 2>&1); then
    fail "network on the default IPAM was accepted: $out"
fi
grep -q -- '--ipam-driver weft' <<<"$out" || fail "default-IPAM refusal does not mention --ipam-driver weft: $out"
echo "ok   default IPAM refused: $out"

check "container ca removed" sim_docker A rm -f ca
# The encrypted overlay, beside the plain one.
for h in A B; do
    check "encrypted network create on $h" sim_docker "$h" network create -d weft \
        --ipam-driver weft -o encrypted --subnet 10.88.0.0/24 vault
done
check "container va on A" sim_docker A run -d --network vault --name va weft-test sleep 600
check "container vb on B" sim_docker B run -d --network vault --name vb weft-test sleep 600
vipa=$(sim_docker A inspect -f '{{(index .NetworkSettings.Networks "vault").IPAddress}}' va)
vipb=$(sim_docker B inspect -f '{{(index .NetworkSettings.Networks "vault").IPAddress}}' vb)
vifa=$(ifname_of A va "$vipa")
vmtu=$(sim_docker A exec va cat "/sys/class/net/$vifa/mtu")
[ "$vmtu" = 1402 ] || fail "encrypted overlay interface in va has MTU $vmtu, want 1402"
check "va pings vb (encrypted)" sim_docker A exec va ping -c 3 -i 0.2 -W 2 "$vipb"
check "vb pings va (encrypted)" sim_docker B exec vb ping -c 3 -i 0.2 -W 2 "$vipa"
check "full-MTU ping va -> vb" sim_docker A exec va ping -c 2 -i 0.2 -W 2 -s 1390 "$vipb"
check "TCP va -> vb (encrypted)" sim_tcp_check A va B vb "$vipb"
check "TCP vb -> va (encrypted)" sim_tcp_check B vb A va "$vipa"
check "rm va" sim_docker A rm -f va
check "rm vb" sim_docker B rm -f vb
for h in A B; do check "encrypted network rm on $h" sim_docker "$h" network rm vault; done
left=$(weft_devices B)
[ -z "$left" ] || fail "devices left in B after the encrypted network's rm: $left"
echo "ok   no weft devices left on B (TAP included)"

check "network rm on A" sim_docker A network rm "$NET"
for h in A B; do
    grep -E 'ERROR: AddressSanitizer|runtime error' "$SIM_DIR/$h/weft.log" &&
        fail "sanitizer report in weft log on $h"
done
for h in A B; do
    sim_weft_stop "$h" || fail "weft on $h needed SIGKILL to stop"
done
echo "PASS docker_overlay"
