#!/usr/bin/env bash
# docker_ipv6_underlay.sh: weft on an IPv6-only underlay (issue 12), with real dockerd on
# two simulated hosts whose links carry no IPv4 at all: etcd at [fd00:77::250]:2379,
# weft --advertise fd00:77::1 and ::2. A dual-stack overlay across them: two containers get
# distinct addresses, ping and talk TCP both ways, ping over IPv6 too, the overlay MTU is 1430 (underlay 1500
# minus 70 for VXLAN over IPv6), full-size packets cross; a capture on the switch shows
# the overlay's traffic as VXLAN over IPv6 (UDP 4789) and not one IPv4 packet; the
# records name the hosts by their IPv6 VTEPs. An encrypted overlay beside it (both
# daemons share a cluster secret): MTU 1382 (1500 - 118), ping at full size and TCP
# both ways; the same marker pings on both overlays, captured on the switch: the plain
# one's VXLAN shows the marker, the encrypted one's datagrams (UDP 4790 over IPv6) never
# do, and still not one IPv4 packet. Nothing is left once the networks are removed. The underlay is weft's alone (Docker's part of
# dual stack: docker_dual_stack.sh, on every release): runs on the distribution's Docker only.
set -euo pipefail
. "$(dirname "$0")/../lib/sim.sh"
sim_distro_docker_only

SUBNET=10.79.0.0/24
NET=green
VTEP_A=fd00:77::1
VTEP_B=fd00:77::2

sim_init
sim_switch
sim_host A "$VTEP_A"
sim_host B "$VTEP_B"
sim_etcd fd00:77::250
for h in A B; do
    [ -z "$(sim_ns_exec "$h" ip -4 -o addr show dev eth0)" ] || fail "$h has an IPv4 address on eth0"
done
echo "ok   the hosts' links carry IPv6 only"
"$SIM_REPO/build/weft" keygen >"$SIM_DIR/secret"
sim_weft A --secret-file "$SIM_DIR/secret"
sim_weft B --secret-file "$SIM_DIR/secret"
sim_dockerd A
sim_dockerd B
grep -q "advertise=$VTEP_A" "$SIM_DIR/A/weft.log" || fail "weft on A does not advertise $VTEP_A"

for h in A B; do
    check "network create on $h" sim_docker "$h" network create -d weft --ipam-driver weft \
        --subnet "$SUBNET" --ipv6 --subnet fd79::/64 "$NET"
done
check "container ca on A" sim_docker A run -d --network "$NET" --name ca weft-test sleep 600
check "container cb on B" sim_docker B run -d --network "$NET" --name cb weft-test sleep 600

ip_of() { # HOST CONTAINER
    sim_docker "$1" inspect -f "{{(index .NetworkSettings.Networks \"$NET\").IPAddress}}" "$2"
}
ipa=$(ip_of A ca)
ipb=$(ip_of B cb)
echo "ca=$ipa cb=$ipb"
[ -n "$ipa" ] && [ -n "$ipb" ] && [ "$ipa" != "$ipb" ] || fail "addresses on $NET: a='$ipa' b='$ipb'"

# The VXLAN devices are built on the IPv6 VTEPs, and the peer's entries point at one.
check "A's vxlan device has local $VTEP_A" \
    sh -c "ip netns exec $(sim_ns A) ip -d link show type vxlan | grep -q 'local $VTEP_A'"
a_has_b() { sim_ns_exec A bridge fdb show | grep -q "dst $VTEP_B"; }
wait_for 5 a_has_b || fail "A has no FDB entry towards $VTEP_B"
echo "ok   A sends to B's IPv6 VTEP"
keys=$(sim_etcdctl get --prefix /weft/v1/fabric/fd00-77--2/ --keys-only)
grep -q "/member$" <<<"$keys" || fail "no member record under fabric/fd00-77--2/: $keys"
echo "ok   B's records are under fabric/fd00-77--2/ (its VTEP, colons as dashes)"

ifa=$(sim_docker A exec ca ip -o -4 addr show | awk -v ip="$ipa" '$4 ~ "^"ip"/" {print $2}')
mtu=$(sim_docker A exec ca cat "/sys/class/net/$ifa/mtu")
[ "$mtu" = 1430 ] || fail "overlay interface $ifa in ca has MTU $mtu, want 1430 (1500 - 70)"
echo "ok   ca's $ifa has MTU 1430"

sim_spawn "$SIM_DIR/wire.pcap.log" ip netns exec "$(sim_ns sw)" tcpdump --immediate-mode -U -n \
    -i p-A -w "$SIM_DIR/wire.pcap"
cap_pid=$SIM_LAST_PID
wait_for 5 grep -q "listening on" "$SIM_DIR/wire.pcap.log" || fail "tcpdump did not start"
check "ca pings cb" sim_docker A exec ca ping -c 3 -i 0.2 -W 2 "$ipb"
check "cb pings ca" sim_docker B exec cb ping -c 3 -i 0.2 -W 2 "$ipa"
# A full-size packet: 1430 - 28 bytes of IP and ICMP headers.
check "full-MTU ping ca -> cb" sim_docker A exec ca ping -c 2 -i 0.2 -W 2 -s 1402 "$ipb"
check "TCP ca -> cb" sim_tcp_check A ca B cb "$ipb"
check "TCP cb -> ca" sim_tcp_check B cb A ca "$ipa"
ip6b=$(sim_docker B inspect -f "{{(index .NetworkSettings.Networks \"$NET\").GlobalIPv6Address}}" cb)
[[ "$ip6b" == fd79::* ]] || fail "cb has no IPv6 address of fd79::/64: '$ip6b'"
check "ca pings cb over IPv6 ($ip6b), inside VXLAN over IPv6" sim_docker A exec ca ping -6 -c 2 -i 0.2 -W 2 "$ip6b"
sleep 0.3
sim_stop_pid "$cap_pid" 5 || true
capture() { ip netns exec "$(sim_ns sw)" tcpdump -n -r "$SIM_DIR/wire.pcap" "$@" 2>/dev/null; }
vxlan6=$(capture 'ip6 and udp port 4789' | grep -c '^[0-9]' || true)
echoes=$(capture 'ip6 and udp port 4789' | grep -c 'ICMP echo request' || true)
ipv4=$(capture 'ip' | grep -c '^[0-9]' || true)
echo "     switch: $vxlan6 VXLAN-over-IPv6 packets ($echoes echo requests), $ipv4 IPv4 packets"
[ "$echoes" -ge 5 ] || fail "the capture shows $echoes echo requests in VXLAN over IPv6, want at least 5"
[ "$ipv4" = 0 ] || { capture ip | head -3 >&2; fail "$ipv4 IPv4 packets crossed the underlay"; }
echo "ok   the overlay crossed the underlay as VXLAN over IPv6, and nothing as IPv4"

# An encrypted overlay on the same IPv6 underlay: weft's own data path, UDP 4790 over IPv6.
VAULT=vault
for h in A B; do
    check "encrypted network create on $h" sim_docker "$h" network create -d weft \
        --ipam-driver weft -o encrypted --subnet 10.89.0.0/24 "$VAULT"
done
check "container va on A" sim_docker A run -d --network "$VAULT" --name va weft-test sleep 600
check "container vb on B" sim_docker B run -d --network "$VAULT" --name vb weft-test sleep 600
vip() { sim_docker "$1" inspect -f "{{(index .NetworkSettings.Networks \"$VAULT\").IPAddress}}" "$2"; }
vipa=$(vip A va)
vipb=$(vip B vb)
echo "va=$vipa vb=$vipb"
vifa=$(sim_docker A exec va ip -o -4 addr show | awk -v ip="$vipa" '$4 ~ "^"ip"/" {print $2}')
vmtu=$(sim_docker A exec va cat "/sys/class/net/$vifa/mtu")
[ "$vmtu" = 1382 ] || fail "encrypted overlay interface in va has MTU $vmtu, want 1382 (1500 - 118)"
echo "ok   va's $vifa has MTU 1382"
a_has_vb() { sim_docker A exec va ping -c 1 -W 1 "$vipb" >/dev/null 2>&1; }
wait_for 10 a_has_vb || fail "va does not reach vb across the encrypted overlay"
# A full-size packet: 1382 - 28 bytes of IP and ICMP headers.
check "full-MTU ping va -> vb" sim_docker A exec va ping -c 2 -i 0.2 -W 2 -s 1354 "$vipb"
check "TCP va -> vb" sim_tcp_check A va B vb "$vipb"
check "TCP vb -> va" sim_tcp_check B vb A va "$vipa"

# The wire: the same marker pings (payload all 0x5a) on both overlays.
MARK=5a
MARKER=5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a
WIRE="python3 $SIM_REPO/tests/lib/wire.py"
sim_spawn "$SIM_DIR/wire2.pcap.log" ip netns exec "$(sim_ns sw)" tcpdump --immediate-mode -U -n \
    -i p-A -w "$SIM_DIR/wire2.pcap"
cap_pid=$SIM_LAST_PID
wait_for 5 grep -q "listening on" "$SIM_DIR/wire2.pcap.log" || fail "tcpdump did not start"
check "marker pings on the plain overlay" sim_docker A exec ca ping -q -c 10 -i 0.05 -p "$MARK" "$ipb"
check "marker pings on the encrypted overlay" sim_docker A exec va ping -q -c 10 -i 0.05 -p "$MARK" "$vipb"
sleep 0.3
sim_stop_pid "$cap_pid" 5 || true
capture2() { ip netns exec "$(sim_ns sw)" tcpdump -n -r "$SIM_DIR/wire2.pcap" "$@" 2>/dev/null; }
capture2 -w "$SIM_DIR/plain2.pcap" 'ip6 and udp port 4789'
capture2 -w "$SIM_DIR/sealed2.pcap" 'ip6 and udp port 4790'
plain=$($WIRE count-marker "$SIM_DIR/plain2.pcap" "$MARKER")
sealed=$($WIRE count-marker "$SIM_DIR/sealed2.pcap" "$MARKER")
nsealed=$(capture2 'ip6 and udp port 4790' | grep -c '^[0-9]' || true)
ipv4=$(capture2 'ip' | grep -c '^[0-9]' || true)
echo "     switch: marker in $plain plain VXLAN packets; $nsealed encrypted datagrams, marker in $sealed; $ipv4 IPv4 packets"
[ "$plain" -ge 10 ] || fail "the plain overlay's capture shows the marker in $plain packets, want >= 10"
[ "$nsealed" -ge 10 ] || fail "the capture shows $nsealed encrypted datagrams over IPv6, want >= 10"
[ "$sealed" = 0 ] || fail "the encrypted overlay's capture shows the marker in $sealed packets"
[ "$ipv4" = 0 ] || { capture2 ip | head -3 >&2; fail "$ipv4 IPv4 packets crossed the underlay"; }
echo "ok   encrypted over IPv6: no marker in $nsealed datagrams (plain: $plain), nothing as IPv4"

check "rm va" sim_docker A rm -f va
check "rm vb" sim_docker B rm -f vb
check "rm ca" sim_docker A rm -f ca
check "rm cb" sim_docker B rm -f cb
for h in A B; do
    check "network rm on $h" sim_docker "$h" network rm "$NET"
    check "encrypted network rm on $h" sim_docker "$h" network rm "$VAULT"
    left=$(weft_devices "$h")
    [ -z "$left" ] || fail "devices left on $h after network rm: $left"
done
echo "ok   no weft devices left"
