/*
 * revoke.c: weft revoke HOST: the host's etcd user and role go first (the host can
 * write nothing more), then its records: hosts/HOST/ and fabric/HOST/ (so the other
 * hosts drop its peers) and the address claims in addrs/ naming it (so its
 * addresses are free at once instead of after --reclaim-after).
 */
#include "admin/admin_internal.h"

#include <string.h>

#include "store/records.h"

/* Deletes user or role name; *deleted false when it was missing already. */
static int delete_principal(struct etcd *etcd, bool role, const char *name, bool *deleted,
                            struct weft_err *err)
{
    int rc = role ? etcd_role_delete(etcd, name, err) : etcd_user_delete(etcd, name, err);
    *deleted = rc == 0;
    if (rc < 0 && err->code != -ENOENT)
        return weft_err_wrap(err, "deleting etcd %s %s", role ? "role" : "user", name);
    return 0;
}

/* Deletes every key under prefix; *count receives how many there were. */
static int delete_records(struct etcd *etcd, const char *prefix, size_t *count,
                          struct weft_err *err)
{
    struct etcd_kvs kvs;
    if (etcd_get_prefix(etcd, prefix, &kvs, err) < 0)
        return weft_err_wrap(err, "listing %s", prefix);
    *count = kvs.count;
    etcd_kvs_free(&kvs);
    if (*count > 0 && etcd_delete_prefix(etcd, prefix, err) < 0)
        return weft_err_wrap(err, "deleting %s", prefix);
    return 0;
}

/* Deletes the addrs/ records whose "host" is host, each only while unchanged since
 * read (an address given to another host meanwhile stays). Undecodable records are
 * not weft's to judge here: left alone. */
static int delete_addr_claims(struct etcd *etcd, const char *host, size_t *count,
                              struct weft_err *err)
{
    char root[WEFT_KEY_MAX];
    key_addrs_root(root);
    struct etcd_kvs kvs;
    if (etcd_get_prefix(etcd, root, &kvs, err) < 0)
        return weft_err_wrap(err, "listing %s", root);
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < kvs.count; i++) {
        struct addr_record rec;
        if (addr_record_decode(kvs.items[i].value, &rec, NULL) < 0 || strcmp(rec.host, host) != 0)
            continue;
        struct etcd_txn *txn = etcd_txn_new();
        if (!txn) {
            rc = weft_err_set(err, -ENOMEM, "out of memory deleting %s", kvs.items[i].key);
            break;
        }
        etcd_txn_cmp_mod_revision(txn, kvs.items[i].key, kvs.items[i].mod_revision);
        etcd_txn_delete(txn, kvs.items[i].key);
        bool succeeded = false;
        rc = etcd_txn_commit(etcd, txn, &succeeded, err);
        etcd_txn_free(txn);
        if (rc < 0)
            weft_err_wrap(err, "deleting %s", kvs.items[i].key);
        else if (succeeded)
            (*count)++;
    }
    etcd_kvs_free(&kvs);
    return rc;
}

int admin_revoke(struct etcd *etcd, const char *host, struct revoke_result *out,
                 struct weft_err *err)
{
    memset(out, 0, sizeof(*out));
    char name[ADMIN_NAME_MAX];
    if (admin_host_names(host, name, err) < 0)
        return -1;
    char hosts_prefix[WEFT_KEY_MAX], fabric_prefix[WEFT_KEY_MAX];
    admin_host_own_prefixes(host, hosts_prefix, fabric_prefix);
    if (delete_principal(etcd, false, name, &out->user_deleted, err) < 0 ||
        delete_principal(etcd, true, name, &out->role_deleted, err) < 0 ||
        delete_records(etcd, hosts_prefix, &out->host_records, err) < 0 ||
        delete_records(etcd, fabric_prefix, &out->fabric_records, err) < 0 ||
        delete_addr_claims(etcd, host, &out->addr_claims, err) < 0) {
        admin_explain(err);
        size_t used = strlen(err->msg);
        snprintf(err->msg + used, sizeof(err->msg) - used,
                 " (what was deleted stays deleted: weft revoke %s again finishes)", host);
        return -1;
    }
    return 0;
}

int admin_revoke_main(int argc, char **argv)
{
    struct admin_options opts;
    struct weft_err err = {0};
    int parsed = admin_parse_options(argc, argv, false, &opts, &err);
    if (parsed != 0) {
        if (parsed < 0)
            fprintf(stderr, "weft revoke: %s\n", err.msg);
        return parsed < 0 ? 2 : 0;
    }
    char name[ADMIN_NAME_MAX];
    if (admin_host_names(opts.host, name, &err) < 0) {
        fprintf(stderr, "weft revoke: %s\n", err.msg);
        return 2;
    }
    struct etcd *etcd;
    if (admin_store_open(&opts, &etcd, &err) < 0) {
        fprintf(stderr, "weft revoke: %s\n", err.msg);
        return 1;
    }
    struct revoke_result r;
    int rc = admin_revoke(etcd, opts.host, &r, &err);
    etcd_close(etcd);
    if (rc < 0) {
        fprintf(stderr, "weft revoke: %s\n", err.msg);
        return 1;
    }
    printf("revoked host %s: etcd user %s %s, role %s; deleted %zu host records, %zu fabric "
           "records, %zu address claims\n",
           opts.host, name, r.user_deleted ? "deleted" : "did not exist (fine)",
           r.role_deleted ? "deleted" : "did not exist (fine)", r.host_records, r.fabric_records,
           r.addr_claims);
    return 0;
}
