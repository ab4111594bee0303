/*
 * fault.h: one fault-injection hook for the fakes of tests/fakes/: "fail the Nth
 * store or netlink call".
 *
 * Every call of fake_nl.c and fake_etcd.c that would be a round trip to the
 * kernel or to etcd asks fault_hit() first; the Nth such call after fault_arm
 * fails with a realistic error (a netlink batch counts once, at nl_batch_end).
 * Queries count as well as changes. Callers: the fakes (fault_hit) and the tests
 * (the rest). Thread-safe: the watch, publisher and spare threads call the fakes.
 *
 * fault_arm counts the calls of every thread. fault_arm_thread counts only the
 * calls of the thread that armed it: a request's own calls, so that the spare
 * maker or the watch, working at the same moment, neither take the fault nor
 * move the count (the undo tests must be deterministic).
 */
#ifndef WEFT_TEST_FAULT_H
#define WEFT_TEST_FAULT_H

#include <stdbool.h>

enum fault_kind {
    FAULT_STORE,
    FAULT_NETLINK,
    FAULT_ANY,
};

/* Disarms and zeroes every count (between tests). */
void fault_reset(void);
/* The nth call (1-based) of kind, counted from now, fails. */
void fault_arm(enum fault_kind kind, unsigned n);
void fault_arm_thread(enum fault_kind kind, unsigned n);
void fault_disarm(void);
/* Whether the armed fault has fired since fault_arm. */
bool fault_fired(void);
/* Calls of kind (FAULT_ANY: both) made by all threads since fault_reset. */
unsigned long fault_calls(enum fault_kind kind);

/* For the fakes: counts one call of kind (FAULT_STORE or FAULT_NETLINK) and
 * tells whether it must fail. */
bool fault_hit(enum fault_kind kind);

#endif
