/*
 * options.c: the command lines of weft admit and weft revoke. The --store flags
 * are the daemon's, naming the administrator's credentials here.
 */
#include "admin/admin_internal.h"

#include <getopt.h>
#include <string.h>

void admin_usage(FILE *out, bool admit)
{
    if (admit)
        fprintf(out, "usage: weft admit HOST [--password-file FILE] [--rotate] [store flags]\n"
                     "\n"
                     "Gives host HOST (its --advertise address) an etcd user weft-host-HOST that\n"
                     "reads all of weft's state and writes only its own and the shared records,\n"
                     "and writes its password to FILE (default ./weft-HOST.password, mode 0600,\n"
                     "never overwritten). Copy FILE to the host and start its daemon with the flags\n"
                     "printed. --rotate gives a host admitted already a new password (its\n"
                     "daemon then needs the new file and a restart) and its role every grant\n"
                     "this weft gives (one granted by an older weft may lack some).\n");
    else
        fprintf(out, "usage: weft revoke HOST [store flags]\n"
                     "\n"
                     "Deletes host HOST's etcd user and role and its records (its networks,\n"
                     "endpoints, overlay memberships and peers, and the addresses it holds), so\n"
                     "the other hosts forget it.\n");
    fprintf(out,
            "\n"
            "Store flags, for an etcd user with the root role (as the daemon takes them):\n"
            "  --store URL             etcd://HOST:PORT[,...] or etcds:// for TLS (default %s)\n"
            "                          (an IPv6 address in brackets: etcd://[fd00::5]:2379)\n"
            "  --store-ca FILE         CA bundle the members' certificates chain to\n"
            "  --store-cert FILE       client certificate; --store-key FILE its key\n"
            "  --store-user NAME       etcd user (root); --store-password-file FILE its password\n"
            "\n"
            "Exit status: 0 done, 1 refused or failed (changes undone), 2 bad command line.\n",
            ADMIN_DEFAULT_STORE);
}

/* One flag into opts; -1 for a flag this command does not take. */
static int take_flag(int c, bool admit, struct admin_options *opts)
{
    switch (c) {
    case 'p':
        opts->password_file = optarg;
        return admit ? 0 : -1;
    case 'r':
        opts->rotate = true;
        return admit ? 0 : -1;
    case 's':
        opts->store = optarg;
        return 0;
    case 'A':
        opts->store_ca = optarg;
        return 0;
    case 'C':
        opts->store_cert = optarg;
        return 0;
    case 'K':
        opts->store_key = optarg;
        return 0;
    case 'U':
        opts->store_user = optarg;
        return 0;
    case 'P':
        opts->store_password_file = optarg;
        return 0;
    default:
        return -1;
    }
}

int admin_parse_options(int argc, char **argv, bool admit, struct admin_options *opts,
                        struct weft_err *err)
{
    static const struct option longopts[] = {
        {"password-file", required_argument, NULL, 'p'},
        {"rotate", no_argument, NULL, 'r'},
        {"store", required_argument, NULL, 's'},
        {"store-ca", required_argument, NULL, 'A'},
        {"store-cert", required_argument, NULL, 'C'},
        {"store-key", required_argument, NULL, 'K'},
        {"store-user", required_argument, NULL, 'U'},
        {"store-password-file", required_argument, NULL, 'P'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    const char *command = argv[0];
    *opts = (struct admin_options){.store = ADMIN_DEFAULT_STORE};
    opterr = 0;
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        if (c == 'h') {
            admin_usage(stdout, admit);
            return 1;
        }
        if (take_flag(c, admit, opts) < 0)
            return weft_err_set(err, -EINVAL,
                                "unknown or incomplete flag %s (see weft %s --help)",
                                argv[optind - 1], command);
    }
    if (optind >= argc)
        return weft_err_set(err, -EINVAL, "which host? (usage: weft %s HOST, see --help)",
                            command);
    if (optind + 1 < argc)
        return weft_err_set(err, -EINVAL, "unexpected argument %s (see weft %s --help)",
                            argv[optind + 1], command);
    opts->host = argv[optind];
    if (!opts->store_user != !opts->store_password_file)
        return weft_err_set(err, -EINVAL,
                            "--store-user and --store-password-file go together");
    if (!opts->store_cert != !opts->store_key)
        return weft_err_set(err, -EINVAL, "--store-cert and --store-key go together");
    return 0;
}
