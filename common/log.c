/* log.c: the logfmt writer behind log.h. One fprintf per line so threads don't interleave. */
#include "common/log.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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
    char stamp[32];
    strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
    char line[LOG_RECENT_LINE_MAX + 1024];
    snprintf(line, sizeof(line), "ts=%s.%03ldZ level=%s msg=\"%s\"%s%s", stamp,
             now.tv_nsec / 1000000, level_names[level], msg, fields[0] ? " " : "", fields);
    if (level >= LOG_LEVEL_WARN)
        remember(line);
    if ((int)level >= min_level)
        fprintf(stderr, "%s\n", line);
}
