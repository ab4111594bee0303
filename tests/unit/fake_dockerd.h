/*
 * fake_dockerd.h: a scripted Docker Engine API on a unix socket (libmicrohttpd on a
 * listening socket the fake binds itself), for the Docker follower's tests:
 * GET /version, /v<x>/containers/json, /v<x>/containers/<id>/json and a streaming
 * /v<x>/events that sends what the test pushes. Records the API version prefix and
 * the events query it was asked with. Header-only: static functions for tests.
 */
#ifndef WEFT_TEST_FAKE_DOCKERD_H
#define WEFT_TEST_FAKE_DOCKERD_H

#include <microhttpd.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define FAKE_CONTAINERS_MAX 8
#define FAKE_EVENTS_MAX 8192

struct fake_container {
    char id[65];
    char *inspect; /* the inspect answer (owned) */
    bool listed;   /* in /containers/json (running) */
};

struct fake_dockerd {
    struct MHD_Daemon *mhd;
    char path[108];
    pthread_mutex_t lock; /* guards everything below */
    char version_answer[256];
    struct fake_container containers[FAKE_CONTAINERS_MAX];
    size_t count;
    char events[FAKE_EVENTS_MAX]; /* every line pushed, one after another */
    size_t events_len;
    char api_prefix[32];      /* "/v1.41" of the last versioned call */
    char events_filters[256]; /* the filters argument of the last events call, decoded */
    char events_since[32];
    int lists; /* /containers/json calls */
    atomic_int streams_open;
    atomic_bool closing;
};

struct fake_stream {
    struct fake_dockerd *d;
    size_t sent; /* offset in d->events */
};

static inline ssize_t fake_stream_read(void *cls, uint64_t pos, char *buf, size_t max)
{
    (void)pos;
    struct fake_stream *s = cls;
    struct fake_dockerd *d = s->d;
    for (int i = 0; i < 50; i++) { /* a thread per connection: waiting costs nothing */
        if (atomic_load(&d->closing))
            return MHD_CONTENT_READER_END_OF_STREAM;
        pthread_mutex_lock(&d->lock);
        size_t left = d->events_len - s->sent, n = left < max ? left : max;
        memcpy(buf, d->events + s->sent, n);
        s->sent += n;
        pthread_mutex_unlock(&d->lock);
        if (n > 0)
            return (ssize_t)n;
        usleep(10 * 1000);
    }
    return 0;
}

static inline void fake_stream_free(void *cls)
{
    struct fake_stream *s = cls;
    atomic_fetch_sub(&s->d->streams_open, 1);
    free(s);
}

static inline enum MHD_Result fake_reply(struct MHD_Connection *conn, unsigned status,
                                         const char *text)
{
    struct MHD_Response *r =
        MHD_create_response_from_buffer(strlen(text), (void *)text, MHD_RESPMEM_MUST_COPY);
    MHD_add_response_header(r, "Content-Type", "application/json");
    enum MHD_Result rc = MHD_queue_response(conn, status, r);
    MHD_destroy_response(r);
    return rc;
}

static inline enum MHD_Result fake_events(struct fake_dockerd *d, struct MHD_Connection *conn)
{
    const char *filters = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "filters");
    const char *since = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "since");
    struct fake_stream *s = calloc(1, sizeof(*s));
    if (!s)
        return MHD_NO;
    s->d = d;
    pthread_mutex_lock(&d->lock);
    snprintf(d->events_filters, sizeof(d->events_filters), "%s", filters ? filters : "");
    snprintf(d->events_since, sizeof(d->events_since), "%s", since ? since : "");
    s->sent = d->events_len; /* only what is pushed from now on */
    pthread_mutex_unlock(&d->lock);
    atomic_fetch_add(&d->streams_open, 1);
    struct MHD_Response *r = MHD_create_response_from_callback(
        MHD_SIZE_UNKNOWN, 4096, fake_stream_read, s, fake_stream_free);
    MHD_add_response_header(r, "Content-Type", "application/json");
    enum MHD_Result rc = MHD_queue_response(conn, MHD_HTTP_OK, r);
    MHD_destroy_response(r);
    return rc;
}

/* Under d->lock: the answer to a versioned path ("/containers/..."), or NULL (404). */
static inline char *fake_answer(struct fake_dockerd *d, const char *path)
{
    if (strcmp(path, "/containers/json") == 0) {
        d->lists++;
        char *list = calloc(1, 16 + FAKE_CONTAINERS_MAX * 80);
        strcat(list, "[");
        for (size_t i = 0; list && i < d->count; i++)
            if (d->containers[i].listed)
                sprintf(list + strlen(list), "%s{\"Id\":\"%s\"}", strlen(list) > 1 ? "," : "",
                        d->containers[i].id);
        return list ? strcat(list, "]") : NULL;
    }
    for (size_t i = 0; i < d->count; i++) {
        char want[128];
        snprintf(want, sizeof(want), "/containers/%s/json", d->containers[i].id);
        if (strcmp(path, want) == 0)
            return strdup(d->containers[i].inspect);
    }
    return NULL;
}

static inline enum MHD_Result fake_handle(void *cls, struct MHD_Connection *conn, const char *url,
                                          const char *method, const char *version,
                                          const char *upload, size_t *upload_size, void **con_cls)
{
    (void)version, (void)upload, (void)upload_size;
    struct fake_dockerd *d = cls;
    if (!*con_cls) {
        *con_cls = d;
        return MHD_YES;
    }
    if (strcmp(method, "GET") != 0)
        return fake_reply(conn, 405, "{\"message\":\"GET only\"}");
    if (strcmp(url, "/version") == 0) {
        pthread_mutex_lock(&d->lock);
        enum MHD_Result rc = fake_reply(conn, 200, d->version_answer);
        pthread_mutex_unlock(&d->lock);
        return rc;
    }
    const char *rest = url[0] == '/' && url[1] == 'v' ? strchr(url + 1, '/') : NULL;
    if (!rest)
        return fake_reply(conn, 404, "{\"message\":\"page not found\"}");
    pthread_mutex_lock(&d->lock);
    snprintf(d->api_prefix, sizeof(d->api_prefix), "%.*s", (int)(rest - url), url);
    pthread_mutex_unlock(&d->lock);
    if (strcmp(rest, "/events") == 0)
        return fake_events(d, conn);
    pthread_mutex_lock(&d->lock);
    char *answer = fake_answer(d, rest);
    pthread_mutex_unlock(&d->lock);
    if (!answer)
        return fake_reply(conn, 404, "{\"message\":\"No such container\"}");
    enum MHD_Result rc = fake_reply(conn, 200, answer);
    free(answer);
    return rc;
}

static inline void fake_dockerd_init(struct fake_dockerd *d, const char *path, const char *api,
                                     const char *min_api)
{
    memset(d, 0, sizeof(*d));
    pthread_mutex_init(&d->lock, NULL);
    snprintf(d->path, sizeof(d->path), "%s", path);
    snprintf(d->version_answer, sizeof(d->version_answer),
             "{\"Version\":\"fake\",\"ApiVersion\":\"%s\",\"MinAPIVersion\":\"%s\"}", api, min_api);
}

/* Listens on d->path (which must not exist). false on failure. */
static inline bool fake_dockerd_listen(struct fake_dockerd *d)
{
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", d->path);
    if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 16) < 0) {
        if (fd >= 0)
            close(fd);
        return false;
    }
    atomic_store(&d->closing, false);
    d->mhd =
        MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION, 0, NULL,
                         NULL, fake_handle, d, MHD_OPTION_LISTEN_SOCKET, fd, MHD_OPTION_END);
    if (!d->mhd) {
        close(fd);
        unlink(d->path);
        return false;
    }
    return true;
}

/* Ends every stream, stops listening and removes the socket (dockerd going away). */
static inline void fake_dockerd_close(struct fake_dockerd *d)
{
    if (!d->mhd)
        return;
    atomic_store(&d->closing, true);
    MHD_stop_daemon(d->mhd);
    d->mhd = NULL;
    unlink(d->path);
}

static inline void fake_dockerd_free(struct fake_dockerd *d)
{
    fake_dockerd_close(d);
    for (size_t i = 0; i < d->count; i++)
        free(d->containers[i].inspect);
    pthread_mutex_destroy(&d->lock);
}

/* Adds or replaces a container's inspect answer. */
static inline void fake_dockerd_container(struct fake_dockerd *d, const char *id, bool listed,
                                          const char *inspect)
{
    pthread_mutex_lock(&d->lock);
    size_t i = 0;
    while (i < d->count && strcmp(d->containers[i].id, id) != 0)
        i++;
    if (i == d->count && d->count < FAKE_CONTAINERS_MAX)
        d->count++;
    if (i < d->count) {
        snprintf(d->containers[i].id, sizeof(d->containers[i].id), "%s", id);
        free(d->containers[i].inspect);
        d->containers[i].inspect = strdup(inspect);
        d->containers[i].listed = listed;
    }
    pthread_mutex_unlock(&d->lock);
}

/* Sends one event line (a JSON object; the newline is added) on every open stream. */
static inline void fake_dockerd_push(struct fake_dockerd *d, const char *event)
{
    pthread_mutex_lock(&d->lock);
    snprintf(d->events + d->events_len, sizeof(d->events) - d->events_len, "%s\n", event);
    d->events_len += strlen(d->events + d->events_len);
    pthread_mutex_unlock(&d->lock);
}

#endif
