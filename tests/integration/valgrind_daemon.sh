#!/usr/bin/env bash
# valgrind_daemon.sh: the three-host protocol test with every daemon under
# valgrind's leak checker; any leak or memory error valgrind reports in a
# daemon's log fails it (overlay_namespaces.sh reads the logs).
set -euo pipefail
cd "$(dirname "$0")/../.."
command -v valgrind >/dev/null || { echo "valgrind missing"; exit 1; }
WEFT_BIN=tests/lib/weft-valgrind exec bash tests/integration/overlay_namespaces.sh
