/* fault.c: the counter behind fault.h; one mutex, since any thread may call a fake. */
#include "tests/fakes/fault.h"

#include <pthread.h>

static pthread_mutex_t fault_lock = PTHREAD_MUTEX_INITIALIZER;
static struct {
    bool armed;
    bool fired;
    bool one_thread; /* count only owner's calls */
    pthread_t owner;
    enum fault_kind kind;
    unsigned left; /* calls of kind until the failing one */
    unsigned long calls[2];
} fault;

void fault_reset(void)
{
    pthread_mutex_lock(&fault_lock);
    fault.armed = fault.fired = false;
    fault.calls[FAULT_STORE] = fault.calls[FAULT_NETLINK] = 0;
    pthread_mutex_unlock(&fault_lock);
}

static void arm(enum fault_kind kind, unsigned n, bool one_thread)
{
    pthread_mutex_lock(&fault_lock);
    fault.armed = n > 0;
    fault.fired = false;
    fault.kind = kind;
    fault.left = n;
    fault.one_thread = one_thread;
    fault.owner = pthread_self();
    pthread_mutex_unlock(&fault_lock);
}

void fault_arm(enum fault_kind kind, unsigned n)
{
    arm(kind, n, false);
}

void fault_arm_thread(enum fault_kind kind, unsigned n)
{
    arm(kind, n, true);
}

void fault_disarm(void)
{
    pthread_mutex_lock(&fault_lock);
    fault.armed = false;
    pthread_mutex_unlock(&fault_lock);
}

bool fault_fired(void)
{
    pthread_mutex_lock(&fault_lock);
    bool fired = fault.fired;
    pthread_mutex_unlock(&fault_lock);
    return fired;
}

unsigned long fault_calls(enum fault_kind kind)
{
    pthread_mutex_lock(&fault_lock);
    unsigned long n = kind == FAULT_ANY ? fault.calls[FAULT_STORE] + fault.calls[FAULT_NETLINK]
                                        : fault.calls[kind];
    pthread_mutex_unlock(&fault_lock);
    return n;
}

bool fault_hit(enum fault_kind kind)
{
    bool hit = false;
    pthread_mutex_lock(&fault_lock);
    fault.calls[kind]++;
    if (fault.armed && (fault.kind == FAULT_ANY || fault.kind == kind) &&
        (!fault.one_thread || pthread_equal(fault.owner, pthread_self())) && --fault.left == 0) {
        fault.armed = false;
        fault.fired = true;
        hit = true;
    }
    pthread_mutex_unlock(&fault_lock);
    return hit;
}
