#!/usr/bin/env bash
# corpus_dns.sh: writes the seed queries of tests/fuzz/fuzz_dns.c into
# tests/fuzz/corpus_dns/ (committed; rerun after changing this file). Each seed is
# a wire message spelled in hex below: the overlay's questions (fuzz_dns.c's fake
# names web, api, many and 10.77.0.0/24), other people's, and what is no query.
set -euo pipefail
cd "$(dirname "$0")"
out=corpus_dns
mkdir -p "$out"

# name a.b.c -> its wire form in hex (labels, then the root).
name() {
    local hex="" label
    local IFS=.
    for label in $1; do
        hex+=$(printf '%02x' "${#label}")$(printf '%s' "$label" | od -An -tx1 | tr -d ' \n')
    done
    printf '%s00' "$hex"
}
# header ID FLAGS QD AN NS AR (hex words)
header() { printf '%s%s%04x%04x%04x%04x' "$1" "$2" "$3" "$4" "$5" "$6"; }
question() { printf '%s%04x%04x' "$(name "$1")" "$2" "$3"; } # name type class
opt() { printf '00%04x%04x%04x%04x0000' 41 "$1" "$2" "$3"; }  # udp size, ttl high, ttl low
seed() { printf "$(printf '%s' "$2" | sed 's/../\\x&/g')" >"$out/$1"; }

A=1 PTR=12 MX=15 TXT=16 AAAA=28 ANY=255 IN=1 CH=3
rev() { printf '%s.in-addr.arpa' "$1"; }

seed a_web "$(header 1234 0100 1 0 0 0)$(question web $A $IN)"
seed a_api_edns "$(header 0002 0100 1 0 0 1)$(question api $A $IN)$(opt 4096 0 0)"
seed a_many "$(header 0003 0100 1 0 0 0)$(question many $A $IN)"
seed a_many_edns_small "$(header 0004 0100 1 0 0 1)$(question many $A $IN)$(opt 700 0 0)"
seed aaaa_web "$(header 0005 0100 1 0 0 0)$(question web $AAAA $IN)"
seed any_api "$(header 0006 0000 1 0 0 0)$(question api $ANY $IN)"
seed mx_upper "$(header 0007 0100 1 0 0 0)$(question WeB $MX $IN)"
seed ptr_known "$(header 0008 0100 1 0 0 0)$(question "$(rev 2.0.77.10)" $PTR $IN)"
seed ptr_long_name "$(header 0009 0100 1 0 0 1)$(question "$(rev 4.0.77.10)" $PTR $IN)$(opt 1232 0 0)"
seed ptr_bad_name "$(header 000a 0100 1 0 0 0)$(question "$(rev 5.0.77.10)" $PTR $IN)"
seed ptr_unknown "$(header 000b 0100 1 0 0 0)$(question "$(rev 99.0.77.10)" $PTR $IN)"
seed ptr_zone "$(header 000c 0100 1 0 0 0)$(question "$(rev 0.77.10)" $PTR $IN)"
seed ptr_outside "$(header 000d 0100 1 0 0 0)$(question "$(rev 1.1.168.192)" $PTR $IN)"
seed a_other "$(header 000e 0100 1 0 0 0)$(question www.example.com $A $IN)"
seed txt_chaos "$(header 000f 0000 1 0 0 0)$(question version.bind $TXT $CH)"
seed edns_badvers "$(header 0010 0100 1 0 0 1)$(question web $A $IN)$(opt 1232 1 0)"
seed drop_response "$(header 0011 8180 1 0 0 0)$(question web $A $IN)"
seed drop_two_questions "$(header 0013 0100 2 0 0 0)$(question web $A $IN)$(question api $A $IN)"
seed drop_cut "$(header 0014 0100 1 0 0 0)03776562"
seed drop_pointer_loop "$(header 0015 0100 1 0 0 0)c00c00010001"
