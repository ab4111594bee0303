#!/usr/bin/env bash
# docker_managed_plugin.sh: weft installed as people install Docker plugins (issue 13):
# the directory `make plugin` builds (scripts/plugin-rootfs.sh: config.json + rootfs)
# goes in with `docker plugin create weft DIR`, its settings with `docker plugin set`,
# and `docker plugin enable weft` starts it, on each of two simulated hosts; no weft
# runs outside Docker. Then the checks of the socket-installed daemon: containers on
# A and B on one weft network ping each other both ways by address and by name (weft's
# resolver, names read through the mounted Docker API socket), A holds cb's FDB entry,
# an encrypted overlay carries ping (the plugin's /dev/net/tun), and `weft status`
# answers from the host on the plugin's control socket. The upgrade of
# README: the plugin disabled (-f, networks in use), removed, created and enabled again
# while the containers run: they keep pinging throughout, and the new instance serves
# the old network (a new container on it reaches cb). Last, network rm leaves no weft
# device on either host and nothing of the subnet in etcd, and the plugin disables and
# removes cleanly.
set -euo pipefail
. "$(dirname "$0")/../lib/sim.sh"

SUBNET=10.79.0.0/24 GW=10.79.0.1 NET=green VAULT=10.89.0.0/24 PLUGIN=weft
# The driver name is the plugin's full reference, tag included: dockerd registers the
# drivers under it, and `-d weft` gives "could not resolve driver weft in registry"
# (moby/moby#33347; 20.10 to 28.5).
DRIVER=weft:latest

sim_init
sim_switch
sim_host A 192.168.77.1
sim_host B 192.168.77.2
sim_etcd
"$SIM_REPO/scripts/plugin-rootfs.sh" "$SIM_REPO/build/weft" "$SIM_DIR/plugin" ||
    fail "assembling the plugin directory"
sim_dockerd A
sim_dockerd B

# The plugin's container is dockerd's (through containerd), in a cgroup named by the
# plugin's ID, not in this run's: dockerd stops it as it stops, and whatever is left of
# it (dockerd killed first) is killed by that ID once sim_cleanup has stopped dockerd,
# which would restart a plugin killed under it.
plugin_id() { sim_docker "$1" plugin inspect -f '{{.Id}}' "$PLUGIN" 2>/dev/null; } # HOST
pids_of_id() { grep -l -- "$1" /proc/[0-9]*/cgroup 2>/dev/null | cut -d/ -f3 || true; } # ID
plugin_pids() { # HOST: the processes of HOST's plugin container
    local id
    id=$(cat "$SIM_DIR/$1/plugin.id" 2>/dev/null) || return 0
    pids_of_id "$id"
}
stop_plugins() {
    local rc=$? ids id pid
    set +e
    ids=$(cat "$SIM_DIR"/*/plugin.id 2>/dev/null)
    (exit "$rc")
    sim_cleanup # sees the test's status: a failure keeps the logs
    for id in $ids; do
        for pid in $(pids_of_id "$id"); do kill -KILL "$pid" 2>/dev/null; done
    done
    exit "$rc"
}
trap stop_plugins EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# install_plugin HOST: docker plugin create, set, enable, as README says, with the simulated
# host's sockets and folders instead of /var/run/docker.sock and /etc/weft.
install_plugin() {
    local h=$1 d=$SIM_DIR/$1
    mkdir -p "$d/etc-weft"
    cp "$SIM_DIR/resolv.conf" "$d/etc-weft/resolv.conf" # no resolver beyond the simulation
    [ -f "$SIM_DIR/secret" ] || "$SIM_REPO/build/weft" keygen >"$SIM_DIR/secret"
    command install -m 0600 "$SIM_DIR/secret" "$d/etc-weft/secret"
    check "docker plugin create on $h" sim_docker "$h" plugin create "$PLUGIN" "$SIM_DIR/plugin"
    check "docker plugin set on $h" sim_docker "$h" plugin set "$PLUGIN" \
        WEFT_STORE="$(sim_etcd_url)" WEFT_ADVERTISE="$(sim_host_addr "$h")" \
        WEFT_RESOLV_CONF=/etc/weft/resolv.conf WEFT_SECRET_FILE=/etc/weft/secret \
        docker.source="$d/docker.sock" etc.source="$d/etc-weft"
    check "docker plugin enable on $h" sim_docker "$h" plugin enable "$PLUGIN"
    plugin_id "$h" >"$d/plugin.id"
    has_plugin_pids "$h" || fail "no process found by the plugin's ID on $h (cleanup would miss it)"
}
has_plugin_pids() { [ -n "$(plugin_pids "$1")" ]; }
for h in A B; do install_plugin "$h"; done
caps=$(sim_docker A plugin inspect -f '{{.Config.Linux.Capabilities}}' "$PLUGIN")
[ "$caps" = "[CAP_NET_ADMIN CAP_SYS_ADMIN CAP_NET_BIND_SERVICE]" ] || fail "plugin capabilities: $caps"
echo "ok   the plugin asks for $caps only, host networking: $(sim_docker A plugin inspect \
    -f '{{.Config.Network.Type}}' "$PLUGIN")"

for h in A B; do
    check "network create on $h" sim_docker "$h" network create -d "$DRIVER" \
        --ipam-driver "$DRIVER" --subnet "$SUBNET" "$NET"
done
check "container ca on A" sim_docker A run -d --network "$NET" --dns "$GW" --name ca weft-test sleep 600
check "container cb on B" sim_docker B run -d --network "$NET" --dns "$GW" --name cb weft-test sleep 600
ip_of() { sim_docker "$1" inspect -f "{{(index .NetworkSettings.Networks \"$NET\").IPAddress}}" "$2"; }
ipa=$(ip_of A ca) ipb=$(ip_of B cb)
macb=$(sim_docker B inspect -f "{{(index .NetworkSettings.Networks \"$NET\").MacAddress}}" cb)
echo "ca=$ipa cb=$ipb (mac $macb)"
case "$ipa $ipb" in 10.79.0.*' '10.79.0.*) ;; *) fail "addresses outside $SUBNET: '$ipa' '$ipb'" ;; esac
[ "$ipa" != "$ipb" ] || fail "both containers got $ipa"

check "ca pings cb" sim_docker A exec ca ping -c 2 -i 0.2 -W 2 "$ipb"
check "cb pings ca" sim_docker B exec cb ping -c 2 -i 0.2 -W 2 "$ipa"
resolves() { sim_docker "$1" exec "$2" nslookup "$3" "$GW" | grep "^Address: $4\$" >/dev/null; } # HOST CTR NAME IP
wait_for 10 resolves A ca cb "$ipb" || fail "cb does not resolve from A at $GW"
wait_for 10 resolves B cb ca "$ipa" || fail "ca does not resolve from B at $GW"
check "ca pings cb by name" sim_docker A exec ca ping -c 2 -i 0.2 -W 2 cb
check "cb pings ca by name" sim_docker B exec cb ping -c 2 -i 0.2 -W 2 ca
a_has_peer() { sim_ns_exec A bridge fdb show | grep -i "^$macb .*dst 192.168.77.2" >/dev/null; } # not -q: pipefail and SIGPIPE
check "A has cb's FDB entry" a_has_peer

# An encrypted overlay: its TAP device needs the /dev/net/tun the plugin declares.
for h in A B; do
    check "encrypted network create on $h" sim_docker "$h" network create -d "$DRIVER" \
        --ipam-driver "$DRIVER" -o encrypted --subnet "$VAULT" vault
done
check "ca joins vault" sim_docker A network connect vault ca
check "cb joins vault" sim_docker B network connect vault cb
vipb=$(sim_docker B inspect -f '{{(index .NetworkSettings.Networks "vault").IPAddress}}' cb)
check "ca pings cb on the encrypted overlay" sim_docker A exec ca ping -c 2 -i 0.2 -W 2 "$vipb"

# weft status from the host: the plugin's folder, /run/docker/plugins/<ID>/ as dockerd
# sees it (here in dockerd's mount namespace, whose /run/docker/plugins is A's folder).
status_a() {
    nsenter --mount="/proc/$(cat "$SIM_DIR/A/dockerd.pid")/ns/mnt" --net="/run/netns/$(sim_ns A)" \
        "$SIM_REPO/build/weft" status --control-socket "/run/docker/plugins/$(plugin_id A)/control.sock" "$@"
}
out=$(status_a overlays) || fail "weft status on A: $out"
grep -q "10.79.0.0/24" <<<"$out" || fail "weft status on A does not show $SUBNET: $out"
echo "ok   weft status answers on A's plugin folder"

# The resolver's namespace, which the plugin holds open: forwarding and IPv6 off, strict
# reverse-path filter, as weft sets them (through a procfs of its own: Docker mounts the
# plugin's /proc/sys read-only).
service_sysctls() { # HOST: ip_forward rp_filter disable_ipv6 of each namespace weft holds
    local pid fd host_ns
    host_ns=$(readlink "/run/netns/$(sim_ns "$1")" 2>/dev/null || stat -L -c 'net:[%i]' "/run/netns/$(sim_ns "$1")")
    for pid in $(plugin_pids "$1"); do
        for fd in /proc/"$pid"/fd/*; do
            [[ "$(readlink "$fd" 2>/dev/null)" == net:* ]] || continue
            [ "$(readlink "$fd")" = "$host_ns" ] && continue
            nsenter --net="$fd" cat /proc/sys/net/ipv4/ip_forward /proc/sys/net/ipv4/conf/all/rp_filter \
                /proc/sys/net/ipv6/conf/all/disable_ipv6 | paste -sd ' '
        done
    done | sort -u
}
got=$(service_sysctls A)
[ "$got" = "0 1 1" ] || fail "A's resolver namespace has ip_forward rp_filter disable_ipv6 '$got', want '0 1 1'"
echo "ok   A's resolver namespace: forwarding off, strict rp_filter, IPv6 off"

# ---- upgrade while containers run ----
# A pinger in ca for the whole upgrade: the data plane is the kernel's and stays.
sim_docker A exec -d ca sh -c "ping -i 0.2 -W 1 $ipb >/tmp/ping.log 2>&1"
sleep 1
check_not "plain disable refused while a network uses the plugin" sim_docker A plugin disable "$PLUGIN"
check "docker plugin disable -f on A" sim_docker A plugin disable -f "$PLUGIN"
check "ca pings cb with A's plugin disabled" sim_docker A exec ca ping -c 2 -i 0.2 -W 2 "$ipb"
check_not "plain rm refused while a network uses the plugin" sim_docker A plugin rm "$PLUGIN"
check "docker plugin rm -f on A" sim_docker A plugin rm -f "$PLUGIN"
install_plugin A # the new version: another plugin ID, the settings given again
check "ca pings cb after the upgrade" sim_docker A exec ca ping -c 2 -i 0.2 -W 2 "$ipb"
check "container cc on A after the upgrade" sim_docker A run -d --network "$NET" --dns "$GW" --name cc weft-test sleep 600
check "cc pings cb" sim_docker A exec cc ping -c 2 -i 0.2 -W 2 "$ipb"
check "cc pings cb by name" sim_docker A exec cc ping -c 2 -i 0.2 -W 2 cb
# Replies in the pinger's log: sequence numbers from 0, one every 0.2 s; a gap is a loss.
log=$(sim_docker A exec ca cat /tmp/ping.log)
got=$(grep -c 'bytes from' <<<"$log" || true)
sent=$(($(sed -n 's/.*seq=\([0-9]*\) .*/\1/p' <<<"$log" | sort -n | tail -n 1) + 1))
[ "$got" -ge 10 ] || fail "ca's pinger got $got replies during the upgrade: $(tail -n 3 <<<"$log")"
# A lost reply or two at most, from ping's own 1 s deadline on a loaded machine.
[ $((sent - got)) -le 2 ] || fail "ca's pinger lost $((sent - got)) of $sent across the upgrade"
echo "ok   ca -> cb across the upgrade: $got of $sent replies"
sim_docker A exec ca sh -c 'kill $(pidof ping)' 2>/dev/null || true

# ---- removal ----
for h in A B; do
    sim_docker_rm_all "$h"
    check "network rm on $h" sim_docker "$h" network rm "$NET" vault
    left=$(weft_devices "$h")
    [ -z "$left" ] || fail "devices left on $h after network rm: $left"
done
echo "ok   no weft devices left on A or B"
stored=$(sim_etcdctl get --prefix /weft/v1/ --keys-only | grep -F -e "${SUBNET/\//_}" -e "${VAULT/\//_}" || true)
[ -z "$stored" ] || fail "the store still holds $SUBNET or $VAULT: $stored"
echo "ok   nothing of $SUBNET or $VAULT left in etcd"
for h in A B; do
    check "docker plugin disable on $h" sim_docker "$h" plugin disable "$PLUGIN"
    check "docker plugin rm on $h" sim_docker "$h" plugin rm "$PLUGIN"
    [ -z "$(plugin_pids "$h")" ] || fail "processes of the plugin left on $h: $(plugin_pids "$h")"
done
echo "PASS docker_managed_plugin"
