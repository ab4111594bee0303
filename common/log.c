/* log.c: the log writer behind log.h (logfmt, or JSON through log_json.h). One
 * fprintf per line so threads don't interleave. */
#include "common/log.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/log_json.h"

static const char *level_names[] = {"debug", "info", "warn", "error"};

/* -1: not chosen yet (WEFT_LOG_FORMAT is read at the first line); 0 logfmt; 1 json. */
static int json_format = -1;

int log_set_format(const char *name)
{
    if (!name || (strcmp(name, "logfmt") != 0 && strcmp(name, "json") != 0))
        return -1;
    json_format = strcmp(name, "json") == 0;
    return 0;
}

static bool want_json(void)
{
    if (json_format < 0) {
        const char *env = getenv("WEFT_LOG_FORMAT");
        json_format = env && strcmp(env, "json") == 0;
    }
    return json_format == 1;
}

void log_event(enum log_level level, const char *msg, const char *fmt, ...)
{
    static int min_level = -1;
    if (min_level < 0) {
        const char *env = getenv("WEFT_LOG_LEVEL");
        min_level = LOG_LEVEL_INFO;
        for (int i = LOG_LEVEL_DEBUG; env && i <= LOG_LEVEL_ERROR; i++)
            if (strcmp(env, level_names[i]) == 0)
                min_level = i;
        if (env && strcmp(env, "off") == 0)
            min_level = LOG_LEVEL_ERROR + 1;
    }
    if ((int)level < min_level)
        return;
    char fields[1024] = "";
    if (fmt) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(fields, sizeof(fields), fmt, ap);
        va_end(ap);
    }
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    struct tm tm;
    gmtime_r(&now.tv_sec, &tm);
    char stamp[32], ts[64];
    strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(ts, sizeof(ts), "%s.%03ldZ", stamp, (long)(now.tv_nsec / 1000000) % 1000);
    if (want_json()) {
        char line[4096];
        log_json_line(line, sizeof(line), ts, level_names[level], msg, fields);
        fprintf(stderr, "%s", line);
        return;
    }
    fprintf(stderr, "ts=%s level=%s msg=\"%s\"%s%s\n", ts, level_names[level], msg,
            fields[0] ? " " : "", fields);
}
