#!/usr/bin/env bash
# docker_versions.sh: what differs between the Docker releases weft runs under
# (20.10, 26.1, 28.5; tests/run.sh runs the e2e suite once per release), on one host.
# - Network options: -o mtu reaches weft on every release; an unknown option, --ipv6
#   without an IPv6 subnet, and on 28 (which added the option
#   com.docker.network.enable_ipv4) --ipv4=false (IPv6-only overlays are not built
#   yet) are refused with weft's own message, leaving no network behind.
# - docker network inspect lists the container (28 also asks weft's EndpointOperInfo
#   after every Join; the run succeeding shows it is answered).
# - What names across hosts (issue 10) will read from the Engine API: the network
#   connect and disconnect events name the container's full ID and the driver "weft";
#   a container's DNS names (name, --network-alias, short ID, hostname) come from
#   DNSNames on API 1.44 and later (Docker 25+), and from Aliases before, which then
#   also hold the short ID and hostname. Events are read with `docker events`, i.e. the
#   release's own client over its own API version.
# - docker network connect/disconnect of a running container to a second (--internal)
#   weft network, and no weft device left when all is removed.
set -euo pipefail
. "$(dirname "$0")/../lib/sim.sh"

NET=blue
SUBNET=10.77.0.0/24

sim_init
sim_switch
sim_host A 192.168.77.1
sim_etcd
sim_weft A
sim_dockerd A

server=$(sim_docker A version --format '{{.Server.Version}}')
api=$(sim_docker A version --format '{{.Server.APIVersion}}')
echo "dockerd $server, API $api"
major=${server%%.*}
api_minor=${api#1.}

# refused DESCRIPTION EXPECTED_TEXT NETWORK ARGS...: docker network create NETWORK must
# fail with EXPECTED_TEXT in its error, and leave no network of that name.
refused() {
    local desc=$1 want=$2 name=$3 out
    shift 3
    if out=$(sim_docker A network create -d weft --ipam-driver weft "$@" "$name" 2>&1); then
        fail "$desc: accepted ($out)"
    fi
    grep -qF -- "$want" <<<"$out" || fail "$desc: error does not say '$want': $out"
    ! sim_docker A network inspect "$name" >/dev/null 2>&1 || fail "$desc: network $name exists"
    echo "ok   $desc: $out"
}

check "network create with -o mtu=1400" sim_docker A network create -d weft --ipam-driver weft \
    --subnet "$SUBNET" -o mtu=1400 "$NET"
refused "unknown option" 'unknown option "color"' red --subnet 10.78.0.0/24 -o color=red
# Dual-stack overlays work (tests/e2e/docker_dual_stack.sh); --ipv6 needs its subnet.
refused "--ipv6 without one" "weft needs an IPv6 --subnet with --ipv6" six \
    --subnet 10.79.0.0/24 --ipv6
if [ "$major" -ge 28 ]; then
    # The IPv6 pool is granted, then CreateNetwork refuses the missing IPv4 first.
    refused "--ipv4=false --ipv6" "weft overlays need an IPv4 subnet too" six --ipv4=false --ipv6 \
        --subnet fd00:78::/64
    refused "--ipv4=false alone" "weft overlays need an IPv4 subnet too" six --ipv4=false
fi

# Everything from here is collected from the events stream of this window.
since=$(date +%s)
check "container ca" sim_docker A run -d --network "$NET" --name ca --network-alias api \
    --hostname hca weft-test sleep 600
id=$(sim_docker A inspect -f '{{.Id}}' ca)
short=${id:0:12}
ip=$(sim_docker A inspect -f "{{(index .NetworkSettings.Networks \"$NET\").IPAddress}}" ca)
case "$ip" in 10.77.0.*) ;; *) fail "ca's address $ip is not in $SUBNET" ;; esac
mtu=$(sim_docker A exec ca sh -c "ip -o addr show | awk '\$4 ~ \"^$ip/\" {print \$2}' | xargs -I{} cat /sys/class/net/{}/mtu")
[ "$mtu" = 1400 ] || fail "ca's overlay interface has MTU '$mtu', want 1400 (-o mtu=1400)"
echo "ok   ca has $ip with MTU 1400"

# The names a container answers to on this network, as this API reports them.
if [ "$api_minor" -ge 44 ]; then
    names=$(sim_docker A inspect -f "{{json (index .NetworkSettings.Networks \"$NET\").DNSNames}}" ca)
    field=DNSNames
else
    names=$(sim_docker A inspect -f "{{json (index .NetworkSettings.Networks \"$NET\").Aliases}}" ca)
    field=Aliases
fi
for n in api "$short" hca; do
    grep -qF "\"$n\"" <<<"$names" || fail "$field of ca on $NET lacks $n: $names"
done
echo "ok   $field of ca on $NET: $names"
if [ "$api_minor" -ge 44 ]; then
    aliases=$(sim_docker A inspect -f "{{json (index .NetworkSettings.Networks \"$NET\").Aliases}}" ca)
    [ "$aliases" = '["api"]' ] || fail "Aliases on API $api should hold only --network-alias: $aliases"
    echo "ok   Aliases holds only the --network-alias: $aliases"
fi

sim_docker A network inspect -f '{{json .Containers}}' "$NET" | grep -F "\"$ip/" >/dev/null ||
    fail "docker network inspect does not list ca with $ip"
echo "ok   docker network inspect lists ca with $ip"

check "network create --internal second" sim_docker A network create -d weft --ipam-driver weft \
    --internal --subnet 10.80.0.0/24 second
check "network connect second ca" sim_docker A network connect second ca
ip2=$(sim_docker A inspect -f '{{(index .NetworkSettings.Networks "second").IPAddress}}' ca)
case "$ip2" in 10.80.0.*) ;; *) fail "ca's address on second is '$ip2'" ;; esac
check "ca has $ip2 inside" sh -c "$SIM_DOCKER -H unix://$SIM_DIR/A/docker.sock exec ca ip -o addr show | grep -qF ' $ip2/'"
check "network disconnect second ca" sim_docker A network disconnect second ca
check "network rm second" sim_docker A network rm second
check "docker rm -f ca" sim_docker A rm -f ca
until_=$(($(date +%s) + 1))

# The events names will follow: connect and disconnect of ca on blue, from weft.
events=$(sim_docker A events --since "$since" --until "$until_" --filter type=network \
    --format '{{.Action}} {{.Actor.ID}} {{index .Actor.Attributes "container"}} {{index .Actor.Attributes "type"}} {{index .Actor.Attributes "name"}}')
printf '%s\n' "$events" | sed 's/^/     event: /'
netid=$(sim_docker A network inspect -f '{{.Id}}' "$NET")
for action in connect disconnect; do
    grep -qE "^$action $netid $id weft $NET\$" <<<"$events" ||
        fail "no '$action' event naming network $NET ($netid), container $id and driver weft"
done
grep -qE "^connect [0-9a-f]{64} $id weft second\$" <<<"$events" ||
    fail "no connect event for the second network"
echo "ok   network events name the container's full ID and the driver weft"

check "network rm $NET" sim_docker A network rm "$NET"
left=$(weft_devices A)
[ -z "$left" ] || fail "devices left on A: $left"
echo "ok   no weft devices left on A"
grep -E 'ERROR: AddressSanitizer|runtime error' "$SIM_DIR/A/weft.log" && fail "sanitizer report in weft log"
sim_weft_stop A || fail "weft needed SIGKILL to stop"
echo "PASS docker_versions on Docker $server"
