/*
 * replay.h: the receive side's replay window for one epoch of one peer (issue 11),
 * WireGuard's sliding bitmap (RFC 6479): the highest counter accepted and a ring of
 * TUNNEL_REPLAY_BITS bits behind it.
 *
 * Owns: which counters of an epoch were accepted. A counter more than
 * TUNNEL_REPLAY_WINDOW below the highest is too old; one whose bit is set was seen.
 * Checking is separate from accepting, so that only packets whose tag verified
 * move the window (a forged counter cannot push it). Callers: tunnel/session.c.
 * Not thread-safe: one receiving thread per window. No allocation.
 */
#ifndef WEFT_TUNNEL_REPLAY_H
#define WEFT_TUNNEL_REPLAY_H

#include <stdint.h>

#define TUNNEL_REPLAY_BITS 2048
/* Counters this far behind the highest still count (one word of the ring is the
 * one being filled). */
#define TUNNEL_REPLAY_WINDOW (TUNNEL_REPLAY_BITS - 64)

struct tunnel_replay {
    uint64_t highest; /* the highest counter accepted (0 before any) */
    uint64_t bits[TUNNEL_REPLAY_BITS / 64];
};

enum tunnel_replay_verdict {
    TUNNEL_REPLAY_FRESH,
    TUNNEL_REPLAY_SEEN,
    TUNNEL_REPLAY_TOO_OLD,
};

void tunnel_replay_reset(struct tunnel_replay *window);
enum tunnel_replay_verdict tunnel_replay_check(const struct tunnel_replay *window,
                                               uint64_t counter);
/* Marks counter seen (after its packet authenticated; check said FRESH). */
void tunnel_replay_accept(struct tunnel_replay *window, uint64_t counter);

#endif
