/*
 * etcd_config.c: what --store and its companions mean to the etcd client: the URL
 * spellings, and opening a client with TLS and a user (see etcd.h). Callers: the
 * daemon (and weft's admin commands), tests.
 *
 * STUB (issue 17 in progress): etcd_open_config refuses TLS and users until the
 * client speaks them.
 */
#include "store/etcd_internal.h"

#include <errno.h>
#include <string.h>

int etcd_url_parse(const char *url, char *endpoints, size_t size, bool *tls, struct weft_err *err)
{
    if (strncmp(url, "etcd://", 7) != 0)
        return weft_err_set(err, -EINVAL, "--store must look like etcd://HOST:PORT[,HOST:PORT...]");
    if (strlen(url + 7) >= size)
        return weft_err_set(err, -EINVAL, "--store is too long");
    strcpy(endpoints, url + 7);
    *tls = false;
    return 0;
}

int etcd_open_config(struct etcd **out, const struct etcd_config *config, struct weft_err *err)
{
    *out = NULL;
    if (config->tls || config->user || config->cert_file || config->key_file || config->ca_file)
        return weft_err_set(err, -EOPNOTSUPP, "TLS and etcd users are not supported yet");
    return etcd_open(out, config->endpoints, err);
}
