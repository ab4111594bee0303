# scripts/lib/debian_archive.sh: Debian's archive read with a private apt state, for the
# scripts that take a newer package than this machine's release carries (fetch-docker.sh,
# fetch-libsodium.sh). Sourced, not run. Nothing is installed into the system: apt-get
# runs with a private sources list, state and cache under APT_DIR (the machine's own
# package sources and state are untouched), and `apt-get download` checks every package
# against the archive's signed index.
#
# debian_archive_open APT_DIR NAME SUITE...: sets the array apt_opts for apt-get and
# apt-cache, and reads the suites' indexes again when older than six hours (unstable
# moves); when the archive cannot be reached, older indexes are used with a warning, and
# without any it fails (returns 1, having said why on stderr, prefixed with NAME).
# debian_archive_publish TMP DEST: the folder TMP, complete, becomes DEST (marked ok; an
# older DEST replaced), so that a folder is either whole or absent.
# debian_archive_types: "deb" (the default) reads binary packages, "deb-src" sources
# (scripts/lean-libs.sh); set it for the call of debian_archive_open.
debian_archive_publish() {
    chmod 755 "$1"
    touch "$1/ok"
    rm -rf "$2"
    mv "$1" "$2"
}

debian_archive_open() {
    local apt_dir=$1 name=$2 s
    shift 2
    local keyring=/usr/share/keyrings/debian-archive-keyring.gpg
    local archive=http://deb.debian.org/debian
    mkdir -p "$apt_dir/lists/partial" "$apt_dir/cache/archives/partial" "$apt_dir/debs"
    for s in "$@"; do
        printf '%s [signed-by=%s] %s %s main\n' "${debian_archive_types:-deb}" "$keyring" \
            "$archive" "$s"
    done >"$apt_dir/sources.list"
    apt_opts=(-o "Dir::Etc::sourcelist=$apt_dir/sources.list" -o Dir::Etc::sourceparts=/dev/null
        -o "Dir::State::Lists=$apt_dir/lists" -o "Dir::Cache=$apt_dir/cache"
        -o APT::Get::List-Cleanup=0 -o Debug::NoLocking=1 -o APT::Sandbox::User=root)
    local stamp=$apt_dir/lists/updated
    [ -z "$(find "$stamp" -mmin -360 2>/dev/null)" ] || return 0
    if apt-get "${apt_opts[@]}" -q update >"$apt_dir/update.log" 2>&1 &&
        ! grep -qE '^(W|E): ' "$apt_dir/update.log"; then
        touch "$stamp"
    elif [ -f "$stamp" ]; then
        printf '%s: could not refresh the indexes (%s); using those of %s\n' "$name" \
            "$(grep -m1 -E '^(W|E): ' "$apt_dir/update.log" || echo 'apt-get update failed')" \
            "$(date -r "$stamp" '+%F %R')" >&2
    else
        tail -n 5 "$apt_dir/update.log" >&2
        printf "%s: could not read Debian's package indexes for %s from %s\n" "$name" "$*" \
            "$archive" >&2
        return 1
    fi
}
