/*
 * dns_load.c: UDP query load on one DNS server, for make bench (issue 10: how many
 * queries a second weft's resolver answers, and how fast).
 *
 *   dns_load -s SERVER_IP -n NAME [-c CONCURRENCY] [-d SECONDS] [-x]
 *   dns_load -s SERVER_IP -n NAME -w LIMIT_SECONDS
 *
 * Sends A queries for NAME to SERVER_IP:53 over one UDP socket, keeping CONCURRENCY
 * queries in flight: each has an ID of its own, an answer is matched by its ID, a
 * query unanswered after 1 s is counted lost and replaced. After SECONDS it stops;
 * queries still in flight then are neither answered nor lost (printed as open=).
 * Prints one line:
 *   qps=<answered per second> p50_us=.. p99_us=.. answered=.. lost=.. bad=.. open=..
 * "answered" is an answer with RCODE NOERROR and at least one answer record; any
 * other answer is "bad" (NXDOMAIN, SERVFAIL, empty), its latency not counted.
 * -x says NAME is not the overlay's (weft forwards it to the hosts' resolver): it
 * only changes the default NAME to www.example.test, what sim_dns answers.
 * -w: waits instead, for the moment NAME gets an address (names propagation): one
 * query at a time, the next as soon as the answer is empty or 5 ms after the last was
 * sent, whichever is later; prints resolved_ms=<CLOCK_REALTIME ms> after_ms=..
 * queries=..; exits 1 after LIMIT_SECONDS without an address.
 *
 * The query is built once with ldns and sent again with a new ID each time; answers
 * are read by hand (ID, flags, counts): the server's speed is measured, not ldns's.
 * Run it in a container's network namespace: weft's resolver drops queries from
 * sources outside the overlay's subnet.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <ldns/ldns.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define QUERY_TIMEOUT_US 1000000LL
/* -w's pace. A query every 1 ms (1 000 a second, each forwarded to the test resolver
 * until the name exists) slowed the docker run it watches on the 2-core machine
 * (p50 1.5 s, against 0.85 s when polled after it); every 5 ms is grain enough. */
#define WAIT_INTERVAL_US 5000
#define CONCURRENCY_MAX 4096
#define ID_SPACE 65536
#define NO_SLOT 0xffff

struct slot {
    int busy;
    uint16_t id;
    long long sent_us;
};

struct load {
    int fd;
    uint8_t *query; /* the wire form; bytes 0-1 are the ID, rewritten per send */
    size_t query_len;
    struct slot slots[CONCURRENCY_MAX];
    int concurrency;
    uint16_t slot_of_id[ID_SPACE]; /* NO_SLOT when the ID is not in flight */
    uint16_t next_id;
    uint32_t *latency_us; /* one per answered query, grown as needed */
    size_t answered, latency_cap;
    unsigned long lost, bad, send_errors;
};

static long long now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000000LL + ts.tv_nsec / 1000;
}

static int usage(void)
{
    fprintf(stderr, "usage: dns_load -s SERVER_IP -n NAME [-c CONCURRENCY] [-d SECONDS] [-x]\n"
                    "       dns_load -s SERVER_IP -n NAME -w LIMIT_SECONDS\n");
    return 2;
}

/* The wire bytes of an A query for name with RD set; the caller frees *out. */
static int build_query(const char *name, uint8_t **out, size_t *out_len)
{
    ldns_pkt *pkt = NULL;
    ldns_status st =
        ldns_pkt_query_new_frm_str(&pkt, name, LDNS_RR_TYPE_A, LDNS_RR_CLASS_IN, LDNS_RD);
    if (st != LDNS_STATUS_OK) {
        fprintf(stderr, "dns_load: %s: %s\n", name, ldns_get_errorstr_by_id(st));
        return -1;
    }
    st = ldns_pkt2wire(out, pkt, out_len);
    ldns_pkt_free(pkt);
    if (st != LDNS_STATUS_OK) {
        fprintf(stderr, "dns_load: cannot write the query: %s\n", ldns_get_errorstr_by_id(st));
        return -1;
    }
    return 0;
}

static int connect_server(const char *server)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(53)};
    if (inet_pton(AF_INET, server, &sa.sin_addr) != 1) {
        fprintf(stderr, "dns_load: %s is not an IPv4 address\n", server);
        return -1;
    }
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
        perror("dns_load: socket");
        if (fd >= 0)
            close(fd);
        return -1;
    }
    int buf = 1 << 20; /* room for a burst of answers at high concurrency */
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof(buf));
    return fd;
}

/* Sends a fresh query from slot s: the next ID not in flight. */
static void send_from(struct load *l, int s, long long now)
{
    while (l->slot_of_id[l->next_id] != NO_SLOT)
        l->next_id++;
    uint16_t id = l->next_id++;
    l->query[0] = id >> 8;
    l->query[1] = id & 0xff;
    if (send(l->fd, l->query, l->query_len, 0) < 0) {
        /* counted, and retried after the timeout like a lost query */
        l->send_errors++;
    }
    l->slots[s] = (struct slot){.busy = 1, .id = id, .sent_us = now};
    l->slot_of_id[id] = s;
}

static void release(struct load *l, int s)
{
    l->slot_of_id[l->slots[s].id] = NO_SLOT;
    l->slots[s].busy = 0;
}

static int record_latency(struct load *l, long long us)
{
    if (l->answered == l->latency_cap) {
        size_t cap = l->latency_cap ? 2 * l->latency_cap : 65536;
        uint32_t *grown = realloc(l->latency_us, cap * sizeof(*grown));
        if (!grown)
            return -1;
        l->latency_us = grown, l->latency_cap = cap;
    }
    l->latency_us[l->answered++] = (uint32_t)us;
    return 0;
}

/* Reads every answer waiting; each frees its slot, which sends again when sending. */
static int read_answers(struct load *l, int sending)
{
    uint8_t buf[4096];
    for (;;) {
        ssize_t n = recv(l->fd, buf, sizeof(buf), 0);
        if (n < 0)
            return errno == EAGAIN || errno == EWOULDBLOCK || errno == ECONNREFUSED ? 0 : -1;
        if (n < 12 || !(buf[2] & 0x80))
            continue; /* not an answer */
        uint16_t id = (uint16_t)(buf[0] << 8 | buf[1]);
        int s = l->slot_of_id[id];
        if (s == NO_SLOT)
            continue; /* late: already counted lost */
        long long now = now_us();
        int rcode = buf[3] & 0x0f, ancount = buf[6] << 8 | buf[7];
        if (rcode == 0 && ancount > 0) {
            if (record_latency(l, now - l->slots[s].sent_us) < 0)
                return -1;
        } else {
            l->bad++;
        }
        release(l, s);
        if (sending)
            send_from(l, s, now);
    }
}

/* Counts as lost every query older than the timeout and sends a new one instead. */
static void expire(struct load *l, long long now)
{
    for (int s = 0; s < l->concurrency; s++) {
        if (l->slots[s].busy && now - l->slots[s].sent_us >= QUERY_TIMEOUT_US) {
            l->lost++;
            release(l, s);
            send_from(l, s, now);
        }
    }
}

static int run(struct load *l, long long duration_us)
{
    long long start = now_us(), end = start + duration_us, last_expire = start;
    for (int s = 0; s < l->concurrency; s++)
        send_from(l, s, start);
    for (;;) {
        long long now = now_us();
        if (now >= end)
            return 0;
        struct pollfd p = {.fd = l->fd, .events = POLLIN};
        long long wait_ms = (end - now) / 1000 + 1;
        if (poll(&p, 1, wait_ms < 10 ? (int)wait_ms : 10) < 0 && errno != EINTR)
            return -1;
        if (read_answers(l, 1) < 0) {
            perror("dns_load: recv");
            return -1;
        }
        now = now_us();
        if (now - last_expire >= 10000) {
            expire(l, now);
            last_expire = now;
        }
    }
}

/* -w: one query at a time, at most one per WAIT_INTERVAL_US, until NAME has an address;
 * prints when (CLOCK_REALTIME, ms since the epoch, as `date +%s%3N` counts). */
static int wait_resolved(struct load *l, double limit_s)
{
    long long start = now_us(), limit_us = (long long)(limit_s * 1e6);
    unsigned long queries = 0;
    uint8_t buf[4096];
    for (;;) {
        long long sent = now_us();
        if (sent - start > limit_us) {
            fprintf(stderr, "dns_load: no address after %.1f s (%lu queries)\n", limit_s, queries);
            return -1;
        }
        l->query[0] = queries >> 8, l->query[1] = queries & 0xff;
        if (send(l->fd, l->query, l->query_len, 0) < 0 && errno != ECONNREFUSED) {
            perror("dns_load: send");
            return -1;
        }
        queries++;
        struct pollfd p = {.fd = l->fd, .events = POLLIN};
        while (poll(&p, 1, 100) > 0) {
            ssize_t n = recv(l->fd, buf, sizeof(buf), 0);
            if (n < 12 || !(buf[2] & 0x80))
                break;
            if (buf[0] != l->query[0] || buf[1] != l->query[1])
                continue; /* an earlier query's late answer */
            if ((buf[3] & 0x0f) == 0 && (buf[6] << 8 | buf[7]) > 0) {
                struct timespec ts;
                clock_gettime(CLOCK_REALTIME, &ts);
                printf("resolved_ms=%lld after_ms=%.1f queries=%lu\n",
                       ts.tv_sec * 1000LL + ts.tv_nsec / 1000000, (now_us() - start) / 1000.0,
                       queries);
                return 0;
            }
            break;
        }
        long long spent = now_us() - sent;
        if (spent < WAIT_INTERVAL_US)
            usleep((useconds_t)(WAIT_INTERVAL_US - spent));
    }
}

static int compare_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

/* The p-th percentile, nearest rank, of the sorted latencies (0 when none). */
static uint32_t percentile(const uint32_t *sorted, size_t n, double p)
{
    if (n == 0)
        return 0;
    size_t rank = (size_t)(p / 100.0 * (double)n + 0.999999);
    return sorted[(rank < 1 ? 1 : rank > n ? n : rank) - 1];
}

static void report(struct load *l, double seconds)
{
    unsigned long open = 0;
    for (int s = 0; s < l->concurrency; s++)
        open += l->slots[s].busy;
    qsort(l->latency_us, l->answered, sizeof(*l->latency_us), compare_u32);
    printf("qps=%.0f p50_us=%u p99_us=%u answered=%zu lost=%lu bad=%lu open=%lu",
           l->answered / seconds, percentile(l->latency_us, l->answered, 50),
           percentile(l->latency_us, l->answered, 99), l->answered, l->lost, l->bad, open);
    if (l->send_errors)
        printf(" send_errors=%lu", l->send_errors);
    printf("\n");
}

int main(int argc, char **argv)
{
    const char *server = NULL, *name = NULL;
    int concurrency = 1, forwarded = 0, opt;
    double seconds = 5, wait_s = 0;
    while ((opt = getopt(argc, argv, "s:n:c:d:xw:")) != -1) {
        switch (opt) {
        case 's':
            server = optarg;
            break;
        case 'n':
            name = optarg;
            break;
        case 'c':
            concurrency = atoi(optarg);
            break;
        case 'd':
            seconds = atof(optarg);
            break;
        case 'x':
            forwarded = 1;
            break;
        case 'w':
            wait_s = atof(optarg);
            break;
        default:
            return usage();
        }
    }
    if (!name && forwarded)
        name = "www.example.test";
    if (!server || !name || optind != argc || concurrency < 1 || concurrency > CONCURRENCY_MAX ||
        !(seconds > 0) || wait_s < 0)
        return usage();

    static struct load l; /* the ID table is too large for the stack */
    memset(l.slot_of_id, 0xff, sizeof(l.slot_of_id));
    l.concurrency = concurrency;
    l.next_id = (uint16_t)getpid();
    if (build_query(name, &l.query, &l.query_len) < 0)
        return 1;
    l.fd = connect_server(server);
    int rc;
    if (wait_s > 0) {
        rc = l.fd < 0 || wait_resolved(&l, wait_s) < 0;
    } else {
        rc = l.fd < 0 || run(&l, (long long)(seconds * 1e6)) < 0;
        if (!rc)
            report(&l, seconds);
    }
    if (l.fd >= 0)
        close(l.fd);
    free(l.query);
    free(l.latency_us);
    return rc;
}
