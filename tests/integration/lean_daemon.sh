#!/usr/bin/env bash
# lean_daemon.sh: the daemon as built (issue 14: RSS <= 8 MiB) loads none of the
# libraries Debian's libcurl and libmicrohttpd would bring (Kerberos, LDAP, SSH,
# GnuTLS, a second TLS library...): libcurl, libmicrohttpd, ldns and OpenSSL are in the
# binary (scripts/lean-libs.sh). One host, the plain daemon (what users run), with an
# overlay and a container's endpoint on it: no such library needed by the binary or
# mapped by the process, its resident set under 8 MiB, and `weft status` naming the
# libraries' versions it carries. Then the same daemon as a member of a 1,000-host
# overlay (issue 18: "daemon RSS stays <= 8 MiB"): the 999 other hosts' records, two
# endpoints each, written into the store as their daemons would have
# (tests/lib/seed_hosts.py), arrive through its watch; once it has programmed every one
# of the 1,998 remote endpoints, still under 8 MiB. Skipped when the build fell
# back to the shared libraries (LEAN=no, or no Debian archive: build/lean.log).
set -euo pipefail
. "$(dirname "$0")/../lib/sim.sh"
. "$(dirname "$0")/../lib/plugin.sh"

export WEFT_BIN=build/weft
grep -q 'libcurl\.a' build/lean-libs 2>/dev/null || {
    echo "skipped: the daemon links Debian's shared libraries ($(cat build/lean-libs 2>/dev/null))"
    exit 0
}
# Libraries that only Debian's builds of libcurl, libmicrohttpd and ldns load, and those
# the daemon carries (scripts/lean-libs.sh).
unwanted='lib(curl|microhttpd|ldns|ssl|crypto|nghttp2|jansson|protobuf-c|gnutls|krb5|gssapi_krb5|k5crypto|ldap|lber|sasl2|ssh2|rtmp|psl|idn2|brotli|zstd|p11-kit)[.-]'
needed=$(readelf -d "$WEFT_BIN" | awk '/NEEDED/ {gsub(/[][]/, "", $5); print $5}')
if grep -E "$unwanted" <<<"$needed"; then fail "$WEFT_BIN needs the libraries above"; fi
echo "ok   $WEFT_BIN needs only: $(tr '\n' ' ' <<<"$needed")"

SUBNET=10.79.0.0/20 # room for 1,000 hosts x 2
declare -A HADDR=([A]=192.168.77.1)
declare -A POOL NID GW EID IP MAC SRC
sim_init
sim_switch
sim_host A "${HADDR[A]}"
sim_etcd
sim_weft A
create_network A
create_endpoint A
pid=$(cat "$SIM_DIR/A/weft.pid")
sleep 2
if grep -E "/$unwanted" "/proc/$pid/maps" | awk '{print $6}' | sort -u | grep .; then
    fail "the daemon mapped the libraries above"
fi
rss=$(awk '/^VmRSS/ {print $2}' "/proc/$pid/status")
echo "ok   the daemon maps none of them; VmRSS $rss KiB with an overlay and an endpoint"
[ "$rss" -le 8192 ] || fail "VmRSS $rss KiB, over 8 MiB"
echo "ok   under 8 MiB"
# What it carries, as an operator sees it after a security update (daemon/libraries.h):
# the versions lean-libs built, the TLS library libcurl was built with.
built=$(build/weft status --control-socket "$SIM_DIR/A/control.sock" | sed -n 's/^built with //p')
# build/lean-libs names them as .../lean/<package>/<version>/lib/<library>.a.
curl_version=$(sed -n 's|.*/curl/\([^/]*\)/lib/libcurl\.a.*|\1|p' build/lean-libs)
mhd_version=$(sed -n 's|.*/libmicrohttpd/\([^/]*\)/lib/libmicrohttpd\.a.*|\1|p' build/lean-libs)
for word in "libcurl/$curl_version OpenSSL/" "libmicrohttpd/$mhd_version " " ldns/" " libsodium/"; do
    grep -qF -- "$word" <<<"$built" || fail "weft status says built with '$built', not '$word'"
done
echo "ok   weft status: built with $built"

# A member of a 1,000-host overlay. The seeded hosts' VTEPs (192.168.100.x and up) are
# not on the simulated switch: nothing is sent to them, and A has no route out.
OTHERS=999 EACH=2
t0=$(date +%s%N)
seeded=$(sim_ns_exec etcd python3 tests/lib/seed_hosts.py "$(sim_etcd_hostport)" "$SUBNET" \
    "$OTHERS" "$EACH") || fail "seeding the store with $OTHERS hosts"
t1=$(date +%s%N)
programmed() { # every seeded endpoint's FDB and neighbour entry on A (MACs 02:5e:...)
    [ "$(fdb_of A | grep -c '^02:5e:')" -eq "$seeded" ] &&
        [ "$(neigh_of A | grep -c 'lladdr 02:5e:')" -eq "$seeded" ]
}
wait_for 60 programmed || fail "A has $(fdb_of A | grep -c '^02:5e:') of the $seeded seeded endpoints"
t2=$(date +%s%N)
echo "ok   A programmed all $seeded endpoints of $OTHERS other hosts: seeded in" \
    "$(((t1 - t0) / 1000000)) ms, all in A's kernel $(((t2 - t1) / 1000000)) ms later"
sleep 2 # the daemon hands back what the burst freed every second (daemon/main.c)
weft_alive A || fail "the daemon died"
rss=$(awk '/^VmRSS/ {print $2}' "/proc/$pid/status")
echo "ok   VmRSS $rss KiB as a member of a $((OTHERS + 1))-host overlay" \
    "($(awk '/^RssAnon/ {print $2}' "/proc/$pid/status") KiB anonymous)"
[ "$rss" -le 8192 ] || fail "VmRSS $rss KiB, over 8 MiB"
echo "ok   under 8 MiB"
