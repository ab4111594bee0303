/*
 * netns_fixture.h: network namespaces for the tests in tests/netns/. Each test
 * program moves into a namespace of its own (netns_private(), in its setup), so
 * what it makes touches nothing on the host and goes when the process exits;
 * tests that model several hosts make more (new_netns(), in_ns(), netns_visit()).
 * Without CAP_NET_ADMIN (and CAP_SYS_ADMIN, which unshare needs) a program does
 * not fail: netns_run_group() reports every test skipped, prints "skipped: needs
 * CAP_NET_ADMIN" and exits 0. Header-only; single-threaded setup code only
 * (unshare and setns move the calling thread).
 */
#ifndef WEFT_NETNS_FIXTURE_H
#define WEFT_NETNS_FIXTURE_H

#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <sched.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/lib/group_skip.h"

/* Why this process cannot make and configure network namespaces, or NULL if it can.
 * Reads the effective set the kernel reports, as `capsh --print` does. */
static inline const char *netns_missing(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    unsigned long long eff = 0;
    bool found = false;
    while (f && !found && fgets(line, sizeof(line), f))
        found = sscanf(line, "CapEff: %llx", &eff) == 1;
    if (f)
        fclose(f);
    if (!found)
        return "needs CAP_NET_ADMIN (could not read CapEff from /proc/self/status)";
    bool net_admin = eff & (1ULL << CAP_NET_ADMIN), sys_admin = eff & (1ULL << CAP_SYS_ADMIN);
    if (!net_admin)
        return sys_admin ? "needs CAP_NET_ADMIN"
                         : "needs CAP_NET_ADMIN (and CAP_SYS_ADMIN to make its network namespace)";
    if (!sys_admin)
        return "needs CAP_SYS_ADMIN to make its network namespace";
    return NULL;
}

/* Moves this process into a fresh network namespace with lo up. */
static inline int netns_private(void)
{
    if (unshare(CLONE_NEWNET) < 0) {
        fprintf(stderr, "unshare(CLONE_NEWNET): %s\n", strerror(errno));
        return -1;
    }
    if (system("ip link set lo up") != 0) {
        fprintf(stderr, "ip link set lo up failed in the test's namespace\n");
        return -1;
    }
    return 0;
}

/* Enters namespace ns; returns a descriptor of the one left, for netns_return(). */
static inline int netns_visit(int ns)
{
    int home = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
    if (home < 0)
        return -1;
    if (setns(ns, CLONE_NEWNET) < 0) {
        close(home);
        return -1;
    }
    return home;
}

/* Goes back to the namespace netns_visit() left, and closes its descriptor. */
static inline int netns_return(int home)
{
    int rc = setns(home, CLONE_NEWNET);
    close(home);
    return rc;
}

/* A fresh anonymous network namespace with lo up, held by the returned fd (not
 * close-on-exec, so `ip ... netns /proc/self/fd/N` in a child can name it). It
 * vanishes when the fd closes or this process exits; the caller stays where it was. */
static inline int new_netns(void)
{
    int home = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
    if (home < 0)
        return -1;
    if (unshare(CLONE_NEWNET) < 0) {
        close(home);
        return -1;
    }
    int fd = open("/proc/self/ns/net", O_RDONLY);
    bool lo_up = system("ip link set lo up") == 0;
    if (netns_return(home) < 0 || fd < 0 || !lo_up) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    return fd;
}

/* Runs a shell command inside namespace ns; returns its exit status. */
static inline int in_ns(int ns, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static inline int in_ns(int ns, const char *fmt, ...)
{
    char cmd[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof(cmd), fmt, ap);
    va_end(ap);
    int home = netns_visit(ns);
    if (home < 0)
        return -1;
    int rc = system(cmd);
    if (netns_return(home) < 0)
        rc = -1;
    return rc;
}

/* cmocka_run_group_tests(), or every test skipped when the capabilities are missing. */
#define netns_run_group(tests, setup, teardown)                                                    \
    group_run_or_skip(netns_missing(), tests, setup, teardown)

#endif
