/*
 * main.c: the weft command line and the daemon's life: parse flags, find the
 * advertise address, connect to etcd, adopt this host's state, serve Docker
 * on the plugin socket until SIGTERM/SIGINT, then stop cleanly while the data
 * plane keeps running.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin/admin.h"
#include "admin/status.h"
#include "daemon/control.h"
#include "common/err.h"
#include "common/log.h"
#include "common/secret_file.h"
#include "daemon/http.h"
#include "daemon/metrics_http.h"
#include "daemon/options.h"
#include "daemon/sd_notify.h"
#include "dns/resolver.h"
#include "docker/follower.h"
#include "driver/api.h"
#include "fabric/fabric.h"
#include "common/addr.h"
#include "common/addr6.h"
#include "common/ip_addr.h"
#include "netlink/nl.h"
#include "store/etcd.h"
#include "tunnel/cluster_secret.h"
#include "tunnel/peer_table.h"

/* How often the waiting main thread hands freed heap pages back to the kernel. */
#define TRIM_INTERVAL_S 1
/* Encrypted packets dropped are logged at most this often (in TRIM_INTERVAL_S ticks). */
#define DROP_REPORT_TICKS 5

static void usage_main(FILE *out)
{
    fprintf(out, "weft: a multi-host overlay network for Docker (VXLAN, state in etcd)\n"
                 "\n"
                 "usage: weft daemon [flags]   run the Docker network and IPAM plugin\n"
                 "       weft admit HOST       give a host its own etcd user (weft admit --help)\n"
                 "       weft revoke HOST      remove a host's etcd user and its records\n"
                 "       weft keygen           print a new cluster secret (encrypted overlays)\n"
                 "       weft status           what the running daemon knows (weft status --help)\n"
                 "       weft --help           this text\n"
                 "\n"
                 "Run `weft daemon` on every host, then on each host:\n"
                 "  docker network create -d weft --ipam-driver weft --subnet 10.77.0.0/24 blue\n"
                 "Options for docker network create -o: vni=N (1..16777214), mtu=N.\n"
                 "`weft daemon --help` lists the daemon's flags.\n");
}

/* --advertise: dotted IPv4, or an IPv6 unicast address (an IPv6 underlay, issue 12). */
static int parse_advertise(const char *text, struct ip_addr *ip, struct weft_err *err)
{
    uint32_t ip_host_order;
    if (addr_text_is_ipv6(text) ? ip_addr_parse(text, ip, err) < 0
                                : ipv4_parse(text, &ip_host_order, err) < 0)
        return weft_err_wrap(err, "--advertise");
    if (!addr_text_is_ipv6(text))
        *ip = ip_addr_from_ipv4(htonl(ip_host_order));
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
    struct ip_addr ip;
    char ifname[IF_NAMESIZE] = "";
    if (opts->advertise) {
        if (parse_advertise(opts->advertise, &ip, err) < 0)
            goto out;
        if (nl_addr_ifname(nl, &ip, ifname, sizeof(ifname), err) < 0) {
            weft_err_wrap(err, "--advertise %s is not an address of this host", opts->advertise);
            goto out;
        }
    } else if (nl_default_route_addr(nl, &ip, ifname, sizeof(ifname), err) < 0) {
        weft_err_wrap(err, "cannot choose an advertise address (pass --advertise ADDR)");
        goto out;
    }
    ip_addr_format(&ip, host);
    if (nl_link_get_mtu(nl, ifname, mtu, err) < 0)
        goto out;
    rc = 0;
out:
    nl_close(nl);
    return rc;
}

/* Opens the store as the options say. The key file's mode is checked before libcurl
 * reads it; the password lives in memory from its file until etcd_open_config has
 * copied it, then is wiped. */
static int open_store(const struct daemon_options *opts, struct etcd **out, struct weft_err *err)
{
    if (opts->store_key && secret_file_check(opts->store_key, err) < 0)
        return weft_err_wrap(err, "--store-key");
    char *password = NULL;
    if (opts->store_password_file &&
        secret_password_read(opts->store_password_file, &password, err) < 0)
        return weft_err_wrap(err, "--store-password-file");
    const struct etcd_config config = {
        .endpoints = opts->endpoints,
        .tls = opts->store_tls,
        .ca_file = opts->store_ca,
        .cert_file = opts->store_cert,
        .key_file = opts->store_key,
        .user = opts->store_user,
        .password = password,
        .timeout_ms = opts->store_timeout * 1000L,
        .watch_grpc = opts->store_watch_grpc,
        .watch_endpoints = opts->store_watch_endpoints,
    };
    int rc = etcd_open_config(out, &config, err);
    secret_password_free(password);
    if (rc < 0)
        return -1;
    if (opts->store_user && !opts->store_tls)
        log_warn("the store password and token cross the network in clear; use etcds://", "user=%s",
                 opts->store_user);
    return 0;
}

/* What to check when the store refused weft at start-up ("" when it did not). */
static const char *store_refusal_hint(int code)
{
    if (code == -EACCES)
        return " hint=\"check --store-user, --store-password-file and the user's role in etcd\"";
    if (code == -EKEYREJECTED)
        return " hint=\"check --store-ca, --store-cert and --store-key against etcd's "
               "certificates\"";
    return "";
}

/* Reads the cluster secret and makes this run's key pair and sessions table. */
static int open_tunnel(const struct daemon_options *opts, const char *host,
                       struct tunnel_secret **secret, struct tunnel_peer_table **tunnel,
                       struct weft_err *err)
{
    struct ip_addr vtep;
    if (tunnel_secret_read(opts->secret_file, secret, err) < 0)
        return weft_err_wrap(err, "--secret-file");
    if (ip_addr_parse(host, &vtep, err) < 0 ||
        tunnel_peer_table_new(*secret, &vtep, tunnel, err) < 0)
        return -1;
    /* Tests only: rekey every N packets (instead of 2^48) to exercise it quickly. */
    const char *rekey = getenv("WEFT_TEST_REKEY_PACKETS");
    if (rekey && *rekey) {
        unsigned long long packets = strtoull(rekey, NULL, 10);
        if (packets > 0) {
            tunnel_peer_table_set_packet_limit(*tunnel, packets);
            log_warn("rekeying every few packets (WEFT_TEST_REKEY_PACKETS): tests only",
                     "packets=%llu", packets);
        }
    }
    return 0;
}

/* The Docker follower's names, into the fabric (docker/follower.h's callback). */
static int take_names(void *fabric, const char *network_id, const char *endpoint_id,
                      const char *names)
{
    struct weft_err err = {0};
    if (fabric_endpoint_set_names(fabric, network_id, endpoint_id, names, &err) == 0)
        return 0;
    if (err.code == -EINVAL)
        log_warn("container names refused", "endpoint=%.12s error=\"%s\"", endpoint_id, err.msg);
    return err.code == -EAGAIN ? -EAGAIN : -ENOENT;
}

/* Until a stop signal, which it returns. Bursts (listing the store, many connections
 * at once) free megabytes that glibc keeps resident between live chunks: handed back
 * every tick; encrypted packets dropped are reported every few. */
static int wait_for_stop(const sigset_t *stop_signals, struct tunnel_peer_table *tunnel)
{
    const struct timespec trim_every = {TRIM_INTERVAL_S, 0};
    int sig;
    unsigned ticks = 0;
    while ((sig = sigtimedwait(stop_signals, NULL, &trim_every)) < 0) {
        if (errno != EAGAIN)
            continue;
        malloc_trim(0);
        if (tunnel && ++ticks % DROP_REPORT_TICKS == 0)
            tunnel_peer_table_report(tunnel);
    }
    return sig;
}

/* Blocks the stop signals in every thread (the main thread waits for them in
 * wait_for_stop) and ignores SIGPIPE. Before any thread starts. */
static void block_stop_signals(sigset_t *stop_signals)
{
    sigemptyset(stop_signals);
    sigaddset(stop_signals, SIGTERM);
    sigaddset(stop_signals, SIGINT);
    pthread_sigmask(SIG_BLOCK, stop_signals, NULL);
    signal(SIGPIPE, SIG_IGN);
}

/* Under systemd (Type=notify): a failed notification is worth a warning, not a stop
 * (systemd then times the start out and says so itself). */
static void notify_systemd(const char *state)
{
    struct weft_err err = {0};
    if (sd_notify_state(state, &err) < 0)
        log_warn("could not notify systemd", "state=%s error=\"%s\"", state, err.msg);
}

/* The plugin and control sockets answer: the log says so, and systemd may start
 * dockerd (ordered after weft.service). */
static void announce_ready(const struct daemon_options *opts, const char *host, int underlay_mtu)
{
    log_info("weft daemon ready", "socket=%s advertise=%s store=%s underlay_mtu=%d",
             opts->socket_path, host, opts->store, underlay_mtu);
    notify_systemd("READY=1");
}

static int run_daemon(const struct daemon_options *opts)
{
    struct weft_err err = {0};
    char host[ADDR_STR_MAX];
    int underlay_mtu = 0;
    struct etcd *etcd = NULL;
    struct fabric *fabric = NULL;
    struct resolver *resolver = NULL;
    struct docker_follower *follower = NULL;
    struct http_server *server = NULL;
    struct control_server *control = NULL; /* `weft status`'s root-only socket */
    struct metrics_http *metrics = NULL;
    struct tunnel_secret *secret = NULL;
    struct tunnel_peer_table *tunnel = NULL;
    int status = 1;
    bool talking_to_store = false;

    sigset_t stop_signals;
    block_stop_signals(&stop_signals);

    if (find_underlay(opts, host, &underlay_mtu, &err) < 0)
        goto fail;
    if (opts->metrics && metrics_http_start(opts->metrics, &metrics, &err) < 0)
        goto fail;
    /* A store that refuses weft's user or certificate (-EACCES, -EKEYREJECTED), here or
     * at fabric_open's first calls, ends the start-up like an unreachable one: status 1. */
    talking_to_store = true;
    if (open_store(opts, &etcd, &err) < 0)
        goto fail;
    if (resolver_open(&resolver, opts->resolv_conf, &err) < 0)
        goto fail;
    if (opts->secret_file && open_tunnel(opts, host, &secret, &tunnel, &err) < 0)
        goto fail;
    struct fabric_config config = {etcd,
                                   host,
                                   underlay_mtu,
                                   opts->lease_ttl,
                                   opts->reclaim_after,
                                   {resolver_overlay_up, resolver_overlay_down, resolver},
                                   tunnel,
                                   (uint16_t)opts->tunnel_port,
                                   opts->store_watch_members};
    if (fabric_open(&fabric, &config, &err) < 0)
        goto fail;
    talking_to_store = false;
    resolver_set_fabric(resolver, fabric);
    if (docker_follower_start(&follower, opts->docker_socket, take_names, fabric, &err) < 0)
        goto fail;
    struct driver_ctx ctx = {fabric, etcd, host};
    if (http_server_start(opts->socket_path, &ctx, &server, &err) < 0)
        goto fail;
    if (control_start(opts->control_socket, fabric, &control, &err) < 0)
        goto fail;
    announce_ready(opts, host, underlay_mtu);

    int sig = wait_for_stop(&stop_signals, tunnel);
    log_info("stopping; the data plane stays up", "signal=%d", sig);
    notify_systemd("STOPPING=1");
    status = 0;
    goto out;
fail:
    /* Logged once, here: the layer that decides the daemon cannot start. */
    log_error("weft daemon cannot start", "error=\"%s\"%s", err.msg,
              talking_to_store ? store_refusal_hint(err.code) : "");
out:
    control_stop(control);
    if (server)
        http_server_stop(server);
    metrics_http_stop(metrics);
    if (follower)
        docker_follower_stop(follower);
    fabric_close(fabric); /* stops the data path before its sessions go */
    if (tunnel)
        tunnel_peer_table_free(tunnel);
    tunnel_secret_free(secret);
    if (resolver)
        resolver_close(resolver);
    etcd_close(etcd);
    return status;
}

/* `weft daemon ...`: argv[0] is "daemon". Exit status 2 for a usage error. */
static int daemon_main(int argc, char **argv)
{
    struct daemon_options opts;
    struct weft_err err = {0};
    int rc = daemon_options_parse(argc, argv, &opts, &err);
    if (rc == DAEMON_OPTIONS_HELP) {
        daemon_options_usage(stdout);
        return 0;
    }
    if (rc < 0) {
        fprintf(stderr, "weft: %s\n", err.msg);
        return 2;
    }
    /* Chosen here, before any thread logs (checked by daemon_options_parse). */
    log_set_format(opts.log_format ? opts.log_format : "logfmt");
    return run_daemon(&opts);
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
    if (strcmp(argv[1], "status") == 0)
        return admin_status_main(argc - 1, argv + 1);
    if (strcmp(argv[1], "keygen") == 0)
        return tunnel_keygen_main(argc - 1, argv + 1);
    if (strcmp(argv[1], "daemon") != 0) {
        fprintf(stderr, "weft: unknown command %s (see weft --help)\n", argv[1]);
        return 2;
    }
    return daemon_main(argc - 1, argv + 1);
}
