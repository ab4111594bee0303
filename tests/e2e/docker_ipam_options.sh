#!/usr/bin/env bash
# docker_ipam_options.sh: Docker's IPAM options with real dockerd on two simulated
# hosts (issue 12). "docker network create ... --ip-range 10.76.0.128/25
# --aux-address router=10.76.0.130 -o com.docker.network.driver.mtu=1400" on both
# hosts: containers on both get addresses in the range and never the aux address,
# MTU 1400, and they ping; --ip outside the range but inside the subnet works; a
# third daemon's network with another --ip-range is refused naming the range in use.
# Several --subnet on one network ("--subnet 10.75.0.0/24 --subnet 10.75.1.0/24"): a host
# passing only the first is refused naming the other; a container in each subnet, on
# different hosts, ping each other (one segment, connected routes), also after weft on B
# restarts; each resolves the other's name (and address, PTR) at weft's resolver on the
# first subnet's gateway; each address's record is under its own subnet; removing the
# networks leaves no address of either pool in the store.
set -euo pipefail
. "$(dirname "$0")/../lib/sim.sh"

SUBNET=10.76.0.0/24
RANGE=10.76.0.128/25
AUX=10.76.0.130
NET=ranged

sim_init
sim_switch
sim_host A 192.168.77.1
sim_host B 192.168.77.2
sim_etcd
sim_weft A
sim_weft B
sim_dockerd A
sim_dockerd B

for h in A B; do
    check "network create on $h" sim_docker "$h" network create -d weft --ipam-driver weft \
        --subnet "$SUBNET" --ip-range "$RANGE" --aux-address "router=$AUX" \
        -o com.docker.network.driver.mtu=1400 "$NET"
done

ip_of() { # HOST CONTAINER
    sim_docker "$1" inspect -f "{{(index .NetworkSettings.Networks \"$NET\").IPAddress}}" "$2"
}
in_range() { # IP: 10.76.0.128 to 10.76.0.254, and never the aux address
    local last=${1##*.}
    [[ "$1" == 10.76.0.* ]] && [ "$last" -ge 128 ] && [ "$last" -le 254 ] && [ "$1" != "$AUX" ]
}

# Three containers per host: every dynamic address in the range, none the aux one.
declare -a ips=()
for h in A B; do
    for i in 1 2 3; do
        c=c$h$i
        check "container $c on $h" sim_docker "$h" run -d --network "$NET" --name "$c" weft-test sleep 600
        ip=$(ip_of "$h" "$c")
        in_range "$ip" || fail "$c got $ip: outside --ip-range $RANGE, or the aux address $AUX"
        ips+=("$ip")
    done
done
echo "ok   dynamic addresses ${ips[*]} all in $RANGE, none $AUX"
[ "$(printf '%s\n' "${ips[@]}" | sort -u | wc -l)" = 6 ] || fail "duplicate addresses: ${ips[*]}"

# --ip outside the range but inside the subnet; --ip on the aux address is refused.
check "--ip 10.76.0.20 on B" sim_docker B run -d --network "$NET" --ip 10.76.0.20 --name fixed \
    weft-test sleep 600
[ "$(ip_of B fixed)" = 10.76.0.20 ] || fail "fixed got $(ip_of B fixed), want 10.76.0.20"
if out=$(sim_docker A run -d --network "$NET" --ip "$AUX" --name onaux weft-test sleep 600 2>&1); then
    fail "--ip $AUX (an aux address) was accepted: $out"
fi
grep -q -- '--aux-address' <<<"$out" || fail "--ip on the aux address: refusal does not name --aux-address: $out"
sim_docker A rm -f onaux >/dev/null 2>&1 || true
echo "ok   --ip on the aux address refused: $(grep -- --aux-address <<<"$out")"
# In the store: one shared aux record, and no host's fabric claim of it.
sim_etcdctl get "/weft/v1/addrs/10.76.0.0_24/$AUX" --print-value-only | grep '"kind":"aux"' >/dev/null ||
    fail "no aux record for $AUX: $(sim_etcdctl get --prefix /weft/v1/addrs/10.76.0.0_24/$AUX)"
claims=$(sim_etcdctl get --prefix /weft/v1/fabric/ --keys-only | grep "/peers/$AUX\$" || true)
[ -z "$claims" ] || fail "the aux address is claimed in the fabric as an endpoint: $claims"
echo "ok   $AUX is an aux record, claimed by no host"

ipa=$(ip_of A cA1)
ipb=$(ip_of B cB1)
ifa=$(sim_docker A exec cA1 ip -o -4 addr show | awk -v ip="$ipa" '$4 ~ "^"ip"/" {print $2}')
mtu=$(sim_docker A exec cA1 cat "/sys/class/net/$ifa/mtu")
[ "$mtu" = 1400 ] || fail "overlay interface $ifa in cA1 has MTU $mtu, want 1400"
echo "ok   cA1's $ifa has MTU 1400 (com.docker.network.driver.mtu)"
check "cA1 pings cB1" sim_docker A exec cA1 ping -c 2 -i 0.2 -W 2 "$ipb"
check "cB1 pings cA1" sim_docker B exec cB1 ping -c 2 -i 0.2 -W 2 "$ipa"
check "cA1 pings fixed (10.76.0.20, outside the range)" sim_docker A exec cA1 ping -c 2 -i 0.2 -W 2 10.76.0.20

# Another --ip-range for the same subnet: refused, naming the range in use.
if out=$(sim_docker B network create -d weft --ipam-driver weft --subnet "$SUBNET" \
    --ip-range 10.76.0.0/25 other 2>&1); then
    fail "a second --ip-range for $SUBNET was accepted: $out"
fi
grep -q -- "--ip-range $RANGE" <<<"$out" || fail "range refusal does not name $RANGE: $out"
echo "ok   other --ip-range refused: $out"

# ---- several --subnet on one network ----
MULTI=multi
SIX_A=fd75::/64 SIX_B=fd75:0:0:1::/64
check "network create $MULTI with two subnets of each family on A" sim_docker A network create \
    -d weft --ipam-driver weft --subnet 10.75.0.0/24 --subnet 10.75.1.0/24 --ipv6 \
    --subnet "$SIX_A" --subnet "$SIX_B" "$MULTI"
if out=$(sim_docker B network create -d weft --ipam-driver weft --subnet 10.75.0.0/24 --ipv6 \
    --subnet "$SIX_A" --subnet "$SIX_B" "$MULTI" 2>&1); then
    fail "B's $MULTI with only the first subnet was accepted: $out"
fi
grep -q "10.75.1.0/24" <<<"$out" || fail "the refusal does not name the other subnet: $out"
echo "ok   B with --subnet 10.75.0.0/24 alone refused: $out"
if out=$(sim_docker B network create -d weft --ipam-driver weft --subnet 10.75.0.0/24 \
    --subnet 10.75.1.0/24 --ipv6 --subnet "$SIX_A" "$MULTI" 2>&1); then
    fail "B's $MULTI with only the first IPv6 subnet was accepted: $out"
fi
grep -q "$SIX_B" <<<"$out" || fail "the refusal does not name the other IPv6 subnet: $out"
echo "ok   B with one IPv6 subnet of two refused: $out"
check "network create $MULTI with all four subnets on B" sim_docker B network create -d weft \
    --ipam-driver weft --subnet 10.75.1.0/24 --subnet 10.75.0.0/24 --ipv6 --subnet "$SIX_B" \
    --subnet "$SIX_A" "$MULTI"
multi_ip() { # HOST CONTAINER
    sim_docker "$1" inspect -f "{{(index .NetworkSettings.Networks \"$MULTI\").IPAddress}}" "$2"
}
# mA and mB pick one subnet each; then Docker asks one pool for mD's dynamic address (its
# CLI orders the subnets at random): in either. (mD first could draw 10.75.0.10 or
# 10.75.1.10 at random, about once in 130 runs, and the fixed ones would be refused.)
check "mA (--ip 10.75.0.10 --ip6 fd75::10) on A" sim_docker A run -d --network "$MULTI" \
    --ip 10.75.0.10 --ip6 fd75::10 --name mA weft-test sleep 600
check "mB (--ip 10.75.1.10 --ip6 fd75::1:0:0:10) on B" sim_docker B run -d --network "$MULTI" \
    --ip 10.75.1.10 --ip6 fd75::1:0:0:10 --name mB weft-test sleep 600
check "mD (dynamic) on A" sim_docker A run -d --network "$MULTI" --name mD weft-test sleep 600
[[ "$(multi_ip A mD)" =~ ^10\.75\.[01]\.[0-9]+$ ]] || fail "mD got '$(multi_ip A mD)', in neither subnet"
ma=$(multi_ip A mA)
[ "$ma" = 10.75.0.10 ] || fail "mA got $ma, want 10.75.0.10"
[ "$(multi_ip B mB)" = 10.75.1.10 ] || fail "mB got $(multi_ip B mB), want 10.75.1.10"
check "mB pings mD" sim_docker B exec mB ping -c 2 -i 0.2 -W 2 "$(multi_ip A mD)"
route=$(sim_docker A exec mA ip route show 10.75.1.0/24)
grep -q "dev" <<<"$route" || fail "mA has no connected route to 10.75.1.0/24: $(sim_docker A exec mA ip route)"
echo "ok   mD $(multi_ip A mD), mA $ma, mB 10.75.1.10; mA's route: $route"
peer_keys() { sim_etcdctl get --prefix /weft/v1/fabric/ --keys-only | grep -E "/10\.75\.[01]\.0_24/peers/" || true; }
peer_keys | grep -q "10.75.1.0_24/peers/10.75.1.10\$" || fail "mB's record is not under its subnet: $(peer_keys)"
peer_keys | grep -q "10.75.0.0_24/peers/$ma\$" || fail "mA's record is not under its subnet: $(peer_keys)"
check "mA pings mB across subnets" sim_docker A exec mA ping -c 2 -i 0.2 -W 2 10.75.1.10
check "mB pings mA across subnets" sim_docker B exec mB ping -c 2 -i 0.2 -W 2 "$ma"
route6=$(sim_docker A exec mA ip -6 route show "$SIX_B")
grep -q "dev" <<<"$route6" || fail "mA has no connected route to $SIX_B: $(sim_docker A exec mA ip -6 route)"
check "mA pings mB over IPv6 across subnets" sim_docker A exec mA ping -6 -c 2 -i 0.2 -W 2 fd75::1:0:0:10
check "mB pings mA over IPv6 across subnets" sim_docker B exec mB ping -6 -c 2 -i 0.2 -W 2 fd75::10
# Weft's resolver at the overlay's gateway (the first subnet's) answers both subnets'
# containers: mB, in the extra one, asks it across subnets (its service port holds an
# on-link route back), for A records and for PTR of addresses in either subnet.
multi_addrs() { # HOST CONTAINER NAME: the addresses weft's resolver gives for NAME
    sim_docker "$1" exec "$2" nslookup "$3" 10.75.0.1 2>/dev/null |
        sed -n 's/^Address: \([0-9.]*\)$/\1/p' | grep -v '^10\.75\.0\.1$' | tr '\n' ' '
}
mb_sees_ma() { [ "$(multi_addrs B mB mA)" = "$ma " ]; }
ma_sees_mb() { [ "$(multi_addrs A mA mB)" = "10.75.1.10 " ]; }
check "mB (10.75.1.10) resolves mA to $ma at 10.75.0.1" wait_for 10 mb_sees_ma
check "mA resolves mB to 10.75.1.10 at 10.75.0.1" wait_for 10 ma_sees_mb
ptr_of() { # HOST CONTAINER ADDRESS NAME
    sim_docker "$1" exec "$2" nslookup "$3" 10.75.0.1 2>/dev/null | grep -F "name = $4" >/dev/null
}
check "mA resolves 10.75.1.10 back to mb (PTR in the extra subnet)" wait_for 10 ptr_of A mA 10.75.1.10 mb
check "mB resolves $ma back to ma (PTR in the first subnet)" wait_for 10 ptr_of B mB "$ma" ma
echo "ok   mA and mB find each other by name and address at weft's resolver, across subnets"
check "weft on B stops" sim_weft_stop B
check "weft on B starts again" sim_weft B
mb_back() { sim_docker B exec mB ping -c 1 -W 1 "$ma" >/dev/null 2>&1; }
check "mB pings mA after weft on B restarted" wait_for 10 mb_back
check "mA pings mB after weft on B restarted" sim_docker A exec mA ping -c 2 -i 0.2 -W 2 10.75.1.10

for h in A B; do
    sim_docker_rm_all "$h"
    check "network rm on $h" sim_docker "$h" network rm "$NET"
    check "network rm $MULTI on $h" sim_docker "$h" network rm "$MULTI"
done
left=$(sim_etcdctl get --prefix /weft/v1/ --keys-only | grep -E "10\.75\.[01]\.0_24|fd75" || true)
[ -z "$left" ] || fail "records of $MULTI's subnets left in the store: $left"
echo "ok   nothing of the four subnets left in the store"
for h in A B; do
    grep -E 'ERROR: AddressSanitizer|runtime error' "$SIM_DIR/$h/weft.log" &&
        fail "sanitizer report in weft log on $h"
done
for h in A B; do
    sim_weft_stop "$h" || fail "weft on $h needed SIGKILL to stop"
done
echo "PASS docker_ipam_options"
