#!/usr/bin/env bash
# Runs every weft test suite and prints one closing line "N passed, N failed".
# TEST_ONLY=unit|integration|e2e narrows it; TEST_FILTER=word runs only matching tests.
# Each test is a program or script that exits 0 on success; its output goes to
# build/test-logs/<name>.log and is shown when it fails.
set -u
cd "$(dirname "$0")/.."
only=${TEST_ONLY:-all}
filter=${TEST_FILTER:-}
logs=build/test-logs
mkdir -p "$logs"
passed=0 failed=0 failures=()

run_one() { # name, command...
    local name=$1; shift
    [ -n "$filter" ] && [[ "$name" != *"$filter"* ]] && return
    local log="$logs/${name//\//_}.log" start=$SECONDS
    if "$@" >"$log" 2>&1; then
        passed=$((passed + 1)); printf 'PASS %-50s %3ss\n' "$name" $((SECONDS - start))
    else
        failed=$((failed + 1)); failures+=("$name")
        printf 'FAIL %-50s %3ss\n' "$name" $((SECONDS - start))
        tail -n 60 "$log" | sed 's/^/    | /'
    fi
}

if [ "$only" = all ] || [ "$only" = unit ]; then
    for t in build/tests/test_*; do [ -x "$t" ] && run_one "unit/$(basename "$t")" "$t"; done
    for t in build/tests-san/test_*; do
        [ -x "$t" ] && run_one "unit-san/$(basename "$t")" env ASAN_OPTIONS=detect_leaks=1 "$t"
    done
fi
if [ "$only" = all ] || [ "$only" = integration ]; then
    for t in tests/integration/*.sh; do [ -f "$t" ] && run_one "integration/$(basename "$t" .sh)" bash "$t"; done
fi
if [ "$only" = all ] || [ "$only" = e2e ]; then
    for t in tests/e2e/*.sh; do [ -f "$t" ] && run_one "e2e/$(basename "$t" .sh)" bash "$t"; done
fi

[ ${#failures[@]} -gt 0 ] && printf 'failed: %s\n' "${failures[*]}"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
