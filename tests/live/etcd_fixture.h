/*
 * etcd_fixture.h: a throwaway single-member etcd on loopback for tests.
 *
 * etcd_fixture_start() runs etcd on 127.0.0.1 with free ports and a fresh data
 * directory, waits until it answers, and fills endpoint ("127.0.0.1:PORT").
 * etcd_fixture_stop() kills that etcd by the pid it recorded and removes the
 * directory. etcd_fixture_kill() stops only the process and etcd_fixture_restart()
 * runs a new one on the same ports and data, for outage tests. Where etcd is
 * not installed, etcd_fixture_run_group() reports every test skipped, prints
 * "skipped: needs etcd" and exits 0. Header-only so each test program includes
 * it once.
 *
 * etcd_fixture_start_tls() runs it with TLS instead (issue 17): the certificates of
 * tests/lib/pki.sh in pki_dir (made by the caller), https for clients,
 * --client-cert-auth, simple auth tokens that expire after token_ttl seconds.
 *
 * etcd_fixture_start_on() and etcd_fixture_start_tls_on() with ipv6 run it on [::1]
 * instead (issue 12): endpoint is then "[::1]:PORT".
 */
#ifndef WEFT_ETCD_FIXTURE_H
#define WEFT_ETCD_FIXTURE_H

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tests/lib/group_skip.h"

struct etcd_fixture {
    pid_t pid;
    int client_port;
    int peer_port;
    char endpoint[64];
    char data_dir[128];
    char pki_dir[128];    /* empty: plain http */
    int token_ttl;        /* --auth-token-ttl, with pki_dir */
    char server_cert[32]; /* its certificate: pki_dir/NAME.pem and .key; "" is "server" */
    bool ipv6;            /* on [::1] rather than 127.0.0.1 */
};

/* The loopback address of either family, with port, for bind and connect. */
static inline socklen_t etcd_fixture_loopback(bool ipv6, int port, struct sockaddr_storage *ss)
{
    memset(ss, 0, sizeof(*ss));
    if (ipv6) {
        struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)ss;
        a6->sin6_family = AF_INET6;
        a6->sin6_port = htons((uint16_t)port);
        a6->sin6_addr = in6addr_loopback;
        return sizeof(*a6);
    }
    struct sockaddr_in *a4 = (struct sockaddr_in *)ss;
    a4->sin_family = AF_INET;
    a4->sin_port = htons((uint16_t)port);
    a4->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return sizeof(*a4);
}

/* Why no etcd can be started here, or NULL when an etcd is on PATH (as execlp finds it). */
static inline const char *etcd_fixture_missing(void)
{
    const char *path = getenv("PATH");
    char dir_path[4096], exe[4352];
    snprintf(dir_path, sizeof(dir_path), "%s", path ? path : "/usr/bin:/bin");
    char *save = NULL;
    for (char *dir = strtok_r(dir_path, ":", &save); dir; dir = strtok_r(NULL, ":", &save)) {
        snprintf(exe, sizeof(exe), "%s/etcd", dir);
        if (access(exe, X_OK) == 0)
            return NULL;
    }
    return "needs etcd (not found on PATH)";
}

/* cmocka_run_group_tests(), or every test skipped when etcd is not installed. */
#define etcd_fixture_run_group(tests, setup, teardown)                                             \
    group_run_or_skip(etcd_fixture_missing(), tests, setup, teardown)

/* Asks the kernel for a free TCP port on 127.0.0.1, or on ::1 with ipv6. The port
 * is released before it is used, and the kernel hands a just-released port out again
 * about once in ten thousand asks: one handed out lately by this process is never
 * given again, or a cluster's two members would collide on it. */
static inline int etcd_fixture_free_port_on(bool ipv6)
{
    static int recent[64];
    static unsigned handed;
    for (int tries = 0; tries < 16; tries++) {
        struct sockaddr_storage ss;
        socklen_t len = etcd_fixture_loopback(ipv6, 0, &ss);
        int fd = socket(ss.ss_family, SOCK_STREAM, 0);
        if (fd < 0 || bind(fd, (struct sockaddr *)&ss, len) < 0 ||
            getsockname(fd, (struct sockaddr *)&ss, &len) < 0) {
            if (fd >= 0)
                close(fd);
            return -1;
        }
        close(fd);
        int port = ntohs(ipv6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
                              : ((struct sockaddr_in *)&ss)->sin_port);
        bool again = false;
        for (unsigned i = 0; i < 64 && i < handed; i++)
            again = again || recent[i] == port;
        if (again)
            continue;
        recent[handed++ % 64] = port;
        return port;
    }
    return -1;
}

static inline int etcd_fixture_free_port(void)
{
    return etcd_fixture_free_port_on(false);
}

static inline int etcd_fixture_port_open_on(bool ipv6, int port)
{
    struct sockaddr_storage ss;
    socklen_t len = etcd_fixture_loopback(ipv6, port, &ss);
    int fd = socket(ss.ss_family, SOCK_STREAM, 0);
    int ok = fd >= 0 && connect(fd, (struct sockaddr *)&ss, len) == 0;
    if (fd >= 0)
        close(fd);
    return ok;
}

static inline int etcd_fixture_port_open(int port)
{
    return etcd_fixture_port_open_on(false, port);
}

/* Whether etcd on plain HTTP says it is healthy (GET /health: {"health":"true"}). */
static inline bool etcd_fixture_healthy(struct etcd_fixture *fx)
{
    struct sockaddr_storage ss;
    socklen_t len = etcd_fixture_loopback(fx->ipv6, fx->client_port, &ss);
    int fd = socket(ss.ss_family, SOCK_STREAM, 0);
    if (fd < 0)
        return false;
    struct timeval tv = {.tv_sec = 2};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    char answer[1024];
    size_t got = 0;
    static const char ask[] = "GET /health HTTP/1.0\r\n\r\n";
    if (connect(fd, (struct sockaddr *)&ss, len) == 0 &&
        write(fd, ask, sizeof(ask) - 1) == (ssize_t)(sizeof(ask) - 1)) {
        ssize_t n;
        while (got < sizeof(answer) - 1 &&
               (n = read(fd, answer + got, sizeof(answer) - 1 - got)) > 0)
            got += (size_t)n;
    }
    close(fd);
    answer[got] = '\0';
    return strstr(answer, " 200 ") && strstr(answer, "\"health\":\"true\"");
}

/* etcd's TLS flags for the fixture's certificates into args (from index n); the new count. */
static inline int etcd_fixture_tls_args(struct etcd_fixture *fx, char files[3][192], char *ttl,
                                        const char **args, int n)
{
    const char *name = fx->server_cert[0] ? fx->server_cert : "server";
    snprintf(files[0], 192, "%s/%s.pem", fx->pki_dir, name);
    snprintf(files[1], 192, "%s/%s.key", fx->pki_dir, name);
    snprintf(files[2], 192, "%s/ca.pem", fx->pki_dir);
    snprintf(ttl, 16, "%d", fx->token_ttl > 0 ? fx->token_ttl : 300);
    const char *more[] = {"--cert-file",
                          files[0],
                          "--key-file",
                          files[1],
                          "--trusted-ca-file",
                          files[2],
                          "--client-cert-auth",
                          "--auth-token",
                          "simple",
                          "--auth-token-ttl",
                          ttl};
    for (size_t i = 0; i < sizeof(more) / sizeof(more[0]); i++)
        args[n++] = more[i];
    return n;
}

/* Runs etcd on the recorded ports and data directory and waits until it answers. */
static inline int etcd_fixture_spawn(struct etcd_fixture *fx)
{
    char client_url[64], peer_url[64], cluster[96], files[3][192], ttl[16];
    const char *args[40];
    int n = 0;
    const char *host = fx->ipv6 ? "[::1]" : "127.0.0.1";
    snprintf(client_url, sizeof(client_url), "%s://%s:%d", fx->pki_dir[0] ? "https" : "http", host,
             fx->client_port);
    snprintf(peer_url, sizeof(peer_url), "http://%s:%d", host, fx->peer_port);
    snprintf(cluster, sizeof(cluster), "kv=%s", peer_url);
    fx->pid = fork();
    if (fx->pid < 0)
        return -1;
    if (fx->pid == 0) {
        /* A test killed by a signal runs no teardown: its etcd goes with it. */
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (!getenv("WEFT_TEST_ETCD_LOG")) {
            int null_fd = open("/dev/null", O_WRONLY);
            dup2(null_fd, 1);
            dup2(null_fd, 2);
        }
        const char *base[] = {"etcd",       "--name",
                              "kv",         "--data-dir",
                              fx->data_dir, "--listen-client-urls",
                              client_url,   "--advertise-client-urls",
                              client_url,   "--listen-peer-urls",
                              peer_url,     "--initial-advertise-peer-urls",
                              peer_url,     "--initial-cluster",
                              cluster};
        for (size_t i = 0; i < sizeof(base) / sizeof(base[0]); i++)
            args[n++] = base[i];
        if (fx->pki_dir[0])
            n = etcd_fixture_tls_args(fx, files, ttl, args, n);
        args[n] = NULL;
        execvp("etcd", (char *const *)args);
        _exit(127);
    }
    for (int i = 0; i < 200; i++) { /* up to 10 s */
        if (etcd_fixture_port_open_on(fx->ipv6, fx->client_port)) {
            /* Plain HTTP: until etcd says it is healthy (under load a put 200 ms after
             * the port opened has failed). TLS: the gateway answers shortly after. */
            if (!fx->pki_dir[0])
                for (; i < 200 && !etcd_fixture_healthy(fx); i++)
                    usleep(50 * 1000);
            else
                usleep(200 * 1000);
            return i < 200 ? 0 : -1;
        }
        usleep(50 * 1000);
    }
    return -1;
}

/* The ports and data directory for a new etcd on 127.0.0.1 (on [::1] with ipv6),
 * not yet started. */
static inline int etcd_fixture_prepare_on(struct etcd_fixture *fx, bool ipv6)
{
    memset(fx, 0, sizeof(*fx));
    fx->ipv6 = ipv6;
    fx->peer_port = etcd_fixture_free_port_on(ipv6);
    fx->client_port = etcd_fixture_free_port_on(ipv6);
    if (fx->peer_port < 0 || fx->client_port < 0 || fx->peer_port == fx->client_port)
        return -1;
    snprintf(fx->data_dir, sizeof(fx->data_dir), "/tmp/weft-test-etcd-XXXXXX");
    if (!mkdtemp(fx->data_dir))
        return -1;
    snprintf(fx->endpoint, sizeof(fx->endpoint), ipv6 ? "[::1]:%d" : "127.0.0.1:%d",
             fx->client_port);
    return 0;
}

static inline int etcd_fixture_prepare(struct etcd_fixture *fx)
{
    return etcd_fixture_prepare_on(fx, false);
}

static inline int etcd_fixture_start_on(struct etcd_fixture *fx, bool ipv6)
{
    return etcd_fixture_prepare_on(fx, ipv6) < 0 ? -1 : etcd_fixture_spawn(fx);
}

static inline int etcd_fixture_start(struct etcd_fixture *fx)
{
    return etcd_fixture_start_on(fx, false);
}

/* etcd with TLS: pki_dir holds tests/lib/pki.sh's certificates. */
static inline int etcd_fixture_start_tls_on(struct etcd_fixture *fx, const char *pki_dir,
                                            int token_ttl, bool ipv6)
{
    if (etcd_fixture_prepare_on(fx, ipv6) < 0)
        return -1;
    snprintf(fx->pki_dir, sizeof(fx->pki_dir), "%s", pki_dir);
    fx->token_ttl = token_ttl;
    return etcd_fixture_spawn(fx);
}

static inline int etcd_fixture_start_tls(struct etcd_fixture *fx, const char *pki_dir,
                                         int token_ttl)
{
    return etcd_fixture_start_tls_on(fx, pki_dir, token_ttl, false);
}

/* Stops the etcd process (by its recorded pid), keeping ports and data for a restart. */
static inline void etcd_fixture_kill(struct etcd_fixture *fx)
{
    if (fx->pid > 0) {
        kill(fx->pid, SIGTERM);
        waitpid(fx->pid, NULL, 0);
        fx->pid = 0;
    }
}

/* Freezes etcd (SIGSTOP) and returns once every one of its threads has stopped:
 * kill() only queues the stop, and under load a thread still running could answer
 * one more request. Its parent (this process) hears of the stop when the whole
 * group is stopped. Returns -1 if it did not stop. */
static inline int etcd_fixture_freeze(struct etcd_fixture *fx)
{
    int status = 0;
    if (fx->pid <= 0 || kill(fx->pid, SIGSTOP) < 0)
        return -1;
    if (waitpid(fx->pid, &status, WUNTRACED) != fx->pid || !WIFSTOPPED(status))
        return -1;
    return 0;
}

/* A new etcd process on the same ports and data directory. */
static inline int etcd_fixture_restart(struct etcd_fixture *fx)
{
    etcd_fixture_kill(fx);
    return etcd_fixture_spawn(fx);
}

static inline void etcd_fixture_stop(struct etcd_fixture *fx)
{
    etcd_fixture_kill(fx);
    if (fx->data_dir[0]) {
        char cmd[192];
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", fx->data_dir);
        if (system(cmd) != 0)
            fprintf(stderr, "could not remove %s\n", fx->data_dir);
        fx->data_dir[0] = '\0';
    }
}

#endif
