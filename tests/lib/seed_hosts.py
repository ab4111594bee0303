#!/usr/bin/env python3
"""seed_hosts.py: other hosts of one overlay, as records in the store, without their daemons.

Usage: seed_hosts.py ETCD_HOSTPORT SUBNET HOSTS ENDPOINTS [TTL]

Reads the overlay's record (a real host made it), then writes, through etcd's JSON
gateway (plain HTTP) on one kept-alive connection, what HOSTS member hosts' daemons would
have written for the overlay SUBNET (IPv4) with ENDPOINTS endpoints each: per host a lease
(TTL s, 3600 by default: nothing keeps it alive), and on it hosts/<vtep>/alive,
joined/<sk>/<vtep> and fabric/<vtep>/<sk>/member; per endpoint the address claim
addrs/<sk>/<ip>, the peer fabric/<vtep>/<sk>/peers/<ip> and the records
hosts/<vtep>/networks/<nid> and hosts/<vtep>/endpoints/<eid>. One transaction per host.
VTEPs are 192.168.<100 + i / 250>.<i % 250 + 1>; endpoint addresses count down from the
subnet's top, past those claimed already; MACs are 02:5e:<i>:<e>. Layout: docs/design.md,
"Key layout" (store/keys.c and store/records.c are what weft writes; a record these get
wrong is refused by the daemon's checks, fabric/record_check.h, and the test waiting for
its entries fails).

Prints the seeded peers' count. A test tool: the daemon under test is the only real host.
"""
import base64
import http.client
import ipaddress
import json
import sys

ROOT = "/weft/v1/"


def b64(text):
    return base64.b64encode(text.encode()).decode()


def main():
    if len(sys.argv) not in (5, 6):
        sys.exit(__doc__.split("\n\n")[1])
    hostport, subnet_text = sys.argv[1], sys.argv[2]
    hosts, endpoints = int(sys.argv[3]), int(sys.argv[4])
    ttl = int(sys.argv[5]) if len(sys.argv) == 6 else 3600
    subnet = ipaddress.IPv4Network(subnet_text)
    if hosts < 1 or hosts > 25000 or endpoints < 1 or hosts * endpoints > subnet.num_addresses // 2:
        sys.exit(f"seed_hosts: {hosts} x {endpoints} endpoints do not fit the top half of {subnet}")
    sk = str(subnet).replace("/", "_")
    host, port = hostport.rsplit(":", 1)
    conn = http.client.HTTPConnection(host, int(port), timeout=30)

    def post(path, body):
        conn.request("POST", path, json.dumps(body))
        answer = conn.getresponse()
        text = answer.read()
        if answer.status != 200:
            sys.exit(f"seed_hosts: {path} answered {answer.status}: {text[:200]!r}")
        return json.loads(text)

    # The overlay's record, which the real host wrote when it created the network.
    found = post("/v3/kv/range", {"key": b64(f"{ROOT}overlays/{sk}")}).get("kvs", [])
    if not found:
        sys.exit(f"seed_hosts: no overlay {subnet} in the store: create it on a real host first")
    overlay = json.loads(base64.b64decode(found[0]["value"]))
    # Addresses claimed already (the real host's gateway and endpoints) are skipped.
    prefix = f"{ROOT}addrs/{sk}/"
    end = prefix[:-1] + chr(ord(prefix[-1]) + 1)
    claimed = {base64.b64decode(kv["key"]).decode()[len(prefix):]
               for kv in post("/v3/kv/range", {"key": b64(prefix), "range_end": b64(end),
                                               "keys_only": True}).get("kvs", [])}
    free = (str(a) for a in reversed(list(subnet.hosts())) if str(a) not in claimed)
    for i in range(hosts):
        vtep = f"192.168.{100 + i // 250}.{i % 250 + 1}"
        lease = post("/v3/lease/grant", {"TTL": ttl})["ID"]
        nid = f"{i:064x}"
        puts = [
            (f"hosts/{vtep}/alive", {"vtep": vtep}, lease),
            (f"joined/{sk}/{vtep}", {"vtep": vtep}, lease),
            (f"fabric/{vtep}/{sk}/member", {"vtep": vtep}, lease),
            (f"hosts/{vtep}/networks/{nid}",
             {"network_id": nid, "subnet": str(subnet), "vni": overlay["vni"],
              "mtu": overlay.get("mtu", 1450)}, None),
        ]
        for e in range(endpoints):
            ip = next(free)
            mac = f"02:5e:{i >> 8 & 0xff:02x}:{i & 0xff:02x}:{e >> 8 & 0xff:02x}:{e & 0xff:02x}"
            eid = f"{i:032x}{e:032x}"
            puts += [
                (f"addrs/{sk}/{ip}", {"host": vtep, "kind": "endpoint"}, None),
                (f"fabric/{vtep}/{sk}/peers/{ip}", {"ip": ip, "mac": mac, "vtep": vtep}, lease),
                (f"hosts/{vtep}/endpoints/{eid}",
                 {"endpoint_id": eid, "network_id": nid, "ip": f"{ip}/{subnet.prefixlen}",
                  "mac": mac}, None),
            ]
        ops = []
        for key, value, on_lease in puts:
            put = {"key": b64(ROOT + key), "value": b64(json.dumps(value, separators=(",", ":")))}
            if on_lease is not None:
                put["lease"] = on_lease
            ops.append({"request_put": put})
        post("/v3/kv/txn", {"success": ops})
    print(hosts * endpoints)


if __name__ == "__main__":
    main()
