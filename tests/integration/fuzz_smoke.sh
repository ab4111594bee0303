#!/usr/bin/env bash
# fuzz_smoke.sh: short libFuzzer runs over the request handlers, the DNS message
# handler, the encrypted overlay's packet opening, the store records' readers and the
# watch streams' answers, gRPC and JSON (the long ones are `make fuzz`; these are 21 s in
# all, so the suite stays under its 15 minutes).
# Fails on any crash, sanitizer report or malformed answer.
set -euo pipefail
cd "$(dirname "$0")/../.."
command -v clang >/dev/null || { echo "clang missing (scripts/install-deps.sh test installs it)"; exit 1; }
make --no-print-directory build/fuzz_requests build/fuzz_dns build/fuzz_tunnel build/fuzz_records \
    build/fuzz_watch build/fuzz_gateway_watch >/dev/null
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p build/fuzz-artifacts # a crashing input stays there to replay: build/fuzz_NAME FILE
# smoke NAME CORPUS ARTIFACT_PREFIX SECONDS: build/fuzz_NAME on a copy of
# tests/fuzz/CORPUS (the committed corpus is not grown here).
smoke() {
    mkdir -p "$work/$1"
    cp "tests/fuzz/$2"/* "$work/$1/"
    WEFT_LOG_LEVEL=off "build/fuzz_$1" -max_total_time="$4" -max_len=4096 -print_final_stats=1 \
        -artifact_prefix="build/fuzz-artifacts/$3" "$work/$1" 2>&1 | grep -E '^(Done|stat::)|ERROR|SUMMARY'
}
smoke requests corpus "" "${FUZZ_SMOKE_SECONDS:-6}"                      # plugin requests
smoke dns corpus_dns dns- "${FUZZ_SMOKE_DNS_SECONDS:-4}"                  # queries
smoke tunnel corpus_tunnel tunnel- "${FUZZ_SMOKE_TUNNEL_SECONDS:-3}"      # datagrams
smoke records corpus_records records- "${FUZZ_SMOKE_RECORDS_SECONDS:-3}"  # store records
smoke watch corpus_watch watch- "${FUZZ_SMOKE_WATCH_SECONDS:-3}"          # gRPC watch answers
smoke gateway_watch corpus_gateway_watch gateway- "${FUZZ_SMOKE_GATEWAY_SECONDS:-2}" # JSON watch lines
echo "PASS fuzz_smoke"
