# shellcheck shell=bash
# sim.sh: simulated hosts for weft's integration tests, end-to-end test and demo.
#
# Source it from bash (as root), then call sim_init once. Every simulated thing is
# named after a run tag (wt<pid>): network namespaces "<tag>-<name>", state under
# build/sim/<tag>/, processes in the pids cgroup /<tag>. sim_cleanup (run from the
# EXIT/INT/TERM trap that sim_init sets) stops what was started, by recorded pid
# and by that cgroup, unmounts, deletes the namespaces and the state directory.
# Nothing is created in the root network namespace; no namespace gets a default route.
#
# Layout: one "switch" namespace holding bridge br0; each host (sim_host) and etcd
# (sim_etcd, or sim_etcd_secure: TLS and users) is a namespace with eth0 wired to it,
# addresses in 192.168.77.0/24. An IPv6-only underlay (issue 12): sim_host NAME ADDR6 and
# sim_etcd ADDR6 (ADDR6 holds a colon, e.g. in fd00:77::/64) give eth0 only that
# address (no IPv4 on the link at all), and sim_weft then advertises it and reaches
# etcd at [ADDR6]:2379.

SIM_REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# The Docker the simulated hosts run: the machine's own, or the release that
# scripts/fetch-docker.sh unpacked in $SIM_DOCKER_DIR (its bin/ goes first on dockerd's
# PATH, so dockerd starts that release's containerd, and containerd its shim).
SIM_DOCKER_DIR=${SIM_DOCKER_DIR:-}
if [ -n "$SIM_DOCKER_DIR" ]; then
    SIM_DOCKER=$SIM_DOCKER_DIR/bin/docker
    SIM_DOCKERD=$SIM_DOCKER_DIR/bin/dockerd
else
    SIM_DOCKER=/usr/bin/docker # /usr/local/bin/docker is a different client
    SIM_DOCKERD=/usr/sbin/dockerd
fi
# sim_distro_docker_only: a test of weft's own part (the underlay, the store) that any
# Docker exercises alike calls this first: on another release than the distribution's it
# says why it skips and ends, so the suite spends its time on what the releases change.
sim_distro_docker_only() {
    local distro
    distro=$("$SIM_REPO/scripts/fetch-docker.sh" distro 2>/dev/null || true)
    if [ -n "$SIM_DOCKER_DIR" ] && [ "$(readlink -f "$SIM_DOCKER_DIR")" != "$(readlink -f "$distro")" ]; then
        echo "skipped: runs on the distribution's Docker only (the Docker release does not matter here)"
        exit 0
    fi
}
SIM_ETCD_IP=192.168.77.250
SIM_PREFIX=24
SIM_PREFIX6=64
SIM_IMAGE=weft-test
SIM_IMAGE_TAR=$SIM_REPO/build/weft-test-image.tar
SIM_CG_BASE=/sys/fs/cgroup/pids
SIM_TAG=
SIM_DIR=
SIM_CLEANED=0

sim_log() { printf '[sim %s] %s\n' "$(date +%T)" "$*" >&2; }

# ---------- assertions ----------

# fail MESSAGE: report and stop the test (the trap cleans up).
fail() {
    printf 'FAIL: %s\n' "$*" >&2
    exit 1
}

# check DESCRIPTION COMMAND...: runs COMMAND; fails the test with its output if it fails.
check() {
    local desc=$1 out
    shift
    if out=$("$@" 2>&1); then
        printf 'ok   %s\n' "$desc"
    else
        printf '%s\n' "$out" | tail -n 20 >&2
        fail "$desc (command: $*)"
    fi
}

# check_not DESCRIPTION COMMAND...: passes when COMMAND fails.
check_not() {
    local desc=$1 out
    shift
    if out=$("$@" 2>&1); then
        printf '%s\n' "$out" | tail -n 20 >&2
        fail "$desc (command unexpectedly succeeded: $*)"
    fi
    printf 'ok   %s\n' "$desc"
}

# wait_for SECONDS COMMAND...: polls COMMAND every 0.1 s until it succeeds.
wait_for() {
    local deadline=$((SECONDS + $1))
    shift
    while :; do
        "$@" >/dev/null 2>&1 && return 0
        [ "$SECONDS" -ge "$deadline" ] && return 1
        sleep 0.1
    done
}

# ---------- lifecycle ----------

# sim_init: picks the run tag, creates the state dir and the cgroup, sets the trap,
# and removes what earlier runs left behind when their process is gone.
sim_init() {
    [ "$(id -u)" -eq 0 ] || { echo "sim.sh: needs root" >&2; exit 1; }
    for t in ip nsenter unshare curl etcd; do
        command -v "$t" >/dev/null || { echo "sim.sh: missing $t" >&2; exit 1; }
    done
    sim_reap_stale
    SIM_TAG=wt$$
    SIM_DIR=$SIM_REPO/build/sim/$SIM_TAG
    SIM_CLEANED=0
    mkdir -p "$SIM_DIR"
    # The hosts' resolvers, for the names weft's resolver forwards: none until
    # sim_dns starts a test resolver inside the simulation (never the machine's own).
    : >"$SIM_DIR/resolv.conf"
    mkdir -p "$SIM_CG_BASE/$SIM_TAG" 2>/dev/null || true
    trap 'sim_cleanup' EXIT
    trap 'sim_cleanup; exit 130' INT
    trap 'sim_cleanup; exit 143' TERM
    sim_log "run tag $SIM_TAG, state in $SIM_DIR"
}

# sim_reap_stale: cleans runs whose owning shell (the pid in the tag) has died.
sim_reap_stale() {
    local d tag pid
    for d in "$SIM_REPO"/build/sim/wt*; do
        [ -d "$d" ] || continue
        tag=$(basename "$d")
        pid=${tag#wt}
        [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && continue
        sim_log "removing stale run $tag"
        (SIM_TAG=$tag SIM_DIR=$d SIM_CLEANED=0 sim_cleanup)
    done
    # Namespaces of a dead run whose state dir is already gone.
    local ns
    for ns in $(ip netns list 2>/dev/null | awk '{print $1}' | grep -E '^wt[0-9]+-' || true); do
        pid=${ns%%-*}
        pid=${pid#wt}
        kill -0 "$pid" 2>/dev/null && continue
        ip netns del "$ns" 2>/dev/null || true
    done
}

sim_ns() { echo "$SIM_TAG-$1"; }

# sim_ns_exec NAME COMMAND...: runs COMMAND in the namespace of host/etcd/container NAME.
sim_ns_exec() {
    local ns=$1
    shift
    nsenter --net="/run/netns/$SIM_TAG-$ns" "$@"
}

# Starts "$@" in the background inside our cgroup; the pid lands in $SIM_LAST_PID.
sim_spawn() {
    local log=$1
    shift
    (
        echo "$BASHPID" >"$SIM_CG_BASE/$SIM_TAG/cgroup.procs" 2>/dev/null || true
        exec "$@"
    ) >>"$log" 2>&1 </dev/null &
    SIM_LAST_PID=$!
}

# sim_switch: the L2 segment every host is wired to.
sim_switch() {
    local ns
    ns=$(sim_ns sw)
    ip netns add "$ns"
    ip -n "$ns" link set lo up
    ip -n "$ns" link add br0 type bridge
    ip -n "$ns" link set br0 up
}

# Wires namespace NAME (created here) to the switch with ADDR on its eth0: IPv4 ADDR/24,
# or an IPv6 ADDR (holding a colon) /64 alone, without duplicate address detection.
sim_wire() {
    local name=$1 addr=$2 ns sw
    ns=$(sim_ns "$name")
    sw=$(sim_ns sw)
    ip netns add "$ns"
    ip -n "$ns" link set lo up
    ip -n "$sw" link add "p-$name" type veth peer name eth0 netns "$ns"
    ip -n "$sw" link set "p-$name" master br0 up
    case $addr in
    *:*) ip -n "$ns" -6 addr add "$addr/$SIM_PREFIX6" dev eth0 nodad ;;
    *) ip -n "$ns" addr add "$addr/$SIM_PREFIX" dev eth0 ;;
    esac
    ip -n "$ns" link set eth0 up
}

# sim_host NAME ADDR: a host namespace with eth0 = ADDR/24 on the switch (MTU 1500);
# an IPv6 ADDR is the link's only address (/64; an IPv6-only underlay).
sim_host() {
    local name=$1 addr=$2 d
    d=$SIM_DIR/$name
    mkdir -p "$d/plugins" "$d/etc-docker"
    echo "$addr" >"$d/addr"
    sim_wire "$name" "$addr"
}

sim_host_addr() { cat "$SIM_DIR/$1/addr"; }
sim_host_dir() { echo "$SIM_DIR/$1"; }

# sim_etcd [ADDR6]: a one-member etcd at $SIM_ETCD_IP:2379 in its own namespace; or, given
# an IPv6 address, at [ADDR6]:2379 (its link's only address; peers on [::1]).
sim_etcd() {
    mkdir -p "$SIM_DIR/etcd"
    [ -z "${1:-}" ] || echo "$1" >"$SIM_DIR/etcd/addr"
    sim_wire etcd "$(sim_etcd_addr)"
    sim_etcd_start
}

# sim_etcd_addr: the member's address ($SIM_ETCD_IP unless sim_etcd was given one).
sim_etcd_addr() {
    if [ -f "$SIM_DIR/etcd/addr" ]; then cat "$SIM_DIR/etcd/addr"; else echo "$SIM_ETCD_IP"; fi
}

# sim_etcd_hostport: the member's client address as URLs write it ([ADDR6]:2379 for IPv6).
sim_etcd_hostport() {
    local addr
    addr=$(sim_etcd_addr)
    case $addr in *:*) echo "[$addr]:2379" ;; *) echo "$addr:2379" ;; esac
}

# sim_etcd_leases NS HOSTPORT COUNT TTL: COUNT leases granted by etcd at HOSTPORT (plain
# HTTP), from namespace NS, on one connection: the hosts of a larger cluster as a daemon
# counts them (store/etcd_pacing.h).
sim_etcd_leases() {
    local ns=$1 hostport=$2 count=$3 ttl=$4 urls
    [ "$count" -gt 0 ] || return 0
    mapfile -t urls < <(for _ in $(seq "$count"); do echo "http://$hostport/v3/lease/grant"; done)
    sim_ns_exec "$ns" curl -fsS -m 120 -d "{\"TTL\":\"$ttl\"}" "${urls[@]}" >/dev/null
}

# sim_etcd_start: (re)starts the etcd member on its data dir; waits until healthy.
# After sim_etcd_secure it restarts the secure member (TLS, client certificates).
sim_etcd_start() {
    local d=$SIM_DIR/etcd scheme=http
    local -a tls=()
    if sim_etcd_is_secure; then
        scheme=https
        tls=(--cert-file "$SIM_DIR/pki/server.pem" --key-file "$SIM_DIR/pki/server.key"
            --trusted-ca-file "$SIM_DIR/pki/ca.pem" --client-cert-auth
            --auth-token-ttl "$(cat "$d/auth-token-ttl")")
    fi
    local peer=http://127.0.0.1:2380
    case $(sim_etcd_addr) in *:*) peer=http://[::1]:2380 ;; esac
    sim_spawn "$d/etcd.log" nsenter --net="/run/netns/$(sim_ns etcd)" etcd --name kv \
        --data-dir "$d/data" \
        --listen-client-urls "$scheme://$(sim_etcd_hostport)" \
        --advertise-client-urls "$scheme://$(sim_etcd_hostport)" \
        --listen-peer-urls "$peer" \
        --initial-advertise-peer-urls "$peer" \
        --initial-cluster "kv=$peer" "${tls[@]}"
    echo "$SIM_LAST_PID" >"$d/pid"
    if ! wait_for 30 sim_etcd_healthy; then
        tail -n 20 "$d/etcd.log" >&2
        fail "etcd did not become healthy"
    fi
}

# sim_etcd_healthy: etcd's /health answers (over TLS with the client certificate
# when the member is secure).
sim_etcd_healthy() {
    if sim_etcd_is_secure; then
        sim_ns_exec etcd curl -fsS -m 2 --cacert "$SIM_DIR/pki/ca.pem" \
            --cert "$SIM_DIR/pki/client.pem" --key "$SIM_DIR/pki/client.key" \
            "https://$SIM_ETCD_IP:2379/health"
    elif [[ "$(sim_etcd_addr)" == *:* ]]; then
        sim_ns_exec etcd curl -fsS -m 2 -g "http://$(sim_etcd_hostport)/health"
    else
        # Plain HTTP from bash itself: this polls every 0.1 s while etcd elects itself,
        # and a curl process costs about 23 ms of CPU (loading its libraries).
        sim_ns_exec etcd bash -c 'exec 3<>"/dev/tcp/$1/2379" || exit 1
            printf "GET /health HTTP/1.0\r\n\r\n" >&3
            while IFS= read -r -t 2 line <&3 || [ -n "$line" ]; do
                [[ "$line" == *"\"health\":\"true\""* ]] && exit 0
                line=
            done
            exit 1' sh "$(sim_etcd_addr)" 2>/dev/null
    fi
}

# sim_etcd_is_secure: whether this run's etcd was made by sim_etcd_secure.
sim_etcd_is_secure() { [ -f "$SIM_DIR/etcd/auth-token-ttl" ]; }

# sim_etcd_secure: like sim_etcd, but the member speaks only TLS, with the
# certificates of tests/lib/pki.sh made in $SIM_DIR/pki for $SIM_ETCD_IP, asks
# clients for a certificate of that CA (--client-cert-auth), and has authentication
# on with user root (password in $SIM_DIR/pki/root.password, mode 0600).
# SIM_ETCD_AUTH_TOKEN_TTL sets --auth-token-ttl in seconds (default 300).
# sim_etcdctl then works as root; sim_weft passes a per-host user (sim_store_user).
sim_etcd_secure() {
    local d=$SIM_DIR/etcd pw
    # shellcheck source=tests/lib/pki.sh
    . "$SIM_REPO/tests/lib/pki.sh"
    command -v openssl >/dev/null || fail "sim_etcd_secure needs openssl"
    mkdir -p "$d"
    pki_make "$SIM_DIR/pki" "$SIM_ETCD_IP" || fail "making the test certificates"
    echo "${SIM_ETCD_AUTH_TOKEN_TTL:-300}" >"$d/auth-token-ttl"
    sim_wire etcd "$SIM_ETCD_IP"
    sim_etcd_start
    pw=$(head -c 18 /dev/urandom | base64)
    (umask 077 && printf '%s\n' "$pw" >"$SIM_DIR/pki/root.password")
    printf '%s\n' "$pw" | SIM_ETCDCTL_NO_USER=1 sim_etcdctl user add root --interactive=false \
        >/dev/null || fail "adding etcd's root user"
    { SIM_ETCDCTL_NO_USER=1 sim_etcdctl role add root &&
        SIM_ETCDCTL_NO_USER=1 sim_etcdctl user grant-role root root &&
        SIM_ETCDCTL_NO_USER=1 sim_etcdctl auth enable; } >/dev/null || fail "enabling etcd's authentication"
}

# sim_etcd_stop: stops etcd by its recorded pid (SIGKILL: the store just vanishes).
sim_etcd_stop() {
    local f=$SIM_DIR/etcd/pid
    [ -f "$f" ] || return 0
    kill -KILL "$(cat "$f")" 2>/dev/null || true
    wait "$(cat "$f")" 2>/dev/null || true
    rm -f "$f"
}

sim_etcd_url() {
    if sim_etcd_is_secure; then echo "etcds://$SIM_ETCD_IP:2379"; else echo "etcd://$(sim_etcd_hostport)"; fi
}

# sim_etcdctl ARGS...: etcdctl against the simulated etcd (after sim_etcd_secure:
# over TLS with the client certificate, as root; the password goes by environment,
# not on a command line).
sim_etcdctl() {
    if ! sim_etcd_is_secure; then
        sim_ns_exec etcd env ETCDCTL_API=3 etcdctl --endpoints "http://$(sim_etcd_hostport)" "$@"
        return
    fi
    local user=
    [ -n "${SIM_ETCDCTL_NO_USER:-}" ] || user="root:$(cat "$SIM_DIR/pki/root.password")"
    sim_ns_exec etcd env ETCDCTL_API=3 ${user:+ETCDCTL_USER="$user"} etcdctl \
        --endpoints "https://$SIM_ETCD_IP:2379" --cacert "$SIM_DIR/pki/ca.pem" \
        --cert "$SIM_DIR/pki/client.pem" --key "$SIM_DIR/pki/client.key" "$@"
}

# sim_store_user HOST: (once) admits HOST as an administrator would, with `weft admit`
# run as etcd's root: user and role weft-host-<HOST's address>, which may write only
# HOST's own prefixes and the shared ones, and its password in
# $SIM_DIR/HOST/store.password (mode 0600). Prints the user's name.
sim_store_user() {
    local host=$1 addr file bin out
    addr=$(sim_host_addr "$host")
    file=$SIM_DIR/$host/store.password
    bin=${WEFT_BIN:-$SIM_REPO/build/weft}
    [[ "$bin" = /* ]] || bin=$SIM_REPO/$bin
    if [ ! -f "$file" ]; then
        out=$(sim_ns_exec etcd "$bin" admit "$addr" --password-file "$file" \
            $(sim_admin_store_flags) 2>&1) || { printf '%s\n' "$out" >&2; fail "weft admit $addr"; }
    fi
    echo "weft-host-$addr"
}

# sim_admin_store_flags: the store flags of etcd's root user (for weft admit and revoke).
sim_admin_store_flags() {
    printf '%s\n' --store "$(sim_etcd_url)" --store-ca "$SIM_DIR/pki/ca.pem" \
        --store-cert "$SIM_DIR/pki/client.pem" --store-key "$SIM_DIR/pki/client.key" \
        --store-user root --store-password-file "$SIM_DIR/pki/root.password"
}

# sim_weft_store_flags HOST: the flags that take weft on HOST to the secure etcd (CA,
# client certificate, HOST's user from sim_store_user), one per line; nothing when
# etcd is plain.
sim_weft_store_flags() {
    sim_etcd_is_secure || return 0
    local user
    user=$(sim_store_user "$1") || return 1
    # --store-timeout 10: TLS handshakes of a sanitizer build on a loaded machine can
    # take longer than the default 2 s; no test here measures the store's latency.
    printf '%s\n' --store-ca "$SIM_DIR/pki/ca.pem" --store-cert "$SIM_DIR/pki/client.pem" \
        --store-key "$SIM_DIR/pki/client.key" --store-user "$user" \
        --store-password-file "$SIM_DIR/$1/store.password" --store-timeout 10
}

# sim_unplug NAME: takes NAME's switch port down, so its packets are dropped without
# an answer (no reset, no refusal): a host or member that went silent.
sim_unplug() { ip -n "$(sim_ns sw)" link set "p-$1" down; }

# sim_plug NAME: puts NAME's switch port back up.
sim_plug() { ip -n "$(sim_ns sw)" link set "p-$1" up; }

# ---------- weft ----------

# sim_weft HOST [ARGS...]: starts the weft daemon ($WEFT_BIN, default build/weft) in
# HOST's namespace with its socket in HOST's plugin dir (and its control socket, for
# weft status, in HOST's dir: the default /run/weft is one per machine); waits for the socket
# ($SIM_WEFT_START_S seconds, default 15: longer for a daemon under valgrind).
# After sim_etcd_secure it adds sim_weft_store_flags HOST (ARGS come later and win).
sim_weft() {
    local host=$1 d bin
    shift
    d=$SIM_DIR/$host
    bin=${WEFT_BIN:-$SIM_REPO/build/weft}
    [[ "$bin" = /* ]] || bin=$SIM_REPO/$bin
    [ -x "$bin" ] || fail "weft binary $bin missing (run make)"
    local -a store_flags
    mapfile -t store_flags < <(sim_weft_store_flags "$host")
    sim_etcd_is_secure && [ "${#store_flags[@]}" = 0 ] && fail "no store user for $host"
    rm -f "$d/plugins/weft.sock"
    echo "=== start $(date +%T) $bin" >>"$d/weft.log"
    sim_spawn "$d/weft.log" env ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1}" \
        nsenter --net="/run/netns/$(sim_ns "$host")" "$bin" daemon \
        --store "$(sim_etcd_url)" --advertise "$(sim_host_addr "$host")" \
        --socket "$d/plugins/weft.sock" --resolv-conf "$SIM_DIR/resolv.conf" \
        --docker-socket "$d/docker.sock" --control-socket "$d/control.sock" \
        "${store_flags[@]}" "$@"
    echo "$SIM_LAST_PID" >"$d/weft.pid"
    if ! wait_for "${SIM_WEFT_START_S:-15}" test -S "$d/plugins/weft.sock"; then
        tail -n 30 "$d/weft.log" >&2
        fail "weft on $host did not create its socket"
    fi
    kill -0 "$SIM_LAST_PID" 2>/dev/null || { tail -n 30 "$d/weft.log" >&2; fail "weft on $host exited"; }
    # The plugin socket comes first; the control socket and the ready line (advertise=,
    # store=) a few milliseconds later. Tests read both, so wait for this start's ready
    # line too, briefly: at WEFT_LOG_LEVEL=warn there is none, and that is no failure.
    wait_for 2 awk '/^=== start /{r=0} /weft daemon ready/{r=1} END{exit !r}' "$d/weft.log" || true
}

# sim_weft_stop HOST: SIGTERM by recorded pid; returns 1 if it needed SIGKILL.
sim_weft_stop() {
    local f=$SIM_DIR/$1/weft.pid
    [ -f "$f" ] || return 0
    sim_stop_pid "$(cat "$f")" 10
    local rc=$?
    rm -f "$f"
    return $rc
}

# sim_weft_pid HOST
# sim_weft_kill HOST: kill -9 by recorded pid, as a crash would.
sim_weft_kill() {
    local f=$SIM_DIR/$1/weft.pid
    [ -f "$f" ] || return 0
    kill -KILL "$(cat "$f")" 2>/dev/null || true
    wait "$(cat "$f")" 2>/dev/null || true
    rm -f "$f"
}

sim_weft_pid() { cat "$SIM_DIR/$1/weft.pid"; }

# weft_devices HOST: the weft devices (bridges, VXLAN devices, veths, spares) left on
# HOST, one per line; nothing once every network is removed.
weft_devices() {
    sim_ns_exec "$1" ip -o link show | awk -F': ' '{print $2}' | sed 's/@.*//' |
        grep -E '^(wbr|wvx|wh|wc|ws|wt)' || true
}

# sim_plugin_call HOST PATH [JSON]: POSTs to weft's socket on HOST as Docker does.
# Prints the body; returns nonzero on a non-2xx answer.
sim_plugin_call() {
    local host=$1 path=$2 body=${3:-} out code
    out=$(curl -sS -m 30 --unix-socket "$SIM_DIR/$host/plugins/weft.sock" -X POST \
        -H 'Accept: application/vnd.docker.plugins.v1.2+json' \
        --data-binary "$body" -w '\n%{http_code}' "http://localhost/${path#/}") || return 2
    code=${out##*$'\n'}
    printf '%s\n' "${out%$'\n'*}"
    [[ "$code" == 2* ]]
}

# ---------- docker ----------

# sim_image_tar: builds (once, cached in build/) a tarball of a busybox root.
sim_image_tar() {
    [ -s "$SIM_IMAGE_TAR" ] && return 0
    [ -x /bin/busybox ] || fail "busybox-static is not installed"
    local root a
    root=$(mktemp -d "$SIM_REPO/build/.image.XXXXXX")
    mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,etc,proc,sys,dev,tmp,root,var,run}
    cp /bin/busybox "$root/bin/busybox"
    for a in $(/bin/busybox --list); do
        [ -e "$root/bin/$a" ] || ln -s busybox "$root/bin/$a"
    done
    echo 'root:x:0:0:root:/root:/bin/sh' >"$root/etc/passwd"
    echo 'root:x:0:' >"$root/etc/group"
    # A name of its own: tests running side by side may build it at once.
    tar -C "$root" -cf "$SIM_IMAGE_TAR.$$.tmp" . && mv "$SIM_IMAGE_TAR.$$.tmp" "$SIM_IMAGE_TAR"
    rm -rf "$root"
}

# sim_dockerd HOST: a dockerd of its own in HOST's namespace, with a private mount
# namespace where HOST's plugin dir is /run/docker/plugins; imports the test image.
sim_dockerd() {
    local host=$1 d
    d=$SIM_DIR/$host
    mkdir -p /run/docker/plugins "$d/docker" "$d/exec" "$d/tmp"
    echo "${SIM_DOCKERD_CONFIG:-{\}}" >"$d/daemon.json" # e.g. '{"live-restore":true}'
    [ -x "$SIM_DOCKERD" ] || fail "no dockerd at $SIM_DOCKERD"
    sim_log "dockerd on $host: $("$SIM_DOCKERD" --version)"
    # --ip6tables=false too: on by default since Docker 27, and no rule is ours to add.
    # TMPDIR: containerd inherits it and writes its stack dump there (on the SIGUSR1
    # dockerd sends before killing a containerd slow to stop), so none is left in /tmp.
    sim_spawn "$d/dockerd.log" env PATH="${SIM_DOCKER_DIR:+$SIM_DOCKER_DIR/bin:}$PATH" TMPDIR="$d/tmp" \
        nsenter --net="/run/netns/$(sim_ns "$host")" \
        unshare -m --propagation private sh -c '
            mount --bind "$1/plugins" /run/docker/plugins &&
            mount --bind "$1/etc-docker" /etc/docker &&
            exec "$2" --data-root "$1/docker" --exec-root "$1/exec" \
                -H "unix://$1/docker.sock" --pidfile "$1/dockerd.pid" \
                --config-file "$1/daemon.json" --cgroup-parent "$3" \
                --bridge=none --iptables=false --ip6tables=false --ip-forward=false --ip-masq=false \
                --storage-driver=vfs --shutdown-timeout=2' \
        sh "$d" "$SIM_DOCKERD" "/$SIM_TAG/$host-ctr"
    echo "$SIM_LAST_PID" >"$d/dockerd.spawn.pid"
    # Its socket first (a test, no process): each docker client run costs 60-80 ms of
    # CPU, and dockerd takes seconds to start when the suite keeps the machine busy.
    wait_for 60 test -S "$d/docker.sock" || true
    if ! wait_for 60 sim_docker "$host" info; then
        tail -n 30 "$d/dockerd.log" >&2
        fail "dockerd on $host did not answer"
    fi
    sim_image_tar
    sim_docker "$host" import "$SIM_IMAGE_TAR" "$SIM_IMAGE" >/dev/null ||
        fail "importing $SIM_IMAGE on $host"
}

# sim_dockerd_stop HOST: stops HOST's dockerd as systemd would (SIGTERM by its recorded
# pid: it stops its containers, --shutdown-timeout 2, and exits); returns 1 if it needed
# SIGKILL after 30 s.
sim_dockerd_stop() {
    local d=$SIM_DIR/$1 rc=0
    [ -f "$d/dockerd.spawn.pid" ] || return 0
    sim_stop_pid "$(cat "$d/dockerd.spawn.pid")" 30 || rc=1
    rm -f "$d/dockerd.spawn.pid"
    return $rc
}

# sim_power_off HOST: HOST loses its power. SIGKILL, all at once and each by pid, to its
# containers' processes (its containers' cgroup), their shims (those processes' parents
# outside it), dockerd (its recorded pid) with its children (containerd) and weft; then
# what a reboot wipes: every link of HOST's namespace but lo and eth0 (weft's bridges,
# VXLAN devices and veths, Docker's docker_gwbridge) and HOST's /run: the exec root,
# the plugin, control and Docker sockets, the pid files. dockerd's data root and etcd
# persist, as disks do. Start weft and dockerd again with sim_weft and sim_dockerd.
sim_power_off() {
    local host=$1 d=$SIM_DIR/$1 p pp ctr pids=() left link
    ctr=$(sim_cg_pids "$SIM_CG_BASE/$SIM_TAG/$host-ctr")
    for p in $ctr; do
        pids+=("$p")
        pp=$(awk '/^PPid:/ {print $2}' "/proc/$p/status" 2>/dev/null) || continue
        # The shim: a parent outside the containers' cgroup, and a containerd shim.
        if [ -n "$pp" ] && [ "$pp" -gt 1 ] && ! grep -qx "$pp" <<<"$ctr" &&
            [[ "$(cat "/proc/$pp/comm" 2>/dev/null)" == containerd-shim* ]]; then
            pids+=("$pp")
        fi
    done
    if [ -f "$d/dockerd.spawn.pid" ]; then
        p=$(cat "$d/dockerd.spawn.pid")
        pids+=("$p")
        # shellcheck disable=SC2046
        pids+=($(cat /proc/"$p"/task/*/children 2>/dev/null))
    fi
    [ -f "$d/weft.pid" ] && pids+=("$(cat "$d/weft.pid")")
    [ "${#pids[@]}" = 0 ] || kill -KILL "${pids[@]}" 2>/dev/null || true
    for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
    left=0
    for _ in $(seq 50); do
        left=0
        for p in "${pids[@]}"; do kill -0 "$p" 2>/dev/null && left=1; done
        [ "$left" = 0 ] && break
        sleep 0.1
    done
    [ "$left" = 0 ] || sim_log "power off $host: processes still there: ${pids[*]}"
    for link in $(sim_ns_exec "$host" ip -o link show | awk -F': ' '{print $2}' | sed 's/@.*//'); do
        [ "$link" = lo ] || [ "$link" = eth0 ] ||
            sim_ns_exec "$host" ip link del "$link" 2>/dev/null || true
    done
    rm -rf "${d:?}/exec"
    rm -f "$d/plugins/weft.sock" "$d/control.sock" "$d/docker.sock" "$d/dockerd.pid" \
        "$d/dockerd.spawn.pid" "$d/weft.pid"
    return 0
}

# sim_docker HOST ARGS...: the docker client pointed at HOST's dockerd.
sim_docker() {
    local host=$1
    shift
    "$SIM_DOCKER" -H "unix://$SIM_DIR/$host/docker.sock" "$@"
}

# sim_docker_rm_all HOST: removes every container of HOST's dockerd (before its weft
# networks go, while weft still answers).
sim_docker_rm_all() {
    local ids
    ids=$(sim_docker "$1" ps -aq)
    # shellcheck disable=SC2086 # one word per container
    [ -z "$ids" ] || sim_docker "$1" rm -f $ids >/dev/null
}

# sim_tcp_check FROM_HOST FROM TO_HOST TO TO_IP: a TCP message from container FROM to
# container TO arrives. Waits for the listener itself (docker exec -d returns before nc
# listens, and under load much later), then retries a refused connect until one deadline.
# Up to three exchanges, each on its own port, each failure logged with what TO received:
# one in about 20 loaded runs lost the message although the client's nc succeeded (cause
# not found; busybox nc in docker exec -d), and a second exchange went through; once (Docker
# 28, IPv6) all three did: a failure also logs both ends' sockets on the port.
sim_tcp_check() {
    local attempt
    for attempt in 1 2 3; do
        sim_tcp_exchange "$@" $((5000 + attempt)) && return 0
        sim_log "TCP $2 -> $4 (port $((5000 + attempt))) failed; got: $("$SIM_DOCKER" \
            -H "unix://$SIM_DIR/$3/docker.sock" exec "$4" cat /tmp/got 2>&1 | head -c 200)"
        # Where the bytes stayed: the sockets on the port at both ends (Recv-Q, Send-Q, state).
        sim_log "  $2: $(sim_docker "$1" exec "$2" netstat -tn 2>&1 | grep ":$((5000 + attempt)) " | tr '\n' ';')"
        sim_log "  $4: $(sim_docker "$3" exec "$4" netstat -tan 2>&1 | grep ":$((5000 + attempt)) " | tr '\n' ';')"
    done
    return 1
}
sim_tcp_exchange() { # FROM_HOST FROM TO_HOST TO TO_IP PORT
    local msg="hello-$2-to-$4-$$" port=$6
    sim_docker "$3" exec "$4" rm -f /tmp/got || return 1
    sim_docker "$3" exec -d "$4" sh -c "timeout 60 nc -l -p $port > /tmp/got" || return 1
    wait_for 20 sh -c "'$SIM_DOCKER' -H unix://$SIM_DIR/$3/docker.sock exec $4 netstat -ltn |
        grep ':$port '" || { sim_log "no listener on $4:$port after 20 s"; return 1; }
    sim_docker "$1" exec "$2" sh -c "end=\$((\$(date +%s) + 20))
        until echo $msg | timeout 5 nc -w 3 $5 $port; do
            [ \$(date +%s) -lt \$end ] || exit 1; sleep 0.25; done" ||
        { sim_log "$2 could not connect to $5:$port for 20 s"; return 1; }
    wait_for 10 sh -c "'$SIM_DOCKER' -H unix://$SIM_DIR/$3/docker.sock exec $4 cat /tmp/got |
        grep $msg"
}

# sim_dns [ADDR]: a test resolver (dnsmasq) on its own simulated host, answering
# *.example.test with 198.51.100.7, many.example.test with the 40 addresses
# SIM_DNS_MANY (a 674-byte answer: cut over UDP, whole over TCP), and nothing
# else; the hosts' resolv.conf names it.
SIM_DNS_IP=192.168.77.253
SIM_DNS_ANSWER=198.51.100.7
SIM_DNS_MANY=$(seq -f '198.51.100.1%02g' 1 40 | tr '\n' ' ')
sim_dns() {
    local addr=${1:-$SIM_DNS_IP} ip
    local -a many=()
    command -v dnsmasq >/dev/null || fail "dnsmasq missing (scripts/install-deps.sh test)"
    for ip in $SIM_DNS_MANY; do many+=(--host-record="many.example.test,$ip"); done
    sim_host dns "$addr"
    sim_spawn "$SIM_DIR/dns/dnsmasq.log" ip netns exec "$(sim_ns dns)" dnsmasq --keep-in-foreground \
        --no-resolv --no-hosts --no-poll --log-queries --log-facility=- --user=root \
        --pid-file="$SIM_DIR/dns/dnsmasq.pid" --listen-address="$addr" --bind-interfaces \
        --address=/example.test/$SIM_DNS_ANSWER --address=/#/ "${many[@]}"
    echo "$SIM_LAST_PID" >"$SIM_DIR/dns/pid" # sim_cleanup stops it by this pid
    echo "nameserver $addr" >"$SIM_DIR/resolv.conf"
}

# ---------- fake containers (no Docker) ----------

# sim_fake_container HOST NAME SRCNAME ADDR/LEN [MAC]: does what Docker does after
# Join: moves veth SRCNAME from HOST into a new namespace NAME, renames it eth0,
# sets the address (and MAC), brings it up.
sim_fake_container() {
    local host=$1 name=$2 src=$3 addr=$4 mac=${5:-} ns
    ns=$(sim_ns "$name")
    ip netns add "$ns"
    ip -n "$ns" link set lo up
    ip -n "$(sim_ns "$host")" link set "$src" netns "$ns" || return 1
    ip -n "$ns" link set "$src" name eth0
    [ -n "$mac" ] && ip -n "$ns" link set eth0 address "$mac"
    ip -n "$ns" addr add "$addr" dev eth0
    ip -n "$ns" link set eth0 up
}

# sim_fake_container_del HOST NAME SRCNAME: Docker tearing the sandbox down after
# Leave: eth0 goes back to HOST under its old name, then the namespace is deleted.
sim_fake_container_del() {
    local host=$1 name=$2 src=$3 ns
    ns=$(sim_ns "$name")
    ip -n "$ns" link set eth0 down 2>/dev/null
    ip -n "$ns" link set eth0 name "$src" 2>/dev/null &&
        ip -n "$ns" link set "$src" netns "$(sim_ns "$host")" 2>/dev/null
    ip netns del "$ns" 2>/dev/null || true
}

# sim_fake_container_kill NAME: the container dies without Docker's help (its
# namespace goes away, and the veth pair with it).
sim_fake_container_kill() {
    local ns
    ns=$(sim_ns "$1")
    ip -n "$ns" link del eth0 2>/dev/null || true
    ip netns del "$ns" 2>/dev/null || true
}

# sim_json_str KEY: the first string value of KEY in the JSON on stdin (flat lookups
# only; enough for plugin answers, and needs no jq).
sim_json_str() { # prints nothing (and succeeds) when the field is absent
    { grep -o "\"$1\" *: *\"[^\"]*\"" || true; } | head -n 1 | sed 's/.*: *"\(.*\)"$/\1/'
}

# sim_random_id: a Docker-style 64-hex-digit ID.
sim_random_id() { od -An -N32 -tx1 /dev/urandom | tr -d ' \n'; }

# ---------- cleanup ----------

# sim_stop_pid PID SECONDS: SIGTERM, wait, then SIGKILL. Returns 1 if killed.
sim_stop_pid() {
    local pid=$1 t=$(($2 * 10))
    [ -n "$pid" ] || return 0
    kill -0 "$pid" 2>/dev/null || return 0
    kill -TERM "$pid" 2>/dev/null
    while [ "$t" -gt 0 ] && kill -0 "$pid" 2>/dev/null; do
        # Reap it if it is our child, so kill -0 stops seeing a zombie.
        if [ -d "/proc/$pid" ] && grep -q '^State:.*Z' "/proc/$pid/status" 2>/dev/null; then
            wait "$pid" 2>/dev/null
            return 0
        fi
        sleep 0.1
        t=$((t - 1))
    done
    if kill -0 "$pid" 2>/dev/null && ! grep -q '^State:.*Z' "/proc/$pid/status" 2>/dev/null; then
        kill -KILL "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
        return 1
    fi
    wait "$pid" 2>/dev/null
    return 0
}

# Every pid in cgroup directory $1 and below.
sim_cg_pids() {
    [ -d "$1" ] || return 0
    find "$1" -name cgroup.procs -exec cat {} + 2>/dev/null
}

# sim_cleanup: idempotent; safe after a partial setup or with a dead run's tag.
sim_cleanup() {
    local rc=$?
    [ "$SIM_CLEANED" = 1 ] && return $rc
    SIM_CLEANED=1
    [ -n "$SIM_TAG" ] && [ -n "$SIM_DIR" ] || return $rc
    set +e
    trap - EXIT INT TERM
    local d host pid cg=$SIM_CG_BASE/$SIM_TAG
    # On failure keep the logs (build/sim-logs/<tag>/) and show the daemons' last words.
    if [ "$rc" -ne 0 ] && [ -d "$SIM_DIR" ]; then
        local keep=$SIM_REPO/build/sim-logs/$SIM_TAG f
        for f in "$SIM_DIR"/*/*.log; do
            [ -f "$f" ] || continue
            mkdir -p "$keep/$(basename "$(dirname "$f")")"
            cp "$f" "$keep/$(basename "$(dirname "$f")")/"
        done
        for f in "$SIM_DIR"/*/weft.log; do
            [ -f "$f" ] || continue
            echo "--- last lines of $(basename "$(dirname "$f")")/weft.log" >&2
            tail -n 15 "$f" >&2
        done
        echo "--- logs kept in $keep" >&2
    fi
    # Containers first, so dockerd stops quickly; then the daemons.
    for d in "$SIM_DIR"/*/; do
        [ -S "$d/docker.sock" ] || continue
        host=$(basename "$d")
        local ids
        ids=$(timeout 10 "$SIM_DOCKER" -H "unix://$d/docker.sock" ps -aq 2>/dev/null)
        [ -n "$ids" ] && timeout 20 "$SIM_DOCKER" -H "unix://$d/docker.sock" rm -f $ids >/dev/null 2>&1
    done
    # Every dockerd told at once (each takes about a second to stop), then each waited for.
    for d in "$SIM_DIR"/*/; do
        [ -f "$d/dockerd.pid" ] && kill -TERM "$(cat "$d/dockerd.pid")" 2>/dev/null
    done
    for d in "$SIM_DIR"/*/; do
        for f in dockerd.pid dockerd.spawn.pid; do
            [ -f "$d/$f" ] && sim_stop_pid "$(cat "$d/$f")" 15
        done
    done
    for d in "$SIM_DIR"/*/; do
        [ -f "$d/weft.pid" ] && sim_stop_pid "$(cat "$d/weft.pid")" 10
        [ -f "$d/pid" ] && sim_stop_pid "$(cat "$d/pid")" 10
    done
    # Whatever is left in our cgroup (containerd, shims, container processes).
    for _ in 1 2 3 4 5 6 7 8 9 10; do
        pid=$(sim_cg_pids "$cg")
        [ -z "$pid" ] && break
        kill -KILL $pid 2>/dev/null
        sleep 0.2
    done
    [ -d "$cg" ] && find "$cg" -depth -type d -exec rmdir {} \; 2>/dev/null
    # Cgroups runc made in the other hierarchies for our containers.
    for d in /sys/fs/cgroup/*/"$SIM_TAG"; do
        [ -d "$d" ] && find "$d" -depth -type d -exec rmdir {} \; 2>/dev/null
    done
    # Mounts left under the state dir (there should be none: dockerd's are private).
    awk -v p="$SIM_DIR" 'index($2, p) == 1 {print $2}' /proc/self/mounts | sort -r |
        while read -r m; do umount -l "$m" 2>/dev/null; done
    for ns in $(ip netns list 2>/dev/null | awk '{print $1}' | grep "^$SIM_TAG-"); do
        ip netns del "$ns" 2>/dev/null
    done
    rm -rf "$SIM_DIR"
    rmdir "$SIM_REPO/build/sim" 2>/dev/null
    return $rc
}
