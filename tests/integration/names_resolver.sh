#!/usr/bin/env bash
# names_resolver.sh: weft's resolver on each overlay's gateway address (issue 10),
# without Docker: the plugin protocol by hand, "containers" are namespaces, and the
# names a remote host would publish are written to the store as that host (C, no
# daemon: its member and peer records under its own prefix). Daemons under
# ASan/UBSan. Proves:
#  - each host answers the overlay's gateway address itself (cA and cB ping it);
#  - a name published on another host resolves from A and from B (A record), its
#    address resolves back to the name (PTR), names are matched case-insensitively,
#    several endpoints with one alias all answer; a removed peer's name is gone;
#  - a name of another overlay does not resolve; a name outside the overlays is
#    forwarded to the hosts' resolver (a dnsmasq inside the simulation); a malformed
#    message gets no answer and is counted, a source outside the overlay no answer;
#  - over TCP (RFC 7766): 40 addresses of one alias whole (UDP truncates them, TC set),
#    a relayed name, two queries on one connection; a relayed name whose answer UDP
#    cuts comes whole over TCP (weft asks the hosts' resolver over TCP too);
#  - a name no resolver answers gets SERVFAIL: after 1.5 s from a silent resolver, at
#    once when the hosts have none; a resolver that refuses TCP is asked over UDP, one
#    the host cannot reach is passed over at once;
#    /metrics counts answered, forwarded and failed;
#  - isolation: from overlay X (its default route through the gateway, as Docker
#    sets it) no address of overlay Y answers, neither Y's resolver on the same host,
#    nor a container of Y, nor the host's own addresses;
#  - deleting a network takes its port away; a restarted daemon makes it again.
set -euo pipefail
. "$(dirname "$0")/../lib/sim.sh"
. "$(dirname "$0")/../lib/plugin.sh"

export WEFT_BIN=${WEFT_BIN:-build/weft-san}
SUBNET=10.77.0.0/24
HOSTS=(A B)
declare -A HADDR=([A]=192.168.77.1 [B]=192.168.77.2 [C]=192.168.77.3)
declare -A POOL NID GW EID IP MAC SRC
C_FABRIC=/weft/v1/fabric/${HADDR[C]}
put() { printf '%s' "$2" | sim_etcdctl put "$1" >/dev/null; }
# C publishes an endpoint of overlay SK with names: what its daemon would write.
c_peer() { # SK IP MAC NAMES (C joined SK, as its daemon would write it)
    put "/weft/v1/joined/$1/${HADDR[C]}" "{\"vtep\":\"${HADDR[C]}\"}"
    put "$C_FABRIC/$1/member" "{\"vtep\":\"${HADDR[C]}\"}"
    put "$C_FABRIC/$1/peers/$2" "{\"ip\":\"$2\",\"mac\":\"$3\",\"names\":\"$4\",\"vtep\":\"${HADDR[C]}\"}"
}
lookup() { sim_ns_exec "$1" busybox nslookup "$2" "$3" 2>&1 || true; } # CONTAINER NAME SERVER
resolves() { # CONTAINER NAME SERVER ADDR
    local out
    out=$(lookup "$1" "$2" "$3")
    grep -E "^Address: $4\$" <<<"$out" >/dev/null
}
unresolved() { ! grep -E '^Address: [0-9.]+$' <<<"$(lookup "$1" "$2" "$3")" >/dev/null; }
sanitizer_clean() {
    ! grep -qE 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error' "$SIM_DIR/$1/weft.log"
}

sim_init
sim_switch
for h in "${HOSTS[@]}"; do sim_host "$h" "${HADDR[$h]}"; done
sim_etcd
sim_dns
for h in "${HOSTS[@]}"; do sim_weft "$h" --metrics 127.0.0.1:9776; done
for h in "${HOSTS[@]}"; do create_network "$h"; done
for h in "${HOSTS[@]}"; do create_endpoint "$h"; done
GWIP=${GW[A]%/*}
for h in "${HOSTS[@]}"; do
    sim_ns_exec "c$h" ip route add default via "$GWIP" # as Docker does
    wait_for 5 sim_ns_exec "c$h" ping -c 1 -W 1 "$GWIP" >/dev/null || fail "c$h cannot reach its gateway $GWIP"
done
echo "ok   each host answers the gateway $GWIP"

# ---- names from another host ----
# C's two addresses: none the endpoints hold (theirs are random, and an address held here
# first would win over C's claim of it).
G=()
for i in $(seq 77 127); do
    [ "10.77.0.$i" = "${IP[A]%/*}" ] || [ "10.77.0.$i" = "${IP[B]%/*}" ] || G+=("10.77.0.$i")
done
G1=${G[0]} G2=${G[1]}
c_peer 10.77.0.0_24 "$G1" 02:42:0a:4d:00:4d "ghost api"
c_peer 10.77.0.0_24 "$G2" 02:42:0a:4d:00:4e "ghost2 api"
for h in "${HOSTS[@]}"; do
    wait_for 5 resolves "c$h" ghost "$GWIP" "$G1" || fail "c$h does not resolve ghost: $(lookup "c$h" ghost "$GWIP")"
done
check "names are case-insensitive" resolves cA GHOST "$GWIP" "$G1"
out=$(lookup cA api "$GWIP")
grep -E "^Address: $G1\$" <<<"$out" >/dev/null && grep -E "^Address: $G2\$" <<<"$out" >/dev/null ||
    fail "alias api does not give both addresses: $out"
out=$(sim_ns_exec cB busybox nslookup "$G1" "$GWIP" 2>&1 || true)
grep -F "name = ghost" <<<"$out" >/dev/null || fail "PTR of $G1: $out"
echo "ok   names of another host resolve from A and B: A, several for one alias, PTR"

# ---- scope: another overlay's names; the rest forwarded ----
c_peer 10.88.0.0_24 10.88.0.9 02:42:0a:58:00:09 yonly
sleep 1 # C's Y record is in the store and the watch
check "a name of overlay Y does not resolve on X" unresolved cA yonly "$GWIP"
check "www.example.test goes to the hosts' resolver" resolves cA www.example.test "$GWIP" "$SIM_DNS_ANSWER"
grep -F "www.example.test" "$SIM_DIR/dns/dnsmasq.log" >/dev/null || fail "the test resolver never saw the query"
echo "ok   names of another overlay stay there; other names are forwarded"

# ---- DNS over TCP: what a truncated UDP answer sends clients to ----
# dns_ask PROTO NAME: "RCODE TC ANSWERS ADDRESS..." (addresses sorted) of an A query for
# NAME from cA to X's resolver, over udp, tcp, or tcp2 (two queries in one write on one
# connection: two lines); udp-ms: "RCODE MS", the milliseconds the answer took ("none
# 4000" when none came in 4 s); tcp-ms: tcp's line and the milliseconds.
dns_ask() {
    sim_ns_exec cA python3 -c 'import socket, struct, sys, time
def query(name, qid):
    labels = b"".join(bytes([len(l)]) + l.encode() for l in name.split(".")) + b"\0"
    return struct.pack(">HHHHHH", qid, 0x0100, 1, 0, 0, 0) + labels + struct.pack(">HH", 1, 1)
def parse(a):
    i, addrs = 12, []
    while a[i] != 0:
        i += a[i] + 1
    i += 5
    for _ in range(struct.unpack(">H", a[6:8])[0]):
        i += 2  # the owner: a pointer to the question
        rtype, _, _, rdlen = struct.unpack(">HHIH", a[i:i + 10])
        i += 10
        if rtype == 1:
            addrs.append(socket.inet_ntoa(a[i:i + 4]))
        i += rdlen
    key = lambda x: tuple(int(p) for p in x.split("."))
    return " ".join([str(a[3] & 15), str(a[2] >> 1 & 1), str(struct.unpack(">H", a[6:8])[0])] + sorted(addrs, key=key))
server, proto, name = sys.argv[1:4]
if proto == "udp-ms":
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(4)
    start = time.monotonic()
    s.sendto(query(name, 7), (server, 53))
    try:
        a = s.recv(4096)
        print(a[3] & 15, int((time.monotonic() - start) * 1000))
    except socket.timeout:
        print("none", 4000)
elif proto == "tcp-ms":
    start = time.monotonic()
    s = socket.create_connection((server, 53), timeout=4)
    s.sendall(struct.pack(">H", len(query(name, 7))) + query(name, 7))
    f = s.makefile("rb")
    a = f.read(struct.unpack(">H", f.read(2))[0])
    print(parse(a), int((time.monotonic() - start) * 1000))
elif proto == "udp":
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(4)
    s.sendto(query(name, 7), (server, 53))
    print(parse(s.recv(4096)))
else:
    n = 2 if proto == "tcp2" else 1
    s = socket.create_connection((server, 53), timeout=4)
    s.sendall(b"".join(struct.pack(">H", len(m)) + m for m in [query(name, 7 + k) for k in range(n)]))
    f = s.makefile("rb")
    for _ in range(n):
        print(parse(f.read(struct.unpack(">H", f.read(2))[0])))' "$GWIP" "$1" "$2"
}
# 40 of C's endpoints share the alias crowd: 656 bytes of answers, more than UDP's 512.
crowd=("${G[@]:2:40}")
for i in "${!crowd[@]}"; do
    put "$C_FABRIC/10.77.0.0_24/peers/${crowd[$i]}" "{\"ip\":\"${crowd[$i]}\",\"mac\":\"02:42:0a:4d:01:$(printf %02x "$i")\",\"names\":\"crowd\",\"vtep\":\"${HADDR[C]}\"}"
done
crowd_whole="0 0 40 ${crowd[*]}"
crowd_over_tcp() { [ "$(dns_ask tcp crowd)" = "$crowd_whole" ]; }
wait_for 10 crowd_over_tcp || fail "crowd over TCP: '$(dns_ask tcp crowd)', expected '$crowd_whole'"
read -r rcode tc answers _ <<<"$(dns_ask udp crowd)"
[ "$rcode $tc" = "0 1" ] && [ "$answers" -gt 20 ] && [ "$answers" -lt 40 ] ||
    fail "crowd over UDP: rcode $rcode, TC $tc, $answers answers (expected TC and fewer than 40)"
echo "ok   40 addresses of one alias: over UDP $answers and TC, over TCP all 40"
# glibc's resolver as a container's would use it: it gets the truncated answer over
# UDP and asks again over TCP (getent in cA's namespace, with a resolv.conf naming the
# gateway bound over /etc/resolv.conf in a mount namespace of its own).
echo "nameserver $GWIP" >"$SIM_DIR/glibc-resolv.conf"
glibc_count() { # NAME: how many addresses glibc's getent ahostsv4 finds in cA
    sim_ns_exec cA unshare -m --propagation private sh -c \
        "mount --bind '$SIM_DIR/glibc-resolv.conf' /etc/resolv.conf && getent ahostsv4 $1" |
        awk '{print $1}' | sort -u | wc -l
}
count=$(glibc_count crowd) || true # getent finding nothing: the count says it
[ "$count" = 40 ] || fail "glibc's getent ahostsv4 crowd gave $count addresses, not 40"
echo "ok   glibc's getaddrinfo gets all 40 (UDP truncated, then TCP)"
[ "$(dns_ask tcp www.example.test)" = "0 0 1 $SIM_DNS_ANSWER" ] ||
    fail "www.example.test over TCP (relayed): '$(dns_ask tcp www.example.test)'"
# A relayed name whose answer UDP cuts (the test resolver's 40 addresses of
# many.example.test): the client comes back over TCP, and weft asks the hosts'
# resolver over TCP too; asked over UDP it would only get the cut answer again.
read -r rcode tc answers _ <<<"$(dns_ask udp many.example.test)"
[ "$rcode $tc" = "0 1" ] && [ "$answers" -lt 40 ] ||
    fail "many.example.test over UDP: rcode $rcode, TC $tc, $answers answers (expected TC and fewer than 40)"
many_whole="0 0 40 ${SIM_DNS_MANY% }"
[ "$(dns_ask tcp many.example.test)" = "$many_whole" ] ||
    fail "many.example.test over TCP: '$(dns_ask tcp many.example.test)', expected '$many_whole'"
count=$(glibc_count many.example.test) || true
[ "$count" = 40 ] || fail "glibc's getent ahostsv4 many.example.test gave $count addresses, not 40"
echo "ok   a relayed answer UDP cuts ($answers of 40 and TC): over TCP all 40, relayed over TCP; glibc gets all 40"
two=$(dns_ask tcp2 ghost | tr '\n' ';')
[ "$two" = "0 0 1 $G1;0 0 1 $G1;" ] || fail "two queries on one connection: '$two'"
echo "ok   over TCP: a relayed name, and two queries on one connection"
# A length of 0 is no question: the connection is closed (EOF, not a wait).
closed=$(sim_ns_exec cA python3 -c 'import socket, sys
s = socket.create_connection((sys.argv[1], 53), timeout=4)
s.sendall(b"\0\0")
print("closed" if s.recv(512) == b"" else "answered")' "$GWIP" 2>&1) || true
[ "$closed" = closed ] || fail "a zero-length frame over TCP: $closed"
echo "ok   a broken frame over TCP closes the connection"
for ip in "${crowd[@]}"; do sim_etcdctl del "$C_FABRIC/10.77.0.0_24/peers/$ip" >/dev/null; done

# ---- no resolver answers: SERVFAIL, not the client's own timeout ----
rcode_is() { read -r got_rcode got_ms <<<"$(dns_ask udp-ms "$1")"; [ "$got_rcode" = "$2" ]; } # NAME RCODE
# A resolver that stays silent (an address on the switch that nobody holds): weft waits
# its 1.5 s for it, then answers SERVFAIL (2), before busybox's 2.5 s or glibc's 5 s.
echo "nameserver 192.168.77.252" >"$SIM_DIR/resolv.conf"
wait_for 5 rcode_is silent-one.example.test 2 || fail "no SERVFAIL with a silent resolver: $got_rcode after $got_ms ms"
[ "$got_ms" -ge 1400 ] && [ "$got_ms" -lt 3500 ] || fail "SERVFAIL with a silent resolver after $got_ms ms (1,500 expected)"
echo "ok   a silent resolver: SERVFAIL after $got_ms ms"
# No resolver at all: SERVFAIL at once (once weft has read the file again: each second;
# until then the silent one is asked, 1.5 s).
: >"$SIM_DIR/resolv.conf"
servfail_at_once() { rcode_is none.example.test 2 && [ "$got_ms" -lt 500 ]; }
wait_for 10 servfail_at_once || fail "no prompt SERVFAIL without resolvers: $got_rcode after $got_ms ms"
echo "ok   no resolver: SERVFAIL after $got_ms ms"
# A resolver that serves no TCP (a UDP responder on a host of its own, whose TCP 53
# refuses; it answers everything with one address, TC set, but huge.* with 300
# addresses, 4,835 bytes, more than weft relays): asked over TCP, weft asks it over
# UDP after the refusal, and the client gets its cut answer, not SERVFAIL.
sim_host udpdns 192.168.77.251
sim_spawn "$SIM_DIR/udpdns/responder.log" ip netns exec "$(sim_ns udpdns)" python3 -c 'import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("192.168.77.251", 53))
one = bytes([0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 192, 0, 2, 1])
while True:
    q, peer = s.recvfrom(512)
    end = q.index(0, 12) + 5  # the question: its name, type and class
    n, flags = (300, 0x81) if q[13:17] == b"huge" else (1, 0x83)
    s.sendto(q[:2] + bytes([flags, 0x80, 0, 1, n >> 8, n & 255, 0, 0, 0, 0]) + q[12:end] + one * n, peer)'
echo "$SIM_LAST_PID" >"$SIM_DIR/udpdns/pid" # sim_cleanup stops it by this pid
echo "nameserver 192.168.77.251" >"$SIM_DIR/resolv.conf"
udp_only() { [ "$(dns_ask tcp "$1")" = "0 1 1 192.0.2.1" ]; } # NAME
wait_for 5 udp_only first.example.test ||
    fail "a resolver without TCP, asked over TCP: '$(dns_ask tcp first.example.test)', expected its UDP answer"
read -r rcode tc answers address ms <<<"$(dns_ask tcp-ms second.example.test)"
[ "$rcode $tc $answers $address" = "0 1 1 192.0.2.1" ] && [ "$ms" -lt 1000 ] ||
    fail "a resolver without TCP: $rcode $tc $answers $address after $ms ms (its UDP answer at once expected)"
echo "ok   a resolver that refuses TCP is asked over UDP: its cut answer after $ms ms, not SERVFAIL"
# An answer longer than weft relays (4,096 bytes) is not passed on cut short: SERVFAIL.
read -r rcode ms <<<"$(dns_ask udp-ms huge.example.test)"
[ "$rcode" = 2 ] && [ "$ms" -lt 1000 ] || fail "a 4,835-byte answer: rcode $rcode after $ms ms (SERVFAIL at once expected)"
echo "ok   an answer longer than 4,096 bytes: SERVFAIL after $ms ms"
echo "nameserver $SIM_DNS_IP" >"$SIM_DIR/resolv.conf"
wait_for 5 resolves cA www.example.test "$GWIP" "$SIM_DNS_ANSWER" || fail "forwarding did not come back with the resolver"
# A first resolver the host cannot reach at all (IPv6, and the hosts have no IPv6
# route): sending to it fails at once, and the next one is asked then.
printf 'nameserver fd00:77::53\nnameserver %s\n' "$SIM_DNS_IP" >"$SIM_DIR/resolv.conf"
answered_quickly() { rcode_is "$1" 0 && [ "$got_ms" -lt 1000 ]; } # NAME
wait_for 5 answered_quickly unreachable-first.example.test ||
    fail "an unreachable first resolver: rcode $got_rcode after $got_ms ms (the second's answer at once expected)"
echo "ok   a first resolver the host cannot reach: the next answers after $got_ms ms"
echo "nameserver $SIM_DNS_IP" >"$SIM_DIR/resolv.conf"
# On /metrics (on loopback in the host's namespace).
metrics=$(sim_ns_exec A curl -sS -f -m 10 http://127.0.0.1:9776/metrics) || fail "A's /metrics did not answer"
dns_count() { awk -v s="weft_dns_queries_total{outcome=\"$1\"}" '$1 == s { print $2 }' <<<"$metrics"; }
for outcome in answered forwarded failed; do
    [ "$(dns_count "$outcome")" -ge 2 ] 2>/dev/null || fail "A's weft_dns_queries_total{outcome=\"$outcome\"} is '$(dns_count "$outcome")', expected 2 or more"
done
echo "ok   A's /metrics counts them: answered $(dns_count answered), forwarded $(dns_count forwarded), failed $(dns_count failed)"

# ---- what the resolver does not answer: malformed, and from outside the overlay ----
# udp_send SRC DST PAYLOAD_HEX: one datagram to DST:53 from SRC (python3: busybox nc has
# no -u); prints "answered" or "silent" after waiting a second for a reply.
udp_send() {
    sim_ns_exec cA python3 -c 'import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((sys.argv[1], 0)); s.sendto(bytes.fromhex(sys.argv[3]), (sys.argv[2], 53)); s.settimeout(1)
try:
    s.recv(4096); print("answered")
except socket.timeout:
    print("silent")' "$@"
}
query_ghost=0001010000010000000000000567686f73740000010001 # ID 1, RD, "ghost" IN A
[ "$(udp_send "${IP[A]%/*}" "$GWIP" "$query_ghost")" = answered ] || fail "the raw query from cA's own address got no answer"
[ "$(udp_send "${IP[A]%/*}" "$GWIP" "$(printf 'not-a-dns-message' | od -An -tx1 | tr -d ' \n')")" = silent ] ||
    fail "a malformed message was answered"
sim_ns_exec cA ip addr add 10.99.0.5/32 dev eth0
[ "$(udp_send 10.99.0.5 "$GWIP" "$query_ghost")" = silent ] || fail "a query from outside the overlay (10.99.0.5) was answered"
sim_ns_exec cA ip addr del 10.99.0.5/32 dev eth0
echo "ok   no answer to a malformed message or to a source outside the overlay"

# ---- a peer that goes takes its name ----
sim_etcdctl del "$C_FABRIC/10.77.0.0_24/peers/$G1" >/dev/null
wait_for 2 unresolved cA ghost "$GWIP" || fail "ghost still resolves after its peer went"
echo "ok   a removed peer's name is gone"

# ---- isolation: A also on overlay Y ----
YSUB=10.88.0.0/24
out=$(call A IpamDriver.RequestPool "{\"AddressSpace\":\"weft\",\"Pool\":\"$YSUB\",\"SubPool\":\"\",\"Options\":{},\"V6\":false}")
YPOOL=$(sim_json_str PoolID <<<"$out")
YGW=$(call A IpamDriver.RequestAddress "{\"PoolID\":\"$YPOOL\",\"Address\":\"\",\"Options\":{\"RequestAddressType\":\"com.docker.network.gateway\"}}" | sim_json_str Address)
YNID=$(sim_random_id)
call A NetworkDriver.CreateNetwork "{\"NetworkID\":\"$YNID\",\"Options\":{\"com.docker.network.generic\":{}},\"IPv4Data\":[{\"AddressSpace\":\"weft\",\"Gateway\":\"$YGW\",\"Pool\":\"$YSUB\"}],\"IPv6Data\":[]}" >/dev/null
YIP=$(call A IpamDriver.RequestAddress "{\"PoolID\":\"$YPOOL\",\"Address\":\"\",\"Options\":null}" | sim_json_str Address)
YEID=$(sim_random_id)
call A NetworkDriver.CreateEndpoint "{\"NetworkID\":\"$YNID\",\"EndpointID\":\"$YEID\",\"Interface\":{\"Address\":\"$YIP\",\"AddressIPv6\":\"\",\"MacAddress\":\"\"},\"Options\":{}}" >/dev/null
YSRC=$(call A NetworkDriver.Join "{\"NetworkID\":\"$YNID\",\"EndpointID\":\"$YEID\",\"SandboxKey\":\"/var/run/docker/netns/fakeY\",\"Options\":{}}" | sim_json_str SrcName)
sim_fake_container A cY "$YSRC" "$YIP"
sim_ns_exec cY ip route add default via "${YGW%/*}"
wait_for 5 sim_ns_exec cY ping -c 1 -W 1 "${YGW%/*}" >/dev/null || fail "cY cannot reach its gateway"
for target in "${YGW%/*}" "${YIP%/*}" "${HADDR[A]}" "${HADDR[B]}" "$SIM_DNS_IP"; do
    if sim_ns_exec cA ping -c 1 -W 1 "$target" >/dev/null 2>&1; then
        fail "cA (overlay X) reaches $target"
    fi
done
if sim_ns_exec cY ping -c 1 -W 1 "$GWIP" >/dev/null 2>&1; then fail "cY (overlay Y) reaches X's resolver"; fi
check "cA gets no answer from Y's resolver" unresolved cA www.example.test "${YGW%/*}"
echo "ok   from overlay X nothing of overlay Y, of the hosts or of the test resolver answers"

# ---- the port follows the network ----
vni_y=$(ip -n "$(sim_ns A)" -o link show | sed -n 's/.* \(wsp[0-9]*\)@.*/\1/p' | sort)
[ "$(wc -w <<<"$vni_y")" = 2 ] || fail "A should have two service ports: $vni_y"
sim_fake_container_del A cY "$YSRC"
call A NetworkDriver.Leave "{\"NetworkID\":\"$YNID\",\"EndpointID\":\"$YEID\"}" >/dev/null
call A NetworkDriver.DeleteEndpoint "{\"NetworkID\":\"$YNID\",\"EndpointID\":\"$YEID\"}" >/dev/null
call A NetworkDriver.DeleteNetwork "{\"NetworkID\":\"$YNID\"}" >/dev/null
left=$(ip -n "$(sim_ns A)" -o link show | grep -c ' wsp[0-9]*@' || true)
[ "$left" = 1 ] || fail "deleting network Y left its port: $(ip -n "$(sim_ns A)" -o link show | grep wsp)"
sim_weft_stop A || fail "A needed SIGKILL to stop"
stats=$(grep -F 'msg="resolver stopped"' "$SIM_DIR/A/weft.log" | tail -n 1)
dropped=$(sed -n 's/.* dropped=\([0-9]*\).*/\1/p' <<<"$stats")
[ "${dropped:-0}" -ge 1 ] || fail "A's resolver did not count the malformed message: $stats"
echo "ok   A's resolver counted it: $stats"
gone() { ! ip -n "$(sim_ns A)" -o link show | grep ' wsp[0-9]*@' >/dev/null; }
wait_for 5 gone || fail "A's port outlived its daemon"
sim_weft A
wait_for 10 resolves cA ghost2 "$GWIP" "$G2" || fail "after A's restart ghost2 does not resolve"
echo "ok   a deleted network's port goes; a restarted daemon answers again"

for h in "${HOSTS[@]}"; do sim_weft_stop "$h" || fail "$h needed SIGKILL to stop"; done
for h in "${HOSTS[@]}"; do
    sanitizer_clean "$h" || { grep -A 30 -E 'ERROR|runtime error' "$SIM_DIR/$h/weft.log" >&2; fail "sanitizer report on $h"; }
done
echo "PASS names_resolver"
