/*
 * plugin_bench.c: control-plane load on one weft plugin socket, for make bench.
 *
 *   plugin_bench join SOCKET NETWORK_ID SUBNET COUNT
 *       COUNT cycles of CreateEndpoint + Join (timed), then Leave + DeleteEndpoint
 *       (untimed); prints {"p50_ms":..,"p90_ms":..,"p99_ms":..,"max_ms":..,"count":..}.
 *       With PLUGIN_BENCH_TRACE=FILE each cycle goes to FILE as "i create_ms join_ms
 *       cycle_ms" (cycle: until DeleteEndpoint answered), to see where a tail lies.
 *   plugin_bench endpoints SOCKET NETWORK_ID POOL COUNT
 *       COUNT times RequestAddress + CreateEndpoint (no container): load for the
 *       scale benchmark; prints {"seconds":..,"count":..}.
 *   plugin_bench networks SUBNET THREADS OUT_FILE SOCKET...
 *       Creates a network on SUBNET on every SOCKET (one host each), THREADS hosts
 *       at a time, with the calls `docker network create -d weft --ipam-driver weft`
 *       makes (GetDefaultAddressSpaces, RequestPool, the gateway's RequestAddress,
 *       CreateNetwork with an ID of its own), up to 3 tries 2 s apart (a daemon
 *       whose lease expired under load answers "lease not found" until it has a new
 *       one), a failed try giving back its pool and gateway first; writes "SOCKET
 *       NETWORK_ID POOL_ID TRIES" per host to OUT_FILE; prints
 *       {"seconds":..,"count":..,"failed":..,"retries":..}. One process for hundreds
 *       of hosts: the scale benchmark's hosts are not slowed by the harness's spawns.
 *   plugin_bench ipam SOCKET POOL COUNT THREADS OUT_FILE
 *       COUNT RequestAddress calls spread over THREADS threads; writes each
 *       address to OUT_FILE; prints {"seconds":..,"count":..,"failed":..}.
 *
 * It speaks HTTP over the unix socket with libcurl, reusing one connection per
 * thread, as dockerd does.
 */
#include <curl/curl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

struct buffer {
    char data[4096];
    size_t len;
};

static size_t collect(char *ptr, size_t size, size_t nmemb, void *userdata)
{
    struct buffer *b = userdata;
    size_t n = size * nmemb;
    size_t room = sizeof(b->data) - 1 - b->len;
    memcpy(b->data + b->len, ptr, n < room ? n : room);
    b->len += n < room ? n : room;
    b->data[b->len] = '\0';
    return n;
}

/* POSTs body to path; returns the HTTP status (0 on transport failure). */
static long post(CURL *curl, const char *socket_path, const char *path, const char *body,
                 struct buffer *answer)
{
    char url[256];
    snprintf(url, sizeof(url), "http://localhost/%s", path);
    answer->len = 0;
    answer->data[0] = '\0';
    curl_easy_setopt(curl, CURLOPT_UNIX_SOCKET_PATH, socket_path);
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, answer);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT, 30L);
    if (curl_easy_perform(curl) != CURLE_OK)
        return 0;
    long status = 0;
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    return status;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int compare_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double percentile(double *sorted, int n, double p)
{
    int i = (int)(p * (n - 1) + 0.5);
    return sorted[i < n ? i : n - 1];
}

static long long wall_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (long long)ts.tv_sec * 1000000LL + ts.tv_nsec / 1000;
}

static int request_address(CURL *curl, const char *socket_path, const char *pool,
                           char address[32])
{
    struct buffer answer;
    char body[256], *p;
    snprintf(body, sizeof(body), "{\"PoolID\":\"%s\",\"Address\":\"\",\"Options\":null}", pool);
    if (post(curl, socket_path, "IpamDriver.RequestAddress", body, &answer) != 200 ||
        !(p = strstr(answer.data, "\"Address\":\"")) || sscanf(p + 11, "%31[^\"]", address) != 1) {
        fprintf(stderr, "RequestAddress failed: %s\n", answer.data);
        return -1;
    }
    return 0;
}

static int bench_join(const char *socket_path, const char *network_id, const char *subnet,
                      int count)
{
    CURL *curl = curl_easy_init();
    double *samples = calloc((size_t)count, sizeof(double));
    if (!curl || !samples)
        return 1;
    struct buffer answer;
    char body[1024], address[32], pool[64];
    /* One address, from IPAM so nothing else holds it, reused by every cycle: the
     * endpoint is gone before the next. (A fixed .200 collided with the endpoint the
     * harness made first whenever IPAM's random pick was .200.) */
    snprintf(pool, sizeof(pool), "%s/24", subnet);
    if (request_address(curl, socket_path, pool, address) < 0)
        return 1;
    const char *trace_path = getenv("PLUGIN_BENCH_TRACE");
    FILE *trace = trace_path ? fopen(trace_path, "w") : NULL;
    for (int i = 0; i < count; i++) {
        char endpoint_id[65];
        snprintf(endpoint_id, sizeof(endpoint_id), "%08x%056d", (unsigned)i + 0xbe00u, 0);
        snprintf(body, sizeof(body),
                 "{\"NetworkID\":\"%s\",\"EndpointID\":\"%s\",\"Interface\":{\"Address\":"
                 "\"%s\",\"AddressIPv6\":\"\",\"MacAddress\":\"\"},\"Options\":{}}",
                 network_id, endpoint_id, address);
        double start = now_s();
        long s1 = post(curl, socket_path, "NetworkDriver.CreateEndpoint", body, &answer);
        double created = now_s();
        snprintf(
            body, sizeof(body),
            "{\"NetworkID\":\"%s\",\"EndpointID\":\"%s\",\"SandboxKey\":\"/x\",\"Options\":{}}",
            network_id, endpoint_id);
        long s2 = post(curl, socket_path, "NetworkDriver.Join", body, &answer);
        samples[i] = (now_s() - start) * 1000.0;
        if (s1 != 200 || s2 != 200) {
            fprintf(stderr, "cycle %d failed: %ld %ld %s\n", i, s1, s2, answer.data);
            return 1;
        }
        snprintf(body, sizeof(body), "{\"NetworkID\":\"%s\",\"EndpointID\":\"%s\"}", network_id,
                 endpoint_id);
        post(curl, socket_path, "NetworkDriver.Leave", body, &answer);
        if (post(curl, socket_path, "NetworkDriver.DeleteEndpoint", body, &answer) != 200) {
            fprintf(stderr, "DeleteEndpoint failed: %s\n", answer.data);
            return 1;
        }
        if (trace)
            fprintf(trace, "%d %.3f %.3f %.3f\n", i, (created - start) * 1000.0,
                    samples[i] - (created - start) * 1000.0, (now_s() - start) * 1000.0);
    }
    if (trace)
        fclose(trace);
    qsort(samples, (size_t)count, sizeof(double), compare_double);
    printf("{\"p50_ms\":%.3f,\"p90_ms\":%.3f,\"p99_ms\":%.3f,\"max_ms\":%.3f,\"count\":%d}\n",
           percentile(samples, count, 0.50), percentile(samples, count, 0.90),
           percentile(samples, count, 0.99), samples[count - 1], count);
    free(samples);
    curl_easy_cleanup(curl);
    return 0;
}

/* Removes endpoint i (id from i) and releases its address. */
static void remove_endpoint(CURL *curl, const char *socket_path, const char *network_id,
                            const char *pool, int i, const char *address)
{
    struct buffer answer;
    char body[512];
    snprintf(body, sizeof(body), "{\"NetworkID\":\"%s\",\"EndpointID\":\"%08x%056d\"}",
             network_id, (unsigned)i + 0xc0de0000u, 0);
    post(curl, socket_path, "NetworkDriver.DeleteEndpoint", body, &answer);
    const char *slash = strchr(address, '/');
    snprintf(body, sizeof(body), "{\"PoolID\":\"%s\",\"Address\":\"%.*s\"}", pool,
             slash ? (int)(slash - address) : 31, address);
    post(curl, socket_path, "IpamDriver.ReleaseAddress", body, &answer);
}

static int bench_converge(const char *socket_path, const char *network_id, const char *pool,
                          int count, int pace_ms, const char *out_path)
{
    CURL *curl = curl_easy_init();
    char(*addresses)[32] = calloc((size_t)(count > 0 ? count : 1), 32);
    FILE *out = fopen(out_path, "w");
    int made = 0, rc = 0;
    for (; curl && addresses && out && made < count; made++) {
        if (request_address(curl, socket_path, pool, addresses[made]) < 0) {
            rc = 1;
            break;
        }
        struct buffer answer;
        char body[1024];
        snprintf(body, sizeof(body),
                 "{\"NetworkID\":\"%s\",\"EndpointID\":\"%08x%056d\",\"Interface\":{"
                 "\"Address\":\"%s\",\"MacAddress\":\"\"},\"Options\":{}}",
                 network_id, (unsigned)made + 0xc0de0000u, 0, addresses[made]);
        long long sent = wall_us();
        long status = post(curl, socket_path, "NetworkDriver.CreateEndpoint", body, &answer);
        long long answered = wall_us();
        if (status != 200) {
            fprintf(stderr, "CreateEndpoint failed: %s\n", answer.data);
            remove_endpoint(curl, socket_path, network_id, pool, made, addresses[made]);
            rc = 1;
            break;
        }
        fprintf(out, "%s %lld %lld\n", addresses[made], sent, answered);
        struct timespec pace = {pace_ms / 1000, (long)(pace_ms % 1000) * 1000000L};
        nanosleep(&pace, NULL);
    }
    for (int i = 0; curl && i < made; i++)
        remove_endpoint(curl, socket_path, network_id, pool, i, addresses[i]);
    if (out)
        fclose(out);
    free(addresses);
    if (curl)
        curl_easy_cleanup(curl);
    return curl && addresses && out ? rc : 1;
}

static int bench_endpoints(const char *socket_path, const char *network_id, const char *pool,
                           int count)
{
    CURL *curl = curl_easy_init();
    if (!curl)
        return 1;
    struct buffer answer;
    char body[1024], address[32];
    double start = now_s();
    for (int i = 0; i < count; i++) {
        if (request_address(curl, socket_path, pool, address) < 0)
            return 1;
        char endpoint_id[65];
        snprintf(endpoint_id, sizeof(endpoint_id), "%08x%056d", (unsigned)rand(), i);
        snprintf(body, sizeof(body),
                 "{\"NetworkID\":\"%s\",\"EndpointID\":\"%s\",\"Interface\":{\"Address\":"
                 "\"%s\",\"MacAddress\":\"\"},\"Options\":{}}",
                 network_id, endpoint_id, address);
        if (post(curl, socket_path, "NetworkDriver.CreateEndpoint", body, &answer) != 200) {
            fprintf(stderr, "CreateEndpoint failed: %s\n", answer.data);
            return 1;
        }
    }
    printf("{\"seconds\":%.3f,\"count\":%d}\n", now_s() - start, count);
    curl_easy_cleanup(curl);
    return 0;
}

/* Holds the workers until all are started, so that their requests (each its own
 * connection) reach the socket as one burst rather than at thread-start pace. */
struct start_gate {
    pthread_mutex_t lock;
    pthread_cond_t opened;
    bool open;
};

static void gate_wait(struct start_gate *g)
{
    pthread_mutex_lock(&g->lock);
    while (!g->open)
        pthread_cond_wait(&g->opened, &g->lock);
    pthread_mutex_unlock(&g->lock);
}

static void gate_open(struct start_gate *g)
{
    pthread_mutex_lock(&g->lock);
    g->open = true;
    pthread_cond_broadcast(&g->opened);
    pthread_mutex_unlock(&g->lock);
}

struct ipam_worker {
    pthread_t thread;
    bool started;
    struct start_gate *gate;
    const char *socket_path;
    const char *pool;
    int count;
    int failed;
    bool release; /* release addresses[] rather than request them */
    char (*addresses)[32];
};

static void *ipam_work(void *arg)
{
    struct ipam_worker *w = arg;
    CURL *curl = curl_easy_init();
    struct buffer answer;
    char body[256];
    gate_wait(w->gate);
    for (int i = 0; i < w->count; i++) {
        if (w->release) {
            char *slash = strchr(w->addresses[i], '/');
            snprintf(body, sizeof(body), "{\"PoolID\":\"%s\",\"Address\":\"%.*s\"}", w->pool,
                     slash ? (int)(slash - w->addresses[i]) : 31, w->addresses[i]);
            if (!curl ||
                post(curl, w->socket_path, "IpamDriver.ReleaseAddress", body, &answer) != 200 ||
                strstr(answer.data, "\"Err\":\"") != NULL)
                w->failed++;
            continue;
        }
        w->addresses[i][0] = '\0';
        if (!curl || request_address(curl, w->socket_path, w->pool, w->addresses[i]) < 0) {
            w->addresses[i][0] = '\0';
            w->failed++;
        }
    }
    if (curl)
        curl_easy_cleanup(curl);
    return NULL;
}

/* Runs count requests (or releases of addresses[]) over threads workers, started
 * together. A worker that could not be started counts its share as failed. */
static int run_workers(const char *socket_path, const char *pool, int count, int threads,
                       bool release, char (*addresses)[32], int *failed)
{
    struct ipam_worker *workers = calloc((size_t)threads, sizeof(*workers));
    if (!workers)
        return -1;
    struct start_gate gate = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, false};
    int given = 0;
    for (int t = 0; t < threads; t++) {
        int share = count / threads + (t < count % threads);
        workers[t] = (struct ipam_worker){.gate = &gate,
                                          .socket_path = socket_path,
                                          .pool = pool,
                                          .count = share,
                                          .release = release,
                                          .addresses = addresses + given};
        given += share;
        workers[t].started = pthread_create(&workers[t].thread, NULL, ipam_work, &workers[t]) == 0;
    }
    gate_open(&gate);
    *failed = 0;
    for (int t = 0; t < threads; t++) {
        if (workers[t].started)
            pthread_join(workers[t].thread, NULL);
        else
            workers[t].failed = workers[t].count;
        *failed += workers[t].failed;
    }
    free(workers);
    return 0;
}

static int bench_ipam(const char *socket_path, const char *pool, int count, int threads,
                      const char *out_path)
{
    char(*addresses)[32] = calloc((size_t)(count > 0 ? count : 1), 32);
    int failed = 0;
    double start = now_s();
    if (threads < 1 || !addresses ||
        run_workers(socket_path, pool, count, threads, false, addresses, &failed) < 0)
        return 1;
    double seconds = now_s() - start;
    FILE *out = fopen(out_path, "w");
    for (int i = 0; out && i < count; i++)
        if (addresses[i][0])
            fprintf(out, "%s\n", addresses[i]);
    if (out)
        fclose(out);
    printf("{\"seconds\":%.3f,\"count\":%d,\"failed\":%d}\n", seconds, count, failed);
    free(addresses);
    return 0;
}

static int bench_release(const char *socket_path, const char *pool, const char *in_path,
                         int threads)
{
    FILE *in = fopen(in_path, "r");
    if (!in || threads < 1)
        return 1;
    int count = 0, capacity = 64;
    char(*addresses)[32] = malloc((size_t)capacity * 32);
    char line[64];
    while (addresses && fgets(line, sizeof(line), in)) {
        if (sscanf(line, "%31s", addresses[count]) != 1)
            continue;
        if (++count == capacity) {
            capacity *= 2;
            char(*grown)[32] = realloc(addresses, (size_t)capacity * 32);
            if (!grown)
                break;
            addresses = grown;
        }
    }
    fclose(in);
    int failed = 0;
    double start = now_s();
    if (!addresses || run_workers(socket_path, pool, count, threads, true, addresses, &failed) < 0)
        return 1;
    printf("{\"seconds\":%.3f,\"count\":%d,\"failed\":%d}\n", now_s() - start, count, failed);
    free(addresses);
    return 0;
}

/* The quoted value of "key" in a JSON answer, into out (n bytes); false without it. */
static bool json_string(const char *json, const char *key, char *out, size_t n)
{
    char pattern[64];
    snprintf(pattern, sizeof(pattern), "\"%s\":\"", key);
    const char *p = strstr(json, pattern), *end;
    if (!p || !(end = strchr(p += strlen(pattern), '"')) || (size_t)(end - p) >= n)
        return false;
    memcpy(out, p, (size_t)(end - p));
    out[end - p] = '\0';
    return true;
}

struct network_host {
    const char *socket_path;
    char network_id[65], pool_id[128]; /* the ID, drawn before the threads start */
    int tries; /* 0: not made */
};

struct network_work {
    struct network_host *hosts;
    int count;
    _Atomic int next;
    const char *subnet;
};

/* Gives back what a failed try took (the gateway when given, then the pool), as Docker
 * does, so the next try starts from nothing held. */
static void undo_network_try(CURL *curl, const struct network_host *h, const char *gateway)
{
    struct buffer answer;
    char body[512];
    if (gateway) {
        snprintf(body, sizeof(body), "{\"PoolID\":\"%s\",\"Address\":\"%s\"}", h->pool_id,
                 gateway);
        post(curl, h->socket_path, "IpamDriver.ReleaseAddress", body, &answer);
    }
    snprintf(body, sizeof(body), "{\"PoolID\":\"%s\"}", h->pool_id);
    post(curl, h->socket_path, "IpamDriver.ReleasePool", body, &answer);
}

/* One try at what `docker network create` asks of host h; false on any error, with what
 * the try took given back. */
static bool create_network_once(CURL *curl, struct network_host *h, const char *subnet)
{
    struct buffer answer;
    char body[1024], space[64], gateway[64];
    if (post(curl, h->socket_path, "IpamDriver.GetDefaultAddressSpaces", "", &answer) != 200 ||
        !json_string(answer.data, "LocalDefaultAddressSpace", space, sizeof(space)))
        return false;
    snprintf(body, sizeof(body),
             "{\"AddressSpace\":\"%s\",\"Pool\":\"%s\",\"SubPool\":\"\",\"Options\":{},"
             "\"V6\":false}",
             space, subnet);
    if (post(curl, h->socket_path, "IpamDriver.RequestPool", body, &answer) != 200 ||
        !json_string(answer.data, "PoolID", h->pool_id, sizeof(h->pool_id)))
        return false;
    snprintf(body, sizeof(body),
             "{\"PoolID\":\"%s\",\"Address\":\"\",\"Options\":{\"RequestAddressType\":"
             "\"com.docker.network.gateway\"}}",
             h->pool_id);
    if (post(curl, h->socket_path, "IpamDriver.RequestAddress", body, &answer) != 200 ||
        !json_string(answer.data, "Address", gateway, sizeof(gateway))) {
        undo_network_try(curl, h, NULL);
        return false;
    }
    char *slash = strchr(gateway, '/');
    if (slash)
        *slash = '\0';
    snprintf(body, sizeof(body),
             "{\"NetworkID\":\"%s\",\"Options\":{\"com.docker.network.enable_ipv6\":false,"
             "\"com.docker.network.generic\":{}},\"IPv4Data\":[{\"AddressSpace\":\"%s\","
             "\"Gateway\":\"%s\",\"Pool\":\"%s\"}],\"IPv6Data\":[]}",
             h->network_id, space, gateway, subnet);
    if (post(curl, h->socket_path, "NetworkDriver.CreateNetwork", body, &answer) == 200 &&
        strstr(answer.data, "\"Err\":\"") == NULL)
        return true;
    undo_network_try(curl, h, gateway);
    return false;
}

static void *network_work(void *arg)
{
    struct network_work *w = arg;
    CURL *curl = curl_easy_init();
    int i;
    while (curl && (i = atomic_fetch_add(&w->next, 1)) < w->count) {
        struct network_host *h = &w->hosts[i];
        for (int tries = 1; tries <= 3 && !h->tries; tries++) {
            if (tries > 1)
                sleep(2);
            if (create_network_once(curl, h, w->subnet))
                h->tries = tries;
        }
    }
    if (curl)
        curl_easy_cleanup(curl);
    return NULL;
}

static int bench_networks(const char *subnet, int threads, const char *out_path, char **sockets,
                          int count)
{
    struct network_host *hosts = calloc((size_t)count, sizeof(*hosts));
    pthread_t *ids = calloc((size_t)(threads > 0 ? threads : 1), sizeof(*ids));
    FILE *out = fopen(out_path, "w");
    if (!hosts || !ids || !out || threads < 1)
        return 1;
    for (int i = 0; i < count; i++) { /* IDs drawn here: rand() is not the threads' */
        hosts[i].socket_path = sockets[i];
        for (int k = 0; k < 8; k++)
            snprintf(hosts[i].network_id + 8 * k, 9, "%08x", (unsigned)rand());
    }
    struct network_work work = {.hosts = hosts, .count = count, .subnet = subnet};
    double start = now_s();
    int started = 0;
    for (; started < threads && started < count; started++)
        if (pthread_create(&ids[started], NULL, network_work, &work) != 0)
            break;
    for (int t = 0; t < started; t++)
        pthread_join(ids[t], NULL);
    double seconds = now_s() - start;
    int failed = 0, retries = 0;
    for (int i = 0; i < count; i++) {
        failed += !hosts[i].tries;
        retries += hosts[i].tries ? hosts[i].tries - 1 : 3;
        if (hosts[i].tries)
            fprintf(out, "%s %s %s %d\n", hosts[i].socket_path, hosts[i].network_id,
                    hosts[i].pool_id, hosts[i].tries);
    }
    fclose(out);
    printf("{\"seconds\":%.3f,\"count\":%d,\"failed\":%d,\"retries\":%d}\n", seconds, count,
           failed, retries);
    free(hosts);
    free(ids);
    return started == 0 || failed ? 1 : 0;
}

int main(int argc, char **argv)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    if (argc == 6 && strcmp(argv[1], "join") == 0)
        return bench_join(argv[2], argv[3], argv[4], atoi(argv[5]));
    if (argc == 6 && strcmp(argv[1], "endpoints") == 0) {
        srand((unsigned)time(NULL) ^ (unsigned)getpid());
        return bench_endpoints(argv[2], argv[3], argv[4], atoi(argv[5]));
    }
    if (argc >= 6 && strcmp(argv[1], "networks") == 0) {
        srand((unsigned)time(NULL) ^ (unsigned)getpid());
        return bench_networks(argv[2], atoi(argv[3]), argv[4], argv + 5, argc - 5);
    }
    if (argc == 7 && strcmp(argv[1], "ipam") == 0)
        return bench_ipam(argv[2], argv[3], atoi(argv[4]), atoi(argv[5]), argv[6]);
    if (argc == 8 && strcmp(argv[1], "converge") == 0)
        return bench_converge(argv[2], argv[3], argv[4], atoi(argv[5]), atoi(argv[6]), argv[7]);
    if (argc == 6 && strcmp(argv[1], "release") == 0)
        return bench_release(argv[2], argv[3], argv[4], atoi(argv[5]));
    fprintf(stderr, "usage: plugin_bench join SOCKET NETWORK_ID SUBNET COUNT\n"
                    "       plugin_bench endpoints SOCKET NETWORK_ID POOL COUNT\n"
                    "       plugin_bench networks SUBNET THREADS OUT_FILE SOCKET...\n"
                    "       plugin_bench ipam SOCKET POOL COUNT THREADS OUT_FILE\n"
                    "       plugin_bench converge SOCKET NETWORK_ID POOL COUNT PACE_MS OUT_FILE\n"
                    "       plugin_bench release SOCKET POOL IN_FILE THREADS\n");
    return 2;
}
