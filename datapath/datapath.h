/*
 * datapath.h: weft's user-space data path for encrypted overlays (issue 11).
 *
 * Owns worker threads that move Ethernet frames between the TAP queues of the
 * host's encrypted overlays (vxlan/tap.h opens them) and UDP datagrams to the
 * other hosts (VTEPs):
 *   TAP -> lookup(dst MAC) -> seal per VTEP -> sendmmsg to <vtep>:udp_port
 *   recvmmsg -> weft header (VNI picks the overlay) -> open -> write to its TAP
 * Every encrypted overlay of a host shares the one UDP port, so one data path
 * serves them all: overlays are added and removed while it runs. Worker i owns
 * queue i of every overlay's TAP and its own UDP socket, bound with SO_REUSEPORT
 * to the shared port (the kernel spreads the datagrams of every overlay over
 * the sockets; the VNI in the header sends each to its overlay). Each worker has
 * its own preallocated buffers (nothing is allocated per packet) and its own
 * counters. The transform (seal/open) is pluggable and shared by the overlays:
 * the crypto of tunnel/ plugs in there; datapath_plain is the identity, for tests.
 * Offloads, as fast user-space tunnels do them: TCP/IPv4 super-frames from the
 * TAP are cut into MTU-sized segments before seal (each segment is sealed on
 * its own), runs of datagrams to one VTEP go out as one UDP GSO send, joined
 * runs come in through UDP GRO, and consecutive TCP segments are joined again
 * into one GSO frame before they are written to the TAP.
 *
 * On the wire a datagram is an 8-byte weft header (version, type, VNI) followed
 * by what seal wrote; the header goes to seal and open as associated data, so
 * an AEAD binds the VNI too.
 *
 * Callers: fabric/ (next) and the tests. datapath_start/stop/stats and
 * datapath_overlay_add/remove from one thread (the owner); lookup, seal and
 * open are called from every worker at once and must be thread-safe. The UDP
 * sockets are made by datapath_start in the calling thread's network
 * namespace. VTEPs are of one family, the local VTEP's: IPv4, or IPv6 on an
 * IPv6 underlay (the sockets are of that family).
 */
#ifndef WEFT_DATAPATH_H
#define WEFT_DATAPATH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "common/ip_addr.h"

#define DATAPATH_UDP_PORT 4790
#define DATAPATH_MAX_WORKERS 16
/* The most overlays one data path serves at once. */
#define DATAPATH_MAX_OVERLAYS 256
/* The most VTEPs one frame goes to (a broadcast reaches every member host). */
#define DATAPATH_MAX_FANOUT 256
/* Largest frame (Ethernet header included) and largest transform overhead. */
#define DATAPATH_FRAME_MAX 9230
#define DATAPATH_TRANSFORM_OVERHEAD_MAX 128
/* weft header on every datagram. */
#define DATAPATH_HDR_LEN 8

/* Why a frame or datagram was dropped; seal and open return one of these (or 0). */
enum datapath_drop {
    DATAPATH_OK = 0,
    DATAPATH_DROP_NO_PEER,     /* lookup found no VTEP for the destination */
    DATAPATH_DROP_BAD_FRAME,   /* TAP gave a runt, a GSO frame or a bad header */
    DATAPATH_DROP_TOO_BIG,     /* does not fit the buffers */
    DATAPATH_DROP_NO_KEY,      /* the transform has no session with that peer */
    DATAPATH_DROP_SEAL,        /* seal failed otherwise */
    DATAPATH_DROP_SEND,        /* sendmmsg refused the datagram */
    DATAPATH_DROP_MALFORMED,   /* datagram too short or not weft's header */
    DATAPATH_DROP_WRONG_VNI,   /* a VNI this data path does not serve */
    DATAPATH_DROP_AUTH,        /* open: authentication failed */
    DATAPATH_DROP_REPLAY,      /* open: counter seen before or too old */
    DATAPATH_DROP_OPEN,        /* open failed otherwise */
    DATAPATH_DROP_TAP_WRITE,   /* the TAP refused the frame */
    DATAPATH_DROP_COUNT
};
/* "no_peer", "auth", ... for logs and reports. */
const char *datapath_drop_name(enum datapath_drop reason);

struct datapath_transform {
    /* Bytes seal adds at most (header, tag): the overlay MTU leaves room for it. */
    size_t overhead;
    /* Writes the sealed form of frame for peer_vtep into out (cap bytes). */
    enum datapath_drop (*seal)(void *ctx, const struct ip_addr *peer_vtep, const uint8_t *aad,
                               size_t aad_len, const uint8_t *frame, size_t len, uint8_t *out,
                               size_t cap, size_t *out_len);
    /* Writes the frame that pkt (from src_vtep) carries into out (cap bytes). */
    enum datapath_drop (*open)(void *ctx, const struct ip_addr *src_vtep, const uint8_t *aad,
                               size_t aad_len, const uint8_t *pkt, size_t len, uint8_t *out,
                               size_t cap, size_t *out_len);
    /* Whether peer_vtep's data path takes TCP segments whose checksum is left
     * partial (the pseudo header's sum, as a NIC with checksum offload gets it):
     * then the segments cut from a super-frame for it are not summed. NULL: none does. */
    bool (*partial_csum)(void *ctx, const struct ip_addr *peer_vtep);
    void *ctx;
};

/* The identity: a frame goes on the wire as it is (tests, benchmarks). */
extern const struct datapath_transform datapath_plain;

/* The VTEPs a frame to dst_mac goes to: the peer's for a known unicast MAC, every
 * member host's for broadcast, multicast and unknown unicast. Returns how many it
 * wrote (at most max); 0 drops the frame. */
typedef size_t (*datapath_lookup_fn)(void *ctx, const uint8_t dst_mac[6], struct ip_addr *vteps,
                                     size_t max);

struct datapath_config {
    int nworkers;                        /* 1..DATAPATH_MAX_WORKERS */
    uint16_t udp_port;                   /* host order; 0 means DATAPATH_UDP_PORT */
    /* The address the sockets bind to; its family is the sockets' and every
     * VTEP's. No family: any IPv4 address (tests). */
    struct ip_addr local_vtep;
    struct datapath_transform transform; /* shared by every overlay */
};

struct datapath_stats {
    uint64_t tap_frames;    /* frames read from the TAP */
    uint64_t sent;          /* datagrams sent */
    uint64_t received;      /* datagrams received */
    uint64_t tap_written;   /* frames written to the TAP */
    uint64_t drops[DATAPATH_DROP_COUNT];
};

struct datapath;

/* Opens the sockets and starts nworkers workers, serving no overlay yet. On
 * failure nothing runs and nothing stays open. */
int datapath_start(const struct datapath_config *config, struct datapath **out,
                   struct weft_err *err);
/* Stops the workers (at once: they poll an eventfd), closes the sockets, frees dp.
 * The overlays' TAP queues and lookup contexts stay the caller's. NULL is fine. */
void datapath_stop(struct datapath *dp);

/* One overlay the data path serves. */
struct datapath_overlay_spec {
    uint32_t vni;
    const int *tap_fds; /* datapath_workers() queues of the overlay's TAP (queue i to
                         * worker i); borrowed until the overlay is removed */
    datapath_lookup_fn lookup;
    void *lookup_ctx; /* borrowed until the overlay is removed */
};
/* The workers take the overlay's datagrams and TAP frames from now on. Returns
 * 0, or -1 with err->code -EEXIST when the VNI is there already, -EINVAL for a
 * bad spec, -ENOSPC past DATAPATH_MAX_OVERLAYS (or another errno when a worker
 * cannot watch a queue). On failure the data path has let go of the overlay as
 * datapath_overlay_remove does: the caller may close and free at once. */
int datapath_overlay_add(struct datapath *dp, const struct datapath_overlay_spec *spec,
                         struct weft_err *err);
/* Returns once no worker can touch the overlay's TAP queues or lookup_ctx any
 * more (the caller then closes and frees them); its datagrams count as
 * wrong_vni from then on. An unknown VNI is a no-op. */
void datapath_overlay_remove(struct datapath *dp, uint32_t vni);

/* How many workers run: the TAP queues an overlay brings. */
int datapath_workers(const struct datapath *dp);
/* The counters summed over the workers and the overlays (each read is a recent value). */
void datapath_stats(const struct datapath *dp, struct datapath_stats *out);
/* One worker's counters (0 <= index < datapath_workers): which thread carried what. */
void datapath_worker_stats(const struct datapath *dp, int index, struct datapath_stats *out);

/* The overlay MTU that leaves room for the outer IP (20 bytes, 40 on an IPv6
 * underlay) + UDP + weft headers and the transform's overhead on an underlay of
 * underlay_mtu. */
int datapath_overlay_mtu(int underlay_mtu, bool ipv6_underlay, size_t transform_overhead);
/* How many workers to run: the cores, at most DATAPATH_MAX_WORKERS. */
int datapath_default_workers(void);

#endif
