#!/usr/bin/env bash
# lean_daemon.sh: the daemon as built (issue 14: RSS <= 8 MiB) loads none of the
# libraries Debian's libcurl and libmicrohttpd would bring (Kerberos, LDAP, SSH,
# GnuTLS, a second TLS library...): libcurl, libmicrohttpd, ldns and OpenSSL are in the
# binary (scripts/lean-libs.sh). One host, the plain daemon (what users run), with an
# overlay and a container's endpoint on it: no such library needed by the binary or
# mapped by the process, its resident set under 8 MiB, and `weft status` naming the
# libraries' versions it carries. Skipped when the build fell
# back to the shared libraries (LEAN=no, or no Debian archive: build/lean.log).
set -euo pipefail
. "$(dirname "$0")/../lib/sim.sh"
. "$(dirname "$0")/../lib/plugin.sh"

export WEFT_BIN=build/weft
grep -q 'libcurl\.a' build/lean-libs 2>/dev/null || {
    echo "skipped: the daemon links Debian's shared libraries ($(cat build/lean-libs 2>/dev/null))"
    exit 0
}
# Libraries that only Debian's builds of libcurl, libmicrohttpd and ldns load.
unwanted='lib(curl|microhttpd|ldns|ssl|crypto|gnutls|krb5|gssapi_krb5|k5crypto|ldap|lber|sasl2|ssh2|rtmp|psl|idn2|brotli|zstd|p11-kit)[.-]'
needed=$(readelf -d "$WEFT_BIN" | awk '/NEEDED/ {gsub(/[][]/, "", $5); print $5}')
if grep -E "$unwanted" <<<"$needed"; then fail "$WEFT_BIN needs the libraries above"; fi
echo "ok   $WEFT_BIN needs only: $(tr '\n' ' ' <<<"$needed")"

SUBNET=10.79.0.0/24
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
