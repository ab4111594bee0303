#!/usr/bin/env bash
# bench/watch_layout.sh: what the fabric's key layout costs etcd's watches (issue 17).
# Fabric records are host-first (/weft/v1/fabric/<host>/<sk>/...) so each host's etcd
# user can be limited to its own prefix; a daemon watches all of /weft/v1/fabric/. This
# measures etcd's side of three ways to watch, on one etcd on loopback, through the
# JSON gateway as weft does (POST /v3/watch streamed by curl, one curl per stream):
#   A  host-first, one stream per host on /weft/v1/fabric/ (what weft does);
#   B  overlay-first (/weft/v1/fabric/<sk>/members/<vtep>, .../peers/<ip>), one
#      stream per overlay a host is in, on /weft/v1/fabric/<sk>/;
#   C  host-first, one stream per other member m of each overlay, on
#      /weft/v1/fabric/<m>/<sk>/ (one watch per stream: several create requests in one
#      gateway POST lose some, as the HTTP/1.1 server stops reading the body once it
#      answers). The dense case would need 24 500 streams, more than one curl each can
#      carry here: it runs only with LAYOUT_DENSE_C=1;
#   -  no watcher (the write path alone).
# Scenarios: "sparse" is the issue's 50 hosts x 100 overlays, overlay o on hosts
# o mod 50 and (o+1) mod 50, 10 peers per member (200 member + 2 000 peer records);
# "dense" is 50 hosts all in each of 10 overlays, 4 peers per member (500 + 2 000).
# A run starts the layout's watchers, puts every record (one key per request, WRITERS
# curl processes through the gateway), deletes them, and waits until every stream has
# every event it should; etcd's CPU (utime + stime) and the wall time cover that phase.
# Usage: bench/watch_layout.sh [RESULTS_FILE]: prints a table; writes "key value" lines
# (layout_<scenario>_<A|B|C|none>_<figure>_r<run>) to RESULTS_FILE when given.
# Knobs: LAYOUT_RUNS (2): rounds of "none A B C", alternating; WRITERS (4);
# LAYOUT_SCENARIOS ("sparse dense"); LAYOUTS ("none A B C"); LAYOUT_PEERS (peers per member:
# the scenario's 10 or 4), LAYOUT_HOSTS (50) and LAYOUT_OVERLAYS (the sparse scenario's 100):
# fewer only to try the harness (bench_smoke). A run whose events did not
# all arrive within 300 s says so on stderr and in the table ("incomplete").
# A benchmark: nothing here fails on a figure.
set -euo pipefail
cd "$(dirname "$0")/.."

LAYOUT_RUNS=${LAYOUT_RUNS:-2} WRITERS=${WRITERS:-4}
LAYOUT_SCENARIOS=${LAYOUT_SCENARIOS:-sparse dense} LAYOUTS=${LAYOUTS:-none A B C}
RESULTS=${1:-}
HOSTS_N=${LAYOUT_HOSTS:-50}
for t in etcd curl perl ss; do
    command -v "$t" >/dev/null || { echo "watch_layout: $t is missing" >&2; exit 2; }
done
mkdir -p build
WORK=$(mktemp -d "$PWD/build/watch_layout.XXXXXX")
ETCD_PID='' WATCH_PIDS=() WRITER_PIDS=()

stop_pids() { # PID...: TERM, then reap; each pid is one this script started
    local p
    for p in "$@"; do kill "$p" 2>/dev/null || true; done
    for p in "$@"; do wait "$p" 2>/dev/null || true; done
}
cleanup() {
    stop_pids "${WATCH_PIDS[@]}" "${WRITER_PIDS[@]}"
    WATCH_PIDS=() WRITER_PIDS=()
    [ -z "$ETCD_PID" ] || stop_pids "$ETCD_PID"
    ETCD_PID=
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'cleanup; exit 130' INT
trap 'cleanup; exit 143' TERM

now_ms() { date +%s%3N; }
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
. bench/free_port.sh

# ---------------- etcd on loopback, its own ports and data dir ----------------
CPORT=$(free_port) PPORT=$(free_port "$CPORT")
URL=http://127.0.0.1:$CPORT
etcd --name wl --data-dir "$WORK/etcd" \
    --listen-client-urls "$URL" --advertise-client-urls "$URL" \
    --listen-peer-urls "http://127.0.0.1:$PPORT" --initial-advertise-peer-urls "http://127.0.0.1:$PPORT" \
    --initial-cluster "wl=http://127.0.0.1:$PPORT" >"$WORK/etcd.log" 2>&1 &
ETCD_PID=$!
for _ in $(seq 1 300); do
    curl -fsS -m 1 "$URL/health" >/dev/null 2>&1 && break
    kill -0 "$ETCD_PID" 2>/dev/null || { tail -n 20 "$WORK/etcd.log" >&2; exit 1; }
    sleep 0.1
done
curl -fsS -m 1 "$URL/health" >/dev/null || { echo "watch_layout: etcd not healthy" >&2; exit 1; }

# ---------------- the scenarios: who is in which overlay ----------------
declare -A MEMBERS # overlay index -> "host indexes"
SCEN='' OVERLAYS=0 PEERS=0 SK_OCTET=0
scenario() { # NAME
    local o h
    SCEN=$1
    MEMBERS=()
    case $1 in
    sparse) OVERLAYS=${LAYOUT_OVERLAYS:-100} PEERS=${LAYOUT_PEERS:-10} SK_OCTET=77
        for o in $(seq 0 $((OVERLAYS - 1))); do MEMBERS[$o]="$((o % HOSTS_N)) $(((o + 1) % HOSTS_N))"; done ;;
    dense) OVERLAYS=10 PEERS=${LAYOUT_PEERS:-4} SK_OCTET=78
        for o in $(seq 0 9); do MEMBERS[$o]=$(seq -s ' ' 0 $((HOSTS_N - 1))); done ;;
    *) echo "watch_layout: unknown scenario $1" >&2; exit 2 ;;
    esac
    SK=()
    for o in $(seq 0 $((OVERLAYS - 1))); do SK[$o]=10.$SK_OCTET.$o.0_24; done
}
declare -a HN VT SK # host index -> name, VTEP; overlay index -> subnet key
for h in $(seq 0 $((HOSTS_N - 1))); do printf -v "HN[$h]" 'host-%02d' "$h"; VT[$h]=192.168.77.$((101 + h)); done

# The writes of one layout (hostfirst or overlayfirst) as "put KEY VALUE" / "del KEY"
# lines in $WORK/ops.<layout>.<put|del>.<writer>; a writer takes the hosts h mod WRITERS.
make_ops() { # LAYOUT
    local layout=$1 o h i j ip mkey pkey w f
    for w in $(seq 0 $((WRITERS - 1))); do : >"$WORK/ops.$layout.put.$w"; : >"$WORK/ops.$layout.del.$w"; done
    for o in $(seq 0 $((OVERLAYS - 1))); do
        i=0
        for h in ${MEMBERS[$o]}; do
            w=$((h % WRITERS))
            if [ "$layout" = hostfirst ]; then mkey=/weft/v1/fabric/${HN[$h]}/${SK[$o]}/member
            else mkey=/weft/v1/fabric/${SK[$o]}/members/${VT[$h]}; fi
            f=$WORK/ops.$layout
            echo "put $mkey {\"vtep\":\"${VT[$h]}\"}" >>"$f.put.$w"
            echo "del $mkey" >>"$f.del.$w"
            for j in $(seq 0 $((PEERS - 1))); do
                ip=10.$SK_OCTET.$o.$((i * PEERS + j + 1))
                if [ "$layout" = hostfirst ]; then pkey=/weft/v1/fabric/${HN[$h]}/${SK[$o]}/peers/$ip
                else pkey=/weft/v1/fabric/${SK[$o]}/peers/$ip; fi
                printf 'put %s {"ip":"%s","mac":"02:42:0a:%02x:%02x:%02x","vtep":"%s"}\n' \
                    "$pkey" "$ip" "$SK_OCTET" "$o" $((i * PEERS + j + 1)) "${VT[$h]}" >>"$f.put.$w"
                echo "del $pkey" >>"$f.del.$w"
            done
            i=$((i + 1))
        done
    done
    # Each ops file becomes one curl config: one request per key on a kept connection.
    for f in "$WORK"/ops."$layout".*; do
        perl -MMIME::Base64 -ne 'chomp; my ($op, $k, $v) = split / /, $_, 3;
            my $b = "\"key\":\"" . encode_base64($k, "") . "\"";
            $b .= ",\"value\":\"" . encode_base64($v, "") . "\"" if $op eq "put";
            $b =~ s/"/\\"/g;
            print "url = \"'"$URL"'/v3/kv/" . ($op eq "put" ? "put" : "deleterange") . "\"\n",
                "silent\nshow-error\ndata-binary = \"{$b}\"\n", eof() ? "" : "next\n";' "$f" >"$f.curl"
    done
}

# The streams of one layout: $WORK/streams.<L>/<n>.body holds the create requests,
# EXPECT[n] the events stream n must receive, NWATCH the watches in all.
declare -a EXPECT
NWATCH=0
add_stream() { # DIR EXPECTED PREFIX...
    local dir=$1 expected=$2 n=${#EXPECT[@]}
    shift 2
    printf '%s\n' "$@" >"$dir/$n.prefixes"
    EXPECT[$n]=$expected
    NWATCH=$((NWATCH + $#))
}
make_streams() { # LAYOUT (A B C none)
    local L=$1 dir=$WORK/streams.$1 h o m total=0 n
    rm -rf "$dir"
    mkdir -p "$dir"
    EXPECT=() NWATCH=0
    for o in $(seq 0 $((OVERLAYS - 1))); do
        n=$(wc -w <<<"${MEMBERS[$o]}")
        total=$((total + 2 * n * (1 + PEERS)))
    done
    case $L in
    A) for h in $(seq 0 $((HOSTS_N - 1))); do add_stream "$dir" "$total" /weft/v1/fabric/; done ;;
    B | C) for h in $(seq 0 $((HOSTS_N - 1))); do
            for o in $(seq 0 $((OVERLAYS - 1))); do
                [[ " ${MEMBERS[$o]} " == *" $h "* ]] || continue
                n=$(wc -w <<<"${MEMBERS[$o]}")
                if [ "$L" = B ]; then
                    add_stream "$dir" $((2 * n * (1 + PEERS))) "/weft/v1/fabric/${SK[$o]}/"
                else
                    for m in ${MEMBERS[$o]}; do
                        [ "$m" = "$h" ] || add_stream "$dir" $((2 * (1 + PEERS))) "/weft/v1/fabric/${HN[$m]}/${SK[$o]}/"
                    done
                fi
            done
        done ;;
    none) ;;
    esac
    # Prefix -> {"create_request":{"key":b64,"range_end":b64}}, range_end = prefix with
    # its last byte ("/") raised by one.
    [ "${#EXPECT[@]}" = 0 ] || perl -MMIME::Base64 -ne 'chomp; my $e = $_; substr($e, -1) = chr(ord(substr($e, -1)) + 1);
        if ($ARGV ne ($cur // "")) { $cur = $ARGV; (my $o = $cur) =~ s/prefixes$/body/; open(OUT, ">", $o) or die; }
        printf OUT "{\"create_request\":{\"key\":\"%s\",\"range_end\":\"%s\"}}\n",
            encode_base64($_, ""), encode_base64($e, "");' "$dir"/*.prefixes
}

# wait_counts PATTERN SECONDS FILE:WANT...: follows the files (streams being written)
# until each holds PATTERN WANT times or SECONDS pass; prints the occurrences in all
# files, and fails on the timeout. One process reading only what is new: cheap polling.
wait_counts() {
    perl -e 'my ($pat, $secs, @fw) = @ARGV; my $end = time + $secs; my (@fh, @want, @n, @tail);
        for (@fw) { my ($f, $w) = /^(.*):(\d+)$/; open(my $h, "<", $f) or die "$f: $!";
            push @fh, $h; push @want, $w; push @n, 0; push @tail, ""; }
        my $k = length($pat) - 1;
        while (1) {
            my $short = 0;
            for my $i (0 .. $#fh) {
                my $buf; my $r = sysread($fh[$i], $buf, 1 << 20);
                while ($r) { my $s = $tail[$i] . $buf; my $c = () = $s =~ /\Q$pat\E/g; $n[$i] += $c;
                    $tail[$i] = length($s) > $k ? substr($s, -$k) : $s;
                    $tail[$i] = "" if $c && index($tail[$i], $pat) >= 0;
                    $r = sysread($fh[$i], $buf, 1 << 20); }
                $short++ if $n[$i] < $want[$i];
            }
            my $t = 0; $t += $_ for @n;
            if (!$short) { print "$t\n"; exit 0 }
            if (time > $end) { print "$t\n"; exit 1 }
            select(undef, undef, undef, 0.02);
        }' "$@"
}
bytes_all() { local n t=0; for n in "${!EXPECT[@]}"; do t=$((t + $(stat -c %s "$DIR/$n.out"))); done; echo $t; }
run_writers() { # LAYOUT put|del
    local w
    WRITER_PIDS=()
    for w in $(seq 0 $((WRITERS - 1))); do
        curl -K "$WORK/ops.$1.$2.$w.curl" >>"$WORK/writes.out" 2>>"$WORK/writes.err" &
        WRITER_PIDS+=($!)
    done
    for w in "${WRITER_PIDS[@]}"; do wait "$w" || echo "watch_layout: a writer failed" >&2; done
    WRITER_PIDS=()
}

declare -A OUTR # "<L> <run>" -> "streams watches events bytes cpu wall"
one_run() { # LAYOUT RUN
    local L=$1 run=$2 layout=hostfirst n t0 t1 c0 c1 b0 events=0 hz complete=1 wall
    [ "$L" = B ] && layout=overlayfirst
    DIR=$WORK/streams.$L
    WATCH_PIDS=()
    for n in "${!EXPECT[@]}"; do
        curl -sN -X POST --data-binary "@$DIR/$n.body" "$URL/v3/watch" >"$DIR/$n.out" 2>"$DIR/$n.err" &
        WATCH_PIDS+=($!)
    done
    local created=() arrived=()
    for n in "${!EXPECT[@]}"; do
        created+=("$DIR/$n.out:$(wc -l <"$DIR/$n.body")")
        arrived+=("$DIR/$n.out:${EXPECT[$n]}")
    done
    # every watch created before the first write
    # (24 500 watches on the loaded 2-core VM took over 2 minutes to create)
    [ "${#created[@]}" = 0 ] || wait_counts '"created":true' 900 "${created[@]}" >/dev/null ||
        echo "watch_layout: $SCEN $L: not every watch was created in 900 s" >&2
    b0=$(bytes_all)
    : >"$WORK/writes.out"
    c0=$(cpu_ticks "$ETCD_PID") t0=$(now_ms)
    run_writers "$layout" put
    run_writers "$layout" del
    if [ "${#arrived[@]}" -gt 0 ] && ! events=$(wait_counts '"kv":' 300 "${arrived[@]}"); then
        echo "watch_layout: $SCEN $L: not every event arrived in 300 s" >&2
        complete=0
    fi
    t1=$(now_ms) c1=$(cpu_ticks "$ETCD_PID")
    stop_pids "${WATCH_PIDS[@]}"
    WATCH_PIDS=()
    if grep -q '"error"\|"code"' "$WORK/writes.out" || [ -s "$WORK/writes.err" ]; then
        echo "watch_layout: some writes failed:" >&2
        { grep -m 3 '"error"\|"code"' "$WORK/writes.out"; head -n 3 "$WORK/writes.err"; } >&2 || true
        : >"$WORK/writes.err"
    fi
    hz=$(getconf CLK_TCK)
    wall=$(awk -v ms=$((t1 - t0)) 'BEGIN {printf "%.2f", ms / 1000}')
    [ "$complete" = 1 ] || wall=incomplete
    OUTR["$L $run"]="${#EXPECT[@]} $NWATCH $events $(($(bytes_all) - b0)) $(awk -v t=$((c1 - c0)) -v hz="$hz" 'BEGIN {printf "%.2f", t / hz}') $wall"
    echo "watch_layout: $SCEN $L run $run: ${OUTR["$L $run"]}" >&2
}

skipped() { [ "$1/$2" = dense/C ] && [ "${LAYOUT_DENSE_C:-0}" != 1 ]; } # SCENARIO LAYOUT
row() { printf '%-8s %-6s %4s %8s %8s %9s %10s %12s %8s\n' "$@"; }
: >"$WORK/table"
{
    echo "etcd's cost of watching the fabric, by key layout (one etcd on loopback, JSON gateway)"
    row scenario layout run streams watches events "MiB recv" "etcd CPU s" "wall s"
} >>"$WORK/table"
[ -z "$RESULTS" ] || : >"$RESULTS"
for s in $LAYOUT_SCENARIOS; do
    scenario "$s"
    make_ops hostfirst
    make_ops overlayfirst
    for run in $(seq 1 "$LAYOUT_RUNS"); do
        for L in $LAYOUTS; do
            skipped "$s" "$L" && continue
            make_streams "$L"
            one_run "$L" "$run"
        done
    done
    for L in $LAYOUTS; do
        if skipped "$s" "$L"; then
            row "$s" "$L" - "24500" "24500" "not run" "" "" "(LAYOUT_DENSE_C=1)" >>"$WORK/table"
            continue
        fi
        for run in $(seq 1 "$LAYOUT_RUNS"); do
            read -r st wa ev by cpu wall <<<"${OUTR["$L $run"]}"
            row "$s" "$L" "$run" "$st" "$wa" "$ev" "$(awk -v b="$by" 'BEGIN {printf "%.1f", b / 1048576}')" "$cpu" "$wall" >>"$WORK/table"
            [ -z "$RESULTS" ] || printf 'layout_%s_%s_%s_r%s %s\n' \
                "$s" "$L" streams "$run" "$st" "$s" "$L" watches "$run" "$wa" "$s" "$L" events "$run" "$ev" \
                "$s" "$L" bytes "$run" "$by" "$s" "$L" etcd_cpu_s "$run" "$cpu" "$s" "$L" wall_s "$run" "$wall" >>"$RESULTS"
        done
    done
    OUTR=()
done
echo "(writes: one key per request through the gateway, $WRITERS writers; puts then deletes)" >>"$WORK/table"
cat "$WORK/table"
