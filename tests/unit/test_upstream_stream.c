/* test_upstream_stream.c: one question over TCP to a resolver (upstream_stream.h),
 * against a listener on loopback that this test plays the resolver with: the
 * question arrives framed, an answer sent in pieces is read whole, and a refused
 * connection, an answer cut by the server's close, and a length no DNS message has
 * each end the exchange as failed. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "dns/dns_query.h"
#include "dns/upstream_stream.h"

/* A listener on 127.0.0.1, its address in *addr. */
static int listener(struct sockaddr_storage *addr)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_true(fd >= 0);
    struct sockaddr_in *in = (struct sockaddr_in *)addr;
    memset(addr, 0, sizeof(*addr));
    in->sin_family = AF_INET;
    in->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(fd, (struct sockaddr *)in, sizeof(*in)), 0);
    socklen_t len = sizeof(*in);
    assert_int_equal(getsockname(fd, (struct sockaddr *)in, &len), 0);
    assert_int_equal(listen(fd, 4), 0);
    return fd;
}

/* Polls s for what it asks and steps it until it is no longer busy (2 s at most). */
static enum upstream_stream_state run(struct upstream_stream *s)
{
    for (int i = 0; i < 200; i++) {
        struct pollfd p = {.fd = upstream_stream_fd(s), .events = upstream_stream_events(s)};
        if (poll(&p, 1, 10) == 0)
            continue;
        enum upstream_stream_state state = upstream_stream_step(s);
        if (state != UPSTREAM_STREAM_BUSY)
            return state;
    }
    return UPSTREAM_STREAM_BUSY;
}

/* A 14-byte "question": a DNS header and two bytes, ID 0x1234. */
static const uint8_t question[] = {0x12, 0x34, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xab, 0xcd};

/* Opens a stream to a new listener and takes the connection on the resolver's side;
 * the framed question is read there and checked. */
static struct upstream_stream *connected(int *lfd, int *server)
{
    struct sockaddr_storage addr;
    *lfd = listener(&addr);
    struct upstream_stream *s = upstream_stream_open(&addr, question, sizeof(question));
    assert_non_null(s);
    *server = accept(*lfd, NULL, NULL);
    assert_true(*server >= 0);
    /* The question goes out once the exchange is stepped. */
    assert_int_equal(upstream_stream_events(s), POLLOUT);
    struct pollfd p = {.fd = upstream_stream_fd(s), .events = POLLOUT};
    assert_int_equal(poll(&p, 1, 2000), 1);
    assert_int_equal(upstream_stream_step(s), UPSTREAM_STREAM_BUSY);
    assert_int_equal(upstream_stream_events(s), POLLIN);
    uint8_t got[2 + sizeof(question)];
    assert_int_equal(recv(*server, got, sizeof(got), MSG_WAITALL), sizeof(got));
    assert_int_equal(got[0] << 8 | got[1], sizeof(question));
    assert_memory_equal(got + 2, question, sizeof(question));
    return s;
}

static void answer_in_pieces(void **state)
{
    (void)state;
    int lfd, server;
    struct upstream_stream *s = connected(&lfd, &server);
    uint8_t answer[2 + 700] = {700 >> 8, 700 & 0xff, 0x12, 0x34, 0x81, 0x80};
    for (size_t i = 6; i < sizeof(answer); i++)
        answer[i] = (uint8_t)i;
    /* One byte of the length, then the rest of the length and half, then the rest. */
    assert_int_equal(send(server, answer, 1, 0), 1);
    struct pollfd p = {.fd = upstream_stream_fd(s), .events = POLLIN};
    assert_int_equal(poll(&p, 1, 2000), 1);
    assert_int_equal(upstream_stream_step(s), UPSTREAM_STREAM_BUSY);
    assert_int_equal(send(server, answer + 1, 350, 0), 350);
    assert_int_equal(poll(&p, 1, 2000), 1);
    assert_int_equal(upstream_stream_step(s), UPSTREAM_STREAM_BUSY);
    assert_int_equal(send(server, answer + 351, sizeof(answer) - 351, 0), sizeof(answer) - 351);
    assert_int_equal(run(s), UPSTREAM_STREAM_DONE);
    size_t len;
    uint8_t *msg = upstream_stream_answer(s, &len);
    assert_int_equal(len, 700);
    assert_memory_equal(msg, answer + 2, 700);
    upstream_stream_free(s);
    close(server);
    close(lfd);
}

static void refused(void **state)
{
    (void)state;
    struct sockaddr_storage addr;
    int lfd = listener(&addr);
    close(lfd); /* nobody listens on that port now */
    struct upstream_stream *s = upstream_stream_open(&addr, question, sizeof(question));
    if (s) { /* the refusal may come at the connect or at the first step */
        assert_int_equal(run(s), UPSTREAM_STREAM_FAILED);
        upstream_stream_free(s);
    }
}

static void closed_before_the_whole_answer(void **state)
{
    (void)state;
    int lfd, server;
    struct upstream_stream *s = connected(&lfd, &server);
    const uint8_t part[] = {0, 100, 0x12, 0x34, 0x81, 0x80};
    assert_int_equal(send(server, part, sizeof(part), 0), sizeof(part));
    close(server);
    assert_int_equal(run(s), UPSTREAM_STREAM_FAILED);
    upstream_stream_free(s);
    close(lfd);
}

static void length_no_message_has(void **state)
{
    (void)state;
    const uint16_t lengths[] = {DNS_MESSAGE_MAX + 1, 0xffff, 0, 11};
    for (size_t i = 0; i < sizeof(lengths) / sizeof(lengths[0]); i++) {
        int lfd, server;
        struct upstream_stream *s = connected(&lfd, &server);
        const uint8_t prefix[] = {(uint8_t)(lengths[i] >> 8), (uint8_t)lengths[i]};
        assert_int_equal(send(server, prefix, 2, 0), 2);
        assert_int_equal(run(s), UPSTREAM_STREAM_FAILED);
        upstream_stream_free(s);
        close(server);
        close(lfd);
    }
}

static void question_sizes_refused(void **state)
{
    (void)state;
    struct sockaddr_storage addr;
    int lfd = listener(&addr);
    static uint8_t big[DNS_MESSAGE_MAX + 1];
    assert_null(upstream_stream_open(&addr, question, 0));
    assert_null(upstream_stream_open(&addr, big, sizeof(big)));
    close(lfd);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(answer_in_pieces),
        cmocka_unit_test(refused),
        cmocka_unit_test(closed_before_the_whole_answer),
        cmocka_unit_test(length_no_message_has),
        cmocka_unit_test(question_sizes_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
