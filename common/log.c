/* log.c: the logfmt writer behind log.h. One fprintf per line so threads don't interleave. */
#include "common/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char *level_names[] = {"debug", "info", "warn", "error"};

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
    char stamp[32];
    strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
    fprintf(stderr, "ts=%s.%03ldZ level=%s msg=\"%s\"%s%s\n", stamp, now.tv_nsec / 1000000,
            level_names[level], msg, fields[0] ? " " : "", fields);
}
