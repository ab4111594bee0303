/*
 * etcd.c: weft's etcd v3 client over the JSON gateway (see etcd.h).
 *
 * Owns the member list and failover, a pool of curl handles (so a request
 * reuses an open connection and costs one round trip), the key/value, txn and
 * lease calls, and base64. The watch thread lives in etcd_watch.c and uses
 * etcd_call from here. Callers: anyone holding a struct etcd, from any thread.
 */
#include "store/etcd_internal.h"

#include <ctype.h>
#include <dlfcn.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/clock.h"
#include "common/log.h"

/* ---- base64 (standard alphabet, padded: the gateway rejects anything else) ---- */

static const char b64_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

char *etcd_b64_encode(const char *data, size_t len)
{
    if (!data && len > 0)
        return NULL;
    const unsigned char *in = (const unsigned char *)data;
    char *out = malloc((len + 2) / 3 * 4 + 1);
    if (!out)
        return NULL;
    size_t o = 0;
    for (size_t i = 0; i < len; i += 3) {
        uint32_t n = (uint32_t)in[i] << 16;
        if (i + 1 < len)
            n |= (uint32_t)in[i + 1] << 8;
        if (i + 2 < len)
            n |= in[i + 2];
        out[o++] = b64_alphabet[(n >> 18) & 63];
        out[o++] = b64_alphabet[(n >> 12) & 63];
        out[o++] = i + 1 < len ? b64_alphabet[(n >> 6) & 63] : '=';
        out[o++] = i + 2 < len ? b64_alphabet[n & 63] : '=';
    }
    out[o] = '\0';
    return out;
}

static int b64_value(char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return -1;
}

char *etcd_b64_decode(const char *b64, size_t *len)
{
    if (!b64)
        return NULL;
    size_t in_len = strlen(b64);
    if (in_len % 4 != 0)
        return NULL;
    char *out = malloc(in_len / 4 * 3 + 1);
    if (!out)
        return NULL;
    size_t o = 0;
    for (size_t i = 0; i < in_len; i += 4) {
        bool last = i + 4 == in_len;
        int v[4];
        for (int k = 0; k < 4; k++) {
            char c = b64[i + k];
            /* '=' only as the last one or two characters of the final group */
            if (c == '=' && last && (k == 3 || (k == 2 && b64[i + 3] == '=')))
                v[k] = -2;
            else
                v[k] = b64_value(c);
            if (v[k] == -1) {
                free(out);
                return NULL;
            }
        }
        if (v[0] < 0 || v[1] < 0) {
            free(out);
            return NULL;
        }
        uint32_t n = (uint32_t)v[0] << 18 | (uint32_t)v[1] << 12;
        out[o++] = (char)(n >> 16);
        if (v[2] >= 0) {
            n |= (uint32_t)v[2] << 6;
            out[o - 1] = (char)(n >> 16);
            out[o++] = (char)(n >> 8 & 0xff);
            if (v[3] >= 0) {
                n |= (uint32_t)v[3];
                out[o++] = (char)(n & 0xff);
            }
        }
    }
    out[o] = '\0';
    if (len)
        *len = o;
    return out;
}

char *etcd_prefix_end(const char *prefix)
{
    char *end = strdup(prefix ? prefix : "");
    if (!end)
        return NULL;
    /* Strip trailing 0xff bytes (they cannot be incremented), then bump the last byte.
     * An empty result means "no upper bound". */
    size_t n = strlen(end);
    while (n > 0 && (unsigned char)end[n - 1] == 0xff)
        end[--n] = '\0';
    if (n > 0)
        end[n - 1] = (char)((unsigned char)end[n - 1] + 1);
    return end;
}

/* ---- JSON helpers ---- */

int64_t etcd_json_int64(json_t *object, const char *field)
{
    json_t *v = json_object_get(object, field);
    if (json_is_integer(v))
        return (int64_t)json_integer_value(v);
    if (json_is_string(v))
        return strtoll(json_string_value(v), NULL, 10);
    return 0;
}

json_t *etcd_json_b64(const char *data, size_t len)
{
    char *text = etcd_b64_encode(data, len);
    if (!text)
        return NULL;
    json_t *s = json_string(text);
    free(text);
    return s;
}

json_t *etcd_json_range_end(const char *prefix)
{
    char *end = etcd_prefix_end(prefix);
    if (!end)
        return NULL;
    /* The empty end would mean "just this key"; a single NUL byte means "everything". */
    json_t *s = end[0] ? etcd_json_b64(end, strlen(end)) : etcd_json_b64("", 1);
    free(end);
    return s;
}

static json_t *json_int64_string(int64_t n)
{
    char text[32];
    snprintf(text, sizeof(text), "%" PRId64, n);
    return json_string(text);
}

static json_t *key_object(const char *key)
{
    return json_pack("{s:o}", "key", etcd_json_b64(key, strlen(key)));
}

int etcd_kv_from_json(json_t *json, struct etcd_kv *out)
{
    memset(out, 0, sizeof(*out));
    const char *key = json_string_value(json_object_get(json, "key"));
    const char *value = json_string_value(json_object_get(json, "value"));
    size_t len;
    out->key = key ? etcd_b64_decode(key, &len) : NULL;
    out->value = value ? etcd_b64_decode(value, &len) : strdup(""); /* empty values are omitted */
    if (!out->key || !out->value) {
        etcd_kv_clear(out);
        return -1;
    }
    out->create_revision = etcd_json_int64(json, "create_revision");
    out->mod_revision = etcd_json_int64(json, "mod_revision");
    out->lease = etcd_json_int64(json, "lease");
    return 0;
}

void etcd_kv_clear(struct etcd_kv *kv)
{
    if (!kv)
        return;
    free(kv->key);
    free(kv->value);
    memset(kv, 0, sizeof(*kv));
}

void etcd_kvs_free(struct etcd_kvs *kvs)
{
    if (!kvs)
        return;
    for (size_t i = 0; i < kvs->count; i++)
        etcd_kv_clear(&kvs->items[i]);
    free(kvs->items);
    memset(kvs, 0, sizeof(*kvs));
}

/* ---- opening and the member list ---- */

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_result;

/* libcurl's global init also starts libssh2, whose OpenSSL set-up (every engine and
 * algorithm) leaves about 1.5 MiB of libcrypto resident although weft speaks only
 * http. When libcurl brought libssh2 in, start it first without crypto: it counts
 * its callers and sets crypto up only for the first. (The OpenSSL build of libcurl
 * does the same set-up itself; the GnuTLS build, see Makefile, does not.) */
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

/* host:port, where host is a name, IPv4 address or [IPv6] and port is 1..65535. */
static bool member_valid(const char *member)
{
    const char *colon = strrchr(member, ':');
    if (!colon || colon == member || !colon[1])
        return false;
    char *end;
    long port = strtol(colon + 1, &end, 10);
    if (*end || port < 1 || port > 65535 || !isdigit((unsigned char)colon[1]))
        return false;
    if (member[0] == '[')
        return colon[-1] == ']' && colon - member > 2;
    for (const char *p = member; p < colon; p++)
        if (!isalnum((unsigned char)*p) && *p != '.' && *p != '-' && *p != '_')
            return false;
    return true;
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
        return weft_errf(err, "out of memory");
    size_t max = 1;
    for (const char *p = endpoints; *p; p++)
        max += *p == ',';
    etcd->members = calloc(max, sizeof(char *));
    if (!etcd->members) {
        free(copy);
        return weft_errf(err, "out of memory");
    }
    int rc = 0;
    char *save = copy;
    for (size_t i = 0; i < max; i++) {
        char *item = strsep(&save, ",");
        trim(&item);
        if (!member_valid(item)) {
            rc = weft_errf(err, "store address \"%s\" in \"%s\" is not host:port", item, endpoints);
            break;
        }
        etcd->members[i] = strdup(item);
        if (!etcd->members[i]) {
            rc = weft_errf(err, "out of memory");
            break;
        }
        etcd->member_count++;
    }
    free(copy);
    return rc;
}

static size_t buffer_write(char *data, size_t size, size_t nmemb, void *userdata);

CURL *etcd_handle_new(struct etcd *etcd)
{
    CURL *h = curl_easy_init();
    if (!h)
        return NULL;
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L); /* threads: no SIGALRM for DNS timeouts */
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, etcd->headers);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, buffer_write);
    curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(h, CURLOPT_TCP_KEEPIDLE, 10L);
    curl_easy_setopt(h, CURLOPT_TCP_KEEPINTVL, 5L);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http");
    etcd_health_attach(&etcd->health, h);
    return h;
}

int etcd_open(struct etcd **out, const char *endpoints, struct weft_err *err)
{
    *out = NULL;
    if (!endpoints || !endpoints[0])
        return weft_errf(err, "store address is empty: want host:port[,host:port...]");
    pthread_once(&curl_once, curl_init);
    if (curl_init_result != CURLE_OK)
        return weft_errf(err, "initialising libcurl: %s", curl_easy_strerror(curl_init_result));
    struct etcd *etcd = calloc(1, sizeof(*etcd));
    if (!etcd)
        return weft_errf(err, "out of memory");
    pthread_mutex_init(&etcd->pool_lock, NULL);
    etcd_gate_init(&etcd->gate);
    atomic_init(&etcd->current, 0);
    atomic_init(&etcd->unreachable, false);
    atomic_init(&etcd->timeout_ms, 2000);
    if (parse_members(etcd, endpoints, err) < 0)
        goto fail;
    if (etcd_health_init(&etcd->health, etcd->members, etcd->member_count, err) < 0)
        goto fail;
    const char *headers[] = {"Content-Type: application/json",
                             /* a member cut off from its cluster answers 503 at once */
                             "Grpc-Metadata-Hasleader: true", "Expect:"};
    for (size_t i = 0; i < sizeof(headers) / sizeof(headers[0]); i++) {
        struct curl_slist *next = curl_slist_append(etcd->headers, headers[i]);
        if (!next) {
            weft_errf(err, "out of memory");
            goto fail;
        }
        etcd->headers = next;
    }
    if (etcd_health_start(&etcd->health, err) < 0)
        goto fail;
    *out = etcd;
    return 0;
fail:
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
    pthread_mutex_destroy(&etcd->pool_lock);
    etcd_gate_destroy(&etcd->gate);
    free(etcd);
}

void etcd_set_timeout_ms(struct etcd *etcd, long timeout_ms)
{
    if (timeout_ms > 0)
        atomic_store(&etcd->timeout_ms, timeout_ms);
}

/* ---- one request, with failover ---- */

struct buffer {
    char *data;
    size_t len, cap;
};

static size_t buffer_write(char *data, size_t size, size_t nmemb, void *userdata)
{
    struct buffer *b = userdata;
    size_t n = size * nmemb;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 1024;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *data_new = realloc(b->data, cap);
        if (!data_new)
            return 0; /* curl reports a write error */
        b->data = data_new;
        b->cap = cap;
    }
    memcpy(b->data + b->len, data, n);
    b->len += n;
    b->data[b->len] = '\0';
    return n;
}

static int cancel_check(void *clientp, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                        curl_off_t ulnow)
{
    (void)dltotal, (void)dlnow, (void)ultotal, (void)ulnow;
    return atomic_load((const atomic_bool *)clientp) ? 1 : 0;
}

static CURL *pool_take(struct etcd *etcd)
{
    CURL *h = NULL;
    pthread_mutex_lock(&etcd->pool_lock);
    if (etcd->pool_count > 0)
        h = etcd->pool[--etcd->pool_count];
    pthread_mutex_unlock(&etcd->pool_lock);
    return h ? h : etcd_handle_new(etcd);
}

static void pool_give(struct etcd *etcd, CURL *h)
{
    pthread_mutex_lock(&etcd->pool_lock);
    if (etcd->pool_count < ETCD_POOL_MAX) {
        etcd->pool[etcd->pool_count++] = h;
        h = NULL;
    }
    pthread_mutex_unlock(&etcd->pool_lock);
    if (h)
        curl_easy_cleanup(h);
}

/* Appends "(member): reason" to the list of members that failed. */
static void note_failure(char *list, size_t size, const char *member, const char *reason)
{
    size_t used = strlen(list);
    if (used + 1 < size)
        snprintf(list + used, size - used, "%s(%s): %s", used ? "; " : "", member, reason);
}

/* The message of an etcd error body {"error","message","code"}, or a generic one. */
static void error_message(const struct buffer *body, char *out, size_t size, long status)
{
    json_t *json = body->data ? json_loadb(body->data, body->len, 0, NULL) : NULL;
    const char *msg = json_string_value(json_object_get(json, "message"));
    if (!msg)
        msg = json_string_value(json_object_get(json, "error"));
    if (msg)
        snprintf(out, size, "%s", msg);
    else
        snprintf(out, size, "HTTP status %ld", status);
    json_decref(json);
}

/* Between retry rounds while a cluster elects a leader. */
#define ELECTION_RETRY_MS 150L

/* Sleeps ms in small steps; true if cancel became set meanwhile. */
static bool pause_unless_canceled(long ms, const atomic_bool *cancel)
{
    for (long slept = 0; slept < ms; slept += 25) {
        if (cancel && atomic_load(cancel))
            return true;
        struct timespec step = {0, 25 * 1000000L};
        nanosleep(&step, NULL);
    }
    return cancel && atomic_load(cancel);
}

/* Like etcd_call; *status (may be NULL) receives the HTTP status of the member that answered. */
static int call_members(struct etcd *etcd, const char *path, json_t *body, json_t **reply,
                        const atomic_bool *cancel, long *status_out, struct weft_err *err)
{
    *reply = NULL;
    if (status_out)
        *status_out = 0;
    if (!body)
        return weft_errf(err, "out of memory building the store request");
    char *text = json_dumps(body, JSON_COMPACT);
    CURL *h = text ? pool_take(etcd) : NULL;
    if (!h) {
        free(text);
        return weft_errf(err, "out of memory building the store request");
    }
    struct buffer answer = {0};
    long timeout = atomic_load(&etcd->timeout_ms);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, text);
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(text));
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &answer);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, timeout);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, etcd_connect_timeout_ms(etcd, timeout));
    curl_easy_setopt(h, CURLOPT_NOPROGRESS, cancel ? 0L : 1L);
    curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, cancel ? cancel_check : NULL);
    curl_easy_setopt(h, CURLOPT_XFERINFODATA, (void *)cancel);

    char failures[WEFT_ERR_MAX - 64] = "";
    long began = clock_monotonic_ms();
    int rc = -2; /* -2: every member failed */
    bool saw_503 = true;
    /* Rounds over the members. Another round only when some member answered 503 (no leader
     * yet: an election takes one to three seconds) and the budget of one timeout per member
     * allows: a 503 request was not applied, so repeating it is safe, and an election shows
     * as latency rather than as errors. */
    for (int round = 0; rc == -2 && saw_503; round++) {
        if (round > 0) {
            if (clock_monotonic_ms() - began + ELECTION_RETRY_MS >= timeout * (long)etcd->member_count)
                break;
            if (pause_unless_canceled(ELECTION_RETRY_MS, cancel))
                break;
        }
        failures[0] = '\0';
        saw_503 = false;
        size_t start = atomic_load(&etcd->current), order[etcd->member_count];
        etcd_member_order(etcd, order);
        for (size_t i = 0; i < etcd->member_count && rc == -2; i++) {
            size_t m = order[i];
            const char *member = etcd->members[m];
            char url[512];
            snprintf(url, sizeof(url), "http://%s%s", member, path);
            curl_easy_setopt(h, CURLOPT_URL, url);
            answer.len = 0;
            /* Found silent since the order was made: another member is still left. */
            if (etcd_health_skip(&etcd->health, order, etcd->member_count, i)) {
                note_failure(failures, sizeof(failures), member, "not answering");
                continue;
            }
            struct etcd_socket_owner owner = {&etcd->health, m,
                                              etcd_health_dead(&etcd->health, m)};
            etcd_health_perform_on(h, &owner);
            CURLcode cc = curl_easy_perform(h);
            if (cancel && atomic_load(cancel)) {
                rc = weft_errf(err, "store request to %s canceled", member);
                break;
            }
            if (cc != CURLE_OK) {
                note_failure(failures, sizeof(failures), member, curl_easy_strerror(cc));
                continue;
            }
            long status = 0;
            curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
            if (status_out)
                *status_out = status;
            char msg[256];
            if (status == 503) { /* no leader or overloaded: another member may do better */
                error_message(&answer, msg, sizeof(msg), status);
                note_failure(failures, sizeof(failures), member, msg);
                saw_503 = true;
                continue;
            }
            if (m != start)
                log_info("store failover", "member=%s", member);
            atomic_store(&etcd->current, m);
            if (status != 200) {
                error_message(&answer, msg, sizeof(msg), status);
                rc = weft_errf(err, "store error at %s: %s", member, msg);
                break;
            }
            *reply = answer.data ? json_loadb(answer.data, answer.len, 0, NULL) : NULL;
            rc = *reply ? 0 : weft_errf(err, "store at %s answered invalid JSON", member);
        }
    }
    if (rc == -2) {
        struct weft_err unreachable;
        weft_errf(&unreachable, "store unreachable %s", failures);
        pthread_mutex_lock(&etcd->pool_lock);
        memcpy(etcd->last_failure, unreachable.msg, sizeof(etcd->last_failure));
        atomic_store(&etcd->unreachable, true);
        pthread_mutex_unlock(&etcd->pool_lock);
        rc = weft_errf(err, "%s", unreachable.msg);
    } else if (!(cancel && atomic_load(cancel))) {
        atomic_store(&etcd->unreachable, false); /* a member answered */
    }
    free(answer.data);
    free(text);
    pool_give(etcd, h);
    return rc;
}

long etcd_connect_timeout_ms(const struct etcd *etcd, long timeout_ms)
{
    if (etcd->member_count < 2 || timeout_ms < ETCD_CONNECT_TIMEOUT_MS)
        return timeout_ms;
    return ETCD_CONNECT_TIMEOUT_MS;
}

void etcd_member_order(struct etcd *etcd, size_t *order)
{
    size_t n = etcd->member_count, start = atomic_load(&etcd->current), used = 0;
    for (int dead = 0; dead <= 1; dead++)
        for (size_t i = 0; i < n; i++) {
            size_t m = (start + i) % n;
            if (etcd_health_dead(&etcd->health, m) == (dead == 1))
                order[used++] = m;
        }
}

/* call_members behind the gate. Lease calls pass it: a keepalive queued behind a
 * burst of requests could let this host's lease expire. */
static int call_status(struct etcd *etcd, const char *path, json_t *body, json_t **reply,
                       const atomic_bool *cancel, long *status_out, struct weft_err *err)
{
    bool gated = strncmp(path, "/v3/lease/", 10) != 0;
    if (gated && etcd_gate_enter(&etcd->gate, err) < 0) {
        *reply = NULL;
        if (status_out)
            *status_out = 0;
        return -1;
    }
    int rc = call_members(etcd, path, body, reply, cancel, status_out, err);
    if (gated)
        etcd_gate_leave(&etcd->gate);
    return rc;
}

bool etcd_unreachable(struct etcd *etcd, struct weft_err *err)
{
    if (!atomic_load(&etcd->unreachable))
        return false;
    pthread_mutex_lock(&etcd->pool_lock);
    weft_errf(err, "%s", etcd->last_failure);
    pthread_mutex_unlock(&etcd->pool_lock);
    return true;
}

int etcd_call(struct etcd *etcd, const char *path, json_t *body, json_t **reply,
              const atomic_bool *cancel, struct weft_err *err)
{
    return call_status(etcd, path, body, reply, cancel, NULL, err);
}

/* etcd_call for the common case: consumes body. */
static int call(struct etcd *etcd, const char *path, json_t *body, json_t **reply,
                struct weft_err *err)
{
    int rc = etcd_call(etcd, path, body, reply, NULL, err);
    json_decref(body);
    return rc;
}

/* ---- keys and values ---- */

int etcd_get(struct etcd *etcd, const char *key, struct etcd_kv *out, bool *found,
             struct weft_err *err)
{
    *found = false;
    json_t *reply;
    if (call(etcd, "/v3/kv/range", key_object(key), &reply, err) < 0)
        return -1;
    json_t *kv = json_array_get(json_object_get(reply, "kvs"), 0);
    int rc = 0;
    if (kv) {
        if (etcd_kv_from_json(kv, out) < 0)
            rc = weft_errf(err, "store answered an undecodable value for %s", key);
        else
            *found = true;
    }
    json_decref(reply);
    return rc;
}

/* Fills out from a range answer's "kvs" array. */
static int kvs_from_json(json_t *range, struct etcd_kvs *out, struct weft_err *err)
{
    json_t *kvs = json_object_get(range, "kvs");
    size_t n = json_array_size(kvs);
    out->revision = etcd_json_int64(json_object_get(range, "header"), "revision");
    if (n == 0)
        return 0;
    out->items = calloc(n, sizeof(*out->items));
    if (!out->items)
        return weft_errf(err, "out of memory");
    for (size_t i = 0; i < n; i++) {
        if (etcd_kv_from_json(json_array_get(kvs, i), &out->items[i]) < 0) {
            etcd_kvs_free(out);
            return weft_errf(err, "store answered an undecodable key or value");
        }
        out->count++;
    }
    return 0;
}

int etcd_range_prefix(struct etcd *etcd, const char *prefix, struct etcd_kvs *out,
                      const atomic_bool *cancel, struct weft_err *err)
{
    memset(out, 0, sizeof(*out));
    json_t *body = json_pack("{s:o, s:o}", "key", etcd_json_b64(prefix, strlen(prefix)),
                             "range_end", etcd_json_range_end(prefix));
    json_t *reply;
    int rc = etcd_call(etcd, "/v3/kv/range", body, &reply, cancel, err);
    json_decref(body);
    if (rc < 0)
        return -1;
    rc = kvs_from_json(reply, out, err);
    json_decref(reply);
    return rc;
}

int etcd_get_prefix(struct etcd *etcd, const char *prefix, struct etcd_kvs *out,
                    struct weft_err *err)
{
    return etcd_range_prefix(etcd, prefix, out, NULL, err);
}

/* {"key","value","lease"?}: the body of a put, alone or inside a txn. */
static json_t *put_object(const char *key, const char *value, int64_t lease)
{
    json_t *put = json_pack("{s:o, s:o}", "key", etcd_json_b64(key, strlen(key)), "value",
                            etcd_json_b64(value, strlen(value)));
    if (put && lease != 0 && json_object_set_new(put, "lease", json_int64_string(lease)) < 0) {
        json_decref(put);
        return NULL;
    }
    return put;
}

int etcd_put(struct etcd *etcd, const char *key, const char *value, int64_t lease,
             struct weft_err *err)
{
    json_t *reply;
    if (call(etcd, "/v3/kv/put", put_object(key, value, lease), &reply, err) < 0)
        return -1;
    json_decref(reply);
    return 0;
}

int etcd_delete(struct etcd *etcd, const char *key, bool *deleted, struct weft_err *err)
{
    json_t *reply;
    if (call(etcd, "/v3/kv/deleterange", key_object(key), &reply, err) < 0)
        return -1;
    if (deleted)
        *deleted = etcd_json_int64(reply, "deleted") > 0;
    json_decref(reply);
    return 0;
}

int etcd_delete_prefix(struct etcd *etcd, const char *prefix, struct weft_err *err)
{
    json_t *body = json_pack("{s:o, s:o}", "key", etcd_json_b64(prefix, strlen(prefix)),
                             "range_end", etcd_json_range_end(prefix));
    json_t *reply;
    if (call(etcd, "/v3/kv/deleterange", body, &reply, err) < 0)
        return -1;
    json_decref(reply);
    return 0;
}

/* ---- transactions ---- */

struct etcd_txn {
    json_t *compare, *success, *failure;
    bool broken; /* an allocation failed while building: commit refuses */
};

struct etcd_txn *etcd_txn_new(void)
{
    struct etcd_txn *txn = calloc(1, sizeof(*txn));
    if (!txn)
        return NULL;
    txn->compare = json_array();
    txn->success = json_array();
    txn->failure = json_array();
    txn->broken = !txn->compare || !txn->success || !txn->failure;
    return txn;
}

void etcd_txn_free(struct etcd_txn *txn)
{
    if (!txn)
        return;
    json_decref(txn->compare);
    json_decref(txn->success);
    json_decref(txn->failure);
    free(txn);
}

static void txn_add(struct etcd_txn *txn, json_t *array, json_t *item)
{
    if (!item || !array || json_array_append_new(array, item) < 0)
        txn->broken = true;
}

void etcd_txn_cmp_absent(struct etcd_txn *txn, const char *key)
{
    if (txn)
        txn_add(txn, txn->compare,
                json_pack("{s:o, s:s, s:s}", "key", etcd_json_b64(key, strlen(key)), "target",
                          "CREATE", "create_revision", "0"));
}

void etcd_txn_cmp_prefix_absent(struct etcd_txn *txn, const char *prefix)
{
    /* A range compare holds for every key in the range, and vacuously for none:
     * "create_revision == 0 over the prefix" means no key under it exists. */
    if (txn)
        txn_add(txn, txn->compare,
                json_pack("{s:o, s:o, s:s, s:s}", "key", etcd_json_b64(prefix, strlen(prefix)),
                          "range_end", etcd_json_range_end(prefix), "target", "CREATE",
                          "create_revision", "0"));
}

void etcd_txn_cmp_mod_revision(struct etcd_txn *txn, const char *key, int64_t rev)
{
    if (txn)
        txn_add(txn, txn->compare,
                json_pack("{s:o, s:s, s:o}", "key", etcd_json_b64(key, strlen(key)), "target",
                          "MOD", "mod_revision", json_int64_string(rev)));
}

void etcd_txn_cmp_value(struct etcd_txn *txn, const char *key, const char *value)
{
    if (txn)
        txn_add(txn, txn->compare,
                json_pack("{s:o, s:s, s:o}", "key", etcd_json_b64(key, strlen(key)), "target",
                          "VALUE", "value", etcd_json_b64(value, strlen(value))));
}

void etcd_txn_put(struct etcd_txn *txn, const char *key, const char *value, int64_t lease)
{
    if (txn)
        txn_add(txn, txn->success,
                json_pack("{s:o}", "request_put", put_object(key, value, lease)));
}

void etcd_txn_delete(struct etcd_txn *txn, const char *key)
{
    if (txn)
        txn_add(txn, txn->success, json_pack("{s:o}", "request_delete_range", key_object(key)));
}

void etcd_txn_delete_prefix(struct etcd_txn *txn, const char *prefix)
{
    if (txn)
        txn_add(txn, txn->success,
                json_pack("{s:{s:o, s:o}}", "request_delete_range", "key",
                          etcd_json_b64(prefix, strlen(prefix)), "range_end",
                          etcd_json_range_end(prefix)));
}

/* Commits txn; *reply receives the whole answer for callers that read responses. */
static int txn_run(struct etcd *etcd, struct etcd_txn *txn, bool *succeeded, json_t **reply,
                   struct weft_err *err)
{
    *succeeded = false;
    *reply = NULL;
    if (!txn || txn->broken)
        return weft_errf(err, "out of memory building a store transaction");
    json_t *body = json_pack("{s:O, s:O, s:O}", "compare", txn->compare, "success", txn->success,
                             "failure", txn->failure);
    if (call(etcd, "/v3/kv/txn", body, reply, err) < 0)
        return -1;
    *succeeded = json_is_true(json_object_get(*reply, "succeeded")); /* omitted when false */
    return 0;
}

int etcd_txn_commit(struct etcd *etcd, struct etcd_txn *txn, bool *succeeded, struct weft_err *err)
{
    json_t *reply;
    int rc = txn_run(etcd, txn, succeeded, &reply, err);
    json_decref(reply);
    return rc;
}

int etcd_create(struct etcd *etcd, const char *key, const char *value, int64_t lease, bool *created,
                struct etcd_kv *existing, struct weft_err *err)
{
    *created = false;
    if (existing)
        memset(existing, 0, sizeof(*existing));
    struct etcd_txn *txn = etcd_txn_new();
    if (!txn)
        return weft_errf(err, "out of memory");
    etcd_txn_cmp_absent(txn, key);
    etcd_txn_put(txn, key, value, lease);
    /* On failure read the key in the same transaction, so the owner we report is the
     * one that beat us, not whoever holds it a round trip later. */
    txn_add(txn, txn->failure, json_pack("{s:o}", "request_range", key_object(key)));
    json_t *reply;
    int rc = txn_run(etcd, txn, created, &reply, err);
    etcd_txn_free(txn);
    if (rc == 0 && !*created) {
        json_t *range = json_object_get(json_array_get(json_object_get(reply, "responses"), 0),
                                        "response_range");
        json_t *kv = json_array_get(json_object_get(range, "kvs"), 0);
        struct etcd_kv found = {0};
        if (kv && etcd_kv_from_json(kv, &found) < 0)
            rc = weft_errf(err, "store answered an undecodable value for %s", key);
        else if (kv && found.lease == lease && strcmp(found.value, value) == 0)
            *created = true; /* our own write, applied by a try whose answer was lost */
        if (rc == 0 && !*created && existing)
            *existing = found;
        else
            etcd_kv_clear(&found);
    }
    json_decref(reply);
    return rc;
}

/* ---- leases ---- */

int etcd_lease_grant(struct etcd *etcd, int64_t ttl_seconds, int64_t *lease_id,
                     struct weft_err *err)
{
    *lease_id = 0;
    if (ttl_seconds <= 0)
        return weft_errf(err, "lease TTL must be positive, not %" PRId64, ttl_seconds);
    json_t *reply;
    if (call(etcd, "/v3/lease/grant", json_pack("{s:o}", "TTL", json_int64_string(ttl_seconds)),
             &reply, err) < 0)
        return -1;
    *lease_id = etcd_json_int64(reply, "ID");
    const char *msg = json_string_value(json_object_get(reply, "error"));
    int rc = 0;
    if (*lease_id == 0)
        rc = weft_errf(err, "store refused a lease: %s", msg ? msg : "no lease ID in the answer");
    json_decref(reply);
    return rc;
}

int etcd_lease_keepalive(struct etcd *etcd, int64_t lease_id, bool *alive, struct weft_err *err)
{
    *alive = false;
    json_t *reply;
    if (call(etcd, "/v3/lease/keepalive", json_pack("{s:o}", "ID", json_int64_string(lease_id)),
             &reply, err) < 0)
        return -1;
    /* The gateway wraps this streaming call's answer in "result"; an expired lease
     * comes back with no TTL. */
    json_t *result = json_object_get(reply, "result");
    *alive = etcd_json_int64(result ? result : reply, "TTL") > 0;
    json_decref(reply);
    return 0;
}

int etcd_lease_revoke(struct etcd *etcd, int64_t lease_id, struct weft_err *err)
{
    json_t *body = json_pack("{s:o}", "ID", json_int64_string(lease_id));
    json_t *reply;
    long status;
    int rc = call_status(etcd, "/v3/lease/revoke", body, &reply, NULL, &status, err);
    json_decref(body);
    json_decref(reply);
    /* Revoking a lease that already expired leaves the state the caller wanted. */
    if (rc < 0 && status == 404)
        return 0;
    return rc;
}
