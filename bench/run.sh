#!/usr/bin/env bash
# bench/run.sh: weft's data plane and control plane measured in one run on
# simulated hosts (network namespaces on one switch), as `make bench` runs it.
# Prints a table, writes bench/results.json and bench/convergence.png.
# Knobs: RUNS (3) medians over this many runs; SECS (5) per iperf3 run; RTT_PINGS (300)
# pings per round-trip figure; HOSTS (20) and EPS (50) for the scale figure; JOINS (1000);
# CONVERGE (50);
# IPAM_REQUESTS (1000): per contending host, twice that on one host;
# QUIET_S (15): how long join and converge wait for an idle machine (0: not at all);
# DOCKER_RUNS (20, 0 skips the Docker figure); SECTIONS (all of "datapath encrypted join
# converge ipam scale docker layout names swarm members"): which figures to measure; OUT_DIR (bench): where
# results go; JUMBO (1): 0 leaves out the MTU 9000 pair. encrypted (issue 11): a plain
# and an encrypted overlay on one pair of hosts, dual-stack (TCP over IPv4 and over IPv6
# inside), measured side by side with the underlay; datapath's IPv6 pair carries an
# encrypted overlay too.
# SMAPS_DIR (unset): keeps each scale daemon's /proc/PID/smaps there, idle and loaded (issue 14).
# LAYOUT_RUNS (2): rounds of bench/watch_layout.sh (etcd's cost of watching by key layout).
# NAMES_RUNS (20) and NAMES_SECS (5): bench/names_bench.sh (issue 10: docker run on A until
# the name resolves on B; queries/s of weft's resolver), runs and seconds per load figure.
# SWARM_DOCKER_RUNS (20): bench/swarm_bench.sh (issue 14: weft beside Docker's swarm overlay
# on the same hosts, with RUNS, SECS and JUMBO), docker runs on each overlay.
# MW_HOSTS (20), MW_EPS (10), MW_MODES ("gateway grpc-fabric grpc"): bench/member_watch.sh
# (issue 14 part 4: events each host receives, and etcd's bytes sent, with one watch of
# all fabric/ against per-member watches; hosts in overlays of two).
# STORE_WATCH (grpc): how every daemon watches the store (--store-watch): grpc
# (per-member watches, the daemon's default), gateway (one watch of all fabric/ through
# the JSON gateway), grpc-fabric (one gRPC watch of all fabric/), or grpc-proxy
# (per-member gRPC watches through one `etcd grpc-proxy` beside etcd, whose CPU time is
# then reported with etcd's in the scale figure).
# SCALE_POINTS (unset): the scale section measures issue 18's curve instead, with
# bench/scale_curve.sh (its own simulation, up to 1,000 hosts each a real daemon): at
# each point (e.g. "50 100 200 500 1000") SCALE_EPS (2) endpoints per host, the watch of
# STORE_WATCH, and SCALE_GATEWAY_POINTS (e.g. "50 100 200") first with the gateway watch;
# its table is printed after ours, its curve plotted in OUT_DIR/scale_curve.png.
# Benchmarks, not tests: nothing here fails on a slow figure.
set -euo pipefail
cd "$(dirname "$0")/.."
. tests/lib/sim.sh
. tests/lib/plugin.sh
. bench/reach.sh

RUNS=${RUNS:-3} SECS=${SECS:-5} HOSTS=${HOSTS:-20} EPS=${EPS:-50}
# The switch is a /16 (192.168.77.x as before, the scale hosts on from 192.168.77.101);
# every host and etcd resolve each other with dynamic ARP entries, which count toward the
# kernel's gc_thresh3 (1024, shared by every namespace): beyond 400 hosts use SCALE_POINTS.
[ "$HOSTS" -le 400 ] || { echo "HOSTS must be at most 400 (more: SCALE_POINTS)" >&2; exit 2; }
SIM_PREFIX=16
JOINS=${JOINS:-1000} CONVERGE=${CONVERGE:-50} DOCKER_RUNS=${DOCKER_RUNS:-20}
IPAM_REQUESTS=${IPAM_REQUESTS:-1000}
SECTIONS=${SECTIONS:-datapath encrypted join converge ipam scale docker layout names swarm members}
OUT_DIR=${OUT_DIR:-bench}
export WEFT_BIN=build/weft
BENCH=build/plugin_bench
OUT=$OUT_DIR/results.json
mkdir -p "$OUT_DIR"
want() { [[ " $SECTIONS " == *" $1 "* ]]; }
declare -A HADDR POOL NID GW EID IP MAC SRC R

now_ms() { date +%s%3N; }
median() { sort -g | awk '{v[NR]=$1} END {if (NR == 0) print "null"; else if (NR % 2) print v[(NR+1)/2]; else print (v[NR/2]+v[NR/2+1])/2}'; }
pct() { # P: the P-th percentile (nearest rank) of numbers on stdin
    sort -g | awk -v p="$1" '{v[NR]=$1} END {if (NR == 0) {print "null"; exit} i = int(p/100*NR + 0.999); if (i < 1) i = 1; print v[i]}'
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {if (b + 0 == 0) print "null"; else printf "%.2f", a / b}'; }

# iperf3 between namespaces; prints Gbit/s (TCP) as the receiver saw it; STREAMS (1)
# parallel flows (-P), their sum.
iperf_tcp() { # SERVER_NS SERVER_ADDR CLIENT_NS [STREAMS]
    local streams=${4:-1}
    sim_spawn "$SIM_DIR/iperf.log" nsenter --net="/run/netns/$(sim_ns "$1")" iperf3 -s -1 -p 5201
    local pid=$SIM_LAST_PID
    wait_for 5 sim_ns_exec "$1" sh -c 'ss -ltn | grep -q ":5201 "'
    sim_ns_exec "$3" iperf3 -c "$2" -p 5201 -t "$SECS" -P "$streams" -f g 2>/dev/null |
        awk -v sum=$((streams > 1)) '/receiver/ && (!sum || /SUM/) {for (i = 1; i <= NF; i++) if ($i == "Gbits/sec") print $(i-1)}'
    sim_stop_pid "$pid" 5 || true
}

# Small-packet UDP: prints packets per second received.
iperf_udp_pps() { # SERVER_NS SERVER_ADDR CLIENT_NS
    sim_spawn "$SIM_DIR/iperf.log" nsenter --net="/run/netns/$(sim_ns "$1")" iperf3 -s -1 -p 5202
    local pid=$SIM_LAST_PID
    wait_for 5 sim_ns_exec "$1" sh -c 'ss -ltn | grep -q ":5202 "'
    sim_ns_exec "$3" iperf3 -c "$2" -p 5202 -u -b 0 -l 64 -t "$SECS" 2>/dev/null |
        awk -v secs="$SECS" '/receiver/ {for (i = 1; i <= NF; i++) if ($i ~ /^[0-9]+\/[0-9]+$/) {split($i, n, "/"); printf "%.0f\n", (n[2] - n[1]) / secs}}'
    sim_stop_pid "$pid" 5 || true
}

# Round trips: prints "p50 p99" in ms over RTT_PINGS (300) pings.
rtt() { # FROM_NS ADDR
    sim_ns_exec "$1" ping -c "${RTT_PINGS:-300}" -i 0.005 "$2" | sed -n 's/.*time=\([0-9.]*\) ms/\1/p' >"$SIM_DIR/rtt"
    echo "$(pct 50 <"$SIM_DIR/rtt") $(pct 99 <"$SIM_DIR/rtt")"
}

# A hand-built kernel VXLAN overlay between two hosts (the reference): bridge,
# VXLAN (VNI 900 + tag) with a static flooding entry, a "container" namespace.
reference_overlay() { # HOST PEER_HOST CONTAINER_ADDR MTU TAG
    local h=$1 peer=$2 addr=$3 mtu=$4 tag=$5 ns c
    ns=$(sim_ns "$h")
    c=$(sim_ns "r$h")
    ip netns add "$c"
    ip -n "$ns" link add rbr type bridge
    ip -n "$ns" link add rvx type vxlan id $((900 + tag)) dstport 4789 local "${HADDR[$h]}"
    ip -n "$ns" link set rvx master rbr mtu "$mtu" up
    ip -n "$ns" link set rbr mtu "$mtu" up
    sim_ns_exec "$h" bridge fdb append 00:00:00:00:00:00 dev rvx dst "${HADDR[$peer]}"
    ip -n "$ns" link add rh type veth peer name eth0 netns "$c"
    ip -n "$ns" link set rh master rbr mtu "$mtu" up
    ip -n "$c" link set lo up
    ip -n "$c" link set eth0 mtu "$mtu" up
    ip -n "$c" addr add "$addr/24" dev eth0
}

# The reference without its veth hops: the "container" interface is a macvlan on the
# VXLAN device itself (VNI 950 + tag), so a frame goes from the container's transmit
# straight into the VXLAN device's, and a decapsulated one from the VXLAN device's receive
# straight to the container's socket: no veth backlog, no bridge. It shows what the hops
# between container and VXLAN device cost, the part an overlay driver can still remove.
noveth_overlay() { # HOST PEER_HOST CONTAINER_ADDR MTU TAG
    local h=$1 peer=$2 addr=$3 mtu=$4 tag=$5 ns c
    ns=$(sim_ns "$h")
    c=$(sim_ns "m$h")
    ip netns add "$c"
    ip -n "$ns" link add mvx type vxlan id $((950 + tag)) dstport 4789 local "${HADDR[$h]}"
    ip -n "$ns" link set mvx mtu "$mtu" up
    sim_ns_exec "$h" bridge fdb append 00:00:00:00:00:00 dev mvx dst "${HADDR[$peer]}"
    ip -n "$ns" link add mc link mvx type macvlan mode bridge
    ip -n "$ns" link set mc netns "$c"
    ip -n "$c" link set lo up
    ip -n "$c" link set mc name eth0
    ip -n "$c" link set eth0 mtu "$mtu" up
    ip -n "$c" addr add "$addr/24" dev eth0
}

set_mtu() { # HOST MTU: the host's underlay link and its switch port
    ip -n "$(sim_ns sw)" link set "p-$1" mtu "$2"
    ip -n "$(sim_ns "$1")" link set eth0 mtu "$2"
}

sim_init
sim_switch
sim_etcd

STORE_WATCH=${STORE_WATCH:-grpc}
proxy_pid=
case $STORE_WATCH in
gateway) export WEFT_STORE_WATCH=gateway ;;          # one watch of all fabric/, JSON
grpc) export WEFT_STORE_WATCH=grpc ;;                # per-member watches
grpc-fabric) export WEFT_STORE_WATCH=grpc-fabric ;;  # one gRPC watch of all fabric/
grpc-proxy)
    proxy=$(sim_etcd_addr):23799
    sim_spawn "$SIM_DIR/etcd/proxy.log" nsenter --net="/run/netns/$(sim_ns etcd)" etcd grpc-proxy \
        start --endpoints="$(sim_etcd_hostport)" --listen-addr="$proxy"
    proxy_pid=$SIM_LAST_PID
    wait_for 10 sim_ns_exec etcd bash -c "exec 3<>/dev/tcp/${proxy%:*}/${proxy#*:}" ||
        fail "grpc-proxy did not listen on $proxy"
    export WEFT_STORE_WATCH=grpc WEFT_STORE_WATCH_ENDPOINTS=$proxy
    ;;
*) echo "STORE_WATCH must be gateway, grpc, grpc-fabric or grpc-proxy" >&2; exit 2 ;;
esac

overlay_vni() { # SUBNET: the VNI weft claimed for it
    sim_etcdctl get --print-value-only "/weft/v1/overlays/${1/\//_}" | sed 's/.*"vni":\([0-9]*\).*/\1/'
}

# Hosts A<TAG> and B<TAG> at underlay MTU, each with a weft network on
# 10.<70+TAG>.0.0/24 and one container, plus the reference overlay between them.
pair_setup() { # UNDERLAY_MTU TAG
    local mtu=$1 tag=$2 a=A$2 b=B$2
    HADDR[$a]=192.168.77.$((10 + tag)) HADDR[$b]=192.168.77.$((20 + tag))
    sim_host "$a" "${HADDR[$a]}"
    sim_host "$b" "${HADDR[$b]}"
    set_mtu "$a" "$mtu"
    set_mtu "$b" "$mtu"
    SUBNET=10.$((70 + tag)).0.0/24
    # A1 logs its plugin calls (debug): section 6 reads its Join answers' stamps.
    WEFT_LOG_LEVEL=$([ "$tag" = 1 ] && echo debug || echo info) sim_weft "$a"
    sim_weft "$b"
    for h in "$a" "$b"; do create_network "$h" >/dev/null; done
    for h in "$a" "$b"; do create_endpoint "$h" >/dev/null; done
    wait_for 5 pings "$a" "$b" || fail "weft containers cannot ping at MTU $mtu"
    reference_overlay "$a" "$b" 10.98.$tag.1 $((mtu - 50)) "$tag"
    reference_overlay "$b" "$a" 10.98.$tag.2 $((mtu - 50)) "$tag"
    wait_for 5 sim_ns_exec "r$b" ping -c 1 -W 1 10.98.$tag.1 || fail "reference overlay does not ping"
}

# ---------------- 1. data plane, at underlay MTU 1500 and 9000 ----------------
datapath() { # UNDERLAY_MTU TAG
    local mtu=$1 tag=$2 a=A$2 b=B$2 i
    pair_setup "$mtu" "$tag"
    local u=() r=() w=()
    for i in $(seq 1 "$RUNS"); do
        u+=("$(iperf_tcp "$a" "${HADDR[$a]}" "$b")")
        r+=("$(iperf_tcp "r$a" 10.98.$tag.1 "r$b")")
        w+=("$(iperf_tcp "c$a" "${IP[$a]%/*}" "c$b")")
    done
    R[tcp_underlay_$mtu]=$(printf '%s\n' "${u[@]}" | median)
    R[tcp_reference_$mtu]=$(printf '%s\n' "${r[@]}" | median)
    R[tcp_weft_$mtu]=$(printf '%s\n' "${w[@]}" | median)
    if [ "$mtu" = 1500 ]; then
        noveth_overlay "$a" "$b" 10.97.$tag.1 $((mtu - 50)) "$tag"
        noveth_overlay "$b" "$a" 10.97.$tag.2 $((mtu - 50)) "$tag"
        wait_for 5 sim_ns_exec "m$b" ping -c 1 -W 1 10.97.$tag.1 || fail "the reference without veth does not ping"
        # pr, tn, pn: the reference's and the one without veth's UDP; tn its TCP.
        local pu=() pw=() pr=() pn=() tn=() mu=() mr=() mw=() # mu, mr, mw: four flows at once, as a busy host sends
        for i in $(seq 1 "$RUNS"); do
            tn+=("$(iperf_tcp "m$a" 10.97.$tag.1 "m$b")")
            pu+=("$(iperf_udp_pps "$a" "${HADDR[$a]}" "$b")")
            pr+=("$(iperf_udp_pps "r$a" 10.98.$tag.1 "r$b")")
            pn+=("$(iperf_udp_pps "m$a" 10.97.$tag.1 "m$b")")
            pw+=("$(iperf_udp_pps "c$a" "${IP[$a]%/*}" "c$b")")
            mu+=("$(iperf_tcp "$a" "${HADDR[$a]}" "$b" 4)")
            mr+=("$(iperf_tcp "r$a" 10.98.$tag.1 "r$b" 4)")
            mw+=("$(iperf_tcp "c$a" "${IP[$a]%/*}" "c$b" 4)")
        done
        R[udp_pps_underlay]=$(printf '%s\n' "${pu[@]}" | median)
        R[udp_pps_weft]=$(printf '%s\n' "${pw[@]}" | median)
        R[udp_pps_reference]=$(printf '%s\n' "${pr[@]}" | median)
        R[udp_pps_noveth]=$(printf '%s\n' "${pn[@]}" | median)
        R[tcp_noveth_1500]=$(printf '%s\n' "${tn[@]}" | median)
        R[tcp4_underlay_1500]=$(printf '%s\n' "${mu[@]}" | median)
        R[tcp4_reference_1500]=$(printf '%s\n' "${mr[@]}" | median)
        R[tcp4_weft_1500]=$(printf '%s\n' "${mw[@]}" | median)
        read -r R[rtt_underlay_p50] R[rtt_underlay_p99] <<<"$(rtt "$b" "${HADDR[$a]}")"
        read -r R[rtt_weft_p50] R[rtt_weft_p99] <<<"$(rtt "c$b" "${IP[$a]%/*}")"
        read -r R[rtt_reference_p50] R[rtt_reference_p99] <<<"$(rtt "r$b" 10.98.$tag.1)"
        read -r R[rtt_noveth_p50] R[rtt_noveth_p99] <<<"$(rtt "m$b" 10.97.$tag.1)"
    fi
    echo "measured the data plane at underlay MTU $mtu" >&2
}
if want datapath; then
    datapath 1500 1
    # JUMBO=0 (bench_smoke) leaves the MTU 9000 pair out: the same code at another MTU.
    [ "${JUMBO:-1}" = 0 ] || datapath 9000 9
elif want join || want converge || want docker; then
    pair_setup 1500 1
fi

# ---------------- 1a. an IPv6 underlay beside the IPv4 one (issue 12) ----------------
# Hosts A6 and B6 whose VTEPs are IPv6 (--advertise fd00:77::16/::26, MTU 1500: overlay
# 1430); they reach the bench's one etcd over an IPv4 address beside (the underlay
# carrying VXLAN is IPv6 only: the IPv4 pair's figures above are its comparison). An
# encrypted overlay beside the plain one (issue 11 on an IPv6 underlay: MTU 1382), its
# TCP in the same rounds.
datapath6() {
    local a=A6 b=B6 h i
    HADDR[$a]=fd00:77::16 HADDR[$b]=fd00:77::26
    sim_host "$a" "${HADDR[$a]}"
    sim_host "$b" "${HADDR[$b]}"
    ip -n "$(sim_ns "$a")" addr add 192.168.77.16/24 dev eth0
    ip -n "$(sim_ns "$b")" addr add 192.168.77.26/24 dev eth0
    build/weft keygen >"$SIM_DIR/secret6"
    for h in "$a" "$b"; do sim_weft "$h" --secret-file "$SIM_DIR/secret6"; done
    SUBNET=10.66.0.0/24
    for h in "$a" "$b"; do create_network "$h" >/dev/null; done
    for h in "$a" "$b"; do create_endpoint "$h" >/dev/null; done
    wait_for 5 pings "$a" "$b" || fail "weft containers cannot ping over the IPv6 underlay"
    local plain_a=${IP[$a]%/*}
    SUBNET=10.67.0.0/24 NET_GENERIC='{"encrypted":""}' CTR=e
    for h in "$a" "$b"; do create_network "$h" >/dev/null; create_endpoint "$h" >/dev/null; done
    local sealed_a=${IP[$a]%/*}
    wait_for 10 sim_ns_exec "e$b" ping -c 1 -W 1 "$sealed_a" ||
        fail "the encrypted overlay does not ping over the IPv6 underlay"
    NET_GENERIC='{}' CTR=c
    local u=() w=() e=()
    for i in $(seq 1 "$RUNS"); do
        u+=("$(iperf_tcp "$a" "${HADDR[$a]}" "$b")")
        w+=("$(iperf_tcp "c$a" "$plain_a" "c$b")")
        e+=("$(iperf_tcp "e$a" "$sealed_a" "e$b")")
    done
    R[tcp_underlay6_1500]=$(printf '%s\n' "${u[@]}" | median)
    R[tcp_weft6_1500]=$(printf '%s\n' "${w[@]}" | median)
    R[tcp_enc6_1500]=$(printf '%s\n' "${e[@]}" | median)
    R[ratio_enc6_weft6]=$(ratio "${R[tcp_enc6_1500]}" "${R[tcp_weft6_1500]}")
    read -r R[rtt_underlay6_p50] R[rtt_underlay6_p99] <<<"$(rtt "$b" "${HADDR[$a]}")"
    read -r R[rtt_weft6_p50] R[rtt_weft6_p99] <<<"$(rtt "c$b" "$plain_a")"
    read -r R[rtt_enc6_p50] R[rtt_enc6_p99] <<<"$(rtt "e$b" "$sealed_a")"
    for h in "$a" "$b"; do sim_weft_stop "$h" || true; done
    echo "measured the data plane on an IPv6 underlay" >&2
}
want datapath && datapath6

# ---------------- 1b. an encrypted overlay beside a plain one (issue 11) ----------------
# The machine's CPU (every core: user, system, interrupts) per gigabit carried, as the
# plain path's work is the kernel's and the encrypted path's mostly weft's.
busy_ticks() { awk '/^cpu / {print $2 + $3 + $4 + $7 + $8}' /proc/stat; }
cpu_per_gbit() { # TICKS GBIT_PER_S: CPU seconds per gigabit over SECS
    awk -v t="$1" -v g="$2" -v s="$SECS" -v hz="$(getconf CLK_TCK)" \
        'BEGIN {if (g + 0 == 0) print "null"; else printf "%.2f", t / hz / (g * s)}'
}
tcp_with_cpu() { # SERVER_NS SERVER_ADDR CLIENT_NS: prints "Gbit/s cpu_s_per_gbit"
    local t0 g
    t0=$(busy_ticks)
    g=$(iperf_tcp "$@")
    echo "$g $(cpu_per_gbit $(($(busy_ticks) - t0)) "$g")"
}
encrypted() {
    local a=EA b=EB i line c
    HADDR[$a]=192.168.77.31 HADDR[$b]=192.168.77.32
    sim_host "$a" "${HADDR[$a]}"
    sim_host "$b" "${HADDR[$b]}"
    build/weft keygen >"$SIM_DIR/secret"
    for h in "$a" "$b"; do sim_weft "$h" --secret-file "$SIM_DIR/secret"; done
    # Dual-stack: TCP over IPv6 inside the overlays is measured too.
    SUBNET=10.75.0.0/24 SUBNET6=fd75::/64 NET_GENERIC='{}' CTR=p
    for h in "$a" "$b"; do create_network "$h" >/dev/null; create_endpoint "$h" >/dev/null; done
    local plain_a=${IP[$a]%/*} plain_a6=${IP6[$a]%/*}
    SUBNET=10.85.0.0/24 SUBNET6=fd85::/64 NET_GENERIC='{"encrypted":""}' CTR=e
    for h in "$a" "$b"; do create_network "$h" >/dev/null; create_endpoint "$h" >/dev/null; done
    local sealed_a=${IP[$a]%/*} sealed_a6=${IP6[$a]%/*}
    SUBNET6=
    wait_for 10 sim_ns_exec "e$b" ping -c 1 -W 1 "$sealed_a" || fail "encrypted overlay does not ping"
    wait_for 10 sim_ns_exec "p$b" ping -c 1 -W 1 "$plain_a" || fail "plain overlay does not ping"
    wait_for 10 sim_ns_exec "e$b" ping -6 -c 1 -W 1 "$sealed_a6" ||
        fail "the encrypted overlay does not ping over IPv6"
    local u=() p=() e=() pc=() ec=() pp=() ep=() p6=() e6=()
    for i in $(seq 1 "$RUNS"); do
        u+=("$(iperf_tcp "$a" "${HADDR[$a]}" "$b")")
        read -r line c <<<"$(tcp_with_cpu "p$a" "$plain_a" "p$b")"
        p+=("$line") pc+=("$c")
        read -r line c <<<"$(tcp_with_cpu "e$a" "$sealed_a" "e$b")"
        e+=("$line") ec+=("$c")
        p6+=("$(iperf_tcp "p$a" "$plain_a6" "p$b")")
        e6+=("$(iperf_tcp "e$a" "$sealed_a6" "e$b")")
        pp+=("$(iperf_udp_pps "p$a" "$plain_a" "p$b")")
        ep+=("$(iperf_udp_pps "e$a" "$sealed_a" "e$b")")
    done
    R[enc_tcp_underlay]=$(printf '%s\n' "${u[@]}" | median)
    R[enc_tcp_plain]=$(printf '%s\n' "${p[@]}" | median)
    R[enc_tcp_encrypted]=$(printf '%s\n' "${e[@]}" | median)
    R[enc_tcp6_plain]=$(printf '%s\n' "${p6[@]}" | median)
    R[enc_tcp6_encrypted]=$(printf '%s\n' "${e6[@]}" | median)
    R[enc_ratio_tcp6]=$(ratio "${R[enc_tcp6_encrypted]}" "${R[enc_tcp6_plain]}")
    R[enc_cpu_per_gbit_plain]=$(printf '%s\n' "${pc[@]}" | median)
    R[enc_cpu_per_gbit_encrypted]=$(printf '%s\n' "${ec[@]}" | median)
    R[enc_udp_pps_plain]=$(printf '%s\n' "${pp[@]}" | median)
    R[enc_udp_pps_encrypted]=$(printf '%s\n' "${ep[@]}" | median)
    read -r R[enc_rtt_plain_p50] R[enc_rtt_plain_p99] <<<"$(rtt "p$b" "$plain_a")"
    read -r R[enc_rtt_encrypted_p50] R[enc_rtt_encrypted_p99] <<<"$(rtt "e$b" "$sealed_a")"
    R[enc_ratio_tcp]=$(ratio "${R[enc_tcp_encrypted]}" "${R[enc_tcp_plain]}")
    R[enc_ratio_rtt_p99]=$(ratio "${R[enc_rtt_encrypted_p99]}" "${R[enc_rtt_plain_p99]}")
    for h in "$a" "$b"; do sim_weft_stop "$h" || true; done
    NET_GENERIC='{}' CTR=c
    echo "measured the encrypted overlay beside the plain one" >&2
}
want encrypted && encrypted

# quiet: waits (at most QUIET_S, default 15 s) until the machine has been at least 80 %
# idle for half a second, so a section does not time what the one before it left
# running (iperf3 servers winding down, etcd compacting, the encrypted section's threads).
quiet() {
    local i a b
    for i in $(seq 1 $((${QUIET_S:-15} * 2))); do
        a=$(awk '/^cpu / {print $5 + $6, $2 + $3 + $4 + $5 + $6 + $7 + $8}' /proc/stat)
        sleep 0.5
        b=$(awk '/^cpu / {print $5 + $6, $2 + $3 + $4 + $5 + $6 + $7 + $8}' /proc/stat)
        awk -v a="$a" -v b="$b" 'BEGIN {split(a, x); split(b, y); exit !((y[1] - x[1]) >= 0.8 * (y[2] - x[2]))}' &&
            return 0
    done
    [ "${QUIET_S:-15}" = 0 ] || echo "bench: the machine never went quiet (${QUIET_S:-15} s); timing anyway" >&2
}
spread() { sort -g | awk 'NR == 1 {lo = $1} {hi = $1} END {if (NR) print lo, hi; else print "null null"}'; } # "min max"

# ---------------- 2. Join + CreateEndpoint latency ----------------
# RUNS rounds of JOINS cycles each: the figures are the median round's, and the spread
# of the rounds' p99 is reported beside them.
SUBNET=10.71.0.0/24
if want join; then
    : >"$SIM_DIR/join"
    for run in $(seq 1 "$RUNS"); do
        quiet
        $BENCH join "$SIM_DIR/A1/plugins/weft.sock" "${NID[A1]}" 10.71.0.0 "$JOINS" >>"$SIM_DIR/join"
    done
    field() { sed "s/.*\"$1\":\([0-9.]*\).*/\1/" "$SIM_DIR/join" | median; }
    R[join_p50_ms]=$(field p50_ms)
    R[join_p90_ms]=$(field p90_ms)
    R[join_p99_ms]=$(field p99_ms)
    R[join_max_ms]=$(field max_ms)
    read -r R[join_p99_min_ms] R[join_p99_max_ms] < <(sed 's/.*"p99_ms":\([0-9.]*\).*/\1/' "$SIM_DIR/join" | spread)
    echo "measured Join + CreateEndpoint over $RUNS x $JOINS cycles" >&2
fi

# ---------------- 3. convergence: created on A until B has it and can ping it ----------------
# Timed from timestamps, so nothing polls while an endpoint propagates: plugin_bench
# stamps each CreateEndpoint's send time on A (wall clock) and `ip -ts monitor neigh`
# on B stamps the neighbour entry weft programs there; one endpoint every 100 ms
# (convergence is well under that, so they do not overlap). RUNS rounds of CONVERGE
# endpoints: percentiles over all of them, and the spread of the rounds' p99.
converge_stamps() { # SENT_FILE MONITOR_FILE VXLAN_DEVICE: one latency in ms per sent line
    perl -MTime::Local -e '
        my ($sent, $mon, $dev) = @ARGV;
        my %seen;
        open(my $m, "<", $mon) or die;
        while (<$m>) {
            next unless /^\[(\d+)-(\d+)-(\d+)T(\d+):(\d+):(\d+)\.(\d+)\] (\S+) dev \Q$dev\E lladdr/;
            my $us = timelocal($6, $5, $4, $3, $2 - 1, $1) * 1e6 + $7;
            push @{$seen{$8}}, $us;
        }
        open(my $s, "<", $sent) or die;
        while (<$s>) {
            my ($addr, $t0) = split;
            $addr =~ s{/.*}{};
            my ($t1) = grep { $_ >= $t0 } @{$seen{$addr} || []};
            printf "%.1f\n", defined $t1 ? ($t1 - $t0) / 1000 : -1;
        }' "$@"
}
converge() {
vx_b=wvx$(overlay_vni "$SUBNET")
# Once, untimed: a programmed entry really carries traffic.
out=$(call A1 IpamDriver.RequestAddress "{\"PoolID\":\"$SUBNET\",\"Address\":\"\",\"Options\":null}")
addr=$(sim_json_str Address <<<"$out")
eid=$(sim_random_id)
call A1 NetworkDriver.CreateEndpoint "{\"NetworkID\":\"${NID[A1]}\",\"EndpointID\":\"$eid\",\"Interface\":{\"Address\":\"$addr\",\"MacAddress\":\"\"},\"Options\":{}}" >/dev/null
src=$(call A1 NetworkDriver.Join "{\"NetworkID\":\"${NID[A1]}\",\"EndpointID\":\"$eid\",\"SandboxKey\":\"/x\"}" | sim_json_str SrcName)
sim_fake_container A1 cconv "$src" "$addr" ""
wait_for 5 sim_ns_exec cB1 ping -c 1 -W 1 "${addr%/*}" || {
    sim_ns_exec B1 ip neigh show dev "$vx_b" >&2
    sim_ns_exec B1 bridge fdb show dev "$vx_b" >&2
    fail "converged endpoint ${addr%/*} does not answer"
}
sim_fake_container_kill cconv
call A1 NetworkDriver.DeleteEndpoint "{\"NetworkID\":\"${NID[A1]}\",\"EndpointID\":\"$eid\"}" >/dev/null
call A1 IpamDriver.ReleaseAddress "{\"PoolID\":\"$SUBNET\",\"Address\":\"${addr%/*}\"}" >/dev/null
: >"$SIM_DIR/converge"
: >"$SIM_DIR/converge.p99s"
for run in $(seq 1 "$RUNS"); do
    quiet
    : >"$SIM_DIR/converge.mon"
    sim_spawn "$SIM_DIR/converge.mon" nsenter --net="/run/netns/$(sim_ns B1)" ip -ts monitor neigh
    mon=$SIM_LAST_PID
    sleep 0.3 # the monitor subscribed
    $BENCH converge "$SIM_DIR/A1/plugins/weft.sock" "${NID[A1]}" "$SUBNET" "$CONVERGE" 100 \
        "$SIM_DIR/converge.sent" || fail "plugin_bench converge failed"
    sleep 0.5
    sim_stop_pid "$mon" 5 || true
    converge_stamps "$SIM_DIR/converge.sent" "$SIM_DIR/converge.mon" "$vx_b" >"$SIM_DIR/converge.run"
    ! grep -q '^-1' "$SIM_DIR/converge.run" ||
        fail "B never programmed $(grep -c '^-1' "$SIM_DIR/converge.run") of A's endpoints (run $run)"
    cat "$SIM_DIR/converge.run" >>"$SIM_DIR/converge"
    pct 99 <"$SIM_DIR/converge.run" >>"$SIM_DIR/converge.p99s"
done
R[converge_p50_ms]=$(pct 50 <"$SIM_DIR/converge")
R[converge_p99_ms]=$(pct 99 <"$SIM_DIR/converge")
read -r R[converge_p99_min_ms] R[converge_p99_max_ms] < <(spread <"$SIM_DIR/converge.p99s")
echo "measured convergence over $RUNS x $CONVERGE endpoints" >&2
}
want converge && converge

# ---------------- 4 and 5. IPAM rate, scale and daemon RSS ----------------
declare -A SCALE_MS
scale_hosts=() points=()
scale_addr() { # I: 192.168.77.101-249, then 192.168.78.1 on (etcd is 192.168.77.250)
    local k=$((100 + $1))
    if [ "$k" -lt 250 ]; then echo "192.168.77.$k"; else echo "192.168.$((78 + (k - 250) / 250)).$(((k - 250) % 250 + 1))"; fi
}
# The curve (SCALE_POINTS) has its own hosts; these serve ipam and the figure below.
if want ipam || { want scale && [ -z "${SCALE_POINTS:-}" ]; }; then
    for i in $(seq 1 "$HOSTS"); do
        h=S$i
        HADDR[$h]=$(scale_addr "$i")
        sim_host "$h" "${HADDR[$h]}"
        scale_hosts+=("$h")
    done
    # Their daemons 25 at a time (sim_weft waits for each one's socket).
    for ((i = 1; i <= HOSTS; i += 25)); do
        pids=()
        for ((j = i; j < i + 25 && j <= HOSTS; j++)); do
            (sim_weft "S$j") &
            pids+=($!)
        done
        for j in "${pids[@]}"; do wait "$j" || fail "a scale host's weft did not start"; done
    done
fi
# SMAPS_DIR: each daemon's /proc/PID/smaps kept, idle (2 s after the last has started)
# and where RSS is read below (bench/smaps_by_lib.awk sums one per library).
keep_smaps() { # WHEN
    [ -n "${SMAPS_DIR:-}" ] || return 0
    mkdir -p "$SMAPS_DIR"
    local h
    [ "$1" != idle ] || sleep 2
    for h in "${scale_hosts[@]}"; do cat "/proc/$(sim_weft_pid "$h")/smaps" >"$SMAPS_DIR/$1.$h"; done
}
if want ipam || want scale; then keep_smaps idle; fi
ipam() {
SUBNET=10.90.0.0/16
create_network S1 >/dev/null
$BENCH ipam "$SIM_DIR/S1/plugins/weft.sock" "$SUBNET" $((2 * IPAM_REQUESTS)) 16 "$SIM_DIR/ipam1" >"$SIM_DIR/ipam1.json"
secs=$(sed 's/.*"seconds":\([0-9.]*\).*/\1/' "$SIM_DIR/ipam1.json")
R[ipam_one_host_per_s]=$(awk -v s="$secs" -v n=$((2 * IPAM_REQUESTS)) 'BEGIN {printf "%.0f", n / s}')
pids=()
contenders=$((HOSTS < 8 ? HOSTS : 8))
t0=$(now_ms)
for i in $(seq 1 "$contenders"); do
    $BENCH ipam "$SIM_DIR/S$i/plugins/weft.sock" "$SUBNET" "$IPAM_REQUESTS" 8 "$SIM_DIR/ipam8.$i" >/dev/null &
    pids+=($!)
done
wait "${pids[@]}"
t1=$(now_ms)
total=$(cat "$SIM_DIR"/ipam8.* | grep -c .)
R[ipam_contended_per_s]=$(awk -v n="$total" -v ms=$((t1 - t0)) 'BEGIN {printf "%.0f", n * 1000 / ms}')
R[ipam_contended_hosts]=$contenders
R[ipam_contended_allocations]=$total
R[ipam_duplicates]=$(cat "$SIM_DIR"/ipam1 "$SIM_DIR"/ipam8.* | sort | uniq -d | grep -c . || true)
echo "measured IPAM: one host and $contenders contending" >&2
}
want ipam && ipam

# Scale: H hosts each add EPS endpoints at once; time until every host has all
# (H-1) x EPS remote neighbour entries programmed.
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; } # PID: user + system clock ticks
weft_ticks() { local h t=0; for h in "${scale_hosts[@]}"; do t=$((t + $(cpu_ticks "$(sim_weft_pid "$h")"))); done; echo $t; }
scale_run() { # H SUBNET_SECOND_OCTET
    local n=$1 octet=$2 i t0 t1 want
    SUBNET=10.$octet.0.0/16
    for i in $(seq 1 "$n"); do create_network "S$i" >/dev/null; done
    local vx
    vx=wvx$(overlay_vni "$SUBNET")
    want=$(((n - 1) * EPS))
    local etcd0 weft0 proxy0=0
    etcd0=$(cpu_ticks "$(cat "$SIM_DIR/etcd/pid")") weft0=$(weft_ticks)
    [ -z "$proxy_pid" ] || proxy0=$(cpu_ticks "$proxy_pid")
    t0=$(now_ms)
    pids=()
    for i in $(seq 1 "$n"); do
        $BENCH endpoints "$SIM_DIR/S$i/plugins/weft.sock" "${NID[S$i]}" "$SUBNET" "$EPS" >/dev/null &
        pids+=($!)
    done
    wait "${pids[@]}"
    local created_ms=$(($(now_ms) - t0))
    # When each host had all its remote entries, read from the kernel by one process
    # holding a netlink socket in each host: a host is seen complete at most one of its
    # reads of the pending hosts after it was (the longest is reported: the resolution).
    local paths=()
    for i in $(seq 1 "$n"); do paths+=("/run/netns/$(sim_ns "S$i")"); done
    build/neigh_wait "$vx" "$want" 120000 "${paths[@]}" >"$SIM_DIR/neigh_wait.$n" ||
        echo "scale $n x $EPS did not converge" >&2
    t1=$(awk '$1 ~ /^\// { if ($2 < 0) late = 1; else if ($2 > m) m = $2 } END { print late ? -1 : m }' \
        "$SIM_DIR/neigh_wait.$n")
    [ "$t1" != -1 ] || t1=$(now_ms)
    local resolution_ms
    resolution_ms=$(awk '$1 == "sweep_max_ms" { print $2 }' "$SIM_DIR/neigh_wait.$n")
    SCALE_MS[$n]=$((t1 - t0))
    if [ "$n" = "$HOSTS" ]; then
        # Where the machine's time went: etcd against all weft daemons together.
        local hz
        hz=$(getconf CLK_TCK)
        R[scale_cpu_etcd_s]=$(awk -v t=$(($(cpu_ticks "$(cat "$SIM_DIR/etcd/pid")") - etcd0)) -v hz="$hz" 'BEGIN {printf "%.2f", t / hz}')
        [ -z "$proxy_pid" ] ||
            R[scale_cpu_proxy_s]=$(awk -v t=$(($(cpu_ticks "$proxy_pid") - proxy0)) -v hz="$hz" 'BEGIN {printf "%.2f", t / hz}')
        R[scale_cpu_weft_s]=$(awk -v t=$(($(weft_ticks) - weft0)) -v hz="$hz" 'BEGIN {printf "%.2f", t / hz}')
        R[scale_created_ms]=$created_ms
        R[scale_etcd_ms_per_endpoint]=$(awk -v s="${R[scale_cpu_etcd_s]}" -v n=$((HOSTS * EPS)) 'BEGIN {printf "%.2f", s * 1000 / n}')
        R[scale_after_created_ms]=$((t1 - t0 - created_ms))
        R[scale_resolution_ms]=$resolution_ms
    fi
    echo "measured scale $n hosts x $EPS endpoints: $((t1 - t0)) ms" >&2
}
scale() {
for n in 2 5 10 "$HOSTS"; do
    [ "$n" -le "$HOSTS" ] || continue
    [[ " ${points[*]} " == *" $n "* ]] && continue
    points+=("$n")
done
octet=100
for n in "${points[@]}"; do
    scale_run "$n" "$octet"
    octet=$((octet + 1))
done
R[scale_hosts]=$HOSTS
R[scale_eps]=$EPS
R[scale_converged_ms]=${SCALE_MS[$HOSTS]}
rss=() anon=()
for h in "${scale_hosts[@]}"; do
    rss+=("$(awk '/^VmRSS/ {print $2}' "/proc/$(sim_weft_pid "$h")/status")")
    anon+=("$(awk '/^RssAnon/ {print $2}' "/proc/$(sim_weft_pid "$h")/status")")
done
keep_smaps loaded
R[rss_max_kib]=$(printf '%s\n' "${rss[@]}" | sort -g | tail -n 1)
R[rss_median_kib]=$(printf '%s\n' "${rss[@]}" | median)
# The daemon's own memory; the rest of RSS is file pages (the binary, libc).
R[rss_anon_median_kib]=$(printf '%s\n' "${anon[@]}" | median)
}
if want scale && [ -n "${SCALE_POINTS:-}" ]; then
    SCALE_POINTS=$SCALE_POINTS STORE_WATCH=$STORE_WATCH \
        bench/scale_curve.sh "$SIM_DIR/curve.results" "$OUT_DIR/scale_curve.png" >"$SIM_DIR/curve.table"
    while read -r k v; do R[$k]=$v; done <"$SIM_DIR/curve.results"
    echo "measured the scale curve (issue 18)" >&2
elif want scale; then
    scale
fi

# ---------------- 6. real Docker: docker run on A until reachable from B ----------------
# reach_docker_section (bench/reach.sh): Docker's own time and weft's, probed from before
# docker run starts, no process per try. A1 logs its plugin calls at debug level for it.
if want docker && [ "$DOCKER_RUNS" -gt 0 ]; then
    reach_docker_section A1 B1 "$DOCKER_RUNS"
    echo "measured docker run to reachable over $DOCKER_RUNS runs" >&2
fi

# ---------------- 7. key layout: etcd's cost of watching the fabric (issue 17) ----------------
# Its own etcd on loopback, not the simulated one; its table is printed after ours.
if want layout; then
    LAYOUT_RUNS=${LAYOUT_RUNS:-2} bench/watch_layout.sh "$SIM_DIR/layout.results" >"$SIM_DIR/layout.table"
    while read -r k v; do R[$k]=$v; done <"$SIM_DIR/layout.results"
    echo "measured etcd's cost of watching by key layout" >&2
fi

# ---------------- 8. names: propagation and the resolver's queries/s (issue 10) ----------------
# Its own simulated hosts with dockerd (its child's run tag); its table is printed after ours.
if want names; then
    NAMES_RUNS=${NAMES_RUNS:-20} NAMES_SECS=${NAMES_SECS:-5} \
        bench/names_bench.sh "$SIM_DIR/names.results" >"$SIM_DIR/names.table"
    while read -r k v; do R[$k]=$v; done <"$SIM_DIR/names.results"
    echo "measured names: propagation and the resolver's queries/s" >&2
fi

# ---------------- 9. Docker's own overlay beside weft (issue 14) ----------------
# Its own simulated hosts with dockerd in a swarm (its child's run tag); its table is
# printed after ours.
if want swarm; then
    bench/swarm_bench.sh "$SIM_DIR/swarm.results" >"$SIM_DIR/swarm.table"
    while read -r k v; do R[$k]=$v; done <"$SIM_DIR/swarm.results"
    echo "measured weft beside Docker's swarm overlay" >&2
fi

# ---------------- 10. per-member watches: what a host hears of others' overlays (issue 14) ----------------
# Its own simulated hosts (its child's run tag); its table is printed after ours.
if want members; then
    bench/member_watch.sh "$SIM_DIR/members.results" >"$SIM_DIR/members.table"
    while read -r k v; do R[$k]=$v; done <"$SIM_DIR/members.results"
    echo "measured per-member watches against one watch of all fabric/" >&2
fi

# ---------------- results ----------------
r() { printf '%s' "${R[$1]:-n/a}"; } # a figure, or n/a when its section did not run
R[ratio_underlay_1500]=$(ratio "$(r tcp_weft_1500)" "$(r tcp_underlay_1500)")
R[ratio4_underlay_1500]=$(ratio "$(r tcp4_weft_1500)" "$(r tcp4_underlay_1500)")
R[ratio4_reference_1500]=$(ratio "$(r tcp4_weft_1500)" "$(r tcp4_reference_1500)")
R[ratio_reference_1500]=$(ratio "$(r tcp_weft_1500)" "$(r tcp_reference_1500)")
R[ratio_noveth_reference_1500]=$(ratio "$(r tcp_noveth_1500)" "$(r tcp_reference_1500)")
R[ratio_udp_noveth_reference]=$(ratio "$(r udp_pps_noveth)" "$(r udp_pps_reference)")
R[ratio_udp_weft_reference]=$(ratio "$(r udp_pps_weft)" "$(r udp_pps_reference)")
R[ratio_underlay6_1500]=$(ratio "$(r tcp_weft6_1500)" "$(r tcp_underlay6_1500)")
R[ratio_weft6_weft4_1500]=$(ratio "$(r tcp_weft6_1500)" "$(r tcp_weft_1500)")
R[ratio_underlay_9000]=$(ratio "$(r tcp_weft_9000)" "$(r tcp_underlay_9000)")
R[ratio_reference_9000]=$(ratio "$(r tcp_weft_9000)" "$(r tcp_reference_9000)")
{
    printf '{\n  "date": "%s",\n  "runs": %s,\n  "iperf_seconds": %s,\n' "$(date -u +%FT%TZ)" "$RUNS" "$SECS"
    printf '  "sections": "%s",\n  "store_watch": "%s",\n' "$SECTIONS" "$STORE_WATCH"
    for k in $(printf '%s\n' "${!R[@]}" | sort); do
        v=${R[$k]}
        [[ "$v" =~ ^-?[0-9.]+$ ]] || v=null
        printf '  "%s": %s,\n' "$k" "$v"
    done
    printf '  "convergence_by_hosts": {'
    sep=
    for n in "${points[@]}"; do printf '%s"%s": %s' "$sep" "$n" "${SCALE_MS[$n]}"; sep=', '; done
    printf '}\n}\n'
} >"$OUT"

plot=
if [ ${#points[@]} -gt 0 ]; then
    for n in "${points[@]}"; do echo "$n ${SCALE_MS[$n]}"; done >"$OUT_DIR/convergence.dat"
    if ! command -v gnuplot >/dev/null; then
        echo "gnuplot missing (scripts/install-deps.sh bench installs it): no plot" >&2
    else
        plot=$OUT_DIR/convergence.png
        gnuplot <<GP
set terminal png size 800,500
set output "$plot"
set title "weft: time until every host has every remote endpoint ($EPS endpoints per host)"
set xlabel "hosts"
set ylabel "milliseconds"
set grid
set key off
plot "$OUT_DIR/convergence.dat" using 1:2 with linespoints lw 2 pt 7
GP
    fi
fi

row() { printf '%-46s %16s %14s\n' "$1" "$2" "$3"; }
echo
row "figure (median of $RUNS runs where repeated)" "measured" "target"
row "TCP underlay, MTU 1500 (Gbit/s)" "$(r tcp_underlay_1500)" ""
row "TCP reference VXLAN, MTU 1500 (Gbit/s)" "$(r tcp_reference_1500)" ""
row "TCP weft, MTU 1500 (Gbit/s)" "$(r tcp_weft_1500)" ""
row "  weft / underlay" "$(r ratio_underlay_1500)" ">= 0.90"
row "  weft / reference" "$(r ratio_reference_1500)" ">= 1.0"
row "  weft / swarm (swarm section's hosts)" "$(r swarm_ratio_weft_swarm_1500)" ""
row "TCP 4 flows underlay / reference / weft, 1500" "$(r tcp4_underlay_1500) / $(r tcp4_reference_1500) / $(r tcp4_weft_1500)" ""
row "  weft / underlay, 4 flows" "$(r ratio4_underlay_1500)" ""
row "  weft / reference, 4 flows" "$(r ratio4_reference_1500)" ""
row "TCP underlay, MTU 9000 (Gbit/s)" "$(r tcp_underlay_9000)" ""
row "TCP reference VXLAN, MTU 9000 (Gbit/s)" "$(r tcp_reference_9000)" ""
row "TCP weft, MTU 9000 (Gbit/s)" "$(r tcp_weft_9000)" ""
row "  weft / underlay" "$(r ratio_underlay_9000)" ""
row "  weft / reference" "$(r ratio_reference_9000)" ""
row "  weft / swarm (swarm section's hosts)" "$(r swarm_ratio_weft_swarm_9000)" ""
row "UDP 64 B underlay (packets/s)" "$(r udp_pps_underlay)" ""
row "UDP 64 B weft (packets/s)" "$(r udp_pps_weft)" ""
row "  weft / reference" "$(r ratio_udp_weft_reference)" ""
row "RTT underlay p50 / p99 (ms)" "$(r rtt_underlay_p50) / $(r rtt_underlay_p99)" ""
row "RTT weft p50 / p99 (ms)" "$(r rtt_weft_p50) / $(r rtt_weft_p99)" ""
row "reference VXLAN without veth (macvlan), 1500:" "" ""
row "  TCP (Gbit/s); / reference with veth" "$(r tcp_noveth_1500); $(r ratio_noveth_reference_1500)" ""
row "  UDP 64 B reference / without veth (packets/s)" "$(r udp_pps_reference) / $(r udp_pps_noveth)" ""
row "  UDP without veth / with" "$(r ratio_udp_noveth_reference)" ""
row "  RTT p99 reference / without veth (ms)" "$(r rtt_reference_p99) / $(r rtt_noveth_p99)" ""
row "IPv6 underlay, MTU 1500 (issue 12):" "" ""
row "  TCP underlay / weft (Gbit/s)" "$(r tcp_underlay6_1500) / $(r tcp_weft6_1500)" ""
row "  weft / underlay" "$(r ratio_underlay6_1500)" ""
row "  weft on IPv6 / weft on IPv4 underlay" "$(r ratio_weft6_weft4_1500)" ""
row "  RTT underlay / weft p50 (ms)" "$(r rtt_underlay6_p50) / $(r rtt_weft6_p50)" ""
row "  RTT underlay / weft p99 (ms)" "$(r rtt_underlay6_p99) / $(r rtt_weft6_p99)" ""
row "  TCP encrypted (Gbit/s); encrypted / plain" "$(r tcp_enc6_1500); $(r ratio_enc6_weft6)" ""
row "  RTT encrypted p50 / p99 (ms)" "$(r rtt_enc6_p50) / $(r rtt_enc6_p99)" ""
row "encrypted overlay, MTU 1500 (issue 11):" "" ""
row "  TCP underlay / plain / encrypted (Gbit/s)" "$(r enc_tcp_underlay) / $(r enc_tcp_plain) / $(r enc_tcp_encrypted)" ""
row "  TCP encrypted / plain" "$(r enc_ratio_tcp)" ">= 0.5"
row "  TCP over IPv6 inside, plain / encrypted (Gbit/s)" "$(r enc_tcp6_plain) / $(r enc_tcp6_encrypted)" ""
row "  TCP over IPv6 inside, encrypted / plain" "$(r enc_ratio_tcp6)" ""
row "  UDP 64 B plain / encrypted (packets/s)" "$(r enc_udp_pps_plain) / $(r enc_udp_pps_encrypted)" ""
row "  RTT p50 plain / encrypted (ms)" "$(r enc_rtt_plain_p50) / $(r enc_rtt_encrypted_p50)" ""
row "  RTT p99 plain / encrypted (ms)" "$(r enc_rtt_plain_p99) / $(r enc_rtt_encrypted_p99)" ""
row "  RTT p99 encrypted / plain" "$(r enc_ratio_rtt_p99)" "<= 2"
row "  CPU s per Gbit, plain / encrypted" "$(r enc_cpu_per_gbit_plain) / $(r enc_cpu_per_gbit_encrypted)" ""
row "CreateEndpoint+Join p50 / p99 (ms, $RUNS x $JOINS)" "$(r join_p50_ms) / $(r join_p99_ms)" "p99 <= 2"
row "  p99 of each round: min - max (ms)" "$(r join_p99_min_ms) - $(r join_p99_max_ms)" ""
row "  p90 / max (ms)" "$(r join_p90_ms) / $(r join_max_ms)" ""
row "convergence p50 / p99 (ms, $RUNS x $CONVERGE)" "$(r converge_p50_ms) / $(r converge_p99_ms)" "p99 <= 50"
row "  p99 of each round: min - max (ms)" "$(r converge_p99_min_ms) - $(r converge_p99_max_ms)" ""
row "IPAM one host (allocations/s)" "$(r ipam_one_host_per_s)" ""
row "IPAM $(r ipam_contended_hosts) hosts contending (allocations/s)" "$(r ipam_contended_per_s)" ">= 500"
row "IPAM duplicates" "$(r ipam_duplicates)" "0"
row "scale $HOSTS x $EPS: all endpoints created (ms)" "$(r scale_created_ms)" ""
row "scale $HOSTS x $EPS: converged (ms)" "$(r scale_converged_ms)" "50x100 <= 2000"
row "  converged after the last create (ms)" "$(r scale_after_created_ms)" ""
row "  (resolution: longest read of the hosts, ms)" "$(r scale_resolution_ms)" ""
row "  CPU during it: etcd / all weft daemons (s)" "$(r scale_cpu_etcd_s) / $(r scale_cpu_weft_s)" ""
[ -z "$proxy_pid" ] || row "  CPU during it: grpc-proxy (s)" "$(r scale_cpu_proxy_s)" ""
row "store watch (STORE_WATCH)" "$STORE_WATCH" ""
row "  etcd CPU per endpoint created (ms)" "$(r scale_etcd_ms_per_endpoint)" ""
row "daemon RSS median / max (KiB)" "$(r rss_median_kib) / $(r rss_max_kib)" "<= 8192"
row "  of which anonymous (median, KiB)" "$(r rss_anon_median_kib)" ""
row "docker run on A until B reaches it p50 / p99 (ms)" "$(r docker_run_p50_ms) / $(r docker_run_p99_ms)" ""
row "  docker run returns (Docker's own) p50 / p99" "$(r docker_returns_p50_ms) / $(r docker_returns_p99_ms)" ""
row "  B's answer after A's (same host) p50 / p99" "$(r docker_local_p50_ms) / $(r docker_local_p99_ms)" ""
row "  weft's Join answer until B's answer p50 / p99" "$(r docker_join_p50_ms) / $(r docker_join_p99_ms)" "p99 <= 20"
row "    until Docker moved the veth in (Docker's)" "$(r docker_moved_p50_ms) / $(r docker_moved_p99_ms)" ""
row "    after the move p50 / p99 (ms)" "$(r docker_after_move_p50_ms) / $(r docker_after_move_p99_ms)" ""
row "  Join answer until B programmed p50 / p99" "$(r docker_programmed_p50_ms) / $(r docker_programmed_p99_ms)" ""
if want scale && [ -n "${SCALE_POINTS:-}" ]; then
    echo
    cat "$SIM_DIR/curve.table"
fi
if want layout; then
    echo
    cat "$SIM_DIR/layout.table"
fi
if want names; then
    echo
    cat "$SIM_DIR/names.table"
fi
if want swarm; then
    echo
    cat "$SIM_DIR/swarm.table"
fi
if want members; then
    echo
    cat "$SIM_DIR/members.table"
fi
echo
echo "wrote $OUT${plot:+ and $plot}$([ ! -f "$OUT_DIR/scale_curve.png" ] || ! want scale || [ -z "${SCALE_POINTS:-}" ] || echo " and $OUT_DIR/scale_curve.png")"
