/* resolv_conf.c: STUB until the resolv.conf reader lands (resolv_conf.h). */
#include "dns/resolv_conf.h"

#include <stdlib.h>

struct resolv_conf {
    int unused;
};

int resolv_conf_parse(const char *text, struct sockaddr_storage *out, size_t max, size_t *count,
                      struct weft_err *err)
{
    (void)text, (void)out, (void)max, (void)err;
    *count = 0;
    return 0;
}

struct resolv_conf *resolv_conf_new(const char *path)
{
    (void)path;
    return calloc(1, sizeof(struct resolv_conf));
}

void resolv_conf_free(struct resolv_conf *rc)
{
    free(rc);
}

size_t resolv_conf_servers(struct resolv_conf *rc, struct sockaddr_storage *out, size_t max)
{
    (void)rc, (void)out, (void)max;
    return 0;
}
