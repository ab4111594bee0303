#!/usr/bin/env bash
# docker_dual_stack.sh: IPv6 inside the overlay (issue 12), with real dockerd on two
# simulated hosts (IPv4 underlay). `docker network create --ipv6 --subnet 10.81.0.0/24
# --subnet fd81::/64` on both hosts (a host naming another IPv6 subnet, or none, is
# refused with what is in use); one container on each gets an IPv4 and an IPv6
# address from weft's IPAM (a third one the IPv6 address --ip6 names); the other host holds a permanent IPv6 neighbour entry for
# it on its VXLAN device; weft's resolver answers AAAA and its ip6.arpa PTR; ping6 and TCP over IPv6 go
# both ways; a capture of the
# underlay meanwhile carries the echo requests and not one neighbour solicitation
# (the VXLAN device's proxy answers them); a restart of weft keeps ca's IPv6
# address; removing a container withdraws its IPv6
# entry on the other host and frees its IPv6 address; a second network with an IPv6
# --ip-range and --aux-address on both hosts hands out from the range and keeps the
# aux address; nothing is left at the end.
set -euo pipefail
. "$(dirname "$0")/../lib/sim.sh"

NET=six
SUBNET=10.81.0.0/24
SUBNET6=fd81::/64
SK6=fd81--_64 # the IPv6 pool's key part (store/keys.h: colons become dashes)

sim_init
sim_switch
sim_host A 192.168.77.1
sim_host B 192.168.77.2
sim_etcd
sim_weft A
sim_weft B
sim_dockerd A
sim_dockerd B

create() { # HOST ARGS...
    local h=$1
    shift
    sim_docker "$h" network create -d weft --ipam-driver weft --ipv6 "$@" "$NET"
}
check "dual-stack network create on A" create A --subnet "$SUBNET" --subnet "$SUBNET6"
# Every host of an overlay passes the same subnets: the refusals name what is in use.
refused_on_b() { # DESCRIPTION EXPECTED ARGS...
    local desc=$1 want=$2 out
    shift 2
    if out=$(sim_docker B network create -d weft --ipam-driver weft "$@" "$NET" 2>&1); then
        fail "$desc: accepted ($out)"
    fi
    grep -qF -- "$want" <<<"$out" || fail "$desc: error does not say '$want': $out"
    ! sim_docker B network inspect "$NET" >/dev/null 2>&1 || fail "$desc: network left on B"
    echo "ok   $desc: $out"
}
refused_on_b "another IPv6 subnet" "dual-stack on other hosts with IPv6 subnet fd81::/64" \
    --ipv6 --subnet "$SUBNET" --subnet fd82::/64
refused_on_b "no IPv6" "dual-stack on other hosts with IPv6 subnet fd81::/64" --subnet "$SUBNET"
check "dual-stack network create on B" create B --subnet "$SUBNET" --subnet "$SUBNET6"

check "container ca on A" sim_docker A run -d --network "$NET" --name ca weft-test sleep 600
check "container cb on B" sim_docker B run -d --network "$NET" --name cb weft-test sleep 600
field_of() { # HOST CONTAINER FIELD
    sim_docker "$1" inspect -f "{{(index .NetworkSettings.Networks \"$NET\").$3}}" "$2"
}
ipa=$(field_of A ca IPAddress)
ipb=$(field_of B cb IPAddress)
ip6a=$(field_of A ca GlobalIPv6Address)
ip6b=$(field_of B cb GlobalIPv6Address)
macb=$(field_of B cb MacAddress)
echo "ca=$ipa $ip6a cb=$ipb $ip6b (cb's mac $macb)"
case "$ip6a $ip6b" in fd81::*' 'fd81::*) ;; *) fail "IPv6 addresses not in $SUBNET6: '$ip6a' '$ip6b'" ;; esac
[ "$ip6a" != "$ip6b" ] || fail "both containers got $ip6a"
case "$ipa $ipb" in 10.81.0.*' '10.81.0.*) ;; *) fail "IPv4 addresses not in $SUBNET: $ipa $ipb" ;; esac
sim_docker A exec ca ip -o -6 addr show | grep -F " $ip6a/64 " >/dev/null ||
    fail "ca does not hold $ip6a/64 inside"
echo "ok   each container has an IPv4 and an IPv6 address of the overlay"

vni=$(sim_etcdctl get --print-value-only "/weft/v1/overlays/10.81.0.0_24" | sed -n 's/.*"vni": *\([0-9]*\).*/\1/p')
[ -n "$vni" ] || fail "no overlay record for $SUBNET"
a_has_neigh6() {
    sim_ns_exec A ip -6 neigh show dev "wvx$vni" | grep -i "^$ip6b lladdr $macb PERMANENT" >/dev/null
}
check "A holds cb's IPv6 neighbour entry on wvx$vni" wait_for 5 a_has_neigh6
peer=$(sim_etcdctl get --print-value-only "/weft/v1/fabric/192.168.77.2/10.81.0.0_24/peers/$ipb")
grep -F "\"ip6\":\"$ip6b\"" <<<"$peer" >/dev/null || grep -F "\"ip6\": \"$ip6b\"" <<<"$peer" >/dev/null ||
    fail "cb's peer record does not carry its IPv6 address: $peer"
echo "ok   cb's peer record carries $ip6b"

# Names: weft's resolver (at the overlay's gateway) answers AAAA with the IPv6 address.
aaaa_of_cb() {
    sim_docker A exec ca nslookup -type=AAAA cb 10.81.0.1 2>/dev/null | grep -F "Address: $ip6b" >/dev/null
}
check "ca resolves cb's AAAA ($ip6b) at weft's resolver" wait_for 10 aaaa_of_cb
# ... and that address back to cb's name (PTR of its ip6.arpa name).
ptr6_of_cb() {
    sim_docker A exec ca nslookup "$ip6b" 10.81.0.1 2>/dev/null | grep -F "name = cb" >/dev/null
}
check "ca resolves $ip6b back to cb (ip6.arpa PTR) at weft's resolver" wait_for 10 ptr6_of_cb

# The underlay while the containers talk over IPv6: echo requests in VXLAN, and no
# neighbour solicitation (ca's first packet to cb needs one; the proxy answers it).
sim_spawn "$SIM_DIR/wire.pcap.log" ip netns exec "$(sim_ns sw)" tcpdump --immediate-mode -U -n \
    -i p-A -w "$SIM_DIR/wire.pcap" udp port 4789
cap_pid=$SIM_LAST_PID
wait_for 5 grep -q "listening on" "$SIM_DIR/wire.pcap.log" || fail "tcpdump did not start"
check "ca pings cb over IPv6" sim_docker A exec ca ping -6 -c 3 -i 0.2 -W 2 "$ip6b"
check "cb pings ca over IPv6" sim_docker B exec cb ping -6 -c 3 -i 0.2 -W 2 "$ip6a"
check "full-MTU IPv6 ping ca -> cb" sim_docker A exec ca ping -6 -c 2 -i 0.2 -W 2 -s 1402 "$ip6b"
check "TCP over IPv6 ca -> cb" sim_tcp_check A ca B cb "$ip6b"
check "TCP over IPv6 cb -> ca" sim_tcp_check B cb A ca "$ip6a"
sleep 0.3
sim_stop_pid "$cap_pid" 5 || true
ip netns exec "$(sim_ns sw)" tcpdump -n -r "$SIM_DIR/wire.pcap" 2>/dev/null >"$SIM_DIR/wire.txt"
echoes=$(grep -c "ICMP6, echo request" "$SIM_DIR/wire.txt" || true)
solicits=$(grep -c "neighbor solicitation" "$SIM_DIR/wire.txt" || true)
echo "     underlay: $echoes IPv6 echo requests in VXLAN, $solicits neighbour solicitations"
[ "$echoes" -ge 6 ] || fail "the capture shows $echoes IPv6 echo requests in VXLAN, want at least 6"
[ "$solicits" = 0 ] || { grep "neighbor solicitation" "$SIM_DIR/wire.txt" | head -3 >&2; fail "$solicits neighbour solicitations crossed the underlay"; }
echo "ok   IPv6 crossed the underlay in VXLAN, neighbour discovery did not"

# A restart of weft on A adopts ca with its IPv6 address (its host record) and
# publishes it again: B holds ca's IPv6 entry, and IPv6 still flows.
check "weft on A stops" sim_weft_stop A
check "weft on A starts again" sim_weft A
ip6a_peer() {
    sim_etcdctl get --print-value-only "/weft/v1/fabric/192.168.77.1/10.81.0.0_24/peers/$ipa" |
        grep -F "$ip6a" >/dev/null
}
check "ca's peer record carries $ip6a after the restart" wait_for 10 ip6a_peer
check "cb pings ca over IPv6 after the restart" sim_docker B exec cb ping -6 -c 2 -i 0.2 -W 2 "$ip6a"

# docker run --ip6 picks the IPv6 address (weft's IPAM reserves exactly it).
check "container cc on B with --ip6 fd81::99" sim_docker B run -d --network "$NET" --ip6 fd81::99 \
    --name cc weft-test sleep 600
[ "$(field_of B cc GlobalIPv6Address)" = fd81::99 ] || fail "cc has '$(field_of B cc GlobalIPv6Address)', not fd81::99"
check "ca pings cc at fd81::99" sim_docker A exec ca ping -6 -c 2 -i 0.2 -W 2 fd81::99
check "docker rm -f cc" sim_docker B rm -f cc

# --ip-range and --aux-address in the IPv6 subnet, on both hosts: B's container gets
# its IPv6 address from the range, the aux address is refused to --ip6, and a host
# passing another range is refused naming the one in use.
RNET=six-range
ranged() { # HOST RANGE
    sim_docker "$1" network create -d weft --ipam-driver weft --ipv6 --subnet 10.83.0.0/24 \
        --subnet fd83::/64 --ip-range "$2" --aux-address r6=fd83::5 "$RNET"
}
check "IPv6 --ip-range network on A" ranged A fd83::100/120
if out=$(ranged B fd83::200/120 2>&1); then fail "another IPv6 --ip-range accepted on B"; fi
grep -qF "in use with --ip-range fd83::100/120" <<<"$out" ||
    fail "another IPv6 --ip-range: error does not name the range in use: $out"
echo "ok   another IPv6 --ip-range on B refused: $out"
check "IPv6 --ip-range network on B (the aux address too)" ranged B fd83::100/120
check "container cr on B" sim_docker B run -d --network "$RNET" --name cr weft-test sleep 600
ip6r=$(sim_docker B inspect -f "{{(index .NetworkSettings.Networks \"$RNET\").GlobalIPv6Address}}" cr)
case "$ip6r" in fd83::1[0-9a-f][0-9a-f]) ;; *) fail "cr has '$ip6r', not in fd83::100/120" ;; esac
if out=$(sim_docker A run -d --network "$RNET" --ip6 fd83::5 --name cx weft-test sleep 600 2>&1); then
    fail "--ip6 fd83::5 (an --aux-address) accepted"
fi
grep -qF "reserved by --aux-address" <<<"$out" || fail "--ip6 of the aux address: $out"
sim_docker A rm -f cx >/dev/null 2>&1 || true
echo "ok   cr got $ip6r from the IPv6 --ip-range; --ip6 of the aux address refused"
check "docker rm -f cr" sim_docker B rm -f cr
for h in A B; do check "network rm $RNET on $h" sim_docker "$h" network rm "$RNET"; done

# Withdrawal: cb gone, its IPv6 entry leaves A and its IPv6 address is free again.
check "docker rm -f cb" sim_docker B rm -f cb
wait_for 5 sh -c "! ip netns exec $(sim_ns A) ip -6 neigh show dev wvx$vni | grep -i '^$ip6b '" ||
    fail "A still holds cb's IPv6 neighbour entry 5 s after docker rm -f"
addrs6=$(sim_etcdctl get --prefix --keys-only "/weft/v1/addrs/$SK6/" | grep -v '/pool$' | grep -c . || true)
# ca's address and the pool's gateway remain.
[ "$addrs6" = 2 ] || fail "want 2 IPv6 addresses allocated (ca and the gateway), found $addrs6"
echo "ok   cb's IPv6 entry withdrawn from A, its IPv6 address freed"

check "docker rm -f ca" sim_docker A rm -f ca
for h in A B; do check "network rm on $h" sim_docker "$h" network rm "$NET"; done
for h in A B; do
    left=$(weft_devices "$h")
    [ -z "$left" ] || fail "devices left on $h: $left"
done
left=$(sim_etcdctl get --prefix --keys-only "/weft/v1/addrs/$SK6/" | grep -c . || true)
[ "$left" = 0 ] || fail "$left IPv6 address records left after both hosts removed the network"
echo "ok   no weft devices and no IPv6 address left"
for h in A B; do
    grep -E 'ERROR: AddressSanitizer|runtime error' "$SIM_DIR/$h/weft.log" &&
        fail "sanitizer report in weft log on $h"
    sim_weft_stop "$h" || fail "weft on $h needed SIGKILL to stop"
done
echo "PASS docker_dual_stack"
