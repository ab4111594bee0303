#!/usr/bin/env bash
# admin.sh: weft admit and weft revoke from the command line (issue 17): what they
# print and leave behind, their refusals (bad HOST, an existing password file, a host
# admitted already without --rotate, a store that is away or wants a user) and exit
# codes (0 done, 1 refused or failed, 2 bad command line). etcd runs in its own
# namespace (sim.sh); the commands run there too, under ASan/UBSan.
set -euo pipefail
. "$(dirname "$0")/../lib/sim.sh"
weft=$SIM_REPO/${WEFT_BIN:-build/weft-san}
sim_init
sim_switch
sim_etcd
store=$(sim_etcd_url)
dir=$SIM_DIR/admin
mkdir -p "$dir"

# weft_in_dir ARGS...: weft in etcd's namespace, in $dir; sets out (stdout+stderr) and rc.
weft_in_dir() {
    set +e
    out=$(cd "$dir" && sim_ns_exec etcd "$weft" "$@" 2>&1)
    rc=$?
    set -e
}
expect() { # RC PATTERN DESCRIPTION
    [ "$rc" = "$1" ] && grep -q -- "$2" <<<"$out" || fail "$3: rc $rc (want $1), output: $out"
    echo "ok   $3"
}

out=$("$weft" --help)
grep -q "weft admit HOST" <<<"$out" && grep -q "weft revoke HOST" <<<"$out" ||
    fail "weft --help does not list admit and revoke"
weft_in_dir admit --help
expect 0 "--rotate" "weft admit --help explains --rotate"
for flag in --password-file --store --store-ca --store-cert --store-key --store-user \
    --store-password-file; do
    grep -q -- "$flag" <<<"$out" || fail "weft admit --help does not explain $flag"
done
weft_in_dir revoke --help
expect 0 "store flags" "weft revoke --help explains its flags"

# Bad command lines: exit 2, nothing made.
weft_in_dir admit 192.168.77.01 --store "$store"
expect 2 "not a valid IPv4 address" "a HOST with a leading zero is refused"
weft_in_dir admit fe80::1 --store "$store"
expect 2 "IPv6" "an IPv6 HOST is refused"
weft_in_dir admit 127.0.0.1 --store "$store"
expect 2 "not a unicast address" "a loopback HOST is refused"
weft_in_dir admit --store "$store"
expect 2 "which host" "admit without HOST is refused"
weft_in_dir admit 192.168.77.1 192.168.77.2 --store "$store"
expect 2 "unexpected argument 192.168.77.2" "two HOSTs are refused"
weft_in_dir revoke 192.168.77.1 --rotate --store "$store"
expect 2 "unknown or incomplete flag --rotate" "revoke refuses admit's flags"
weft_in_dir admit 192.168.77.1 --store-user root --store "$store"
expect 2 "go together" "--store-user without --store-password-file is refused"
[ -z "$(ls -A "$dir")" ] || fail "refused commands left files: $(ls -A "$dir")"
[ -z "$(sim_etcdctl user list)" ] || fail "refused commands made users: $(sim_etcdctl user list)"

# Admit: user, role, a 0600 password file, the daemon's flags.
weft_in_dir admit 192.168.77.1 --store "$store"
expect 0 "--store-user weft-host-192.168.77.1 --store-password-file $dir/weft-192.168.77.1.password" \
    "admit prints the daemon's flags"
[ "$(stat -c %a "$dir/weft-192.168.77.1.password")" = 600 ] || fail "password file is not 0600"
[ "$(wc -c <"$dir/weft-192.168.77.1.password")" = 44 ] || fail "password is not 44 characters"
sim_etcdctl user get weft-host-192.168.77.1 | grep "Roles: weft-host-192.168.77.1" >/dev/null ||
    fail "the user lacks its role"
sim_etcdctl role get weft-host-192.168.77.1 | grep "prefix /weft/v1/fabric/192.168.77.1/" >/dev/null ||
    fail "the role lacks fabric/192.168.77.1/"
echo "ok   admit made the user, its role and ./weft-HOST.password (0600, 44 characters)"
first=$(cat "$dir/weft-192.168.77.1.password")

# Refusals: exit 1, the store and files as they were.
weft_in_dir admit 192.168.77.1 --store "$store" --password-file again.password
expect 1 "admitted already.*--rotate" "admitting a host again is refused"
[ ! -e "$dir/again.password" ] || fail "the refused admit left again.password"
weft_in_dir admit 192.168.77.2 --store "$store" --password-file weft-192.168.77.1.password
expect 1 "never overwrites" "an existing password file is refused"
[ "$(cat "$dir/weft-192.168.77.1.password")" = "$first" ] || fail "the password file changed"
! sim_etcdctl user get weft-host-192.168.77.2 >/dev/null 2>&1 || fail "refused admit made a user"
weft_in_dir admit 192.168.77.9 --store "$store" --rotate
expect 1 "not admitted" "--rotate for a host never admitted is refused"
weft_in_dir admit 192.168.77.3 --store etcd://127.0.0.1:1
expect 1 "unreachable.*is etcd running" "a store that is away fails with exit 1"
[ ! -e "$dir/weft-192.168.77.3.password" ] || fail "a failed admit left its password file"

# Rotate: a new password in a new file; the old one stops working.
weft_in_dir admit 192.168.77.1 --store "$store" --rotate --password-file rotated.password
expect 0 "new password for host 192.168.77.1" "--rotate gives a new password"
second=$(cat "$dir/rotated.password")
[ "$second" != "$first" ] || fail "--rotate kept the password"
sim_etcdctl user add root:rootpw >/dev/null
sim_etcdctl user grant-role root root >/dev/null
sim_etcdctl auth enable >/dev/null
sim_etcdctl --user "weft-host-192.168.77.1:$second" put /weft/v1/hosts/192.168.77.1/alive x \
    >/dev/null || fail "the rotated password does not work"
! sim_etcdctl --user "weft-host-192.168.77.1:$first" put /weft/v1/hosts/192.168.77.1/alive x \
    >/dev/null 2>&1 || fail "the old password still works"
! sim_etcdctl --user "weft-host-192.168.77.1:$second" put /weft/v1/hosts/192.168.77.2/alive x \
    >/dev/null 2>&1 || fail "host 192.168.77.1 wrote 192.168.77.2's record"
echo "ok   the host writes its own records with the new password, not with the old, not others'"

# Authentication on and no --store-user: says what to pass.
weft_in_dir admit 192.168.77.3 --store "$store"
expect 1 "authentication enabled: pass --store-user root" "an admin without a user is told to pass one"
[ ! -e "$dir/weft-192.168.77.3.password" ] || fail "a failed admit left its password file"
# As root (once the store client speaks users: branch i17-store).
# Secret files only their owner reads (the daemon's reader, common/secret_file, insists).
(umask 077 && printf 'rootpw\n' >"$dir/root.password" && printf 'opspw' >"$dir/ops.password")
weft_in_dir admit 192.168.77.3 --store "$store" --store-user root --store-password-file root.password
if grep -q "not supported yet" <<<"$out"; then
    echo "skip admit as etcd's root user: this store client has no users yet"
else
    expect 0 "admitted host 192.168.77.3" "admit as etcd's root user"
    sim_etcdctl --user root:rootpw user add ops:opspw >/dev/null
    weft_in_dir admit 192.168.77.4 --store "$store" --store-user ops --store-password-file ops.password
    expect 1 "the admin user must have etcd's root role" "an admin without the root role is told so"
    [ ! -e "$dir/weft-192.168.77.4.password" ] || fail "a failed admit left its password file"
    weft_in_dir revoke 192.168.77.3 --store "$store" --store-user root --store-password-file ops.password
    expect 1 "check --store-user and --store-password-file" "a wrong admin password is told so"
    weft_in_dir revoke 192.168.77.3 --store "$store" --store-user root --store-password-file root.password
    expect 0 "user weft-host-192.168.77.3 deleted" "revoke as etcd's root user"
fi
sim_etcdctl --user root:rootpw auth disable >/dev/null

# Revoke: user, role and records go; the other hosts' stay; a second run is fine.
sim_etcdctl put /weft/v1/fabric/192.168.77.1/10.1.0.0_24/member '{"vtep":"192.168.77.1"}' >/dev/null
sim_etcdctl put /weft/v1/addrs/10.1.0.0_24/10.1.0.2 \
    '{"host":"192.168.77.1","kind":"endpoint","claim":"c1"}' >/dev/null
sim_etcdctl put /weft/v1/hosts/192.168.77.10/alive '{"vtep":"192.168.77.10"}' >/dev/null
weft_in_dir revoke 192.168.77.1 --store "$store"
expect 0 "user weft-host-192.168.77.1 deleted, role deleted; deleted 1 host records, 1 fabric records, 1 address claims" \
    "revoke deletes the user, the role and the host's records"
[ -z "$(sim_etcdctl get --prefix /weft/v1/hosts/192.168.77.1/ --keys-only)" ] &&
    [ -z "$(sim_etcdctl get /weft/v1/addrs/10.1.0.0_24/10.1.0.2 --keys-only)" ] ||
    fail "revoke left records of 192.168.77.1"
[ -n "$(sim_etcdctl get /weft/v1/hosts/192.168.77.10/alive --keys-only)" ] ||
    fail "revoke of 192.168.77.1 deleted 192.168.77.10's record"
! sim_etcdctl role get weft-host-192.168.77.1 >/dev/null 2>&1 || fail "the role is still there"
weft_in_dir revoke 192.168.77.1 --store "$store"
expect 0 "did not exist (fine)" "revoking again says the user and role were gone already"
weft_in_dir revoke 192.168.77.1 --store etcd://127.0.0.1:1
expect 1 "unreachable" "revoke against a store that is away fails with exit 1"
echo "PASS admin"
