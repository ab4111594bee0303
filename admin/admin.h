/*
 * admin.h: weft's administrator commands for issue 17's per-host etcd users.
 *
 *   weft admit HOST   gives host HOST (its --advertise address) an etcd user
 *                     weft-host-HOST whose role lets it read all of weft's state and
 *                     write only what is its own or shared (admin_host_grants), and
 *                     writes its password to a new 0600 file; --rotate: a new password.
 *   weft revoke HOST  deletes that user and role and the host's records, so the other
 *                     hosts drop its peers.
 *
 * Owns these commands: their flags, the host's user/role names and grants, the
 * password file. Files: admit.c, revoke.c, policy.c (names and grants), password.c
 * (making and reading password files), options.c (flags), store.c (opening the store
 * with the administrator's credentials, and what to fix when a call fails); they
 * share admin/admin_internal.h. Talks to etcd only through store/ (etcd.h,
 * etcd_rbac.h, keys.h, records.h).
 * Callers: daemon/main.c (the *_main functions) and tests (the rest). Runs in one
 * thread; nothing is kept between calls.
 */
#ifndef WEFT_ADMIN_H
#define WEFT_ADMIN_H

#include <stdbool.h>
#include <stddef.h>

#include "common/err.h"
#include "store/etcd.h"
#include "store/etcd_rbac.h"
#include "store/keys.h"

/* The commands: argv[0] is "admit" or "revoke". Exit status: 0 done, 1 refused or
 * failed (what was changed is undone; the message says what to fix), 2 bad command
 * line. Messages go to stderr, the result to stdout. */
int admin_admit_main(int argc, char **argv);
int admin_revoke_main(int argc, char **argv);

/* "weft-host-" and an address of ADDR_STR_MAX (common/addr.h), with room. */
#define ADMIN_NAME_MAX 64
/* HOST must be a unicast IPv4 address in the strict form --advertise takes; user
 * receives the host's etcd user name, which is also its role's. */
int admin_host_names(const char *host, char user[ADMIN_NAME_MAX], struct weft_err *err);

/* One permission of a host's role: perm on every key under prefix (which ends in
 * "/", so host 192.168.77.1 never covers 192.168.77.10's keys). */
struct admin_grant {
    enum etcd_perm perm;
    char prefix[WEFT_KEY_MAX];
};
#define ADMIN_GRANTS_MAX 8
/* Fills out with what host's role holds; returns how many. host is valid. */
size_t admin_host_grants(const char *host, struct admin_grant out[ADMIN_GRANTS_MAX]);

struct admit_request {
    const char *host;          /* the host's advertise address */
    const char *password_file; /* NULL: ./weft-HOST.password */
    bool rotate;               /* the host exists: give it a new password */
};

struct admit_result {
    char user[ADMIN_NAME_MAX];
    char password_file[4096]; /* where the password was written (mode 0600) */
};

/* Makes host's user and role (or, with rotate, changes the password), and writes the
 * password to a file that did not exist. Refuses (changing nothing) a file that
 * exists (-EEXIST), a host admitted already without rotate (-EEXIST), rotate for a
 * host that is not (-ENOENT). A failure undoes the steps before it: no user, role or
 * file is left behind. */
int admin_admit(struct etcd *etcd, const struct admit_request *req, struct admit_result *out,
                struct weft_err *err);

struct revoke_result {
    bool user_deleted;     /* false: there was no such user */
    bool role_deleted;     /* false: there was no such role */
    size_t host_records;   /* deleted under hosts/HOST/ */
    size_t fabric_records; /* deleted under fabric/HOST/ */
    size_t addr_claims;    /* addrs/ records naming the host, deleted */
};

/* Deletes host's user and role (missing ones are fine: out says so) and its records.
 * Deletions cannot be undone: a failure says how far it got, and running it again
 * finishes. */
int admin_revoke(struct etcd *etcd, const char *host, struct revoke_result *out,
                 struct weft_err *err);

#endif
