/*
 * watch_load.c: the watchers and the writer of bench/watch_fanout.sh (issue 18).
 *
 *   watch_load grpc    ENDPOINT PREFIX W N   W gRPC Watch streams (store/etcd_grpc_watch.c),
 *                                            each its own connection, one watch on PREFIX
 *   watch_load gateway ENDPOINT PREFIX W N   W JSON gateway streams (POST /v3/watch, as
 *                                            weft's daemon watches today), one connection each
 *   watch_load put     ENDPOINT PREFIX P     P puts, one key each (PREFIX0, PREFIX1, ...),
 *                                            through the JSON gateway, one after another
 *
 * The watchers print "ready" once every watch is created, then run until each stream
 * has received N events and print "done events=<total> seconds=<since ready>"; exit 1
 * if some stream ended or 300 s passed first. A benchmark tool, not a test.
 */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/clock.h"
#include "store/etcd.h"
#include "store/etcd_grpc_watch.h"

#define LIMIT_MS 300000L

struct watcher {
    size_t events;
    bool created;
    bool ended;
    char tail[8]; /* gateway: the end of the last chunk, for a marker split in two */
    size_t tail_len;
};

static struct watcher *watchers;
static size_t created_n, ended_n;

static void on_answer(void *ctx, const struct etcd_grpc_answer *a)
{
    struct watcher *w = ctx;
    if (a->kind == ETCD_GRPC_CREATED && !w->created) {
        w->created = true;
        created_n++;
    } else if (a->kind == ETCD_GRPC_EVENTS) {
        w->events += a->event_count;
    } else if (a->kind == ETCD_GRPC_STREAM_END || a->kind == ETCD_GRPC_CANCELED) {
        fprintf(stderr, "watch_load: stream ended: %s\n", a->reason);
        w->ended = true;
        ended_n++;
    }
}

/* Counts needle in the chunk, also across the chunk before it. */
static size_t count_in(struct watcher *w, const char *data, size_t n, const char *needle)
{
    size_t nl = strlen(needle), count = 0;
    char joint[32];
    size_t head = n < nl - 1 ? n : nl - 1;
    memcpy(joint, w->tail, w->tail_len);
    memcpy(joint + w->tail_len, data, head);
    for (size_t i = 0; i + nl <= w->tail_len + head; i++)
        count += memcmp(joint + i, needle, nl) == 0;
    for (const char *p = data; (p = memmem(p, n - (size_t)(p - data), needle, nl)); p += nl)
        count++;
    w->tail_len = n < nl - 1 ? n : nl - 1;
    memcpy(w->tail, data + n - w->tail_len, w->tail_len);
    return count;
}

static size_t gateway_write(char *data, size_t size, size_t nmemb, void *userp)
{
    struct watcher *w = userp;
    size_t n = size * nmemb;
    if (!w->created && memmem(data, n, "\"created\":true", 14)) {
        w->created = true;
        created_n++;
    }
    w->events += count_in(w, data, n, "\"kv\":");
    return n;
}

static void b64(const char *in, char *out)
{
    static const char t[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t n = strlen(in), o = 0;
    for (size_t i = 0; i < n; i += 3) {
        unsigned v = (unsigned char)in[i] << 16;
        v |= i + 1 < n ? (unsigned char)in[i + 1] << 8 : 0;
        v |= i + 2 < n ? (unsigned char)in[i + 2] : 0;
        out[o++] = t[v >> 18 & 63];
        out[o++] = t[v >> 12 & 63];
        out[o++] = i + 1 < n ? t[v >> 6 & 63] : '=';
        out[o++] = i + 2 < n ? t[v & 63] : '=';
    }
    out[o] = '\0';
}

static CURLM *gateway_open(const char *endpoint, const char *prefix, size_t w_n)
{
    char url[128], body[768], key[256], end[256], prefix_end[128];
    snprintf(url, sizeof(url), "http://%s/v3/watch", endpoint);
    snprintf(prefix_end, sizeof(prefix_end), "%s", prefix);
    prefix_end[strlen(prefix_end) - 1]++;
    b64(prefix, key);
    b64(prefix_end, end);
    snprintf(body, sizeof(body), "{\"create_request\":{\"key\":\"%s\",\"range_end\":\"%s\"}}", key,
             end);
    CURLM *multi = curl_multi_init();
    if (!multi)
        return NULL;
    curl_multi_setopt(multi, CURLMOPT_MAXCONNECTS, (long)w_n + 4);
    for (size_t i = 0; i < w_n; i++) {
        CURL *h = curl_easy_init();
        curl_easy_setopt(h, CURLOPT_URL, url);
        curl_easy_setopt(h, CURLOPT_COPYPOSTFIELDS, body);
        curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, gateway_write);
        curl_easy_setopt(h, CURLOPT_WRITEDATA, &watchers[i]);
        curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
        curl_multi_add_handle(multi, h);
    }
    return multi;
}

/* Moves the gateway streams along; a stream that ends counts as ended. */
static void gateway_run(CURLM *multi, int timeout_ms)
{
    int running;
    curl_multi_perform(multi, &running);
    curl_multi_poll(multi, NULL, 0, timeout_ms, NULL);
    curl_multi_perform(multi, &running);
    CURLMsg *msg;
    int left;
    while ((msg = curl_multi_info_read(multi, &left)))
        if (msg->msg == CURLMSG_DONE) {
            fprintf(stderr, "watch_load: gateway stream ended: %s\n",
                    curl_easy_strerror(msg->data.result));
            ended_n++;
        }
}

static bool all_done(size_t w_n, size_t want)
{
    for (size_t i = 0; i < w_n; i++)
        if (watchers[i].events < want)
            return false;
    return true;
}

static int watch(const char *mode, const char *endpoint, const char *prefix, size_t w_n,
                 size_t want)
{
    struct weft_err err = {0};
    struct etcd_grpc_loop *loop = NULL;
    CURLM *multi = NULL;
    watchers = calloc(w_n, sizeof(*watchers));
    if (strcmp(mode, "grpc") == 0) {
        if (etcd_grpc_loop_new(&loop, true, &err) < 0)
            return fprintf(stderr, "watch_load: %s\n", err.msg), 1;
        struct etcd_grpc_config c = {.endpoint = endpoint};
        for (size_t i = 0; i < w_n; i++) {
            struct etcd_grpc_watch *w;
            int64_t id;
            if (etcd_grpc_watch_open(loop, &c, on_answer, &watchers[i], &w, &err) < 0 ||
                etcd_grpc_watch_add(w, prefix, NULL, 0, &id, &err) < 0)
                return fprintf(stderr, "watch_load: %s\n", err.msg), 1;
        }
    } else {
        if (!(multi = gateway_open(endpoint, prefix, w_n)))
            return fprintf(stderr, "watch_load: out of memory\n"), 1;
    }
    long start = clock_monotonic_ms(), ready = 0;
    while (clock_monotonic_ms() - start < LIMIT_MS && ended_n == 0) {
        if (loop)
            etcd_grpc_loop_run(loop, 100, &err);
        else
            gateway_run(multi, 100);
        if (!ready && created_n == w_n) {
            ready = clock_monotonic_ms();
            printf("ready\n");
            fflush(stdout);
        }
        if (ready && all_done(w_n, want))
            break;
    }
    size_t total = 0;
    for (size_t i = 0; i < w_n; i++)
        total += watchers[i].events;
    printf("done events=%zu seconds=%.3f\n", total,
           ready ? (clock_monotonic_ms() - ready) / 1000.0 : 0.0);
    fflush(stdout);
    _exit(all_done(w_n, want) ? 0 : 1); /* the kernel closes every stream */
}

static int put(const char *endpoint, const char *prefix, size_t p_n)
{
    struct etcd *etcd;
    struct weft_err err = {0};
    if (etcd_open(&etcd, endpoint, &err) < 0)
        return fprintf(stderr, "watch_load: %s\n", err.msg), 1;
    char key[256];
    const char *value = "{\"ip\":\"10.77.0.1\",\"mac\":\"02:42:0a:4d:00:01\",\"vtep\":\"192.168.77.101\"}";
    for (size_t i = 0; i < p_n; i++) {
        snprintf(key, sizeof(key), "%s%zu", prefix, i);
        if (etcd_put(etcd, key, value, 0, &err) < 0)
            return fprintf(stderr, "watch_load: %s\n", err.msg), 1;
    }
    etcd_close(etcd);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 5 && strcmp(argv[1], "put") == 0)
        return put(argv[2], argv[3], strtoul(argv[4], NULL, 10));
    if (argc == 6 && (strcmp(argv[1], "grpc") == 0 || strcmp(argv[1], "gateway") == 0))
        return watch(argv[1], argv[2], argv[3], strtoul(argv[4], NULL, 10),
                     strtoul(argv[5], NULL, 10));
    fprintf(stderr, "usage: watch_load grpc|gateway ENDPOINT PREFIX W N | put ENDPOINT PREFIX P\n");
    return 2;
}
