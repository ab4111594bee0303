# plugin.sh: Docker's side of the plugin protocol, by hand, for tests without Docker.
# Sourced after sim.sh. The caller declares, before use:
#   SUBNET, HADDR (host -> underlay address) and the associative arrays
#   POOL NID GW EID IP MAC SRC (filled per host by create_network / create_endpoint).
# Checks read whole outputs (grep without -q): under pipefail an early-exiting
# grep -q makes the writer die of SIGPIPE and fails a check that matched.
# A "container" is namespace c<HOST> holding the endpoint's veth end as eth0.
# requires_mac: true when weft IPAM asks Docker for MACs (the caller may probe it).
# NET_GENERIC: the -o options CreateNetwork passes (JSON object, default {}); CTR: the
# prefix of the containers' names (default c: namespace c<HOST>), so that one test can
# keep two networks' containers apart. SUBNET6 (default none): the network is
# dual-stack with this IPv6 pool too (POOL6 GW6 IP6 per host, declared here).
# EXTRA_SUBNET (default none): a second IPv4 subnet of the network (POOLX per host);
# EP_EXTRA=1 takes the next endpoint's address from it. Join's connected routes (to
# the network's other subnets) go into the container, as Docker puts them.
requires_mac=${requires_mac:-false}
NET_GENERIC=${NET_GENERIC:-'{}'}
CTR=${CTR:-c}
SUBNET6=${SUBNET6:-}
EXTRA_SUBNET=${EXTRA_SUBNET:-}
EP_EXTRA=${EP_EXTRA:-}
declare -gA POOL6 GW6 IP6 POOLX

call() { # HOST PATH JSON: fails the test on an error answer
    local out
    out=$(sim_plugin_call "$@") || fail "$1 $2 answered an error: $out (request: ${3:-})"
    printf '%s\n' "$out"
}

# A pool and its gateway address, as Docker asks for each subnet of a network:
# prints "POOL_ID GATEWAY".
pool_with_gateway() { # HOST ADDRESS_SPACE SUBNET V6(true|false)
    local out pool
    out=$(call "$1" IpamDriver.RequestPool \
        "{\"AddressSpace\":\"$2\",\"Pool\":\"$3\",\"SubPool\":\"\",\"Options\":{},\"V6\":$4}")
    pool=$(sim_json_str PoolID <<<"$out")
    [ "$(sim_json_str Pool <<<"$out")" = "$3" ] || fail "RequestPool $3 on $1: $out"
    out=$(call "$1" IpamDriver.RequestAddress \
        "{\"PoolID\":\"$pool\",\"Address\":\"\",\"Options\":{\"RequestAddressType\":\"com.docker.network.gateway\"}}")
    echo "$pool $(sim_json_str Address <<<"$out")"
}

# What docker network create sends, in order.
create_network() { # HOST
    local h=$1 out space gw
    out=$(call "$h" Plugin.Activate '')
    grep -q NetworkDriver <<<"$out" && grep -q IpamDriver <<<"$out" ||
        fail "Activate on $h: $out"
    call "$h" NetworkDriver.GetCapabilities '' >/dev/null
    call "$h" IpamDriver.GetCapabilities '' >/dev/null
    space=$(call "$h" IpamDriver.GetDefaultAddressSpaces '' | sim_json_str LocalDefaultAddressSpace)
    out=$(pool_with_gateway "$h" "$space" "$SUBNET" false)
    read -r 'POOL[$h]' 'GW[$h]' <<<"$out"
    local ipv6=false v6data= v4extra=
    if [ -n "$EXTRA_SUBNET" ]; then
        out=$(pool_with_gateway "$h" "$space" "$EXTRA_SUBNET" false)
        read -r 'POOLX[$h]' gw <<<"$out"
        v4extra=",{\"AddressSpace\":\"$space\",\"Gateway\":\"$gw\",\"Pool\":\"$EXTRA_SUBNET\"}"
    fi
    if [ -n "$SUBNET6" ]; then
        out=$(pool_with_gateway "$h" "$space" "$SUBNET6" true)
        read -r 'POOL6[$h]' 'GW6[$h]' <<<"$out"
        ipv6=true
        v6data="{\"AddressSpace\":\"$space\",\"Gateway\":\"${GW6[$h]}\",\"Pool\":\"$SUBNET6\"}"
    fi
    NID[$h]=$(sim_random_id)
    call "$h" NetworkDriver.CreateNetwork "{\"NetworkID\":\"${NID[$h]}\",\"Options\":{\"com.docker.network.enable_ipv6\":$ipv6,\"com.docker.network.generic\":$NET_GENERIC},\"IPv4Data\":[{\"AddressSpace\":\"$space\",\"Gateway\":\"${GW[$h]}\",\"Pool\":\"$SUBNET\"}$v4extra],\"IPv6Data\":[$v6data]}" >/dev/null
    echo "ok   $h created the network (pool ${POOL[$h]}, gateway ${GW[$h]}${SUBNET6:+, ${GW6[$h]}})"
}

create_endpoint() { # HOST
    local h=$1 want_mac= opts out got_mac
    { [ "$h" = C ] || $requires_mac; } && want_mac=$(printf '02:42:%02x:%02x:%02x:%02x' $((RANDOM % 256)) \
        $((RANDOM % 256)) $((RANDOM % 256)) $((RANDOM % 256)))
    opts=null
    $requires_mac && opts="{\"com.docker.network.endpoint.macaddress\":\"$want_mac\"}"
    local pool=${POOL[$h]}
    [ -n "$EP_EXTRA" ] && pool=${POOLX[$h]}
    out=$(call "$h" IpamDriver.RequestAddress \
        "{\"PoolID\":\"$pool\",\"Address\":\"\",\"Options\":$opts}")
    IP[$h]=$(sim_json_str Address <<<"$out")
    [[ "${IP[$h]}" == [0-9]*.*/"${SUBNET#*/}" ]] || fail "RequestAddress on $h: $out"
    IP6[$h]=
    if [ -n "$SUBNET6" ]; then
        out=$(call "$h" IpamDriver.RequestAddress "{\"PoolID\":\"${POOL6[$h]}\",\"Address\":\"\",\"Options\":null}")
        IP6[$h]=$(sim_json_str Address <<<"$out")
        [[ "${IP6[$h]}" == *:*/"${SUBNET6#*/}" ]] || fail "RequestAddress (IPv6) on $h: $out"
    fi
    EID[$h]=$(sim_random_id)
    out=$(call "$h" NetworkDriver.CreateEndpoint "{\"NetworkID\":\"${NID[$h]}\",\"EndpointID\":\"${EID[$h]}\",\"Interface\":{\"Address\":\"${IP[$h]}\",\"AddressIPv6\":\"${IP6[$h]}\",\"MacAddress\":\"$want_mac\"},\"Options\":{\"com.docker.network.endpoint.exposedports\":[],\"com.docker.network.portmap\":[]}}")
    got_mac=$(sim_json_str MacAddress <<<"$out")
    if [ -n "$want_mac" ]; then
        [ -z "$got_mac" ] || fail "CreateEndpoint on $h returned MacAddress although the request set it: $out"
        MAC[$h]=$want_mac
    else
        [ -n "$got_mac" ] || fail "CreateEndpoint on $h without a MAC returned none: $out"
        MAC[$h]=$got_mac
    fi
    out=$(call "$h" NetworkDriver.Join "{\"NetworkID\":\"${NID[$h]}\",\"EndpointID\":\"${EID[$h]}\",\"SandboxKey\":\"/var/run/docker/netns/fake$h\",\"Options\":{\"com.docker.network.endpoint.exposedports\":[],\"com.docker.network.portmap\":[]}}")
    SRC[$h]=$(sim_json_str SrcName <<<"$out")
    [ -n "${SRC[$h]}" ] || fail "Join on $h returned no SrcName: $out"
    grep -q '"DstPrefix" *: *"eth"' <<<"$out" || fail "Join on $h: DstPrefix is not eth: $out"
    sim_fake_container "$h" "$CTR$h" "${SRC[$h]}" "${IP[$h]}" "${MAC[$h]}" ||
        fail "moving ${SRC[$h]} out of $h"
    local route
    for route in $(grep -o '"Destination" *: *"[^"]*"' <<<"$out" | sed 's/.*"\([^"]*\)"$/\1/'); do
        sim_ns_exec "$CTR$h" ip route add "$route" dev eth0 || fail "Join's route to $route in $CTR$h"
    done
    # As Docker does for a dual-stack network: IPv6 on, no duplicate detection.
    if [ -n "${IP6[$h]}" ]; then
        sim_ns_exec "$CTR$h" sysctl -qw net.ipv6.conf.eth0.disable_ipv6=0 &&
            sim_ns_exec "$CTR$h" ip -6 addr add "${IP6[$h]}" dev eth0 nodad ||
            fail "giving $CTR$h its IPv6 address"
    fi
    echo "ok   $h: endpoint ${IP[$h]}${IP6[$h]:+ ${IP6[$h]}} ${MAC[$h]} via ${SRC[$h]}"
}

pings() { sim_ns_exec "$CTR$1" ping -c 1 -W 1 "${IP[$2]%/*}"; }

# Withdrawal: C's endpoint leaves; A and B must drop its FDB and neighbour entries.
has_peer() { # HOST PEERHOST
    sim_ns_exec "$1" bridge fdb show | grep -i "^${MAC[$2]} .*dst ${HADDR[$2]}" >/dev/null &&
        sim_ns_exec "$1" ip neigh show "${IP[$2]%/*}" | grep -i "${MAC[$2]}" >/dev/null
}

lacks_peer() {
    ! sim_ns_exec "$1" bridge fdb show | grep -i "^${MAC[$2]} " >/dev/null &&
        ! sim_ns_exec "$1" ip neigh show "${IP[$2]%/*}" | grep -i "${MAC[$2]}" >/dev/null
}

remove_endpoint() { # HOST
    local h=$1
    call "$h" NetworkDriver.Leave "{\"NetworkID\":\"${NID[$h]}\",\"EndpointID\":\"${EID[$h]}\"}" >/dev/null
    sim_fake_container_del "$h" "$CTR$h" "${SRC[$h]}"
    call "$h" NetworkDriver.DeleteEndpoint "{\"NetworkID\":\"${NID[$h]}\",\"EndpointID\":\"${EID[$h]}\"}" >/dev/null
    call "$h" IpamDriver.ReleaseAddress "{\"PoolID\":\"${POOL[$h]}\",\"Address\":\"${IP[$h]%/*}\"}" >/dev/null
}

# What a host's kernel holds for the overlays (the weft VXLAN devices' FDB and neighbours).
fdb_of() { sim_ns_exec "$1" bridge fdb show | grep ' dev wvx' || true; } # HOST
neigh_of() { sim_ns_exec "$1" ip neigh show | grep ' dev wvx' || true; } # HOST
lacks_mac() { ! grep -i "$2" <<<"$(fdb_of "$1")$(neigh_of "$1")" >/dev/null; } # HOST MAC
# A peer record's body, as a host publishes it.
peer_json() { printf '{"ip":"%s","mac":"%s","vtep":"%s"}' "$1" "$2" "$3"; } # IP MAC VTEP
weft_alive() { kill -0 "$(sim_weft_pid "$1")" 2>/dev/null; } # HOST

