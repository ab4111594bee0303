/*
 * follower.c: the thread that follows this host's containers' names (see
 * follower.h). Each round negotiates the API version, lists the running
 * containers and inspects each, then streams the network-connect and
 * container-rename events from some seconds before the listing, so nothing between
 * the listing and the stream, nor a container connected but not yet running at the
 * listing, is lost. Endpoints the callee does not know yet wait in
 * a small pending list, tried again between reads of the stream. A failed round
 * (dockerd missing, restarting, or saying something unreadable) is logged once
 * and started again every second.
 */
#include "docker/follower.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/clock.h"
#include "common/log.h"
#include "docker/answers.h"
#include "docker/engine.h"
#include "docker/names.h"

#define ROUND_PAUSE_MS 1000L
#define RETRY_MS 1000L
#define RETRIES 5
#define PENDING_MAX 128
/* How long one read of the stream may wait before the pending list is looked at. */
#define PUMP_MS 200L
/* {"type":["network","container"],"event":["connect","rename"]}, URL-encoded. */
#define EVENT_FILTERS                                                                              \
    "%7B%22type%22%3A%5B%22network%22%2C%22container%22%5D%2C%22event%22%3A%5B%22connect%22%2C"    \
    "%22rename%22%5D%7D"

/* An endpoint whose network the callee knew but not (yet) the endpoint. */
struct pending {
    struct docker_endpoint ep;
    int retries; /* made so far */
    long due_ms; /* next try, on clock_monotonic_ms */
};

struct docker_follower {
    pthread_t thread;
    atomic_bool stop;
    pthread_mutex_t lock; /* with cond: the pause between rounds, cut short by stop */
    pthread_cond_t cond;
    char *socket_path;
    docker_names_fn on_names;
    void *ctx;

    /* The thread's own. */
    struct docker_engine *engine;
    struct pending *pending; /* pending_count of them, room for PENDING_MAX */
    size_t pending_count;
    bool reached_once; /* dockerd answered at least once */
    bool down;         /* a failure was logged; its end is not yet */
};

static bool stopping(struct docker_follower *f)
{
    return atomic_load(&f->stop);
}

static struct pending *pending_find(struct docker_follower *f, const char *endpoint_id)
{
    for (size_t i = 0; i < f->pending_count; i++)
        if (strcmp(f->pending[i].ep.endpoint_id, endpoint_id) == 0)
            return &f->pending[i];
    return NULL;
}

static void pending_remove(struct docker_follower *f, struct pending *p)
{
    *p = f->pending[--f->pending_count];
}

/* Keeps ep (a newer copy replaces an older one) to be handed over again in a second. */
static void pending_put(struct docker_follower *f, const struct docker_endpoint *ep)
{
    struct pending *p = pending_find(f, ep->endpoint_id);
    if (!p && f->pending_count == PENDING_MAX) {
        log_warn("too many docker endpoints waiting; names dropped", "network=%.12s endpoint=%.12s",
                 ep->network_id, ep->endpoint_id);
        return;
    }
    if (!p)
        p = &f->pending[f->pending_count++];
    p->ep = *ep;
    p->retries = 0;
    p->due_ms = clock_monotonic_ms() + RETRY_MS;
}

static void deliver(struct docker_follower *f, const struct docker_endpoint *ep,
                    const char *container)
{
    if (ep->dropped_long > 0)
        log_warn("container names too long together; some dropped",
                 "container=%.12s endpoint=%.12s dropped=%u max=%d", container, ep->endpoint_id,
                 ep->dropped_long, DOCKER_NAMES_MAX);
    if (ep->dropped_invalid > 0)
        log_debug("container names that are not DNS names skipped", "container=%.12s skipped=%u",
                  container, ep->dropped_invalid);
    int rc = f->on_names(f->ctx, ep->network_id, ep->endpoint_id, ep->names);
    struct pending *older = pending_find(f, ep->endpoint_id);
    if (rc == -EAGAIN) {
        pending_put(f, ep);
        return;
    }
    if (older)
        pending_remove(f, older);
    if (rc != 0 && rc != -ENOENT)
        log_warn("container names not taken", "container=%.12s endpoint=%.12s rc=%d", container,
                 ep->endpoint_id, rc);
}

/* Hands over again the pending endpoints that are due; drops those out of tries. */
static void retry_due(struct docker_follower *f)
{
    long now = clock_monotonic_ms();
    for (size_t i = 0; i < f->pending_count;) {
        struct pending *p = &f->pending[i];
        if (p->due_ms > now) {
            i++;
            continue;
        }
        int rc = f->on_names(f->ctx, p->ep.network_id, p->ep.endpoint_id, p->ep.names);
        if (rc == -EAGAIN && ++p->retries < RETRIES) {
            p->due_ms = now + RETRY_MS;
            i++;
            continue;
        }
        if (rc == -EAGAIN)
            log_warn("docker endpoint still unknown after retries; its names are dropped",
                     "network=%.12s endpoint=%.12s retries=%d", p->ep.network_id, p->ep.endpoint_id,
                     RETRIES);
        pending_remove(f, p);
    }
}

/* Waits ms (or until stop), trying pending endpoints as they fall due. */
static void pause_ms(struct docker_follower *f, long ms)
{
    long until = clock_monotonic_ms() + ms;
    while (!stopping(f)) {
        retry_due(f);
        long now = clock_monotonic_ms(), wait = until - now;
        if (wait <= 0)
            return;
        for (size_t i = 0; i < f->pending_count; i++)
            if (f->pending[i].due_ms - now < wait)
                wait = f->pending[i].due_ms - now > 0 ? f->pending[i].due_ms - now : 1;
        struct timespec deadline = clock_deadline(CLOCK_MONOTONIC, wait);
        pthread_mutex_lock(&f->lock);
        if (!stopping(f))
            pthread_cond_timedwait(&f->cond, &f->lock, &deadline);
        pthread_mutex_unlock(&f->lock);
    }
}

/*
 * Inspects one container and hands over its endpoints. A container gone meanwhile
 * or an answer that cannot be read is skipped (0); -1 when dockerd itself failed.
 */
static int inspect(struct docker_follower *f, const char *id, struct weft_err *err)
{
    char path[DOCKER_ID_MAX + 32], *body;
    size_t len;
    snprintf(path, sizeof(path), "/containers/%s/json", id);
    if (docker_engine_get(f->engine, path, &body, &len, err) < 0) {
        if (err->code == -ENOENT || err->code == -EPROTO) {
            log_debug("docker container not inspected", "container=%.12s error=\"%s\"", id,
                      err->msg);
            return 0;
        }
        return -1;
    }
    struct docker_container c;
    struct weft_err parse_err = {0};
    if (docker_container_parse(&c, body, len, &parse_err) < 0)
        log_warn("docker container inspect unreadable; skipped", "container=%.12s error=\"%s\"", id,
                 parse_err.msg);
    for (size_t i = 0; i < c.count; i++)
        deliver(f, &c.endpoints[i], c.id);
    if (c.skipped > 0)
        log_debug("docker networks without usable endpoint or names", "container=%.12s skipped=%u",
                  c.id, c.skipped);
    docker_container_free(&c);
    free(body);
    return 0;
}

static int list_and_inspect(struct docker_follower *f, struct weft_err *err)
{
    char *body;
    size_t len, count;
    docker_id *ids;
    if (docker_engine_get(f->engine, "/containers/json", &body, &len, err) < 0)
        return -1;
    int rc = docker_answer_container_ids(body, len, &ids, &count, err);
    free(body);
    for (size_t i = 0; rc == 0 && i < count && !stopping(f); i++)
        rc = inspect(f, ids[i], err);
    free(ids);
    return rc;
}

struct line_ctx {
    struct docker_follower *f;
    struct weft_err *err;
};

/* An event the follower cannot read ends the stream, and the round lists again:
 * skipping it could lose a container's names. */
static int on_event_line(void *arg, const char *line, size_t len)
{
    struct line_ctx *lc = arg;
    docker_id id;
    int rc = docker_answer_event(line, len, id, lc->err);
    if (rc < 0)
        return -EPROTO;
    if (rc == 0)
        return 0;
    return inspect(lc->f, id, lc->err) < 0 ? lc->err->code : 0;
}

static void note_reached(struct docker_follower *f)
{
    if (f->down || !f->reached_once)
        log_info(f->down && f->reached_once ? "docker engine back" : "following docker engine",
                 "socket=%s api=%s", f->socket_path, docker_engine_version(f->engine));
    f->down = false;
    f->reached_once = true;
}

static void note_failure(struct docker_follower *f, const struct weft_err *err)
{
    if (f->down)
        return;
    f->down = true;
    const char *what = err->code == -EPROTO ? "docker engine answer unreadable; listing again"
                       : f->reached_once    ? "docker engine lost; retrying every second"
                                            : "docker engine unreachable; retrying every second";
    log_warn(what, "socket=%s error=\"%s\"", f->socket_path, err->msg);
}

/* One round: from the version to the end of the events stream. Returns -1 (err). */
static int follow(struct docker_follower *f, struct weft_err *err)
{
    if (docker_engine_negotiate(f->engine, err) < 0)
        return -1;
    /* Before the listing, so that what happens during it streams too; and some seconds
     * further back: Docker connects a container to its networks before it runs, and
     * lists only running ones, so a container connected just before this second (a
     * `docker run` as dockerd comes back) and not yet running at the listing would be
     * in neither. Replayed events only inspect a container again. */
    time_t since = time(NULL) - DOCKER_FOLLOWER_REPLAY_S;
    if (list_and_inspect(f, err) < 0)
        return -1;
    char path[256];
    snprintf(path, sizeof(path), "/events?since=%lld&filters=%s", (long long)since, EVENT_FILTERS);
    if (docker_engine_stream_open(f->engine, path, err) < 0)
        return -1;
    struct line_ctx lc = {f, err};
    for (;;) {
        if (docker_engine_stream_pump(f->engine, PUMP_MS, on_event_line, &lc, err) != 0) {
            docker_engine_stream_close(f->engine);
            return -1;
        }
        if (docker_engine_stream_up(f->engine))
            note_reached(f); /* only now: a stream refused at once is no comeback */
        retry_due(f);
    }
}

static void *follower_main(void *arg)
{
    struct docker_follower *f = arg;
    while (!stopping(f)) {
        struct weft_err err = {0};
        follow(f, &err);
        if (stopping(f))
            break;
        note_failure(f, &err);
        pause_ms(f, ROUND_PAUSE_MS);
    }
    return NULL;
}

static void follower_free(struct docker_follower *f)
{
    docker_engine_free(f->engine);
    pthread_cond_destroy(&f->cond);
    pthread_mutex_destroy(&f->lock);
    free(f->pending);
    free(f->socket_path);
    free(f);
}

int docker_follower_start(struct docker_follower **out, const char *socket_path,
                          docker_names_fn on_names, void *ctx, struct weft_err *err)
{
    if (!on_names)
        return weft_err_set(err, -EINVAL, "the docker follower needs a names callback");
    struct docker_follower *f = calloc(1, sizeof(*f));
    if (!f)
        return weft_err_set(err, -ENOMEM, "no memory for the docker follower");
    pthread_mutex_init(&f->lock, NULL);
    clock_cond_init_monotonic(&f->cond);
    f->on_names = on_names;
    f->ctx = ctx;
    f->socket_path = strdup(socket_path ? socket_path : DOCKER_SOCKET_DEFAULT);
    f->pending = calloc(PENDING_MAX, sizeof(*f->pending));
    if (!f->socket_path || !f->pending) {
        follower_free(f);
        return weft_err_set(err, -ENOMEM, "no memory for the docker follower");
    }
    if (docker_engine_new(&f->engine, f->socket_path, &f->stop, err) < 0) {
        follower_free(f);
        return -1;
    }
    int rc = pthread_create(&f->thread, NULL, follower_main, f);
    if (rc != 0) {
        follower_free(f);
        return weft_err_set(err, -rc, "starting the docker follower thread failed");
    }
    *out = f;
    return 0;
}

void docker_follower_stop(struct docker_follower *f)
{
    if (!f)
        return;
    pthread_mutex_lock(&f->lock);
    atomic_store(&f->stop, true);
    pthread_cond_broadcast(&f->cond);
    pthread_mutex_unlock(&f->lock);
    pthread_join(f->thread, NULL);
    follower_free(f);
}
