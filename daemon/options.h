/*
 * options.h: what `weft daemon` is told, by its flags and by the environment.
 *
 * Owns: the daemon's flags, the WEFT_* variable that stands for each (for systemd
 * units and a managed plugin, which cannot pass flags; a flag beats its variable),
 * their defaults, and the checks that need no file or network (a TLS file with a
 * plain etcd:// store, a certificate without its key, a user without a password
 * file). Files are read later, at start-up (common/secret_file.h). Callers:
 * daemon/main.c, tests. Not thread-safe (getopt): call it from main only.
 */
#ifndef WEFT_DAEMON_OPTIONS_H
#define WEFT_DAEMON_OPTIONS_H

#include <stdbool.h>
#include <stdio.h>

#include "common/err.h"

#define DAEMON_DEFAULT_STORE "etcd://127.0.0.1:2379"
#define DAEMON_DEFAULT_SOCKET "/run/docker/plugins/weft.sock"
#define DAEMON_DEFAULT_LEASE_TTL 15
#define DAEMON_DEFAULT_RECLAIM_AFTER 600
#define DAEMON_DEFAULT_STORE_TIMEOUT 2
#define DAEMON_ENDPOINTS_MAX 1024
#define DAEMON_DEFAULT_RESOLV_CONF "/etc/resolv.conf"
#define DAEMON_DEFAULT_DOCKER_SOCKET "/var/run/docker.sock"
#define DAEMON_DEFAULT_TUNNEL_PORT 4790 /* datapath.h: DATAPATH_UDP_PORT */
/* `weft status`'s socket (daemon/control.h). Not under /run/docker/plugins: Docker takes
 * every socket there for a plugin and would try to activate it. */
#define DAEMON_DEFAULT_CONTROL_SOCKET "/run/weft/control.sock"

/* Strings are borrowed from argv or the environment, which outlive the daemon. */
struct daemon_options {
    const char *store;                    /* --store as given */
    char endpoints[DAEMON_ENDPOINTS_MAX]; /* its members, "host:port[,host:port...]" */
    bool store_tls;                       /* etcds:// (or https://) */
    const char *store_ca;                 /* NULL: the system's CAs */
    const char *store_cert;               /* with store_key, or neither */
    const char *store_key;
    const char *store_user; /* with store_password_file, or neither */
    const char *store_password_file;
    const char *advertise; /* NULL: the default route's address */
    const char *socket_path;
    int lease_ttl;
    int reclaim_after;
    int store_timeout; /* seconds per store request and member */
    const char *store_watch;           /* "gateway", "grpc" or "grpc-fabric"; NULL: gateway */
    bool store_watch_grpc;             /* --store-watch grpc or grpc-fabric */
    bool store_watch_members;          /* --store-watch grpc: per-member watches */
    const char *store_watch_endpoints; /* grpc's HOST:PORT[,...]; NULL: the members */
    const char *resolv_conf;   /* the host's resolvers, for names not the overlays' */
    const char *docker_socket; /* the local Docker Engine API: containers' names */
    const char *secret_file;   /* the cluster secret of encrypted overlays; NULL: none */
    int tunnel_port;           /* UDP port of encrypted overlays */
    const char *log_format;    /* "logfmt" or "json"; NULL: logfmt */
    const char *metrics;       /* HOST:PORT serving /metrics; NULL: off */
    const char *control_socket; /* `weft status`'s socket, root-only */
};

/* daemon_options_parse's answer when --help was asked (nothing else is checked). */
#define DAEMON_OPTIONS_HELP 1

/* Parses argv (argv[0] is "daemon") and the WEFT_* variables into opts. Returns 0,
 * DAEMON_OPTIONS_HELP, or -1 with err (-EINVAL) saying which flag or variable is
 * wrong. A message never repeats what followed a password-like flag. */
int daemon_options_parse(int argc, char **argv, struct daemon_options *opts, struct weft_err *err);

/* The text of `weft daemon --help`: every flag and its variable. */
void daemon_options_usage(FILE *out);

#endif
