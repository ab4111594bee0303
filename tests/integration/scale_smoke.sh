#!/usr/bin/env bash
# scale_smoke.sh: issue 18's scale curve at one smaller point, as a smoke check: 200 real
# `weft daemon`s, each in its own namespace, create one network, then 2 endpoints each at
# once; every host must program every other host's entries in its own kernel, and one
# more endpoint must reach every host, with every figure of the curve a number. Not timed
# (benchmarks are not timed tests: bench/scale_curve.sh measures; here nothing is judged
# on a time). Runs alone (the line below): 200 daemons and their burst keep the two cores
# busy for about 42 s, which would starve a test beside it. The full curve, to 1,000
# hosts: `make bench` (docs/scale.md).
# suite: alone
set -euo pipefail
cd "$(dirname "$0")/../.."
. tests/lib/sim.sh # fail
for bin in build/weft build/plugin_bench build/neigh_wait; do
    [ -x "$bin" ] || fail "$bin is missing: make $bin (make integration builds it)"
done
hosts=${SCALE_SMOKE_HOSTS:-200}
results=$(mktemp) log=$(mktemp)
trap 'rm -f "$results" "$log"' EXIT
SCALE_POINTS=$hosts SCALE_EPS=2 STORE_WATCH=grpc SCALE_ONE_RUNS=3 SCALE_IDLE_S=2 \
    bench/scale_curve.sh "$results" >"$log" 2>&1 || { cat "$log"; fail "bench/scale_curve.sh failed"; }
cat "$log"
value() { awk -v k="$1" '$1 == k {print $2}' "$results"; }
k=scale_curve_grpc_$hosts
[ "$(value "${k}_failed_hosts")" = 0 ] || fail "$(value "${k}_failed_hosts") hosts' endpoint creates failed"
[ "$(value "${k}_late_hosts")" = 0 ] || fail "$(value "${k}_late_hosts") hosts never had every remote entry"
[[ "$(value "${k}_converged_ms")" =~ ^[0-9]+$ ]] ||
    fail "the $hosts hosts did not all converge: converged_ms is '$(value "${k}_converged_ms")'"
[ "$(value scale_curve_one_hosts)" = "$hosts" ] && [ -z "$(value scale_curve_one_late)" ] ||
    fail "one more endpoint did not reach all $hosts hosts each time (late: $(value scale_curve_one_late))"
for f in start_s networks_s created_ms cpu_etcd_s cpu_weft_s etcd_us_per_change_host \
    weft_us_per_change_host rss_median_kib rss_max_kib idle_etcd_pct network_retries; do
    [[ "$(value "${k}_$f")" =~ ^[0-9]+(\.[0-9]+)?$ ]] || fail "figure ${k}_$f is '$(value "${k}_$f")', not a number"
done
for f in one_p50_ms one_p99_ms; do
    [[ "$(value "scale_curve_$f")" =~ ^[0-9]+$ ]] || fail "figure scale_curve_$f is '$(value "scale_curve_$f")', not a number"
done
echo "PASS scale_smoke ($hosts hosts: converged $(value "${k}_converged_ms") ms, one more p99 $(value scale_curve_one_p99_ms) ms; not judged)"
