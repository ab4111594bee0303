/*
 * clock.h: elapsed time in milliseconds, and deadlines for timed waits.
 *
 * Owns nothing; every module that times or waits uses it, so the arithmetic
 * lives in one place. Anyone may include this.
 */
#ifndef WEFT_CLOCK_H
#define WEFT_CLOCK_H

#include <pthread.h>
#include <stdatomic.h>
#include <time.h>

/* Milliseconds on CLOCK_MONOTONIC: for measuring intervals, never for dates. */
long clock_monotonic_ms(void);

/* Seconds on CLOCK_MONOTONIC_COARSE (a tick behind CLOCK_MONOTONIC, and cheaper to
 * read: the data path asks it for every packet it seals or opens). */
long clock_monotonic_coarse_s(void);

/* The time ms milliseconds from now on clock, as pthread_cond_timedwait wants it
 * (the clock its condition variable was made with). */
struct timespec clock_deadline(clockid_t clock, long ms);

/* A condition variable whose timed waits run on CLOCK_MONOTONIC, so a change of
 * the wall clock neither shortens nor stretches them. */
void clock_cond_init_monotonic(pthread_cond_t *cond);

/* Sleeps ms on cond (made by clock_cond_init_monotonic), returning early once *stop
 * is set and cond signalled: a worker's pause that its owner can cut short. */
void clock_sleep_unless(pthread_mutex_t *lock, pthread_cond_t *cond, const atomic_bool *stop,
                        long ms);

#endif
