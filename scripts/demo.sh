#!/usr/bin/env bash
# demo.sh: weft on two simulated hosts, narrated. Everything runs in network
# namespaces this script creates (nothing touches the machine's own network) and
# is removed at the end, or on Ctrl-C. Needs root, build/weft, etcd, dockerd and
# busybox-static; `make demo` installs and builds what is missing, then runs this.
set -euo pipefail
. "$(dirname "$0")/../tests/lib/sim.sh"

SUBNET=10.77.0.0/24
say() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }
show() { # HOST 'COMMAND': prints it as typed on that host, then runs it there
    printf '  [host %s]$ %s\n' "$1" "$2"
    sim_ns_exec "$1" sh -c "$2" 2>&1 | sed "s/^/    /" || true
}
quiet_run() { # docker run, without the warning about forwarding (off on purpose here)
    sim_docker "$@" 2> >(grep -v 'IPv4 forwarding' >&2)
}

sim_init
say "Two hosts, A (192.168.77.1) and B (192.168.77.2), on one L2 segment, each a network namespace"
sim_switch
sim_host A 192.168.77.1
sim_host B 192.168.77.2

say "etcd at 192.168.77.250:2379: the cluster state every weft daemon shares"
sim_etcd

say "weft daemon on each host: weft daemon --store etcd://192.168.77.250:2379 --advertise <host address>"
sim_weft A
sim_weft B

say "A Docker daemon on each host (takes a few seconds)"
sim_dockerd A
sim_dockerd B

say "Create the network on both hosts, with the same subnet: that names the overlay"
for h in A B; do
    printf '  [host %s]$ docker network create -d weft --ipam-driver weft --subnet %s blue\n' "$h" "$SUBNET"
    sim_docker "$h" network create -d weft --ipam-driver weft --subnet "$SUBNET" blue |
        sed 's/^/    /'
done

say "Start a container on each host"
printf '  [host A]$ docker run -d --network blue --name ca weft-test sleep 600\n'
quiet_run A run -d --network blue --name ca weft-test sleep 600 | sed 's/^/    /'
printf '  [host B]$ docker run -d --network blue --name cb weft-test sleep 600\n'
quiet_run B run -d --network blue --name cb weft-test sleep 600 | sed 's/^/    /'
ipa=$(sim_docker A inspect -f '{{(index .NetworkSettings.Networks "blue").IPAddress}}' ca)
ipb=$(sim_docker B inspect -f '{{(index .NetworkSettings.Networks "blue").IPAddress}}' cb)
echo "    ca has $ipa, cb has $ipb: one subnet, addresses handed out cluster-wide"

say "Ping across hosts, over VXLAN"
printf '  [host A]$ docker exec ca ping -c 3 %s\n' "$ipb"
sim_docker A exec ca ping -c 3 -W 2 "$ipb" | sed 's/^/    /'

say "A TCP exchange: cb listens on port 5000, ca sends a line"
sim_docker B exec -d cb sh -c 'timeout 15 nc -l -p 5000 > /tmp/got'
sleep 0.5
printf '  [host A]$ docker exec ca sh -c "echo hello from ca on host A | nc %s 5000"\n' "$ipb"
sim_docker A exec ca sh -c "echo hello from ca on host A | timeout 5 nc -w 3 $ipb 5000" || true
sleep 0.5
printf '  [host B]$ docker exec cb cat /tmp/got\n'
sim_docker B exec cb cat /tmp/got | sed 's/^/    /'

say "What weft built on host A: a bridge and a VXLAN device for the overlay"
show A 'ip -br link show type bridge'
show A 'ip -br link show type vxlan' 
say "and, from the etcd watch, a static entry for cb's MAC pointing at host B"
show A "bridge fdb show | grep 'dst 192.168.77.2'"
show A "ip neigh show $ipb"

say "Done. Removing containers, networks, daemons and namespaces"
sim_docker A rm -f ca >/dev/null
sim_docker B rm -f cb >/dev/null
sim_docker A network rm blue >/dev/null
sim_docker B network rm blue >/dev/null
sim_cleanup
echo "    all gone."
