# shellcheck shell=bash
# bench/free_port.sh, sourced: free_port prints a loopback TCP port for a server of
# the bench's own. It is taken below the kernel's ephemeral range (where no client
# connection of a test running beside can take it between this check and the
# server's bind; seen once: etcd's "bind: address already in use" on a port a
# client held) and no socket of any state uses it. Arguments: ports to avoid.
free_port() {
    local p low
    low=$(cut -f1 /proc/sys/net/ipv4/ip_local_port_range)
    [ "$low" -gt 20100 ] || low=32768
    while :; do
        p=$((20000 + RANDOM % (low - 20000)))
        [[ " $* " == *" $p "* ]] && continue
        [ -z "$(ss -Htan "sport = :$p")" ] && { echo "$p"; return; }
    done
}
