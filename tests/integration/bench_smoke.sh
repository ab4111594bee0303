#!/usr/bin/env bash
# bench_smoke.sh: make bench's harness runs end to end at a tiny size and yields
# every figure. Times are not judged here (benchmarks are not timed tests); what
# is judged: each figure comes out as a number, IPAM handed out no duplicate, the
# scale run converged, the plot was drawn, and every name resolved on the other host.
set -euo pipefail
cd "$(dirname "$0")/../.."
. tests/lib/sim.sh # fail, and the environment bench/run.sh expects
for bin in build/weft build/plugin_bench build/dns_load build/neigh_wait; do # what bench/run.sh runs
    [ -x "$bin" ] || fail "$bin is missing: make $bin (make integration builds it)"
done

out_dir=build/bench-smoke
rm -rf "$out_dir"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
# The layout section at its smallest: one round of the sparse case with the cheapest
# layout (C), 10 hosts in 20 overlays (50 in 100 took 24 s of CPU); the full one takes
# minutes. Names: one run, 1 s per load figure (its own
# hosts and dockerds). Kept small: the suite has 15 minutes. QUIET_S=0: the suite runs
# tests side by side, so the machine is never idle; no section waits for it. Not the swarm
# section (issue 14: a swarm of two more dockerds, four containers, docker runs and the
# encrypted try take 45-85 s even at this size); its figures are checked when run by hand.
SECTIONS="datapath encrypted join converge ipam scale docker layout names" \
    RUNS=1 SECS=1 QUIET_S=0 JUMBO=0 HOSTS=3 EPS=3 JOINS=20 CONVERGE=3 IPAM_REQUESTS=50 DOCKER_RUNS=1 \
    LAYOUT_RUNS=1 LAYOUT_SCENARIOS=sparse LAYOUTS="C" LAYOUT_PEERS=1 LAYOUT_HOSTS=10 LAYOUT_OVERLAYS=20 NAMES_RUNS=1 NAMES_SECS=1 RTT_PINGS=20 \
    OUT_DIR=$out_dir bench/run.sh >"$log" 2>&1 || { cat "$log"; fail "bench/run.sh failed"; }
cat "$log"
json=$out_dir/results.json
value() { sed -n "s/^  \"$1\": \\(.*\\),\$/\\1/p" "$json"; }
for k in tcp_underlay_1500 tcp_reference_1500 tcp_weft_1500 ratio_underlay_1500 ratio_reference_1500 udp_pps_underlay udp_pps_weft \
    tcp4_underlay_1500 tcp4_reference_1500 tcp4_weft_1500 rtt_underlay_p50 rtt_weft_p99 join_p50_ms join_p99_ms join_max_ms converge_p50_ms \
    converge_p99_ms converge_p99_max_ms join_p99_max_ms ipam_one_host_per_s ipam_contended_per_s scale_created_ms \
    scale_converged_ms scale_cpu_etcd_s scale_etcd_ms_per_endpoint rss_median_kib rss_anon_median_kib docker_run_p50_ms \
    docker_returns_p50_ms docker_join_p99_ms docker_moved_p99_ms docker_after_move_p99_ms \
    layout_sparse_C_events_r1 layout_sparse_C_etcd_cpu_s_r1 \
    names_from_run_start_p50_ms names_qps_c1 names_p99_us_c1 names_qps_c32 names_p99_us_c32 \
    names_fwd_qps_c32 names_fwd_p99_us_c32 enc_tcp_plain enc_tcp_encrypted enc_ratio_tcp enc_tcp6_plain enc_tcp6_encrypted enc_ratio_tcp6 \
    enc_udp_pps_encrypted enc_rtt_encrypted_p99 enc_ratio_rtt_p99 enc_cpu_per_gbit_encrypted \
    tcp_underlay6_1500 tcp_weft6_1500 ratio_underlay6_1500 rtt_weft6_p99 tcp_enc6_1500 ratio_enc6_weft6 rtt_enc6_p99 \
    tcp_noveth_1500 ratio_noveth_reference_1500 udp_pps_reference udp_pps_noveth ratio_udp_noveth_reference \
    ratio_udp_weft_reference rtt_reference_p99 rtt_noveth_p99; do
    v=$(value "$k")
    [[ "$v" =~ ^[0-9]+(\.[0-9]+)?$ ]] || fail "figure $k is '$v', not a number"
done
# A name may resolve on B before docker run returns on A: negative is a figure too.
# So may B's answer come before A's, or B be programmed before Join answered.
for k in names_propagation_p50_ms names_propagation_p99_ms docker_local_p99_ms docker_programmed_p99_ms; do
    [[ "$(value "$k")" =~ ^-?[0-9]+$ ]] || fail "figure $k is '$(value "$k")', not a number"
done
[ "$(value names_timeouts)" = 0 ] || fail "$(value names_timeouts) names never resolved on B"
[ "$(value ipam_duplicates)" = 0 ] || fail "IPAM handed out duplicates: $(value ipam_duplicates)"
[ "$(value ipam_contended_allocations)" = 150 ] ||
    fail "contended IPAM made $(value ipam_contended_allocations) allocations, want 3 x 50"
! grep -q "did not converge" "$log" || fail "a scale run did not converge"
grep -q '"convergence_by_hosts": {"2": [0-9]*, "3": [0-9]*}' "$json" ||
    fail "convergence_by_hosts is not 2 and 3 hosts: $(grep convergence_by_hosts "$json")"
[ "$(head -c 4 "$out_dir/convergence.png" | od -An -c | tr -d ' ')" = '211PNG' ] ||
    fail "no PNG plot at $out_dir/convergence.png"
echo "PASS bench_smoke"
