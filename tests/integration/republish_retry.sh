#!/usr/bin/env bash
# republish_retry.sh: an endpoint whose re-publication fails when its daemon
# restarts is published once the store takes the write again, without another
# restart. One host, the daemon under ASan/UBSan. The failure is made exact: in
# etcd's namespace, iptables answers every packet to etcd that carries the
# endpoint's peer key (base64, as etcd's JSON gateway wants keys) with a TCP reset,
# so only that write fails while the daemon's other requests pass. A reset, not a
# drop: a dropped request stays in the client's socket and is retransmitted, and
# applied, once the rule goes, which would publish the endpoint whether or not
# the daemon retries.
set -euo pipefail
. "$(dirname "$0")/../lib/sim.sh"
. "$(dirname "$0")/../lib/plugin.sh"

export WEFT_BIN=${WEFT_BIN:-build/weft-san}
SUBNET=10.77.0.0/24
declare -A HADDR=([A]=192.168.77.1)
declare -A POOL NID GW EID IP MAC SRC
command -v iptables >/dev/null || fail "iptables is missing (scripts/install-deps.sh test)"

sanitizer_clean() {
    ! grep -qE 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error|^==[0-9]+== ' "$SIM_DIR/$1/weft.log"
}
published() { sim_etcdctl get --print-value-only "$peer_key" | grep "\"vtep\":\"${HADDR[A]}\"" >/dev/null; }
logged() { grep -q "$1" "$SIM_DIR/A/weft.log"; }

sim_init
sim_switch
sim_host A "${HADDR[A]}"
sim_etcd
sim_weft A
create_network A
create_endpoint A
peer_key=/weft/v1/fabric/${HADDR[A]}/10.77.0.0_24/peers/${IP[A]%/*}
wait_for 5 published || fail "the endpoint was never published"

# The daemon dies; its lease would withdraw the record later: withdraw it now.
sim_weft_kill A
sim_etcdctl del "$peer_key" >/dev/null
drop_rule=(INPUT -p tcp --dport 2379 -m string --algo bm --string "$(printf '%s' "$peer_key" | base64 -w0)" -j REJECT --reject-with tcp-reset)
sim_ns_exec etcd iptables -A "${drop_rule[@]}"
sim_weft A
wait_for 15 logged 're-publishing endpoint failed' ||
    fail "the re-publication did not fail as the test arranged"
! published || fail "the record was written although etcd refused it"
echo "ok   the restarted daemon could not re-publish its endpoint"

sim_ns_exec etcd iptables -D "${drop_rule[@]}"
back=$SECONDS
wait_for 10 published || fail "the endpoint was not published once etcd took the write again"
echo "ok   ... and published it $((SECONDS - back)) s after etcd took writes again, without a restart"
check "the daemon stayed up" kill -0 "$(sim_weft_pid A)"
sim_weft_stop A || fail "A needed SIGKILL to stop"
sanitizer_clean A || { grep -A 30 -E 'ERROR|runtime error' "$SIM_DIR/A/weft.log" >&2; fail "sanitizer report on A"; }
echo "PASS republish_retry"
