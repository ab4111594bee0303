#!/usr/bin/env bash
# bench/idle_cost.sh: what an idle cluster of IDLE_HOSTS hosts costs etcd, from what
# each idle request costs it (issue 18: idle with 1,000 hosts, etcd <= 5 % of a core).
# An idle daemon sends etcd three kinds of request, all through the JSON gateway:
#   keepalive  its lease, every TTL/3 (IDLE_TTL, 15 s: the daemon's default);
#   role ask   create-if-absent of roles/reaper on its lease, every reaper interval
#              (--reclaim-after / 4: IDLE_RECLAIM_AFTER, 600 s), a no-op for all but
#              the holder (fabric/reaper_role.c);
#   reaper     the holder's pass: every record under hosts/ and addrs/.
# One etcd 3.4 on loopback holds the records of IDLE_HOSTS hosts with IDLE_EPS
# endpoints each (an alive key, a network and IDLE_EPS endpoint records per host, an
# address record per endpoint, as the daemons write them). Each kind of request is
# sent many times on one kept-alive connection and etcd's CPU (utime + stime from
# /proc/<pid>/stat) divided by the count; the table then multiplies by the rates at
# IDLE_HOSTS hosts, with every host reaping (weft before roles/reaper) and with one.
# Keepalives are also measured on held gRPC streams (etcd's LeaseKeepAlive, as etcdctl
# and every gRPC client keep a lease): IDLE_GRPC_STREAMS (100) `etcdctl lease keep-alive`
# processes, each its own lease, for IDLE_GRPC_S (15) seconds with a 6 s TTL (one
# keepalive each 2 s) and again with a 600 s TTL (streams held, next to no keepalive):
# the difference in etcd's CPU over the keepalives answered.
# With several members each daemon also probes every member with a TCP handshake
# (store/etcd_health.c): IDLE_PROBE_RATE (1000) handshakes a second for IDLE_PROBE_S (5)
# seconds, connected and reset as the prober does, etcd's CPU over the count; and the
# count of etcd's leases (IDLE_HOSTS of them) each daemon asks at the reaper's pace; the table
# carries it to IDLE_HOSTS hosts at the prober's fixed 200 ms (before) and at its pace
# from the cluster's size (store/etcd_pacing.h: now).
# A model from measured parts, not a run of IDLE_HOSTS daemons: that is
# bench/scale_curve.sh's idle figure (docs/scale.md). A benchmark: prints a table,
# fails on nothing but a run that did not complete.
set -euo pipefail
cd "$(dirname "$0")/.."

IDLE_HOSTS=${IDLE_HOSTS:-1000} IDLE_EPS=${IDLE_EPS:-2} IDLE_TTL=${IDLE_TTL:-15}
IDLE_RECLAIM_AFTER=${IDLE_RECLAIM_AFTER:-600}
IDLE_GRPC_STREAMS=${IDLE_GRPC_STREAMS:-100} IDLE_GRPC_S=${IDLE_GRPC_S:-15}
IDLE_PROBE_RATE=${IDLE_PROBE_RATE:-1000} IDLE_PROBE_S=${IDLE_PROBE_S:-5}
for t in etcd etcdctl curl python3 ss; do
    command -v "$t" >/dev/null || { echo "idle_cost: $t is missing" >&2; exit 2; }
done
WORK=$(mktemp -d "$PWD/build/idle_cost.XXXXXX")
ETCD_PID='' KEEPERS=()
stop_keepers() {
    local p
    for p in "${KEEPERS[@]}"; do kill "$p" 2>/dev/null || true; done
    for p in "${KEEPERS[@]}"; do wait "$p" 2>/dev/null || true; done
    KEEPERS=()
}
cleanup() {
    stop_keepers
    [ -z "$ETCD_PID" ] || { kill "$ETCD_PID" 2>/dev/null || true; wait "$ETCD_PID" 2>/dev/null || true; }
    ETCD_PID=''
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'cleanup; exit 130' INT
trap 'cleanup; exit 143' TERM

. bench/free_port.sh
CPORT=$(free_port) PPORT=$(free_port "$CPORT")
EP=127.0.0.1:$CPORT
etcd --name idle --data-dir "$WORK/data" \
    --listen-client-urls "http://$EP" --advertise-client-urls "http://$EP" \
    --listen-peer-urls "http://127.0.0.1:$PPORT" --initial-advertise-peer-urls "http://127.0.0.1:$PPORT" \
    --initial-cluster "idle=http://127.0.0.1:$PPORT" >"$WORK/etcd.log" 2>&1 &
ETCD_PID=$!
for _ in $(seq 100); do curl -fsS -m 1 "http://$EP/health" >/dev/null 2>&1 && break; sleep 0.1; done
etcd_ticks() { awk '{print $14 + $15}' "/proc/$ETCD_PID/stat"; }
keepalive_lines() { cat "$WORK"/keeper.* | grep -c keepalived || true; }
# keepers TTL: etcd's CPU ticks and the keepalives answered over IDLE_GRPC_S seconds.
keepers() {
    local i id t0 k0
    rm -f "$WORK"/keeper.*
    for i in $(seq "$IDLE_GRPC_STREAMS"); do
        id=$(ETCDCTL_API=3 etcdctl --endpoints "$EP" lease grant "$1" | awk '{print $2}')
        ETCDCTL_API=3 etcdctl --endpoints "$EP" lease keep-alive "$id" >"$WORK/keeper.$i" 2>&1 &
        KEEPERS+=($!)
    done
    sleep 3 # every stream open
    t0=$(etcd_ticks) k0=$(keepalive_lines)
    sleep "$IDLE_GRPC_S"
    echo "$(($(etcd_ticks) - t0)) $(($(keepalive_lines) - k0))"
    stop_keepers
}
read -r busy_ticks busy_keepalives < <(keepers 6)
read -r held_ticks _ < <(keepers 600)
GRPC_KEEPALIVE_S=$(python3 -c "import os,sys; b,n,h=map(int,sys.argv[1:]); print(max(0,b-h)/os.sysconf('SC_CLK_TCK')/max(1,n))" \
    "$busy_ticks" "$busy_keepalives" "$held_ticks")

python3 - "$CPORT" "$ETCD_PID" "$IDLE_HOSTS" "$IDLE_EPS" "$IDLE_TTL" "$IDLE_RECLAIM_AFTER" \
    "$GRPC_KEEPALIVE_S" "$busy_keepalives" "$IDLE_PROBE_RATE" "$IDLE_PROBE_S" <<'PY'
import base64, http.client, json, os, socket, struct, sys, time

port, pid, hosts, eps, ttl, reclaim = (int(a) for a in sys.argv[1:7])
grpc_keepalive, grpc_count = float(sys.argv[7]), int(sys.argv[8])
probe_rate, probe_s = int(sys.argv[9]), float(sys.argv[10])
hz = os.sysconf("SC_CLK_TCK")
b64 = lambda b: base64.b64encode(b).decode()

def cpu():
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / hz

for _ in range(100):
    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        conn.request("GET", "/health"); conn.getresponse().read(); break
    except OSError:
        time.sleep(0.1)
else:
    sys.exit("idle_cost: etcd did not start")

def post(path, body):
    conn.request("POST", path, json.dumps(body))
    answer = conn.getresponse().read()
    return json.loads(answer)

def put(key, value, lease=0):
    body = {"key": b64(key.encode()), "value": b64(json.dumps(value).encode())}
    if lease:
        body["lease"] = lease
    post("/v3/kv/put", body)

def prefix_range(prefix):
    k = prefix.encode()
    return {"key": b64(k), "range_end": b64(k[:-1] + bytes([k[-1] + 1]))}

# The records of an idle cluster, as the daemons write them.
root = "/weft/v1/"
for i in range(hosts):
    host = f"192.168.{78 + i // 250}.{i % 250 + 1}"
    nid = f"{i:064x}"
    put(f"{root}hosts/{host}/alive", {"vtep": host})
    put(f"{root}hosts/{host}/networks/{nid}",
        {"network_id": nid, "subnet": "10.1.0.0/16", "vni": 4097, "mtu": 1450})
    for e in range(eps):
        ip = f"10.1.{(i * eps + e) // 250}.{(i * eps + e) % 250 + 2}"
        eid = f"{i:032x}{e:032x}"
        put(f"{root}hosts/{host}/endpoints/{eid}",
            {"endpoint_id": eid, "network_id": nid, "ip": ip, "mac": "02:42:0a:01:00:02"})
        put(f"{root}addrs/10.1.0.0_16/{ip}",
            {"host": host, "kind": "endpoint", "claim": "0123456789abcdef0123456789abcdef"})
lease = int(post("/v3/lease/grant", {"TTL": 600})["ID"])
other = int(post("/v3/lease/grant", {"TTL": 600})["ID"])
role = root + "roles/reaper"
put(role, {"vtep": "192.168.78.1"}, other)  # held by another host

def measure(fn, count):
    time.sleep(1)  # etcd settles after the previous figure
    c0 = cpu()
    for _ in range(count):
        fn()
    return (cpu() - c0) / count

keepalive = measure(lambda: post("/v3/lease/keepalive", {"ID": lease}), 2000)
ask_body = {
    "compare": [{"key": b64(role.encode()), "target": "CREATE", "create_revision": 0}],
    "success": [{"request_put": {"key": b64(role.encode()), "value": b64(b'{"vtep":"x"}'),
                                 "lease": lease}}],
    "failure": [{"request_range": {"key": b64(role.encode())}}],
}
ask = measure(lambda: post("/v3/kv/txn", ask_body), 2000)
passes = max(20, 40000 // (hosts * (2 * eps + 2)))
reap = measure(lambda: (post("/v3/kv/range", prefix_range(root + "hosts/")),
                        post("/v3/kv/range", prefix_range(root + "addrs/"))), passes)

def handshakes():
    """The member prober's probe: a connection reset as soon as it is made."""
    time.sleep(1)
    linger, n = struct.pack("ii", 1, 0), 0
    c0, t0 = cpu(), time.time()
    while time.time() - t0 < probe_s:
        s = socket.create_connection(("127.0.0.1", port))
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, linger)
        s.close()
        n += 1
        wait = t0 + n / probe_rate - time.time()
        if wait > 0:
            time.sleep(wait)
    return (cpu() - c0) / n

handshake = handshakes()
# Every daemon counts the cluster (etcd's leases, one each) at the reaper's pace.
for _ in range(hosts - 2):
    post("/v3/lease/grant", {"TTL": 600})
lease_count = measure(lambda: post("/v3/lease/leases", {}), 200)
# store/etcd_pacing.c: all hosts together send a member at most 100 a second, a host at
# least one each 10 s, at most one each 200 ms.
probe_round = min(10.0, max(0.2, hosts / 100))

reap_every = max(1, reclaim // 4)
keep_pct = hosts / max(1, ttl // 3) * keepalive * 100
ask_pct = hosts / reap_every * ask * 100
all_reap_pct = hosts / reap_every * reap * 100
one_reap_pct = 1 / reap_every * reap * 100
print(f"idle_cost: etcd CPU per request (ms), {hosts} hosts x {eps} endpoints of records")
print(f"  lease keepalive (gateway)                       {keepalive * 1000:8.3f}")
print(f"  lease keepalive (held gRPC stream, {grpc_count} in all)  {grpc_keepalive * 1000:8.3f}")
print(f"  roles/reaper ask, held elsewhere (txn)          {ask * 1000:8.3f}")
print(f"  reaper pass (hosts/ and addrs/, {passes} passes)     {reap * 1000:8.3f}")
print(f"idle etcd at {hosts} hosts, TTL {ttl} s, --reclaim-after {reclaim} s (% of a core)")
print(f"  keepalives ({hosts / max(1, ttl // 3):.0f}/s)                          {keep_pct:8.2f}")
print(f"  every host reaps ({hosts / reap_every:.1f} passes/s): before          {all_reap_pct:8.2f}")
print(f"  one host reaps, every host asks: now            {one_reap_pct + ask_pct:8.2f}")
print(f"  total before / now                     {keep_pct + all_reap_pct:8.2f} / {keep_pct + one_reap_pct + ask_pct:.2f}")
print(f"lease count, {hosts} leases (ms of etcd CPU each)       {lease_count * 1000:8.3f}")
count_every = max(reap_every, hosts)  # store/etcd_pacing.c: at most one count a second in all
print(f"  every host counts each {count_every} s: now            {hosts / count_every * lease_count * 100:8.2f}")
print(f"member prober handshake, {probe_rate}/s (ms of etcd CPU each)  {handshake * 1000:8.3f}")
print(f"  each member at {hosts} hosts, rounds of 200 ms: before ({hosts * 5}/s)  {hosts * 5 * handshake * 100:8.2f}")
print(f"  rounds paced to the cluster ({probe_round:.1f} s): now ({hosts / probe_round:.0f}/s)  {hosts / probe_round * handshake * 100:8.2f}")
PY
