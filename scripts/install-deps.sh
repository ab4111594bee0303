#!/usr/bin/env bash
# Installs the Debian packages weft needs when they are missing.
# Usage: install-deps.sh build|test|demo|bench|fuzz. Installing needs root.
set -eu
purpose=${1:-build}
pkgs=(gcc make pkg-config libmnl-dev libnl-3-dev libnl-route-3-dev libjansson-dev
      libmicrohttpd-dev libsodium-dev libcurl4-openssl-dev libcurl3-gnutls libldns-dev iproute2
      libprotobuf-c-dev protobuf-c-compiler # etcd's gRPC messages (store/etcd_rpc.proto)
      libssl-dev libnghttp2-dev) # the daemon's own libcurl build (scripts/lean-libs.sh)
# make test's install and man_page tests: systemd-analyze verify, groff -ww, man --warnings.
if [ "$purpose" = test ]; then pkgs+=(systemd groff-base man-db); fi
case "$purpose" in
    test) pkgs+=(libcmocka-dev etcd-server etcd-client docker.io busybox-static iputils-ping curl iperf3 gnuplot-nox
                 procps util-linux valgrind clang libclang-rt-14-dev iptables tcpdump openssl perl
                 dnsmasq-base python3
                 prometheus) ;; # prometheus: promtool checks the /metrics text (integration/metrics)
    fuzz) pkgs+=(clang libclang-rt-14-dev) ;;
    demo) pkgs+=(etcd-server docker.io busybox-static curl util-linux) ;;
    # etcdctl: the bench and soak read and seed the store; iputils-ping: RTT figures and
    # the reach probe's -D stamps (busybox's ping has no -D).
    bench) pkgs+=(libcmocka-dev etcd-server etcd-client docker.io busybox-static iperf3 gnuplot-nox
                  curl perl util-linux iputils-ping dnsmasq-base) ;; # dnsmasq: the names section's test resolver
esac
# Debian's docker-compose (1.29): tests/e2e/docker_compose.sh brings weft networks up from
# compose files.
if [ "$purpose" = test ]; then pkgs+=(docker-compose); fi
missing=()
for p in "${pkgs[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "installing: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q >/dev/null
apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
