/*
 * reaper_role.c: which host reclaims dead hosts' addresses. A reaper pass reads every
 * host and address record of the cluster; with every daemon passing, the cluster read
 * hosts x records each interval, which at a thousand hosts was most of etcd's idle
 * work (issue 18). So one host reaps: the holder of roles/reaper, a key created only
 * if absent and kept on the holder's lease. Its death (or a lost lease) deletes the key
 * and the next host to ask takes the role. Called by the lease keeper only.
 */
#include "fabric/fabric_internal.h"

#include <errno.h>
#include <stdlib.h>

#include "common/log.h"
#include "store/keys.h"

/* Asks for the role under lease: true when this host holds it (it just took it, or
 * holds it already: etcd_create counts the same value under the same lease as
 * created). A role that refuses roles/ (an etcd role granted by an older weft) or a
 * store error leaves this host reaping as before: several reapers are harmless
 * (compare-and-swap deletes), one too few is not. */
bool reaper_role_take(struct fabric *f, int64_t lease)
{
    char key[WEFT_KEY_MAX];
    key_reaper_role(key);
    char *text = host_named_text(f);
    if (!text)
        return true;
    bool created = false;
    struct weft_err err;
    int rc = etcd_create(f->etcd, key, text, lease, &created, NULL, &err);
    free(text);
    enum reaper_role was = f->reaper_role;
    if (rc < 0)
        f->reaper_role = err.code == -EACCES ? REAPER_ROLE_UNGRANTED : REAPER_ROLE_UNKNOWN;
    else
        f->reaper_role = created ? REAPER_ROLE_HELD : REAPER_ROLE_ELSEWHERE;
    if (f->reaper_role == was)
        ; /* said already */
    else if (f->reaper_role == REAPER_ROLE_HELD)
        log_info("this host reclaims dead hosts' addresses for the cluster", "key=%s", key);
    else if (f->reaper_role == REAPER_ROLE_ELSEWHERE && was == REAPER_ROLE_HELD)
        log_info("another host reclaims dead hosts' addresses now", "key=%s", key);
    else if (f->reaper_role == REAPER_ROLE_UNGRANTED)
        log_warn("this host's etcd role may not write roles/ (granted by an older weft): it "
                 "reclaims dead hosts' addresses on every pass, as every such host does; "
                 "weft admit HOST --rotate grants it",
                 "error=\"%s\"", err.msg);
    return f->reaper_role != REAPER_ROLE_ELSEWHERE;
}
