/* log.c: the log writer behind log.h (logfmt, or JSON through log_json.h). One
 * fprintf per line so threads don't interleave. */
#include "common/log.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/log_json.h"

static const char *level_names[] = {"debug", "info", "warn", "error"};

/* The ring behind log_recent: the last warn/error lines, next is where the next goes. */
static pthread_mutex_t recent_lock = PTHREAD_MUTEX_INITIALIZER;
static char recent[LOG_RECENT_MAX][LOG_RECENT_LINE_MAX];
static size_t recent_next, recent_count;

static void remember(const char *line)
{
    pthread_mutex_lock(&recent_lock);
    size_t len = strnlen(line, LOG_RECENT_LINE_MAX - 1); /* a longer line is cut */
    memcpy(recent[recent_next], line, len);
    recent[recent_next][len] = '\0';
    recent_next = (recent_next + 1) % LOG_RECENT_MAX;
    if (recent_count < LOG_RECENT_MAX)
        recent_count++;
    pthread_mutex_unlock(&recent_lock);
}

size_t log_recent(char lines[][LOG_RECENT_LINE_MAX], size_t max)
{
    pthread_mutex_lock(&recent_lock);
    size_t n = recent_count < max ? recent_count : max;
    size_t first = (recent_next + LOG_RECENT_MAX - n) % LOG_RECENT_MAX;
    for (size_t i = 0; i < n; i++)
        memcpy(lines[i], recent[(first + i) % LOG_RECENT_MAX], LOG_RECENT_LINE_MAX);
    pthread_mutex_unlock(&recent_lock);
    return n;
}

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
    if ((int)level < min_level && level < LOG_LEVEL_WARN)
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
    char line[4096];
    /* weft status keeps warnings and errors in logfmt, whatever the output's format. */
    if (level >= LOG_LEVEL_WARN) {
        snprintf(line, sizeof(line), "ts=%s level=%s msg=\"%s\"%s%s", ts, level_names[level],
                 msg, fields[0] ? " " : "", fields);
        remember(line);
    }
    if ((int)level < min_level)
        return;
    if (want_json()) {
        log_json_line(line, sizeof(line), ts, level_names[level], msg, fields);
        fprintf(stderr, "%s", line);
        return;
    }
    fprintf(stderr, "ts=%s level=%s msg=\"%s\"%s%s\n", ts, level_names[level], msg,
            fields[0] ? " " : "", fields);
}
