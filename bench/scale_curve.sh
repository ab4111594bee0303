#!/usr/bin/env bash
# bench/scale_curve.sh: the scale curve of issue 18 (a thousand hosts on one overlay).
# Its own simulation (run tag, etcd, switch): hosts H1..Hn, each a real `weft daemon` in
# its own namespace programming its own kernel tables, grown point by point. At each
# point of SCALE_POINTS the first n hosts (every host running) create one network
# (10.<octet>.0.0/16), wait until etcd's watchers settle (every host watching every
# other's records), and then SCALE_EPS endpoints each, all at once; build/neigh_wait
# times, from the kernel's notifications, when every host had every remote entry. Per
# point: all created, every host programmed (from the first create and after the last),
# etcd's / the proxy's / all daemons' CPU per endpoint change (and etcd's per change per
# watching host), daemon RSS median and max, etcd's (and the proxy's) CPU while idle with
# every host connected (SCALE_IDLE_S, 10 s), and how long the hosts took to start. After
# the largest point, SCALE_ONE_RUNS (20) more endpoints one at a time on H1: until all the
# other hosts had it, p50/p99.
# Watches: STORE_WATCH (gateway | grpc | grpc-proxy: every daemon's watch through one `etcd
# grpc-proxy` beside etcd) for the curve, the gRPC ones with --store-watch
# SCALE_GRPC_WATCH (grpc: per member; grpc-fabric: one watch of all fabric/, what
# `grpc` meant before per-member watches); SCALE_GATEWAY_POINTS ("" : none) are measured
# first with the gateway watch (today's layout) on a fresh etcd and fresh hosts, so the two
# layouts come side by side from one run. Each pass ends by stopping its hosts.
# Addressing: one switch, a /16 (etcd 192.168.77.250, host i at 192.168.78.1 on: 250 a
# /24); a Linux bridge takes at most 1023 ports, so at most 1000 hosts. Each host and etcd
# hold a permanent ARP entry for the other: dynamic entries count toward the kernel's
# gc_thresh3 (1024, shared by every namespace), permanent ones do not.
# Usage: bench/scale_curve.sh [RESULTS_FILE [PLOT.png]]: prints a table; writes "key value"
# lines (scale_curve_*) to RESULTS_FILE, the curve to PLOT.png (gnuplot). Other knobs:
# SCALE_START_BATCH (25) daemons started at once, SCALE_CREATE_BATCH (16) hosts creating
# their network at once, SCALE_STORE_TIMEOUT (30) each daemon's --store-timeout (the
# default 2 s fails requests in a burst through the gateway at 150 hosts), SCALE_LEASE_TTL
# (unset: the daemon's 15 s) each daemon's --lease-ttl: with hundreds of daemons on two
# cores, keepalives every TTL/3 come late and a host's claims vanish with its lease;
# SCALE_PACE_HOSTS (unset) leases etcd holds besides the hosts', so that the daemons pace
# their idle probes as in a cluster that much larger (store/etcd_pacing.h). Needs
# build/weft, build/plugin_bench and build/neigh_wait, root.
# A benchmark: nothing here fails on a figure.
set -euo pipefail
cd "$(dirname "$0")/.."
. tests/lib/sim.sh
. tests/lib/plugin.sh

SCALE_POINTS=${SCALE_POINTS:-50 100 200 500 1000} SCALE_EPS=${SCALE_EPS:-2}
SCALE_GATEWAY_POINTS=${SCALE_GATEWAY_POINTS:-} STORE_WATCH=${STORE_WATCH:-gateway}
SCALE_IDLE_S=${SCALE_IDLE_S:-10} SCALE_ONE_RUNS=${SCALE_ONE_RUNS:-20}
SCALE_START_BATCH=${SCALE_START_BATCH:-25} SCALE_CREATE_BATCH=${SCALE_CREATE_BATCH:-16}
SCALE_STORE_TIMEOUT=${SCALE_STORE_TIMEOUT:-30} SCALE_GRPC_WATCH=${SCALE_GRPC_WATCH:-grpc}
RESULTS=${1:-} PLOT=${2:-}
export WEFT_BIN=${WEFT_BIN:-build/weft}
BENCH=build/plugin_bench
for bin in "$WEFT_BIN" "$BENCH" build/neigh_wait; do
    [ -x "$bin" ] || { echo "scale_curve: $bin is missing (make $bin)" >&2; exit 2; }
done
for n in $SCALE_POINTS $SCALE_GATEWAY_POINTS; do
    [ "$n" -ge 2 ] && [ "$n" -le 1000 ] || { echo "scale_curve: points are 2..1000 hosts, not $n" >&2; exit 2; }
done
case $STORE_WATCH in gateway | grpc | grpc-proxy) ;; *) echo "STORE_WATCH must be gateway, grpc or grpc-proxy" >&2; exit 2 ;; esac
# The flags below say how each daemon watches; the caller's environment must not.
unset WEFT_STORE_WATCH WEFT_STORE_WATCH_ENDPOINTS
# A daemon among hundreds on two cores may take longer than sim_weft's 15 s to start.
export SIM_WEFT_START_S=${SIM_WEFT_START_S:-90}
# Descriptors: etcd and the proxy hold a connection or two per host.
ulimit -n "$(ulimit -Hn)"
SIM_PREFIX=16
# shellcheck disable=SC2034 # plugin.sh fills them
declare -A R HADDR POOL NID GW EID IP MAC SRC
HZ=$(getconf CLK_TCK)
now_ms() { date +%s%3N; }
pct() { sort -g | awk -v p="$1" '{v[NR]=$1} END {if (NR == 0) {print "null"; exit} i = int(p/100*NR + 0.999); if (i < 1) i = 1; print v[i]}'; }
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || echo 0; }
secs() { awk -v t="$1" -v hz="$HZ" 'BEGIN {printf "%.2f", t / hz}'; }
host_addr() { echo "192.168.$((78 + ($1 - 1) / 250)).$((($1 - 1) % 250 + 1))"; }
host_mac() { printf '02:77:00:00:%02x:%02x' $(($1 / 256)) $(($1 % 256)); }

sim_init
# On failure too, every daemon is told to stop at once before sim_cleanup waits for each.
curve_cleanup() {
    local rc=$? f
    set +e # under errexit the (exit) below would end this before sim_cleanup
    for f in "$SIM_DIR"/H*/weft.pid; do [ ! -f "$f" ] || kill -TERM "$(cat "$f")" 2>/dev/null || true; done
    (exit "$rc")
    sim_cleanup
}
trap curve_cleanup EXIT
sim_switch
sim_etcd
ETCD_IP=$(sim_etcd_addr)
ETCD_MAC=$(ip -n "$(sim_ns etcd)" -o link show eth0 | sed -n 's/.*link\/ether \([0-9a-f:]*\).*/\1/p')
proxy_pid="" proxy=""

# ---------------- hosts ----------------
HOSTS_UP=0 # H1..H$HOSTS_UP are running
WATCH_ARGS=()

# Wires hosts FIRST..LAST to the switch (a handful of processes per host) and gives each
# and etcd a permanent ARP entry for the other.
wire_hosts() { # FIRST LAST
    local i h ns sw
    sw=$(sim_ns sw)
    for i in $(seq "$1" "$2"); do echo "netns add $(sim_ns "H$i")"; done | ip -b -
    for i in $(seq "$1" "$2"); do
        echo "link add p-H$i address 02:77:01:00:$(printf '%02x:%02x' $((i / 256)) $((i % 256))) type veth peer name eth0 netns $(sim_ns "H$i")"
        echo "link set p-H$i master br0 up"
    done | ip -n "$sw" -b -
    for i in $(seq "$1" "$2"); do
        h=H$i ns=$(sim_ns "H$i")
        mkdir -p "$SIM_DIR/$h/plugins" "$SIM_DIR/$h/etc-docker"
        host_addr "$i" >"$SIM_DIR/$h/addr"
        printf '%s\n' "link set lo up" "link set eth0 address $(host_mac "$i")" \
            "addr add $(host_addr "$i")/$SIM_PREFIX dev eth0" "link set eth0 up" \
            "neigh replace $ETCD_IP lladdr $ETCD_MAC dev eth0 nud permanent" | ip -n "$ns" -b -
    done
    for i in $(seq "$1" "$2"); do
        echo "neigh replace $(host_addr "$i") lladdr $(host_mac "$i") dev eth0 nud permanent"
    done | ip -n "$(sim_ns etcd)" -b -
}

# Grows the running hosts to N: wires them, then starts their daemons SCALE_START_BATCH at
# a time (sim_weft waits for each one's socket; a batch waits in parallel).
grow_hosts() { # N
    local n=$1 i j pids
    [ "$n" -gt "$HOSTS_UP" ] || return 0
    wire_hosts $((HOSTS_UP + 1)) "$n"
    for ((i = HOSTS_UP + 1; i <= n; i += SCALE_START_BATCH)); do
        pids=()
        for ((j = i; j < i + SCALE_START_BATCH && j <= n; j++)); do
            (sim_weft "H$j" "${WATCH_ARGS[@]}") &
            pids+=($!)
        done
        for j in "${pids[@]}"; do wait "$j" || fail "a weft daemon did not start (hosts $i..)"; done
    done
    HOSTS_UP=$n
}

# Stops every running host's daemon (all told at once) and removes the hosts.
drop_hosts() {
    local i
    for i in $(seq 1 "$HOSTS_UP"); do kill -TERM "$(sim_weft_pid "H$i")" 2>/dev/null || true; done
    for i in $(seq 1 "$HOSTS_UP"); do sim_weft_stop "H$i" || true; done
    for i in $(seq 1 "$HOSTS_UP"); do echo "netns del $(sim_ns "H$i")"; done | ip -b - 2>/dev/null || true
    for i in $(seq 1 "$HOSTS_UP"); do rm -rf "${SIM_DIR:?}/H$i"; done
    sim_ns_exec etcd ip neigh flush dev eth0 nud permanent 2>/dev/null || true
    HOSTS_UP=0
}

# H1..HN's daemons: pids; user + system ticks together (one process for all of them).
weft_pids() { local i; for ((i = 1; i <= $1; i++)); do echo "$SIM_DIR/H$i/weft.pid"; done | xargs cat; }
weft_ticks() { weft_pids "$1" | sed 's|.*|/proc/&/stat|' | xargs cat 2>/dev/null | awk '{t += $14 + $15} END {print t + 0}'; }
proxy_ticks() { if [ -n "$proxy_pid" ]; then cpu_ticks "$proxy_pid"; else echo 0; fi; }
etcd_ticks() { cpu_ticks "$(cat "$SIM_DIR/etcd/pid")"; }

# A fresh etcd (and grpc-proxy for MODE grpc-proxy) for a pass; the flags of its daemons.
fresh_store() { # MODE
    [ -z "$proxy_pid" ] || sim_stop_pid "$proxy_pid" 5 || true
    proxy_pid=""
    sim_stop_pid "$(cat "$SIM_DIR/etcd/pid")" 10 || true # (sim_etcd_stop: SIGKILL, and bash says so)
    rm -f "$SIM_DIR/etcd/pid"
    rm -rf "$SIM_DIR/etcd/data"
    sim_etcd_start
    # Leases of hosts that are not there: the daemons count the cluster from etcd's leases
    # and pace their idle probes to it (store/etcd_pacing.h), as SCALE_PACE_HOSTS more hosts.
    sim_etcd_leases etcd "$(sim_etcd_hostport)" "${SCALE_PACE_HOSTS:-0}" 3600 ||
        fail "granting SCALE_PACE_HOSTS leases"
    # --store-timeout: a burst makes etcd answer slowly; measured here, not failed on.
    case $1 in
    gateway) WATCH_ARGS=(--store-watch gateway) ;;
    grpc) WATCH_ARGS=(--store-watch "$SCALE_GRPC_WATCH") ;;
    grpc-proxy)
        proxy=$ETCD_IP:23799
        sim_spawn "$SIM_DIR/etcd/proxy.log" nsenter --net="/run/netns/$(sim_ns etcd)" etcd grpc-proxy \
            start --endpoints="$(sim_etcd_hostport)" --listen-addr="$proxy"
        proxy_pid=$SIM_LAST_PID
        wait_for 10 sim_ns_exec etcd bash -c "exec 3<>/dev/tcp/${proxy%:*}/${proxy#*:}" ||
            fail "grpc-proxy did not listen on $proxy"
        WATCH_ARGS=(--store-watch "$SCALE_GRPC_WATCH" --store-watch-endpoints "$proxy")
        ;;
    esac
    WATCH_ARGS+=(--store-timeout "$SCALE_STORE_TIMEOUT")
    [ -z "${SCALE_LEASE_TTL:-}" ] || WATCH_ARGS+=(--lease-ttl "$SCALE_LEASE_TTL")
}

# H1..HN create the network SUBNET, SCALE_CREATE_BATCH at a time, by plugin_bench's
# threads (up to 3 tries each: a daemon whose lease expired under the load answers "lease
# not found" until it has a new one); NID[Hi] from each. H1 first and alone: it claims the
# overlay.
create_networks() { # N
    local n=$1 i out=$SIM_DIR/networks.out
    : >"$SIM_DIR/networks.all"
    $BENCH networks "$SUBNET" 1 "$out" "$SIM_DIR/H1/plugins/weft.sock" >"$SIM_DIR/networks.json" ||
        fail "H1 did not create $SUBNET (3 tries): $(cat "$SIM_DIR/networks.json")"
    cat "$out" >>"$SIM_DIR/networks.all"
    if [ "$n" -gt 1 ]; then
        $BENCH networks "$SUBNET" "$SCALE_CREATE_BATCH" "$out" \
            $(for ((i = 2; i <= n; i++)); do echo "$SIM_DIR/H$i/plugins/weft.sock"; done) \
            >>"$SIM_DIR/networks.json" || fail "some hosts did not create $SUBNET (3 tries each): $(tail -n 1 "$SIM_DIR/networks.json")"
        cat "$out" >>"$SIM_DIR/networks.all"
    fi
    # "SOCKET NETWORK_ID POOL_ID TRIES": the host from its socket's folder (expansions,
    # no process per host: at 1,000 hosts under load three each took minutes).
    local sock nid h
    while read -r sock nid _ _; do
        h=${sock%/plugins/weft.sock}
        NID[${h##*/}]=$nid
    done <"$SIM_DIR/networks.all"
    NETWORK_RETRIES=$(awk '{r += $4 - 1} END {print r + 0}' "$SIM_DIR/networks.all")
}

# etcd's watcher count and its unsynced (slow) watchers, from its metrics.
etcd_watchers() {
    sim_ns_exec etcd curl -s -m 5 "http://$(sim_etcd_hostport)/metrics" |
        awk '$1 == "etcd_debugging_mvcc_watcher_total" {w = $2} $1 == "etcd_debugging_mvcc_slow_watcher_total" {s = $2}
             END {print w + 0, s + 0}'
}
settle_watchers() { # MAX_S: false if still changing then
    local deadline=$(($(now_ms) + $1 * 1000)) last="" now stable=0
    while [ "$(now_ms)" -lt "$deadline" ]; do
        now=$(etcd_watchers)
        if [ "$now" = "$last" ] && [ "${now#* }" = 0 ]; then
            stable=$((stable + 1))
            [ "$stable" -lt 4 ] || return 0 # 4 x 0.25 s
        else
            stable=0
        fi
        last=$now
        sleep 0.25
    done
    return 1
}

overlay_vni() { sim_etcdctl get --print-value-only "/weft/v1/overlays/${1/\//_}" | sed 's/.*"vni":\([0-9]*\).*/\1/'; }
host_paths() { local i; for i in $(seq "$1" "$2"); do echo "/run/netns/$(sim_ns "H$i")"; done; }

# neigh_wait in the background on hosts FIRST..LAST; returns once it is listening.
neigh_wait_start() { # OUT DEVICE WANT FIRST LAST
    local out=$1
    build/neigh_wait "$2" "$3" 300000 $(host_paths "$4" "$5") >"$out" 2>"$out.err" &
    NW_PID=$!
    wait_for 120 grep -q '^ready' "$out" || { cat "$out.err" >&2; fail "neigh_wait did not start"; }
}
done_max() { awk '$1 ~ /^\// { n++; if ($2 < 0) late = 1; else if ($2 > m) m = $2 } END { print late || !n ? -1 : m }' "$1"; }

# One point: H1..HN (grown to N) create 10.<OCTET>.0.0/16, then SCALE_EPS endpoints each
# at once. Figures go to R[scale_curve_<mode>_<N>_*] and a line of $SIM_DIR/curve.<mode>.
measure_point() { # MODE N OCTET
    local mode=$1 n=$2 k=scale_curve_${1//-/_}_$2 i s0 t0 t1 created_ms e0 p0 w0 e1 p1 w1 vx
    s0=$(now_ms)
    grow_hosts "$n"
    R[${k}_start_s]=$(awk -v ms=$(($(now_ms) - s0)) 'BEGIN {printf "%.1f", ms / 1000}')
    SUBNET=10.$3.0.0/16
    s0=$(now_ms) e0=$(etcd_ticks) p0=$(proxy_ticks) w0=$(weft_ticks "$n")
    create_networks "$n"
    # The creates are answered before every host has heard every other join and watches
    # its records: the networks are settled once etcd's watchers have stopped changing
    # for 1 s, none behind (its unsynced ones), so that the burst below is measured alone.
    settle_watchers 120 || echo "scale_curve: $mode $n: etcd's watchers still changing after 120 s" >&2
    R[${k}_networks_s]=$(awk -v ms=$(($(now_ms) - s0)) 'BEGIN {printf "%.1f", ms / 1000}')
    R[${k}_networks_cpu_etcd_s]=$(secs $(($(etcd_ticks) - e0)))
    R[${k}_networks_cpu_proxy_s]=$(secs $(($(proxy_ticks) - p0)))
    R[${k}_networks_cpu_weft_s]=$(secs $(($(weft_ticks "$n") - w0)))
    R[${k}_network_retries]=$NETWORK_RETRIES
    vx=wvx$(overlay_vni "$SUBNET")
    neigh_wait_start "$SIM_DIR/nw.$k" "$vx" $(((n - 1) * SCALE_EPS)) 1 "$n"
    e0=$(etcd_ticks) p0=$(proxy_ticks) w0=$(weft_ticks "$n")
    t0=$(now_ms)
    local pids=()
    for i in $(seq 1 "$n"); do
        $BENCH endpoints "$SIM_DIR/H$i/plugins/weft.sock" "${NID[H$i]}" "$SUBNET" "$SCALE_EPS" >/dev/null &
        pids+=($!)
    done
    local failed=0
    for i in "${pids[@]}"; do wait "$i" || failed=$((failed + 1)); done
    created_ms=$(($(now_ms) - t0))
    R[${k}_failed_hosts]=$failed
    # A host whose creates failed leaves every other host short: nothing to wait for.
    [ "$failed" = 0 ] || { echo "scale_curve: $mode $n: $failed hosts' creates failed" >&2; kill "$NW_PID"; }
    wait "$NW_PID" || echo "scale_curve: $mode $n x $SCALE_EPS did not converge" >&2
    e1=$(etcd_ticks) p1=$(proxy_ticks) w1=$(weft_ticks "$n")
    t1=$(done_max "$SIM_DIR/nw.$k")
    local changes=$((n * SCALE_EPS)) rss
    R[${k}_created_ms]=$created_ms
    R[${k}_converged_ms]=null R[${k}_after_created_ms]=null # (never, or not all created)
    if [ "$t1" != -1 ]; then
        R[${k}_converged_ms]=$((t1 - t0))
        R[${k}_after_created_ms]=$((t1 - t0 - created_ms))
    fi
    R[${k}_resolution_ms]=$(awk '$1 == "sweep_max_ms" { print $2 }' "$SIM_DIR/nw.$k")
    R[${k}_late_hosts]=$(awk '$1 ~ /^\// && $2 < 0' "$SIM_DIR/nw.$k" | grep -c . || true)
    R[${k}_cpu_etcd_s]=$(secs $((e1 - e0)))
    R[${k}_cpu_proxy_s]=$(secs $((p1 - p0)))
    R[${k}_cpu_weft_s]=$(secs $((w1 - w0)))
    R[${k}_etcd_ms_per_change]=$(awk -v t=$((e1 - e0)) -v hz="$HZ" -v c=$changes 'BEGIN {printf "%.3f", t / hz * 1000 / c}')
    R[${k}_etcd_us_per_change_host]=$(awk -v t=$((e1 - e0)) -v hz="$HZ" -v c=$changes -v n="$n" 'BEGIN {printf "%.2f", t / hz * 1e6 / c / n}')
    R[${k}_proxy_us_per_change_host]=$(awk -v t=$((p1 - p0)) -v hz="$HZ" -v c=$changes -v n="$n" 'BEGIN {printf "%.2f", t / hz * 1e6 / c / n}')
    R[${k}_weft_us_per_change_host]=$(awk -v t=$((w1 - w0)) -v hz="$HZ" -v c=$changes -v n="$n" 'BEGIN {printf "%.1f", t / hz * 1e6 / c / n}')
    rss=$(weft_pids "$n" | sed 's|.*|/proc/&/status|' | xargs awk '/^VmRSS/ {print $2}')
    R[${k}_rss_median_kib]=$(pct 50 <<<"$rss")
    R[${k}_rss_max_kib]=$(pct 100 <<<"$rss")
    # Idle: every host connected, nothing changing (after 2 s to settle).
    sleep 2
    e0=$(etcd_ticks) p0=$(proxy_ticks)
    sleep "$SCALE_IDLE_S"
    e1=$(etcd_ticks) p1=$(proxy_ticks)
    R[${k}_idle_etcd_pct]=$(awk -v t=$((e1 - e0)) -v hz="$HZ" -v s="$SCALE_IDLE_S" 'BEGIN {printf "%.1f", t / hz / s * 100}')
    R[${k}_idle_proxy_pct]=$(awk -v t=$((p1 - p0)) -v hz="$HZ" -v s="$SCALE_IDLE_S" 'BEGIN {printf "%.1f", t / hz / s * 100}')
    R[${k}_load1]=$(cut -d' ' -f1 /proc/loadavg)
    echo "$n ${R[${k}_after_created_ms]} ${R[${k}_etcd_us_per_change_host]} ${R[${k}_weft_us_per_change_host]} $(awk -v k="${R[${k}_rss_median_kib]}" 'BEGIN {printf "%.2f", k / 1024}') ${R[${k}_idle_etcd_pct]} ${R[${k}_converged_ms]}" >>"$SIM_DIR/curve.$mode"
    echo "scale_curve: $mode $n: networks ${R[${k}_networks_s]} s, CPU etcd/proxy/daemons ${R[${k}_networks_cpu_etcd_s]}/${R[${k}_networks_cpu_proxy_s]}/${R[${k}_networks_cpu_weft_s]} s, retries ${R[${k}_network_retries]}" >&2
    echo "scale_curve: $mode $n hosts x $SCALE_EPS: converged ${R[${k}_converged_ms]} ms, ${R[${k}_after_created_ms]} ms after the last create" >&2
}

# After the largest point: one more endpoint on H1 at a time; until H2..HN all have it.
one_more() { # MODE N
    local mode=$1 n=$2 r t0 t1 vx out=$SIM_DIR/one
    vx=wvx$(overlay_vni "$SUBNET")
    : >"$out.ms"
    for r in $(seq 1 "$SCALE_ONE_RUNS"); do
        neigh_wait_start "$out.$r" "$vx" +1 2 "$n"
        t0=$(now_ms)
        $BENCH endpoints "$SIM_DIR/H1/plugins/weft.sock" "${NID[H1]}" "$SUBNET" 1 >/dev/null ||
            fail "one more endpoint ($r) was not created"
        wait "$NW_PID" || echo "scale_curve: endpoint $r did not reach every host" >&2
        t1=$(done_max "$out.$r")
        [ "$t1" = -1 ] && t1=$(now_ms) && R[scale_curve_one_late]=$((${R[scale_curve_one_late]:-0} + 1))
        echo $((t1 - t0)) >>"$out.ms"
    done
    R[scale_curve_one_hosts]=$n
    R[scale_curve_one_mode]=$mode
    R[scale_curve_one_p50_ms]=$(pct 50 <"$out.ms")
    R[scale_curve_one_p99_ms]=$(pct 99 <"$out.ms")
    R[scale_curve_one_max_ms]=$(pct 100 <"$out.ms")
    echo "scale_curve: one more endpoint on $n hosts, $SCALE_ONE_RUNS times: p50 ${R[scale_curve_one_p50_ms]} ms" >&2
}

run_pass() { # MODE ONE_MORE(0|1) POINTS...
    local mode=$1 one=$2 octet=100 n last=
    shift 2
    fresh_store "$mode"
    for n in $(printf '%s\n' "$@" | sort -gu); do
        measure_point "$mode" "$n" "$octet"
        octet=$((octet + 1)) last=$n
    done
    [ "$one" = 0 ] || one_more "$mode" "$last"
    drop_hosts
}

# shellcheck disable=SC2086 # the points are words
if [ -n "$SCALE_GATEWAY_POINTS" ] && [ "$STORE_WATCH" != gateway ]; then
    run_pass gateway 0 $SCALE_GATEWAY_POINTS
fi
# shellcheck disable=SC2086
run_pass "$STORE_WATCH" 1 $SCALE_POINTS
R[scale_curve_eps]=$SCALE_EPS

# ---------------- results ----------------
if [ -n "$RESULTS" ]; then
    : >"$RESULTS"
    for k in $(printf '%s\n' "${!R[@]}" | sort); do echo "$k ${R[$k]}" >>"$RESULTS"; done
fi
modes=()
[ ! -f "$SIM_DIR/curve.gateway" ] || [ "$STORE_WATCH" = gateway ] || modes+=(gateway)
modes+=("$STORE_WATCH")
if [ -n "$PLOT" ]; then
    if ! command -v gnuplot >/dev/null; then
        echo "gnuplot missing (scripts/install-deps.sh bench installs it): no plot" >&2
        PLOT=
    else
        plots=() p=""
        for col in "2:after the last create until every host had all (ms)" "3:etcd CPU per change per watching host (us)" \
            "4:all daemons' CPU per change per host (us)" "5:daemon RSS median (MiB)"; do
            p="set title \"${col#*:}\"; plot"
            sep=
            for m in "${modes[@]}"; do
                p+="$sep \"$SIM_DIR/curve.$m\" using 1:${col%%:*} with linespoints lw 2 pt 7 title \"$m\""
                sep=,
            done
            plots+=("$p")
        done
        gnuplot <<GP
set terminal png size 1200,800
set output "$PLOT"
set multiplot layout 2,2 title "weft: one overlay, $SCALE_EPS endpoints per host, all created at once"
set xlabel "hosts"
set datafile missing "null"
set grid
set key top left
${plots[0]}
${plots[1]}
${plots[2]}
${plots[3]}
unset multiplot
GP
    fi
fi

r() { printf '%s' "${R[$1]:-n/a}"; }
printf '%-10s %5s %7s %8s %9s %11s %16s %8s %11s %11s %11s %13s %10s\n' watch hosts "start s" "created" "program." "after last" \
    "CPU etcd/px/weft" "etcd ms" "etcd us" "weft us" "RSS MiB" "idle etcd/px" "load1 fail"
printf '%-10s %5s %7s %8s %9s %11s %16s %8s %11s %11s %11s %13s %10s\n' "" "" "(+nets)" "s" "s" "ms (res.)" "s" "/change" "/chg/host" "/chg/host" "med/max" "% of a core" ""
for m in "${modes[@]}"; do
    pts=$SCALE_POINTS
    [ "$m" = "$STORE_WATCH" ] || pts=$SCALE_GATEWAY_POINTS
    for n in $(printf '%s\n' $pts | sort -gu); do
        k=scale_curve_${m//-/_}_$n
        printf '%-10s %5s %7s %8s %9s %11s %16s %8s %11s %11s %11s %13s %10s\n' "$m" "$n" "$(r ${k}_start_s)+$(r ${k}_networks_s)" \
            "$(awk -v m="$(r ${k}_created_ms)" 'BEGIN {printf "%.1f", m / 1000}')" \
            "$(awk -v m="$(r ${k}_converged_ms)" 'BEGIN {if (m == "null") print "n/a"; else printf "%.1f", m / 1000}')" \
            "$(r ${k}_after_created_ms) ($(r ${k}_resolution_ms))" \
            "$(r ${k}_cpu_etcd_s)/$(r ${k}_cpu_proxy_s)/$(r ${k}_cpu_weft_s)" "$(r ${k}_etcd_ms_per_change)" \
            "$(r ${k}_etcd_us_per_change_host)" "$(r ${k}_weft_us_per_change_host)" \
            "$(awk -v a="$(r ${k}_rss_median_kib)" -v b="$(r ${k}_rss_max_kib)" 'BEGIN {printf "%.1f/%.1f", a / 1024, b / 1024}')" \
            "$(r ${k}_idle_etcd_pct)/$(r ${k}_idle_proxy_pct)" "$(r ${k}_load1) $(r ${k}_failed_hosts)"
    done
done
echo "one more endpoint on H1 at a time, $SCALE_ONE_RUNS times, until all $(r scale_curve_one_hosts) hosts had it ($(r scale_curve_one_mode)):" \
    "p50 $(r scale_curve_one_p50_ms) ms, p99 $(r scale_curve_one_p99_ms) ms, max $(r scale_curve_one_max_ms) ms" \
    "(late: $(r scale_curve_one_late))"
echo "(programmed: from the first create until every host had every remote entry, from the kernel's"
echo " notifications; res.: neigh_wait's longest handling of one batch of them; load1 after each point)"
