#!/usr/bin/env bash
# corpus_records.sh: writes the seed records of tests/fuzz/fuzz_records.c into
# tests/fuzz/corpus_records/ (committed; rerun after changing this file). A seed is
# the reader's byte (fuzz_records.c's switch), the key, a newline and the value, as
# weft writes them.
set -euo pipefail
cd "$(dirname "$0")"
out=corpus_records
mkdir -p "$out"

seed() { printf "\\x$(printf '%02x' "$2")%s\n%s" "$3" "$4" >"$out/$1"; } # NAME READER KEY VALUE

F=/weft/v1/fabric/192.0.2.2/10.77.0.0_24
H=/weft/v1/hosts/192.0.2.1
NID=$(printf 'a%.0s' {1..64}) EID=$(printf 'e%.0s' {1..64}) PUB=$(printf 'A%.0s' {1..43})
PEER='{"ip":"10.77.0.9","mac":"02:42:0a:4d:00:09","names":"db svc","vtep":"192.0.2.2"}'
PEER6='{"ip":"10.77.0.9","ip6":"fd77::9","mac":"02:42:0a:4d:00:09","vtep":"192.0.2.2"}'
CLAIM='{"ip":"10.77.0.9","vtep":"192.0.2.2"}'
MEMBER='{"vtep":"192.0.2.2"}'
SEALED='{"vtep":"192.0.2.2","key":"'$PUB'","ciphers":"aegis128l aes256gcm chacha20poly1305","offloads":"csum"}'
NET='{"network_id":"'$NID'","subnet":"10.77.0.0/24","vni":4096,"mtu":1450,"gateway":"10.77.0.1"}'
NET6='{"network_id":"'$NID'","subnet":"10.77.0.0/24","vni":4097,"mtu":0,"encrypted":true,"subnet6":"fd77::/64","extra_subnets":"10.78.0.0/24"}'
EP='{"endpoint_id":"'$EID'","network_id":"'$NID'","ip":"10.77.0.5/24","mac":"02:42:0a:4d:00:05","ifname":"wh'${EID:0:12}'","names":"web api"}'
OVERLAY='{"subnet":"10.77.0.0/24","vni":4096,"mtu":1450}'
OVERLAY6='{"subnet":"10.77.0.0/24","vni":4097,"mtu":0,"encrypted":true,"subnet6":"fd77::/64","extra_subnets":"10.78.0.0/24 10.79.0.0/24"}'

seed peer 0 "$F/peers/10.77.0.9" "$PEER"
seed peer6 0 "$F/peers/10.77.0.9" "$PEER6"
seed claim 0 "$F/peers/10.77.0.9" "$CLAIM"
seed member 0 "$F/member" "$MEMBER"
seed member_sealed 0 "$F/member" "$SEALED"
seed peer_v6_host 0 "/weft/v1/fabric/fd00--2/10.77.0.0_24/peers/10.77.0.9" '{"ip":"10.77.0.9","mac":"02:42:0a:4d:00:09","vtep":"fd00::2"}'
seed host_network 1 "$H/networks/$NID" "$NET"
seed host_network6 1 "$H/networks/$NID" "$NET6"
seed host_endpoint 1 "$H/endpoints/$EID" "$EP"
seed overlay 2 "10.77.0.0/24" "$OVERLAY"
seed overlay6 2 "10.77.0.0/24" "$OVERLAY6"
seed overlay_decode 3 "" "$OVERLAY6"
seed addr 4 "" '{"host":"192.0.2.1","kind":"endpoint","claim":"0123456789abcdef"}'
seed pool 5 "" '{"subnet":"10.77.0.0/24","range":"10.77.0.128/25"}'
seed peer_decode 6 "" "$PEER6"
seed member_decode 7 "" "$SEALED"
seed host_network_decode 8 "" "$NET6"
seed host_endpoint_decode 9 "" "$EP"
