#!/usr/bin/env bash
# bench/soak.sh: `make soak` (issue 14): weft under a long run of container churn, to
# show that nothing grows. Three simulated hosts with weft and dockerd on one weft
# network; CYCLES (10000) cycles, each one container started with `docker run -d` and
# the oldest of its host's running containers removed once KEEP (3) are running there,
# so the network always holds about 3 x KEEP containers and every cycle is one create
# and one remove. The three hosts churn at once, each its third of the cycles (a cycle
# waits on dockerd, containerd and runc far more than it uses the CPU: about 1 s a
# cycle one host at a time, under half a core), so every weft sees its own endpoints
# come and go while the other hosts' come and go too. Every SAMPLE (100) cycles, each
# host samples itself: weft's RSS, open file descriptors and threads, the weft links in
# the host's kernel (bridges, VXLAN devices, veths, spares); and etcd's key count under
# /weft/. The samples go to OUT_DIR/soak.dat and a plot OUT_DIR/soak.png (beside
# convergence.png). At the end every container is removed and the run is judged flat:
# the last sample's descriptors no more than the first's (after WARMUP samples, 2; taken
# 35 s after the last cycle, once idle pooled store connections are closed), threads
# equal, RSS within RSS_SLACK_KIB (512) of it, etcd holds what it held before the first
# container, and each host has only the network's own links. Not in `make test`: a
# full run took 2 h 17 min here (0.82 s a cycle); CYCLES=300 shows the shape. The raw
# samples (OUT_DIR/soak.samples) are written as they come and kept on any way out, and
# each daemon's smaps at the judged first sample and at the end (OUT_DIR/soak.smaps.*).
# Benchmark, not test: it prints a table and exits 1 only when something is not flat.
set -euo pipefail
cd "$(dirname "$0")/.."
. tests/lib/sim.sh

CYCLES=${CYCLES:-10000} KEEP=${KEEP:-3} SAMPLE=${SAMPLE:-100} WARMUP=${WARMUP:-2}
RSS_SLACK_KIB=${RSS_SLACK_KIB:-512} OUT_DIR=${OUT_DIR:-bench}
export WEFT_BIN=build/weft
HOSTS=(A B C)
SUBNET=10.66.0.0/20
mkdir -p "$OUT_DIR"
# The samples and dockerd's complaints go to OUT_DIR as they come, not to the
# simulation's folder, so that a run stopped or failed hours in keeps what it saw.
SAMPLES=$OUT_DIR/soak.samples
rm -f "$OUT_DIR/soak.fds" "$OUT_DIR"/soak.docker-run.*.err "$OUT_DIR"/soak.smaps.*

sim_init
sim_switch
i=1
for h in "${HOSTS[@]}"; do sim_host "$h" "192.168.77.$i"; i=$((i + 1)); done
sim_etcd
for h in "${HOSTS[@]}"; do sim_weft "$h"; done
for h in "${HOSTS[@]}"; do sim_dockerd "$h"; done
keys() { sim_etcdctl get --prefix --keys-only /weft/ | grep -c . || true; }
for h in "${HOSTS[@]}"; do
    sim_docker "$h" network create -d weft --ipam-driver weft --subnet "$SUBNET" soak >/dev/null
done
links() { weft_devices "$1" | grep -c . || true; } # HOST
sleep 2 # the spare veths each host keeps ready are made
# and a host takes the reaper role at its first lease refresh (TTL/3): counted before.
reaper_taken() { [ -n "$(sim_etcdctl get --keys-only /weft/v1/roles/reaper)" ]; }
wait_for 10 reaper_taken || fail "no host took the reaper role"
declare -A LINKS0
for h in "${HOSTS[@]}"; do LINKS0[$h]=$(links "$h"); done
keys0=$(keys)

# sample_host CYCLE HOST: a line "cycle host rss_kib fds threads links etcd_keys
# anon_kib file_kib" (RSS split into the heap, stacks and relocated data, and the pages
# of files, the libraries' code mostly: a creep in the second is code first run late).
# At the judged first sample and at the end it also keeps the daemon's smaps, for
# `awk -f bench/smaps_by_lib.awk` per mapping.
sample_host() {
    local c=$1 h=$2 pid rss threads anon file
    pid=$(sim_weft_pid "$h")
    # One read of status: the RSS and its two parts from the same moment.
    read -r rss threads anon file < <(awk '/^VmRSS/ {r = $2} /^Threads/ {t = $2}
        /^RssAnon/ {a = $2} /^RssFile/ {f = $2} END {print r, t, a, f}' "/proc/$pid/status")
    printf '%s %s %s %s %s %s %s %s %s\n' "$c" "$h" "$rss" \
        "$(find "/proc/$pid/fd" -mindepth 1 -maxdepth 1 | wc -l)" \
        "$threads" "$(links "$h")" "$(keys)" "$anon" "$file" \
        >>"$SAMPLES" # one short write: the churns' lines do not mix
    if [ "$c" = end ] || [ "$c" = $((WARMUP * SAMPLE)) ]; then
        cat "/proc/$pid/smaps" >"$OUT_DIR/soak.smaps.$h.$c"
    fi
}
sample() { # CYCLE: every host
    local h
    for h in "${HOSTS[@]}"; do sample_host "$1" "$h"; done
}

# churn HOST INDEX: HOST's share of the cycles (every third, from INDEX), run in a
# subshell of its own; the cycle a sample is labelled with counts every host's.
churn() {
    local h=$1 idx=$2 n=${#HOSTS[@]} c name
    local -a running=()
    for ((c = idx + 1; c <= CYCLES; c += n)); do
        name=s$c
        # (dockerd warns that forwarding is off: wanted here, nothing is routed out)
        sim_docker "$h" run -d --init --network soak --name "$name" "$SIM_IMAGE" sleep 36000 \
            >/dev/null 2>>"$OUT_DIR/soak.docker-run.$h.err" || fail "cycle $c: docker run on $h failed"
        running+=("$name")
        if [ "${#running[@]}" -gt "$KEEP" ]; then
            sim_docker "$h" rm -f "${running[0]}" >/dev/null ||
                fail "cycle $c: docker rm ${running[0]} on $h failed"
            running=("${running[@]:1}")
        fi
        # Each host samples at its cycle that passes a multiple of SAMPLE (one in every
        # n cycles is its own), labelled with that multiple, so the hosts' labels agree.
        if [ $((c / SAMPLE)) != $(((c - n) / SAMPLE)) ]; then
            sample_host $((c / SAMPLE * SAMPLE)) "$h"
            [ "$idx" != 0 ] || echo "soak: about $c of $CYCLES cycles ($(($(date +%s) - started)) s)" >&2
        fi
    done
    for name in "${running[@]}"; do sim_docker "$h" rm -f "$name" >/dev/null || fail "docker rm $name on $h failed"; done
}

: >"$SAMPLES"
started=$(date +%s)
sample 0
CHURN_PIDS=()
# The churns are this shell's children, not the simulation's: stopped here by their pids
# on any way out, before the simulation's own cleanup.
stop_churns() {
    local pid
    for pid in "${CHURN_PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${CHURN_PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
    CHURN_PIDS=()
}
# set +e first: under errexit the (exit) that hands sim_cleanup the status would end the trap.
trap 'rc=$?; set +e; stop_churns; (exit "$rc"); sim_cleanup' EXIT # sim_cleanup reads the status
trap 'stop_churns; sim_cleanup; exit 130' INT
trap 'stop_churns; sim_cleanup; exit 143' TERM
for i in "${!HOSTS[@]}"; do
    churn "${HOSTS[$i]}" "$i" &
    CHURN_PIDS+=("$!")
done
failed=
for i in "${!CHURN_PIDS[@]}"; do
    wait "${CHURN_PIDS[$i]}" || failed="$failed ${HOSTS[$i]}"
done
CHURN_PIDS=()
[ -z "$failed" ] || fail "the churn failed on:$failed (see above)"
# The last withdrawals reach every host, and the store client closes the pooled
# connections a moment of several requests at once left idle (ETCD_POOL_IDLE_MS, 30 s).
sleep 35
sample end
seconds=$(($(date +%s) - started))
# What each daemon holds open at the end, for a count that moved: descriptors by kind,
# and its sockets, from inside its host.
for h in "${HOSTS[@]}"; do
    pid=$(sim_weft_pid "$h")
    {
        echo "== $h: descriptors by target"
        for fd in /proc/"$pid"/fd/*; do readlink "$fd"; done | sed 's/:\[[0-9]*\]$//' | sort | uniq -c
        echo "== $h: its sockets (TCP to etcd, UDP, raw, unix, netlink, packet)"
        # Not -A all: it asks for DCCP too, which this kernel lacks ("Invalid argument").
        sim_ns_exec "$h" ss -a -n -p -A tcp,udp,raw,unix,netlink,packet | grep "pid=$pid," || true
    } >>"$OUT_DIR/soak.fds"
done

# Judge: first sample after the warm-up against the last, per host.
awk -v warm=$((WARMUP * SAMPLE)) -v slack="$RSS_SLACK_KIB" -v keys0="$keys0" \
    -v links_a="${LINKS0[A]}" -v links_b="${LINKS0[B]}" -v links_c="${LINKS0[C]}" '
    $1 != "end" && $1 >= warm && !($2 in first) {first[$2] = $0}
    $1 == "end" {last[$2] = $0; keys = $7}
    END {
        base["A"] = links_a; base["B"] = links_b; base["C"] = links_c; bad = 0
        for (h in last) {
            split(first[h], f); split(last[h], l)
            printf "%s: RSS %d -> %d KiB (anonymous %d -> %d, files %d -> %d), fds %d -> %d, threads %d -> %d, links %d (of the network: %d)\n",
                h, f[3], l[3], f[8], l[8], f[9], l[9], f[4], l[4], f[5], l[5], l[6], base[h]
            if (l[3] - f[3] > slack || l[4] > f[4] || l[5] != f[5] || l[6] != base[h]) bad = 1
        }
        printf "etcd keys under /weft/: %d before the first container, %d at the end\n", keys0, keys
        if (keys != keys0) bad = 1
        exit bad
    }' "$SAMPLES" >"$SIM_DIR/soak.verdict" && flat=yes || flat=no

# The plot's data: cycle, then per host (A, B, C) RSS (MiB), fds, threads; etcd keys. A
# cycle some host did not sample (the last, when the cycles end between hosts) is left out.
awk -v hosts="${HOSTS[*]}" 'BEGIN {nh = split(hosts, host, " ")}
     $1 != "end" {v[$1, $2] = $3 / 1024 " " $4 " " $5; keys[$1] = $7; count[$1]++
                  if (!($1 in seen)) {seen[$1]; order[n++] = $1}}
     END {for (i = 0; i < n; i++) {c = order[i]; if (count[c] < nh) continue
              line = c; for (j = 1; j <= nh; j++) line = line " " v[c, host[j]]; print line, keys[c]}}' \
    "$SAMPLES" >"$OUT_DIR/soak.dat"
plot=
if command -v gnuplot >/dev/null; then
    plot=$OUT_DIR/soak.png
    gnuplot <<GP
set terminal png size 900,500
set output "$plot"
set title "weft under container churn: $CYCLES cycles on 3 hosts, $KEEP running per host"
set xlabel "cycles (one docker run and one docker rm each)"
set ylabel "RSS (MiB), fds, threads"
set y2label "etcd keys under /weft/"
set ytics nomirror
set y2tics
set key outside right
plot "$OUT_DIR/soak.dat" using 1:2 with lines lw 2 title "A RSS", \
     "" using 1:5 with lines lw 2 title "B RSS", "" using 1:8 with lines lw 2 title "C RSS", \
     "" using 1:3 with lines title "A fds", "" using 1:4 with lines title "A threads", \
     "" using 1:11 axes x1y2 with lines dt 2 title "etcd keys"
GP
fi
echo
echo "soak: $CYCLES cycles in $seconds s on 3 hosts ($KEEP containers running per host)"
cat "$SIM_DIR/soak.verdict"
echo "flat: $flat; wrote $OUT_DIR/soak.dat${plot:+ and $plot}, $OUT_DIR/soak.fds"
[ "$flat" = yes ]
