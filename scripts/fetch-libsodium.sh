#!/usr/bin/env bash
# fetch-libsodium.sh: a libsodium with AEGIS-128L (1.0.19 or later) for weft to link
# statically, from Debian's archive, when this machine's is older.
#
# Usage: scripts/fetch-libsodium.sh
# Prints nothing when the installed libsodium (pkg-config) is 1.0.19 or later: build with
# it. Else prints the folder build/libsodium/<version>/ holding include/, lib/libsodium.a
# and lib/pkgconfig/libsodium.pc (its prefix that folder), unpacked from libsodium-dev of
# Debian's unstable (Debian 12 and 13 carry 1.0.18): the Makefile links it statically, so
# weft runs on this machine's C library without the newer libsodium installed. Fails
# (exit 1, saying why) when the archive cannot be read or carries none; the Makefile then
# builds with the installed libsodium, without AEGIS-128L (tunnel/aead.h).
#
# Why: AEGIS-128L seals and opens 1,400-byte frames 4-7 x faster than libsodium 1.0.18's
# AES-256-GCM on this machine kind (docs/benchmarks.md), and the encrypted data path's
# throughput is a CPU budget. Nothing is installed into the system: the archive is read with
# a private apt state under build/libsodium/apt/ (scripts/lib/debian_archive.sh), the
# package checked against its signed index and unpacked with dpkg-deb -x. A version is
# unpacked once and kept; the folder appears only after a program built with it ran.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cache=$repo/build/libsodium
want_min=1.0.19
die() { printf 'fetch-libsodium: %s\n' "$*" >&2; exit 1; }

pkg-config --atleast-version="$want_min" libsodium 2>/dev/null && exit 0
# Kept from an earlier run: no archive needed.
for ok in "$cache"/*/ok; do
    [ -f "$ok" ] && { dirname "$ok"; exit 0; }
done

. "$repo/scripts/lib/debian_archive.sh"
debian_archive_open "$cache/apt" fetch-libsodium unstable || exit 1
deb_version=$(apt-cache "${apt_opts[@]}" madison libsodium-dev |
    awk -F'|' '$3 ~ / unstable\// {gsub(/ /, "", $2); print $2; exit}')
[ -n "$deb_version" ] || die "Debian's unstable carries no libsodium-dev"
version=${deb_version#*:}
version=${version%%[+-]*}
dpkg --compare-versions "$version" ge "$want_min" ||
    die "unstable's libsodium-dev is $version, older than $want_min"
dest=$cache/$version
mkdir -p "$cache"
tmp=$(mktemp -d "$cache/.tmp.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
(cd "$cache/apt/debs" &&
    apt-get "${apt_opts[@]}" -q download "libsodium-dev=$deb_version" >"$tmp/download.log" 2>&1) || {
    tail -n 5 "$tmp/download.log" >&2
    die "downloading libsodium-dev $deb_version from unstable failed"
}
f=("$cache/apt/debs/libsodium-dev_${deb_version#*:}_"*.deb)
[ -f "${f[0]}" ] || die "the download of libsodium-dev $deb_version left no package"
dpkg-deb -x "${f[0]}" "$tmp/root" || die "unpacking ${f[0]} failed"
multiarch=$(dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || echo x86_64-linux-gnu)
[ -f "$tmp/root/usr/lib/$multiarch/libsodium.a" ] && [ -f "$tmp/root/usr/include/sodium.h" ] ||
    die "libsodium-dev $deb_version has no libsodium.a or sodium.h"
mkdir -p "$tmp/lib/pkgconfig"
mv "$tmp/root/usr/include" "$tmp/include"
mv "$tmp/root/usr/lib/$multiarch/libsodium.a" "$tmp/lib/"
# Only the static library in lib/: -L there links it, never a shared one. The prefix is
# the final folder's, where it is moved once checked.
printf '%s\n' "prefix=$dest" 'includedir=${prefix}/include' 'libdir=${prefix}/lib' '' \
    'Name: libsodium' "Description: libsodium $version from Debian's unstable, static" \
    "Version: $version" 'Libs: -L${libdir} -lsodium' 'Libs.private: -pthread' \
    'Cflags: -I${includedir}' >"$tmp/lib/pkgconfig/libsodium.pc"
rm -rf "$tmp/root" "$tmp/download.log" "${f[0]}"
# A program built with it must run here (this machine's C library) and have AEGIS-128L.
printf '%s\n' '#include <sodium.h>' '#include <stdio.h>' \
    'int main(void) { if (sodium_init() < 0) return 1;' \
    '  printf("%s %d\n", sodium_version_string(), crypto_aead_aegis128l_keybytes() > 0); return 0; }' \
    >"$tmp/check.c"
cc -I"$tmp/include" "$tmp/check.c" "$tmp/lib/libsodium.a" -pthread -o "$tmp/check" 2>"$tmp/cc.log" ||
    die "a program built with libsodium $version does not link here: $(head -n 3 "$tmp/cc.log")"
out=$("$tmp/check") || die "a program built with libsodium $version does not run here"
[ "$out" = "$version 1" ] || die "libsodium $version says '$out'"
rm -f "$tmp/check.c" "$tmp/check" "$tmp/cc.log"
debian_archive_publish "$tmp" "$dest"
trap - EXIT
printf '%s\n' "$dest"
