/*
 * test_daemon_options.c: `weft daemon`'s flags and WEFT_* variables: defaults,
 * every setting from a flag or from its variable, a flag beating its variable,
 * and the refusals that need no file or network (TLS files with etcd://, a
 * certificate without its key, a user without a password file, a password on the
 * command line). The etcds:// cases need the store's TLS (issue 17); on a store
 * client that refuses etcds:// they are skipped.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "daemon/options.h"
#include "store/etcd.h"

static const char *const variables[] = {
    "WEFT_STORE",         "WEFT_STORE_CA",      "WEFT_STORE_CERT",
    "WEFT_STORE_KEY",     "WEFT_STORE_USER",    "WEFT_STORE_PASSWORD_FILE",
    "WEFT_ADVERTISE",     "WEFT_SOCKET",        "WEFT_LEASE_TTL",
    "WEFT_RECLAIM_AFTER", "WEFT_STORE_TIMEOUT", "WEFT_SECRET_FILE",
    "WEFT_TUNNEL_PORT",
};

static int clear_environment(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(variables) / sizeof(variables[0]); i++)
        unsetenv(variables[i]);
    return 0;
}

/* Parses "daemon" followed by the NULL-terminated flags. */
#define PARSE(opts, err, ...) parse_argv(opts, err, (const char *[]){"daemon", __VA_ARGS__, NULL})
static int parse_argv(struct daemon_options *opts, struct weft_err *err, const char **args)
{
    int argc = 0;
    while (args[argc])
        argc++;
    return daemon_options_parse(argc, (char **)args, opts, err);
}

static bool store_speaks_tls(void)
{
    char endpoints[64];
    bool tls = false;
    struct weft_err err = {0};
    return etcd_url_parse("etcds://127.0.0.1:2379", endpoints, sizeof(endpoints), &tls, &err) ==
               0 &&
           tls;
}

static void defaults_without_flags_or_variables(void **state)
{
    (void)state;
    struct daemon_options opts;
    struct weft_err err = {0};
    assert_int_equal(parse_argv(&opts, &err, (const char *[]){"daemon", NULL}), 0);
    assert_string_equal(opts.store, DAEMON_DEFAULT_STORE);
    assert_string_equal(opts.endpoints, "127.0.0.1:2379");
    assert_false(opts.store_tls);
    assert_null(opts.store_ca);
    assert_null(opts.store_cert);
    assert_null(opts.store_user);
    assert_null(opts.advertise);
    assert_string_equal(opts.socket_path, DAEMON_DEFAULT_SOCKET);
    assert_int_equal(opts.lease_ttl, DAEMON_DEFAULT_LEASE_TTL);
    assert_int_equal(opts.reclaim_after, DAEMON_DEFAULT_RECLAIM_AFTER);
    assert_int_equal(opts.store_timeout, DAEMON_DEFAULT_STORE_TIMEOUT);
    assert_int_equal(PARSE(&opts, &err, "--lease-ttl", "5", "--help"), DAEMON_OPTIONS_HELP);
}

static void every_setting_from_its_variable(void **state)
{
    (void)state;
    setenv("WEFT_STORE", "etcd://10.0.0.1:2379,10.0.0.2:2379", 1);
    setenv("WEFT_STORE_USER", "weft-host-a", 1);
    setenv("WEFT_STORE_PASSWORD_FILE", "/etc/weft/password", 1);
    setenv("WEFT_ADVERTISE", "10.0.0.9", 1);
    setenv("WEFT_SOCKET", "/run/weft.sock", 1);
    setenv("WEFT_LEASE_TTL", "30", 1);
    setenv("WEFT_RECLAIM_AFTER", "60", 1);
    setenv("WEFT_STORE_TIMEOUT", "4", 1);
    struct daemon_options opts;
    struct weft_err err = {0};
    assert_int_equal(parse_argv(&opts, &err, (const char *[]){"daemon", NULL}), 0);
    assert_string_equal(opts.endpoints, "10.0.0.1:2379,10.0.0.2:2379");
    assert_string_equal(opts.store_user, "weft-host-a");
    assert_string_equal(opts.store_password_file, "/etc/weft/password");
    assert_string_equal(opts.advertise, "10.0.0.9");
    assert_string_equal(opts.socket_path, "/run/weft.sock");
    assert_int_equal(opts.lease_ttl, 30);
    assert_int_equal(opts.reclaim_after, 60);
    assert_int_equal(opts.store_timeout, 4);
}

static void a_flag_beats_its_variable(void **state)
{
    (void)state;
    setenv("WEFT_ADVERTISE", "10.0.0.9", 1);
    setenv("WEFT_LEASE_TTL", "not a number", 1); /* never read: the flag set it */
    setenv("WEFT_SOCKET", "", 1);                /* empty: as if unset */
    struct daemon_options opts;
    struct weft_err err = {0};
    assert_int_equal(PARSE(&opts, &err, "--advertise", "10.0.0.7", "--lease-ttl", "7"), 0);
    assert_string_equal(opts.advertise, "10.0.0.7");
    assert_int_equal(opts.lease_ttl, 7);
    assert_string_equal(opts.socket_path, DAEMON_DEFAULT_SOCKET);
}

static void a_bad_number_names_its_flag_or_variable(void **state)
{
    (void)state;
    struct daemon_options opts;
    struct weft_err err = {0};
    assert_int_equal(PARSE(&opts, &err, "--lease-ttl", "1"), -1);
    assert_string_equal(err.msg, "--lease-ttl must be a number of seconds from 2 to 3600");
    assert_int_equal(PARSE(&opts, &err, "--store-timeout", "5x"), -1);
    assert_non_null(strstr(err.msg, "--store-timeout"));
    setenv("WEFT_RECLAIM_AFTER", "0", 1);
    assert_int_equal(parse_argv(&opts, &err, (const char *[]){"daemon", NULL}), -1);
    assert_int_equal(err.code, -EINVAL);
    assert_string_equal(err.msg,
                        "WEFT_RECLAIM_AFTER must be a number of seconds from 1 to 2592000");
}

/* Encrypted overlays: the secret's file and the tunnel's port (default 4790). */
static void the_tunnel_port_is_a_port(void **state)
{
    (void)state;
    struct daemon_options opts;
    struct weft_err err = {0};
    assert_int_equal(PARSE(&opts, &err, "--secret-file", "/etc/weft/secret"), 0);
    assert_string_equal(opts.secret_file, "/etc/weft/secret");
    assert_int_equal(opts.tunnel_port, 4790);
    assert_int_equal(PARSE(&opts, &err, "--tunnel-port", "14790"), 0);
    assert_int_equal(opts.tunnel_port, 14790);
    assert_int_equal(PARSE(&opts, &err, "--tunnel-port", "65536"), -1);
    assert_string_equal(err.msg, "--tunnel-port must be a UDP port number from 1 to 65535");
}

/* grpc (the default) watches per member, grpc-fabric all of fabric/ over gRPC, gateway
 * all through it. */
static void the_store_watch_picks_transport_and_scope(void **state)
{
    (void)state;
    struct daemon_options opts;
    struct weft_err err = {0};
    unsetenv("WEFT_STORE_WATCH");
    assert_int_equal(parse_argv(&opts, &err, (const char *[]){"daemon", NULL}), 0);
    assert_true(opts.store_watch_grpc && opts.store_watch_members);
    assert_int_equal(PARSE(&opts, &err, "--store-watch", "grpc"), 0);
    assert_true(opts.store_watch_grpc && opts.store_watch_members);
    assert_int_equal(PARSE(&opts, &err, "--store-watch", "grpc-fabric"), 0);
    assert_true(opts.store_watch_grpc && !opts.store_watch_members);
    assert_int_equal(PARSE(&opts, &err, "--store-watch", "gateway"), 0);
    assert_true(!opts.store_watch_grpc && !opts.store_watch_members);
    assert_int_equal(PARSE(&opts, &err, "--store-watch", "grpc-all"), -1);
    assert_string_equal(err.msg, "--store-watch must be gateway, grpc or grpc-fabric, not grpc-all");
}

static void a_certificate_needs_its_key_and_the_reverse(void **state)
{
    (void)state;
    struct daemon_options opts;
    struct weft_err err = {0};
    assert_int_equal(PARSE(&opts, &err, "--store", "etcds://h:2379", "--store-cert", "c.pem"), -1);
    assert_string_equal(err.msg, "--store-cert needs --store-key (its private key)");
    assert_int_equal(PARSE(&opts, &err, "--store", "etcds://h:2379", "--store-key", "c.key"), -1);
    assert_string_equal(err.msg, "--store-key needs --store-cert (its certificate)");
    setenv("WEFT_STORE_KEY", "c.key", 1); /* a variable counts as much as a flag */
    assert_int_equal(PARSE(&opts, &err, "--store-cert", "c.pem"), -1);
    assert_null(strstr(err.msg, "needs")); /* the pair is whole: now the plain store is wrong */
}

static void a_user_needs_a_password_file(void **state)
{
    (void)state;
    struct daemon_options opts;
    struct weft_err err = {0};
    assert_int_equal(PARSE(&opts, &err, "--store-user", "weft-host-a"), -1);
    assert_non_null(strstr(err.msg, "--store-user needs --store-password-file"));
    assert_int_equal(PARSE(&opts, &err, "--store-password-file", "/p"), -1);
    assert_string_equal(err.msg, "--store-password-file needs --store-user");
    /* Over plain HTTP a user is allowed (the daemon warns): etcd accepts it. */
    assert_int_equal(PARSE(&opts, &err, "--store-user", "u", "--store-password-file", "/p"), 0);
}

static void tls_files_with_a_plain_store_are_refused(void **state)
{
    (void)state;
    struct daemon_options opts;
    struct weft_err err = {0};
    assert_int_equal(PARSE(&opts, &err, "--store", "etcd://h:2379", "--store-ca", "ca.pem"), -1);
    assert_non_null(strstr(err.msg, "use etcds://"));
    assert_int_equal(PARSE(&opts, &err, "--store-cert", "c.pem", "--store-key", "c.key"), -1);
    assert_non_null(strstr(err.msg, "use etcds://"));
    assert_non_null(strstr(err.msg, DAEMON_DEFAULT_STORE));
}

static void a_password_on_the_command_line_is_refused_and_not_repeated(void **state)
{
    (void)state;
    struct daemon_options opts;
    struct weft_err err = {0};
    assert_int_equal(PARSE(&opts, &err, "--store-password", "hunter2"), -1);
    assert_non_null(strstr(err.msg, "--store-password-file"));
    assert_null(strstr(err.msg, "hunter2"));
    assert_int_equal(PARSE(&opts, &err, "--store-password=hunter2"), -1);
    assert_null(strstr(err.msg, "hunter2"));
    assert_int_equal(PARSE(&opts, &err, "--store-secret=hunter2"), -1);
    assert_string_equal(err.msg,
                        "unknown or incomplete flag --store-secret (see weft daemon --help)");
}

static void a_tls_store_takes_every_file(void **state)
{
    (void)state;
    if (!store_speaks_tls())
        skip(); /* the store client of this build refuses etcds:// */
    struct daemon_options opts;
    struct weft_err err = {0};
    setenv("WEFT_STORE_PASSWORD_FILE", "/etc/weft/password", 1);
    assert_int_equal(PARSE(&opts, &err, "--store", "etcds://10.0.0.1:2379,10.0.0.2:2379",
                           "--store-ca", "ca.pem", "--store-cert", "c.pem", "--store-key", "c.key",
                           "--store-user", "weft-host-a"),
                     0);
    assert_true(opts.store_tls);
    assert_string_equal(opts.endpoints, "10.0.0.1:2379,10.0.0.2:2379");
    assert_string_equal(opts.store_ca, "ca.pem");
    assert_string_equal(opts.store_cert, "c.pem");
    assert_string_equal(opts.store_key, "c.key");
    assert_string_equal(opts.store_user, "weft-host-a");
    assert_string_equal(opts.store_password_file, "/etc/weft/password");
    setenv("WEFT_STORE", "etcds://10.0.0.3:2379", 1);
    setenv("WEFT_STORE_CA", "/etc/weft/ca.pem", 1);
    unsetenv("WEFT_STORE_PASSWORD_FILE");
    assert_int_equal(parse_argv(&opts, &err, (const char *[]){"daemon", NULL}), 0);
    assert_true(opts.store_tls);
    assert_string_equal(opts.store_ca, "/etc/weft/ca.pem");
}

/* Issue 12: etcd members on IPv6, in brackets as in a URL; without them refused. */
static void an_ipv6_store_is_taken_in_brackets(void **state)
{
    (void)state;
    struct daemon_options opts;
    struct weft_err err = {0};
    assert_int_equal(PARSE(&opts, &err, "--store", "etcd://[fd00::5]:2379,[fd00::6]:2379"), 0);
    assert_string_equal(opts.endpoints, "[fd00::5]:2379,[fd00::6]:2379");
    assert_false(opts.store_tls);
    setenv("WEFT_STORE", "http://[::1]:2379", 1);
    assert_int_equal(parse_argv(&opts, &err, (const char *[]){"daemon", NULL}), 0);
    assert_string_equal(opts.endpoints, "[::1]:2379");
    assert_int_equal(PARSE(&opts, &err, "--store", "etcd://fd00::5:2379"), -1);
    assert_non_null(strstr(err.msg, "member \"fd00::5:2379\""));
    assert_non_null(strstr(err.msg, "[ADDR]:PORT"));
    if (!store_speaks_tls())
        return;
    assert_int_equal(PARSE(&opts, &err, "--store", "etcds://[::1]:2379", "--store-ca", "ca.pem"),
                     0);
    assert_string_equal(opts.endpoints, "[::1]:2379");
    assert_true(opts.store_tls);
}

int main(void)
{
#define TEST(name) cmocka_unit_test_setup_teardown(name, clear_environment, clear_environment)
    const struct CMUnitTest tests[] = {
        TEST(defaults_without_flags_or_variables),
        TEST(every_setting_from_its_variable),
        TEST(a_flag_beats_its_variable),
        TEST(a_bad_number_names_its_flag_or_variable),
        TEST(the_tunnel_port_is_a_port),
        TEST(the_store_watch_picks_transport_and_scope),
        TEST(a_certificate_needs_its_key_and_the_reverse),
        TEST(a_user_needs_a_password_file),
        TEST(tls_files_with_a_plain_store_are_refused),
        TEST(a_password_on_the_command_line_is_refused_and_not_repeated),
        TEST(a_tls_store_takes_every_file),
        TEST(an_ipv6_store_is_taken_in_brackets),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
