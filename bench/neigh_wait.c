/*
 * neigh_wait.c: when each simulated host had all its remote endpoints, for make
 * bench's scale figure (issue 14 part 3: time it from the kernel, not from the
 * harness's process spawns).
 *
 *   neigh_wait DEVICE WANT TIMEOUT_MS NETNS_PATH...
 *
 * Opens one netlink socket in each network namespace first, then reads the
 * permanent neighbour entries on DEVICE in each host not yet complete, over and
 * over, until every one has at least WANT or TIMEOUT_MS passed. Prints a line per
 * host, "<netns path> <ms since the epoch when first seen complete, or -1>
 * <entries>", then "sweep_max_ms <longest read of the pending hosts>": a host is
 * seen complete at most that long after it was. Exit 0 when every host completed,
 * 1 on timeout, 2 on a usage or netlink error. A benchmark tool, not a test.
 */
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "netlink/nl.h"

#define HOSTS_MAX 256

struct host {
    const char *path;
    struct nl *nl;
    int ifindex;
    long long done_ms; /* -1: not yet */
    long entries;
};

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void count_entry(void *ctx, uint32_t ip, const uint8_t mac[6])
{
    (void)ip, (void)mac;
    (*(long *)ctx)++;
}

/* A netlink socket made inside the namespace at path stays in it. */
static int host_open(struct host *h, int home, const char *device)
{
    struct weft_err err = {0};
    int fd = open(h->path, O_RDONLY | O_CLOEXEC);
    if (fd < 0 || setns(fd, CLONE_NEWNET) < 0) {
        perror(h->path);
        if (fd >= 0)
            close(fd);
        return -1;
    }
    close(fd);
    int rc = nl_open(&h->nl, &err);
    if (rc == 0)
        rc = nl_link_index(h->nl, device, &h->ifindex, &err);
    if (setns(home, CLONE_NEWNET) < 0) {
        perror("back to the first namespace");
        return -1;
    }
    if (rc < 0)
        fprintf(stderr, "%s: %s\n", h->path, err.msg);
    h->done_ms = -1;
    return rc;
}

int main(int argc, char **argv)
{
    if (argc < 5 || argc - 4 > HOSTS_MAX) {
        fprintf(stderr, "usage: neigh_wait DEVICE WANT TIMEOUT_MS NETNS_PATH... (at most %d)\n",
                HOSTS_MAX);
        return 2;
    }
    const char *device = argv[1];
    long want = atol(argv[2]);
    long long deadline = now_ms() + atol(argv[3]);
    int n = argc - 4, home = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
    static struct host hosts[HOSTS_MAX];
    int status = home < 0 ? 2 : 0;
    for (int i = 0; i < n && status == 0; i++) {
        hosts[i].path = argv[4 + i];
        if (host_open(&hosts[i], home, device) < 0)
            status = 2;
    }
    long long sweep_max = 0;
    for (int pending = n; status == 0 && pending > 0;) {
        long long start = now_ms();
        pending = 0;
        for (int i = 0; i < n; i++) {
            struct host *h = &hosts[i];
            struct weft_err err = {0};
            if (h->done_ms >= 0)
                continue;
            h->entries = 0;
            if (nl_neigh_list(h->nl, h->ifindex, count_entry, &h->entries, &err) < 0) {
                fprintf(stderr, "%s: %s\n", h->path, err.msg);
                status = 2;
            } else if (h->entries >= want)
                h->done_ms = now_ms();
            else
                pending++;
        }
        if (now_ms() - start > sweep_max)
            sweep_max = now_ms() - start;
        if (pending > 0 && now_ms() > deadline)
            status = 1;
    }
    for (int i = 0; i < n; i++) {
        if (hosts[i].path)
            printf("%s %lld %ld\n", hosts[i].path, hosts[i].done_ms, hosts[i].entries);
        if (hosts[i].nl)
            nl_close(hosts[i].nl);
    }
    printf("sweep_max_ms %lld\n", sweep_max);
    if (home >= 0)
        close(home);
    return status;
}
