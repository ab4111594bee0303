#!/usr/bin/env bash
# bench/watch_fanout.sh: what etcd's fan-out of watch events costs it, three ways
# (issue 18): W watchers on one prefix while P single-key puts land under it,
#   gateway  W JSON gateway streams (POST /v3/watch), what weft's daemons do today;
#   grpc     W gRPC Watch streams (store/etcd_grpc_watch.c), each its own connection;
#   proxy    the same W gRPC streams to one `etcd grpc-proxy`, which coalesces
#            identical watches into one watch on etcd (its own CPU reported apart);
#   none     no watcher: the puts alone (the baseline every row subtracts).
# One etcd 3.4 on loopback; build/watch_load is both the watchers and the writer.
# etcd's CPU (utime + stime from /proc/<pid>/stat) counts from every watch created
# to every watcher having every event; "etcd w." is how many watches etcd itself held. "us/ev/w" = (etcd CPU - the puts' own CPU at
# the baseline's rate) / (P x W), microseconds of etcd CPU per event per watcher.
# Usage: bench/watch_fanout.sh. Knobs: FANOUT_CASES ("20:2000 120:1000 500:400", W:P
# pairs: fewer puts for more watchers keeps each run short on 2 shared cores),
# FANOUT_MODES ("gateway grpc proxy"), FANOUT_BASE_P (2000). A benchmark: prints a
# table, fails on nothing but a run that did not complete.
set -euo pipefail
cd "$(dirname "$0")/.."

FANOUT_CASES=${FANOUT_CASES:-20:2000 120:1000 500:400}
FANOUT_MODES=${FANOUT_MODES:-gateway grpc proxy}
FANOUT_BASE_P=${FANOUT_BASE_P:-2000}
LOAD=build/watch_load
[ -x "$LOAD" ] || { echo "watch_fanout: build $LOAD first (make build/watch_load)" >&2; exit 2; }
for t in etcd curl ss; do
    command -v "$t" >/dev/null || { echo "watch_fanout: $t is missing" >&2; exit 2; }
done
WORK=$(mktemp -d "$PWD/build/watch_fanout.XXXXXX")
ETCD_PID='' PROXY_PID='' WATCH_PID=''

stop_pid() { [ -z "$1" ] || { kill "$1" 2>/dev/null || true; wait "$1" 2>/dev/null || true; }; }
cleanup() {
    stop_pid "$WATCH_PID"; stop_pid "$PROXY_PID"; stop_pid "$ETCD_PID"
    WATCH_PID='' PROXY_PID='' ETCD_PID=''
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'cleanup; exit 130' INT
trap 'cleanup; exit 143' TERM

HZ=$(getconf CLK_TCK)
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
. bench/free_port.sh
wait_port() { # PORT PID LOG
    for _ in $(seq 1 300); do
        [ -n "$(ss -Htln "sport = :$1")" ] && return 0
        kill -0 "$2" 2>/dev/null || { tail -n 20 "$3" >&2; exit 1; }
        sleep 0.05
    done
    echo "watch_fanout: nothing listens on $1" >&2; exit 1
}

CPORT=$(free_port) PPORT=$(free_port "$CPORT") XPORT=$(free_port "$CPORT" "$PPORT")
EP=127.0.0.1:$CPORT PROXY_EP=127.0.0.1:$XPORT
etcd --name wf --data-dir "$WORK/etcd" \
    --listen-client-urls "http://$EP" --advertise-client-urls "http://$EP" \
    --listen-peer-urls "http://127.0.0.1:$PPORT" --initial-advertise-peer-urls "http://127.0.0.1:$PPORT" \
    --initial-cluster "wf=http://127.0.0.1:$PPORT" >"$WORK/etcd.log" 2>&1 &
ETCD_PID=$!
wait_port "$CPORT" "$ETCD_PID" "$WORK/etcd.log"
sleep 0.5
etcd grpc-proxy start --endpoints="$EP" --listen-addr="$PROXY_EP" >"$WORK/proxy.log" 2>&1 &
PROXY_PID=$!
wait_port "$XPORT" "$PROXY_PID" "$WORK/proxy.log"

RUN=0 RESULT='' WATCHERS=0
# One run: MODE W P; sets RESULT to "etcd_s proxy_s wall_s", WATCHERS to the watches etcd
# held (its etcd_debugging_mvcc_watcher_total) once every watcher was ready.
run() {
    local mode=$1 w=$2 p=$3 prefix ep kind e0 x0 t0 e1 x1 t1 line
    RUN=$((RUN + 1))
    prefix=/weft/v1/fanout/r$RUN/
    if [ "$mode" != none ]; then
        ep=$EP kind=$mode
        [ "$mode" != proxy ] || ep=$PROXY_EP kind=grpc
        ulimit -n 4096
        "$LOAD" "$kind" "$ep" "$prefix" "$w" "$p" >"$WORK/watch.out" 2>"$WORK/watch.err" &
        WATCH_PID=$!
        for _ in $(seq 1 600); do
            grep -q ready "$WORK/watch.out" && break
            kill -0 "$WATCH_PID" 2>/dev/null || break
            sleep 0.05
        done
        grep -q ready "$WORK/watch.out" || { cat "$WORK/watch.err" >&2; echo "watch_fanout: $mode W=$w never ready" >&2; exit 1; }
        sleep 0.5 # every stream settled
        WATCHERS=$(curl -fsS -m 2 "http://$EP/metrics" | awk '$1 == "etcd_debugging_mvcc_watcher_total" { print $2 }')
    else
        WATCHERS=0
    fi
    e0=$(cpu_ticks "$ETCD_PID") x0=$(cpu_ticks "$PROXY_PID") t0=$(date +%s%N)
    "$LOAD" put "$EP" "$prefix" "$p"
    if [ "$mode" != none ]; then
        wait "$WATCH_PID" || { cat "$WORK/watch.err" "$WORK/watch.out" >&2; echo "watch_fanout: $mode W=$w incomplete" >&2; exit 1; }
        WATCH_PID=''
    fi
    e1=$(cpu_ticks "$ETCD_PID") x1=$(cpu_ticks "$PROXY_PID") t1=$(date +%s%N)
    RESULT=$(awk -v e=$((e1 - e0)) -v x=$((x1 - x0)) -v t=$((t1 - t0)) -v hz="$HZ" \
        'BEGIN { printf "%.2f %.2f %.2f\n", e / hz, x / hz, t / 1e9 }')
}

run none 0 "$FANOUT_BASE_P"
read -r base_etcd _ base_wall <<<"$RESULT"
per_put=$(awk -v c="$base_etcd" -v p="$FANOUT_BASE_P" 'BEGIN { printf "%.6f", c / p }')
printf '%s\n' "etcd's fan-out of watch events: etcd 3.4 on loopback, P single-key puts under one prefix, W watchers on it"
printf '%-8s %5s %5s %8s %10s %10s %8s %9s %9s\n' mode W P "etcd w." "etcd CPU s" "proxy s" "wall s" "us/ev/w" "+proxy"
printf '%-8s %5s %5s %8s %10s %10s %8s %9s %9s\n' none 0 "$FANOUT_BASE_P" 0 "$base_etcd" - "$base_wall" - -
for c in $FANOUT_CASES; do
    w=${c%%:*} p=${c##*:}
    for mode in $FANOUT_MODES; do
        run "$mode" "$w" "$p"
        read -r etcd_s proxy_s wall_s <<<"$RESULT"
        awk -v m="$mode" -v w="$w" -v p="$p" -v e="$etcd_s" -v x="$proxy_s" -v t="$wall_s" -v pp="$per_put" -v n="$WATCHERS" 'BEGIN {
            fan = (e - pp * p) * 1e6 / (p * w)
            both = (e + (m == "proxy" ? x : 0) - pp * p) * 1e6 / (p * w)
            printf "%-8s %5d %5d %8s %10.2f %10s %8.2f %9.1f %9s\n", m, w, p, n, e, (m == "proxy" ? x : "-"), t, fan,
                   (m == "proxy" ? sprintf("%.1f", both) : "-") }'
    done
done
printf '%s\n' "(etcd w.: watches etcd held during the run; us/ev/w: etcd CPU beyond the puts' own ($per_put s a put, the none row) per event per watcher; +proxy adds the proxy's CPU)"
