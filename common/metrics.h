/*
 * metrics.h: a small registry of Prometheus metrics: counters, gauges and
 * histograms, each a family with a fixed set of label values known when it is
 * defined, so every series exists from the start and a scrape always shows it.
 *
 * Owns nothing itself: a family and its cells are static storage of whoever
 * defines it (common/weft_metrics.c for the daemon's, tests for their own).
 * Updating is lock-free (C11 atomics) and never allocates, so any thread may
 * count from anywhere, also under its own locks. Readers (metrics_text.c) see
 * each cell atomically, a histogram's buckets one by one. Anyone may include this.
 */
#ifndef WEFT_METRICS_H
#define WEFT_METRICS_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#define METRICS_LABELS_MAX 2
#define METRICS_BUCKETS_MAX 16

enum metrics_type { METRICS_COUNTER, METRICS_GAUGE, METRICS_HISTOGRAM };

/* One label and every value it may take. A value outside the set counts under the
 * set's last value, which should say so ("other"). */
struct metrics_label {
    const char *name; /* NULL: this slot has no label */
    const char *const *values;
    size_t count;
};

/* One series. Counters and gauges use value; a histogram counts each observation
 * in the first bucket whose bound holds it (the last is +Inf) and adds it to sum. */
struct metrics_cell {
    atomic_llong value;
    atomic_ullong sum_bits; /* a double's bits, added to by compare-and-swap */
    atomic_ullong buckets[METRICS_BUCKETS_MAX + 1];
};

struct metrics_family {
    const char *name; /* with the _total or _seconds suffix, as exposed */
    const char *help;
    enum metrics_type type;
    struct metrics_label labels[METRICS_LABELS_MAX];
    const double *bounds; /* histogram: upper bounds, ascending, at most METRICS_BUCKETS_MAX */
    size_t bound_count;
    struct metrics_cell *cells; /* one per combination: labels[0] major, labels[1] minor */
};

/* How many cells the family's labels make (1 without labels). */
size_t metrics_cell_count(const struct metrics_family *f);

/* The cell for these label values (NULL for a slot without a label). */
size_t metrics_cell_of(const struct metrics_family *f, const char *value0, const char *value1);

/* Adds n to a counter (n >= 0) or gauge (any sign). */
void metrics_add(struct metrics_family *f, size_t cell, long long n);

/* Sets a gauge. */
void metrics_set(struct metrics_family *f, size_t cell, long long value);

/* Counts one observation into a histogram. */
void metrics_observe(struct metrics_family *f, size_t cell, double value);

/* A histogram cell's sum of observations. */
double metrics_cell_sum(const struct metrics_cell *cell);

#endif
