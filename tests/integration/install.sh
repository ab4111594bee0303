#!/usr/bin/env bash
# install.sh: make install lays out what a systemd host needs (binary, unit, settings
# file, weft(8)) under DESTDIR and PREFIX; it never overwrites the operator's settings;
# systemd-analyze verify accepts the unit as installed; and the settings file names
# every WEFT_ variable the daemon reads (read off the sources, so they never drift).
set -euo pipefail
cd "$(dirname "$0")/../.."
fail() { printf 'FAIL: %s\n' "$*" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# The variables the daemon reads: its settings table and the log's own (not tests').
read_vars=$(grep -ohE '"WEFT_[A-Z_]+"' daemon/options.c common/log.c | tr -d '"' | grep -v '^WEFT_TEST_' | sort -u)
[ "$(wc -l <<<"$read_vars")" -ge 15 ] || fail "found too few WEFT_ variables in the sources: $read_vars"
env_vars=$(grep -oE '^#?WEFT_[A-Z_]+=' dist/weft.env | tr -d '#=' | sort -u)
missing=$(comm -23 <(echo "$read_vars") <(echo "$env_vars"))
[ -z "$missing" ] || fail "dist/weft.env does not name: $(echo $missing)"
stale=$(comm -13 <(echo "$read_vars") <(echo "$env_vars"))
[ -z "$stale" ] || fail "dist/weft.env names variables nothing reads: $(echo $stale)"
echo "ok   dist/weft.env names every variable the daemon reads ($(wc -l <<<"$read_vars"))"

# make install, default PREFIX (/usr/local) and PREFIX=/usr.
for prefix in /usr/local /usr; do
    d=$tmp/root$prefix
    make -s --no-print-directory install DESTDIR="$d" PREFIX="$prefix" >/dev/null ||
        fail "make install PREFIX=$prefix failed"
    for f in "$prefix/bin/weft:755" "$prefix/lib/systemd/system/weft.service:644" \
             "/etc/weft/weft.env:600" "$prefix/share/man/man8/weft.8:644"; do
        path=${f%:*} mode=${f##*:}
        [ -f "$d$path" ] || fail "PREFIX=$prefix: $path not installed"
        [ "$(stat -c %a "$d$path")" = "$mode" ] || fail "$path: mode $(stat -c %a "$d$path"), want $mode"
    done
    grep -qx "ExecStart=$prefix/bin/weft daemon" "$d$prefix/lib/systemd/system/weft.service" ||
        fail "PREFIX=$prefix: the unit does not start $prefix/bin/weft"
    ! grep -q '@[A-Z]*@' "$d$prefix/lib/systemd/system/weft.service" || fail "placeholder left in the unit"
done
echo "ok   make install DESTDIR=... lays out binary, unit, settings and weft(8) (PREFIX /usr/local and /usr)"

# The operator's settings survive a second install.
d=$tmp/root/usr
echo 'WEFT_ADVERTISE=10.0.0.21' >>"$d/etc/weft/weft.env"
make -s --no-print-directory install DESTDIR="$d" PREFIX=/usr >/dev/null
grep -qx 'WEFT_ADVERTISE=10.0.0.21' "$d/etc/weft/weft.env" || fail "a second make install replaced weft.env"
echo "ok   a second make install keeps /etc/weft/weft.env"

# The unit as systemd reads it: the settings and ordering the issue asks for.
unit=$d/usr/lib/systemd/system/weft.service
for line in 'Before=docker.service' 'After=network-online.target' 'Wants=network-online.target' \
            'Restart=on-failure' 'NoNewPrivileges=yes' 'ProtectSystem=strict' 'ProtectHome=yes' \
            'PrivateTmp=yes' 'EnvironmentFile=-/etc/weft/weft.env' 'ReadWritePaths=/run/docker/plugins' \
            'CapabilityBoundingSet=CAP_NET_ADMIN CAP_SYS_ADMIN CAP_NET_BIND_SERVICE'; do
    grep -qxF "$line" "$unit" || fail "the unit lacks $line"
done
echo "ok   the unit is ordered before docker.service, restarts on failure and is hardened"

# systemd-analyze verify wants ExecStart's binary to exist: a copy of the unit points
# at the DESTDIR one. Any word from it (an unknown key, a bad value) is a failure.
command -v systemd-analyze >/dev/null ||
    { echo "skipped: no systemd-analyze (scripts/install-deps.sh test installs systemd)"; exit 0; }
sed "s|^ExecStart=/usr/bin/weft|ExecStart=$d/usr/bin/weft|" "$unit" >"$tmp/weft.service"
out=$(MANPATH=$d/usr/share/man systemd-analyze verify "$tmp/weft.service" 2>&1) ||
    fail "systemd-analyze verify refused the unit: $out"
[ -z "$out" ] || fail "systemd-analyze verify warns: $out"
echo "ok   systemd-analyze verify accepts the unit (and finds weft(8) for Documentation=)"
