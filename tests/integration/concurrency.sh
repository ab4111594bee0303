#!/usr/bin/env bash
# concurrency.sh: many hosts at once. HOSTS_N hosts (default 8) create the same
# network at the same moment: one VNI, one pool. Then each sends REQUESTS_N
# (default 100) RequestAddress at once on the shared pool: every answer is a
# distinct address; after all are released the pool is empty again. Then BURST_N
# (250) at once on one host, within its plugin socket's 256 connections: all answered.
# `make stress` runs it bigger (HOSTS_N=8 REQUESTS_N=250: a host's burst stays within its
# plugin socket's 256 connections; beyond them the server closes the newest).
#
# Then the same for IPv6 pools (issue 12), through the IPAM calls only (an IPv6
# overlay is not created yet): every host asks for two V6 pools at once, a /64
# (fd80::/64) and a /120 (fd80:0:0:1::/120, 255 host addresses), and gets the
# canonical subnet as PoolID. The /64 takes HOSTS_N x REQUESTS_N concurrent
# requests. The /120 cannot take 8 x 100: it gets HOSTS_N x REQUESTS6_SMALL_N
# (default 8 x 30 = 240 of 255, near full), then HOSTS_N x 3 more at once for the
# rest, so exactly the free ones succeed and the others are refused with "no free
# address"; then a request to the full pool must be refused within 2 s (timed).
# Checked: all answers distinct, inside their pool, with its prefix length; etcd
# holds exactly one key per answer (addrs/<subnet, colons as dashes>/<address>),
# recorded for the host that got it; after release the /120 is empty and the /64
# holds exactly the addresses not released (one per host is).
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
# --store-timeout 10: the bursts below queue hundreds of requests in the one etcd, and the
# last of 250 at once on one host waited about 2 s under make test's load (the default
# per store request); this test is about contention and the socket, not the store's latency.
# STORE_TIMEOUT sets another (seconds), to see how a burst fares with it.
for h in "${hosts[@]}"; do sim_weft "$h" --store-timeout "${STORE_TIMEOUT:-10}"; done

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

# The bursts go through plugin_bench (a thread per request, each its own connection to
# the plugin socket as dockerd's are): 800 curl processes at once cost the machine more
# than weft, and timed the spawning.
bench=$SIM_REPO/build/plugin_bench
[ -x "$bench" ] || fail "build/plugin_bench missing (make build/plugin_bench)"
sock() { echo "$SIM_DIR/$1/plugins/weft.sock"; }
# answers LIST...: "N DISTINCT": the addresses plugin_bench wrote, and how many differ.
answers() { awk 'NF {n++; if (!seen[$0]++) d++} END {print n + 0, d + 0}' "$@"; }
t0=$(date +%s%N)
pids=()
for h in "${hosts[@]}"; do
    "$bench" ipam "$(sock "$h")" "$SUBNET" "$REQUESTS_N" "$REQUESTS_N" "$dir/$h.list" >"$dir/$h.out" 2>&1 &
    pids+=($!)
done
wait "${pids[@]}" || true
t=$((($(date +%s%N) - t0) / 1000000))
total=$((HOSTS_N * REQUESTS_N))
read -r n distinct < <(answers "$dir"/h*.list)
[ "$n" = "$total" ] || { cat "$dir"/h*.out >&2; fail "$n of $total concurrent RequestAddress succeeded"; }
[ "$distinct" = "$total" ] || fail "$total allocations gave only $distinct distinct addresses"
echo "ok   $HOSTS_N hosts x $REQUESTS_N concurrent RequestAddress: $distinct distinct addresses ($t ms)"

t0=$(date +%s%N)
pids=()
for h in "${hosts[@]}"; do
    "$bench" release "$(sock "$h")" "$SUBNET" "$dir/$h.list" "$REQUESTS_N" >"$dir/$h.rel" 2>&1 &
    pids+=($!)
done
wait "${pids[@]}" || true
grep -h '"failed":0}' "$dir"/h*.rel | grep -c . | grep -qx "$HOSTS_N" ||
    { cat "$dir"/h*.rel >&2; fail "a ReleaseAddress failed"; }
left=$(sim_etcdctl get --prefix /weft/v1/addrs/ | grep -c '"kind":"endpoint"' || true)
[ "$left" = 0 ] || fail "$left endpoint addresses still allocated after releasing all"
echo "ok   all released at once: the pool holds only its gateway ($((($(date +%s%N) - t0) / 1000000)) ms)"

# One host, a burst up to its plugin socket's connection limit (256, daemon/http.c), each
# request on its own connection as dockerd's concurrent calls are: every one is taken and
# answered (a listen backlog of 128 left some connects refused).
BURST_N=${BURST_N:-250}
t0=$(date +%s%N)
"$bench" ipam "$(sock h1)" "$SUBNET" "$BURST_N" "$BURST_N" "$dir/burst.list" >"$dir/burst.out" 2>&1 || true
read -r n distinct < <(answers "$dir/burst.list")
[ "$n" = "$BURST_N" ] && [ "$distinct" = "$BURST_N" ] ||
    { sort "$dir/burst.out" | uniq -c | sort -rn | head -n 5 >&2; fail "$n of $BURST_N RequestAddress at once on h1 answered ($distinct distinct)"; }
t=$((($(date +%s%N) - t0) / 1000000))
"$bench" release "$(sock h1)" "$SUBNET" "$dir/burst.list" "$BURST_N" >"$dir/burst.rel" 2>&1 || true
grep -q '"failed":0}' "$dir/burst.rel" || { cat "$dir/burst.rel" >&2; fail "releasing h1's burst failed"; }
echo "ok   $BURST_N RequestAddress at once on one host, each its own connection: all answered, distinct ($t ms), released"

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

# ---------- IPv6 pools (issue 12): the same hosts, IPAM calls only ----------
POOL64=fd80::/64
POOL120=fd80:0:0:1::/120
REQUESTS6_SMALL_N=${REQUESTS6_SMALL_N:-30}
OVERFLOW_N=3 # per host, once the /120 is near full
FULL_REFUSAL_MAX_MS=2000
small_total=$((HOSTS_N * REQUESTS6_SMALL_N))
[ "$small_total" -lt 255 ] || fail "HOSTS_N x REQUESTS6_SMALL_N = $small_total does not fit a /120 (255)"
dir6=$SIM_DIR/concurrent6
mkdir -p "$dir6"
now_ms() { echo $(($(date +%s%N) / 1000000)); }
subnet_key() { local k=${1//:/-}; echo "${k/\//_}"; } # store/keys.c: fd80::/64 -> fd80--_64
addrs_prefix() { echo "/weft/v1/addrs/$(subnet_key "$1")/"; }

# Every host asks for both pools at once; h1 spells them uncompressed.
pids=()
for h in "${hosts[@]}"; do
    for p in "$POOL64" "$POOL120"; do
        asked=$p
        [ "$h" != h1 ] || asked=$(python3 -c 'import ipaddress,sys; print(ipaddress.ip_network(sys.argv[1]).exploded)' "$p")
        sim_plugin_call "$h" IpamDriver.RequestPool "{\"AddressSpace\":\"weft\",\"Pool\":\"$asked\",\"Options\":{},\"V6\":true}" \
            >"$dir6/pool.$(subnet_key "$p").$h" 2>&1 &
        pids+=($!)
    done
done
wait "${pids[@]}" || true
for h in "${hosts[@]}"; do
    for p in "$POOL64" "$POOL120"; do
        got=$(sim_json_str PoolID <"$dir6/pool.$(subnet_key "$p").$h")
        [ "$got" = "$p" ] || fail "RequestPool V6 $p on $h answered PoolID '$got': $(cat "$dir6/pool.$(subnet_key "$p").$h")"
    done
done
echo "ok   $HOSTS_N hosts asked for $POOL64 and $POOL120 at once: PoolID is the canonical subnet"

# burst6 POOL TAG N: every host sends N RequestAddress at once on POOL; each
# answer goes to $dir6/<subnet key>.TAG.<host>.<i>. Prints the wall time in ms.
# bulk6 POOL TAG N: the same through plugin_bench, the addresses given in
# $dir6/<subnet key>.TAG.<host>.list (a failure is an address missing there).
bulk6() {
    local pool=$1 tag=$2 n=$3 sk h t0 pids=()
    sk=$(subnet_key "$pool")
    t0=$(now_ms)
    for h in "${hosts[@]}"; do
        "$bench" ipam "$(sock "$h")" "$pool" "$n" "$n" "$dir6/$sk.$tag.$h.list" >/dev/null 2>&1 &
        pids+=($!)
    done
    wait "${pids[@]}" || true
    echo $(($(now_ms) - t0))
}
burst6() {
    local pool=$1 tag=$2 n=$3 sk h i t0 pids=()
    sk=$(subnet_key "$pool")
    t0=$(now_ms)
    for h in "${hosts[@]}"; do
        for i in $(seq 1 "$n"); do
            sim_plugin_call "$h" IpamDriver.RequestAddress "{\"PoolID\":\"$pool\",\"Address\":\"\",\"Options\":null}" \
                >"$dir6/$sk.$tag.$h.$i" 2>&1 &
            pids+=($!)
        done
    done
    wait "${pids[@]}" || true
    echo $(($(now_ms) - t0))
}

# check6 POOL TAG OK_N FULL_N: TAG's answers are OK_N addresses and FULL_N
# "no free address" refusals, nothing else; every address given in POOL so far
# (all tags) is distinct, inside POOL with its prefix length, and etcd holds
# exactly one key per address, recorded for one host per host that got it.
check6() {
    local sk
    sk=$(subnet_key "$1")
    sim_etcdctl get --prefix "$(addrs_prefix "$1")" >"$dir6/etcd.$sk" || fail "etcdctl get failed"
    python3 - "$dir6" "$sk" "$@" <<'EOF' || fail "IPv6 allocations in $1 are wrong (above)"
import collections, glob, ipaddress, json, os, sys
d, sk, pool, tag, ok_n, full_n = sys.argv[1:7]
net = ipaddress.ip_network(pool)
bad = []
def answers(pattern):
    for f in sorted(glob.glob(os.path.join(d, pattern))):
        if f.endswith(".list"):  # bulk6: one address a line
            host = f.rsplit(".", 2)[-2]
            for line in open(f).read().split():
                yield host, {"Address": line}
            continue
        host = f.rsplit(".", 2)[-2]
        text = open(f).read().strip()
        try:
            ans = json.loads(text.splitlines()[0]) if text else {}
        except ValueError:
            ans = {"Err": "not JSON: " + text[:80]}
        yield host, ans
ok = full = 0
others = collections.Counter()
for host, a in answers(f"{sk}.{tag}.*"):
    if a.get("Address"):
        ok += 1
    elif "no free address" in a.get("Err", ""):
        full += 1
    else:
        others[a.get("Err", str(a))[:120]] += 1
if ok != int(ok_n) or full != int(full_n) or others:
    bad.append(f"{tag}: {ok} addresses (want {ok_n}), {full} 'no free address' (want {full_n}), others: {dict(others)}")
given = collections.Counter()
by_host = {}
for host, a in answers(f"{sk}.*.*.*"):
    if not a.get("Address"):
        continue
    text, _, plen = a["Address"].partition("/")
    ip = ipaddress.ip_address(text)
    if plen != str(net.prefixlen) or ip not in net or ip == net.network_address:
        bad.append(f"{a['Address']} (to {host}) is not a host address of {pool}")
    given[ip] += 1
    by_host[ip] = host
dups = [str(ip) for ip, n in given.items() if n > 1]
if dups:
    bad.append(f"{len(dups)} addresses given more than once, e.g. {dups[:5]}")
lines = open(os.path.join(d, "etcd." + sk)).read().splitlines()
keys = collections.Counter()
record_hosts = collections.defaultdict(set)
for key, value in zip(lines[0::2], lines[1::2]):
    leaf = key.rsplit("/", 1)[-1]
    if leaf == "pool":
        continue
    ip = ipaddress.ip_address(leaf.replace("-", ":"))
    keys[ip] += 1
    rec = json.loads(value)
    if rec.get("kind") != "endpoint":
        bad.append(f"{key} is a {rec.get('kind')} record")
    record_hosts[by_host.get(ip)].add(rec.get("host"))
if len(lines) % 2 or set(keys) != set(given) or sum(keys.values()) != len(keys):
    bad.append(f"etcd holds {sum(keys.values())} keys ({len(keys)} addresses) for {len(given)} given; "
               f"not given: {[str(k) for k in set(keys) - set(given)][:5]}, "
               f"missing: {[str(k) for k in set(given) - set(keys)][:5]}")
owners = [next(iter(s)) for h, s in record_hosts.items() if len(s) == 1]
if any(len(s) != 1 for s in record_hosts.values()) or len(set(owners)) != len(record_hosts):
    bad.append(f"records do not name one host per host that got them: "
               f"{ {h: sorted(map(str, s)) for h, s in record_hosts.items()} }")
for b in bad:
    print("     " + b, file=sys.stderr)
sys.exit(1 if bad else 0)
EOF
}

t=$(bulk6 "$POOL64" burst "$REQUESTS_N")
check6 "$POOL64" burst $((HOSTS_N * REQUESTS_N)) 0
echo "ok   $HOSTS_N hosts x $REQUESTS_N concurrent RequestAddress in $POOL64: all distinct, one etcd key each ($t ms)"

t=$(bulk6 "$POOL120" burst "$REQUESTS6_SMALL_N")
check6 "$POOL120" burst "$small_total" 0
echo "ok   $HOSTS_N hosts x $REQUESTS6_SMALL_N concurrent RequestAddress in $POOL120: $small_total of 255, all distinct ($t ms)"

free=$((255 - small_total))
over=$((HOSTS_N * OVERFLOW_N))
if [ "$over" -le "$free" ]; then # HOSTS_N or REQUESTS6_SMALL_N changed: still overflow
    OVERFLOW_N=$((free / HOSTS_N + 1))
    over=$((HOSTS_N * OVERFLOW_N))
fi
t=$(burst6 "$POOL120" over "$OVERFLOW_N")
check6 "$POOL120" over "$free" $((over - free))
echo "ok   $over concurrent requests for the last $free addresses of $POOL120: $free given, $((over - free)) refused with 'no free address' ($t ms)"

# The full pool refuses at once: a listing, not hundreds of probes (ipam6.c).
worst=0
for h in "${hosts[@]}"; do
    t0=$(now_ms)
    ! sim_plugin_call "$h" IpamDriver.RequestAddress "{\"PoolID\":\"$POOL120\",\"Address\":\"\",\"Options\":null}" \
        >"$dir6/$(subnet_key "$POOL120").full.$h.1" 2>&1 || fail "$h got an address from the full $POOL120"
    t=$(($(now_ms) - t0))
    [ "$t" -le "$worst" ] || worst=$t
done
check6 "$POOL120" full 0 "$HOSTS_N"
[ "$worst" -le "$FULL_REFUSAL_MAX_MS" ] || fail "a request to the full $POOL120 took $worst ms to be refused (at most $FULL_REFUSAL_MAX_MS)"
echo "ok   the full $POOL120 refuses cleanly: $(sim_json_str Err <"$dir6/$(subnet_key "$POOL120").full.h1.1") (slowest of $HOSTS_N: $worst ms)"

# Every host releases, all at once, what it got in the /120 and one address of the /64
# (releasing all 800 of those one by one cost ~30 s of the suite and shows nothing the
# /120's 255 do not); then the /120 must be empty, and the /64 hold exactly the rest.
sk64=$(subnet_key "$POOL64")
sk120=$(subnet_key "$POOL120")
declare -A released64
n120=0
for h in "${hosts[@]}"; do
    released64[$h]=$(head -n 1 "$dir6/$sk64.burst.$h.list")
    released64[$h]=${released64[$h]%/*}
    echo "${released64[$h]}" >"$dir6/$h.rel64"
    { cat "$dir6/$sk120.burst.$h.list"; cat "$dir6/$sk120".over."$h".[0-9]* |
        grep -o '"Address" *: *"[^"]*"' | sed 's/.*: *"\(.*\)"$/\1/'; } >"$dir6/$h.rel120" || true
    n120=$((n120 + $(grep -c . "$dir6/$h.rel120" || true)))
done
[ "$n120" = 255 ] || fail "$n120 addresses of $POOL120 to release, not 255"
t0=$(now_ms)
pids=()
for h in "${hosts[@]}"; do
    "$bench" release "$(sock "$h")" "$POOL120" "$dir6/$h.rel120" 40 >"$dir6/$h.rel120.out" 2>&1 &
    pids+=($!)
    "$bench" release "$(sock "$h")" "$POOL64" "$dir6/$h.rel64" 1 >"$dir6/$h.rel64.out" 2>&1 &
    pids+=($!)
done
wait "${pids[@]}" || true
t=$(($(now_ms) - t0))
failed=$(cat "$dir6"/*.rel*.out | grep -c -v '"failed":0}' || true)
[ "$failed" = 0 ] || { cat "$dir6"/*.rel*.out >&2; fail "IPv6 ReleaseAddress failed (above)"; }
left120=$(sim_etcdctl get --prefix --keys-only "/weft/v1/addrs/$(subnet_key "$POOL120")/" | grep -v '/pool$' | grep -c . || true)
[ "$left120" = 0 ] || fail "after releasing all, $POOL120 still holds $left120 addresses"
left64=$(sim_etcdctl get --prefix --keys-only "/weft/v1/addrs/$sk64/" | grep -v '/pool$' | grep -c . || true)
[ "$left64" = $((HOSTS_N * REQUESTS_N - HOSTS_N)) ] ||
    fail "$POOL64 holds $left64 addresses after $HOSTS_N releases, want $((HOSTS_N * REQUESTS_N - HOSTS_N))"
for h in "${hosts[@]}"; do
    [ -z "$(sim_etcdctl get --keys-only "/weft/v1/addrs/$sk64/${released64[$h]//:/-}")" ] ||
        fail "$h's released ${released64[$h]} is still allocated"
done
echo "ok   $((n120 + HOSTS_N)) IPv6 addresses released at once ($t ms): $POOL120 empty, $POOL64 holds the other $left64"
echo "PASS concurrency"
