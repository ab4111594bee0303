#!/usr/bin/env bash
# corpus_gateway_watch.sh: writes the seeds of tests/fuzz/fuzz_gateway_watch.c into
# tests/fuzz/corpus_gateway_watch/ (committed; rerun after changing this file): watch
# stream lines as etcd 3.4's JSON gateway sends them.
set -euo pipefail
cd "$(dirname "$0")"
out=corpus_gateway_watch
mkdir -p "$out"
b64() { printf '%s' "$1" | base64 -w0; }
H='"header":{"cluster_id":"14841639068965178418","member_id":"10276657743932975437","revision":"%s","raft_term":"2"}'
header() { printf "$H" "$1"; }
PEER_KEY=$(b64 /weft/v1/fabric/192.0.2.2/10.77.0.0_24/peers/10.77.0.9)
PEER=$(b64 '{"ip":"10.77.0.9","mac":"02:42:0a:4d:00:09","vtep":"192.0.2.2"}')
MEMBER_KEY=$(b64 /weft/v1/fabric/192.0.2.2/10.77.0.0_24/member)
MEMBER=$(b64 '{"vtep":"192.0.2.2"}')
created() { echo "{\"result\":{$(header "$1"),\"created\":true}}"; }
put() { echo "{\"kv\":{\"key\":\"$1\",\"create_revision\":\"$3\",\"mod_revision\":\"$3\",\"version\":\"1\",\"value\":\"$2\"}}"; }
del() { echo "{\"type\":\"DELETE\",\"kv\":{\"key\":\"$1\",\"mod_revision\":\"$2\"}}"; }
events() { local rev=$1; shift; local IFS=,; echo "{\"result\":{$(header "$rev"),\"events\":[$*]}}"; }
progress() { echo "{\"result\":{$(header "$1")}}"; }

{ created 10; events 12 "$(put "$MEMBER_KEY" "$MEMBER" 11)" "$(put "$PEER_KEY" "$PEER" 12)"; events 13 "$(del "$PEER_KEY" 13)"; progress 20; } >"$out/created_events"
{ created 10; echo "{\"result\":{$(header 30),\"canceled\":true,\"cancel_reason\":\"mvcc: required revision has been compacted\",\"compact_revision\":\"25\"}}"; } >"$out/compacted"
{ echo "{\"result\":{$(header 10),\"canceled\":true,\"cancel_reason\":\"rpc error: code = Unauthenticated desc = etcdserver: invalid auth token\"}}"; } >"$out/token_expired"
{ created 10; echo '{"error":{"grpc_code":14,"http_code":503,"message":"etcdserver: no leader","http_status":"Service Unavailable"}}'; } >"$out/error"
{ created 10; events 11 '{"kv":{"key":"!!not base64","mod_revision":"11"}}'; } >"$out/undecodable"
