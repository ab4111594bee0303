/*
 * kernel_look.h: what iproute2 shows, for tests that check the kernel's state
 * (tests may use iproute2 to look; the product never does). Header-only.
 */
#ifndef WEFT_KERNEL_LOOK_H
#define WEFT_KERNEL_LOOK_H

#include <stdio.h>
#include <string.h>

/* Runs cmd and returns its output in a static buffer (overwritten by the next call). */
static inline const char *look(const char *cmd)
{
    static char out[1 << 20];
    out[0] = '\0';
    FILE *p = popen(cmd, "r");
    if (!p)
        return out;
    size_t n = fread(out, 1, sizeof(out) - 1, p);
    out[n] = '\0';
    pclose(p);
    return out;
}

#endif
