/*
 * test_metrics_text.c: the Prometheus text writer (common/metrics_text.c) and the
 * registry under it (common/metrics.c): label values and help text are escaped,
 * histogram buckets are cumulative and end in le="+Inf", _sum and _count follow,
 * a value outside a label's set counts under its last value, and the daemon's own
 * families (common/weft_metrics.c) are written with the conventional names.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/metrics.h"
#include "common/metrics_process.h"
#include "common/metrics_text.h"
#include "common/weft_metrics.h"

/* The family's text, to free(). */
static char *written(const struct metrics_family *f)
{
    struct weft_buf out = WEFT_BUF_INIT;
    struct weft_err err = {0};
    assert_int_equal(metrics_text_family(&out, f, &err), 0);
    return weft_buf_take(&out, NULL);
}

static void label_values_and_help_are_escaped(void **state)
{
    (void)state;
    static const char *const paths[] = {"C:\\dir", "say \"hi\"", "two\nlines"};
    static struct metrics_cell cells[3];
    struct metrics_family f = {"test_odd_total",
                               "Help with \\ and\nnewline \"quoted\".",
                               METRICS_COUNTER,
                               {{"path", paths, 3}, {NULL, NULL, 0}},
                               NULL,
                               0,
                               cells};
    metrics_add(&f, metrics_cell_of(&f, "say \"hi\"", NULL), 2);
    char *text = written(&f);
    assert_string_equal(text, "# HELP test_odd_total Help with \\\\ and\\nnewline \"quoted\".\n"
                              "# TYPE test_odd_total counter\n"
                              "test_odd_total{path=\"C:\\\\dir\"} 0\n"
                              "test_odd_total{path=\"say \\\"hi\\\"\"} 2\n"
                              "test_odd_total{path=\"two\\nlines\"} 0\n");
    free(text);
}

static void histogram_buckets_are_cumulative_with_inf_sum_and_count(void **state)
{
    (void)state;
    static const char *const methods[] = {"a", "other"};
    static const double bounds[] = {0.005, 0.1, 1};
    static struct metrics_cell cells[2];
    struct metrics_family f = {"test_duration_seconds",
                               "Durations.",
                               METRICS_HISTOGRAM,
                               {{"method", methods, 2}, {NULL, NULL, 0}},
                               bounds,
                               3,
                               cells};
    size_t a = metrics_cell_of(&f, "a", NULL);
    metrics_observe(&f, a, 0.001);
    metrics_observe(&f, a, 0.005); /* on a bound: in its bucket (le is "at most") */
    metrics_observe(&f, a, 0.5);
    metrics_observe(&f, a, 7.5); /* above every bound: only in +Inf */
    metrics_observe(&f, metrics_cell_of(&f, "unknown", NULL), 0.25); /* counts as "other" */
    char *text = written(&f);
    assert_string_equal(text, "# HELP test_duration_seconds Durations.\n"
                              "# TYPE test_duration_seconds histogram\n"
                              "test_duration_seconds_bucket{method=\"a\",le=\"0.005\"} 2\n"
                              "test_duration_seconds_bucket{method=\"a\",le=\"0.1\"} 2\n"
                              "test_duration_seconds_bucket{method=\"a\",le=\"1\"} 3\n"
                              "test_duration_seconds_bucket{method=\"a\",le=\"+Inf\"} 4\n"
                              "test_duration_seconds_sum{method=\"a\"} 8.006\n"
                              "test_duration_seconds_count{method=\"a\"} 4\n"
                              "test_duration_seconds_bucket{method=\"other\",le=\"0.005\"} 0\n"
                              "test_duration_seconds_bucket{method=\"other\",le=\"0.1\"} 0\n"
                              "test_duration_seconds_bucket{method=\"other\",le=\"1\"} 1\n"
                              "test_duration_seconds_bucket{method=\"other\",le=\"+Inf\"} 1\n"
                              "test_duration_seconds_sum{method=\"other\"} 0.25\n"
                              "test_duration_seconds_count{method=\"other\"} 1\n");
    free(text);
}

static void two_labels_and_an_unlabelled_gauge(void **state)
{
    (void)state;
    static const char *const ops[] = {"get", "put"};
    static const char *const outcomes[] = {"success", "error"};
    static struct metrics_cell cells[4], gauge_cells[1];
    struct metrics_family f = {"test_calls_total",
                               "Calls.",
                               METRICS_COUNTER,
                               {{"op", ops, 2}, {"outcome", outcomes, 2}},
                               NULL,
                               0,
                               cells};
    struct metrics_family g = {
        "test_entries", "Entries.", METRICS_GAUGE, {{NULL, NULL, 0}, {NULL, NULL, 0}},
        NULL,           0,          gauge_cells};
    metrics_add(&f, metrics_cell_of(&f, "put", "error"), 1);
    metrics_add(&g, 0, 5);
    metrics_add(&g, 0, -2);
    char *text = written(&f);
    assert_non_null(strstr(text, "test_calls_total{op=\"get\",outcome=\"success\"} 0\n"
                                 "test_calls_total{op=\"get\",outcome=\"error\"} 0\n"
                                 "test_calls_total{op=\"put\",outcome=\"success\"} 0\n"
                                 "test_calls_total{op=\"put\",outcome=\"error\"} 1\n"));
    free(text);
    text = written(&g);
    assert_string_equal(text, "# HELP test_entries Entries.\n# TYPE test_entries gauge\n"
                              "test_entries 3\n");
    free(text);
}

static void the_daemons_families_and_process_metrics(void **state)
{
    (void)state;
    weft_metrics_plugin_call("/NetworkDriver.CreateNetwork", true, weft_metrics_now());
    weft_metrics_store_round_trip("/v3/kv/txn", false);
    struct weft_buf out = WEFT_BUF_INIT;
    struct weft_err err = {0};
    assert_int_equal(weft_metrics_write(&out, &err), 0);
    assert_int_equal(metrics_process_write(&out, &err), 0);
    assert_non_null(strstr(out.data,
                           "weft_plugin_calls_total{method=\"NetworkDriver.CreateNetwork\""
                           ",outcome=\"success\"} 1\n"));
    assert_non_null(strstr(out.data,
                           "weft_plugin_call_duration_seconds_count{method=\"NetworkDriver."
                           "CreateNetwork\"} 1\n"));
    assert_non_null(strstr(out.data, "weft_store_round_trips_total{operation=\"kv_txn\"} 1\n"));
    assert_non_null(strstr(out.data, "weft_store_failures_total{operation=\"kv_txn\"} 1\n"));
    assert_non_null(strstr(out.data, "# TYPE process_cpu_seconds_total counter\n"));
    assert_non_null(strstr(out.data, "\nprocess_open_fds "));
    assert_non_null(strstr(out.data, "\nprocess_resident_memory_bytes "));
    assert_non_null(strstr(out.data, "\nprocess_start_time_seconds "));
    weft_buf_free(&out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(label_values_and_help_are_escaped),
        cmocka_unit_test(histogram_buckets_are_cumulative_with_inf_sum_and_count),
        cmocka_unit_test(two_labels_and_an_unlabelled_gauge),
        cmocka_unit_test(the_daemons_families_and_process_metrics),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
