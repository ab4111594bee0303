#!/usr/bin/env bash
# secure_store.sh: weft against an etcd that speaks only TLS, asks for client
# certificates and has users (sim_etcd_secure), two hosts, no Docker (the plugin
# protocol by hand, tests/lib/plugin.sh). Proves:
# - a daemon that cannot be let in does not start: a certificate without its key
#   and TLS files with etcd:// are usage errors (status 2); a key or password file
#   others may read, a CA that did not sign etcd's certificate, a client certificate
#   of another CA and a wrong password end the start-up (status 1) with the reason
#   and what to check; none leaves its socket or prints the password;
# - hosts A and B with their own etcd users make an overlay whose containers ping
#   each other, and keep using the store after their login token's TTL;
# - a capture on etcd's side of the wire while the daemons start and a network
#   and endpoints are created holds no key ("/weft/v1", its base64), no endpoint
#   address, no user name and no password in clear.
set -euo pipefail
. "$(dirname "$0")/../lib/sim.sh"
. "$(dirname "$0")/../lib/plugin.sh"

export WEFT_BIN=${WEFT_BIN:-build/weft-san}
bin=$SIM_REPO/$WEFT_BIN
[[ "$WEFT_BIN" = /* ]] && bin=$WEFT_BIN
SUBNET=10.78.0.0/24
HOSTS=(A B)
declare -A HADDR=([A]=192.168.77.1 [B]=192.168.77.2)
declare -A POOL NID GW EID IP MAC SRC
TOKEN_TTL=5

# The capture needs tcpdump (Debian package tcpdump).
command -v tcpdump >/dev/null || { echo "skipped: tcpdump is not installed"; exit 0; }
sim_init
sim_switch
for h in "${HOSTS[@]}"; do sim_host "$h" "${HADDR[$h]}"; done
SIM_ETCD_AUTH_TOKEN_TTL=$TOKEN_TTL sim_etcd_secure
pki=$SIM_DIR/pki
mapfile -t A_FLAGS < <(sim_weft_store_flags A)
[ "${#A_FLAGS[@]}" -gt 0 ] || fail "no store flags for A"
A_USER=$(sim_store_user A)
A_PASSWORD=$(cat "$SIM_DIR/A/store.password")

# with_flag NAME VALUE: prints A_FLAGS (one per line) with flag NAME's value replaced.
with_flag() { # NAME VALUE
    local i out=("${A_FLAGS[@]}")
    for ((i = 0; i < ${#out[@]}; i++)); do
        [ "${out[$i]}" = "$1" ] && out[$((i + 1))]=$2
    done
    printf '%s\n' "${out[@]}"
}

# start_refused WANT_RC PATTERN DESCRIPTION FLAGS...: weft on A with FLAGS must exit
# WANT_RC saying PATTERN (a fixed string), leave no socket, and never print the password.
start_refused() {
    local want=$1 pattern=$2 desc=$3 out rc=0 sock=$SIM_DIR/A/refused.sock
    shift 3
    rm -f "$sock"
    out=$(sim_ns_exec A timeout 30 "$bin" daemon --advertise "${HADDR[A]}" --socket "$sock" \
        --store-timeout 3 "$@" 2>&1) || rc=$?
    [ "$rc" = "$want" ] || fail "$desc: exit status $rc, want $want: $out"
    grep -F -- "$pattern" <<<"$out" >/dev/null || fail "$desc: no \"$pattern\" in: $out"
    [ ! -e "$sock" ] || fail "$desc: the daemon left its socket"
    ! grep -F -- "$A_PASSWORD" <<<"$out" >/dev/null || fail "$desc: the password was printed"
    if grep -qE 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error' <<<"$out"; then
        printf '%s\n' "$out" >&2
        fail "$desc: sanitizer report"
    fi
    echo "ok   $desc (status $rc): $(grep -F -- "$pattern" <<<"$out" | tail -n 1 | cut -c 1-200)"
}

# Usage errors: no file or network is looked at.
start_refused 2 "--store-cert needs --store-key" "a certificate without its key" \
    --store "$(sim_etcd_url)" --store-ca "$pki/ca.pem" --store-cert "$pki/client.pem"
start_refused 2 "use etcds://" "TLS files with a plain etcd:// store" \
    --store "etcd://$SIM_ETCD_IP:2379" --store-ca "$pki/ca.pem" \
    --store-cert "$pki/client.pem" --store-key "$pki/client.key"


cp "$pki/client.key" "$SIM_DIR/A/loose.key"
chmod 644 "$SIM_DIR/A/loose.key"
mapfile -t flags < <(with_flag --store-key "$SIM_DIR/A/loose.key")
start_refused 1 "mode 0644 lets others read it: chmod 600 $SIM_DIR/A/loose.key" \
    "a key file others may read" --store "$(sim_etcd_url)" "${flags[@]}"
cp "$SIM_DIR/A/store.password" "$SIM_DIR/A/loose.password"
chmod 644 "$SIM_DIR/A/loose.password"
mapfile -t flags < <(with_flag --store-password-file "$SIM_DIR/A/loose.password")
start_refused 1 "mode 0644 lets others read it: chmod 600 $SIM_DIR/A/loose.password" \
    "a password file others may read" --store "$(sim_etcd_url)" "${flags[@]}"
mapfile -t flags < <(with_flag --store-ca "$pki/other-ca.pem")
start_refused 1 'hint="check --store-ca' "a CA that did not sign etcd's certificate" \
    --store "$(sim_etcd_url)" "${flags[@]}"
mapfile -t flags < <(with_flag --store-cert "$pki/other-client.pem" |
    sed "s|^$pki/client.key\$|$pki/other-client.key|")
start_refused 1 'hint="check --store-ca' "a client certificate of another CA" \
    --store "$(sim_etcd_url)" "${flags[@]}"
(umask 077 && echo "not-the-password" >"$SIM_DIR/A/wrong.password")
mapfile -t flags < <(with_flag --store-password-file "$SIM_DIR/A/wrong.password")
start_refused 1 'hint="check --store-user' "a wrong password" --store "$(sim_etcd_url)" "${flags[@]}"

# The capture runs on etcd's side from before the daemons start (their logins) to
# after the endpoints exist.
pcap=$SIM_DIR/etcd/store.pcap
sim_spawn "$SIM_DIR/etcd/tcpdump.log" nsenter --net="/run/netns/$(sim_ns etcd)" \
    tcpdump -Z root -U --immediate-mode -n -i eth0 -w "$pcap" tcp port 2379
tcpdump_pid=$SIM_LAST_PID
wait_for 10 grep -q "listening on" "$SIM_DIR/etcd/tcpdump.log" || fail "tcpdump did not start"

for h in "${HOSTS[@]}"; do sim_weft "$h"; done
for h in "${HOSTS[@]}"; do create_network "$h"; done
for h in "${HOSTS[@]}"; do create_endpoint "$h"; done
wait_for 10 pings A B || fail "cA cannot ping cB (${IP[B]})"
wait_for 10 pings B A || fail "cB cannot ping cA (${IP[A]})"
echo "ok   A and B, each its own etcd user over TLS, ping across the overlay"
sleep 1 # the last packets reach tcpdump before SIGTERM ends it
sim_stop_pid "$tcpdump_pid" 10 || true

packets=$(tcpdump -n -r "$pcap" 2>/dev/null | wc -l)
[ "$packets" -ge 20 ] || fail "the capture holds $packets packets: it saw no store traffic"
B_PASSWORD=$(cat "$SIM_DIR/B/store.password")
clear_text=("/weft/v1" "$(printf '/weft/v1/' | base64)" "${IP[A]%/*}" "${IP[B]%/*}" "$A_USER"
    "$A_PASSWORD" "$B_PASSWORD")
for text in "${clear_text[@]}"; do
    ! grep -a -F -- "$text" "$pcap" >/dev/null || fail "the capture holds \"$text\" in clear"
done
echo "ok   $packets packets to and from etcd hold no key, address, user or password in clear"

# Past the login token's TTL the daemons still read and write the store.
sleep $((TOKEN_TTL * 2 + 1))
for h in "${HOSTS[@]}"; do
    out=$(call "$h" IpamDriver.RequestAddress "{\"PoolID\":\"${POOL[$h]}\",\"Address\":\"\",\"Options\":null}")
    addr=$(sim_json_str Address <<<"$out")
    [ -n "$addr" ] || fail "RequestAddress on $h after the token TTL: $out"
    call "$h" IpamDriver.ReleaseAddress "{\"PoolID\":\"${POOL[$h]}\",\"Address\":\"${addr%/*}\"}" >/dev/null
done
echo "ok   after $((TOKEN_TTL * 2 + 1)) s (token TTL $TOKEN_TTL s) both hosts still allocate and release"

for h in "${HOSTS[@]}"; do
    sim_weft_stop "$h" || fail "weft on $h needed SIGKILL to stop"
    ! grep -F -- "$(cat "$SIM_DIR/$h/store.password")" "$SIM_DIR/$h/weft.log" >/dev/null ||
        fail "weft on $h logged its password"
    if grep -qE 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error|^==[0-9]+== ' "$SIM_DIR/$h/weft.log"; then
        grep -A 30 -E 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error|^==[0-9]+== ' "$SIM_DIR/$h/weft.log" >&2
        fail "sanitizer report in weft log on $h"
    fi
done
echo "ok   no password in the logs, no sanitizer reports"
echo "PASS secure_store"
