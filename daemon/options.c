/*
 * options.c: `weft daemon`'s flags and their WEFT_* variables (see options.h).
 * One table names each setting's flag and variable; the flags are read first and
 * a variable only fills what no flag set, so a bad variable that a flag overrides
 * is never looked at.
 */
#include "daemon/options.h"

#include <getopt.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "store/etcd.h"

/* One line per setting: its flag, its variable, the field it fills; a number of
 * seconds has a range (min > 0), anything else is a string kept as given. */
static const struct setting {
    const char *flag; /* without "--" */
    const char *env;
    size_t field; /* offsetof(struct daemon_options, ...) */
    long min, max;
    const char *unit; /* a number's, for a refusal: "seconds", "a UDP port" */
} settings[] = {
#define TEXT(flag, env, field)                                                                     \
    {                                                                                              \
        flag, env, offsetof(struct daemon_options, field), 0, 0, NULL                              \
    }
#define NUMBER(flag, env, field, min, max, unit)                                                   \
    {                                                                                              \
        flag, env, offsetof(struct daemon_options, field), min, max, unit                          \
    }
#define SECONDS(flag, env, field, min, max) NUMBER(flag, env, field, min, max, "a number of seconds")
    TEXT("store", "WEFT_STORE", store),
    TEXT("store-ca", "WEFT_STORE_CA", store_ca),
    TEXT("store-cert", "WEFT_STORE_CERT", store_cert),
    TEXT("store-key", "WEFT_STORE_KEY", store_key),
    TEXT("store-user", "WEFT_STORE_USER", store_user),
    TEXT("store-password-file", "WEFT_STORE_PASSWORD_FILE", store_password_file),
    TEXT("advertise", "WEFT_ADVERTISE", advertise),
    TEXT("socket", "WEFT_SOCKET", socket_path),
    SECONDS("lease-ttl", "WEFT_LEASE_TTL", lease_ttl, 2, 3600),
    SECONDS("reclaim-after", "WEFT_RECLAIM_AFTER", reclaim_after, 1, 30 * 24 * 3600),
    SECONDS("store-timeout", "WEFT_STORE_TIMEOUT", store_timeout, 1, 300),
    TEXT("store-watch", "WEFT_STORE_WATCH", store_watch),
    TEXT("store-watch-endpoints", "WEFT_STORE_WATCH_ENDPOINTS", store_watch_endpoints),
    TEXT("resolv-conf", "WEFT_RESOLV_CONF", resolv_conf),
    TEXT("docker-socket", "WEFT_DOCKER_SOCKET", docker_socket),
    TEXT("secret-file", "WEFT_SECRET_FILE", secret_file),
    NUMBER("tunnel-port", "WEFT_TUNNEL_PORT", tunnel_port, 1, 65535, "a UDP port number"),
    TEXT("log-format", "WEFT_LOG_FORMAT", log_format),
    TEXT("metrics", "WEFT_METRICS", metrics),
    TEXT("control-socket", "WEFT_CONTROL_SOCKET", control_socket), /* weft status (issue 13) */
#undef TEXT
#undef SECONDS
#undef NUMBER
};
#define SETTING_COUNT (sizeof(settings) / sizeof(settings[0]))

/* getopt's code for setting i; below it, the flags that are not settings. */
#define SETTING_VAL(i) (256 + (int)(i))
#define VAL_HELP 'h'
#define VAL_STORE_PASSWORD 'P'

void daemon_options_usage(FILE *out)
{
    fprintf(out,
            "usage: weft daemon [flags]\n"
            "Each flag has an environment variable (in brackets) for systemd units and a\n"
            "managed plugin; a flag given beats its variable.\n"
            "\n"
            "  --store URL        [WEFT_STORE] etcd members holding the cluster state:\n"
            "                     etcd://HOST:PORT[,HOST:PORT...] (plain HTTP) or\n"
            "                     etcds://HOST:PORT[,...] (TLS) (default %s);\n"
            "                     name several members of one cluster to survive losing one\n"
            "                     (an IPv6 address in brackets: etcd://[fd00::5]:2379)\n"
            "  --store-ca FILE    [WEFT_STORE_CA] CA bundle (PEM) etcd's certificates must\n"
            "                     chain to (default: the system's CAs); etcds:// only\n"
            "  --store-cert FILE  [WEFT_STORE_CERT] client certificate (PEM) for etcd's\n"
            "                     --client-cert-auth; needs --store-key; etcds:// only\n"
            "  --store-key FILE   [WEFT_STORE_KEY] its private key (PEM), mode 0600 or stricter\n"
            "  --store-user NAME  [WEFT_STORE_USER] etcd user weft logs in as; needs\n"
            "                     --store-password-file\n"
            "  --store-password-file FILE  [WEFT_STORE_PASSWORD_FILE] the user's password\n"
            "                     (one trailing newline ignored), mode 0600 or stricter; the\n"
            "                     password itself is never a flag\n"
            "  --advertise ADDR   [WEFT_ADVERTISE] this host's underlay address, IPv4 or IPv6\n"
            "                     (an IPv6-only underlay; all hosts of a cluster in one\n"
            "                     family), the VXLAN tunnel endpoint other hosts send to\n"
            "                     (default: the address of the interface holding the IPv4\n"
            "                     default route, else the IPv6 one's global address)\n"
            "  --socket PATH      [WEFT_SOCKET] plugin socket Docker finds (default %s)\n"
            "  --lease-ttl SECS   [WEFT_LEASE_TTL] how long this host's endpoints outlive a\n"
            "                     dead daemon in the store (default %d)\n"
            "  --reclaim-after SECS  [WEFT_RECLAIM_AFTER] how long a host must be gone before\n"
            "                     the addresses it held are given to others (default %d)\n"
            "  --store-timeout SECS  [WEFT_STORE_TIMEOUT] how long to wait for an etcd\n"
            "                     member's answer before trying the next or calling the store\n"
            "                     unreachable (default %d)\n"
            "  --store-watch grpc|grpc-fabric|gateway  [WEFT_STORE_WATCH] how the daemon\n"
            "                     watches the store: grpc (default): over etcd's gRPC Watch\n"
            "                     API, only the records of the overlays this host is in (per\n"
            "                     member); grpc-fabric: all of fabric/ over gRPC; gateway:\n"
            "                     all of fabric/ through etcd's JSON gateway (HTTP/1.1 only).\n"
            "                     An etcd grpc-proxy can fan the gRPC watches out to many hosts\n"
            "  --store-watch-endpoints HOST:PORT[,...]  [WEFT_STORE_WATCH_ENDPOINTS] where\n"
            "                     the gRPC watch connects, e.g. a grpc-proxy (default: the\n"
            "                     --store members; TLS and user as for them); gRPC only\n"
            "  --resolv-conf FILE [WEFT_RESOLV_CONF] the host's resolvers, to which weft's\n"
            "                     resolver (at each overlay's gateway address) forwards the\n"
            "                     names that are not the overlay's (default %s)\n"
            "  --docker-socket PATH  [WEFT_DOCKER_SOCKET] the local Docker Engine API, where\n"
            "                     weft reads containers' names and aliases (default %s)\n"
            "  --secret-file FILE [WEFT_SECRET_FILE] the cluster secret (`weft keygen`, the\n"
            "                     same file on every host, mode 0600) that encrypted overlays\n"
            "                     (-o encrypted) need; without it they are refused\n"
            "  --tunnel-port PORT [WEFT_TUNNEL_PORT] UDP port of encrypted overlays' traffic\n"
            "                     between hosts, the same on every host (default %d)\n"
            "  --log-format FORMAT  [WEFT_LOG_FORMAT] logfmt (default) or json: one JSON\n"
            "                     object per line on stderr, same keys (ts, level, msg, ...)\n"
            "  --metrics HOST:PORT  [WEFT_METRICS] serve Prometheus metrics on\n"
            "                     http://HOST:PORT/metrics (default: off); no authentication:\n"
            "                     use a loopback or management address, e.g. 127.0.0.1:9776\n"
            "  --control-socket PATH  [WEFT_CONTROL_SOCKET] root-only socket `weft status`\n"
            "                     asks (default " DAEMON_DEFAULT_CONTROL_SOCKET ")\n"
            "  --help             this text\n"
            "\n"
            "SIGTERM or SIGINT stops the daemon; containers keep their connectivity.\n"
            "A store that refuses weft's user or certificate stops the start-up (status 1).\n",
            DAEMON_DEFAULT_STORE, DAEMON_DEFAULT_SOCKET, DAEMON_DEFAULT_LEASE_TTL,
            DAEMON_DEFAULT_RECLAIM_AFTER, DAEMON_DEFAULT_STORE_TIMEOUT, DAEMON_DEFAULT_RESOLV_CONF,
            DAEMON_DEFAULT_DOCKER_SOCKET, DAEMON_DEFAULT_TUNNEL_PORT);
}

/* Sets one setting from value; source ("--lease-ttl" or "WEFT_LEASE_TTL") names it
 * in a refusal. */
static int apply_setting(struct daemon_options *opts, const struct setting *setting,
                         const char *value, const char *source, struct weft_err *err)
{
    char *field = (char *)opts + setting->field;
    if (setting->min == 0) {
        memcpy(field, &value, sizeof(value)); /* a const char * member */
        return 0;
    }
    char *end;
    errno = 0;
    long seconds = strtol(value, &end, 10);
    if (!*value || *end || errno || seconds < setting->min || seconds > setting->max)
        return weft_err_set(err, -EINVAL, "%s must be %s from %ld to %ld", source, setting->unit,
                            setting->min, setting->max);
    *(int *)(void *)field = (int)seconds;
    return 0;
}

/* The flag as typed, up to an "=": what follows may be a password given by mistake. */
static int refuse_flag(const char *arg, struct weft_err *err)
{
    const char *eq = strchr(arg, '=');
    int len = eq ? (int)(eq - arg) : (int)strlen(arg);
    return weft_err_set(err, -EINVAL, "unknown or incomplete flag %.*s (see weft daemon --help)",
                        len, arg);
}

/* Reads the flags; given[s] records which settings they set. */
static int parse_flags(int argc, char **argv, struct daemon_options *opts,
                       bool given[SETTING_COUNT], struct weft_err *err)
{
    struct option longopts[SETTING_COUNT + 3];
    for (size_t s = 0; s < SETTING_COUNT; s++)
        longopts[s] = (struct option){settings[s].flag, required_argument, NULL, SETTING_VAL(s)};
    /* An exact name, so getopt does not take it for an abbreviated --store-password-file
     * and carry the password into a "no such file" message. */
    longopts[SETTING_COUNT] =
        (struct option){"store-password", required_argument, NULL, VAL_STORE_PASSWORD};
    longopts[SETTING_COUNT + 1] = (struct option){"help", no_argument, NULL, VAL_HELP};
    longopts[SETTING_COUNT + 2] = (struct option){NULL, 0, NULL, 0};
    opterr = 0;
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        if (c == VAL_HELP)
            return DAEMON_OPTIONS_HELP;
        if (c == VAL_STORE_PASSWORD)
            return weft_err_set(err, -EINVAL,
                                "--store-password is not a flag: a password on the command line "
                                "is seen by every user of the host; put it in a file only root "
                                "reads and pass --store-password-file FILE");
        if (c < SETTING_VAL(0) || c >= SETTING_VAL(SETTING_COUNT))
            return refuse_flag(argv[optind - 1], err);
        size_t s = (size_t)(c - SETTING_VAL(0));
        char source[64];
        snprintf(source, sizeof(source), "--%s", settings[s].flag);
        if (apply_setting(opts, &settings[s], optarg, source, err) < 0)
            return -1;
        given[s] = true;
    }
    if (optind < argc)
        return weft_err_set(err, -EINVAL, "unexpected argument %s (see weft daemon --help)",
                            argv[optind]);
    return 0;
}

/* Fills what no flag set from its variable; an empty variable counts as unset. */
static int apply_environment(struct daemon_options *opts, const bool given[SETTING_COUNT],
                             struct weft_err *err)
{
    for (size_t s = 0; s < SETTING_COUNT; s++) {
        const char *value = given[s] ? NULL : getenv(settings[s].env);
        if (value && *value && apply_setting(opts, &settings[s], value, settings[s].env, err) < 0)
            return -1;
    }
    return 0;
}

/* --store-watch and its endpoints. */
static int check_watch_settings(struct daemon_options *opts, struct weft_err *err)
{
    /* Per member by default: a host receives only its overlays' events, and an address
     * claim costs one event per member instead of one per host (docs/benchmarks.md). */
    const char *watch = opts->store_watch ? opts->store_watch : "grpc";
    if (strcmp(watch, "gateway") != 0 && strcmp(watch, "grpc") != 0 &&
        strcmp(watch, "grpc-fabric") != 0)
        return weft_err_set(err, -EINVAL,
                            "--store-watch must be gateway, grpc or grpc-fabric, not %.32s", watch);
    opts->store_watch_grpc = strcmp(watch, "gateway") != 0;
    opts->store_watch_members = strcmp(watch, "grpc") == 0;
    if (opts->store_watch_endpoints && !opts->store_watch_grpc)
        return weft_err_set(err, -EINVAL,
                            "--store-watch-endpoints needs --store-watch grpc or grpc-fabric");
    if (!opts->store_watch_endpoints)
        return 0;
    /* The same spelling as --store's members: HOST:PORT[,HOST:PORT...]. */
    char url[DAEMON_ENDPOINTS_MAX + 8], endpoints[DAEMON_ENDPOINTS_MAX];
    bool tls;
    snprintf(url, sizeof(url), "etcd://%s", opts->store_watch_endpoints);
    if (strchr(opts->store_watch_endpoints, '/') ||
        etcd_url_parse(url, endpoints, sizeof(endpoints), &tls, err) < 0)
        return weft_err_set(err, -EINVAL,
                            "--store-watch-endpoints must be HOST:PORT[,HOST:PORT...], not %.64s",
                            opts->store_watch_endpoints);
    return 0;
}

/* The combinations that cannot work, refused before anything is opened. */
static int check_store_settings(struct daemon_options *opts, struct weft_err *err)
{
    if (opts->store_cert && !opts->store_key)
        return weft_err_set(err, -EINVAL, "--store-cert needs --store-key (its private key)");
    if (opts->store_key && !opts->store_cert)
        return weft_err_set(err, -EINVAL, "--store-key needs --store-cert (its certificate)");
    if (opts->store_user && !opts->store_password_file)
        return weft_err_set(err, -EINVAL,
                            "--store-user needs --store-password-file (the password is never "
                            "a flag)");
    if (opts->store_password_file && !opts->store_user)
        return weft_err_set(err, -EINVAL, "--store-password-file needs --store-user");
    if (etcd_url_parse(opts->store, opts->endpoints, sizeof(opts->endpoints), &opts->store_tls,
                       err) < 0)
        return -1;
    if (!opts->store_tls && (opts->store_ca || opts->store_cert))
        return weft_err_set(err, -EINVAL,
                            "--store-ca, --store-cert and --store-key need a TLS store: use "
                            "etcds://HOST:PORT in --store (%s is plain HTTP)",
                            opts->store);
    return check_watch_settings(opts, err);
}

int daemon_options_parse(int argc, char **argv, struct daemon_options *opts, struct weft_err *err)
{
    *opts = (struct daemon_options){
        .store = DAEMON_DEFAULT_STORE,
        .socket_path = DAEMON_DEFAULT_SOCKET,
        .lease_ttl = DAEMON_DEFAULT_LEASE_TTL,
        .reclaim_after = DAEMON_DEFAULT_RECLAIM_AFTER,
        .store_timeout = DAEMON_DEFAULT_STORE_TIMEOUT,
        .resolv_conf = DAEMON_DEFAULT_RESOLV_CONF,
        .docker_socket = DAEMON_DEFAULT_DOCKER_SOCKET,
        .tunnel_port = DAEMON_DEFAULT_TUNNEL_PORT,
        .control_socket = DAEMON_DEFAULT_CONTROL_SOCKET,
    };
    bool given[SETTING_COUNT] = {false};
    int rc = parse_flags(argc, argv, opts, given, err);
    if (rc != 0)
        return rc;
    if (apply_environment(opts, given, err) < 0 || check_store_settings(opts, err) < 0)
        return -1;
    if (opts->log_format && strcmp(opts->log_format, "logfmt") != 0 &&
        strcmp(opts->log_format, "json") != 0)
        return weft_err_set(err, -EINVAL, "--log-format must be logfmt or json, not %.32s",
                            opts->log_format);
    return 0;
}
