/*
 * fake_kernel.c: the state of the fake kernel (fake_kernel.h) and the changes
 * fake_nl.c applies to it, with the kernel's answers (EEXIST, ENODEV, ...).
 * fake_kernel_internal.h is the seam between the two files.
 */
#include "tests/fakes/fake_kernel_internal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"

struct fk fk = {.lock = PTHREAD_MUTEX_INITIALIZER, .changed = PTHREAD_COND_INITIALIZER};

void fake_kernel_reset(void)
{
    pthread_mutex_lock(&fk.lock);
    memset(fk.links, 0, sizeof(fk.links));
    fk.fdb_count = fk.neigh_count = fk.neigh6_count = 0;
    fk.next_ifindex = 1;
    fk.hold = false;
    fk.underlay_ip = 0;
    fk_changed();
    pthread_mutex_unlock(&fk.lock);
}

struct fake_link *fk_by_name(const char *name)
{
    for (int i = 0; i < FK_LINKS_MAX; i++)
        if (fk.links[i].ifindex && strcmp(fk.links[i].name, name) == 0)
            return &fk.links[i];
    return NULL;
}

struct fake_link *fk_by_index(int ifindex)
{
    for (int i = 0; ifindex > 0 && i < FK_LINKS_MAX; i++)
        if (fk.links[i].ifindex == ifindex)
            return &fk.links[i];
    return NULL;
}

struct fake_link *fk_add_link(const char *name, enum fake_link_kind kind, int mtu)
{
    for (int i = 0; i < FK_LINKS_MAX; i++) {
        struct fake_link *l = &fk.links[i];
        if (l->ifindex)
            continue;
        memset(l, 0, sizeof(*l));
        snprintf(l->name, sizeof(l->name), "%s", name);
        l->kind = kind;
        l->ifindex = fk.next_ifindex++;
        l->mtu = mtu > 0 ? mtu : 1500;
        /* A locally administered address, as the kernel's random one. */
        uint8_t mac[6] = {0x0a, 0x58, 0, 0, (uint8_t)(l->ifindex >> 8), (uint8_t)l->ifindex};
        memcpy(l->mac, mac, 6);
        return l;
    }
    return NULL;
}

/* Removes a link with what hangs off it: its entries, its ports' master, a veth's peer. */
void fk_del_link(struct fake_link *l)
{
    int ifindex = l->ifindex;
    struct fake_link *peer = l->kind == FAKE_LINK_VETH ? fk_by_index(l->peer) : NULL;
    l->ifindex = 0;
    for (int i = 0; i < FK_LINKS_MAX; i++)
        if (fk.links[i].ifindex && fk.links[i].master == ifindex)
            fk.links[i].master = 0;
    for (int i = 0; i < fk.fdb_count;)
        if (fk.fdb[i].ifindex == ifindex)
            fk.fdb[i] = fk.fdb[--fk.fdb_count];
        else
            i++;
    for (int i = 0; i < fk.neigh_count;)
        if (fk.neigh[i].ifindex == ifindex)
            fk.neigh[i] = fk.neigh[--fk.neigh_count];
        else
            i++;
    for (int i = 0; i < fk.neigh6_count;)
        if (fk.neigh6[i].ifindex == ifindex)
            fk.neigh6[i] = fk.neigh6[--fk.neigh6_count];
        else
            i++;
    if (peer)
        fk_del_link(peer);
}

int fk_fdb_find(int ifindex, const uint8_t mac[6], uint32_t dst, bool any_dst)
{
    for (int i = 0; i < fk.fdb_count; i++)
        if (fk.fdb[i].ifindex == ifindex && memcmp(fk.fdb[i].mac, mac, 6) == 0 &&
            (any_dst || fk.fdb[i].dst == dst))
            return i;
    return -1;
}

int fk_neigh_find(int ifindex, uint32_t ip)
{
    for (int i = 0; i < fk.neigh_count; i++)
        if (fk.neigh[i].ifindex == ifindex && fk.neigh[i].ip == ip)
            return i;
    return -1;
}

int fk_neigh6_find(int ifindex, const uint8_t ip6[16])
{
    for (int i = 0; i < fk.neigh6_count; i++)
        if (fk.neigh6[i].ifindex == ifindex && memcmp(fk.neigh6[i].ip6, ip6, 16) == 0)
            return i;
    return -1;
}

void fake_kernel_set_underlay(const char *ifname, uint32_t ip, int mtu)
{
    pthread_mutex_lock(&fk.lock);
    snprintf(fk.underlay_name, sizeof(fk.underlay_name), "%s", ifname);
    fk.underlay_ip = ip;
    if (!fk_by_name(ifname)) {
        struct fake_link *l = fk_add_link(ifname, FAKE_LINK_DEVICE, mtu);
        if (l)
            l->up = true;
    }
    pthread_mutex_unlock(&fk.lock);
}

bool fake_kernel_link(const char *name, struct fake_link *out)
{
    pthread_mutex_lock(&fk.lock);
    struct fake_link *l = fk_by_name(name);
    if (l && out)
        *out = *l;
    pthread_mutex_unlock(&fk.lock);
    return l != NULL;
}

int fake_kernel_link_count(const char *prefix)
{
    int n = 0;
    pthread_mutex_lock(&fk.lock);
    for (int i = 0; i < FK_LINKS_MAX; i++)
        n += fk.links[i].ifindex && strncmp(fk.links[i].name, prefix, strlen(prefix)) == 0;
    pthread_mutex_unlock(&fk.lock);
    return n;
}

int fake_kernel_alias_count(const char *prefix)
{
    int n = 0;
    pthread_mutex_lock(&fk.lock);
    for (int i = 0; i < FK_LINKS_MAX; i++)
        n += fk.links[i].ifindex && strncmp(fk.links[i].alias, prefix, strlen(prefix)) == 0;
    pthread_mutex_unlock(&fk.lock);
    return n;
}

bool fake_kernel_has_fdb(const char *dev, const uint8_t mac[6], uint32_t dst)
{
    pthread_mutex_lock(&fk.lock);
    struct fake_link *l = fk_by_name(dev);
    bool found = l && fk_fdb_find(l->ifindex, mac, dst, false) >= 0;
    pthread_mutex_unlock(&fk.lock);
    return found;
}

bool fake_kernel_has_neigh(const char *dev, uint32_t ip, const uint8_t mac[6])
{
    pthread_mutex_lock(&fk.lock);
    struct fake_link *l = fk_by_name(dev);
    int i = l ? fk_neigh_find(l->ifindex, ip) : -1;
    bool found = i >= 0 && memcmp(fk.neigh[i].mac, mac, 6) == 0;
    pthread_mutex_unlock(&fk.lock);
    return found;
}

static int count_on(const char *dev, bool fdb)
{
    pthread_mutex_lock(&fk.lock);
    struct fake_link *l = dev ? fk_by_name(dev) : NULL;
    int n = 0, total = fdb ? fk.fdb_count : fk.neigh_count;
    for (int i = 0; i < total; i++) {
        int ifindex = fdb ? fk.fdb[i].ifindex : fk.neigh[i].ifindex;
        n += !dev || (l && ifindex == l->ifindex);
    }
    pthread_mutex_unlock(&fk.lock);
    return n;
}

int fake_kernel_fdb_count(const char *dev)
{
    return count_on(dev, true);
}

int fake_kernel_neigh_count(const char *dev)
{
    return count_on(dev, false);
}

static int compare_lines(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static const char *name_of(int ifindex)
{
    struct fake_link *l = fk_by_index(ifindex);
    return l ? l->name : "-";
}

/* One line per link and entry, under the lock. */
static int snapshot_lines(char **lines, int max)
{
    static const char *kinds[] = {"device", "bridge", "vxlan", "veth"};
    char ip[INET6_ADDRSTRLEN], line[512];
    int n = 0;
    for (int i = 0; i < FK_LINKS_MAX && n < max; i++) {
        const struct fake_link *l = &fk.links[i];
        if (!l->ifindex)
            continue;
        inet_ntop(AF_INET, &l->local, ip, sizeof(ip));
        snprintf(line, sizeof(line),
                 "link %s #%d %s %s mtu=%d mac=%02x:%02x:%02x:%02x:%02x:%02x master=%s "
                 "vni=%u local=%s peer=%s alias=\"%s\"",
                 l->name, l->ifindex, kinds[l->kind], l->up ? "up" : "down", l->mtu, l->mac[0],
                 l->mac[1], l->mac[2], l->mac[3], l->mac[4], l->mac[5], name_of(l->master), l->vni,
                 ip, name_of(l->peer), l->alias);
        lines[n++] = strdup(line);
    }
    for (int i = 0; i < fk.fdb_count && n < max; i++) {
        const uint8_t *m = fk.fdb[i].mac;
        inet_ntop(AF_INET, &fk.fdb[i].dst, ip, sizeof(ip));
        snprintf(line, sizeof(line), "fdb %s %02x:%02x:%02x:%02x:%02x:%02x dst %s",
                 name_of(fk.fdb[i].ifindex), m[0], m[1], m[2], m[3], m[4], m[5], ip);
        lines[n++] = strdup(line);
    }
    for (int i = 0; i < fk.neigh_count && n < max; i++) {
        const uint8_t *m = fk.neigh[i].mac;
        inet_ntop(AF_INET, &fk.neigh[i].ip, ip, sizeof(ip));
        snprintf(line, sizeof(line), "neigh %s %s lladdr %02x:%02x:%02x:%02x:%02x:%02x",
                 name_of(fk.neigh[i].ifindex), ip, m[0], m[1], m[2], m[3], m[4], m[5]);
        lines[n++] = strdup(line);
    }
    for (int i = 0; i < fk.neigh6_count && n < max; i++) {
        const uint8_t *m = fk.neigh6[i].mac;
        inet_ntop(AF_INET6, fk.neigh6[i].ip6, ip, sizeof(ip));
        snprintf(line, sizeof(line), "neigh %s %s lladdr %02x:%02x:%02x:%02x:%02x:%02x",
                 name_of(fk.neigh6[i].ifindex), ip, m[0], m[1], m[2], m[3], m[4], m[5]);
        lines[n++] = strdup(line);
    }
    return n;
}

char *fake_kernel_snapshot(void)
{
    enum { MAX = FK_LINKS_MAX + 3 * FK_ENTRIES_MAX };
    char **lines = calloc(MAX, sizeof(*lines));
    if (!lines)
        return NULL;
    pthread_mutex_lock(&fk.lock);
    int n = snapshot_lines(lines, MAX);
    pthread_mutex_unlock(&fk.lock);
    qsort(lines, (size_t)n, sizeof(*lines), compare_lines);
    size_t len = 1;
    for (int i = 0; i < n; i++)
        len += lines[i] ? strlen(lines[i]) + 1 : 0;
    char *text = malloc(len);
    if (text) {
        text[0] = '\0';
        for (int i = 0; i < n; i++)
            if (lines[i])
                strcat(strcat(text, lines[i]), "\n");
    }
    for (int i = 0; i < n; i++)
        free(lines[i]);
    free(lines);
    return text;
}

bool fake_kernel_wait(bool (*cond)(void *ctx), void *ctx, long timeout_ms)
{
    struct timespec until = clock_deadline(CLOCK_REALTIME, timeout_ms);
    int rc = 0;
    bool ok = false;
    pthread_mutex_lock(&fk.lock);
    /* cond reads through the public calls, which take the lock: it runs unlocked,
     * and the generation tells whether a change came meanwhile. */
    while (rc != ETIMEDOUT) {
        unsigned long seen = fk.generation;
        pthread_mutex_unlock(&fk.lock);
        ok = cond(ctx);
        pthread_mutex_lock(&fk.lock);
        if (ok)
            break;
        while (fk.generation == seen && rc != ETIMEDOUT)
            rc = pthread_cond_timedwait(&fk.changed, &fk.lock, &until);
    }
    pthread_mutex_unlock(&fk.lock);
    return ok;
}

void fake_kernel_hold_spares(bool hold)
{
    pthread_mutex_lock(&fk.lock);
    fk.hold = hold;
    fk_changed();
    pthread_mutex_unlock(&fk.lock);
}

bool fake_kernel_wait_held(int n, long timeout_ms)
{
    struct timespec until = clock_deadline(CLOCK_REALTIME, timeout_ms);
    pthread_mutex_lock(&fk.lock);
    int rc = 0;
    while (fk.held < n && rc != ETIMEDOUT)
        rc = pthread_cond_timedwait(&fk.changed, &fk.lock, &until);
    bool ok = fk.held >= n;
    pthread_mutex_unlock(&fk.lock);
    return ok;
}
