# shellcheck shell=bash
# bench/reach.sh: `docker run -d` on one simulated host until a container on another host
# gets a packet through to the new container, timed so that the probe's own process
# spawns stay out of the figure (issue 14). Sourced by bench/run.sh (section 6:
# reach_docker_section) and bench/swarm_bench.sh, after tests/lib/sim.sh (and for
# reach_docker_section, after run.sh's R and pct).
#
# The probe runs in the network namespace of a container already running on the other
# host (nsenter, the host's iputils ping): a permanent neighbour entry for the new
# container's address and MAC, both chosen by the caller (docker run --ip --mac-address),
# then one ping every 2 ms from before `docker run` starts until the first answer. The
# answer's receive timestamp (ping -D: gettimeofday, the clock weft's log lines use) ends
# the measurement. The static entry keeps the probe's ARP retries (1 s apart, as the
# kernel's default) out of the figure: what is timed is the other host forwarding to the
# new MAC (its FDB entry; weft programs the neighbour entry its proxy ARP answers from in
# the same netlink batch) and the new container answering.

# reach_run HOST NETWORK ADDR MAC NAME REMOTE_PID LOCAL_PID: prints "T_CALLED T_RETURNED
# T_REMOTE T_LOCAL" in epoch ms: docker run called and returned, the first answer to the
# probe in REMOTE_PID's namespace (a container on another host) and to the one in
# LOCAL_PID's (a container on HOST, on the same network: when the new container answers at
# all, its interface set up by Docker; what the remote probe waits beyond that is the
# overlay's). A probe that got no answer within 20 s prints "timeout". The container NAME
# is left running for the caller to inspect and remove.
reach_run() {
    local host=$1 net=$2 addr=$3 mac=$4 name=$5 out t0 t1 p
    local -a pids=()
    out=$SIM_DIR/reach.$name
    for p in "$6" "$7"; do
        nsenter -t "$p" -n ip neigh replace "$addr" lladdr "$mac" dev eth0 nud permanent ||
            return 1
        nsenter -t "$p" -n ping -D -n -c 1 -i 0.002 -w 20 "$addr" >"$out.$p" 2>&1 &
        pids+=($!)
    done
    sleep 0.05 # they are sending before docker run starts
    t0=$(date +%s%3N)
    # dockerd warns that forwarding is off: true, and wanted here (nothing is routed out).
    if ! sim_docker "$host" run -d --network "$net" --ip "$addr" --mac-address "$mac" \
        --name "$name" weft-test sleep 3600 >"$out.run" 2>&1; then
        kill "${pids[@]}" 2>/dev/null
        wait "${pids[@]}" 2>/dev/null
        echo "reach: docker run $name on $host failed: $(tail -n 3 "$out.run")" >&2
        return 1
    fi
    t1=$(date +%s%3N)
    wait "${pids[@]}" || true
    printf '%s %s' "$t0" "$t1"
    for p in "$6" "$7"; do
        printf ' %s' "$(awk -F'[][]' '/bytes from/ {printf "%.0f", $2 * 1000; f = 1; exit} END {if (!f) printf "timeout"}' "$out.$p")"
        nsenter -t "$p" -n ip neigh del "$addr" dev eth0 2>/dev/null || true
    done
    echo
}

# reach_monitor HOST neigh|link: records HOST's neighbour or link changes with timestamps
# (ip -ts monitor) in $SIM_DIR/HOST.KIND for reach_neigh_ms and reach_moved_ms; its pid
# in REACH_MONITOR_PID (stop it with sim_stop_pid; sim_cleanup would SIGKILL it).
reach_monitor() {
    sim_spawn "$SIM_DIR/$1.$2" env TZ=UTC ip -ts -n "$(sim_ns "$1")" monitor "$2"
    REACH_MONITOR_PID=$SIM_LAST_PID
}
reach_stamp_ms() { sed -n 's/^\[\([^]]*\)\].*/\1/p' | while read -r ts; do TZ=UTC date -d "$ts" +%s%3N; done; }

# reach_neigh_ms HOST ADDR: epoch ms at which HOST's kernel first got a permanent
# neighbour entry for ADDR on an overlay device (weft's wvx: its proxy ARP answers from
# it); nothing when there is none.
reach_neigh_ms() {
    local t
    t=$(grep -F "] $2 dev wvx" "$SIM_DIR/$1.neigh" | grep -m 1 PERMANENT | reach_stamp_ms)
    [ -n "$t" ] && echo "$t"
}

# reach_moved_ms HOST AFTER_MS: epoch ms of the first weft veth end (wt*) to leave HOST's
# namespace at or after AFTER_MS: Docker moving it into the container after Join.
reach_moved_ms() {
    local t
    for t in $(grep -E '^\[[^]]*\] Deleted [0-9]+: wt' "$SIM_DIR/$1.link" | reach_stamp_ms); do
        [ "$t" -ge "$2" ] && { echo "$t"; return 0; }
    done
    return 1
}

# reach_weft_once HOST PEER NETWORK ADDR NAME PEER_PID LOCAL_PID OUT: one reach_run of a
# container NAME at ADDR on HOST's weft NETWORK, its figures appended (ms, one a line) to
# OUT.<figure>: total (docker run called until PEER's answer), returns (until docker run
# returned: Docker's own), local (PEER's answer after LOCAL's: what crossing hosts adds),
# join (weft's Join answer on HOST until PEER's answer), moved (Join answer until Docker
# moved the veth into the container; needs reach_monitor HOST link), after_move (then until
# PEER's answer), programmed (Join answer until PEER's kernel had the entry; needs
# reach_monitor PEER neigh; negative: before Join). NAME is removed afterwards.
reach_weft_once() {
    local host=$1 peer=$2 net=$3 addr=$4 name=$5 out t0 t1 tr tl eid tj tm tn f
    out=$(reach_run "$host" "$net" "$addr" "$(reach_mac "$addr")" "$name" "$6" "$7") || return 1
    read -r t0 t1 tr tl <<<"$out"
    if [ "$tr" = timeout ] || [ "$tl" = timeout ]; then
        echo "reach: $name ($addr) did not answer ($peer: $tr, $host: $tl)" >&2
        return 1
    fi
    eid=$(sim_docker "$host" inspect -f "{{(index .NetworkSettings.Networks \"$net\").EndpointID}}" "$name")
    tj=$(reach_join_ms "$host" "$eid") || { echo "reach: no Join line for $name in $host's weft log" >&2; return 1; }
    tm=$(reach_moved_ms "$host" "$tj") || { echo "reach: no veth left $host after $name's Join" >&2; return 1; }
    tn=$(reach_neigh_ms "$peer" "$addr") || { echo "reach: $peer never had an entry for $addr" >&2; return 1; }
    for f in "total $((tr - t0))" "returns $((t1 - t0))" "local $((tr - tl))" "join $((tr - tj))" \
        "moved $((tm - tj))" "after_move $((tr - tm))" "programmed $((tn - tj))"; do
        echo "${f#* }" >>"$8.${f%% *}"
    done
    sim_docker "$host" rm -f "$name" >/dev/null
}

# reach_mac ADDR: the MAC the probe expects for IPv4 ADDR (02:42 and the address, as
# Docker derives one).
reach_mac() {
    local IFS=.
    # shellcheck disable=SC2086
    set -- $1
    printf '02:42:%02x:%02x:%02x:%02x' "$1" "$2" "$3" "$4"
}

# reach_join_ms HOST ENDPOINT_ID: epoch ms of the line weft on HOST logged when it
# answered Join for the endpoint (needs WEFT_LOG_LEVEL=debug: "plugin call" lines, written
# as the answer goes out, millisecond stamps); nothing when there is none.
reach_join_ms() {
    local ts
    ts=$(grep 'msg="plugin call" path=/*NetworkDriver.Join ' "$SIM_DIR/$1/weft.log" |
        grep " endpoint=${2:0:12}" | tail -n 1 | sed -n 's/^ts=\([^ ]*\) .*/\1/p')
    [ -n "$ts" ] && date -d "$ts" +%s%3N
}

# reach_docker_section HOST PEER RUNS: run.sh's section 6, on two hosts running weft (HOST
# at WEFT_LOG_LEVEL=debug): dockerd on both, network dnet (10.76.0.0/24) on both, a probe
# container on PEER (dprobe) and one on HOST (dlocal), then RUNS x reach_weft_once; sets
# R[docker_run_*] (docker run called until PEER's answer, the figure's old name) and
# R[docker_<figure>_*] for reach_weft_once's other figures, p50 and p99 (ms).
reach_docker_section() {
    local a=$1 b=$2 runs=$3 h i f pa pb mon_a mon_b
    [ "$runs" -le 150 ] || fail "DOCKER_RUNS must be at most 150"
    for h in "$a" "$b"; do sim_dockerd "$h"; done
    for h in "$a" "$b"; do
        sim_docker "$h" network create -d weft --ipam-driver weft --subnet 10.76.0.0/24 dnet >/dev/null
    done
    # Fixed addresses, below the runs' (weft's IPAM hands out addresses anywhere in the pool).
    sim_docker "$b" run -d --network dnet --ip 10.76.0.10 --name dprobe weft-test sleep 3600 >/dev/null 2>&1
    sim_docker "$a" run -d --network dnet --ip 10.76.0.11 --name dlocal weft-test sleep 3600 >/dev/null 2>&1
    pb=$(sim_docker "$b" inspect -f '{{.State.Pid}}' dprobe) pa=$(sim_docker "$a" inspect -f '{{.State.Pid}}' dlocal)
    reach_monitor "$b" neigh && mon_b=$REACH_MONITOR_PID
    reach_monitor "$a" link && mon_a=$REACH_MONITOR_PID
    for f in total returns local join moved after_move programmed; do : >"$SIM_DIR/docker.$f"; done
    for i in $(seq 1 "$runs"); do
        reach_weft_once "$a" "$b" dnet "10.76.0.$((100 + i))" "d$i" "$pb" "$pa" "$SIM_DIR/docker" ||
            fail "docker run d$i until reachable from $b"
    done
    sim_stop_pid "$mon_a" 5 || true
    sim_stop_pid "$mon_b" 5 || true
    R[docker_run_p50_ms]=$(pct 50 <"$SIM_DIR/docker.total")
    R[docker_run_p99_ms]=$(pct 99 <"$SIM_DIR/docker.total")
    for f in returns local join moved after_move programmed; do
        R[docker_${f}_p50_ms]=$(pct 50 <"$SIM_DIR/docker.$f")
        R[docker_${f}_p99_ms]=$(pct 99 <"$SIM_DIR/docker.$f")
    done
    sim_docker "$b" rm -f dprobe >/dev/null
    sim_docker "$a" rm -f dlocal >/dev/null
}
