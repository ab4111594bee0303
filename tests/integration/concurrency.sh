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
    sim_random_id >"$dir/nid.$h"
    (
        sim_plugin_call "$h" IpamDriver.RequestPool "{\"AddressSpace\":\"weft\",\"Pool\":\"$SUBNET\",\"Options\":{},\"V6\":false}" >/dev/null &&
        gw=$(sim_plugin_call "$h" IpamDriver.RequestAddress "{\"PoolID\":\"$SUBNET\",\"Address\":\"\",\"Options\":{\"RequestAddressType\":\"com.docker.network.gateway\"}}" | sim_json_str Address) &&
        sim_plugin_call "$h" NetworkDriver.CreateNetwork "{\"NetworkID\":\"$(cat "$dir/nid.$h")\",\"Options\":{},\"IPv4Data\":[{\"AddressSpace\":\"weft\",\"Gateway\":\"$gw\",\"Pool\":\"$SUBNET\"}],\"IPv6Data\":[]}"
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

# Every host removes the network: the overlay, its VNI and its gateway are released,
# so the subnet can be created again with other options.
for h in "${hosts[@]}"; do
    sim_plugin_call "$h" IpamDriver.ReleaseAddress "{\"PoolID\":\"$SUBNET\",\"Address\":\"10.80.0.1\"}" >/dev/null
    sim_plugin_call "$h" NetworkDriver.DeleteNetwork "{\"NetworkID\":\"$(cat "$dir/nid.$h")\"}" >/dev/null ||
        fail "DeleteNetwork on $h failed"
done
left=$(sim_etcdctl get --prefix --keys-only /weft/v1/ | grep -E '/(overlays|vnis|addrs|fabric)/' || true)
[ -z "$left" ] || fail "after every host deleted the network, the store still holds: $left"
gw=$(sim_plugin_call h1 IpamDriver.RequestAddress "{\"PoolID\":\"$SUBNET\",\"Address\":\"\",\"Options\":{\"RequestAddressType\":\"com.docker.network.gateway\"}}" | sim_json_str Address)
sim_plugin_call h1 NetworkDriver.CreateNetwork "{\"NetworkID\":\"$(sim_random_id)\",\"Options\":{\"com.docker.network.generic\":{\"vni\":\"77\"}},\"IPv4Data\":[{\"AddressSpace\":\"weft\",\"Gateway\":\"$gw\",\"Pool\":\"$SUBNET\"}],\"IPv6Data\":[]}" >/dev/null ||
    fail "re-creating the released subnet with -o vni=77 failed"
sim_ns_exec h1 ip -d link show wvx77 >/dev/null || fail "no wvx77 after re-creating with -o vni=77"
echo "ok   the last host's DeleteNetwork released the overlay; re-created with VNI 77"
echo "PASS concurrency"
