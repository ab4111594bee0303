/*
 * test_etcd_cluster.c: failover in a three-member loopback etcd cluster. Killing
 * the member weft talks to (the leader, the worst case) must change nothing a
 * caller sees: requests succeed and the watch goes on without a resync.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "store/etcd.h"
#include "store/etcd_internal.h"
#include "tests/live/etcd_fixture.h"

#define MEMBERS 3

struct cluster {
    pid_t pid[MEMBERS];
    int client_port[MEMBERS], peer_port[MEMBERS];
    char endpoint[MEMBERS][64];
    char data_dir[MEMBERS][128];
};

static long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

static void cluster_stop(struct cluster *c)
{
    for (int i = 0; i < MEMBERS; i++) {
        if (c->pid[i] > 0) {
            kill(c->pid[i], SIGKILL);
            waitpid(c->pid[i], NULL, 0);
            c->pid[i] = 0;
        }
        if (c->data_dir[i][0]) {
            char cmd[192];
            snprintf(cmd, sizeof(cmd), "rm -rf '%s'", c->data_dir[i]);
            if (system(cmd) != 0)
                fprintf(stderr, "could not remove %s\n", c->data_dir[i]);
            c->data_dir[i][0] = '\0';
        }
    }
}

static int cluster_start(struct cluster *c)
{
    memset(c, 0, sizeof(*c));
    char initial[512] = "";
    for (int i = 0; i < MEMBERS; i++) {
        /* (etcd_fixture_free_port never hands out a port twice.) */
        c->client_port[i] = etcd_fixture_free_port();
        c->peer_port[i] = etcd_fixture_free_port();
        if (c->client_port[i] < 0 || c->peer_port[i] < 0) {
            fprintf(stderr, "no free port\n");
            return -1;
        }
        snprintf(c->endpoint[i], sizeof(c->endpoint[i]), "127.0.0.1:%d", c->client_port[i]);
        size_t used = strlen(initial);
        snprintf(initial + used, sizeof(initial) - used, "%sm%d=http://127.0.0.1:%d", i ? "," : "",
                 i, c->peer_port[i]);
    }
    for (int i = 0; i < MEMBERS; i++) {
        snprintf(c->data_dir[i], sizeof(c->data_dir[i]), "/tmp/weft-test-etcd-XXXXXX");
        if (!mkdtemp(c->data_dir[i])) {
            perror("mkdtemp");
            return -1;
        }
        char name[16], client_url[64], peer_url[64];
        snprintf(name, sizeof(name), "m%d", i);
        snprintf(client_url, sizeof(client_url), "http://127.0.0.1:%d", c->client_port[i]);
        snprintf(peer_url, sizeof(peer_url), "http://127.0.0.1:%d", c->peer_port[i]);
        c->pid[i] = fork();
        if (c->pid[i] < 0) {
            perror("fork");
            return -1;
        }
        if (c->pid[i] == 0) {
            if (!getenv("WEFT_TEST_ETCD_LOG")) {
                int null_fd = open("/dev/null", O_WRONLY);
                dup2(null_fd, 1);
                dup2(null_fd, 2);
            }
            execlp("etcd", "etcd", "--name", name, "--data-dir", c->data_dir[i],
                   "--listen-client-urls", client_url, "--advertise-client-urls", client_url,
                   "--listen-peer-urls", peer_url, "--initial-advertise-peer-urls", peer_url,
                   "--initial-cluster", initial, "--initial-cluster-state", "new", (char *)NULL);
            _exit(127);
        }
    }
    return 0;
}

/* Index of the member that is leader, asking each member; -1 if none knows yet. */
static int cluster_leader(struct cluster *c)
{
    for (int i = 0; i < MEMBERS; i++) {
        struct etcd *one;
        struct weft_err err;
        if (c->pid[i] <= 0 || etcd_open(&one, c->endpoint[i], &err) < 0)
            continue;
        json_t *body = json_object(), *reply = NULL;
        int rc = etcd_call(one, "/v3/maintenance/status", body, &reply, NULL, &err);
        json_decref(body);
        etcd_close(one);
        /* Member IDs are unsigned 64-bit: compare them as the strings etcd sends. */
        const char *leader = json_string_value(json_object_get(reply, "leader"));
        const char *self =
            json_string_value(json_object_get(json_object_get(reply, "header"), "member_id"));
        bool is_leader = rc == 0 && leader && self && strcmp(leader, self) == 0;
        json_decref(reply);
        if (is_leader)
            return i;
    }
    return -1;
}

struct recorder {
    pthread_mutex_t lock;
    int puts, sync_begins, disconnects;
    bool seen[16];
};

static void record(void *ctx, const struct etcd_event *events, size_t count)
{
    struct recorder *r = ctx;
    pthread_mutex_lock(&r->lock);
    for (size_t i = 0; i < count; i++) {
        const struct etcd_event *ev = &events[i];
        if (ev->type == ETCD_EVENT_SYNC_BEGIN)
            r->sync_begins++;
        if (ev->type == ETCD_EVENT_DISCONNECTED)
            r->disconnects++;
        int n;
        if (ev->type == ETCD_EVENT_PUT && sscanf(ev->key, "/c/k%d", &n) == 1 && n >= 0 && n < 16)
            r->seen[n] = true;
    }
    pthread_mutex_unlock(&r->lock);
}

/* Runs as group setup so the teardown kills the members even when the test fails. */
static int group_setup(void **state)
{
    static struct cluster c;
    *state = &c;
    if (cluster_start(&c) < 0) {
        fprintf(stderr, "could not start the cluster\n");
        cluster_stop(&c);
        return -1;
    }
    return 0;
}

static int group_teardown(void **state)
{
    cluster_stop(*state);
    return 0;
}

static void test_killing_the_leader_is_invisible(void **state)
{
    struct cluster *cl = *state;
    int leader = -1;
    for (long deadline = now_ms() + 15000; leader < 0 && now_ms() < deadline;) {
        usleep(200 * 1000);
        leader = cluster_leader(cl);
    }
    if (leader < 0)
        fail_msg("the cluster elected no leader");
    /* Leader first: it is the member every request and the watch go to. */
    char endpoints[256];
    snprintf(endpoints, sizeof(endpoints), "%s,%s,%s", cl->endpoint[leader],
             cl->endpoint[(leader + 1) % MEMBERS], cl->endpoint[(leader + 2) % MEMBERS]);
    struct etcd *etcd;
    struct weft_err err = {0};
    assert_int_equal(etcd_open(&etcd, endpoints, &err), 0);
    struct recorder rec = {.lock = PTHREAD_MUTEX_INITIALIZER};
    struct etcd_watch *w;
    assert_int_equal(etcd_watch_start(etcd, "/c/", record, &rec, &w, &err), 0);
    assert_int_equal(etcd_put(etcd, "/c/k0", "before", 0, &err), 0);

    kill(cl->pid[leader], SIGKILL);
    waitpid(cl->pid[leader], NULL, 0);
    cl->pid[leader] = 0;

    int failed = 0;
    long worst = 0;
    for (int i = 1; i < 10; i++) {
        char key[16];
        snprintf(key, sizeof(key), "/c/k%d", i);
        long before = now_ms();
        if (etcd_put(etcd, key, "after", 0, &err) < 0) {
            fprintf(stderr, "put %s: %s\n", key, err.msg);
            failed++;
        }
        if (now_ms() - before > worst)
            worst = now_ms() - before;
    }
    fprintf(stderr, "slowest put across the election: %ld ms\n", worst);

    bool all_seen = false;
    for (long deadline = now_ms() + 5000; !all_seen && now_ms() < deadline;) {
        usleep(50 * 1000);
        pthread_mutex_lock(&rec.lock);
        all_seen = true;
        for (int i = 0; i < 10; i++)
            all_seen = all_seen && rec.seen[i];
        pthread_mutex_unlock(&rec.lock);
    }
    etcd_watch_stop(w);
    etcd_close(etcd);

    assert_int_equal(failed, 0);
    assert_true(all_seen);
    assert_int_equal(rec.sync_begins, 1); /* no resync */
    assert_int_equal(rec.disconnects, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_killing_the_leader_is_invisible),
    };
    return etcd_fixture_run_group(tests, group_setup, group_teardown);
}
