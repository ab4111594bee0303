#!/usr/bin/env bash
# The house rules that a reader can check without running anything (issue 9):
# no product file over 600 lines, no function over 80, netlink/nl.h included
# only by vxlan/ and daemon/main.c, jansson.h only by driver/, store/ and docker/ (the
# Docker Engine API's answers), ldns only by dns/.
# Product code: the module folders, not tests/, bench/ or build/.
set -u
cd "$(dirname "$0")/../.."
rooms=(common store ipam netlink vxlan datapath fabric driver daemon admin docker dns tunnel)
max_file=600 max_function=80
bad=0
fail() { echo "FAIL: $*"; bad=1; }

files=$(find "${rooms[@]}" -name '*.[ch]' | sort)
[ -n "$files" ] || { echo "no product sources found"; exit 1; }

for f in $files; do
    n=$(wc -l <"$f")
    [ "$n" -le $max_file ] || fail "$f has $n lines (at most $max_file)"
done

# A function body runs from a "{" alone in column 0 to the next "}" in column 0
# (the house style: the brace of a function sits on its own line). Its length
# counts from the line that names it to the closing brace.
for f in $(find "${rooms[@]}" -name '*.c' | sort); do
    awk -v max=$max_function -v file="$f" '
        /^\{/ && name != "" { start = name_line; inside = 1; next_name = name; next }
        /^\}/ && inside { len = NR - start + 1
                          if (len > max) { printf "FAIL: %s:%d %s is %d lines (at most %d)\n", file, start, next_name, len, max; bad = 1 }
                          inside = 0; name = ""; next }
        !inside && /^[A-Za-z_].*\(/ { name = $0; sub(/\(.*/, "", name); n = split(name, w, /[ *]+/); name = w[n]; name_line = NR }
        END { exit bad }' "$f" || bad=1
done

# Which files may include which headers.
check_includers() { # header, allowed pattern (extended regex on the path)
    local header=$1 allowed=$2 f
    for f in $(grep -l "#include [<\"]$header[>\"]" $files); do
        [[ "$f" =~ $allowed ]] || fail "$f includes $header (only ${allowed//|/ or } may)"
    done
}
check_includers 'netlink/nl.h' '^(netlink/|vxlan/|daemon/main\.c$)'
check_includers 'jansson.h' '^(driver/|store/|docker/)'
check_includers 'ldns/ldns.h' '^dns/'
# libmnl itself stays behind netlink/.
check_includers 'libmnl/libmnl.h' '^netlink/'

[ $bad -eq 0 ] && echo "rooms: every file <= $max_file lines, every function <= $max_function, includes in their rooms"
exit $bad
