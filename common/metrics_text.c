/*
 * metrics_text.c: writes families in Prometheus text format 0.0.4 (metrics_text.h).
 * A writer remembers its first failure, so the lines are written without a check
 * after each piece and the caller learns once.
 */
#include "common/metrics_text.h"

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct writer {
    struct weft_buf *out;
    bool failed;
};

static void put(struct writer *w, const char *s, size_t n)
{
    if (!w->failed && weft_buf_append(w->out, s, n, NULL) < 0)
        w->failed = true;
}

static void put_str(struct writer *w, const char *s)
{
    put(w, s, strlen(s));
}

/* HELP text escapes backslash and newline; a label value also the double quote. */
static void put_escaped(struct writer *w, const char *s, bool label_value)
{
    for (; *s; s++) {
        if (*s == '\\')
            put_str(w, "\\\\");
        else if (*s == '\n')
            put_str(w, "\\n");
        else if (*s == '"' && label_value)
            put_str(w, "\\\"");
        else
            put(w, s, 1);
    }
}

#define NUMBER_TEXT_MAX 40

/* The shortest text that reads back as v; Prometheus' spellings of the infinities. */
static void format_number(double v, char text[NUMBER_TEXT_MAX])
{
    if (isnan(v))
        snprintf(text, NUMBER_TEXT_MAX, "NaN");
    else if (isinf(v))
        snprintf(text, NUMBER_TEXT_MAX, v > 0 ? "+Inf" : "-Inf");
    else {
        for (int digits = 15; digits <= 17; digits++) {
            snprintf(text, NUMBER_TEXT_MAX, "%.*g", digits, v);
            if (strtod(text, NULL) == v)
                break;
        }
    }
}

static void put_number(struct writer *w, double v)
{
    char text[NUMBER_TEXT_MAX];
    format_number(v, text);
    put_str(w, text);
}

static void put_header(struct writer *w, const char *name, const char *help, const char *type)
{
    put_str(w, "# HELP ");
    put_str(w, name);
    put_str(w, " ");
    put_escaped(w, help, false);
    put_str(w, "\n# TYPE ");
    put_str(w, name);
    put_str(w, " ");
    put_str(w, type);
    put_str(w, "\n");
}

/* name+suffix{label="value",...[,le="bound"]} with the values of cell. */
static void put_series(struct writer *w, const struct metrics_family *f, const char *suffix,
                       size_t cell, const char *le)
{
    size_t minor_count = f->labels[1].name ? f->labels[1].count : 1;
    size_t index[METRICS_LABELS_MAX] = {cell / minor_count, cell % minor_count};
    put_str(w, f->name);
    put_str(w, suffix);
    const char *sep = "{";
    for (size_t i = 0; i < METRICS_LABELS_MAX; i++) {
        if (!f->labels[i].name)
            continue;
        put_str(w, sep);
        put_str(w, f->labels[i].name);
        put_str(w, "=\"");
        put_escaped(w, f->labels[i].values[index[i]], true);
        put_str(w, "\"");
        sep = ",";
    }
    if (le) {
        put_str(w, sep);
        put_str(w, "le=\"");
        put_str(w, le);
        put_str(w, "\"");
        sep = ",";
    }
    if (sep[0] == ',')
        put_str(w, "}");
    put_str(w, " ");
}

/* Buckets are kept per bound; the format wants each to count everything at or below it. */
static void put_histogram_cell(struct writer *w, const struct metrics_family *f, size_t cell)
{
    const struct metrics_cell *c = &f->cells[cell];
    unsigned long long cumulative = 0;
    char le[NUMBER_TEXT_MAX];
    for (size_t b = 0; b <= f->bound_count; b++) {
        cumulative += atomic_load_explicit(&c->buckets[b], memory_order_relaxed);
        format_number(b < f->bound_count ? f->bounds[b] : INFINITY, le);
        put_series(w, f, "_bucket", cell, le);
        put_number(w, (double)cumulative);
        put_str(w, "\n");
    }
    put_series(w, f, "_sum", cell, NULL);
    put_number(w, metrics_cell_sum(c));
    put_str(w, "\n");
    /* The +Inf bucket, not a separate count: the two agree even mid-update. */
    put_series(w, f, "_count", cell, NULL);
    put_number(w, (double)cumulative);
    put_str(w, "\n");
}

static const char *type_name(enum metrics_type type)
{
    return type == METRICS_COUNTER ? "counter" : type == METRICS_GAUGE ? "gauge" : "histogram";
}

int metrics_text_family(struct weft_buf *out, const struct metrics_family *f, struct weft_err *err)
{
    struct writer w = {out, false};
    put_header(&w, f->name, f->help, type_name(f->type));
    size_t cells = metrics_cell_count(f);
    for (size_t cell = 0; cell < cells; cell++) {
        if (f->type == METRICS_HISTOGRAM) {
            put_histogram_cell(&w, f, cell);
            continue;
        }
        put_series(&w, f, "", cell, NULL);
        put_number(&w, (double)atomic_load_explicit(&f->cells[cell].value, memory_order_relaxed));
        put_str(&w, "\n");
    }
    return w.failed ? weft_err_set(err, -ENOMEM, "out of memory writing metrics") : 0;
}

int metrics_text_value(struct weft_buf *out, const char *name, const char *help, const char *type,
                       double value, struct weft_err *err)
{
    struct writer w = {out, false};
    put_header(&w, name, help, type);
    put_str(&w, name);
    put_str(&w, " ");
    put_number(&w, value);
    put_str(&w, "\n");
    return w.failed ? weft_err_set(err, -ENOMEM, "out of memory writing metrics") : 0;
}
