/*
 * policy.c: who a host is to etcd and what it may write (see admin.h).
 *
 * A host writes its own records (hosts/<host>/, fabric/<host>/) and the shared ones
 * (overlays/, vnis/, addrs/, joined/, roles/), and reads all of weft's state. Every prefix
 * comes from store/keys.h, the one place the layout is written.
 */
#include "admin/admin.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "common/addr.h"
#include "store/keys.h"

#define HOST_USER_PREFIX "weft-host-"

int admin_host_names(const char *host, char user[ADMIN_NAME_MAX], struct weft_err *err)
{
    uint32_t ip;
    if (ipv4_parse(host, &ip, err) < 0)
        return weft_err_wrap(err, "HOST must be the host's --advertise address");
    if (!ipv4_is_unicast(ip))
        return weft_err_set(err, -EINVAL,
                            "HOST %s is not a unicast address a host can advertise", host);
    char canonical[ADDR_STR_MAX];
    ipv4_format(ip, canonical);
    snprintf(user, ADMIN_NAME_MAX, HOST_USER_PREFIX "%s", canonical);
    return 0;
}

/* A host's role: it reads everything (watches and listings), writes its own
 * prefixes (hosts/<host>/: alive, networks, endpoints; fabric/<host>/: memberships
 * and peers, the records other hosts program into their kernels), and writes the
 * shared records hosts agree through (overlays/, vnis/, addrs/, joined/, which
 * only decides when an overlay is released, and roles/, which host does a
 * cluster-wide chore). */
size_t admin_host_grants(const char *host, struct admin_grant out[ADMIN_GRANTS_MAX])
{
    size_t n = 0;
    snprintf(out[n].prefix, WEFT_KEY_MAX, "%s", WEFT_KEY_ROOT);
    out[n++].perm = ETCD_PERM_READ;
    key_host_prefix(out[n++].prefix, host);
    key_fabric_host_prefix(out[n++].prefix, host);
    key_overlays_root(out[n++].prefix);
    key_vni_prefix(out[n++].prefix);
    key_addrs_root(out[n++].prefix);
    key_joined_root(out[n++].prefix);
    key_roles_root(out[n++].prefix);
    _Static_assert(8 <= ADMIN_GRANTS_MAX, "ADMIN_GRANTS_MAX holds the host role");
    for (size_t i = 1; i < n; i++)
        out[i].perm = ETCD_PERM_READWRITE;
    return n;
}

void admin_host_own_prefixes(const char *host, char hosts[WEFT_KEY_MAX], char fabric[WEFT_KEY_MAX])
{
    key_host_prefix(hosts, host);
    key_fabric_host_prefix(fabric, host);
}
