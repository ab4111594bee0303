/*
 * resolv_conf.h: the host's own resolvers, where weft's resolver forwards every
 * question that is not an overlay's. Owns reading resolv.conf(5) "nameserver" lines
 * (IPv4 and IPv6, at most RESOLV_CONF_MAX, in order; everything else ignored) and
 * following the file as it changes (systemd-resolved, DHCP and VPN clients rewrite
 * it): resolv_conf_servers re-reads it when its inode, size or modification time
 * changed, at most once a second. A missing or empty file means no server (the
 * caller answers SERVFAIL). Callers: dns/resolver.c and tests. Not thread-safe: one
 * owner (the resolver thread).
 */
#ifndef WEFT_RESOLV_CONF_H
#define WEFT_RESOLV_CONF_H

#include <stddef.h>
#include <sys/socket.h>

#include "common/err.h"

#define RESOLV_CONF_MAX 3 /* as glibc's MAXNS */
#define RESOLV_CONF_DEFAULT "/etc/resolv.conf"

/* The nameservers of resolv.conf text: at most max into out, port 53; *count set.
 * As glibc reads them: "nameserver" at the start of a line, then one address ended
 * by a blank, '#' or ';'; an IPv6 zone ("%eth0" or "%2") becomes sin6_scope_id (0
 * when no such interface). A line that does not parse is skipped (glibc does the
 * same). Returns 0, or -1 only when out of memory. */
int resolv_conf_parse(const char *text, struct sockaddr_storage *out, size_t max, size_t *count,
                      struct weft_err *err);

struct resolv_conf;
/* Follows path (not read yet: the first resolv_conf_servers reads it). NULL when
 * out of memory. */
struct resolv_conf *resolv_conf_new(const char *path);
void resolv_conf_free(struct resolv_conf *rc);
/* The current servers (re-read if the file changed; a failed read keeps the last
 * good list and is logged once, until a read succeeds). Returns how many went into
 * out. */
size_t resolv_conf_servers(struct resolv_conf *rc, struct sockaddr_storage *out, size_t max);

#endif
