/*
 * etcd_config.c: what --store and its companions mean to the etcd client: the URL
 * spellings, and opening a client with TLS and a user (see etcd.h). Callers: the
 * daemon (and weft's admin commands), tests.
 */
#include "store/etcd_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define URL_FORMS                                                                                  \
    "etcd://HOST:PORT[,HOST:PORT...], etcds://HOST:PORT[,...] (TLS), or "                          \
    "http(s)://HOST:PORT[,http(s)://HOST:PORT...]"

/* "scheme://" at the start of text, if any: its length (with "://") in *len. */
static bool scheme_of(const char *text, char *scheme, size_t size, size_t *len)
{
    const char *sep = strstr(text, "://");
    const char *comma = strchr(text, ',');
    if (!sep || (comma && comma < sep) || (size_t)(sep - text) >= size)
        return false;
    snprintf(scheme, size, "%.*s", (int)(sep - text), text);
    *len = (size_t)(sep - text) + 3;
    return true;
}

/* etcdctl's form: every member "http://H:P" or every one "https://H:P" (a trailing
 * "/" allowed), copied without the schemes. */
static int parse_scheme_list(const char *url, const char *want, char *endpoints, size_t size,
                             struct weft_err *err)
{
    size_t used = 0;
    for (const char *item = url; item;) {
        const char *comma = strchr(item, ',');
        size_t item_len = comma ? (size_t)(comma - item) : strlen(item);
        char scheme[16];
        size_t skip;
        if (!scheme_of(item, scheme, sizeof(scheme), &skip) || skip > item_len)
            return weft_err_set(err, -EINVAL,
                                "--store %s: member \"%.*s\" has no scheme: give every member "
                                "%s:// (or write %s://HOST:PORT,HOST:PORT)",
                                url, (int)item_len, item, want,
                                strcmp(want, "https") == 0 ? "etcds" : "etcd");
        if (strcmp(scheme, want) != 0)
            return weft_err_set(err, -EINVAL,
                                "--store %s mixes %s:// and %s://: every member must be reached "
                                "the same way",
                                url, want, scheme);
        size_t host_len = item_len - skip;
        if (host_len > 0 && item[skip + host_len - 1] == '/')
            host_len--;
        if (host_len == 0)
            return weft_err_set(err, -EINVAL, "--store %s: a member has no HOST:PORT", url);
        if (used + host_len + 2 > size)
            return weft_err_set(err, -EINVAL, "--store is too long");
        if (used)
            endpoints[used++] = ',';
        memcpy(endpoints + used, item + skip, host_len);
        used += host_len;
        endpoints[used] = '\0';
        item = comma ? comma + 1 : NULL;
    }
    return 0;
}

/* Every member of endpoints is HOST:PORT ([IPv6]:PORT): a usage error shows at once,
 * not at open. */
static int check_members(const char *url, char *endpoints, struct weft_err *err)
{
    for (char *item = endpoints, *next; item; item = next) {
        next = strchr(item, ',');
        if (next)
            *next = '\0';
        struct etcd_member_addr addr;
        int rc =
            etcd_member_parse(item, &addr, err) < 0 ? weft_err_wrap(err, "--store %s", url) : 0;
        if (next)
            *next++ = ',';
        if (rc < 0) {
            endpoints[0] = '\0';
            return -1;
        }
    }
    return 0;
}

static int parse_url(const char *url, char *endpoints, size_t size, bool *tls,
                     struct weft_err *err);

int etcd_url_parse(const char *url, char *endpoints, size_t size, bool *tls, struct weft_err *err)
{
    if (parse_url(url, endpoints, size, tls, err) < 0)
        return -1;
    if (check_members(url, endpoints, err) < 0) {
        *tls = false; /* as for every refusal: nothing read */
        return -1;
    }
    return 0;
}

static int parse_url(const char *url, char *endpoints, size_t size, bool *tls,
                     struct weft_err *err)
{
    char scheme[16];
    size_t skip;
    *tls = false;
    if (size > 0)
        endpoints[0] = '\0';
    if (!url || !scheme_of(url, scheme, sizeof(scheme), &skip))
        return weft_err_set(err, -EINVAL, "--store \"%s\" must look like " URL_FORMS,
                            url ? url : "");
    if (strcmp(scheme, "http") == 0 || strcmp(scheme, "https") == 0) {
        if (parse_scheme_list(url, scheme, endpoints, size, err) < 0) {
            endpoints[0] = '\0';
            return -1;
        }
        *tls = strcmp(scheme, "https") == 0;
        return 0;
    }
    if (strcmp(scheme, "etcd") != 0 && strcmp(scheme, "etcds") != 0)
        return weft_err_set(err, -EINVAL, "--store %s: unknown scheme %s://; use " URL_FORMS, url,
                            scheme);
    const char *rest = url + skip;
    if (strstr(rest, "://"))
        return weft_err_set(
            err, -EINVAL,
            "--store %s mixes schemes: after %s:// give only HOST:PORT[,HOST:PORT...]", url,
            scheme);
    if (!rest[0])
        return weft_err_set(err, -EINVAL, "--store %s names no member: want %s://HOST:PORT", url,
                            scheme);
    if (strlen(rest) >= size)
        return weft_err_set(err, -EINVAL, "--store is too long");
    strcpy(endpoints, rest);
    *tls = strcmp(scheme, "etcds") == 0;
    return 0;
}

/* What can be told without asking etcd: files readable, options that go together. */
static int config_check(const struct etcd_config *config, struct weft_err *err)
{
    const struct {
        const char *flag, *path;
    } files[] = {{"--store-ca", config->ca_file},
                 {"--store-cert", config->cert_file},
                 {"--store-key", config->key_file}};
    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        if (!files[i].path)
            continue;
        if (!config->tls)
            return weft_err_set(err, -EINVAL, "%s needs a TLS store: write --store etcds://...",
                                files[i].flag);
        if (access(files[i].path, R_OK) < 0)
            return weft_err_set(err, -errno, "%s %s: %s", files[i].flag, files[i].path,
                                strerror(errno));
    }
    if (!config->cert_file != !config->key_file)
        return weft_err_set(err, -EINVAL, "--store-cert and --store-key go together");
    if (config->user && !config->user[0])
        return weft_err_set(err, -EINVAL, "--store-user is empty");
    if (!config->user != !config->password)
        return weft_err_set(err, -EINVAL,
                            config->user ? "etcd user %s needs a password"
                                         : "a store password needs --store-user%s",
                            config->user ? config->user : "");
    return 0;
}

static int tls_copy(struct etcd_tls *tls, const struct etcd_config *config, struct weft_err *err)
{
    tls->on = config->tls;
    const char *from[] = {config->ca_file, config->cert_file, config->key_file};
    char **to[] = {&tls->ca_file, &tls->cert_file, &tls->key_file};
    for (size_t i = 0; i < 3; i++)
        if (from[i] && !(*to[i] = strdup(from[i])))
            return weft_err_set(err, -ENOMEM, "out of memory");
    return 0;
}

int etcd_open_config(struct etcd **out, const struct etcd_config *config, struct weft_err *err)
{
    *out = NULL;
    if (config_check(config, err) < 0)
        return -1;
    struct etcd *etcd;
    if (etcd_open(&etcd, config->endpoints, err) < 0)
        return -1;
    /* Before authenticating: on a loaded machine the TLS handshake and etcd's
     * password check are what take longest. */
    etcd_set_timeout_ms(etcd, config->timeout_ms);
    /* No handle exists yet (the prober only connects): every one made from here
     * gets these settings. */
    if (tls_copy(&etcd->tls, config, err) < 0)
        goto undo_client;
    etcd->watch_grpc = config->watch_grpc;
    if (config->watch_endpoints && !(etcd->watch_endpoints = strdup(config->watch_endpoints))) {
        weft_err_set(err, -ENOMEM, "out of memory");
        goto undo_client;
    }
    if (config->user && etcd_auth_start(etcd, config->user, config->password, err) < 0)
        goto undo_client;
    *out = etcd;
    return 0;
undo_client:
    etcd_close(etcd);
    return -1;
}
