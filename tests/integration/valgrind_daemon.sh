#!/usr/bin/env bash
# valgrind_daemon.sh: the three-host protocol test with every daemon under
# valgrind's leak checker; any leak or memory error valgrind reports in a
# daemon's log fails it (overlay_namespaces.sh reads the logs).
set -euo pipefail
cd "$(dirname "$0")/../.."
command -v valgrind >/dev/null || { echo "valgrind missing"; exit 1; }
# Valgrind runs weft 20-50 times slower: on a loaded machine a daemon has taken 17 s
# to open its socket, so it gets 90 (tests/lib/weft-valgrind scales its store timeout).
SIM_WEFT_START_S=90 WEFT_BIN=tests/lib/weft-valgrind exec bash tests/integration/overlay_namespaces.sh
