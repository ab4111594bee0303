/*
 * metrics.c: updating the cells of a metrics family (metrics.h). Lock-free:
 * every update is one atomic add, or a compare-and-swap loop for a histogram's
 * sum, so counting costs no lock and no allocation at any call site.
 */
#include "common/metrics.h"

#include <string.h>

size_t metrics_cell_count(const struct metrics_family *f)
{
    size_t n = 1;
    for (size_t i = 0; i < METRICS_LABELS_MAX; i++)
        if (f->labels[i].name)
            n *= f->labels[i].count;
    return n;
}

/* The index of value among the label's values; unknown ones go to the last. */
static size_t value_index(const struct metrics_label *label, const char *value)
{
    if (!label->name || label->count == 0)
        return 0;
    for (size_t i = 0; value && i < label->count; i++)
        if (strcmp(label->values[i], value) == 0)
            return i;
    return label->count - 1;
}

size_t metrics_cell_of(const struct metrics_family *f, const char *value0, const char *value1)
{
    size_t minor_count = f->labels[1].name ? f->labels[1].count : 1;
    return value_index(&f->labels[0], value0) * minor_count + value_index(&f->labels[1], value1);
}

void metrics_add(struct metrics_family *f, size_t cell, long long n)
{
    atomic_fetch_add_explicit(&f->cells[cell].value, n, memory_order_relaxed);
}

void metrics_set(struct metrics_family *f, size_t cell, long long value)
{
    atomic_store_explicit(&f->cells[cell].value, value, memory_order_relaxed);
}

static unsigned long long double_bits(double d)
{
    unsigned long long bits;
    memcpy(&bits, &d, sizeof(bits));
    return bits;
}

double metrics_cell_sum(const struct metrics_cell *cell)
{
    unsigned long long bits = atomic_load_explicit(&cell->sum_bits, memory_order_relaxed);
    double d;
    memcpy(&d, &bits, sizeof(d));
    return d;
}

void metrics_observe(struct metrics_family *f, size_t cell, double value)
{
    struct metrics_cell *c = &f->cells[cell];
    size_t bucket = 0;
    while (bucket < f->bound_count && value > f->bounds[bucket])
        bucket++;
    atomic_fetch_add_explicit(&c->buckets[bucket], 1, memory_order_relaxed);
    unsigned long long old = atomic_load_explicit(&c->sum_bits, memory_order_relaxed);
    for (;;) {
        double sum;
        memcpy(&sum, &old, sizeof(sum));
        if (atomic_compare_exchange_weak_explicit(&c->sum_bits, &old, double_bits(sum + value),
                                                  memory_order_relaxed, memory_order_relaxed))
            break;
    }
}
