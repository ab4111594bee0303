#!/usr/bin/env bash
# corpus_watch.sh: writes the seeds of tests/fuzz/fuzz_watch.c into
# tests/fuzz/corpus_watch/ (committed; rerun after changing watch_seeds.c): gRPC
# Watch answers packed by tests/fuzz/watch_seeds.c with the daemon's own protobuf-c
# code. Needs `make build/fuzz_watch` first (for the generated code).
set -euo pipefail
cd "$(dirname "$0")/../.."
mkdir -p tests/fuzz/corpus_watch build
cc -std=c11 -Wall -Wextra -Werror -I. -Ibuild/gen tests/fuzz/watch_seeds.c \
    build/gen/store/etcd_rpc.pb-c.c -o build/watch_seeds -lprotobuf-c
build/watch_seeds tests/fuzz/corpus_watch
