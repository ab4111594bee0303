#!/usr/bin/env bash
# hostile_requests.sh: a table of malformed and hostile requests to every plugin
# call of a live daemon (the ASan/UBSan build). Each must be answered with a
# non-2xx status and a readable {"Err": "..."}; the daemon must stay up; and the
# store and the host's kernel state must be exactly as before the table.
set -euo pipefail
. "$(dirname "$0")/../lib/sim.sh"
. "$(dirname "$0")/../lib/plugin.sh"

export WEFT_BIN=${WEFT_BIN:-build/weft-san}
SUBNET=10.77.0.0/24
declare -A HADDR=([A]=192.168.77.1)
declare -A POOL NID GW EID IP MAC SRC

sim_init
sim_switch
sim_host A "${HADDR[A]}"
sim_etcd
sim_weft A
create_network A
create_endpoint A
nid=${NID[A]} eid=${EID[A]}
unknown=$(sim_random_id)

# raw METHOD PATH FILE: prints "<status> <body>".
raw() {
    curl -sS -m 30 --unix-socket "$SIM_DIR/A/plugins/weft.sock" -X "$1" \
        --data-binary "@$3" -w '\n%{http_code}' "http://localhost/$2" |
        { body=$(cat); printf '%s %s\n' "${body##*$'\n'}" "${body%$'\n'*}"; }
}

snapshot() {
    sim_etcdctl get --prefix /weft/ | grep -v '"lease"' || true
    # Names only: carrier flags and the kernel's own multicast entries change by themselves.
    sim_ns_exec A ip -o link show | sed 's/^[0-9]*: //' | cut -d: -f1 | sort
    sim_ns_exec A bridge fdb show | grep ' dev wvx' | sort || true
    sim_ns_exec A ip neigh show | sort
}

deep() { # N: N nested arrays
    local n=$1
    printf '%*s' "$n" '' | tr ' ' '['
    printf '%*s' "$n" '' | tr ' ' ']'
}

# Rows: PATH <TAB> BODY <TAB> a fragment the Err must contain (case-insensitive).
# BODY @big / @deep stand for a 2 MiB body and 20 000-deep nesting, @deep65 for one
# level past the limit, @empty for no body at all, @utf8 for a string that is not UTF-8.
rows=$(cat <<ROWS
NetworkDriver.CreateNetwork	{	JSON
NetworkDriver.CreateNetwork	not json at all	JSON
NetworkDriver.CreateNetwork	[]	object
NetworkDriver.CreateNetwork	"string"	not valid JSON
NetworkDriver.CreateNetwork	@big	larger than
NetworkDriver.CreateNetwork	@deep	deeper than
NetworkDriver.CreateNetwork	{}	NetworkID
NetworkDriver.CreateNetwork	{"NetworkID":5}	NetworkID
NetworkDriver.CreateNetwork	{"NetworkID":"\$(reboot)","IPv4Data":[{"AddressSpace":"weft","Pool":"$SUBNET"}]}	NetworkID
NetworkDriver.CreateNetwork	{"NetworkID":"../../etc/passwd","IPv4Data":[{"AddressSpace":"weft","Pool":"$SUBNET"}]}	NetworkID
NetworkDriver.CreateNetwork	{"NetworkID":"$unknown"}	--ipam-driver weft
NetworkDriver.CreateNetwork	{"NetworkID":"$unknown","IPv4Data":[]}	--ipam-driver weft
NetworkDriver.CreateNetwork	{"NetworkID":"$unknown","IPv4Data":[{"AddressSpace":"LocalDefault","Pool":"$SUBNET"}]}	--ipam-driver weft
NetworkDriver.CreateNetwork	{"NetworkID":"$unknown","IPv4Data":[{"AddressSpace":"weft","Pool":"10.77.0.0/33"}]}	10.77.0.0/33
NetworkDriver.CreateNetwork	{"NetworkID":"$unknown","IPv4Data":[{"AddressSpace":"weft","Pool":"10.77.0.9/24"}]}	did you mean
NetworkDriver.CreateNetwork	{"NetworkID":"$unknown","IPv4Data":[{"AddressSpace":"weft","Pool":"fd00::/64"}]}	IPv6
NetworkDriver.CreateNetwork	{"NetworkID":"$unknown","IPv4Data":[{"AddressSpace":"weft","Pool":"$SUBNET"}],"IPv6Data":[{"Pool":"fd00::/64"}]}	--ipam-driver weft
NetworkDriver.CreateNetwork	{"NetworkID":"$unknown","IPv4Data":[{"AddressSpace":"weft","Pool":"$SUBNET"}],"IPv6Data":[{"AddressSpace":"weft","Pool":"fd00::/48"}]}	from /64 to /120
NetworkDriver.CreateNetwork	{"NetworkID":"$unknown","Options":{"com.docker.network.enable_ipv6":true},"IPv4Data":[{"AddressSpace":"weft","Pool":"$SUBNET"}]}	IPv6 --subnet with --ipv6
NetworkDriver.CreateNetwork	{"NetworkID":"$unknown","Options":{"com.docker.network.enable_ipv6":true},"IPv4Data":[{"AddressSpace":"weft","Pool":"$SUBNET"}]}	IPv6
NetworkDriver.CreateNetwork	{"NetworkID":"$unknown","Options":{"com.docker.network.generic":{"vni":"0"}},"IPv4Data":[{"AddressSpace":"weft","Pool":"10.78.0.0/24"}]}	vni
NetworkDriver.CreateNetwork	{"NetworkID":"$unknown","Options":{"com.docker.network.generic":{"vni":"16777215"}},"IPv4Data":[{"AddressSpace":"weft","Pool":"10.78.0.0/24"}]}	vni
NetworkDriver.CreateNetwork	{"NetworkID":"$unknown","Options":{"com.docker.network.generic":{"vni":"12abc"}},"IPv4Data":[{"AddressSpace":"weft","Pool":"10.78.0.0/24"}]}	vni
NetworkDriver.CreateNetwork	{"NetworkID":"$unknown","Options":{"com.docker.network.generic":{"vni":"; rm -rf /"}},"IPv4Data":[{"AddressSpace":"weft","Pool":"10.78.0.0/24"}]}	vni
NetworkDriver.CreateNetwork	{"NetworkID":"$unknown","Options":{"com.docker.network.generic":{"mtu":"100"}},"IPv4Data":[{"AddressSpace":"weft","Pool":"10.78.0.0/24"}]}	mtu
NetworkDriver.CreateNetwork	{"NetworkID":"$unknown","Options":{"com.docker.network.generic":{"mtu":"99999"}},"IPv4Data":[{"AddressSpace":"weft","Pool":"10.78.0.0/24"}]}	mtu
NetworkDriver.CreateNetwork	{"NetworkID":"$unknown","Options":{"com.docker.network.generic":{"colour":"blue"}},"IPv4Data":[{"AddressSpace":"weft","Pool":"10.78.0.0/24"}]}	colour
NetworkDriver.CreateNetwork	{"NetworkID":"$unknown","Options":{"com.docker.network.generic":"vni=5"},"IPv4Data":[{"AddressSpace":"weft","Pool":"10.78.0.0/24"}]}	generic
NetworkDriver.CreateNetwork	{"NetworkID":"$nid","IPv4Data":[{"AddressSpace":"weft","Pool":"$SUBNET"}]}	already exists
NetworkDriver.CreateNetwork	{"NetworkID":"$unknown","IPv4Data":[{"AddressSpace":"weft","Pool":"$SUBNET"}]}	already has
NetworkDriver.DeleteNetwork	{"NetworkID":"$unknown"}	not a weft network
NetworkDriver.DeleteNetwork	{"NetworkID":""}	NetworkID
NetworkDriver.DeleteNetwork	{"NetworkID":"\u0000abc"}	not valid JSON
NetworkDriver.CreateEndpoint	{"NetworkID":"$nid","EndpointID":"$unknown","Interface":{"Address":""}}	IPv4 address
NetworkDriver.CreateEndpoint	{"NetworkID":"$nid","EndpointID":"$unknown","Interface":{"Address":"10.77.0.300/24"}}	10.77.0.300
NetworkDriver.CreateEndpoint	{"NetworkID":"$nid","EndpointID":"$unknown","Interface":{"Address":"10.99.0.5/24"}}	not a host address
NetworkDriver.CreateEndpoint	{"NetworkID":"$nid","EndpointID":"$unknown","Interface":{"Address":"10.77.0.5/24","AddressIPv6":"fd00::5/64"}}	IPv6
NetworkDriver.CreateEndpoint	{"NetworkID":"$nid","EndpointID":"$unknown","Interface":{"Address":"10.77.0.5/24","MacAddress":"zz:zz:zz:zz:zz:zz"}}	MAC
NetworkDriver.CreateEndpoint	{"NetworkID":"$nid","EndpointID":"$unknown","Interface":{"Address":"10.77.0.5/24","MacAddress":"01:00:5e:00:00:01"}}	multicast
NetworkDriver.CreateEndpoint	{"NetworkID":"$nid","EndpointID":"$unknown","Interface":{"Address":"10.77.0.5/24","MacAddress":5}}	MacAddress
NetworkDriver.CreateEndpoint	{"NetworkID":"$unknown","EndpointID":"$unknown","Interface":{"Address":"10.77.0.5/24"}}	not a weft network
NetworkDriver.CreateEndpoint	{"NetworkID":"$nid","EndpointID":"$eid","Interface":{"Address":"10.77.0.5/24"}}	already exists
NetworkDriver.CreateEndpoint	{"NetworkID":"$nid","EndpointID":"../x","Interface":{"Address":"10.77.0.5/24"}}	EndpointID
NetworkDriver.CreateEndpoint	{"NetworkID":"$nid","EndpointID":"$unknown","Interface":"10.77.0.5/24"}	Interface
NetworkDriver.EndpointOperInfo	{"NetworkID":"$nid","EndpointID":"$unknown"}	does not exist
NetworkDriver.Join	{"NetworkID":"$nid","EndpointID":"$unknown","SandboxKey":"/x"}	does not exist
NetworkDriver.Join	{"NetworkID":"$unknown","EndpointID":"$eid"}	not a weft network
NetworkDriver.Leave	{"NetworkID":"$nid","EndpointID":[]}	EndpointID
NetworkDriver.DeleteEndpoint	{"NetworkID":"$nid","EndpointID":"$unknown"}	does not exist
NetworkDriver.DeleteEndpoint	{"NetworkID":true,"EndpointID":"$eid"}	NetworkID
NetworkDriver.AllocateNetwork	{"NetworkID":"$unknown"}	Swarm
NetworkDriver.NoSuchCall	{}	unknown
IpamDriver.RequestPool	{"AddressSpace":"weft","Pool":"","V6":false}	--subnet
IpamDriver.RequestPool	{"AddressSpace":"weft","Pool":"fd00::/48","V6":true}	from /64 to /120
IpamDriver.RequestPool	{"AddressSpace":"weft","Pool":"fd00::/64","V6":false}	not an IPv4 subnet
IpamDriver.RequestPool	{"AddressSpace":"weft","Pool":"$SUBNET","SubPool":"10.99.0.0/25"}	is not inside --subnet
IpamDriver.RequestPool	{"AddressSpace":"weft","Pool":"10.77.0.0/8"}	did you mean
IpamDriver.RequestPool	{"AddressSpace":"weft","Pool":["$SUBNET"]}	Pool
IpamDriver.RequestAddress	{"PoolID":"$SUBNET","Address":"10.77.0.255"}	not a host address
IpamDriver.RequestAddress	{"PoolID":"$SUBNET","Address":"${IP[A]%/*}"}	already in use
IpamDriver.RequestAddress	{"PoolID":"$SUBNET","Address":"${GW[A]%/*}"}	gateway
IpamDriver.RequestAddress	{"PoolID":"$SUBNET","Address":"not-an-ip"}	not-an-ip
IpamDriver.RequestAddress	{"PoolID":"../../etc","Address":""}	pool
IpamDriver.RequestAddress	{"PoolID":"$SUBNET","Options":{"RequestAddressType":7}}	RequestAddressType
IpamDriver.ReleaseAddress	{"PoolID":"$SUBNET","Address":"10.99.0.1"}	not in pool
IpamDriver.ReleaseAddress	{"PoolID":"$SUBNET","Address":"10.77.0.1/24"}	10.77.0.1/24
IpamDriver.ReleasePool	{"PoolID":"garbage"}	garbage
NetworkDriver.CreateNetwork	@empty	NetworkID
NetworkDriver.CreateNetwork	@utf8	not valid JSON
NetworkDriver.CreateNetwork	{"NetworkID":"a","NetworkID":"b"}	duplicate
NetworkDriver.CreateNetwork	{} {}	not valid JSON
NetworkDriver.CreateNetwork	@deep65	deeper than
NetworkDriver.CreateNetwork	{"NetworkID":"$unknown$unknown"}	too long
NetworkDriver.CreateNetwork	{"NetworkID":"$unknown","Options":"vni=5","IPv4Data":[{"AddressSpace":"weft","Pool":"10.78.0.0/24"}]}	Options
NetworkDriver.CreateNetwork	{"NetworkID":"$unknown","IPv4Data":{"AddressSpace":"weft","Pool":"10.78.0.0/24"}}	IPv4Data
NetworkDriver.CreateNetwork	{"NetworkID":"$unknown","IPv4Data":[{"AddressSpace":"weft","Pool":"10.78.0.0/7"}]}	10.78.0.0/7
NetworkDriver.CreateNetwork	{"NetworkID":"$unknown","IPv4Data":[{"AddressSpace":"weft","Pool":"10.78.0.0/-1"}]}	10.78.0.0/-1
NetworkDriver.CreateNetwork	{"NetworkID":"$unknown","IPv4Data":[{"AddressSpace":"weft","Pool":"\$(reboot)/24"}]}	not a valid IPv4
NetworkDriver.CreateNetwork	{"NetworkID":"$unknown","IPv4Data":[{"AddressSpace":"weft","Pool":"10.78.0.0/24\u0000x"}]}	not valid JSON
NetworkDriver.CreateNetwork	{"NetworkID":"$unknown","Options":{"com.docker.network.generic":{"vni":5}},"IPv4Data":[{"AddressSpace":"weft","Pool":"10.78.0.0/24"}]}	must be a string
NetworkDriver.CreateNetwork	{"NetworkID":"$unknown","Options":{"com.docker.network.generic":{"vni":"-1"}},"IPv4Data":[{"AddressSpace":"weft","Pool":"10.78.0.0/24"}]}	vni
NetworkDriver.CreateNetwork	{"NetworkID":"$unknown","Options":{"com.docker.network.generic":{"vni":"99999999999"}},"IPv4Data":[{"AddressSpace":"weft","Pool":"10.78.0.0/24"}]}	vni
NetworkDriver.CreateNetwork	{"NetworkID":"$unknown","Options":{"com.docker.network.generic":{"mtu":"575"}},"IPv4Data":[{"AddressSpace":"weft","Pool":"10.78.0.0/24"}]}	mtu
NetworkDriver.CreateNetwork	{"NetworkID":"$unknown","Options":{"com.docker.network.generic":{"mtu":"9001"}},"IPv4Data":[{"AddressSpace":"weft","Pool":"10.78.0.0/24"}]}	mtu
NetworkDriver.CreateNetwork	{"NetworkID":"$unknown","Options":{"com.docker.network.generic":{"mtu":" 1400"}},"IPv4Data":[{"AddressSpace":"weft","Pool":"10.78.0.0/24"}]}	mtu
NetworkDriver.CreateNetwork	{"NetworkID":"$unknown","Options":{"com.docker.network.enable_ipv6":"yes"},"IPv4Data":[{"AddressSpace":"weft","Pool":"10.78.0.0/24"}]}	boolean
NetworkDriver.DeleteNetwork	@empty	NetworkID
NetworkDriver.DeleteNetwork	{"NetworkID":"\`reboot\`"}	not a Docker ID
NetworkDriver.CreateEndpoint	@empty	NetworkID
NetworkDriver.CreateEndpoint	{"NetworkID":"$nid","EndpointID":"$unknown"}	IPv4 address
NetworkDriver.CreateEndpoint	{"NetworkID":"$nid","EndpointID":"$unknown","Interface":{"Address":"10.77.0.5"}}	prefix length
NetworkDriver.CreateEndpoint	{"NetworkID":"$nid","EndpointID":"$unknown","Interface":{"Address":"10.77.0.5/33"}}	10.77.0.5/33
NetworkDriver.CreateEndpoint	{"NetworkID":"$nid","EndpointID":"$unknown","Interface":{"Address":"10.77.0.5/0"}}	prefix length
NetworkDriver.CreateEndpoint	{"NetworkID":"$nid","EndpointID":"$unknown","Interface":{"Address":"10.77.0.5/31"}}	prefix length
NetworkDriver.CreateEndpoint	{"NetworkID":"$nid","EndpointID":"$unknown","Interface":{"Address":"\$(reboot)"}}	\$(reboot)
NetworkDriver.CreateEndpoint	{"NetworkID":"$nid","EndpointID":"$unknown","Interface":{"Address":5}}	must be a string
NetworkDriver.CreateEndpoint	{"NetworkID":"$nid","EndpointID":"$unknown","Interface":{"Address":"10.77.0.5/24","MacAddress":"00:00:00:00:00:00"}}	not a usable
NetworkDriver.CreateEndpoint	{"NetworkID":"$nid","EndpointID":"$unknown","Interface":{"Address":"10.77.0.5/24","MacAddress":"02:42:0a:4d:00"}}	not a MAC
NetworkDriver.CreateEndpoint	{"NetworkID":"$nid","EndpointID":"$unknown","Interface":{"Address":"10.77.0.5/24","MacAddress":"02:42:0a:4d:00:05:06"}}	not a MAC
NetworkDriver.CreateEndpoint	{"NetworkID":"$nid","EndpointID":"$unknown","Interface":{"Address":"10.77.0.5/24","MacAddress":"02-42-0a-4d-00-05"}}	not a MAC
NetworkDriver.CreateEndpoint	{"NetworkID":"$nid","EndpointID":"$unknown","Interface":{"Address":"10.77.0.5/24","MacAddress":"../../etc/passwd"}}	not a MAC
NetworkDriver.CreateEndpoint	{"NetworkID":"$nid","EndpointID":"a b","Interface":{"Address":"10.77.0.5/24"}}	not a Docker ID
NetworkDriver.EndpointOperInfo	@empty	NetworkID
NetworkDriver.EndpointOperInfo	{"NetworkID":"$unknown","EndpointID":"$eid"}	not a weft network
NetworkDriver.Join	@empty	NetworkID
NetworkDriver.Join	{"NetworkID":"$nid","EndpointID":"$eid\u0000"}	not valid JSON
NetworkDriver.Leave	@empty	NetworkID
NetworkDriver.Leave	{"NetworkID":"$nid","EndpointID":"$unknown"}	does not exist
NetworkDriver.Leave	{"NetworkID":"$unknown","EndpointID":"$eid"}	not a weft network
NetworkDriver.DeleteEndpoint	@empty	NetworkID
NetworkDriver.DeleteEndpoint	{"NetworkID":"$nid","EndpointID":"../../etc/passwd"}	not a Docker ID
NetworkDriver.DeleteEndpoint	{"NetworkID":"$unknown","EndpointID":"$eid"}	not a weft network
NetworkDriver.FreeNetwork	{"NetworkID":"$nid"}	Swarm
IpamDriver.RequestPool	@empty	--subnet
IpamDriver.RequestPool	{"AddressSpace":"weft","Pool":"$SUBNET","V6":"no"}	boolean
IpamDriver.RequestPool	{"AddressSpace":"weft","Pool":"\$(reboot)"}	not a valid IPv4
IpamDriver.RequestAddress	@empty	PoolID
IpamDriver.RequestAddress	{"PoolID":"fd00::/64","Address":"10.77.0.5"}	not an IPv6 address of pool fd00::/64
IpamDriver.RequestAddress	{"PoolID":"$SUBNET","Address":"fd00::5"}	not an IPv4 address of pool
IpamDriver.RequestAddress	{"PoolID":"$SUBNET","Address":"10.77.0.0"}	not a host address
IpamDriver.RequestAddress	{"PoolID":"$SUBNET","Address":"10.99.0.5"}	10.99.0.5
IpamDriver.RequestAddress	{"PoolID":"$SUBNET","Address":"\$(reboot)"}	not a valid IPv4
IpamDriver.RequestAddress	{"PoolID":null}	PoolID
IpamDriver.ReleaseAddress	@empty	PoolID
IpamDriver.ReleaseAddress	{"PoolID":"$SUBNET"}	Address
IpamDriver.ReleaseAddress	{"PoolID":"$SUBNET","Address":"10.77.0.5\u0000"}	not valid JSON
IpamDriver.ReleasePool	@empty	PoolID
IpamDriver.ReleasePool	{"PoolID":"../../etc/passwd"}	../../etc/passwd
ROWS
)

# Known gaps in fabric/ (accepted today, leaving state behind): run with HOSTILE_KNOWN=1
# to check a fix. A prefix other than the network's, the gateway's address, another
# endpoint's IP or MAC, a subnet overlapping an existing overlay.
[ -z "${HOSTILE_KNOWN:-}" ] || rows+=$'\n'$(cat <<ROWS
NetworkDriver.CreateEndpoint	{"NetworkID":"$nid","EndpointID":"known1","Interface":{"Address":"10.77.0.5/16"}}	prefix
NetworkDriver.CreateEndpoint	{"NetworkID":"$nid","EndpointID":"known2","Interface":{"Address":"${GW[A]}"}}	gateway
NetworkDriver.CreateEndpoint	{"NetworkID":"$nid","EndpointID":"known3","Interface":{"Address":"${IP[A]}"}}	in use
NetworkDriver.CreateEndpoint	{"NetworkID":"$nid","EndpointID":"known4","Interface":{"Address":"10.77.0.7/24","MacAddress":"${MAC[A]}"}}	MAC
NetworkDriver.CreateNetwork	{"NetworkID":"$unknown","IPv4Data":[{"AddressSpace":"weft","Pool":"10.77.0.0/25"}]}	overlap
ROWS
)

big=$SIM_DIR/big.json deepf=$SIM_DIR/deep.json req=$SIM_DIR/req.json
head -c $((2 * 1024 * 1024)) /dev/zero | tr '\0' ' ' >"$big"
deep 20000 >"$deepf"

# The endpoint's records are written just after CreateEndpoint answers, a spare veth
# pair is made again just after one was taken, and the lease keeper takes the reaper
# role at its first refresh (TTL/3 after start): wait for all, so the snapshot is still.
published() { [ -n "$(sim_etcdctl get --keys-only "/weft/v1/hosts/${HADDR[A]}/endpoints/$eid")" ]; }
spares_ready() { [ "$(sim_ns_exec A ip -o link show | grep -c 'alias weft spare')" = 2 ]; }
reaper_taken() { [ -n "$(sim_etcdctl get --keys-only /weft/v1/roles/reaper)" ]; }
wait_for 5 published || fail "endpoint $eid was never published"
wait_for 5 spares_ready || fail "A's spare veth pairs were not made again"
wait_for 10 reaper_taken || fail "A never took the reaper role"
host_end=${SRC[A]/#wt/ws} # the host end of the pair Join named (a spare's, or wh<id>)
host_end=${host_end/#wc/wh}
before=$(snapshot)
# The comparison means something only if the snapshot sees the endpoint, in the store and the kernel.
grep -q "/weft/.*$eid" <<<"$before" && grep -q "^$host_end" <<<"$before" || fail "snapshot misses endpoint $eid ($host_end): $before"
n=0
while IFS=$'\t' read -r path body want; do
    case "$body" in
    @big) cp "$big" "$req" ;;
    @deep) cp "$deepf" "$req" ;;
    @deep65) { printf '{"NetworkID":'; deep 64; printf '}'; } >"$req" ;;
    @empty) : >"$req" ;;
    @utf8) printf '{"NetworkID":"ab\xff\xfe"}' >"$req" ;;
    *) printf '%s' "$body" >"$req" ;;
    esac
    answer=$(raw POST "$path" "$req")
    status=${answer%% *} reply=${answer#* }
    # HOSTILE_SHOW=1 prints every answer instead of judging it (for writing rows).
    [ -z "${HOSTILE_SHOW:-}" ] || { echo "ROW $((n + 1)) $status $reply"; n=$((n + 1)); continue; }
    [[ "$status" != 2* ]] || fail "row $((n + 1)) $path $body: status $status, answer $reply"
    grep -q '"Err" *: *"[^"]' <<<"$reply" || fail "row $((n + 1)) $path: no Err in $reply"
    grep -qiF -- "$want" <<<"$reply" || fail "row $((n + 1)) $path $body: Err lacks \"$want\": $reply"
    kill -0 "$(sim_weft_pid A)" || fail "daemon died on row $((n + 1)) $path $body"
    n=$((n + 1))
done <<<"$rows"
# Anything but POST, with or without a valid body.
printf '{"NetworkID":"%s"}' "$unknown" >"$req"
for call in GET:NetworkDriver.GetCapabilities GET:NetworkDriver.CreateNetwork PUT:Plugin.Activate \
    DELETE:NetworkDriver.DeleteNetwork; do
    answer=$(raw "${call%%:*}" "${call#*:}" "$req")
    [[ "$answer" == 405* ]] && grep -q '"Err" *: *"[^"]*POST' <<<"$answer" ||
        fail "${call%%:*} ${call#*:} answered: $answer"
    n=$((n + 1))
done
# 2 MiB without a Content-Length: the daemon must count while reading.
answer=$(curl -sS -m 30 --unix-socket "$SIM_DIR/A/plugins/weft.sock" -H 'Transfer-Encoding: chunked' \
    --data-binary "@$big" -w '\n%{http_code}' http://localhost/NetworkDriver.CreateNetwork)
[[ "${answer##*$'\n'}" == 413 ]] && grep -q '"Err" *: *"[^"]*larger than' <<<"$answer" ||
    fail "chunked 2 MiB answered: $answer"
kill -0 "$(sim_weft_pid A)" || fail "daemon died on a chunked 2 MiB body"
n=$((n + 1))
echo "ok   $n hostile requests, each a clear Err, daemon up"
after=$(snapshot)
[ -z "${HOSTILE_DUMP:-}" ] || echo "$after"
[ "$before" = "$after" ] || { diff <(echo "$before") <(echo "$after") >&2; fail "state changed"; }
echo "ok   store and kernel state unchanged"
sim_weft_stop A || fail "weft needed SIGKILL"
! grep -qE 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error|^==[0-9]+== ' "$SIM_DIR/A/weft.log" ||
    { grep -A 30 -E 'ERROR|runtime error' "$SIM_DIR/A/weft.log" >&2; fail "sanitizer report"; }
echo "ok   no sanitizer reports"
echo "PASS hostile_requests"
