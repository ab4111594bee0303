/*
 * plain.c: the identity transform of datapath.h: a frame goes on the wire as it
 * is. For tests and for measuring the data path without crypto; never for a
 * user's overlay (nothing is authenticated).
 */
#include <string.h>

#include "datapath/datapath.h"

static enum datapath_drop copy(const uint8_t *in, size_t len, uint8_t *out, size_t cap,
                               size_t *out_len)
{
    if (len > cap)
        return DATAPATH_DROP_TOO_BIG;
    memcpy(out, in, len);
    *out_len = len;
    return DATAPATH_OK;
}

static enum datapath_drop plain_seal(void *ctx, const struct ip_addr *peer_vtep, const uint8_t *aad,
                                     size_t aad_len, const uint8_t *frame, size_t len, uint8_t *out,
                                     size_t cap, size_t *out_len)
{
    (void)ctx, (void)peer_vtep, (void)aad, (void)aad_len;
    return copy(frame, len, out, cap, out_len);
}

static enum datapath_drop plain_open(void *ctx, const struct ip_addr *src_vtep, const uint8_t *aad,
                                     size_t aad_len, const uint8_t *pkt, size_t len, uint8_t *out,
                                     size_t cap, size_t *out_len)
{
    (void)ctx, (void)src_vtep, (void)aad, (void)aad_len;
    return copy(pkt, len, out, cap, out_len);
}

/* Both ends of the identity run this build, which takes partial checksums. */
static bool plain_partial_csum(void *ctx, const struct ip_addr *peer_vtep)
{
    (void)ctx, (void)peer_vtep;
    return true;
}

const struct datapath_transform datapath_plain = {
    .overhead = 0,
    .seal = plain_seal,
    .open = plain_open,
    .partial_csum = plain_partial_csum,
    .ctx = NULL,
};
