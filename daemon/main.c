/*
 * main.c: the weft command line and the daemon's life: parse flags, find the
 * advertise address, connect to etcd, adopt this host's state, serve Docker
 * on the plugin socket until SIGTERM/SIGINT, then stop cleanly while the data
 * plane keeps running.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin/admin.h"
#include "common/err.h"
#include "common/log.h"
#include "daemon/http.h"
#include "driver/api.h"
#include "fabric/fabric.h"
#include "common/addr.h"
#include "netlink/nl.h"
#include "store/etcd.h"

#define DEFAULT_STORE "etcd://127.0.0.1:2379"
#define DEFAULT_SOCKET "/run/docker/plugins/weft.sock"
#define DEFAULT_LEASE_TTL 15
#define DEFAULT_RECLAIM_AFTER 600
#define DEFAULT_STORE_TIMEOUT 2
/* How often the waiting main thread hands freed heap pages back to the kernel. */
#define TRIM_INTERVAL_S 1

struct daemon_options {
    const char *store;
    const char *advertise;
    const char *socket_path;
    int lease_ttl;
    int reclaim_after;
    int store_timeout; /* seconds per store request and member */
};

static void usage_main(FILE *out)
{
    fprintf(out, "weft: a multi-host overlay network for Docker (VXLAN, state in etcd)\n"
                 "\n"
                 "usage: weft daemon [flags]   run the Docker network and IPAM plugin\n"
                 "       weft admit HOST       give a host its own etcd user (weft admit --help)\n"
                 "       weft revoke HOST      remove a host's etcd user and its records\n"
                 "       weft --help           this text\n"
                 "\n"
                 "Run `weft daemon` on every host, then on each host:\n"
                 "  docker network create -d weft --ipam-driver weft --subnet 10.77.0.0/24 blue\n"
                 "Options for docker network create -o: vni=N (1..16777214), mtu=N.\n"
                 "`weft daemon --help` lists the daemon's flags.\n");
}

static void usage_daemon(FILE *out)
{
    fprintf(out,
            "usage: weft daemon [--store etcd://HOST:PORT[,HOST:PORT...]] [--advertise ADDR]\n"
            "                   [--socket PATH] [--lease-ttl SECONDS] [--reclaim-after SECONDS]\n"
            "                   [--store-timeout SECONDS]\n"
            "\n"
            "  --store URL        etcd members holding the cluster state (default %s);\n"
            "                     name several members of one cluster to survive losing one\n"
            "  --advertise ADDR   this host's underlay IPv4 address, the VXLAN tunnel endpoint\n"
            "                     other hosts send to (default: the address of the interface\n"
            "                     holding the default route)\n"
            "  --socket PATH      plugin socket Docker finds (default %s)\n"
            "  --lease-ttl SECS   how long this host's endpoints outlive a dead daemon in the\n"
            "                     store (default %d)\n"
            "  --reclaim-after SECS  how long a host must be gone before the addresses it\n"
            "                     held are given to others (default %d)\n"
            "  --store-timeout SECS  how long to wait for an etcd member's answer before\n"
            "                     trying the next or calling the store unreachable (default %d)\n"
            "  --help             this text\n"
            "\n"
            "SIGTERM or SIGINT stops the daemon; containers keep their connectivity.\n",
            DEFAULT_STORE, DEFAULT_SOCKET, DEFAULT_LEASE_TTL, DEFAULT_RECLAIM_AFTER,
            DEFAULT_STORE_TIMEOUT);
}

static int parse_daemon_options(int argc, char **argv, struct daemon_options *opts,
                                struct weft_err *err)
{
    static const struct option longopts[] = {{"store", required_argument, NULL, 's'},
                                             {"advertise", required_argument, NULL, 'a'},
                                             {"socket", required_argument, NULL, 'S'},
                                             {"lease-ttl", required_argument, NULL, 't'},
                                             {"reclaim-after", required_argument, NULL, 'r'},
                                             {"store-timeout", required_argument, NULL, 'T'},
                                             {"help", no_argument, NULL, 'h'},
                                             {NULL, 0, NULL, 0}};
    *opts = (struct daemon_options){DEFAULT_STORE,         NULL,
                                    DEFAULT_SOCKET,        DEFAULT_LEASE_TTL,
                                    DEFAULT_RECLAIM_AFTER, DEFAULT_STORE_TIMEOUT};
    opterr = 0;
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        switch (c) {
        case 's':
            opts->store = optarg;
            break;
        case 'a':
            opts->advertise = optarg;
            break;
        case 'S':
            opts->socket_path = optarg;
            break;
        case 't': {
            char *end;
            long ttl = strtol(optarg, &end, 10);
            if (*end || ttl < 2 || ttl > 3600)
                return weft_err_set(err, -EINVAL,
                                    "--lease-ttl must be a number of seconds from 2 to 3600");
            opts->lease_ttl = (int)ttl;
            break;
        }
        case 'r': {
            char *end;
            long seconds = strtol(optarg, &end, 10);
            if (*end || seconds < 1 || seconds > 30 * 24 * 3600)
                return weft_err_set(err, -EINVAL,
                                    "--reclaim-after must be a number of seconds from 1 to "
                                    "2592000");
            opts->reclaim_after = (int)seconds;
            break;
        }
        case 'T': {
            char *end;
            long seconds = strtol(optarg, &end, 10);
            if (*end || seconds < 1 || seconds > 300)
                return weft_err_set(err, -EINVAL,
                                    "--store-timeout must be a number of seconds from 1 to 300");
            opts->store_timeout = (int)seconds;
            break;
        }
        case 'h':
            usage_daemon(stdout);
            exit(0);
        default:
            return weft_err_set(err, -EINVAL,
                                "unknown or incomplete flag %s (see weft daemon --help)",
                                argv[optind - 1]);
        }
    }
    if (optind < argc)
        return weft_err_set(err, -EINVAL, "unexpected argument %s (see weft daemon --help)",
                            argv[optind]);
    if (strncmp(opts->store, "etcd://", 7) != 0)
        return weft_err_set(err, -EINVAL, "--store must look like etcd://HOST:PORT[,HOST:PORT...]");
    return 0;
}

/* Finds the VTEP address (flag or default route) and the MTU of its interface. */
static int find_underlay(const struct daemon_options *opts, char host[ADDR_STR_MAX], int *mtu,
                         struct weft_err *err)
{
    struct nl *nl;
    if (nl_open(&nl, err) < 0)
        return -1;
    int rc = -1;
    uint32_t ip_host_order, ip;
    char ifname[IF_NAMESIZE] = "";
    if (opts->advertise) {
        if (ipv4_parse(opts->advertise, &ip_host_order, err) < 0) {
            weft_err_wrap(err, "--advertise");
            goto out;
        }
        ip = htonl(ip_host_order);
        if (nl_addr_ifname(nl, ip, ifname, sizeof(ifname), err) < 0) {
            weft_err_wrap(err, "--advertise %s is not an address of this host", opts->advertise);
            goto out;
        }
    } else if (nl_default_route_addr(nl, &ip, ifname, sizeof(ifname), err) < 0) {
        weft_err_wrap(err, "cannot choose an advertise address (pass --advertise ADDR)");
        goto out;
    }
    ipv4_format(ntohl(ip), host);
    if (nl_link_get_mtu(nl, ifname, mtu, err) < 0)
        goto out;
    rc = 0;
out:
    nl_close(nl);
    return rc;
}

static int run_daemon(const struct daemon_options *opts)
{
    struct weft_err err = {0};
    char host[ADDR_STR_MAX];
    int underlay_mtu = 0;
    struct etcd *etcd = NULL;
    struct fabric *fabric = NULL;
    struct http_server *server = NULL;
    int status = 1;

    /* Block the stop signals in every thread; the main thread waits for them. */
    sigset_t stop_signals;
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGTERM);
    sigaddset(&stop_signals, SIGINT);
    pthread_sigmask(SIG_BLOCK, &stop_signals, NULL);
    signal(SIGPIPE, SIG_IGN);

    if (find_underlay(opts, host, &underlay_mtu, &err) < 0)
        goto fail;
    if (etcd_open(&etcd, opts->store + strlen("etcd://"), &err) < 0)
        goto fail;
    etcd_set_timeout_ms(etcd, opts->store_timeout * 1000L);
    struct fabric_config config = {etcd, host, underlay_mtu, opts->lease_ttl, opts->reclaim_after};
    if (fabric_open(&fabric, &config, &err) < 0)
        goto fail;
    struct driver_ctx ctx = {fabric, etcd, host};
    if (http_server_start(opts->socket_path, &ctx, &server, &err) < 0)
        goto fail;
    log_info("weft daemon ready", "socket=%s advertise=%s store=%s underlay_mtu=%d",
             opts->socket_path, host, opts->store, underlay_mtu);

    /* Bursts (listing the store, many connections at once) free megabytes that
     * glibc keeps resident between live chunks; hand them back while waiting. */
    const struct timespec trim_every = {TRIM_INTERVAL_S, 0};
    int sig;
    while ((sig = sigtimedwait(&stop_signals, NULL, &trim_every)) < 0) {
        if (errno == EAGAIN)
            malloc_trim(0);
    }
    log_info("stopping; the data plane stays up", "signal=%d", sig);
    status = 0;
    goto out;
fail:
    /* Logged once, here: the layer that decides the daemon cannot start. */
    log_error("weft daemon cannot start", "error=\"%s\"", err.msg);
out:
    if (server)
        http_server_stop(server);
    fabric_close(fabric);
    etcd_close(etcd);
    return status;
}

int main(int argc, char **argv)
{
    /* One malloc arena for all threads: with one per thread (up to 8 per core) each
     * connection thread leaves its own partly used heap behind; the tcache keeps the
     * shared lock off most calls. Must run before any thread starts. */
    mallopt(M_ARENA_MAX, 1);
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        usage_main(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    if (strcmp(argv[1], "admit") == 0)
        return admin_admit_main(argc - 1, argv + 1);
    if (strcmp(argv[1], "revoke") == 0)
        return admin_revoke_main(argc - 1, argv + 1);
    if (strcmp(argv[1], "daemon") != 0) {
        fprintf(stderr, "weft: unknown command %s (see weft --help)\n", argv[1]);
        return 2;
    }
    struct daemon_options opts;
    struct weft_err err;
    if (parse_daemon_options(argc - 1, argv + 1, &opts, &err) < 0) {
        fprintf(stderr, "weft: %s\n", err.msg);
        return 2;
    }
    return run_daemon(&opts);
}
