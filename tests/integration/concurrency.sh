#!/usr/bin/env bash
# concurrency.sh: many hosts at once. HOSTS_N hosts (default 8) create the same
# network at the same moment: one VNI, one pool. Then each sends REQUESTS_N
# (default 100) RequestAddress at once on the shared pool: every answer is a
# distinct address; after all are released the pool is empty again.
# `make stress` runs it bigger (HOSTS_N=8 REQUESTS_N=400).
set -euo pipefail
. "$(dirname "$0")/../lib/sim.sh"

export WEFT_BIN=${WEFT_BIN:-build/weft}
HOSTS_N=${HOSTS_N:-8}
REQUESTS_N=${REQUESTS_N:-100}
SUBNET=10.80.0.0/20
hosts=()
for i in $(seq 1 "$HOSTS_N"); do hosts+=("h$i"); done

sim_init
sim_switch
for i in $(seq 1 "$HOSTS_N"); do sim_host "h$i" "192.168.77.$i"; done
sim_etcd
for h in "${hosts[@]}"; do sim_weft "$h"; done

# Every host creates the network at once (what docker network create sends).
dir=$SIM_DIR/concurrent
mkdir -p "$dir"
pids=()
for h in "${hosts[@]}"; do
    (
        sim_plugin_call "$h" IpamDriver.RequestPool "{\"AddressSpace\":\"weft\",\"Pool\":\"$SUBNET\",\"Options\":{},\"V6\":false}" >/dev/null &&
        gw=$(sim_plugin_call "$h" IpamDriver.RequestAddress "{\"PoolID\":\"$SUBNET\",\"Address\":\"\",\"Options\":{\"RequestAddressType\":\"com.docker.network.gateway\"}}" | sim_json_str Address) &&
        sim_plugin_call "$h" NetworkDriver.CreateNetwork "{\"NetworkID\":\"$(sim_random_id)\",\"Options\":{},\"IPv4Data\":[{\"AddressSpace\":\"weft\",\"Gateway\":\"$gw\",\"Pool\":\"$SUBNET\"}],\"IPv6Data\":[]}"
    ) >"$dir/create.$h" 2>&1 &
    pids+=($!)
done
wait "${pids[@]}" || { tail -n 3 "$dir"/create.* >&2; fail "a concurrent CreateNetwork failed"; }
vnis=$(for h in "${hosts[@]}"; do sim_ns_exec "$h" ip -d link show type vxlan | sed -n 's/.*vxlan id \([0-9]*\) .*/\1/p'; done | sort -u)
[ "$(grep -c . <<<"$vnis")" = 1 ] || fail "hosts created the network with different VNIs: $vnis"
[ "$(sim_etcdctl get --prefix --keys-only /weft/v1/overlays/ | grep -c .)" = 1 ] || fail "more than one overlay record"
[ "$(sim_etcdctl get --prefix --keys-only /weft/v1/vnis/ | grep -c .)" = 1 ] || fail "more than one VNI claimed"
echo "ok   $HOSTS_N hosts created the network at once: one overlay, VNI $vnis"

pids=()
for h in "${hosts[@]}"; do
    for i in $(seq 1 "$REQUESTS_N"); do
        sim_plugin_call "$h" IpamDriver.RequestAddress "{\"PoolID\":\"$SUBNET\",\"Address\":\"\",\"Options\":null}" >"$dir/$h.$i" 2>&1 &
        pids+=($!)
    done
done
wait "${pids[@]}" || true
total=$((HOSTS_N * REQUESTS_N))
got=$(cat "$dir"/h*.* | grep -o '"Address" *: *"[^"]*"' | sed 's/.*: *"\(.*\)"$/\1/')
n=$(grep -c . <<<"$got" || true)
distinct=$(sort -u <<<"$got" | grep -c . || true)
[ "$n" = "$total" ] || { grep -h Err "$dir"/h*.* | sort | uniq -c | head >&2; fail "$n of $total concurrent RequestAddress succeeded"; }
[ "$distinct" = "$total" ] || fail "$total allocations gave only $distinct distinct addresses"
echo "ok   $HOSTS_N hosts x $REQUESTS_N concurrent RequestAddress: $distinct distinct addresses"

pids=()
for h in "${hosts[@]}"; do
    (for f in "$dir/$h".*; do
        a=$(sim_json_str Address <"$f")
        sim_plugin_call "$h" IpamDriver.ReleaseAddress "{\"PoolID\":\"$SUBNET\",\"Address\":\"${a%/*}\"}" >/dev/null || exit 1
    done) &
    pids+=($!)
done
wait "${pids[@]}" || fail "a ReleaseAddress failed"
left=$(sim_etcdctl get --prefix /weft/v1/addrs/ | grep -c '"kind":"endpoint"' || true)
[ "$left" = 0 ] || fail "$left endpoint addresses still allocated after releasing all"
echo "ok   all released: the pool holds only its gateway"
echo "PASS concurrency"
