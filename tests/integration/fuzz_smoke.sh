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
mkdir -p "$work/requests" "$work/dns" "$work/tunnel" "$work/records" "$work/watch" "$work/gateway"
cp tests/fuzz/corpus/* "$work/requests/"
cp tests/fuzz/corpus_dns/* "$work/dns/"
cp tests/fuzz/corpus_tunnel/* "$work/tunnel/"
cp tests/fuzz/corpus_records/* "$work/records/"
cp tests/fuzz/corpus_watch/* "$work/watch/"
cp tests/fuzz/corpus_gateway_watch/* "$work/gateway/"
mkdir -p build/fuzz-artifacts # a crashing input stays there to replay: build/fuzz_requests FILE
WEFT_LOG_LEVEL=off build/fuzz_requests -max_total_time="${FUZZ_SMOKE_SECONDS:-6}" -max_len=4096 \
    -print_final_stats=1 -artifact_prefix=build/fuzz-artifacts/ "$work/requests" 2>&1 | grep -E '^(Done|stat::)|ERROR|SUMMARY'
# Queries: replay a crash with build/fuzz_dns build/fuzz-artifacts/dns-FILE
WEFT_LOG_LEVEL=off build/fuzz_dns -max_total_time="${FUZZ_SMOKE_DNS_SECONDS:-4}" -max_len=4096 \
    -print_final_stats=1 -artifact_prefix=build/fuzz-artifacts/dns- "$work/dns" 2>&1 | grep -E '^(Done|stat::)|ERROR|SUMMARY'
# Datagrams: replay a crash with build/fuzz_tunnel build/fuzz-artifacts/tunnel-FILE
build/fuzz_tunnel -max_total_time="${FUZZ_SMOKE_TUNNEL_SECONDS:-3}" -max_len=4096 \
    -print_final_stats=1 -artifact_prefix=build/fuzz-artifacts/tunnel- "$work/tunnel" 2>&1 | grep -E '^(Done|stat::)|ERROR|SUMMARY'
# Store records: replay a crash with build/fuzz_records build/fuzz-artifacts/records-FILE
build/fuzz_records -max_total_time="${FUZZ_SMOKE_RECORDS_SECONDS:-3}" -max_len=4096 \
    -print_final_stats=1 -artifact_prefix=build/fuzz-artifacts/records- "$work/records" 2>&1 | grep -E '^(Done|stat::)|ERROR|SUMMARY'
# gRPC watch answers: replay a crash with build/fuzz_watch build/fuzz-artifacts/watch-FILE
build/fuzz_watch -max_total_time="${FUZZ_SMOKE_WATCH_SECONDS:-3}" -max_len=4096 \
    -print_final_stats=1 -artifact_prefix=build/fuzz-artifacts/watch- "$work/watch" 2>&1 | grep -E '^(Done|stat::)|ERROR|SUMMARY'
# The JSON gateway's watch lines: replay with build/fuzz_gateway_watch build/fuzz-artifacts/gateway-FILE
build/fuzz_gateway_watch -max_total_time="${FUZZ_SMOKE_GATEWAY_SECONDS:-2}" -max_len=4096 \
    -print_final_stats=1 -artifact_prefix=build/fuzz-artifacts/gateway- "$work/gateway" 2>&1 | grep -E '^(Done|stat::)|ERROR|SUMMARY'
echo "PASS fuzz_smoke"
