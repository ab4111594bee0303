/*
 * replay.c: the sliding replay bitmap (see replay.h), as WireGuard's
 * noise/replay counter does it: words ahead of the highest are cleared as it moves.
 */
#include "tunnel/replay.h"

#include <string.h>

#define WORDS (TUNNEL_REPLAY_BITS / 64)

void tunnel_replay_reset(struct tunnel_replay *window)
{
    memset(window, 0, sizeof(*window));
}

enum tunnel_replay_verdict tunnel_replay_check(const struct tunnel_replay *window,
                                               uint64_t counter)
{
    if (counter > window->highest)
        return TUNNEL_REPLAY_FRESH;
    if (window->highest - counter >= TUNNEL_REPLAY_WINDOW)
        return TUNNEL_REPLAY_TOO_OLD;
    uint64_t bit = counter % TUNNEL_REPLAY_BITS;
    if (window->bits[bit / 64] & (1ULL << (bit % 64)))
        return TUNNEL_REPLAY_SEEN;
    return TUNNEL_REPLAY_FRESH;
}

void tunnel_replay_accept(struct tunnel_replay *window, uint64_t counter)
{
    if (counter > window->highest) {
        uint64_t from = window->highest / 64, to = counter / 64;
        uint64_t steps = to - from < WORDS ? to - from : WORDS;
        for (uint64_t i = 1; i <= steps; i++)
            window->bits[(from + i) % WORDS] = 0;
        window->highest = counter;
    }
    uint64_t bit = counter % TUNNEL_REPLAY_BITS;
    window->bits[bit / 64] |= 1ULL << (bit % 64);
}
