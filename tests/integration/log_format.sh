#!/usr/bin/env bash
# log_format.sh: the daemon logs logfmt by default and one JSON object per line with
# --log-format json or WEFT_LOG_FORMAT=json (same keys), and refuses another format.
# The daemon runs in a private network namespace (unshare -n): it finds no default
# route there and stops at once, having logged why; nothing outside is touched.
set -euo pipefail
cd "$(dirname "$0")/../.."
weft=build/weft
fail() { printf 'FAIL: %s\n' "$*" >&2; exit 1; }

set +e
out=$($weft daemon --log-format xml 2>&1); rc=$?
[ "$rc" = 2 ] && grep -q -- '--log-format must be logfmt or json' <<<"$out" || fail "--log-format xml: rc $rc, $out"
out=$(WEFT_LOG_FORMAT=yaml $weft daemon 2>&1); rc=$?
[ "$rc" = 2 ] && grep -q 'logfmt or json' <<<"$out" || fail "WEFT_LOG_FORMAT=yaml: rc $rc, $out"
echo "ok   another format is refused with exit 2"

out=$(unshare -n $weft daemon --store etcd://127.0.0.1:9 2>&1); rc=$?
[ "$rc" = 1 ] && grep -qE '^ts=[0-9T:.-]+Z level=error msg="weft daemon cannot start" error="' <<<"$out" ||
    fail "default format: rc $rc, $out"
echo "ok   logfmt by default"

check_json() { # LABEL OUTPUT
    python3 -c '
import json, sys
lines = sys.stdin.read().splitlines()
assert lines, "no log line"
for line in lines:
    obj = json.loads(line)
    assert list(obj)[:3] == ["ts", "level", "msg"], obj
    assert all(isinstance(v, str) for v in obj.values()), obj
last = json.loads(lines[-1])
assert last["level"] == "error" and last["msg"] == "weft daemon cannot start", last
assert last["error"], last
' <<<"$2" || fail "$1: not one JSON object per line with ts, level, msg first: $2"
}
out=$(unshare -n $weft daemon --log-format json --store etcd://127.0.0.1:9 2>&1); rc=$?
[ "$rc" = 1 ] || fail "--log-format json: rc $rc, $out"
check_json "--log-format json" "$out"
out=$(WEFT_LOG_FORMAT=json unshare -n $weft daemon --store etcd://127.0.0.1:9 2>&1); rc=$?
[ "$rc" = 1 ] || fail "WEFT_LOG_FORMAT=json: rc $rc, $out"
check_json "WEFT_LOG_FORMAT=json" "$out"
out=$(WEFT_LOG_FORMAT=json unshare -n $weft daemon --log-format logfmt --store etcd://127.0.0.1:9 2>&1)
grep -q '^ts=.* msg="weft daemon cannot start"' <<<"$out" || fail "the flag does not beat the variable: $out"
echo "ok   --log-format json and WEFT_LOG_FORMAT=json: one JSON object per line, same keys; the flag wins"
