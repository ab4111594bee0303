/*
 * etcd.c: weft's etcd v3 client over the JSON gateway (see etcd.h).
 *
 * Owns opening and closing a client, its member list and its settings. Every
 * request, from etcd_kv.c, etcd_lease.c and the watch thread's listings, goes
 * through etcd_call (etcd_call.c: the handle pool, failover, rounds). The codec is
 * etcd_codec.c. Callers: anyone holding a struct etcd, from any thread.
 */
#include "store/etcd_internal.h"

#include <ctype.h>
#include <dlfcn.h>
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"

/* ---- opening and the member list ---- */

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_result;

/* Debian's libcurl (the daemon built with LEAN=no, the test programs) starts libssh2
 * in its global init, whose OpenSSL set-up (every engine and algorithm) leaves about
 * 1.5 MiB of libcrypto resident although weft speaks only http. When libcurl brought
 * libssh2 in, start it first without crypto: it counts its callers and sets crypto up
 * only for the first. The daemon's own libcurl (scripts/lean-libs.sh) has no libssh2. */
static void libssh2_init_without_crypto(void)
{
    void *sym = dlsym(RTLD_DEFAULT, "libssh2_init");
    if (!sym)
        return;
    int (*libssh2_init)(int flags);
    memcpy(&libssh2_init, &sym, sizeof(libssh2_init));
    libssh2_init(0x0001 /* LIBSSH2_INIT_NO_CRYPTO */);
}

static void curl_init(void)
{
    libssh2_init_without_crypto();
    curl_init_result = curl_global_init(CURL_GLOBAL_DEFAULT);
}

static void trim(char **start)
{
    while (isspace((unsigned char)**start))
        (*start)++;
    char *end = *start + strlen(*start);
    while (end > *start && isspace((unsigned char)end[-1]))
        *--end = '\0';
}

static int parse_members(struct etcd *etcd, const char *endpoints, struct weft_err *err)
{
    char *copy = strdup(endpoints);
    if (!copy)
        return weft_err_set(err, -ENOMEM, "out of memory");
    size_t max = 1;
    for (const char *p = endpoints; *p; p++)
        max += *p == ',';
    etcd->members = calloc(max, sizeof(char *));
    if (!etcd->members) {
        free(copy);
        return weft_err_set(err, -ENOMEM, "out of memory");
    }
    int rc = 0;
    char *save = copy;
    for (size_t i = 0; i < max; i++) {
        char *item = strsep(&save, ",");
        trim(&item);
        struct etcd_member_addr addr;
        if (etcd_member_parse(item, &addr, err) < 0) {
            rc = weft_err_wrap(err, "store %s", endpoints);
            break;
        }
        etcd->members[i] = strdup(item);
        if (!etcd->members[i]) {
            rc = weft_err_set(err, -ENOMEM, "out of memory");
            break;
        }
        etcd->member_count++;
    }
    free(copy);
    return rc;
}

/* Collects an answer into the struct weft_buf given as CURLOPT_WRITEDATA. Out of
 * memory returns 0, which curl reports as CURLE_WRITE_ERROR. */
static size_t answer_write(char *data, size_t size, size_t nmemb, void *userdata)
{
    size_t n = size * nmemb;
    return weft_buf_append(userdata, data, n, NULL) < 0 ? 0 : n;
}

CURL *etcd_handle_new(struct etcd *etcd)
{
    CURL *h = curl_easy_init();
    if (!h)
        return NULL;
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L); /* threads: no SIGALRM for DNS timeouts */
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, etcd->headers);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, answer_write);
    curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(h, CURLOPT_TCP_KEEPIDLE, 10L);
    curl_easy_setopt(h, CURLOPT_TCP_KEEPINTVL, 5L);
    /* A request is a few KiB of JSON, yet libcurl gives each handle a 64 KiB send
     * buffer that the pool (ETCD_POOL_MAX handles) keeps: 1 MiB resident after a burst
     * of concurrent requests. 16 KiB is libcurl's least; a larger request still goes. */
    curl_easy_setopt(h, CURLOPT_UPLOAD_BUFFERSIZE, 16384L);
    etcd_tls_apply(etcd, h);
    etcd_health_attach(&etcd->health, h); /* with several members: keepalives each second */
    return h;
}

int etcd_open(struct etcd **out, const char *endpoints, struct weft_err *err)
{
    *out = NULL;
    if (!endpoints || !endpoints[0])
        return weft_err_set(err, -EINVAL, "store address is empty: want host:port[,host:port...]");
    pthread_once(&curl_once, curl_init);
    if (curl_init_result != CURLE_OK)
        return weft_err_set(err, -EIO, "initialising libcurl: %s",
                            curl_easy_strerror(curl_init_result));
    if (etcd_codec_init(err) < 0)
        return -1;
    struct etcd *etcd = calloc(1, sizeof(*etcd));
    if (!etcd)
        return weft_err_set(err, -ENOMEM, "out of memory");
    pthread_mutex_init(&etcd->pool_lock, NULL);
    pthread_mutex_init(&etcd->auth.lock, NULL);
    etcd_gate_init(&etcd->gate);
    atomic_init(&etcd->current, 0);
    atomic_init(&etcd->unreachable, false);
    atomic_init(&etcd->answers, 0);
    atomic_init(&etcd->timeout_ms, 2000);
    atomic_init(&etcd->pool_idle_ms, ETCD_POOL_IDLE_MS);
    if (parse_members(etcd, endpoints, err) < 0)
        goto undo_client;
    if (etcd_health_init(&etcd->health, etcd->members, etcd->member_count, err) < 0)
        goto undo_client;
    const char *headers[] = {"Content-Type: application/json",
                             /* a member cut off from its cluster answers 503 at once */
                             "Grpc-Metadata-Hasleader: true", "Expect:"};
    for (size_t i = 0; i < sizeof(headers) / sizeof(headers[0]); i++) {
        struct curl_slist *next = curl_slist_append(etcd->headers, headers[i]);
        if (!next) {
            weft_err_set(err, -ENOMEM, "out of memory");
            goto undo_client;
        }
        etcd->headers = next;
    }
    if (etcd_health_start(&etcd->health, err) < 0)
        goto undo_client;
    *out = etcd;
    return 0;
undo_client:
    etcd_close(etcd);
    return -1;
}

void etcd_close(struct etcd *etcd)
{
    if (!etcd)
        return;
    for (size_t i = 0; i < etcd->pool_count; i++)
        curl_easy_cleanup(etcd->pool[i]); /* closes sockets through the health register */
    etcd_health_destroy(&etcd->health);
    for (size_t i = 0; i < etcd->member_count; i++)
        free(etcd->members[i]);
    free(etcd->members);
    curl_slist_free_all(etcd->headers);
    etcd_auth_free(&etcd->auth);
    etcd_tls_free(&etcd->tls);
    free(etcd->watch_endpoints);
    pthread_mutex_destroy(&etcd->auth.lock);
    pthread_mutex_destroy(&etcd->pool_lock);
    etcd_gate_destroy(&etcd->gate);
    free(etcd);
}

void etcd_set_cluster_hosts(struct etcd *etcd, size_t hosts)
{
    atomic_store(&etcd->health.cluster_hosts, hosts);
}

void etcd_set_timeout_ms(struct etcd *etcd, long timeout_ms)
{
    if (timeout_ms > 0)
        atomic_store(&etcd->timeout_ms, timeout_ms);
}

void etcd_client_libraries(char *out, size_t size)
{
    const curl_version_info_data *curl = curl_version_info(CURLVERSION_NOW);
    /* libcurl names its TLS library and nghttp2 with their versions ("OpenSSL/3.0.19"). */
    snprintf(out, size, "libcurl/%s%s%s%s%s jansson/%s", curl->version,
             curl->ssl_version ? " " : "", curl->ssl_version ? curl->ssl_version : "",
             curl->nghttp2_version ? " nghttp2/" : "",
             curl->nghttp2_version ? curl->nghttp2_version : "", jansson_version_str());
}
