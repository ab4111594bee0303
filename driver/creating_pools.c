/* creating_pools.c: pools between RequestPool and CreateNetwork (see creating_pools.h). */
#include "driver/creating_pools.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "common/addr.h"

#define CREATING_POOLS_MAX 16

struct creating_pool {
    char subnet[ADDR_STR_MAX]; /* "" when the slot is free */
    time_t since;              /* CLOCK_MONOTONIC seconds */
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct creating_pool pools[CREATING_POOLS_MAX];

static time_t now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec;
}

/* The live entry for subnet, or NULL. Under lock. */
static struct creating_pool *find(const char *subnet, time_t now)
{
    for (int i = 0; i < CREATING_POOLS_MAX; i++) {
        if (pools[i].subnet[0] && strcmp(pools[i].subnet, subnet) == 0 &&
            now - pools[i].since <= CREATING_POOL_SECONDS)
            return &pools[i];
    }
    return NULL;
}

void creating_pool_begin(const char *subnet)
{
    time_t now = now_seconds();
    pthread_mutex_lock(&lock);
    struct creating_pool *slot = find(subnet, now);
    for (int i = 0; !slot && i < CREATING_POOLS_MAX; i++) {
        if (!pools[i].subnet[0] || now - pools[i].since > CREATING_POOL_SECONDS)
            slot = &pools[i];
    }
    if (!slot) {
        slot = &pools[0];
        for (int i = 1; i < CREATING_POOLS_MAX; i++) {
            if (pools[i].since < slot->since)
                slot = &pools[i];
        }
    }
    snprintf(slot->subnet, sizeof(slot->subnet), "%s", subnet);
    slot->since = now;
    pthread_mutex_unlock(&lock);
}

void creating_pool_end(const char *subnet)
{
    pthread_mutex_lock(&lock);
    for (int i = 0; i < CREATING_POOLS_MAX; i++) {
        if (strcmp(pools[i].subnet, subnet) == 0)
            pools[i].subnet[0] = '\0';
    }
    pthread_mutex_unlock(&lock);
}

bool creating_pool_is(const char *subnet)
{
    pthread_mutex_lock(&lock);
    bool creating = find(subnet, now_seconds()) != NULL;
    pthread_mutex_unlock(&lock);
    return creating;
}
