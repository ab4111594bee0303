/* test_docker_retry.c: an endpoint the callee answers -EAGAIN for (its network is
 * the callee's, the endpoint not known yet) is handed over again every second, five
 * times at most, while the events stream goes on; one taken meanwhile is not tried
 * again. Against the fake Docker Engine API of fake_dockerd.h. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "docker/follower.h"
#include "tests/unit/fake_dockerd.h"
#include "tests/unit/follower_recorder.h"

#define C1 "c1c1c1c1c1c1aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define C2 "c2c2c2c2c2c2bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
#define NET "0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e"
#define EP1 "e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1"
#define EP2 "e2e2e2e2e2e2e2e2e2e2e2e2e2e2e2e2e2e2e2e2e2e2e2e2e2e2e2e2e2e2e2e2"

static void inspect_of(char *out, size_t size, const char *id, const char *name, const char *ep)
{
    snprintf(out, size,
             "{\"Id\":\"%s\",\"Name\":\"/%s\",\"NetworkSettings\":{\"Networks\":{\"ov\":{"
             "\"NetworkID\":\"" NET "\",\"EndpointID\":\"%s\"}}}}",
             id, name, ep);
}

static long gap_ms(struct recorder *r, const char *endpoint, int nth)
{
    long prev = -1, gap = -1;
    int seen = 0;
    pthread_mutex_lock(&r->lock);
    for (int i = 0; i < r->n && seen < nth; i++)
        if (strcmp(r->calls[i].endpoint, endpoint) == 0) {
            if (++seen == nth)
                gap = r->calls[i].at_ms - prev;
            prev = r->calls[i].at_ms;
        }
    pthread_mutex_unlock(&r->lock);
    return gap;
}

static void eagain_retried_every_second_five_times(void **state)
{
    (void)state;
    char dir[] = "/tmp/weft-docker-XXXXXX", sock[100], inspect[1024];
    assert_non_null(mkdtemp(dir));
    snprintf(sock, sizeof(sock), "%s/docker.sock", dir);
    struct fake_dockerd d;
    fake_dockerd_init(&d, sock, "1.44", "1.24");
    inspect_of(inspect, sizeof(inspect), C1, "never", EP1);
    fake_dockerd_container(&d, C1, true, inspect);
    assert_true(fake_dockerd_listen(&d));
    struct recorder rec;
    recorder_init(&rec);
    recorder_eagain(&rec, EP1, -1); /* never known: given up after five retries */
    recorder_eagain(&rec, EP2, 2);  /* known at the third try */

    struct docker_follower *f = NULL;
    struct weft_err err = {0};
    assert_int_equal(docker_follower_start(&f, sock, recorder_names, &rec, &err), 0);
    assert_true(recorder_wait(&rec, EP1, 1, 3000));
    for (int i = 0; i < 300 && atomic_load(&d.streams_open) < 1; i++)
        usleep(10 * 1000);
    /* Connected while EP1 waits: its own retries run beside EP1's. */
    inspect_of(inspect, sizeof(inspect), C2, "later", EP2);
    fake_dockerd_container(&d, C2, true, inspect);
    fake_dockerd_push(&d, "{\"Type\":\"network\",\"Action\":\"connect\",\"Actor\":{\"ID\":\"" NET
                          "\",\"Attributes\":{\"container\":\"" C2 "\"}}}");
    assert_true(recorder_wait(&rec, EP2, 3, 4000));
    assert_true(recorder_wait(&rec, EP1, 6, 6000));
    usleep(1500 * 1000); /* a seventh would have come by now */
    docker_follower_stop(f);

    assert_int_equal(recorder_count(&rec, EP1), 6);
    assert_int_equal(recorder_count(&rec, EP2), 3);
    assert_int_equal(recorder_last(&rec, EP2)->answer, 0);
    assert_string_equal(recorder_last(&rec, EP2)->names, "later c2c2c2c2c2c2");
    for (int nth = 2; nth <= 6; nth++) {
        long gap = gap_ms(&rec, EP1, nth);
        assert_true(gap >= 900 && gap <= 1500);
    }
    for (int nth = 2; nth <= 3; nth++)
        assert_true(gap_ms(&rec, EP2, nth) >= 900);
    fake_dockerd_free(&d);
    recorder_free(&rec);
    rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(eagain_retried_every_second_five_times),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
