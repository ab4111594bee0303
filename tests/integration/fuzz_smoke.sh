#!/usr/bin/env bash
# fuzz_smoke.sh: a short libFuzzer run over the request handlers (the long one is
# `make fuzz`). Fails on any crash, sanitizer report or malformed answer.
set -euo pipefail
cd "$(dirname "$0")/../.."
command -v clang >/dev/null || { echo "clang missing (scripts/install-deps.sh test installs it)"; exit 1; }
make --no-print-directory build/fuzz_requests >/dev/null
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp tests/fuzz/corpus/* "$work/"
mkdir -p build/fuzz-artifacts # a crashing input stays there to replay: build/fuzz_requests FILE
WEFT_LOG_LEVEL=off build/fuzz_requests -max_total_time="${FUZZ_SMOKE_SECONDS:-30}" -max_len=4096 \
    -print_final_stats=1 -artifact_prefix=build/fuzz-artifacts/ "$work" 2>&1 | grep -E '^(Done|stat::)|ERROR|SUMMARY'
echo "PASS fuzz_smoke"
