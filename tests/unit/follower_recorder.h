/*
 * follower_recorder.h: a docker_names_fn for tests that records every call (when,
 * which endpoint, which names) and answers -EAGAIN for an endpoint as often as the
 * test says. Header-only: static functions for the Docker follower's tests.
 */
#ifndef WEFT_TEST_FOLLOWER_RECORDER_H
#define WEFT_TEST_FOLLOWER_RECORDER_H

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common/clock.h"
#include "docker/follower.h"

#define RECORDER_CALLS_MAX 64

struct recorded_call {
    char network[72], endpoint[72], names[DOCKER_NAMES_MAX];
    long at_ms;
    int answer;
};

struct recorder {
    pthread_mutex_t lock; /* guards all below */
    struct recorded_call calls[RECORDER_CALLS_MAX];
    int n;
    struct {
        char endpoint[72]; /* answered -EAGAIN times more times (-1: always) */
        int times;
    } eagain[4];
};

static inline void recorder_init(struct recorder *r)
{
    memset(r, 0, sizeof(*r));
    pthread_mutex_init(&r->lock, NULL);
}

static inline void recorder_free(struct recorder *r)
{
    pthread_mutex_destroy(&r->lock);
}

/* endpoint is answered -EAGAIN its next times calls (-1: always); up to 4 endpoints. */
static inline void recorder_eagain(struct recorder *r, const char *endpoint, int times)
{
    pthread_mutex_lock(&r->lock);
    for (int i = 0; i < 4; i++)
        if (!r->eagain[i].endpoint[0] || strcmp(r->eagain[i].endpoint, endpoint) == 0) {
            snprintf(r->eagain[i].endpoint, sizeof(r->eagain[i].endpoint), "%s", endpoint);
            r->eagain[i].times = times;
            break;
        }
    pthread_mutex_unlock(&r->lock);
}

static inline int recorder_names(void *ctx, const char *network_id, const char *endpoint_id,
                                 const char *names)
{
    struct recorder *r = ctx;
    pthread_mutex_lock(&r->lock);
    int answer = 0;
    for (int i = 0; i < 4; i++)
        if (strcmp(endpoint_id, r->eagain[i].endpoint) == 0 && r->eagain[i].times != 0) {
            answer = -EAGAIN;
            if (r->eagain[i].times > 0)
                r->eagain[i].times--;
        }
    if (r->n < RECORDER_CALLS_MAX) {
        struct recorded_call *c = &r->calls[r->n++];
        snprintf(c->network, sizeof(c->network), "%s", network_id);
        snprintf(c->endpoint, sizeof(c->endpoint), "%s", endpoint_id);
        snprintf(c->names, sizeof(c->names), "%s", names);
        c->at_ms = clock_monotonic_ms();
        c->answer = answer;
    }
    pthread_mutex_unlock(&r->lock);
    return answer;
}

/* How many calls were made for endpoint. */
static inline int recorder_count(struct recorder *r, const char *endpoint)
{
    pthread_mutex_lock(&r->lock);
    int n = 0;
    for (int i = 0; i < r->n; i++)
        n += strcmp(r->calls[i].endpoint, endpoint) == 0;
    pthread_mutex_unlock(&r->lock);
    return n;
}

/* Waits up to ms for the nth call for endpoint; false if it did not come. */
static inline bool recorder_wait(struct recorder *r, const char *endpoint, int nth, long ms)
{
    long until = clock_monotonic_ms() + ms;
    while (recorder_count(r, endpoint) < nth) {
        if (clock_monotonic_ms() > until)
            return false;
        usleep(10 * 1000);
    }
    return true;
}

/* The latest call for endpoint (stable once the follower stopped or went quiet). */
static inline const struct recorded_call *recorder_last(struct recorder *r, const char *endpoint)
{
    const struct recorded_call *last = NULL;
    pthread_mutex_lock(&r->lock);
    for (int i = 0; i < r->n; i++)
        if (strcmp(r->calls[i].endpoint, endpoint) == 0)
            last = &r->calls[i];
    pthread_mutex_unlock(&r->lock);
    return last;
}

#endif
