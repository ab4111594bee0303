#!/usr/bin/env bash
# lean-libs.sh: libcurl and libmicrohttpd built with only what weft uses, for the
# daemon to link statically (issue 14: the daemon's RSS).
#
# Usage: scripts/lean-libs.sh CACHE
# Prints the link flags of the daemon's HTTP, TLS, DNS, JSON and protobuf libraries:
# libcurl (http and https, HTTP/2 through nghttp2 for etcd's gRPC, OpenSSL) and
# libmicrohttpd (no HTTPS: the plugin socket is a unix socket) built under CACHE from
# the newest upstream release Debian's unstable carries, and ldns, nghttp2, OpenSSL,
# jansson and protobuf-c from this machine's packages' static archives. Fails (exit 1,
# saying why) when the archive cannot be read or a build fails; the Makefile then links
# Debian's shared libraries.
#
# Why: Debian's libcurl loads Kerberos, LDAP, SSH, RTMP, PSL, IDN, brotli and zstd,
# and its libmicrohttpd GnuTLS, into every daemon: 2.6 MiB of an idle daemon's 9.7 MiB
# resident set, none of it ever run (docs/benchmarks.md). Linked statically, only what
# weft calls is mapped; for the small ones (nghttp2, jansson, protobuf-c) a shared
# library's own cost, its symbol tables and relocations and whole pages of code around
# what is called, was 0.6 MiB of the daemon's resident set (docs/design.md). The price: a
# security fix in one of these reaches weft when it is rebuilt (`make` again), as with
# libsodium (scripts/fetch-libsodium.sh); a distribution that rebuilds on every fix
# links its shared libraries (make LEAN=no).
# Sources are read with a private apt state (scripts/lib/debian_archive.sh) and checked
# against the archive's signed index; a version is built once and kept.
set -euo pipefail
cache=$1
repo=$(cd "$(dirname "$0")/.." && pwd)
warn() { printf 'lean-libs: %s\n' "$*" >&2; }
die() { warn "$@"; exit 1; }
multiarch=$(dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || echo x86_64-linux-gnu)
libdir=/usr/lib/$multiarch

# The configure options: what weft uses and nothing else. libcurl: http and https
# (etcd's JSON gateway and gRPC, dockerd's unix socket), cookies, auth schemes, proxies'
# extras, IDN and compression off. libmicrohttpd: no HTTPS, no examples or tools.
curl_options=(--with-openssl --with-nghttp2 --without-libpsl --without-brotli --without-zstd
    --without-zlib --without-libidn2 --without-librtmp --without-libssh2 --without-gssapi
    --disable-ldap --disable-ldaps --disable-rtsp --disable-dict --disable-telnet --disable-tftp
    --disable-pop3 --disable-imap --disable-smb --disable-smtp --disable-gopher --disable-mqtt
    --disable-ftp --disable-file --disable-ipfs --disable-websockets --disable-manual
    --disable-docs --disable-ntlm --disable-kerberos-auth --disable-negotiate-auth
    --disable-alt-svc --disable-hsts --disable-cookies --disable-netrc --disable-tls-srp
    --disable-libcurl-option --without-libuv)
mhd_options=(--enable-https=no --disable-doc --disable-examples --disable-tools --disable-curl
    --disable-nls)

for a in libldns.a libssl.a libcrypto.a libnghttp2.a libjansson.a libprotobuf-c.a; do
    [ -e "$libdir/$a" ] || die "$libdir/$a is missing (scripts/install-deps.sh installs it)"
done

# build_version PACKAGE VERSION SUBDIR TARGET OPTIONS...: downloads PACKAGE's source at
# VERSION, builds the static archive of TARGET (a libtool library in SUBDIR) and prints
# the folder holding it in lib/. Fails (saying why, leaving nothing) when the archive no
# longer serves that version or it does not build here.
build_version() {
    local pkg=$1 v=$2 subdir=$3 target=$4
    shift 4
    local src=$cache/src upstream=${v#*:}
    upstream=${upstream%-*}
    mkdir -p "$src" "$cache/$pkg"
    rm -f "$src/${pkg}_"*
    (cd "$src" && apt-get "${apt_opts[@]}" -q source --download-only "$pkg=$v") \
        >"$src/$pkg.log" 2>&1 || { warn "$pkg $v: $(grep -m1 -E '^(E|W): ' "$src/$pkg.log")"; return 1; }
    local orig=() f
    for f in "$src/${pkg}_${upstream}.orig.tar."*; do
        [[ $f == *.asc ]] || orig+=("$f")
    done
    [ -f "${orig[0]:-}" ] || { warn "$pkg $v: the download left no upstream tarball"; return 1; }
    local dest=$cache/$pkg/$upstream tmp
    tmp=$(mktemp -d "$cache/$pkg/.tmp.XXXXXX")
    tar -C "$tmp" -xf "${orig[0]}" && rm -f "$src/${pkg}_"* || {
        warn "$pkg $v: unpacking ${orig[0]} failed"; rm -rf "$tmp"; return 1
    }
    local dir=("$tmp"/*/)
    # The daemon is a position-independent executable: the archive's objects must be too.
    (cd "${dir[0]}" && unset MAKEFLAGS MFLAGS MAKELEVEL &&
        ./configure --prefix="$dest" --disable-shared --enable-static --with-pic "$@" \
            CFLAGS='-O2 -g' >"$tmp/configure.log" 2>&1 &&
        make -j"$(nproc)" -C "$subdir" "$target" >"$tmp/make.log" 2>&1) || {
        tail -n 5 "$tmp"/*.log >&2
        warn "$pkg $upstream does not build here"
        rm -rf "$tmp"
        return 1
    }
    # Only the archive: weft compiles against the installed headers (the -dev packages),
    # whose API these newer releases keep.
    mkdir -p "$tmp.out/lib"
    cp "${dir[0]}/$subdir/.libs/${target%.la}.a" "$tmp.out/lib/"
    printf '%s\n' "$v" >"$tmp.out/debian-version"
    rm -rf "$tmp"
    debian_archive_publish "$tmp.out" "$dest"
    printf '%s\n' "$dest"
}

# build PACKAGE SUBDIR TARGET OPTIONS...: the folder of PACKAGE's newest version that the
# archive serves and that builds here (an earlier run's, when there is one).
build() {
    local pkg=$1 ok v
    for ok in "$cache/$pkg"/*/ok; do
        [ -f "$ok" ] && { dirname "$ok"; return 0; }
    done
    . "$repo/scripts/lib/debian_archive.sh"
    debian_archive_types=deb-src debian_archive_open "$cache/apt" lean-libs unstable || return 1
    local versions
    versions=$(apt-cache "${apt_opts[@]}" showsrc "$pkg" | awk '/^Version:/ {print $2}' |
        grep -v '~' | sort -u -r -V)
    [ -n "$versions" ] || die "Debian's unstable carries no source of $pkg"
    for v in $versions; do
        build_version "$pkg" "$v" "${@:2}" && return 0
    done
    die "no version of $pkg could be downloaded and built"
}

curl_dir=$(build curl lib libcurl.la "${curl_options[@]}")
mhd_dir=$(build libmicrohttpd src/microhttpd libmicrohttpd.la "${mhd_options[@]}")
flags="$curl_dir/lib/libcurl.a $mhd_dir/lib/libmicrohttpd.a -l:libldns.a -l:libnghttp2.a \
-l:libssl.a -l:libcrypto.a -l:libjansson.a -l:libprotobuf-c.a -pthread"
# A program calling them all must link with these flags and run here, or the daemon's
# link would fail where the shared libraries would have done (a newer release wanting
# a library these flags do not name): fail, and the Makefile takes the shared ones.
probe=$(mktemp -d)
trap 'rm -rf "$probe"' EXIT
printf '%s\n' '#include <curl/curl.h>' '#include <ldns/ldns.h>' '#include <microhttpd.h>' \
    '#include <openssl/crypto.h>' '#include <nghttp2/nghttp2.h>' '#include <jansson.h>' \
    '#include <protobuf-c/protobuf-c.h>' \
    'int main(void) { return !(curl_version_info(CURLVERSION_NOW) && MHD_get_version() &&' \
    '    ldns_version() && OpenSSL_version(OPENSSL_VERSION) && nghttp2_version(0) &&' \
    '    jansson_version_str() && protobuf_c_version()); }' >"$probe/probe.c"
# shellcheck disable=SC2086 # flags is a list of words
cc "$probe/probe.c" -o "$probe/probe" $flags 2>"$probe/cc.log" && "$probe/probe" ||
    die "a program linked with them does not link or run here: $(head -n 3 "$probe/cc.log")"
printf '%s\n' "$flags"
