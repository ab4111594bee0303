#!/usr/bin/env bash
# bench/swarm_bench.sh: weft beside Docker's own overlay (swarm mode), issue 14 part 1.
# Two simulated hosts A and B with etcd, weft and a real dockerd each (the tests' flags:
# --iptables=false, no default route); swarm initialised on A (--advertise-addr, its
# ports over the simulated switch only) and joined by B. On both hosts a weft network and
# a swarm overlay (--attachable), a container on each host on each, and, in rounds (RUNS)
# interleaved: TCP Gbit/s (iperf3, SECS s) underlay (host to host), weft and swarm, at
# MTU 1500 and (JUMBO=1) with the hosts' links at 9000 (both overlays then made with
# -o com.docker.network.driver.mtu=8950: swarm's stays at 1450 otherwise and weft's
# follows the underlay its daemon saw at start); 64-byte UDP packets/s; RTT p50/p99 (300
# pings 5 ms apart). iperf3 and ping are the host's, run in the containers' network
# namespaces with nsenter. Then SWARM_DOCKER_RUNS times, alternating, `docker run -d` on
# A until B's container gets a packet through (bench/reach.sh), on weft and on swarm:
# Docker's own time (until docker run returns), and weft's (from weft's Join answer).
# Swarm's encrypted overlay (--opt encrypted) is tried once: on this kernel (no ESP) it
# carries nothing, and the table says so.
# Usage: bench/swarm_bench.sh [RESULTS_FILE]: prints a table; writes "key value" lines
# (swarm_*) to RESULTS_FILE when given. Knobs: RUNS (3), SECS (5), JUMBO (1),
# SWARM_DOCKER_RUNS (20, at most 100). A benchmark: nothing here fails on a figure.
set -euo pipefail
cd "$(dirname "$0")/.."
. tests/lib/sim.sh
. bench/reach.sh

RUNS=${RUNS:-3} SECS=${SECS:-5} JUMBO=${JUMBO:-1} SWARM_DOCKER_RUNS=${SWARM_DOCKER_RUNS:-20}
[ "$SWARM_DOCKER_RUNS" -le 100 ] || { echo "SWARM_DOCKER_RUNS must be at most 100" >&2; exit 2; }
RESULTS=${1:-}
export WEFT_BIN=${WEFT_BIN:-build/weft}
[ -x "$WEFT_BIN" ] || { echo "swarm_bench: $WEFT_BIN is missing (make $WEFT_BIN)" >&2; exit 2; }
A_ADDR=192.168.77.41 B_ADDR=192.168.77.42
declare -A R PID IPOF

median() { sort -g | awk '{v[NR]=$1} END {if (NR == 0) print "null"; else if (NR % 2) print v[(NR+1)/2]; else print (v[NR/2]+v[NR/2+1])/2}'; }
pct() { # P: the P-th percentile (nearest rank) of numbers on stdin
    sort -g | awk -v p="$1" '{v[NR]=$1} END {if (NR == 0) {print "null"; exit} i = int(p/100*NR + 0.999); if (i < 1) i = 1; print v[i]}'
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {if (b + 0 == 0) print "null"; else printf "%.2f", a / b}'; }

# Where a measurement runs: a host's namespace file, or a container's (by its pid).
host_ns() { echo "/run/netns/$(sim_ns "$1")"; }
ctr_ns() { echo "/proc/${PID[$1]}/ns/net"; }
in_ns() { local ns=$1; shift; nsenter --net="$ns" "$@"; }

# iperf3 between namespaces: TCP Gbit/s as the receiver saw it, or (udp) 64-byte
# packets/s received at unlimited rate.
iperf() { # tcp|udp SERVER_NS SERVER_ADDR CLIENT_NS
    local mode=$1 srv=$2 addr=$3 cli=$4 pid
    sim_spawn "$SIM_DIR/iperf.log" nsenter --net="$srv" iperf3 -s -1 -p 5201
    pid=$SIM_LAST_PID
    wait_for 5 in_ns "$srv" sh -c 'ss -ltn | grep -q ":5201 "'
    if [ "$mode" = tcp ]; then
        in_ns "$cli" iperf3 -c "$addr" -p 5201 -t "$SECS" -f g 2>/dev/null |
            awk '/receiver/ {for (i = 1; i <= NF; i++) if ($i == "Gbits/sec") print $(i-1)}'
    else
        in_ns "$cli" iperf3 -c "$addr" -p 5201 -u -b 0 -l 64 -t "$SECS" 2>/dev/null |
            awk -v secs="$SECS" '/receiver/ {for (i = 1; i <= NF; i++) if ($i ~ /^[0-9]+\/[0-9]+$/) {split($i, n, "/"); printf "%.0f\n", (n[2] - n[1]) / secs}}'
    fi
    sim_stop_pid "$pid" 5 || true
}
rtt() { # FROM_NS ADDR: "p50 p99" in ms over 300 pings
    in_ns "$1" ping -c 300 -i 0.005 "$2" | sed -n 's/.*time=\([0-9.]*\) ms/\1/p' >"$SIM_DIR/rtt"
    echo "$(pct 50 <"$SIM_DIR/rtt") $(pct 99 <"$SIM_DIR/rtt")"
}
rx_bytes() { in_ns "$(host_ns "$1")" awk '$1 == "eth0:" {print $2}' /proc/net/dev; }

set_mtu() { # HOST MTU: the host's underlay link and its switch port
    ip -n "$(sim_ns sw)" link set "p-$1" mtu "$2"
    ip -n "$(sim_ns "$1")" link set eth0 mtu "$2"
}

sim_init
sim_switch
sim_host A "$A_ADDR"
sim_host B "$B_ADDR"
sim_etcd
# Debug level: weft logs every plugin call as it answers (the Join stamp below).
for h in A B; do WEFT_LOG_LEVEL=debug sim_weft "$h"; done
for h in A B; do sim_dockerd "$h"; done
sim_docker A swarm init --advertise-addr "$A_ADDR" >/dev/null || fail "docker swarm init on A"
sim_docker B swarm join --token "$(sim_docker A swarm join-token -q worker)" "$A_ADDR:2377" \
    >/dev/null || fail "docker swarm join on B"
echo "swarm_bench: swarm of A and B initialised" >&2

# run_ctr HOST NETWORK NAME ADDR: a sleeping container; its pid and address recorded.
# Fixed addresses, below the docker run figure's (weft's IPAM hands out any in the pool).
run_ctr() {
    sim_docker "$1" run -d --network "$2" --ip "$4" --name "$3" weft-test sleep 3600 >/dev/null 2>&1 ||
        fail "docker run $3 on $1 (network $2)"
    PID[$3]=$(sim_docker "$1" inspect -f '{{.State.Pid}}' "$3")
    IPOF[$3]=$(sim_docker "$1" inspect -f "{{(index .NetworkSettings.Networks \"$2\").IPAddress}}" "$3")
}
# net_pair SUFFIX OCTET [MTU]: weft network w<SUFFIX> (10.<OCTET>.0.0/24, made on both
# hosts) and swarm overlay s<SUFFIX> (10.<OCTET+1>.0.0/24, made on A), a container on
# each host on each (wa<SUFFIX> wb<SUFFIX> sa<SUFFIX> sb<SUFFIX>); B pings A on both.
net_pair() {
    local s=$1 o=$2
    local -a opt=()
    [ -z "${3:-}" ] || opt=(-o "com.docker.network.driver.mtu=$3")
    for h in A B; do
        sim_docker "$h" network create -d weft --ipam-driver weft --subnet "10.$o.0.0/24" \
            "${opt[@]}" "w$s" >/dev/null || fail "weft network w$s on $h"
    done
    sim_docker A network create -d overlay --attachable --subnet "10.$((o + 1)).0.0/24" \
        "${opt[@]}" "s$s" >/dev/null || fail "swarm overlay s$s"
    run_ctr A "w$s" "wa$s" "10.$o.0.10"
    run_ctr B "w$s" "wb$s" "10.$o.0.11"
    run_ctr A "s$s" "sa$s" "10.$((o + 1)).0.10"
    run_ctr B "s$s" "sb$s" "10.$((o + 1)).0.11"
    wait_for 10 in_ns "$(ctr_ns "wb$s")" ping -c 1 -W 1 "${IPOF[wa$s]}" || fail "weft w$s does not ping"
    wait_for 10 in_ns "$(ctr_ns "sb$s")" ping -c 1 -W 1 "${IPOF[sa$s]}" || fail "swarm s$s does not ping"
}

# ---------------- data plane, interleaved in rounds ----------------
measure() { # SUFFIX MTU: TCP (and at 1500 UDP and RTT) underlay / weft / swarm
    local s=$1 mtu=$2 i b0 b1
    local u=() w=() sw=() pu=() pw=() ps=()
    for i in $(seq 1 "$RUNS"); do
        u+=("$(iperf tcp "$(host_ns A)" "$A_ADDR" "$(host_ns B)")")
        w+=("$(iperf tcp "$(ctr_ns "wa$s")" "${IPOF[wa$s]}" "$(ctr_ns "wb$s")")")
        b0=$(rx_bytes A)
        sw+=("$(iperf tcp "$(ctr_ns "sa$s")" "${IPOF[sa$s]}" "$(ctr_ns "sb$s")")")
        b1=$(rx_bytes A)
        # Swarm's overlay really crosses the simulated switch: A's underlay link received
        # at least what iperf3 counted (Gbit/s x SECS), VXLAN headers on top.
        [ "$i" != 1 ] || R[swarm_underlay_check_${mtu}]=$(awk -v b=$((b1 - b0)) -v g="${sw[0]}" \
            -v s="$SECS" 'BEGIN {print (b * 8 >= g * 1e9 * s * 0.9) ? 1 : 0}')
        [ "$mtu" = 1500 ] || continue
        pu+=("$(iperf udp "$(host_ns A)" "$A_ADDR" "$(host_ns B)")")
        pw+=("$(iperf udp "$(ctr_ns "wa$s")" "${IPOF[wa$s]}" "$(ctr_ns "wb$s")")")
        ps+=("$(iperf udp "$(ctr_ns "sa$s")" "${IPOF[sa$s]}" "$(ctr_ns "sb$s")")")
    done
    R[swarm_tcp_underlay_$mtu]=$(printf '%s\n' "${u[@]}" | median)
    R[swarm_tcp_weft_$mtu]=$(printf '%s\n' "${w[@]}" | median)
    R[swarm_tcp_swarm_$mtu]=$(printf '%s\n' "${sw[@]}" | median)
    R[swarm_ratio_weft_swarm_$mtu]=$(ratio "${R[swarm_tcp_weft_$mtu]}" "${R[swarm_tcp_swarm_$mtu]}")
    R[swarm_ratio_weft_underlay_$mtu]=$(ratio "${R[swarm_tcp_weft_$mtu]}" "${R[swarm_tcp_underlay_$mtu]}")
    R[swarm_ratio_swarm_underlay_$mtu]=$(ratio "${R[swarm_tcp_swarm_$mtu]}" "${R[swarm_tcp_underlay_$mtu]}")
    [ "$mtu" = 1500 ] || return 0
    R[swarm_udp_pps_underlay]=$(printf '%s\n' "${pu[@]}" | median)
    R[swarm_udp_pps_weft]=$(printf '%s\n' "${pw[@]}" | median)
    R[swarm_udp_pps_swarm]=$(printf '%s\n' "${ps[@]}" | median)
    R[swarm_ratio_udp_weft_swarm]=$(ratio "${R[swarm_udp_pps_weft]}" "${R[swarm_udp_pps_swarm]}")
    read -r "R[swarm_rtt_underlay_p50]" "R[swarm_rtt_underlay_p99]" <<<"$(rtt "$(host_ns B)" "$A_ADDR")"
    read -r "R[swarm_rtt_weft_p50]" "R[swarm_rtt_weft_p99]" <<<"$(rtt "$(ctr_ns "wb$s")" "${IPOF[wa$s]}")"
    read -r "R[swarm_rtt_swarm_p50]" "R[swarm_rtt_swarm_p99]" <<<"$(rtt "$(ctr_ns "sb$s")" "${IPOF[sa$s]}")"
    R[swarm_ratio_rtt_p99_weft_swarm]=$(ratio "${R[swarm_rtt_weft_p99]}" "${R[swarm_rtt_swarm_p99]}")
}
net_pair 1 62
measure 1 1500
echo "swarm_bench: measured weft and swarm at MTU 1500" >&2
if [ "$JUMBO" != 0 ]; then
    set_mtu A 9000
    set_mtu B 9000
    net_pair 9 64 8950
    measure 9 9000
    echo "swarm_bench: measured weft and swarm at underlay MTU 9000" >&2
fi

# ---------------- docker run on A until B reaches it ----------------
# Alternating weft and swarm; each new container gets an address of its own (never
# reused: B must not still hold an entry for an earlier one) and the MAC reach_mac makes.
# Probes (bench/reach.sh) in B's container and in A's on the same network. Figures (ms):
# total, docker run called until B's answer; returns, until docker run returned (Docker's
# own); local, B's answer after A's (what crossing to the other host adds: A's answer
# means the new container's interface is up); weft only (reach_weft_once): join, from
# weft's Join answer on A (its log) until B's answer, split at moved, when Docker moved
# the veth into the container (A's link monitor), and after_move; programmed, from the
# Join answer until B's kernel had the entry (negative: before; weft publishes at
# CreateEndpoint).
reach_monitor B neigh
mon_b=$REACH_MONITOR_PID
reach_monitor A link
mon_a=$REACH_MONITOR_PID
for f in total returns local join moved after_move programmed; do : >"$SIM_DIR/w.$f" && : >"$SIM_DIR/s.$f"; done
for i in $(seq 1 "$SWARM_DOCKER_RUNS"); do
    reach_weft_once A B w1 "10.62.0.$((100 + i))" "rw$i" "${PID[wb1]}" "${PID[wa1]}" "$SIM_DIR/w" ||
        fail "docker run rw$i on weft until reachable from B"
    addr=10.63.0.$((100 + i))
    out=$(reach_run A s1 "$addr" "$(reach_mac "$addr")" "rs$i" "${PID[sb1]}" "${PID[sa1]}") ||
        fail "docker run rs$i on swarm"
    read -r t0 t1 tr tl <<<"$out"
    [ "$tr" != timeout ] && [ "$tl" != timeout ] || fail "rs$i ($addr) did not answer (B: $tr, A: $tl)"
    echo $((tr - t0)) >>"$SIM_DIR/s.total"
    echo $((t1 - t0)) >>"$SIM_DIR/s.returns"
    echo $((tr - tl)) >>"$SIM_DIR/s.local"
    sim_docker A rm -f "rs$i" >/dev/null
done
sim_stop_pid "$mon_a" 5 || true
sim_stop_pid "$mon_b" 5 || true
for f in total returns local join moved after_move programmed; do
    for k in w s; do
        [ -s "$SIM_DIR/$k.$f" ] || continue
        [ "$k" = w ] && n=weft || n=swarm
        R[swarm_docker_${n}_${f}_p50_ms]=$(pct 50 <"$SIM_DIR/$k.$f")
        R[swarm_docker_${n}_${f}_p99_ms]=$(pct 99 <"$SIM_DIR/$k.$f")
    done
done
R[swarm_docker_runs]=$SWARM_DOCKER_RUNS
echo "swarm_bench: measured docker run until reachable, $SWARM_DOCKER_RUNS runs each" >&2

# ---------------- swarm's encrypted overlay, once ----------------
# Docker seals it with the kernel's IPsec ESP, which this kernel lacks (no CONFIG_INET_ESP):
# the network and its containers are made, and nothing gets through. Recorded, not failed.
# Each step may fail without failing the bench; what happened is recorded.
enc=0 made=0
if ! sim_docker A network create -d overlay --attachable --opt encrypted \
    --subnet 10.66.0.0/24 senc >"$SIM_DIR/senc.log" 2>&1; then
    echo "swarm_bench: encrypted overlay not made: $(tail -n 1 "$SIM_DIR/senc.log")" >&2
elif ! { sim_docker A run -d --network senc --ip 10.66.0.10 --name ea weft-test sleep 3600 &&
    sim_docker B run -d --network senc --ip 10.66.0.11 --name eb weft-test sleep 3600; } \
    >>"$SIM_DIR/senc.log" 2>&1; then
    echo "swarm_bench: encrypted overlay's containers did not start: $(tail -n 1 "$SIM_DIR/senc.log")" >&2
else
    made=1
    nsenter -t "$(sim_docker B inspect -f '{{.State.Pid}}' eb)" -n ping -c 3 -W 1 10.66.0.10 \
        >/dev/null 2>&1 && enc=1
fi
R[swarm_encrypted_made]=$made
R[swarm_encrypted_carries]=$enc
R[swarm_esp_in_kernel]=$(grep -qw esp4 /proc/modules 2>/dev/null || { [ -r /proc/config.gz ] && zcat /proc/config.gz | grep -q '^CONFIG_INET_ESP=[ym]'; } && echo 1 || echo 0)
echo "swarm_bench: swarm's encrypted overlay (made: $made) $([ $enc = 1 ] && echo carries traffic || echo carries nothing)" >&2

# ---------------- results ----------------
r() { printf '%s' "${R[$1]:-n/a}"; }
if [ -n "$RESULTS" ]; then
    : >"$RESULTS"
    for k in $(printf '%s\n' "${!R[@]}" | sort); do echo "$k ${R[$k]}" >>"$RESULTS"; done
fi
row() { printf '%-52s %26s %10s\n' "$1" "$2" "$3"; }
echo "swarm: weft beside Docker's swarm overlay on the same two hosts, interleaved (median of $RUNS)"
row "figure" "underlay / weft / swarm" "weft/swarm"
row "TCP, MTU 1500 (Gbit/s)" "$(r swarm_tcp_underlay_1500) / $(r swarm_tcp_weft_1500) / $(r swarm_tcp_swarm_1500)" "$(r swarm_ratio_weft_swarm_1500)"
row "  weft / underlay; swarm / underlay" "$(r swarm_ratio_weft_underlay_1500); $(r swarm_ratio_swarm_underlay_1500)" ""
row "TCP, MTU 9000 (Gbit/s)" "$(r swarm_tcp_underlay_9000) / $(r swarm_tcp_weft_9000) / $(r swarm_tcp_swarm_9000)" "$(r swarm_ratio_weft_swarm_9000)"
row "  weft / underlay; swarm / underlay" "$(r swarm_ratio_weft_underlay_9000); $(r swarm_ratio_swarm_underlay_9000)" ""
row "UDP 64 B (packets/s)" "$(r swarm_udp_pps_underlay) / $(r swarm_udp_pps_weft) / $(r swarm_udp_pps_swarm)" "$(r swarm_ratio_udp_weft_swarm)"
row "RTT p50 (ms)" "$(r swarm_rtt_underlay_p50) / $(r swarm_rtt_weft_p50) / $(r swarm_rtt_swarm_p50)" ""
row "RTT p99 (ms)" "$(r swarm_rtt_underlay_p99) / $(r swarm_rtt_weft_p99) / $(r swarm_rtt_swarm_p99)" "$(r swarm_ratio_rtt_p99_weft_swarm)"
pr() { printf '%s / %s' "$(r "swarm_docker_${1}_p50_ms")" "$(r "swarm_docker_${1}_p99_ms")"; }
row "docker run on A, p50 / p99 (ms, $SWARM_DOCKER_RUNS runs each)" "weft" "swarm"
row "  until B's first answer" "$(pr weft_total)" "$(pr swarm_total)"
row "  until docker run returns (Docker's own)" "$(pr weft_returns)" "$(pr swarm_returns)"
row "  B's answer after A's (same host)" "$(pr weft_local)" "$(pr swarm_local)"
row "  weft's Join answer until B's answer (target p99 <= 20)" "$(pr weft_join)" ""
row "    until Docker moved the veth in (Docker's)" "$(pr weft_moved)" ""
row "    after the move" "$(pr weft_after_move)" ""
row "  weft's Join answer until B programmed" "$(pr weft_programmed)" ""
if [ "$(r swarm_encrypted_carries)" = 1 ]; then
    row "swarm encrypted overlay (--opt encrypted)" "carries traffic" ""
else
    row "swarm encrypted overlay (--opt encrypted)" "cannot run on this kernel: no ESP" ""
    row "  network and containers made; pings answered" "$(r swarm_encrypted_made); 0 of 3" ""
fi
echo "(underlay: host to host; weft and swarm: container to container, iperf3 and ping by nsenter;"
echo " MTU 9000: the links at 9000, both overlays made with com.docker.network.driver.mtu=8950)"
