/*
 * policy.c: who a host is to etcd and what it may write (see admin.h).
 *
 * A host writes its own records (hosts/<host>/, fabric/<host>/) and the shared ones
 * (overlays/, vnis/, addrs/), and reads all of weft's state. The prefixes follow
 * the key layout of store/keys.h; the per-host ones are built from its roots here
 * because keys.h has no per-host prefix builder yet (issue 17 moves fabric/ under
 * the host).
 */
#include "admin/admin.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "common/addr.h"

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

/* The roots of the records one host writes, each followed by "<host>/". */
#define HOSTS_ROOT WEFT_KEY_ROOT "hosts/"
#define FABRIC_ROOT WEFT_KEY_FABRIC

/* A host's role, one line per grant: a per-host grant is root + "<host>/". */
static const struct {
    enum etcd_perm perm;
    const char *root;
    bool per_host;
} host_role[] = {
    {ETCD_PERM_READ, WEFT_KEY_ROOT, false},              /* watches and listings */
    {ETCD_PERM_READWRITE, HOSTS_ROOT, true},           /* alive, networks, endpoints */
    {ETCD_PERM_READWRITE, FABRIC_ROOT, true},          /* memberships and peers */
    {ETCD_PERM_READWRITE, WEFT_KEY_ROOT "overlays/", false},
    {ETCD_PERM_READWRITE, WEFT_KEY_ROOT "vnis/", false},
    {ETCD_PERM_READWRITE, WEFT_KEY_ROOT "addrs/", false},
};

size_t admin_host_grants(const char *host, struct admin_grant out[ADMIN_GRANTS_MAX])
{
    size_t n = sizeof(host_role) / sizeof(host_role[0]);
    _Static_assert(sizeof(host_role) / sizeof(host_role[0]) <= ADMIN_GRANTS_MAX,
                   "ADMIN_GRANTS_MAX holds the host role");
    for (size_t i = 0; i < n; i++) {
        out[i].perm = host_role[i].perm;
        snprintf(out[i].prefix, WEFT_KEY_MAX, "%s%s%s", host_role[i].root,
                 host_role[i].per_host ? host : "", host_role[i].per_host ? "/" : "");
    }
    return n;
}

void admin_host_own_prefixes(const char *host, char hosts[WEFT_KEY_MAX], char fabric[WEFT_KEY_MAX])
{
    snprintf(hosts, WEFT_KEY_MAX, HOSTS_ROOT "%s/", host);
    snprintf(fabric, WEFT_KEY_MAX, FABRIC_ROOT "%s/", host);
}
