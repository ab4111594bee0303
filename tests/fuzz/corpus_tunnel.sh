#!/usr/bin/env bash
# corpus_tunnel.sh: writes the seed programs of tests/fuzz/fuzz_tunnel.c into
# tests/fuzz/corpus_tunnel/ (committed; rerun after changing this file). Each seed
# is spelled in hex below: a first byte for the sender's packets per epoch, then
# steps (fuzz_tunnel.c's header lists them): seal, open, tamper, replay, time.
set -euo pipefail
cd "$(dirname "$0")"
out=corpus_tunnel
rm -rf "$out"
mkdir -p "$out"

bytes() { local i; for ((i = 0; i < $1; i++)); do printf '%02x' $(((i * 37 + $2) % 256)); done; }
seal() { printf '01%02x%s' "$1" "$(bytes $(($1 * 6)) "$1")"; } # frame of $1*6 bytes
open() { printf '02%02x%02x%02x' "$1" "${2:-0}" "${3:-0}"; }     # slot, index, xor
wait_s() { printf '03%02x' "$1"; }
raw() { printf '00%04x%s' $((${#1} / 2)) "$1"; } # a datagram as given
seed() { printf "$(printf '%s' "$2" | sed 's/../\\x&/g')" >"$out/$1"; }

BIG=80 ONE=00 THREE=02 # packets per epoch: 2^48, 1, 3
BIG6=c0                # 2^48, on an IPv6 underlay
header() { printf 'a101%02x00%08x%016x' "$1" "$2" "$3"; } # cipher epoch counter
tag=00112233445566778899aabbccddeeff

seed seal_open "$BIG$(seal 10)$(open 0)"
seed empty_frame "$BIG$(seal 0)$(open 0)"
seed big_frame "$BIG$(seal 250)$(open 0)"
seed replay "$BIG$(seal 4)$(open 0)$(open 0)"
seed out_of_order "$BIG$(seal 2)$(seal 2)$(seal 2)$(open 2)$(open 0)$(open 1)$(open 0)"
seed tamper_header "$BIG$(seal 3)$(open 0 2 1)$(open 0 6 1)$(open 0 15 128)$(open 0)"
seed tamper_body "$BIG$(seal 3)$(open 0 20 255)$(open 0 49 1)$(open 0)"
seed other_host "$BIG$(seal 3)$(open 128)$(open 0)"
seed ipv6_seal_open "$BIG6$(seal 10)$(open 0)$(open 0 30 4)"
seed ipv6_other_host "$BIG6$(seal 3)$(open 128)$(open 0)"
seed rekey_time "$BIG$(seal 2)$(wait_s 120)$(seal 2)$(open 1)$(wait_s 5)$(open 0)$(seal 2)$(wait_s 11)$(open 2)"
seed grace_over "$BIG$(seal 2)$(seal 2)$(wait_s 120)$(seal 2)$(open 2)$(wait_s 10)$(open 0)$(open 1)"
seed two_ahead "$ONE$(seal 1)$(seal 1)$(seal 1)$(seal 1)$(open 2)$(open 1)$(open 0)$(open 2)$(open 3)"
seed limit_three "$THREE$(seal 1)$(seal 1)$(seal 1)$(seal 1)$(open 3)$(open 0)$(open 1)$(open 2)"
seed long_loss "$BIG$(seal 1)$(open 0)$(wait_s 120)$(seal 1)$(wait_s 120)$(seal 1)$(wait_s 120)$(seal 1)$(wait_s 1)$(open 3)"
seed raw_aes "$BIG$(raw "$(header 1 0 0)$tag")"
seed raw_chacha "$BIG$(raw "$(header 2 0 5)$(bytes 40 1)$tag")"
seed raw_epoch_ahead "$BIG$(raw "$(header 1 1 0)$tag")$(raw "$(header 2 1 0)$tag")"
seed raw_short "$BIG$(raw a10101000000)"
seed raw_bad_magic "$BIG$(raw "b1010100$(printf '%024x' 0)$tag")"
