/*
 * metrics_process.c: process_* metrics from /proc/self (metrics_process.h), named
 * and typed as the Go and Python clients name them, so stock dashboards work.
 */
#include "common/metrics_process.h"

#include <dirent.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "common/metrics_text.h"

/* The fields of /proc/self/stat we use (proc(5) numbers them from 1). */
struct proc_stat {
    unsigned long utime, stime;   /* 14, 15: clock ticks */
    unsigned long long starttime; /* 22: clock ticks after boot */
    unsigned long vsize;          /* 23: bytes */
    long rss;                     /* 24: pages */
};

/* The command name (field 2) may hold spaces and parentheses: fields are counted
 * from the last ')'. */
static bool read_proc_stat(struct proc_stat *st)
{
    char line[1024];
    FILE *f = fopen("/proc/self/stat", "re");
    if (!f)
        return false;
    bool ok = fgets(line, sizeof(line), f) != NULL;
    fclose(f);
    char *rest = ok ? strrchr(line, ')') : NULL;
    if (!rest)
        return false;
    /* From field 3 (state) on; fields 4..13 and 16..21 are skipped. */
    return sscanf(rest + 1,
                  " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu %*d %*d %*d %*d %*d %*d "
                  "%llu %lu %ld",
                  &st->utime, &st->stime, &st->starttime, &st->vsize, &st->rss) == 5;
}

/* Seconds since the epoch when the machine booted (btime in /proc/stat), or -1. */
static long long boot_time(void)
{
    char line[256];
    long long btime = -1;
    FILE *f = fopen("/proc/stat", "re");
    if (!f)
        return -1;
    while (fgets(line, sizeof(line), f))
        if (sscanf(line, "btime %lld", &btime) == 1)
            break;
    fclose(f);
    return btime;
}

/* Entries of /proc/self/fd but the directory's own descriptor, or -1. */
static long open_fds(void)
{
    DIR *dir = opendir("/proc/self/fd");
    if (!dir)
        return -1;
    long n = 0;
    struct dirent *de;
    while ((de = readdir(dir)))
        if (de->d_name[0] != '.')
            n++;
    closedir(dir);
    return n - 1;
}

int metrics_process_write(struct weft_buf *out, struct weft_err *err)
{
    struct proc_stat st;
    double ticks = (double)sysconf(_SC_CLK_TCK);
    if (read_proc_stat(&st) && ticks > 0) {
        long long btime = boot_time();
        if (metrics_text_value(out, "process_cpu_seconds_total",
                               "Total user and system CPU time spent in seconds.", "counter",
                               (double)(st.utime + st.stime) / ticks, err) < 0 ||
            metrics_text_value(out, "process_resident_memory_bytes",
                               "Resident memory size in bytes.", "gauge",
                               (double)st.rss * (double)sysconf(_SC_PAGESIZE), err) < 0 ||
            metrics_text_value(out, "process_virtual_memory_bytes", "Virtual memory size in bytes.",
                               "gauge", (double)st.vsize, err) < 0 ||
            (btime >= 0 &&
             metrics_text_value(out, "process_start_time_seconds",
                                "Start time of the process since unix epoch in "
                                "seconds.",
                                "gauge", (double)btime + (double)st.starttime / ticks, err) < 0))
            return -1;
    }
    long fds = open_fds();
    if (fds >= 0 && metrics_text_value(out, "process_open_fds", "Number of open file descriptors.",
                                       "gauge", (double)fds, err) < 0)
        return -1;
    struct rlimit limit;
    if (getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur != RLIM_INFINITY &&
        metrics_text_value(out, "process_max_fds", "Maximum number of open file descriptors.",
                           "gauge", (double)limit.rlim_cur, err) < 0)
        return -1;
    return 0;
}
