/* follower.c: STUB until the Docker follower lands (follower.h). */
#include "docker/follower.h"

#include <stdlib.h>

struct docker_follower {
    int unused;
};

int docker_follower_start(struct docker_follower **out, const char *socket_path,
                          docker_names_fn on_names, void *ctx, struct weft_err *err)
{
    (void)socket_path, (void)on_names, (void)ctx, (void)err;
    *out = calloc(1, sizeof(**out));
    return 0;
}

void docker_follower_stop(struct docker_follower *f)
{
    free(f);
}
