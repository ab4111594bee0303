/*
 * test_datapath_segments.c: datapath/'s per-packet work without a kernel: a
 * TCP/IPv4 super-frame cut into segments (tso.c) with correct lengths, IDs,
 * sequence numbers, flags and checksums; the segments joined again (coalesce.c)
 * into one GSO frame written to a "TAP" (a SEQPACKET socket pair here); frames
 * that cannot join pass as they are; partial checksums completed; the weft
 * header checked. The same cut and join for a TCP/IPv6 super-frame (no ID, no
 * header checksum, the payload length, the IPv6 pseudo header; always summed in
 * full when cut).
 */
#include <linux/virtio_net.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "datapath/datapath_internal.h"

#define PAYLOAD 5000
#define MSS 1400

static uint8_t super[ETH_HDR_LEN + 20 + 32 + PAYLOAD];

static uint16_t get16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)get16(p) << 16 | get16(p + 2);
}

/* Ethernet + IPv4 (10.99.0.1 -> .2, ID 0x1000) + TCP with 12 bytes of options
 * (seq 1000, ACK|PSH) + PAYLOAD bytes 0, 1, 2, ... */
/* The TCP header and payload of every super-frame here. */
static void fill_tcp(uint8_t *tcp)
{
    tcp[0] = 0x9c, tcp[1] = 0x40, tcp[2] = 0x14, tcp[3] = 0x51;
    tcp[6] = 0x03, tcp[7] = 0xe8; /* seq 1000 */
    tcp[12] = 8 << 4, tcp[13] = 0x18, tcp[14] = 0x01;
    memcpy(tcp + 20, "\x01\x01\x08\x0a\x00\x00\x00\x01\x00\x00\x00\x02", 12);
    for (size_t i = 0; i < PAYLOAD; i++)
        tcp[32 + i] = (uint8_t)i;
}

static void build_super_frame(void)
{
    uint8_t *f = super;
    memset(f, 0, sizeof(super));
    memcpy(f, "\x02\x00\x00\x00\x99\x02\x02\x00\x00\x00\x99\x01\x08\x00", 14);
    uint8_t *ip = f + 14;
    ip[0] = 0x45, ip[4] = 0x10, ip[6] = 0x40, ip[8] = 64, ip[9] = 6;
    memcpy(ip + 12, "\x0a\x63\x00\x01\x0a\x63\x00\x02", 8);
    fill_tcp(ip + 20);
}

static bool ip_checksum_ok(const uint8_t *ip)
{
    return csum_fold(csum_add(0, ip, 20)) == 0xffff;
}

static bool tcp_checksum_ok(const uint8_t *frame, size_t len)
{
    const uint8_t *ip = frame + 14;
    uint8_t pseudo[12] = {0};
    memcpy(pseudo, ip + 12, 8);
    pseudo[9] = 6;
    pseudo[10] = (uint8_t)((len - 34) >> 8), pseudo[11] = (uint8_t)(len - 34);
    return csum_fold(csum_add(csum_add(0, pseudo, 12), frame + 34, len - 34)) == 0xffff;
}

/* The pseudo header's sum (folded, not complemented) for a TCP/IPv4 frame of len
 * bytes: what a partial checksum field holds. */
static uint16_t pseudo_sum(const uint8_t *frame, size_t len)
{
    uint8_t pseudo[12] = {0};
    memcpy(pseudo, frame + 26, 8);
    pseudo[9] = 6;
    pseudo[10] = (uint8_t)((len - 34) >> 8), pseudo[11] = (uint8_t)(len - 34);
    return csum_fold(csum_add(0, pseudo, 12));
}

/* For a receiver that completes TCP checksums: the IP checksum in full, the TCP
 * one left as the pseudo header's sum; everything else as for any receiver. */
static void tso_leaves_tcp_checksums_partial_when_asked(void **state)
{
    (void)state;
    build_super_frame();
    struct tap_frame f = {.data = super, .len = sizeof(super), .gso_size = MSS};
    struct tso_iter it;
    uint8_t *seg;
    size_t len, count = 0;
    assert_int_equal(tso_begin(&it, &f, true), DATAPATH_OK);
    while (tso_next(&it, 2048, &seg, &len)) {
        assert_true(ip_checksum_ok(seg + 14));
        assert_int_equal(get16(seg + 50), pseudo_sum(seg, len));
        assert_int_equal(get32(seg + 38), 1000 + count * MSS);
        count++;
    }
    assert_int_equal(count, 4);
}

static void tso_cuts_a_super_frame_like_a_nic(void **state)
{
    (void)state;
    build_super_frame();
    struct tap_frame f = {.data = super, .len = sizeof(super), .gso_size = MSS};
    struct tso_iter it;
    static uint8_t original[sizeof(super)];
    uint8_t *seg;
    size_t len, sizes[8], count = 0, payload_seen = 0;
    memcpy(original, super, sizeof(super)); /* the cut writes headers over the payload */
    assert_int_equal(tso_begin(&it, &f, false), DATAPATH_OK);
    while (tso_next(&it, 2048, &seg, &len)) {
        assert_true(count < 8);
        const uint8_t *ip = seg + 14, *tcp = ip + 20;
        sizes[count] = len - 66;
        assert_int_equal(get16(ip + 2), len - 14);
        assert_int_equal(get16(ip + 4), 0x1000 + count);
        assert_true(ip_checksum_ok(ip));
        assert_true(tcp_checksum_ok(seg, len));
        assert_int_equal(get32(tcp + 4), 1000 + payload_seen);
        assert_memory_equal(seg + 66, original + 66 + payload_seen, sizes[count]);
        assert_ptr_equal(seg, super + payload_seen); /* in place: right before its payload */
        bool last = payload_seen + sizes[count] == PAYLOAD;
        assert_int_equal(tcp[13], last ? 0x18 : 0x10); /* PSH only on the last */
        payload_seen += sizes[count++];
    }
    assert_int_equal(count, 4);
    assert_int_equal(sizes[0], MSS);
    assert_int_equal(sizes[3], PAYLOAD - 3 * MSS);
    /* A segment longer than the caller takes: none, and the frame is left as it was. */
    build_super_frame();
    assert_int_equal(tso_begin(&it, &f, false), DATAPATH_OK);
    assert_false(tso_next(&it, 100, &seg, &len));
    assert_memory_equal(super, original, sizeof(super));
    /* Not IPv4/TCP: refused. */
    super[12] = 0x86, super[13] = 0xdd;
    assert_int_equal(tso_begin(&it, &f, false), DATAPATH_DROP_BAD_FRAME);
}

struct fake_worker {
    struct worker w;
    int tap;      /* the worker's end of its "TAP" */
    int tap_peer; /* reads what the worker writes to its "TAP" */
};

static void fake_worker_init(struct fake_worker *fw)
{
    int sv[2];
    memset(fw, 0, sizeof(*fw));
    assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv), 0);
    int size = 1 << 20;
    setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &size, sizeof(size));
    setsockopt(sv[1], SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
    fw->tap = sv[0];
    fw->tap_peer = sv[1];
    fw->w.rx.buf = malloc(DATAPATH_VNET_HDR_LEN + COALESCE_MAX);
    assert_non_null(fw->w.rx.buf);
}

static void fake_worker_free(struct fake_worker *fw)
{
    close(fw->tap);
    close(fw->tap_peer);
    free(fw->w.rx.buf);
}

/* One frame written to the fake TAP, or -1 when none waits. */
static ssize_t tap_read(struct fake_worker *fw, uint8_t *buf, size_t cap)
{
    return recv(fw->tap_peer, buf, cap, MSG_DONTWAIT);
}

/* Cuts a copy of a super-frame (the cut spends what it cuts; super's unless
 * given) and feeds every segment to the coalescer. */
static void feed_frame_segments(struct fake_worker *fw, const uint8_t *frame, size_t frame_len)
{
    static uint8_t copy[ETH_HDR_LEN + 40 + 32 + PAYLOAD];
    assert_true(frame_len <= sizeof(copy));
    memcpy(copy, frame, frame_len);
    struct tap_frame f = {.data = copy, .len = frame_len, .gso_size = MSS};
    struct tso_iter it;
    static uint8_t opened[DATAPATH_VNET_HDR_LEN + 2048];
    uint8_t *seg;
    size_t len;
    assert_int_equal(tso_begin(&it, &f, false), DATAPATH_OK);
    while (tso_next(&it, 2048, &seg, &len)) {
        memcpy(opened + DATAPATH_VNET_HDR_LEN, seg, len);
        coalesce_add(&fw->w, fw->tap, opened, len);
    }
}

static void feed_segments(struct fake_worker *fw)
{
    feed_frame_segments(fw, super, sizeof(super));
}

/* Reads the one frame the coalescer wrote (out: its virtio-net header and
 * frame_len bytes) and checks the header: GSO of gso_type, mss MSS, hdr_len bytes
 * of headers, the TCP checksum partial from csum_start. */
static void expect_one_gso_frame(struct fake_worker *fw, uint8_t *out, size_t cap, size_t frame_len,
                                 uint8_t gso_type, size_t hdr_len, size_t csum_start)
{
    ssize_t n = tap_read(fw, out, cap);
    assert_int_equal(n, DATAPATH_VNET_HDR_LEN + frame_len);
    assert_int_equal(tap_read(fw, out + n, 16), -1); /* exactly one write */
    struct virtio_net_hdr hdr;
    memcpy(&hdr, out, sizeof(hdr));
    assert_int_equal(hdr.gso_type, gso_type);
    assert_int_equal(hdr.flags, VIRTIO_NET_HDR_F_NEEDS_CSUM);
    assert_int_equal(hdr.gso_size, MSS);
    assert_int_equal(hdr.hdr_len, hdr_len);
    assert_int_equal(hdr.csum_start, csum_start);
    assert_int_equal(hdr.csum_offset, 16);
}

static void coalescer_joins_the_segments_into_one_gso_frame(void **state)
{
    (void)state;
    struct fake_worker fw;
    static uint8_t out[DATAPATH_VNET_HDR_LEN + COALESCE_MAX];
    build_super_frame();
    fake_worker_init(&fw);
    feed_segments(&fw);
    assert_int_equal(tap_read(&fw, out, sizeof(out)), -1); /* held until the batch ends */
    coalesce_flush(&fw.w);
    expect_one_gso_frame(&fw, out, sizeof(out), sizeof(super), VIRTIO_NET_HDR_GSO_TCPV4, 66, 34);
    const uint8_t *f = out + DATAPATH_VNET_HDR_LEN;
    assert_int_equal(get16(f + 16), sizeof(super) - 14);
    assert_true(ip_checksum_ok(f + 14));
    assert_int_equal(get32(f + 38), 1000);
    assert_int_equal(f[47], 0x18); /* the last segment's PSH */
    assert_memory_equal(f + 66, super + 66, PAYLOAD);
    assert_int_equal(atomic_load(&fw.w.counters.tap_written), 1);
    fake_worker_free(&fw);
}

/* Ethernet + IPv6 (fd99::1 -> fd99::2, flow label 0x12345, hop limit 64) + the
 * same TCP header and payload as super. */
static uint8_t super6[ETH_HDR_LEN + 40 + 32 + PAYLOAD];
static void build_super_frame6(void)
{
    uint8_t *f = super6;
    memset(f, 0, sizeof(super6));
    memcpy(f, "\x02\x00\x00\x00\x99\x02\x02\x00\x00\x00\x99\x01\x86\xdd", 14);
    uint8_t *ip = f + 14;
    memcpy(ip, "\x60\x01\x23\x45", 4);
    ip[6] = 6, ip[7] = 64;
    ip[8] = ip[24] = 0xfd, ip[9] = ip[25] = 0x99, ip[23] = 1, ip[39] = 2;
    fill_tcp(ip + 40);
    ip[4] = (uint8_t)((sizeof(super6) - 54) >> 8), ip[5] = (uint8_t)(sizeof(super6) - 54);
}

/* The IPv6 pseudo header's sum (folded) for a TCP/IPv6 frame of len bytes. */
static uint16_t pseudo_sum6(const uint8_t *frame, size_t len)
{
    uint8_t pseudo[40] = {0};
    memcpy(pseudo, frame + 22, 32);
    pseudo[34] = (uint8_t)((len - 54) >> 8), pseudo[35] = (uint8_t)(len - 54);
    pseudo[39] = 6;
    return csum_fold(csum_add(0, pseudo, sizeof(pseudo)));
}

static bool tcp6_checksum_ok(const uint8_t *frame, size_t len)
{
    uint8_t pseudo[40] = {0};
    memcpy(pseudo, frame + 22, 32);
    pseudo[34] = (uint8_t)((len - 54) >> 8), pseudo[35] = (uint8_t)(len - 54);
    pseudo[39] = 6;
    return csum_fold(csum_add(csum_add(0, pseudo, 40), frame + 54, len - 54)) == 0xffff;
}

/* IPv6: each segment's payload length, sequence, flags and a full TCP checksum, even
 * for a receiver that takes partial ones; the rest of the header as the kernel gave it. */
static void tso_cuts_an_ipv6_super_frame(void **state)
{
    (void)state;
    build_super_frame6();
    static uint8_t original[sizeof(super6)];
    memcpy(original, super6, sizeof(super6));
    struct tap_frame f = {.data = super6, .len = sizeof(super6), .gso_size = MSS};
    struct tso_iter it;
    uint8_t *seg;
    size_t len, count = 0, payload_seen = 0;
    assert_int_equal(tso_begin(&it, &f, true), DATAPATH_OK);
    while (tso_next(&it, 2048, &seg, &len)) {
        assert_true(count < 8);
        const uint8_t *ip = seg + 14, *tcp = ip + 40;
        size_t size = len - 86;
        assert_int_equal(get16(ip + 4), len - 54);
        assert_memory_equal(ip, original + 14, 4);      /* version, class, flow label */
        assert_memory_equal(ip + 6, original + 20, 34); /* next header, hop limit, addresses */
        assert_true(tcp6_checksum_ok(seg, len));
        assert_int_equal(get32(tcp + 4), 1000 + payload_seen);
        assert_memory_equal(seg + 86, original + 86 + payload_seen, size);
        bool last = payload_seen + size == PAYLOAD;
        assert_int_equal(tcp[13], last ? 0x18 : 0x10);
        payload_seen += size;
        count++;
    }
    assert_int_equal(count, 4);
    assert_int_equal(payload_seen, PAYLOAD);
    /* An extension header (hop-by-hop, 0) in front of TCP: not cut, refused. */
    build_super_frame6();
    super6[14 + 6] = 0;
    assert_int_equal(tso_begin(&it, &f, false), DATAPATH_DROP_BAD_FRAME);
}

/* The segments of an IPv6 super-frame join again into one TCPv6 GSO frame. */
static void coalescer_joins_ipv6_segments(void **state)
{
    (void)state;
    struct fake_worker fw;
    static uint8_t out[DATAPATH_VNET_HDR_LEN + COALESCE_MAX], copy[sizeof(super6)];
    static uint8_t opened[DATAPATH_VNET_HDR_LEN + 2048];
    build_super_frame6();
    fake_worker_init(&fw);
    feed_frame_segments(&fw, super6, sizeof(super6));
    coalesce_flush(&fw.w);
    expect_one_gso_frame(&fw, out, sizeof(out), sizeof(super6), VIRTIO_NET_HDR_GSO_TCPV6, 86, 54);
    const uint8_t *fr = out + DATAPATH_VNET_HDR_LEN;
    assert_int_equal(get16(fr + 18), sizeof(super6) - 54);
    assert_int_equal(get16(fr + 70), pseudo_sum6(fr, sizeof(super6)));
    assert_int_equal(get32(fr + 58), 1000);
    assert_int_equal(fr[67], 0x18); /* the last segment's PSH */
    assert_memory_equal(fr + 86, super6 + 86, PAYLOAD);
    /* An IPv4 segment between IPv6 ones does not join them: three writes. */
    build_super_frame();
    memcpy(copy, super6, sizeof(super6));
    struct tap_frame f = {.data = copy, .len = sizeof(copy), .gso_size = MSS};
    struct tso_iter it;
    uint8_t *seg;
    size_t len;
    assert_int_equal(tso_begin(&it, &f, false), DATAPATH_OK);
    assert_true(tso_next(&it, 2048, &seg, &len));
    memcpy(opened + DATAPATH_VNET_HDR_LEN, seg, len);
    coalesce_add(&fw.w, fw.tap, opened, len);
    memcpy(opened + DATAPATH_VNET_HDR_LEN, super, ETH_HDR_LEN + 20 + 32 + MSS);
    opened[DATAPATH_VNET_HDR_LEN + 16] = (uint8_t)((20 + 32 + MSS) >> 8);
    opened[DATAPATH_VNET_HDR_LEN + 17] = (uint8_t)(20 + 32 + MSS);
    coalesce_add(&fw.w, fw.tap, opened, ETH_HDR_LEN + 20 + 32 + MSS);
    assert_true(tso_next(&it, 2048, &seg, &len));
    memcpy(opened + DATAPATH_VNET_HDR_LEN, seg, len);
    coalesce_add(&fw.w, fw.tap, opened, len);
    coalesce_flush(&fw.w);
    int writes = 0;
    while (tap_read(&fw, out, sizeof(out)) > 0)
        writes++;
    assert_int_equal(writes, 3);
    fake_worker_free(&fw);
}

static void frames_that_cannot_join_pass_as_they_are(void **state)
{
    (void)state;
    struct fake_worker fw;
    static uint8_t out[DATAPATH_VNET_HDR_LEN + COALESCE_MAX];
    static uint8_t arp[DATAPATH_VNET_HDR_LEN + 42];
    build_super_frame();
    fake_worker_init(&fw);
    memcpy(arp + DATAPATH_VNET_HDR_LEN, "\xff\xff\xff\xff\xff\xff\x02\x00\x00\x00\x99\x01\x08\x06",
           14);
    feed_segments(&fw);                   /* held: four segments */
    coalesce_add(&fw.w, fw.tap, arp, 42); /* not TCP: the held run goes first, then the ARP */
    feed_segments(&fw);                   /* the same sequence again: a retransmission */
    feed_segments(&fw);                   /* cannot follow the first copy's end */
    coalesce_flush(&fw.w);
    ssize_t lens[8];
    int writes = 0;
    while (writes < 8 && (lens[writes] = tap_read(&fw, out, sizeof(out))) > 0)
        writes++;
    assert_int_equal(writes, 4);
    assert_int_equal(lens[0], DATAPATH_VNET_HDR_LEN + sizeof(super));
    assert_int_equal(lens[1], DATAPATH_VNET_HDR_LEN + 42);
    assert_int_equal(lens[2], DATAPATH_VNET_HDR_LEN + sizeof(super));
    assert_int_equal(lens[3], DATAPATH_VNET_HDR_LEN + sizeof(super));
    fake_worker_free(&fw);
}

/* Every TCP/IPv4 frame reaches the TAP with "checksum partial" and the pseudo
 * header's sum in its field, whatever its sender left there: one held alone, and
 * one that cannot join (FIN); the caller's header is zero again afterwards. Other
 * frames keep a zero header. */
static void tcp_frames_reach_the_tap_with_partial_checksums(void **state)
{
    (void)state;
    struct fake_worker fw;
    static uint8_t out[DATAPATH_VNET_HDR_LEN + COALESCE_MAX];
    static uint8_t frame[DATAPATH_VNET_HDR_LEN + 2048];
    static const uint8_t zero[DATAPATH_VNET_HDR_LEN];
    build_super_frame();
    fake_worker_init(&fw);
    struct tap_frame f = {.data = super, .len = sizeof(super), .gso_size = MSS};
    struct tso_iter it;
    uint8_t *seg;
    size_t len;
    assert_int_equal(tso_begin(&it, &f, false), DATAPATH_OK); /* full checksums */
    assert_true(tso_next(&it, 2048, &seg, &len));
    for (int round = 0; round < 2; round++) {
        memcpy(frame + DATAPATH_VNET_HDR_LEN, seg, len);
        if (round == 1)
            frame[DATAPATH_VNET_HDR_LEN + 47] |= 0x01; /* FIN: never joins */
        coalesce_add(&fw.w, fw.tap, frame, len);
        assert_memory_equal(frame, zero, sizeof(zero));
        coalesce_flush(&fw.w);
        assert_int_equal(tap_read(&fw, out, sizeof(out)), DATAPATH_VNET_HDR_LEN + len);
        struct virtio_net_hdr hdr;
        memcpy(&hdr, out, sizeof(hdr));
        assert_int_equal(hdr.flags, VIRTIO_NET_HDR_F_NEEDS_CSUM);
        assert_int_equal(hdr.gso_type, VIRTIO_NET_HDR_GSO_NONE);
        assert_int_equal(hdr.csum_start, 34);
        assert_int_equal(hdr.csum_offset, 16);
        assert_int_equal(get16(out + DATAPATH_VNET_HDR_LEN + 50),
                         pseudo_sum(out + DATAPATH_VNET_HDR_LEN, len));
    }
    static uint8_t arp[DATAPATH_VNET_HDR_LEN + 42];
    memcpy(arp + DATAPATH_VNET_HDR_LEN, "\xff\xff\xff\xff\xff\xff\x02\x00\x00\x00\x99\x01\x08\x06",
           14);
    coalesce_add(&fw.w, fw.tap, arp, 42);
    assert_int_equal(tap_read(&fw, out, sizeof(out)), DATAPATH_VNET_HDR_LEN + 42);
    assert_memory_equal(out, zero, sizeof(zero));
    fake_worker_free(&fw);
}

/* Two overlays' TAPs behind one worker: a run held for one TAP is written there
 * before a segment for the other is taken, even one that would continue it. */
static void coalescer_flushes_when_the_tap_changes(void **state)
{
    (void)state;
    struct fake_worker fw, other;
    static uint8_t out[DATAPATH_VNET_HDR_LEN + COALESCE_MAX];
    build_super_frame();
    fake_worker_init(&fw);
    fake_worker_init(&other); /* only its socket pair: the second TAP */
    struct tap_frame f = {.data = super, .len = sizeof(super), .gso_size = MSS};
    struct tso_iter it;
    static uint8_t opened[DATAPATH_VNET_HDR_LEN + 2048];
    uint8_t *seg;
    size_t len;
    int n = 0;
    assert_int_equal(tso_begin(&it, &f, false), DATAPATH_OK);
    while (tso_next(&it, 2048, &seg, &len)) {
        memcpy(opened + DATAPATH_VNET_HDR_LEN, seg, len);
        coalesce_add(&fw.w, n++ < 2 ? fw.tap : other.tap, opened, len);
    }
    coalesce_flush(&fw.w);
    assert_int_equal(tap_read(&fw, out, sizeof(out)), DATAPATH_VNET_HDR_LEN + 66 + 2 * MSS);
    assert_int_equal(tap_read(&fw, out, sizeof(out)), -1);
    assert_int_equal(tap_read(&other, out, sizeof(out)),
                     DATAPATH_VNET_HDR_LEN + sizeof(super) - 2 * MSS);
    assert_int_equal(tap_read(&other, out, sizeof(out)), -1);
    fake_worker_free(&fw);
    fake_worker_free(&other);
}

static void partial_checksums_are_completed(void **state)
{
    (void)state;
    build_super_frame();
    static uint8_t buf[DATAPATH_VNET_HDR_LEN + 66 + 100];
    size_t len = 66 + 100;
    memcpy(buf + DATAPATH_VNET_HDR_LEN, super, len);
    uint8_t *f = buf + DATAPATH_VNET_HDR_LEN;
    f[16] = 0, f[17] = (uint8_t)(len - 14); /* IP length for this frame */
    f[24] = f[25] = 0;
    uint16_t ipsum = (uint16_t)~csum_fold(csum_add(0, f + 14, 20));
    f[24] = (uint8_t)(ipsum >> 8), f[25] = (uint8_t)ipsum;
    /* The kernel's partial form: the pseudo header's sum in the TCP checksum field. */
    uint8_t pseudo[12] = {0};
    memcpy(pseudo, f + 26, 8);
    pseudo[9] = 6, pseudo[11] = (uint8_t)(len - 34);
    uint16_t partial = csum_fold(csum_add(0, pseudo, 12));
    f[50] = (uint8_t)(partial >> 8), f[51] = (uint8_t)partial;
    struct virtio_net_hdr hdr = {.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM, .csum_start = 34,
                                 .csum_offset = 16};
    memcpy(buf, &hdr, sizeof(hdr));
    struct tap_frame out;
    assert_int_equal(frame_from_tap(buf, DATAPATH_VNET_HDR_LEN + len, &out), DATAPATH_OK);
    assert_int_equal(out.gso_size, 0);
    assert_true(tcp_checksum_ok(out.data, out.len));
    /* A checksum offset past the frame's end is refused, not written. */
    hdr.csum_offset = 200;
    memcpy(buf, &hdr, sizeof(hdr));
    assert_int_equal(frame_from_tap(buf, DATAPATH_VNET_HDR_LEN + len, &out),
                     DATAPATH_DROP_BAD_FRAME);
}

/* RFC 1071's example, odd lengths, and a sum carried over two calls. */
static void checksum_sums_words_in_network_order(void **state)
{
    (void)state;
    const uint8_t rfc[8] = {0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7};
    assert_int_equal(csum_fold(csum_add(0, rfc, 8)), 0xddf2);
    assert_int_equal(csum_fold(csum_add(0, rfc, 3)), 0xf201);
    assert_int_equal(csum_fold(csum_add(0, rfc + 2, 1)), 0xf200);
    assert_int_equal(csum_fold(csum_add(csum_add(0, rfc, 4), rfc + 4, 4)), 0xddf2);
    uint8_t ones[40];
    memset(ones, 0xff, sizeof(ones));
    assert_int_equal(csum_fold(csum_add(0, ones, sizeof(ones))), 0xffff);
}

/* RFC 1071 word by word, network order: what csum_add's 16-byte rounds must equal. */
static uint16_t reference_sum(uint32_t sum, const uint8_t *data, size_t len)
{
    for (size_t i = 0; i < len; i += 2)
        sum += (uint32_t)data[i] << 8 | (i + 1 < len ? data[i + 1] : 0);
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return (uint16_t)sum;
}

/* Every length up to two segments' worth and every alignment, from patterned and
 * all-ones data (the carries' worst case), in one call and continued in a second. */
static void checksum_agrees_with_word_by_word_sums(void **state)
{
    (void)state;
    static uint8_t data[3000 + 8];
    for (size_t i = 0; i < sizeof(data); i++)
        data[i] = (uint8_t)(i * 131 + 7);
    for (int fill = 0; fill < 2; fill++) {
        if (fill)
            memset(data, 0xff, sizeof(data));
        for (size_t off = 0; off < 8; off++)
            for (size_t len = 0; len <= 3000; len += len < 64 ? 1 : 37) {
                uint16_t want = reference_sum(0, data + off, len);
                size_t half = len / 4 * 2; /* a continued sum splits at an even byte */
                assert_int_equal(csum_fold(csum_add(0, data + off, len)), want);
                assert_int_equal(
                    csum_fold(csum_add(csum_add(0, data + off, half), data + off + half, len - half)),
                    want);
            }
    }
}

static void weft_header_names_version_type_and_vni(void **state)
{
    (void)state;
    uint8_t pkt[DATAPATH_HDR_LEN + 60] = {0};
    uint32_t vni = 0;
    wire_header_write(pkt, 4242);
    assert_int_equal(wire_header_vni(pkt, sizeof(pkt), &vni), DATAPATH_OK);
    assert_int_equal(vni, 4242);
    assert_int_equal(wire_header_vni(pkt, DATAPATH_HDR_LEN + 10, &vni), DATAPATH_DROP_MALFORMED);
    pkt[0] = 2;
    assert_int_equal(wire_header_vni(pkt, sizeof(pkt), &vni), DATAPATH_DROP_MALFORMED);
    assert_int_equal(datapath_overlay_mtu(1500, false, 0), 1450);
    assert_int_equal(datapath_overlay_mtu(1500, true, 0), 1430); /* a 40-byte IPv6 header */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(tso_cuts_a_super_frame_like_a_nic),
        cmocka_unit_test(tso_leaves_tcp_checksums_partial_when_asked),
        cmocka_unit_test(coalescer_joins_the_segments_into_one_gso_frame),
        cmocka_unit_test(tso_cuts_an_ipv6_super_frame),
        cmocka_unit_test(coalescer_joins_ipv6_segments),
        cmocka_unit_test(frames_that_cannot_join_pass_as_they_are),
        cmocka_unit_test(coalescer_flushes_when_the_tap_changes),
        cmocka_unit_test(tcp_frames_reach_the_tap_with_partial_checksums),
        cmocka_unit_test(partial_checksums_are_completed),
        cmocka_unit_test(checksum_sums_words_in_network_order),
        cmocka_unit_test(checksum_agrees_with_word_by_word_sums),
        cmocka_unit_test(weft_header_names_version_type_and_vni),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
