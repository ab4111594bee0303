#!/usr/bin/env bash
# bench/member_watch.sh: what a host receives of overlays it is not in (issue 14 part 4,
# docs/scale.md "Per-member watches"). MW_HOSTS (20) simulated hosts with weft, in
# MW_HOSTS/2 overlays of two hosts each (overlay o on hosts 2o-1 and 2o), one etcd. For
# each way of watching (MW_MODES, in turn, each on fresh daemons and a store emptied of
# /weft/, the overlays on subnets of their own):
#   gateway      --store-watch gateway: one list+watch of all fabric/ through etcd's JSON
#                gateway (the default before 2026-12-04);
#   grpc-fabric  --store-watch grpc-fabric: the same watch over etcd's gRPC Watch API;
#   grpc         --store-watch grpc: per-member watches (joined/<sk>/ and fabric/<m>/<sk>/
#                of this host's overlays' members, on one gRPC stream).
# every host creates its network, then MW_EPS (10) endpoints at once (plugin_bench); once
# each host has its overlay partner's MW_EPS entries (neigh_wait) and no host's count
# moves any more, it reads:
#   events per host  weft_watch_events_total of each daemon (/metrics), from its start:
#                    mean and max over hosts;
#   etcd sent        bytes etcd's namespace sent on its link (every answer, not only the
#                    watches': the writes and lease renewals are the same in every mode),
#                    and etcd_network_client_grpc_sent_bytes_total (etcd's gRPC server: the
#                    gRPC watches, and in gateway mode the gateway's own gRPC calls inside
#                    etcd), from after the networks to the end;
#   converged        ms from the endpoints' creation until every host had its partner's.
# Usage: bench/member_watch.sh [RESULTS_FILE]: prints a table; writes "key value" lines
# (members_<mode, - as _>_<figure>) to RESULTS_FILE when given. Needs build/weft,
# build/plugin_bench, build/neigh_wait, root, etcd. A benchmark: nothing fails on a figure.
set -euo pipefail
cd "$(dirname "$0")/.."
. tests/lib/sim.sh
. tests/lib/plugin.sh

MW_HOSTS=${MW_HOSTS:-20} MW_EPS=${MW_EPS:-10} MW_MODES=${MW_MODES:-gateway grpc-fabric grpc}
RESULTS=${1:-}
export WEFT_BIN=${WEFT_BIN:-build/weft}
BENCH=build/plugin_bench
for bin in "$WEFT_BIN" "$BENCH" build/neigh_wait; do
    [ -x "$bin" ] || { echo "member_watch: $bin is missing (make $bin)" >&2; exit 2; }
done
[ $((MW_HOSTS % 2)) = 0 ] && [ "$MW_HOSTS" -le 200 ] ||
    { echo "MW_HOSTS must be even, at most 200" >&2; exit 2; }
declare -A HADDR POOL NID GW EID IP MAC SRC R

now_ms() { date +%s%3N; }
etcd_tx() { ip -n "$(sim_ns etcd)" -s link show eth0 | awk '/TX:/ {getline; print $1; exit}'; }
etcd_grpc_sent() {
    sim_ns_exec etcd curl -sS -m 10 "http://$(sim_etcd_hostport)/metrics" |
        awk '$1 == "etcd_network_client_grpc_sent_bytes_total" {printf "%.0f\n", $2}'
}
events() { # HOST
    sim_ns_exec "$1" curl -sS -f -m 10 http://127.0.0.1:9776/metrics |
        awk '$1 ~ /^weft_watch_events_total/ {n += $2} END {print n + 0}'
}
all_events() { local i; for i in $(seq 1 "$MW_HOSTS"); do events "M$i"; done; }
kib() { awk -v b="$1" 'BEGIN {printf "%.1f", b / 1024}'; }

sim_init
sim_switch
sim_etcd
for i in $(seq 1 "$MW_HOSTS"); do
    HADDR[M$i]=192.168.77.$((10 + i))
    sim_host "M$i" "${HADDR[M$i]}"
done

run_mode() { # MODE INDEX
    local mode=$1 m=$2 i o a b t0 t1 pids=() stable
    # --store-timeout 10: on a loaded machine a start-up must not fail on a slow etcd.
    for i in $(seq 1 "$MW_HOSTS"); do
        sim_weft "M$i" --store-watch "$mode" --metrics 127.0.0.1:9776 --store-timeout 10
    done
    for o in $(seq 1 $((MW_HOSTS / 2))); do
        SUBNET=10.$((100 + m)).$o.0/24
        create_network "M$((2 * o - 1))" >/dev/null
        create_network "M$((2 * o))" >/dev/null
    done
    sleep 1 # the networks' records reach every watcher
    local tx0 grpc0
    tx0=$(etcd_tx) grpc0=$(etcd_grpc_sent)
    t0=$(now_ms)
    for o in $(seq 1 $((MW_HOSTS / 2))); do
        for i in $((2 * o - 1)) $((2 * o)); do
            $BENCH endpoints "$SIM_DIR/M$i/plugins/weft.sock" "${NID[M$i]}" \
                "10.$((100 + m)).$o.0/24" "$MW_EPS" >/dev/null &
            pids+=($!)
        done
    done
    wait "${pids[@]}"
    pids=()
    for o in $(seq 1 $((MW_HOSTS / 2))); do
        a=M$((2 * o - 1)) b=M$((2 * o))
        build/neigh_wait "wvx$(sim_etcdctl get --print-value-only \
            "/weft/v1/overlays/10.$((100 + m)).$o.0_24" | sed 's/.*"vni":\([0-9]*\).*/\1/')" \
            "$MW_EPS" 60000 \
            "/run/netns/$(sim_ns "$a")" "/run/netns/$(sim_ns "$b")" >/dev/null &
        pids+=($!)
    done
    wait "${pids[@]}" || echo "member_watch: $mode: some overlay did not converge" >&2
    t1=$(now_ms)
    # Events to hosts outside an overlay are waited for too: until no count moves.
    stable=$(all_events | paste -sd+)
    for _ in $(seq 1 50); do
        sleep 0.3
        local again
        again=$(all_events | paste -sd+)
        [ "$again" = "$stable" ] && break
        stable=$again
    done
    local tx1 grpc1 counts k=members_${mode//-/_}
    tx1=$(etcd_tx) grpc1=$(etcd_grpc_sent)
    counts=$(all_events)
    R[${k}_events_mean]=$(awk '{s += $1} END {printf "%.1f", s / NR}' <<<"$counts")
    R[${k}_events_max]=$(sort -g <<<"$counts" | tail -n 1)
    R[${k}_etcd_sent_kib]=$(kib $((tx1 - tx0)))
    R[${k}_etcd_grpc_sent_kib]=$(kib $((grpc1 - grpc0)))
    R[${k}_converged_ms]=$((t1 - t0))
    for i in $(seq 1 "$MW_HOSTS"); do sim_weft_stop "M$i" || true; done
    sim_etcdctl del --prefix /weft/ >/dev/null
    echo "member_watch: measured $mode" >&2
}

m=0
for mode in $MW_MODES; do
    run_mode "$mode" "$m"
    m=$((m + 1))
done
R[members_hosts]=$MW_HOSTS
R[members_eps]=$MW_EPS

r() { printf '%s' "${R[$1]:-n/a}"; }
if [ -n "$RESULTS" ]; then
    : >"$RESULTS"
    for k in $(printf '%s\n' "${!R[@]}" | sort); do echo "$k ${R[$k]}" >>"$RESULTS"; done
fi
row() { printf '%-14s %14s %12s %16s %16s %14s\n' "$@"; }
echo "members: $MW_HOSTS hosts in $((MW_HOSTS / 2)) overlays of 2, $MW_EPS endpoints per host"
row "watch" "events/host" "events max" "etcd sent KiB" "etcd gRPC KiB" "converged ms"
for mode in $MW_MODES; do
    k=members_${mode//-/_}
    row "$mode" "$(r "${k}_events_mean")" "$(r "${k}_events_max")" "$(r "${k}_etcd_sent_kib")" \
        "$(r "${k}_etcd_grpc_sent_kib")" "$(r "${k}_converged_ms")"
done
