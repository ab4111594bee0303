/*
 * test_etcd_scripted.c: the watch against a scripted etcd gateway (libmicrohttpd on
 * loopback), for answers a healthy etcd does not give on demand: here, a watch
 * event whose key is not base64. Such an event must not be skipped (the change it
 * carried would be lost while the stream goes on): the watch lists the prefix again.
 * And answers that are not what a call wants carry the kind of the failure.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <microhttpd.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "store/etcd.h"

/* "/p/a" and "A" in base64; "!!!!" is not base64 at all. */
#define LISTING                                                                                    \
    "{\"header\":{\"revision\":\"10\"},\"kvs\":[{\"key\":\"L3AvYQ==\",\"value\":\"QQ==\","     \
    "\"mod_revision\":\"5\"}]}"
#define CREATED "{\"result\":{\"header\":{\"revision\":\"10\"},\"created\":true}}\n"
/* A member that answers 200 with something else than JSON, and one that refuses. */
#define NOT_JSON "<html>proxy error</html>"
#define DENIED "{\"error\":\"etcdserver: permission denied\",\"code\":7}"
/* Errors that name no reason: an empty message must not become an empty one in the log. */
#define EMPTY_ERROR "{\"error\":\"\",\"message\":\"\",\"code\":13}"
#define EMPTY_LEASE_ERROR "{\"error\":\"\"}"
#define BAD_EVENT                                                                                  \
    "{\"result\":{\"header\":{\"revision\":\"11\"},\"events\":[{\"kv\":{\"key\":\"!!!!\","     \
    "\"value\":\"QQ==\",\"mod_revision\":\"11\"}}]}}\n"

enum watch_script {
    BAD_EVENT_FIRST, /* the first stream brings the bad event; later ones only start */
    STREAMS_START,   /* every stream only says it started */
    STREAMS_MUTE,    /* takes watch requests and never answers them */
};

struct gateway {
    struct MHD_Daemon *daemon;
    int port;
    atomic_int lists;   /* range calls */
    atomic_int watches; /* watch streams opened */
    atomic_bool closing;
    enum watch_script mode;
    int range_delay_ms;    /* range calls answer this late (a store queueing a burst) */
    int range_delay_count; /* only the first this many (0: all) */
};

struct stream {
    struct gateway *g;
    const char *script; /* what the stream sends, then it stays open */
    size_t sent;
};

/* Sends the script, then holds the stream open (as etcd does) until the gateway closes. */
static ssize_t stream_read(void *cls, uint64_t pos, char *buf, size_t max)
{
    (void)pos;
    struct stream *s = cls;
    size_t left = strlen(s->script) - s->sent;
    if (left > 0) {
        size_t n = left < max ? left : max;
        memcpy(buf, s->script + s->sent, n);
        s->sent += n;
        return (ssize_t)n;
    }
    if (atomic_load(&s->g->closing))
        return MHD_CONTENT_READER_END_OF_STREAM;
    usleep(20 * 1000); /* a thread per connection: polling costs nothing here */
    return 0;
}

static enum MHD_Result answer(void *cls, struct MHD_Connection *conn, const char *url,
                              const char *method, const char *version, const char *upload,
                              size_t *upload_size, void **con_cls)
{
    (void)method, (void)version, (void)upload;
    struct gateway *g = cls;
    if (!*con_cls) { /* first call: headers only */
        *con_cls = g;
        return MHD_YES;
    }
    if (*upload_size > 0) { /* the request body: not needed by the script */
        *upload_size = 0;
        return MHD_YES;
    }
    struct MHD_Response *r;
    if (strcmp(url, "/v3/kv/range") == 0) {
        int nth = atomic_fetch_add(&g->lists, 1) + 1;
        if (g->range_delay_ms > 0 && (g->range_delay_count == 0 || nth <= g->range_delay_count))
            usleep((useconds_t)g->range_delay_ms * 1000);
        r = MHD_create_response_from_buffer(strlen(LISTING), (void *)LISTING,
                                            MHD_RESPMEM_PERSISTENT);
    } else if (strcmp(url, "/v3/watch") == 0) {
        struct stream *s = calloc(1, sizeof(*s));
        if (!s)
            return MHD_NO;
        s->g = g;
        bool first = atomic_fetch_add(&g->watches, 1) == 0;
        s->script = g->mode == STREAMS_MUTE                   ? ""
                    : g->mode == BAD_EVENT_FIRST && first ? CREATED BAD_EVENT
                                                          : CREATED;
        r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 4096, stream_read, s, free);
    } else if (strcmp(url, "/v3/kv/put") == 0) {
        r = MHD_create_response_from_buffer(strlen(NOT_JSON), (void *)NOT_JSON,
                                            MHD_RESPMEM_PERSISTENT);
    } else if (strcmp(url, "/v3/lease/grant") == 0) {
        r = MHD_create_response_from_buffer(strlen(EMPTY_LEASE_ERROR), (void *)EMPTY_LEASE_ERROR,
                                            MHD_RESPMEM_PERSISTENT);
    } else if (strcmp(url, "/v3/kv/txn") == 0) {
        r = MHD_create_response_from_buffer(strlen(EMPTY_ERROR), (void *)EMPTY_ERROR,
                                            MHD_RESPMEM_PERSISTENT);
        enum MHD_Result rc = MHD_queue_response(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, r);
        MHD_destroy_response(r);
        return rc;
    } else if (strcmp(url, "/v3/kv/deleterange") == 0) {
        r = MHD_create_response_from_buffer(strlen(DENIED), (void *)DENIED, MHD_RESPMEM_PERSISTENT);
        enum MHD_Result rc = MHD_queue_response(conn, MHD_HTTP_FORBIDDEN, r);
        MHD_destroy_response(r);
        return rc;
    } else {
        r = MHD_create_response_from_buffer(2, (void *)"{}", MHD_RESPMEM_PERSISTENT);
    }
    enum MHD_Result rc = MHD_queue_response(conn, MHD_HTTP_OK, r);
    MHD_destroy_response(r);
    return rc;
}

static struct gateway *gateway_start(enum watch_script mode)
{
    struct gateway *g = calloc(1, sizeof(*g));
    if (!g)
        return NULL;
    g->mode = mode;
    g->daemon = MHD_start_daemon(MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD, 0,
                                 NULL, NULL, answer, g, MHD_OPTION_END);
    const union MHD_DaemonInfo *info =
        g->daemon ? MHD_get_daemon_info(g->daemon, MHD_DAEMON_INFO_BIND_PORT) : NULL;
    if (!info) {
        if (g->daemon)
            MHD_stop_daemon(g->daemon);
        free(g);
        return NULL;
    }
    g->port = info->port;
    return g;
}

static void gateway_stop(struct gateway *g)
{
    atomic_store(&g->closing, true);
    MHD_stop_daemon(g->daemon);
    free(g);
}

static int setup(void **state)
{
    *state = gateway_start(BAD_EVENT_FIRST);
    return *state ? 0 : -1;
}

static int teardown(void **state)
{
    gateway_stop(*state);
    return 0;
}

struct recorder {
    pthread_mutex_t lock;
    int sync_begins, puts;
};

static void record(void *ctx, const struct etcd_event *events, size_t n)
{
    struct recorder *r = ctx;
    pthread_mutex_lock(&r->lock);
    for (size_t i = 0; i < n; i++) {
        r->sync_begins += events[i].type == ETCD_EVENT_SYNC_BEGIN;
        r->puts += events[i].type == ETCD_EVENT_PUT;
    }
    pthread_mutex_unlock(&r->lock);
}

static int sync_begins(struct recorder *r)
{
    pthread_mutex_lock(&r->lock);
    int n = r->sync_begins;
    pthread_mutex_unlock(&r->lock);
    return n;
}

/* A client of g, with the default timeouts. */
static struct etcd *open_client(struct gateway *g)
{
    char endpoint[32];
    snprintf(endpoint, sizeof(endpoint), "127.0.0.1:%d", g->port);
    struct weft_err err = {0};
    struct etcd *etcd;
    assert_int_equal(etcd_open(&etcd, endpoint, &err), 0);
    return etcd;
}

static void undecodable_event_lists_again(void **state)
{
    struct gateway *g = *state;
    struct etcd *etcd = open_client(g);
    struct weft_err err = {0};
    struct recorder rec = {.lock = PTHREAD_MUTEX_INITIALIZER};
    struct etcd_watch *w;
    assert_int_equal(etcd_watch_start(etcd, "/p/", record, &rec, &w, &err), 0);

    /* Listed, streamed, met the bad event, listed again and streamed again (from the
     * new listing): within a few backoffs. Wait for the second stream too, or the
     * watch may be stopped between the listing and the stream. */
    for (int i = 0; i < 200 && (sync_begins(&rec) < 2 || atomic_load(&g->watches) < 2); i++)
        usleep(50 * 1000);
    etcd_watch_stop(w);
    etcd_close(etcd);

    assert_int_equal(rec.sync_begins, 2);
    assert_int_equal(rec.puts, 2); /* "/p/a" in each listing, the bad event in neither */
    assert_int_equal(atomic_load(&g->lists), 2);
    assert_int_equal(atomic_load(&g->watches), 2);
}

static long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

/* A member that takes the watch request and never answers it (alive, but stuck) is
 * given the request timeout, not the minute a created stream may stay idle. */
static void unanswered_watch_moves_on(void **state)
{
    (void)state;
    struct gateway *mute = gateway_start(STREAMS_MUTE), *good = gateway_start(STREAMS_START);
    assert_non_null(mute);
    assert_non_null(good);
    char endpoints[64];
    snprintf(endpoints, sizeof(endpoints), "127.0.0.1:%d,127.0.0.1:%d", mute->port, good->port);
    struct weft_err err = {0};
    struct etcd *etcd;
    assert_int_equal(etcd_open(&etcd, endpoints, &err), 0);
    etcd_set_timeout_ms(etcd, 500);
    struct recorder rec = {.lock = PTHREAD_MUTEX_INITIALIZER};
    struct etcd_watch *w;
    long began = now_ms();
    assert_int_equal(etcd_watch_start(etcd, "/p/", record, &rec, &w, &err), 0);
    while (atomic_load(&good->watches) < 1 && now_ms() - began < 10000)
        usleep(20 * 1000);
    long took = now_ms() - began;
    etcd_watch_stop(w);
    etcd_close(etcd);
    fprintf(stderr, "the watch reached the answering member after %ld ms\n", took);
    assert_int_equal(atomic_load(&mute->watches), 1);
    assert_int_equal(atomic_load(&good->watches), 1);
    assert_true(took < 5000); /* 500 ms timeout + a progress tick; 60 s without the limit */
    gateway_stop(mute);
    gateway_stop(good);
}

/* A member that answers, badly: the failure says so in its kind, and is not taken for
 * an unreachable store. */
static void bad_answers_have_their_kind(void **state)
{
    (void)state;
    struct gateway *g = gateway_start(STREAMS_START);
    assert_non_null(g);
    struct etcd *etcd = open_client(g);
    struct weft_err err = {0};

    assert_int_equal(etcd_put(etcd, "/p/a", "A", 0, &err), -1);
    assert_int_equal(err.code, -EPROTO);
    assert_non_null(strstr(err.msg, "invalid JSON"));
    assert_false(etcd_err_unreachable(&err));

    err = (struct weft_err){0};
    assert_int_equal(etcd_delete(etcd, "/p/a", NULL, &err), -1);
    assert_int_equal(err.code, -EACCES);
    assert_non_null(strstr(err.msg, "permission denied"));
    assert_false(etcd_unreachable(etcd, NULL));

    /* The listing is fine: the kinds belong to the calls, not to the client. */
    struct etcd_kv kv;
    bool found;
    assert_int_equal(etcd_get(etcd, "/p/a", &kv, &found, &err), 0);
    assert_true(found);
    assert_string_equal(kv.value, "A");
    etcd_kv_clear(&kv);
    etcd_close(etcd);
    gateway_stop(g);
}

/* An error whose message is empty is reported as one without a message: the HTTP status
 * for a failed request (etcd's internal error, gRPC code 13, as the gateway maps it), "no lease ID"
 * for a lease answer that has none. */
static void empty_error_messages_say_something(void **state)
{
    (void)state;
    struct gateway *g = gateway_start(STREAMS_START);
    assert_non_null(g);
    struct etcd *etcd = open_client(g);
    struct weft_err err = {0};

    bool created;
    assert_int_equal(etcd_create(etcd, "/p/b", "B", 0, &created, NULL, &err), -1);
    assert_int_equal(err.code, -EIO);
    assert_non_null(strstr(err.msg, "HTTP status 500"));

    err = (struct weft_err){0};
    int64_t lease = 1;
    assert_int_equal(etcd_lease_grant(etcd, 10, &lease, &err), -1);
    assert_int_equal(lease, 0);
    assert_int_equal(err.code, -EPROTO);
    assert_non_null(strstr(err.msg, "no lease ID in the answer"));
    etcd_close(etcd);
    gateway_stop(g);
}

struct slow_get {
    struct etcd *etcd;
    int rc;
    struct weft_err err;
};

static void *get_slowly(void *arg)
{
    struct slow_get *g = arg;
    struct etcd_kv kv;
    bool found;
    g->rc = etcd_get(g->etcd, "/p/a", &kv, &found, &g->err);
    if (g->rc == 0)
        etcd_kv_clear(&kv);
    return NULL;
}

/* A client of g whose requests time out after 500 ms. */
static struct etcd *open_with_short_timeout(struct gateway *g)
{
    struct etcd *etcd = open_client(g);
    etcd_set_timeout_ms(etcd, 500);
    return etcd;
}

/* A request that times out while the store answers others is a slow store, not an
 * unreachable one: etcd_unreachable (which makes CreateEndpoint refuse at once) stays
 * false. A timeout with no answer meanwhile still counts as unreachable. */
static void slow_store_is_not_unreachable(void **state)
{
    (void)state;
    struct gateway *g = gateway_start(STREAMS_START);
    assert_non_null(g);
    g->range_delay_ms = 1500;
    struct etcd *etcd = open_with_short_timeout(g);
    struct weft_err err = {0};

    /* Alone: nothing answered while it waited. */
    struct slow_get alone = {.etcd = etcd};
    get_slowly(&alone);
    assert_int_equal(alone.rc, -1);
    assert_int_equal(alone.err.code, -ETIMEDOUT);
    assert_non_null(strstr(alone.err.msg, "store unreachable"));
    assert_true(etcd_unreachable(etcd, NULL));

    /* An answer (a bad one still is one) clears it. */
    assert_int_equal(etcd_put(etcd, "/p/a", "A", 0, &err), -1);
    assert_int_equal(err.code, -EPROTO);
    assert_false(etcd_unreachable(etcd, NULL));

    /* Beside answered requests: asked again (SLOW_STORE_ROUNDS) while the store
     * answers others, then slow, and said so. */
    struct slow_get beside = {.etcd = etcd};
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, get_slowly, &beside), 0);
    usleep(100 * 1000);
    assert_int_equal(etcd_put(etcd, "/p/a", "A", 0, &err), -1);
    assert_int_equal(err.code, -EPROTO);
    assert_int_equal(pthread_join(t, NULL), 0);
    assert_int_equal(beside.rc, -1);
    assert_int_equal(beside.err.code, -ETIMEDOUT);
    assert_true(etcd_err_unreachable(&beside.err)); /* callers still treat it as not done */
    assert_non_null(strstr(beside.err.msg, "store too slow"));
    assert_false(etcd_unreachable(etcd, NULL));

    etcd_close(etcd);
    gateway_stop(g);
}

/* A request queued behind a burst is asked again while the store answers others, and
 * is served by the second try instead of failing. */
static void slow_store_serves_late(void **state)
{
    (void)state;
    struct gateway *g = gateway_start(STREAMS_START);
    assert_non_null(g);
    g->range_delay_ms = 1500;
    g->range_delay_count = 1; /* the first try waits in the queue; the second is served */
    struct etcd *etcd = open_with_short_timeout(g);
    struct weft_err err = {0};
    struct slow_get late = {.etcd = etcd};
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, get_slowly, &late), 0);
    usleep(100 * 1000);
    assert_int_equal(etcd_put(etcd, "/p/a", "A", 0, &err), -1); /* answered, refused */
    assert_int_equal(err.code, -EPROTO);
    assert_int_equal(pthread_join(t, NULL), 0);
    assert_int_equal(late.rc, 0);
    assert_int_equal(atomic_load(&g->lists), 2);
    assert_false(etcd_unreachable(etcd, NULL));
    etcd_close(etcd);
    gateway_stop(g);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(undecodable_event_lists_again, setup, teardown),
        cmocka_unit_test(unanswered_watch_moves_on),
        cmocka_unit_test(bad_answers_have_their_kind),
        cmocka_unit_test(empty_error_messages_say_something),
        cmocka_unit_test(slow_store_is_not_unreachable),
        cmocka_unit_test(slow_store_serves_late),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
