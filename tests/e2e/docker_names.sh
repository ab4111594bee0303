#!/usr/bin/env bash
# docker_names.sh: names across hosts with real dockerd (issue 10). etcd + weft +
# dockerd on hosts A and B, a test resolver (dnsmasq) inside the simulation as the
# hosts' resolver, two weft networks (blue, red) on both. Containers run with
# `--dns <blue's gateway>`, as the README says. Proves:
#  - web on A (--name web --network-alias api) is pinged and fetched (wget) by name and
#    by alias from B, and by short ID; it resolves from B within a few seconds of
#    `docker run` (measured; make bench reports p50/p99);
#  - a service alias shared by one container on A and one on B gives both addresses;
#  - after `docker rm -f web` its name fails within 2 s;
#  - an external-looking name is forwarded to the test resolver; a name of red does not
#    resolve from blue; from blue, nothing of red and no host address answers;
#  - dockerd on A killed while weft runs: A's names stay; a container started once
#    dockerd is back gets its name.
set -euo pipefail
. "$(dirname "$0")/../lib/sim.sh"

BLUE=10.77.0.0/24 RED=10.88.0.0/24
GW=10.77.0.1 RED_GW=10.88.0.1
IMG=weft-test

sim_init
sim_switch
sim_host A 192.168.77.1
sim_host B 192.168.77.2
sim_etcd
sim_dns
sim_weft A
sim_weft B
# live-restore: A's dockerd is stopped below, and its containers must stay up meanwhile.
SIM_DOCKERD_CONFIG='{"live-restore":true}' sim_dockerd A
sim_dockerd B
for h in A B; do
    check "network blue on $h" sim_docker "$h" network create -d weft --ipam-driver weft --subnet "$BLUE" blue
    check "network red on $h" sim_docker "$h" network create -d weft --ipam-driver weft --subnet "$RED" red
done

run_on() { sim_docker "$1" run -d --dns "$GW" --network blue "${@:2}" >/dev/null; } # HOST ARGS...
in_b() { sim_docker B exec client "$@"; }
ip_of() { sim_docker "$1" inspect -f '{{(index .NetworkSettings.Networks "'"${3:-blue}"'").IPAddress}}' "$2"; }
# The addresses weft's resolver on B gives for NAME (queried directly at the gateway).
addrs_of() { in_b nslookup "$1" "$GW" 2>/dev/null | sed -n 's/^Address: \([0-9.]*\)$/\1/p' | grep -v "^$GW\$" | sort | tr '\n' ' '; }
resolves_to() { [ "$(addrs_of "$1")" = "$2 " ]; }

run_on B --name client $IMG sleep 600
# Propagation: a loop in the client asks B's resolver for web until it answers and notes
# the time (/proc/uptime: one clock for the host and its containers, 10 ms steps), and
# each lookup's start and end. busybox's nslookup waits 2.5 s before it asks again: one
# question lost under load (CI once saw 3,740 ms) measured its timer, not the names'
# travel; -timeout=1 -retry=4 asks again every 250 ms.
sim_docker B exec -d client sh -c "while :; do s=\$(cut -d' ' -f1 /proc/uptime); nslookup -timeout=1 -retry=4 web $GW >/tmp/answer 2>&1; echo \$s \$(cut -d' ' -f1 /proc/uptime) >>/tmp/lookups; grep -q '^Address: 10\.77\.' /tmp/answer && break; done; cut -d' ' -f1 /proc/uptime >/tmp/seen"
sleep 0.5
run_on A --name web --network-alias api $IMG sh -c 'mkdir -p /www && echo hello-from-web >/www/index.html && exec httpd -f -p 80 -h /www'
returned=$(cut -d' ' -f1 /proc/uptime)
web_ip=$(ip_of A web)
wait_for 10 resolves_to web "$web_ip" || fail "web ($web_ip) does not resolve from B: $(in_b nslookup web "$GW" 2>&1)"
wait_for 5 in_b test -s /tmp/seen || fail "the client's loop never saw web"
took=$(awk -v a="$(in_b cat /tmp/seen)" -v b="$returned" 'BEGIN {printf "%d", (a - b) * 1000}')
# The issue's target is 1 s; 3 s here keeps a loaded machine from failing the test, and
# make bench reports p50/p99 against the target.
# Lookups that took over 250 ms (the loop's timestamps: started, ended), to tell a slow
# answer or a lost question from names that travelled late.
slow=$(in_b awk '$2 - $1 > 0.25 {printf "%s-%s ", $1, $2}' /tmp/lookups)
[ "$took" -le 3000 ] || fail "web resolved from B $took ms after docker run returned on A (at $returned; slow lookups: ${slow:-none})"
echo "ok   web resolves from B $took ms after docker run returned on A (target 1000 ms)"
check "B pings web by name" in_b ping -c 2 -i 0.2 -W 2 web
check "B pings web by alias" in_b ping -c 2 -i 0.2 -W 2 api
short=$(sim_docker A inspect -f '{{.Id}}' web | cut -c1-12)
check "web's short ID resolves from B" resolves_to "$short" "$web_ip"
# timeout, not wget -T: this busybox's wget crashes on -T.
got=$(in_b timeout 10 wget -qO- http://web/) || fail "wget http://web/ from B failed"
[ "$got" = hello-from-web ] || fail "wget http://web/ from B got: $got"
got=$(in_b timeout 10 wget -qO- http://api/) || fail "wget http://api/ from B failed"
echo "ok   B reaches web on A by name, alias and short ID (ping, wget)"

# ---- one service alias on two hosts ----
run_on A --name s1 --network-alias svc $IMG sleep 600
run_on B --name s2 --network-alias svc $IMG sleep 600
both=$(printf '%s\n' "$(ip_of A s1)" "$(ip_of B s2)" | sort | tr '\n' ' ')
both_seen() { [ "$(addrs_of svc)" = "$both" ]; }
wait_for 10 both_seen || fail "svc gives '$(addrs_of svc)', want '$both'"
echo "ok   svc, on A and on B, gives both: $both"

# ---- a removed container's name goes ----
check "docker rm -f web" sim_docker A rm -f web
gone() { [ -z "$(addrs_of web)" ]; }
wait_for 2 gone || fail "web still resolves 2 s after docker rm -f: $(addrs_of web)"
echo "ok   web's name is gone within 2 s of docker rm -f"

# ---- forwarding, scope, isolation ----
ext=$(in_b nslookup www.example.test 2>&1 || true) # through Docker's embedded DNS, to weft, to dnsmasq
grep -F "Address: $SIM_DNS_ANSWER" <<<"$ext" >/dev/null || fail "www.example.test was not forwarded: $ext"
echo "ok   www.example.test answered by the test resolver through Docker's DNS and weft"
sim_docker A run -d --dns "$RED_GW" --network red --name redbox $IMG sleep 600 >/dev/null
red_ip=$(ip_of A redbox red)
sleep 1
[ -z "$(addrs_of redbox)" ] || fail "redbox (on red) resolves from blue: $(addrs_of redbox)"
# (B's own address answers through docker_gwbridge, Docker's way out of the overlay, as
# with its own overlay driver; --internal removes it. Nothing else may.)
# (The four at once: each waits its full second for no answer.)
declare -A reach_pid
for target in "$RED_GW" "$red_ip" 192.168.77.1 "$SIM_DNS_IP"; do
    in_b ping -c 1 -W 1 "$target" >/dev/null 2>&1 &
    reach_pid[$target]=$!
done
for target in "${!reach_pid[@]}"; do
    if wait "${reach_pid[$target]}"; then fail "blue's client reaches $target"; fi
done
echo "ok   red's names stay on red; from blue nothing of red, no other host and not the test resolver answers"

# ---- dockerd killed on A, then back ----
run_on A --name web2 $IMG sleep 600
web2_ip=$(ip_of A web2)
wait_for 10 resolves_to web2 "$web2_ip" || fail "web2 does not resolve from B"
sim_stop_pid "$(cat "$SIM_DIR/A/dockerd.spawn.pid")" 20 || fail "A's dockerd needed SIGKILL"
sleep 2
check "web2 still resolves with A's dockerd gone" resolves_to web2 "$web2_ip"
logged() { grep -F 'msg="docker engine lost; retrying every second"' "$SIM_DIR/A/weft.log" >/dev/null; }
wait_for 5 logged || fail "weft on A did not log that dockerd went away"
SIM_DOCKERD_CONFIG='{"live-restore":true}' sim_dockerd A
run_on A --name web3 $IMG sleep 600
web3_ip=$(ip_of A web3)
wait_for 10 resolves_to web3 "$web3_ip" || fail "web3, started once A's dockerd is back, does not resolve from B"
[ "$(grep -cF 'msg="docker engine lost; retrying every second"' "$SIM_DIR/A/weft.log")" = 1 ] ||
    fail "weft on A logged dockerd's absence more than once"
echo "ok   names stay while A's dockerd is down; a new container gets its name once it is back"

for h in A B; do
    grep -E 'ERROR: AddressSanitizer|runtime error' "$SIM_DIR/$h/weft.log" && fail "sanitizer report on $h"
done
# Containers and networks go while weft still answers: a dockerd left with weft networks
# and no plugin spends seconds retrying it at shutdown.
for h in A B; do
    sim_docker_rm_all "$h"
    sim_docker "$h" network rm blue red >/dev/null
done
for h in A B; do sim_weft_stop "$h" || fail "weft on $h needed SIGKILL to stop"; done
echo "PASS docker_names"
