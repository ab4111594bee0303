/*
 * fake_kernel_internal.h: the fake kernel's state, shared by fake_kernel.c (state,
 * inspection) and fake_nl.c (nl.h's calls). Everything here is guarded by fk.lock;
 * every change ends with fk_changed() so waiters look again.
 */
#ifndef WEFT_TEST_FAKE_KERNEL_INTERNAL_H
#define WEFT_TEST_FAKE_KERNEL_INTERNAL_H

#include <pthread.h>

#include "tests/fakes/fake_kernel.h"

#define FK_LINKS_MAX 256
#define FK_ENTRIES_MAX 1024

struct fk_fdb {
    int ifindex;
    uint8_t mac[6];
    uint32_t dst;
};

struct fk_neigh {
    int ifindex;
    uint32_t ip;
    uint8_t mac[6];
};

struct fk_neigh6 {
    int ifindex;
    uint8_t ip6[16];
    uint8_t mac[6];
};

struct fk {
    pthread_mutex_t lock;
    pthread_cond_t changed;
    unsigned long generation;             /* bumped by every change */
    struct fake_link links[FK_LINKS_MAX]; /* ifindex 0: a free slot */
    int next_ifindex;
    struct fk_fdb fdb[FK_ENTRIES_MAX];
    int fdb_count;
    struct fk_neigh neigh[FK_ENTRIES_MAX];
    int neigh_count;
    struct fk_neigh6 neigh6[FK_ENTRIES_MAX];
    int neigh6_count;
    char underlay_name[IF_NAMESIZE];
    uint32_t underlay_ip;
    bool hold; /* spare veths wait */
    int held;  /* calls waiting on hold */
};

extern struct fk fk;

static inline void fk_changed(void)
{
    fk.generation++;
    pthread_cond_broadcast(&fk.changed);
}

struct fake_link *fk_by_name(const char *name);
struct fake_link *fk_by_index(int ifindex);
struct fake_link *fk_add_link(const char *name, enum fake_link_kind kind, int mtu);
void fk_del_link(struct fake_link *l);
/* Index into fk.fdb / fk.neigh / fk.neigh6, or -1. any_dst: the first entry of mac. */
int fk_fdb_find(int ifindex, const uint8_t mac[6], uint32_t dst, bool any_dst);
int fk_neigh_find(int ifindex, uint32_t ip);
int fk_neigh6_find(int ifindex, const uint8_t ip6[16]);

#endif
