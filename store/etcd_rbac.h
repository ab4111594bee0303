/*
 * etcd_rbac.h: etcd's users and roles (its auth API, /v3/auth/...), for issue 17's
 * per-host users.
 *
 * Owns the bodies of the user and role requests and the reading of their answers;
 * every request goes through etcd_call (store/etcd.c), so TLS, the admin's own user
 * and failover are the client's. Callers: admin/ (weft admit, weft revoke) and
 * tests. Thread-safe as every call on a struct etcd. Needs the root role once etcd
 * has authentication enabled; without it enabled anyone may call these.
 *
 * Failures are those of etcd.h, with etcd's "not found" and "already exists"
 * (HTTP 412 from the gateway) given the kinds -ENOENT and -EEXIST, and its
 * "permission denied" (403) -EACCES. etcd's message is kept.
 */
#ifndef WEFT_ETCD_RBAC_H
#define WEFT_ETCD_RBAC_H

#include <stdbool.h>
#include <stddef.h>

#include "common/err.h"
#include "store/etcd.h"

enum etcd_perm { ETCD_PERM_READ, ETCD_PERM_WRITE, ETCD_PERM_READWRITE };

/* One permission of a role: perm on the keys from key up to range_end (excluded). */
struct etcd_grant {
    enum etcd_perm perm;
    char *key;       /* owned */
    char *range_end; /* owned; "" when the grant is the single key */
};

struct etcd_grants {
    struct etcd_grant *items; /* owned array */
    size_t count;
};
void etcd_grants_free(struct etcd_grants *grants); /* frees the contents, not grants */

struct etcd_names {
    char **items; /* owned */
    size_t count;
};
void etcd_names_free(struct etcd_names *names); /* frees the contents, not names */

/* -EEXIST when the user exists. The password is sent once and not kept. */
int etcd_user_add(struct etcd *etcd, const char *name, const char *password, struct weft_err *err);
/* -ENOENT when there is no such user. */
int etcd_user_delete(struct etcd *etcd, const char *name, struct weft_err *err);
int etcd_user_changepw(struct etcd *etcd, const char *name, const char *password,
                       struct weft_err *err);
/* -ENOENT when the user or the role is missing. */
int etcd_user_grant_role(struct etcd *etcd, const char *user, const char *role,
                         struct weft_err *err);
/* *found tells whether the user exists; roles (may be NULL) then receives its roles. */
int etcd_user_get(struct etcd *etcd, const char *name, bool *found, struct etcd_names *roles,
                  struct weft_err *err);

/* -EEXIST when the role exists. */
int etcd_role_add(struct etcd *etcd, const char *name, struct weft_err *err);
/* -ENOENT when there is no such role. */
int etcd_role_delete(struct etcd *etcd, const char *name, struct weft_err *err);
/* perm on every key starting with prefix. Granting the same range again replaces
 * its perm. -ENOENT when the role is missing. */
int etcd_role_grant_prefix(struct etcd *etcd, const char *role, const char *prefix,
                           enum etcd_perm perm, struct weft_err *err);
/* *found tells whether the role exists; grants then receives its permissions. */
int etcd_role_get(struct etcd *etcd, const char *name, bool *found, struct etcd_grants *grants,
                  struct weft_err *err);

/* "READ", "WRITE", "READWRITE". */
const char *etcd_perm_name(enum etcd_perm perm);

#endif
