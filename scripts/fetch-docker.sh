#!/usr/bin/env bash
# fetch-docker.sh: a given Docker Engine, from Debian's archive, in a folder of its own.
#
# Usage: scripts/fetch-docker.sh VERSION
#   VERSION is "distro" (the dockerd this machine has installed), "newest" (the newest
#   docker.io that Debian's unstable carries), or a version prefix: 20.10, 26, 26.1, 28.5.2.
# Prints the folder build/docker/<version>/, whose bin/ holds dockerd, docker, docker-proxy,
# containerd and containerd-shim-runc-v2 of one Debian release, with the machine's own runc
# and docker-init (tini); put that bin/ first on dockerd's PATH (tests/lib/sim.sh does) and
# dockerd starts that containerd, which starts that shim. Its file "versions" names each
# package's Debian version. runc and tini are the machine's because newer releases build
# them against a newer C library than Debian 12's (runc 1.3 wants glibc 2.38); containerd
# drives whichever runc it finds through the OCI runtime interface, which has not changed.
#
# Nothing is installed into the system: the archive is read with a private apt state under
# build/docker/apt/ (scripts/lib/debian_archive.sh), and the packages are unpacked with
# dpkg-deb -x. A version is unpacked once and kept; the folder
# appears only after its binaries have answered --version with the version asked for.
# A version that the machine's dockerd is (20.10 on Debian 12) is not downloaded: its folder
# links to the installed binaries. Needs network access to deb.debian.org for the rest.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cache=$repo/build/docker
apt_dir=$cache/apt
# Where newer Docker comes from: the next stable release, and unstable.
suites=(trixie unstable)
. "$repo/scripts/lib/debian_archive.sh"

die() { printf 'fetch-docker: %s\n' "$*" >&2; exit 1; }

[ $# -eq 1 ] || die "usage: fetch-docker.sh distro|newest|VERSION (for example 26 or 28.5)"
want=$1
[[ "$want" =~ ^(distro|newest|[0-9]+(\.[0-9]+)*)$ ]] ||
    die "'$want' is not a version: give distro, newest, or a version such as 26 or 28.5"

# The upstream part of a Debian version: 28.5.2+dfsg4-5 -> 28.5.2, 1:2.0~rc1-1 -> 2.0~rc1.
upstream() { local v=${1#*:}; v=${v%%[+-]*}; printf '%s\n' "$v"; }

# Whether version $1 is $2 or starts with "$2." (26 matches 26.1.5, not 261.0).
matches() { [ "$1" = "$2" ] || [[ "$1" == "$2".* ]]; }

# Runs BIN --version and requires it to mention VERSION.
check_version() { # BIN VERSION
    local out
    [ -x "$1" ] || die "$1 is missing or not executable"
    out=$("$1" --version 2>&1) || die "$1 --version failed: $out"
    grep -qF -- "$2" <<<"$out" || die "$1 says '$out', expected version $2"
}

# The installed release: links to its binaries, where Debian's packages put them. Not
# /usr/local: a machine may have another client there (this kind has Docker 28's), and
# the distribution's release is what a user of it runs, client and all.
link_installed() { # DEST_BIN
    local b p
    for b in dockerd docker containerd containerd-shim-runc-v2 runc docker-init docker-proxy; do
        p=$(PATH=/usr/sbin:/usr/bin:/sbin:/bin command -v "$b") ||
            die "the installed Docker lacks $b (is docker.io installed? scripts/install-deps.sh test)"
        ln -s "$p" "$1/$b"
    done
}

installed=$(dpkg-query -W -f='${Version}' docker.io 2>/dev/null || true)
if [ "$want" = distro ] || { [ -n "$installed" ] && matches "$(upstream "$installed")" "$want"; }; then
    [ -n "$installed" ] || die "docker.io is not installed (scripts/install-deps.sh test installs it)"
    version=$(upstream "$installed")
    dest=$cache/$version
    if [ ! -f "$dest/ok" ]; then
        mkdir -p "$cache"
        tmp=$(mktemp -d "$cache/.tmp.XXXXXX")
        trap 'rm -rf "$tmp"' EXIT
        mkdir -p "$tmp/bin"
        link_installed "$tmp/bin"
        check_version "$tmp/bin/dockerd" "$version"
        check_version "$tmp/bin/docker" "$version"
        for p in docker.io containerd runc; do
            printf '%s %s (installed)\n' "$p" "$(dpkg-query -W -f='${Version}' "$p" 2>/dev/null || echo '?')"
        done >"$tmp/versions"
        debian_archive_publish "$tmp" "$dest"
        trap - EXIT
    fi
    printf '%s\n' "$dest"
    exit 0
fi

# ---- from the archive ----
debian_archive_open "$apt_dir" fetch-docker "${suites[@]}" || exit 1

# Every docker.io the suites carry: "VERSION SUITE" lines, newest first.
offered=$(apt-cache "${apt_opts[@]}" madison docker.io |
    awk -F'|' '{gsub(/ /, "", $2); split($3, w, " "); split(w[2], s, "/"); print $2, s[1]}' |
    sort -rV -k1,1)
[ -n "$offered" ] || die "the archive's indexes list no docker.io in ${suites[*]}"
if [ "$want" = newest ]; then
    pick=$(awk '$2 == "unstable"' <<<"$offered" | head -n 1)
    [ -n "$pick" ] || die "unstable carries no docker.io"
else
    pick=
    while read -r v s; do
        matches "$(upstream "$v")" "$want" && { pick="$v $s"; break; }
    done <<<"$offered"
    [ -n "$pick" ] || die "Docker $want is not in Debian's archive: ${suites[0]} and ${suites[1]} carry $(
        awk '{printf "%s%s (%s)", sep, $1, $2; sep = ", "}' <<<"$offered")${installed:+, and this machine has $installed}"
fi
read -r deb_version suite <<<"$pick"
version=$(upstream "$deb_version")
dest=$cache/$version
if [ -f "$dest/ok" ]; then
    printf '%s\n' "$dest"
    exit 0
fi

# The engine, its client, and containerd with its shim, of the same suite.
tmp=$(mktemp -d "$cache/.tmp.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
(cd "$apt_dir/debs" &&
    apt-get "${apt_opts[@]}" -q download "docker.io=$deb_version" "docker-cli/$suite" \
        "containerd/$suite" >"$tmp/download.log" 2>&1) || {
    tail -n 5 "$tmp/download.log" >&2
    die "downloading Docker $version and its containerd from $suite failed"
}
: >"$tmp/versions"
for p in docker.io docker-cli containerd; do
    if [ "$p" = docker.io ]; then v=$deb_version; else
        v=$(apt-cache "${apt_opts[@]}" madison "$p" | awk -F'|' -v s="$suite" \
            '$3 ~ " "s"/" {gsub(/ /, "", $2); print $2; exit}')
    fi
    f=("$apt_dir/debs/${p}_${v#*:}_"*.deb) # apt names it without the epoch
    [ -f "${f[0]}" ] || die "the download of $p $v from $suite left no package"
    f=${f[0]}
    dpkg-deb -x "$f" "$tmp/root" || die "unpacking $f failed"
    printf '%s %s (%s)\n' "$p" "$v" "$suite" >>"$tmp/versions"
done

mkdir -p "$tmp/bin"
for b in usr/sbin/dockerd usr/bin/docker usr/sbin/docker-proxy usr/bin/containerd \
    usr/bin/containerd-shim-runc-v2; do
    [ -f "$tmp/root/$b" ] || die "the packages of Docker $version have no /$b"
    ln -s "../root/$b" "$tmp/bin/$(basename "$b")"
done
for b in runc docker-init; do
    p=$(PATH=/usr/sbin:/usr/bin:/sbin:/bin command -v "$b") ||
        die "this machine has no $b (scripts/install-deps.sh test installs docker.io, which brings it)"
    ln -s "$p" "$tmp/bin/$b"
    printf '%s %s (this machine)\n' "$b" "$p" >>"$tmp/versions"
done
containerd_version=$(upstream "$(awk '$1 == "containerd" {print $2}' "$tmp/versions")")
check_version "$tmp/bin/dockerd" "$version"
check_version "$tmp/bin/docker" "$version"
check_version "$tmp/bin/docker-proxy" "$version"
check_version "$tmp/bin/containerd" "$containerd_version"
out=$("$tmp/bin/containerd-shim-runc-v2" -v 2>&1) || die "containerd-shim-runc-v2 -v failed: $out"
grep -qF -- "$containerd_version" <<<"$out" ||
    die "containerd-shim-runc-v2 -v says '$out', expected version $containerd_version"
check_version "$tmp/bin/runc" runc
rm -f "$tmp/download.log" "$apt_dir"/debs/*.deb # unpacked: the packages are not needed again
debian_archive_publish "$tmp" "$dest"
trap - EXIT
printf '%s\n' "$dest"
