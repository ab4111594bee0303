#!/usr/bin/env bash
# man_page.sh: weft(8) covers every command, every flag (and its WEFT_ variable) the
# binary's --help texts list, every -o option the driver takes, and the exit
# statuses; and groff formats it without a warning. Read off the binary and the
# sources, so a new flag or option without its manual entry fails here.
set -euo pipefail
cd "$(dirname "$0")/../.."
weft=build/weft
page=man/weft.8
fail() { printf 'FAIL: %s\n' "$*" >&2; exit 1; }
command -v groff >/dev/null || { echo "skipped: no groff (scripts/install-deps.sh test installs groff-base)"; exit 0; }

# roff TEXT: how TEXT is written in the page source (a hyphen is \-).
roff() { sed 's/-/\\-/g' <<<"$1"; }
has() { grep -qF -- "$(roff "$1")" "$page"; }

# Commands: each "weft NAME" of weft --help is a .B/.BI entry of the page.
commands=$($weft --help | grep -oE '^ *(usage: )?weft [a-z]+' | awk '{print $NF}' | sort -u)
[ -n "$commands" ] || fail "weft --help lists no commands"
for c in $commands; do
    grep -qE "^\.BI? \"?(weft )?$c\b" "$page" || fail "weft(8) has no entry for command $c"
done
echo "ok   every command: $(echo $commands)"

# The daemon's flags and their variables.
help=$($weft daemon --help)
flags=$(grep -oE '^  --[a-z-]+' <<<"$help" | tr -d ' ' | sort -u)
[ "$(wc -l <<<"$flags")" -ge 15 ] || fail "weft daemon --help lists too few flags: $flags"
for f in $flags; do has "$f" || fail "weft(8) does not describe $f"; done
vars=$(grep -oE '\[WEFT_[A-Z_]+\]' <<<"$help" | tr -d '[]' | sort -u)
for v in $vars; do grep -qF "$v" "$page" || fail "weft(8) does not name $v"; done
echo "ok   every daemon flag ($(wc -l <<<"$flags")) and variable ($(wc -l <<<"$vars"))"

# admit, revoke, keygen and status: every flag their --help names.
for c in admit revoke keygen status; do
    for f in $($weft $c --help | grep -oE -- '--[a-z][a-z-]+' | sort -u); do
        has "$f" || fail "weft(8) does not describe weft $c $f"
    done
done
echo "ok   every flag of admit, revoke, keygen and status"

# docker network create -o: the names driver/request.c compares and Docker's spellings.
opts=$(grep -oE 'strcmp\(key, "[a-z_.]+"\)' driver/request.c | grep -oE '"[^"]+"' | tr -d '"')
opts+=" $(grep -oE '^#define DOCKER_[A-Z_]+_OPTION "[^"]+"' driver/request.c | grep -oE '"[^"]+"' | tr -d '"')"
for o in $opts; do has "$o" || fail "weft(8) does not describe -o $o"; done
echo "ok   every -o option: $(echo $opts)"

for s in 'SH EXIT STATUS' 'SH FILES' 'SH ENVIRONMENT' 'WEFT_LOG_LEVEL' '/etc/weft/weft.env'; do
    grep -qF "$s" "$page" || fail "weft(8) lacks $s"
done
for n in 0 1 2; do
    sed -n '/^\.SH EXIT STATUS/,/^\.SH /p' "$page" | grep -qx "\.B $n" || fail "EXIT STATUS lacks $n"
done
echo "ok   files, environment and exit statuses 0, 1, 2"

warnings=$(LC_ALL=C.UTF-8 groff -man -Tutf8 -ww -z "$page" 2>&1)
[ -z "$warnings" ] || fail "groff warns: $warnings"
if command -v man >/dev/null; then
    warnings=$(LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -l "$page" 2>&1 >/dev/null)
    [ -z "$warnings" ] || fail "man --warnings: $warnings"
fi
echo "ok   groff -ww and man --warnings format it without a warning"
