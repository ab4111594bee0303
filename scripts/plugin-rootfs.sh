#!/usr/bin/env bash
# plugin-rootfs.sh BIN DIR: lays out weft as a managed (v2) Docker plugin in DIR:
# DIR/config.json (dist/plugin/config.json) and DIR/rootfs/ holding the binary BIN
# (stripped, as /weft), the shared libraries ldd names for it and the dynamic loader at
# their paths, the system's CA bundle (etcds:// without --store-ca) and an nsswitch.conf;
# nothing else (no shell, no package manager). `docker plugin create NAME DIR` takes it.
# Run by `make plugin` (DIR = build/plugin) and by tests/e2e/docker_managed_plugin.sh.
set -euo pipefail
[ $# -eq 2 ] || { echo "usage: $0 BIN DIR" >&2; exit 2; }
bin=$1 out=$2
repo=$(cd "$(dirname "$0")/.." && pwd)
[ -x "$bin" ] || { echo "$0: no weft binary at $bin (run make)" >&2; exit 1; }
command -v ldd >/dev/null || { echo "$0: ldd missing" >&2; exit 1; }

# A fresh tree each time, made beside DIR and moved in place: a library dropped from
# the binary does not linger, and a failed run leaves DIR as it was.
mkdir -p "$(dirname "$out")"
tmp=$(mktemp -d "$out.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
root=$tmp/rootfs
mkdir -p "$root/etc/weft" "$root/etc/ssl/certs" "$root/run/docker/plugins" "$root/tmp"
chmod 1777 "$root/tmp"
strip -o "$root/weft" "$bin" 2>/dev/null || cp "$bin" "$root/weft"
chmod 0755 "$root/weft"

# Libraries by the path ldd resolves them to (the loader by the path the binary names),
# copied as files: links to them would point outside the rootfs.
libs=$(ldd "$bin" | awk '$2 == "=>" && $3 ~ /^\// {print $3} $1 ~ /^\// {print $1}')
[ -n "$libs" ] || { echo "$0: ldd found no libraries for $bin" >&2; exit 1; }
for lib in $libs; do
    mkdir -p "$root$(dirname "$lib")"
    cp -L "$lib" "$root$lib"
done

# GnuTLS and libcurl read the system's bundle for etcds:// members without --store-ca.
ca=/etc/ssl/certs/ca-certificates.crt
if [ -f "$ca" ]; then cp -L "$ca" "$root$ca"; else echo "$0: no $ca; etcds:// needs --store-ca" >&2; fi
# Names of etcd members: /etc/hosts, then DNS (dockerd binds the host's hosts and
# resolv.conf over the rootfs' at start).
echo 'hosts: files dns' >"$root/etc/nsswitch.conf"

cp "$repo/dist/plugin/config.json" "$tmp/config.json"
rm -rf "$out"
chmod 0755 "$tmp"
mv "$tmp" "$out"
trap - EXIT
echo "$out: $(du -sh "$out/rootfs" | cut -f1) rootfs ($(echo "$libs" | wc -w) libraries)" >&2
