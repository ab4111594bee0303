#!/usr/bin/env bash
# etcd_silent_member.sh: a store member that goes silent costs no docker run more than
# the usual. Three etcd members, each in its own namespace; hosts A and B run weft
# (--store naming all three, the first one first, so every path of both daemons starts
# on it) and dockerd. A watches the store through the JSON gateway (the default), B over
# gRPC (--store-watch grpc): each watch is on the way of every container (A's answers
# wait for its watch to read its address claim back, B's ping needs A's record from its
# watch), so both must leave the silent member at once. The first member's switch port
# is taken down (its packets vanish: no reset, no refusal), and at once containers are
# started on A one after another, each timed from its "docker run -d" until B's
# container gets a ping answer. What weft adds for a silent member must stay within
# REACH_EXTRA_MS (default 1000) of the slowest of two runs before the cut, counting
# weft's own part: its plugin calls' time (weft_plugin_call_duration_seconds on A's
# /metrics) and the time from docker run's return until the ping answers. dockerd's own
# part, which a loaded machine stretches by seconds, is printed, not judged. Then no
# lease was lost, every container is published exactly once (each peer key at version 1:
# a doubled write would show as 2), and after the member is plugged back the next
# container is as quick and nothing else changes. Prints every time measured.
# The store's failover is weft's alone: runs on the distribution's Docker only.
# SILENT_CLUSTER_HOSTS (unset): etcd holds that many leases before the daemons start, so
# they count a cluster that large and pace their idle probes to it (store/etcd_pacing.h):
# etcd_silent_member_1000.sh.
set -euo pipefail
. "$(dirname "$0")/../lib/sim.sh"
sim_distro_docker_only

export WEFT_BIN=${WEFT_BIN:-build/weft}
REACH_EXTRA_MS=${REACH_EXTRA_MS:-1000}
SILENT_CLUSTER_HOSTS=${SILENT_CLUSTER_HOSTS:-0}
SUBNET=10.77.0.0/24
SK=10.77.0.0_24
NET=blue
MEMBERS=(e0 e1 e2)
declare -A MIP=([e0]=192.168.77.251 [e1]=192.168.77.252 [e2]=192.168.77.253)

sim_init
sim_switch
sim_host A 192.168.77.1
sim_host B 192.168.77.2

cluster="" store=""
for m in "${MEMBERS[@]}"; do
    cluster+="${cluster:+,}$m=http://${MIP[$m]}:2380"
    store+="${store:+,}${MIP[$m]}:2379"
done
for m in "${MEMBERS[@]}"; do
    mkdir -p "$SIM_DIR/$m"
    sim_wire "$m" "${MIP[$m]}"
    # The pid lands in $SIM_DIR/$m/pid, which sim_cleanup stops. --pre-vote, as etcd 3.5
    # has by default and README asks of 3.4: without it the member coming back with a
    # higher term forces an election, and every member answers 503 for seconds.
    sim_spawn "$SIM_DIR/$m/etcd.log" nsenter --net="/run/netns/$(sim_ns "$m")" etcd --name "$m" \
        --data-dir "$SIM_DIR/$m/data" \
        --listen-client-urls "http://${MIP[$m]}:2379" --advertise-client-urls "http://${MIP[$m]}:2379" \
        --listen-peer-urls "http://${MIP[$m]}:2380" --initial-advertise-peer-urls "http://${MIP[$m]}:2380" \
        --initial-cluster "$cluster" --initial-cluster-state new --pre-vote
    echo "$SIM_LAST_PID" >"$SIM_DIR/$m/pid"
done
healthy() { sim_ns_exec "$1" curl -fsS -m 2 "http://${MIP[$1]}:2379/health" | grep '"true"' >/dev/null; }
for m in "${MEMBERS[@]}"; do wait_for 30 healthy "$m" || fail "etcd member $m not healthy"; done
ctl() { # MEMBER ARGS...: etcdctl against one member, from its own namespace
    local m=$1
    shift
    sim_ns_exec "$m" env ETCDCTL_API=3 etcdctl --endpoints "http://${MIP[$m]}:2379" "$@"
}

# The cut is about a silent member, not about an election: if e0 leads, hand the
# lead to e1 first (a leader's loss adds an election of a second or more on top).
if ctl e0 endpoint status | grep ', true, false,' >/dev/null; then
    e1_id=$(ctl e1 endpoint status | awk -F', ' '{print $2}')
    ctl e0 move-leader "$e1_id" >/dev/null || fail "could not move the lead off e0"
fi
ctl e0 endpoint status | grep ', false, false,' >/dev/null || fail "e0 still leads"

# The hosts of a larger cluster, as the daemons count them: one lease each (A and B
# bring their own), granted on one connection.
if [ "$SILENT_CLUSTER_HOSTS" -gt 2 ]; then
    sim_etcd_leases e1 "${MIP[e1]}:2379" $((SILENT_CLUSTER_HOSTS - 2)) 600 ||
        fail "granting the other hosts' leases"
fi

sim_weft A --store "etcd://$store" --metrics 127.0.0.1:9776
sim_weft B --store "etcd://$store" --store-watch grpc
if [ "$SILENT_CLUSTER_HOSTS" -gt 2 ]; then
    # Both counted the cluster (at their first lease refresh) and stretched their paces.
    want_round=$(((SILENT_CLUSTER_HOSTS - 1) * 10)) # ETCD_PACING_HANDSHAKES_PER_S 100, A may count before B
    paced() { # HOST: its member round is the large cluster's
        sed -n 's/.*store probes paced to the cluster.*member_round_ms=\([0-9]*\).*/\1/p' "$SIM_DIR/$1/weft.log" |
            tail -1 | awk -v want="$want_round" '$1 >= want {ok = 1} END {exit !ok}'
    }
    for h in A B; do wait_for 20 paced "$h" || fail "weft on $h did not pace its probes to $SILENT_CLUSTER_HOSTS hosts"; done
    echo "ok   both daemons pace their store probes to $SILENT_CLUSTER_HOSTS hosts: $(grep -h 'store probes paced' "$SIM_DIR"/[AB]/weft.log | tail -1)"
fi
sim_dockerd A
sim_dockerd B
for h in A B; do
    check "network create on $h" sim_docker "$h" network create -d weft --ipam-driver weft \
        --subnet "$SUBNET" "$NET"
done
check "container cb on B" sim_docker B run -d --network "$NET" --name cb weft-test sleep 600
cb_pid=$(sim_docker B inspect -f '{{.State.Pid}}' cb)
# cb resolves a new neighbour at once rather than after the default 1 s ARP retry,
# so the time measured is weft's, not cb's ARP timer.
nsenter -t "$cb_pid" -n sh -c 'for f in /proc/sys/net/ipv4/neigh/*/retrans_time_ms; do echo 50 >"$f"; done'

ip_of() { # HOST CONTAINER
    sim_docker "$1" inspect -f "{{(index .NetworkSettings.Networks \"$NET\").IPAddress}}" "$2"
}
weft_call_ms() { # the time A's weft has spent answering plugin calls so far, in ms
    sim_ns_exec A curl -sS -f -m 10 http://127.0.0.1:9776/metrics |
        awk '$1 ~ /^weft_plugin_call_duration_seconds_sum/ { s += $2 } END { printf "%d\n", s * 1000 }'
}
slow=0 baseline=0 limit=0
run_and_reach() { # NAME WHEN: docker run -d on A, then ping from cb until the first reply
    local name=$1 when=$2 t0 ip ms run_ms calls_before calls_ms weft_ms
    calls_before=$(weft_call_ms) || fail "A's /metrics"
    t0=$(date +%s%N)
    sim_docker A run -d --network "$NET" --name "$name" weft-test sleep 600 >/dev/null ||
        fail "docker run $name ($when)"
    run_ms=$((($(date +%s%N) - t0) / 1000000))
    ip=$(ip_of A "$name")
    # Pings every 50 ms until the first reply (ping -c or -w would stop at the first failed ARP).
    (set +o pipefail; timeout 30 nsenter -t "$cb_pid" -n ping -n -i 0.05 "$ip" 2>/dev/null |
        grep -m 1 -q 'bytes from') || {
        sim_ns_exec B ip neigh show "$ip" >&2
        nsenter -t "$cb_pid" -n ip neigh show >&2
        fail "cb never reached $name at $ip ($when) at $(date +%T.%N)"
    }
    ms=$((($(date +%s%N) - t0) / 1000000))
    calls_ms=$(($(weft_call_ms) - calls_before))
    weft_ms=$((calls_ms + ms - run_ms))
    printf 'time %-4s %-24s reached after %5d ms: weft %5d ms (plugin calls %4d, after docker run %4d), dockerd %5d ms\n' \
        "$name" "$when" "$ms" "$weft_ms" "$calls_ms" "$((ms - run_ms))" "$((run_ms - calls_ms))"
    [ "$weft_ms" -gt "$baseline" ] && [ "$limit" = 0 ] && baseline=$weft_ms
    [ "$limit" = 0 ] || [ "$weft_ms" -le "$limit" ] || slow=$((slow + 1))
}

run_and_reach c0 "all members up"
run_and_reach c1 "all members up"
limit=$((baseline + REACH_EXTRA_MS))
echo "ok   limit on weft's part for the runs to come: $limit ms"

sim_unplug e0
echo "ok   e0 unplugged at $(date +%T.%N)"
run_and_reach c2 "first after the cut"
run_and_reach c3 "second after the cut"
run_and_reach c4 "third after the cut"

sim_plug e0
wait_for 30 healthy e0 || fail "e0 did not come back"
echo "ok   e0 plugged back"
run_and_reach c5 "member back"

# Everything is still reachable, each container published once.
for c in c0 c1 c2 c3 c4 c5; do
    nsenter -t "$cb_pid" -n ping -n -q -c 1 -W 2 "$(ip_of A "$c")" >/dev/null || fail "cb cannot reach $c"
done
echo "ok   cb reaches every container on A"
# Each host's peers lie under its own prefix (store/keys.h).
peers=$(ctl e1 get --prefix "/weft/v1/fabric/192.168.77.1/$SK/peers/" -w json
    ctl e1 get --prefix "/weft/v1/fabric/192.168.77.2/$SK/peers/" -w json)
# A peer key is written at most three times by design: the claim at RequestAddress, the
# endpoint's record, and its container's names once dockerd reports them (the last two
# may come as one). A fourth write would be a publication repeated across the failover.
count=$(grep -o '"version":[0-9]*' <<<"$peers" | wc -l)
over=$(grep -o '"version":[0-9]*' <<<"$peers" | grep -vcE '"version":[123]$' || true)
[ "$count" = 7 ] || fail "want 7 published peers (c0..c5 and cb), found $count"
[ "$over" = 0 ] || fail "$over peer keys were written more than three times (claim, record, names)"
echo "ok   7 peers published, none written more than claim, record and names"
# The pool's own record (addrs/<sk>/pool: its --ip-range, or none) is no address.
addrs=$(ctl e1 get --prefix "/weft/v1/addrs/$SK/" --keys-only | grep -v "/pool$" | grep -c . || true)
[ "$addrs" = 8 ] || fail "want 8 addresses allocated (7 containers and the gateway), found $addrs"
echo "ok   8 addresses allocated, none leaked"
for h in A B; do
    ! grep -E 'lease was lost|store watch disconnected|store unreachable' "$SIM_DIR/$h/weft.log" ||
        fail "weft on $h lost its lease or the store"
    grep -E 'ERROR: AddressSanitizer|runtime error' "$SIM_DIR/$h/weft.log" &&
        fail "sanitizer report in weft log on $h"
done
echo "ok   no lease lost, the store never unreachable"
grep -hE 'store (member|failover|watch)' "$SIM_DIR"/[AB]/weft.log || true
[ "$slow" = 0 ] || fail "for $slow containers weft took longer than $limit ms"
t0=$SECONDS
sim_docker A rm -f c0 c1 c2 c3 c4 c5 >/dev/null
sim_docker B rm -f cb >/dev/null
echo "containers removed in $((SECONDS - t0)) s"
for h in A B; do
    sim_weft_stop "$h" || fail "weft on $h needed SIGKILL to stop"
done
echo "PASS etcd_silent_member"
