/* test_sd_notify.c: systemd's notification datagram reaches a socket named by a path
 * or in the abstract namespace ("@name"); without NOTIFY_SOCKET nothing is sent and
 * nothing fails; a malformed NOTIFY_SOCKET is a clear error. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>

#include "daemon/sd_notify.h"

/* A datagram socket bound to name (a path, or "@..." abstract); -1 on failure. */
static int listener(const char *name)
{
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    size_t len = strlen(name);
    memcpy(addr.sun_path, name, len);
    if (name[0] == '@')
        addr.sun_path[0] = '\0';
    int fd = socket(AF_UNIX, SOCK_DGRAM, 0);
    if (fd < 0 || bind(fd, (struct sockaddr *)&addr,
                       (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len)) < 0)
        return -1;
    return fd;
}

static void expect_message(int fd, const char *want)
{
    char got[64] = {0};
    struct timeval timeout = {2, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
    assert_true(recv(fd, got, sizeof(got) - 1, 0) > 0);
    assert_string_equal(got, want);
}

static void path_and_abstract_sockets_receive(void **state)
{
    (void)state;
    char path[64];
    snprintf(path, sizeof(path), "/tmp/weft-notify-test.%d", (int)getpid());
    unlink(path);
    int fd = listener(path);
    assert_true(fd >= 0);
    setenv("NOTIFY_SOCKET", path, 1);
    struct weft_err err = {0};
    assert_int_equal(sd_notify_state("READY=1", &err), 0);
    expect_message(fd, "READY=1");
    close(fd);
    unlink(path);

    char abstract[64];
    snprintf(abstract, sizeof(abstract), "@weft-notify-test.%d", (int)getpid());
    fd = listener(abstract);
    assert_true(fd >= 0);
    setenv("NOTIFY_SOCKET", abstract, 1);
    assert_int_equal(sd_notify_state("STOPPING=1", &err), 0);
    expect_message(fd, "STOPPING=1");
    close(fd);
    unsetenv("NOTIFY_SOCKET");
}

static void unset_is_nothing_and_malformed_is_an_error(void **state)
{
    (void)state;
    struct weft_err err = {0};
    unsetenv("NOTIFY_SOCKET");
    assert_int_equal(sd_notify_state("READY=1", &err), 0);
    setenv("NOTIFY_SOCKET", "relative/path", 1);
    assert_int_equal(sd_notify_state("READY=1", &err), -1);
    assert_non_null(strstr(err.msg, "NOTIFY_SOCKET=relative/path is not a socket path"));
    setenv("NOTIFY_SOCKET", "/nonexistent/weft-notify", 1);
    assert_int_equal(sd_notify_state("READY=1", &err), -1);
    assert_non_null(strstr(err.msg, "telling systemd READY=1"));
    unsetenv("NOTIFY_SOCKET");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(path_and_abstract_sockets_receive),
        cmocka_unit_test(unset_is_nothing_and_malformed_is_an_error),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
