#!/usr/bin/env bash
# Runs every weft test suite and prints one closing line "N passed, N skipped, N failed".
# TEST_ONLY narrows it to one or more suites (space or comma separated): static, unit,
# integration, e2e. unit is every C test program, in three folders by what they need:
# tests/unit (pure), tests/netns (CAP_NET_ADMIN) and tests/live (a loopback etcd);
# TEST_ONLY=pure|netns|live picks one folder. TEST_FILTER=word runs only matching tests.
# The e2e suite runs once per Docker release in TEST_DOCKER (default "distro newest": the
# machine's dockerd and the newest in Debian's unstable; any name scripts/fetch-docker.sh
# takes, such as 26 or 28.5), each test named e2e/<test>@<version>; TEST_DOCKER_EXCEPT
# leaves releases out (make test-docker: those make test already ran).
# TEST_JOBS (default 3) tests run side by side: each simulation lives in namespaces, a
# cgroup and a state folder of its own, and waits more than it computes (two jobs kept
# 1.3 of the 2 cores busy, three 1.5, four 1.65 and no sooner done); the C tests run as
# two jobs beside those (see local_tests); TEST_JOBS=1 runs everything one at a time.
# Each test is a program or script that exits 0 on success; its output goes to
# build/test-logs/<name>.log and is shown when it fails. A test that exits 0 after
# printing a line "skipped: <reason>" (it lacks what it needs) counts as SKIP, not PASS.
# A test whose binaries are missing or older than their sources (by the Makefile's
# rules) fails unrun: a pass of an earlier build says nothing about this one.
set -u
shopt -s nullglob # a suite with no tests runs none
cd "$(dirname "$0")/.."
only=" ${TEST_ONLY:-all} "
only=${only//,/ }
for word in $only; do
    case $word in
    all | static | unit | pure | netns | live | integration | e2e) ;;
    *) echo "TEST_ONLY: no suite named '$word' (static, unit, pure, netns, live, integration, e2e)" >&2; exit 2 ;;
    esac
done
filter=${TEST_FILTER:-}
logs=build/test-logs
mkdir -p "$logs"
passed=0 skipped=0 failed=0 failures=()

# The targets among the arguments that make would (re)build. One make -q for all
# first, as they are usually current; the outer make's flags are not ours.
not_current() { # TARGET...
    local t
    env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -q --no-print-directory "$@" >/dev/null 2>&1 && return
    for t; do
        env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -q --no-print-directory "$t" >/dev/null 2>&1 ||
            printf '%s ' "$t"
    done
}

run_one() { # name, targets it runs ("t1 t2"), command...
    local name=$1 needs=$2; shift 2
    [ -n "$filter" ] && [[ "$name" != *"$filter"* ]] && return
    local log="$logs/${name//\//_}.log" start=$SECONDS stale why
    stale=$(not_current $needs)
    if [ -n "$stale" ]; then
        failed=$((failed + 1)); failures+=("$name")
        printf 'FAIL %-50s not run: missing or older than its sources: %s\n' "$name" "$stale"
        return
    fi
    if "$@" >"$log" 2>&1; then
        why=$(grep -m 1 '^skipped: ' "$log")
        if [ -n "$why" ]; then
            skipped=$((skipped + 1)); printf 'SKIP %-50s %3ss %s\n' "$name" $((SECONDS - start)) "${why#skipped: }"
            return
        fi
        passed=$((passed + 1)); printf 'PASS %-50s %3ss\n' "$name" $((SECONDS - start))
    else
        failed=$((failed + 1)); failures+=("$name")
        printf 'FAIL %-50s %3ss\n' "$name" $((SECONDS - start))
        tail -n 60 "$log" | sed 's/^/    | /'
    fi
}

# run_bg COMMAND...: a command (run_one, or a function of several run_one calls run one
# after another) in the background, at most TEST_JOBS at once; each writes its counts to a
# file of its own, which collect_bg adds up once all have ended. A job's lines are printed
# together when it ends. All suites share one pool, with no wait between them, so the
# machine never idles behind one suite's slowest test.
jobs_max=${TEST_JOBS:-3}
bg_dir=$(mktemp -d)
trap '[ -z "${fetch_pid:-}" ] || kill "$fetch_pid" 2>/dev/null; rm -rf "$bg_dir"' EXIT
# Each job's files are named by its number, not its PID: the suite starts tens of
# thousands of processes and PIDs wrap (pid_max is 32768 here), so a later job could
# take an ended one's PID and overwrite its counts, a failure with them.
bg_started=0
start_bg() {
    bg_started=$((bg_started + 1))
    local id=$bg_started
    (
        passed=0 skipped=0 failed=0 failures=()
        "$@" >"$bg_dir/$id.out"
        cat "$bg_dir/$id.out"
        echo "$passed $skipped $failed ${failures[*]:-}" >"$bg_dir/$id.counts"
    ) &
}
# run_beside COMMAND...: like run_bg, but not counted against TEST_JOBS: the C tests' two
# jobs, which mostly wait (their etcd starting and stopping, timeouts running out: 120 s
# of CPU in 390 s), would hold two of the pool's places for their first 3 minutes.
beside_pids=" "
run_beside() {
    if [ "$jobs_max" -le 1 ]; then
        "$@"
        return
    fi
    start_bg "$@"
    beside_pids+="$! "
}
# How many of the running jobs are run_bg's.
pool_running() {
    local pid n=0
    for pid in $(jobs -rp); do [[ "$beside_pids" == *" $pid "* ]] || n=$((n + 1)); done
    echo "$n"
}
run_bg() {
    if [ "$jobs_max" -le 1 ]; then
        "$@"
        return
    fi
    while [ "$(pool_running)" -ge "$jobs_max" ]; do wait -n; done
    start_bg "$@"
}
collect_bg() {
    wait
    local f p s fl names i
    for ((i = 1; i <= bg_started; i++)); do
        f=$bg_dir/$i.counts
        if [ ! -f "$f" ]; then # a job that never reported (killed): its tests are unknown
            failed=$((failed + 1)) failures+=("job-$i-lost")
            continue
        fi
        read -r p s fl names <"$f"
        passed=$((passed + p)) skipped=$((skipped + s)) failed=$((failed + fl))
        [ -z "$names" ] || failures+=($names)
        rm -f "$f" "${f%.counts}.out"
    done
    bg_started=0
}

# docker_dir NAME: sets $dir to Docker NAME's folder (scripts/fetch-docker.sh, which
# downloads it the first time); when it cannot, the run fails, saying why. The e2e suite's
# releases are fetched from the start, beside the other tests (a download is the network's
# time, not the machine's); docker_dir waits for that fetch and reads what it printed.
fetch_pid=
prefetch_docker() {
    local want list=() seen=" "
    for want in ${TEST_DOCKER_EXCEPT:-} ${TEST_DOCKER:-distro newest}; do
        [[ "$seen" == *" $want "* ]] || list+=("$want")
        seen+="$want "
    done
    # One after another: the fetches share apt's state folder (build/docker/apt).
    (
        child=
        trap '[ -z "$child" ] || kill "$child" 2>/dev/null; exit 143' TERM
        for want in "${list[@]}"; do
            scripts/fetch-docker.sh "$want" >"$bg_dir/docker-$want" 2>"$logs/fetch-docker-$want.log" &
            child=$!
            wait "$child"
            touch "$bg_dir/docker-$want.done"
        done
    ) &
    fetch_pid=$!
    disown $! # not one of run_bg's jobs: the pool counts those
    for want in "${list[@]}"; do touch "$bg_dir/docker-$want.asked"; done
}
docker_dir() {
    local log="$logs/fetch-docker-$1.log" start=$SECONDS
    if [ -f "$bg_dir/docker-$1.asked" ]; then
        while [ ! -f "$bg_dir/docker-$1.done" ] && kill -0 "$fetch_pid" 2>/dev/null; do sleep 0.2; done
        dir=$(cat "$bg_dir/docker-$1" 2>/dev/null)
        if [ -n "$dir" ] && [ -d "$dir" ]; then
            [ $((SECONDS - start)) -le 2 ] || printf '     waited %ss for Docker %s to be fetched\n' $((SECONDS - start)) "$1"
            return 0
        fi
    elif dir=$(scripts/fetch-docker.sh "$1" 2>"$log"); then
        [ $((SECONDS - start)) -le 2 ] || printf '     Docker %s fetched in %ss\n' "$1" $((SECONDS - start))
        return 0
    fi
    failed=$((failed + 1)); failures+=("docker-$1")
    printf 'FAIL %-50s %s\n' "Docker $1" "$(tail -n 1 "$log")"
    return 1
}

# What each suite runs; the Makefile's unit, integration and e2e targets build these.
integration_bins="build/weft build/weft-san build/plugin_bench build/dns_load build/neigh_wait"
e2e_bins="build/weft"
# Whether the run includes suite $1 (all includes every one; unit includes its folders).
wanted() { # SUITE [PARENT]
    [[ "$only" == *" all "* || "$only" == *" $1 "* || ( -n "${2:-}" && "$only" == *" $2 "* ) ]]
}

# The C test programs of tests/FOLDER, named FOLDER/<name> and FOLDER-san/<name>, which the
# Makefile builds in build/tests/FOLDER and build/tests-san/FOLDER unless told otherwise.
# From the sources: a binary left from a removed test is not run.
c_tests() { # FOLDER [PLAIN_DIR SAN_DIR]
    local src t plain=${2:-build/tests/$1} san=${3:-build/tests-san/$1}
    for src in "tests/$1"/test_*.c; do
        t=$(basename "$src" .c)
        run_one "$1/$t" "$plain/$t" "$plain/$t"
    done
    for src in "tests/$1"/test_*.c; do
        t=$(basename "$src" .c)
        run_one "$1-san/$t" "$san/$t" env ASAN_OPTIONS=detect_leaks=1 "$san/$t"
    done
}

# The C tests in two jobs of about equal length (beside the pool: run_beside), each
# running its tests one at a time: the live folder (each test its own etcd on loopback
# ports it picks, so never two at once), and the rest (pure, or in private network
# namespaces).
local_tests() {
    if wanted static; then
        # Rules read off the sources (file and function sizes, which room includes what).
        for t in tests/static/*.sh; do run_one "static/$(basename "$t" .sh)" "" bash "$t"; done
    fi
    wanted pure unit && c_tests unit
    # fabric/ on the fake kernel and store (tests/fakes/): pure, no root.
    wanted pure unit && c_tests fakes build/fakes build/fakes-san
    wanted netns unit && c_tests netns
}
wanted e2e && prefetch_docker
wanted live unit && run_beside c_tests live
run_beside local_tests
# A test with the line "# suite: alone" loads the machine too much for a test beside it:
# it runs after every other, by itself.
alone=()
if wanted integration; then
    for t in tests/integration/*.sh; do
        if grep -qx '# suite: alone' "$t"; then alone+=("$t"); continue; fi
        run_bg run_one "integration/$(basename "$t" .sh)" "$integration_bins" bash "$t"
    done
fi
if wanted e2e; then
    done_versions=" " dir=
    for want in ${TEST_DOCKER_EXCEPT:-}; do
        docker_dir "$want" && done_versions+="$(basename "$dir") "
    done
    for want in ${TEST_DOCKER:-distro newest}; do
        docker_dir "$want" || continue
        version=$(basename "$dir")
        [[ "$done_versions" == *" $version "* ]] && continue # newest may be the machine's
        done_versions+="$version "
        echo "---- e2e on Docker $version: $(paste -sd ';' "$dir/versions" | sed 's/;/; /g')"
        for t in tests/e2e/*.sh; do
            run_bg run_one "e2e/$(basename "$t" .sh)@$version" "$e2e_bins" env SIM_DOCKER_DIR="$dir" bash "$t"
        done
    done
fi
collect_bg
for t in "${alone[@]}"; do
    run_one "integration/$(basename "$t" .sh)" "$integration_bins" bash "$t"
done

[ ${#failures[@]} -gt 0 ] && printf 'failed: %s\n' "${failures[*]}"
echo "$passed passed, $skipped skipped, $failed failed"
[ "$failed" -eq 0 ]
