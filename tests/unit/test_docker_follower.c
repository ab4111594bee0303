/* test_docker_follower.c: the Docker follower against a fake Docker Engine API on a
 * unix socket (fake_dockerd.h): it lists and inspects the running containers, then
 * follows network connect and container rename events from the time of the listing
 * (an unreadable event line makes it list again);
 * it speaks min(dockerd's API version, 1.47); stop returns promptly while the events
 * stream is open; a dockerd missing at start, or going away and coming back, is
 * logged once each way and its names still arrive. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/clock.h"
#include "docker/follower.h"
#include "tests/unit/fake_dockerd.h"
#include "tests/unit/follower_recorder.h"

#define C1 "c1c1c1c1c1c1aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define C2 "c2c2c2c2c2c2bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
#define NET "0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e"
#define EP1 "e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1"
#define EP2 "e2e2e2e2e2e2e2e2e2e2e2e2e2e2e2e2e2e2e2e2e2e2e2e2e2e2e2e2e2e2e2e2"
#define FILTERS "{\"type\":[\"network\",\"container\"],\"event\":[\"connect\",\"rename\"]}"

struct fixture {
    char dir[64];
    char sock[100];
    struct fake_dockerd d;
    struct recorder rec;
};

static void inspect_of(char *out, size_t size, const char *id, const char *name, const char *ep)
{
    snprintf(out, size,
             "{\"Id\":\"%s\",\"Name\":\"/%s\",\"NetworkSettings\":{\"Networks\":{\"ov\":{"
             "\"Aliases\":[\"%.12s\"],\"NetworkID\":\"" NET "\",\"EndpointID\":\"%s\"}}}}",
             id, name, id, ep);
}

static int setup(void **state)
{
    struct fixture *fx = calloc(1, sizeof(*fx));
    snprintf(fx->dir, sizeof(fx->dir), "/tmp/weft-docker-XXXXXX");
    if (!fx || !mkdtemp(fx->dir))
        return -1;
    snprintf(fx->sock, sizeof(fx->sock), "%s/docker.sock", fx->dir);
    fake_dockerd_init(&fx->d, fx->sock, "1.41", "1.12");
    char inspect[1024];
    inspect_of(inspect, sizeof(inspect), C1, "Web", EP1);
    fake_dockerd_container(&fx->d, C1, true, inspect);
    recorder_init(&fx->rec);
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *fx = *state;
    fake_dockerd_free(&fx->d);
    recorder_free(&fx->rec);
    rmdir(fx->dir);
    free(fx);
    return 0;
}

static struct docker_follower *start(struct fixture *fx)
{
    struct docker_follower *f = NULL;
    struct weft_err err = {0};
    assert_int_equal(docker_follower_start(&f, fx->sock, recorder_names, &fx->rec, &err), 0);
    return f;
}

static void wait_streaming(struct fake_dockerd *d, int streams)
{
    for (int i = 0; i < 300 && atomic_load(&d->streams_open) < streams; i++)
        usleep(10 * 1000);
    assert_int_equal(atomic_load(&d->streams_open), streams);
}

static void lists_then_follows_events(void **state)
{
    struct fixture *fx = *state;
    assert_true(fake_dockerd_listen(&fx->d));
    time_t before = time(NULL);
    struct docker_follower *f = start(fx);
    assert_true(recorder_wait(&fx->rec, EP1, 1, 3000));
    assert_string_equal(recorder_last(&fx->rec, EP1)->names, "web c1c1c1c1c1c1");
    assert_string_equal(recorder_last(&fx->rec, EP1)->network, NET);
    wait_streaming(&fx->d, 1);
    pthread_mutex_lock(&fx->d.lock);
    assert_string_equal(fx->d.api_prefix, "/v1.41"); /* Docker 20.10's own version */
    assert_string_equal(fx->d.events_filters, FILTERS);
    long since = atol(fx->d.events_since);
    pthread_mutex_unlock(&fx->d.lock);
    /* From some seconds before the listing: a container connected just before it and
     * not yet running (so not listed) streams too. */
    assert_true(since >= before - DOCKER_FOLLOWER_REPLAY_S - 1 &&
                since <= time(NULL) - DOCKER_FOLLOWER_REPLAY_S);

    /* A container connected later: the event names it, the follower inspects it. */
    char inspect[1024];
    inspect_of(inspect, sizeof(inspect), C2, "db", EP2);
    fake_dockerd_container(&fx->d, C2, true, inspect);
    fake_dockerd_push(&fx->d,
                      "{\"Type\":\"network\",\"Action\":\"connect\",\"Actor\":{\"ID\":\"" NET
                      "\",\"Attributes\":{\"container\":\"" C2 "\",\"name\":\"ov\"}},"
                      "\"time\":1,\"timeNano\":1000000000}");
    assert_true(recorder_wait(&fx->rec, EP2, 1, 3000));
    assert_string_equal(recorder_last(&fx->rec, EP2)->names, "db c2c2c2c2c2c2");

    /* Events the follower does not read are skipped; a rename brings the new name. */
    fake_dockerd_push(&fx->d, "{\"Type\":\"volume\",\"Action\":\"mount\",\"Actor\":{}}");
    inspect_of(inspect, sizeof(inspect), C1, "Front", EP1);
    fake_dockerd_container(&fx->d, C1, true, inspect);
    fake_dockerd_push(&fx->d,
                      "{\"Type\":\"container\",\"Action\":\"rename\",\"Actor\":{\"ID\":\"" C1
                      "\",\"Attributes\":{\"name\":\"Front\",\"oldName\":\"/Web\"}}}");
    assert_true(recorder_wait(&fx->rec, EP1, 2, 3000));
    assert_string_equal(recorder_last(&fx->rec, EP1)->names, "front c1c1c1c1c1c1");
    docker_follower_stop(f);
    assert_int_equal(fx->d.lists, 1);
}

/* An event line that is not JSON ends the stream and the containers are listed
 * again (skipping it could lose a container's names). */
static void unreadable_event_lists_again(void **state)
{
    struct fixture *fx = *state;
    assert_true(fake_dockerd_listen(&fx->d));
    struct docker_follower *f = start(fx);
    assert_true(recorder_wait(&fx->rec, EP1, 1, 3000));
    wait_streaming(&fx->d, 1);
    fake_dockerd_push(&fx->d, "<html>502 Bad Gateway</html>");
    assert_true(recorder_wait(&fx->rec, EP1, 2, 3000));
    docker_follower_stop(f);
    assert_int_equal(fx->d.lists, 2);
}

static void newer_dockerd_spoken_to_in_1_47(void **state)
{
    struct fixture *fx = *state;
    snprintf(fx->d.version_answer, sizeof(fx->d.version_answer),
             "{\"ApiVersion\":\"1.52\",\"MinAPIVersion\":\"1.44\"}");
    assert_true(fake_dockerd_listen(&fx->d));
    struct docker_follower *f = start(fx);
    assert_true(recorder_wait(&fx->rec, EP1, 1, 3000));
    wait_streaming(&fx->d, 1);
    pthread_mutex_lock(&fx->d.lock);
    assert_string_equal(fx->d.api_prefix, "/v1.47");
    pthread_mutex_unlock(&fx->d.lock);
    docker_follower_stop(f);
}

static void stop_is_prompt_while_streaming(void **state)
{
    struct fixture *fx = *state;
    assert_true(fake_dockerd_listen(&fx->d));
    struct docker_follower *f = start(fx);
    assert_true(recorder_wait(&fx->rec, EP1, 1, 3000));
    wait_streaming(&fx->d, 1);
    usleep(300 * 1000); /* well into a read of the stream */
    long t0 = clock_monotonic_ms();
    docker_follower_stop(f);
    long took = clock_monotonic_ms() - t0;
    print_message("stop took %ld ms\n", took);
    assert_true(took < 1000);
}

/* Runs fn with stderr in a file; returns that file's text (free()). */
static char *stderr_of(void (*fn)(struct fixture *), struct fixture *fx)
{
    char path[128];
    snprintf(path, sizeof(path), "%s/log", fx->dir);
    fflush(stderr);
    int saved = dup(2), fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
    assert_true(saved >= 0 && fd >= 0);
    dup2(fd, 2);
    fn(fx);
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    char *text = calloc(1, 65536);
    assert_non_null(text);
    assert_true(pread(fd, text, 65535, 0) >= 0);
    close(fd);
    unlink(path);
    return text;
}

static int count(const char *text, const char *word)
{
    int n = 0;
    for (const char *p = text; (p = strstr(p, word)); p++)
        n++;
    return n;
}

static void appears_late(struct fixture *fx)
{
    struct docker_follower *f = start(fx);
    usleep(1500 * 1000); /* two failed rounds */
    assert_true(fake_dockerd_listen(&fx->d));
    assert_true(recorder_wait(&fx->rec, EP1, 1, 3000));
    wait_streaming(&fx->d, 1);
    usleep(300 * 1000); /* the stream is up: that is logged */
    docker_follower_stop(f);
}

static void dockerd_missing_at_start(void **state)
{
    struct fixture *fx = *state;
    char *log = stderr_of(appears_late, fx);
    print_message("%s", log);
    assert_int_equal(count(log, "docker engine unreachable"), 1);
    assert_int_equal(count(log, "following docker engine"), 1);
    free(log);
}

static void goes_away_and_back(struct fixture *fx)
{
    assert_true(fake_dockerd_listen(&fx->d));
    struct docker_follower *f = start(fx);
    assert_true(recorder_wait(&fx->rec, EP1, 1, 3000));
    wait_streaming(&fx->d, 1);
    usleep(300 * 1000);
    fake_dockerd_close(&fx->d); /* dockerd restarts: the stream ends, the socket goes */
    usleep(1200 * 1000);
    assert_true(fake_dockerd_listen(&fx->d));
    /* Listed again: the names come once more. */
    assert_true(recorder_wait(&fx->rec, EP1, 2, 3000));
    wait_streaming(&fx->d, 1);
    usleep(300 * 1000);
    docker_follower_stop(f);
}

static void dockerd_restart_lists_again(void **state)
{
    struct fixture *fx = *state;
    char *log = stderr_of(goes_away_and_back, fx);
    print_message("%s", log);
    assert_int_equal(count(log, "docker engine lost"), 1);
    assert_int_equal(count(log, "docker engine back"), 1);
    assert_int_equal(fx->d.lists, 2);
    free(log);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(lists_then_follows_events, setup, teardown),
        cmocka_unit_test_setup_teardown(unreadable_event_lists_again, setup, teardown),
        cmocka_unit_test_setup_teardown(newer_dockerd_spoken_to_in_1_47, setup, teardown),
        cmocka_unit_test_setup_teardown(stop_is_prompt_while_streaming, setup, teardown),
        cmocka_unit_test_setup_teardown(dockerd_missing_at_start, setup, teardown),
        cmocka_unit_test_setup_teardown(dockerd_restart_lists_again, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
