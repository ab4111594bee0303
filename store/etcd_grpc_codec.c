/*
 * etcd_grpc_codec.c: gRPC framing of etcd's Watch messages (etcd_grpc_internal.h).
 *
 * Owns the wire format only: a frame is a zero byte (not compressed), a 4-byte
 * big-endian length and a protobuf message of store/etcd_rpc.proto (protobuf-c).
 * Requests are packed as frames onto a buffer; answers are cut from the bytes
 * gathered so far, however they were split, and unpacked. No state, no curl:
 * called by etcd_grpc_watch.c (requests) and etcd_grpc_answer.c (answers).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "store/etcd_grpc_internal.h"

static int pack_frame(struct weft_buf *out, const Weftetcd__WatchRequest *req, struct weft_err *err)
{
    size_t len = weftetcd__watch_request__get_packed_size(req);
    if (weft_buf_reserve(out, GRPC_FRAME_HEADER + len, err) < 0)
        return -1;
    uint8_t *p = (uint8_t *)out->data + out->len;
    p[0] = 0; /* not compressed */
    p[1] = (uint8_t)(len >> 24);
    p[2] = (uint8_t)(len >> 16);
    p[3] = (uint8_t)(len >> 8);
    p[4] = (uint8_t)len;
    weftetcd__watch_request__pack(req, p + GRPC_FRAME_HEADER);
    out->len += GRPC_FRAME_HEADER + len;
    out->data[out->len] = '\0';
    return 0;
}

int grpc_frame_create(struct weft_buf *out, const char *key, const char *range_end,
                      int64_t start_revision, struct weft_err *err)
{
    Weftetcd__WatchCreateRequest create = WEFTETCD__WATCH_CREATE_REQUEST__INIT;
    create.key = (ProtobufCBinaryData){strlen(key), (uint8_t *)key};
    create.range_end = (ProtobufCBinaryData){strlen(range_end), (uint8_t *)range_end};
    create.start_revision = start_revision;
    Weftetcd__WatchRequest req = WEFTETCD__WATCH_REQUEST__INIT;
    req.request_union_case = WEFTETCD__WATCH_REQUEST__REQUEST_UNION_CREATE_REQUEST;
    req.create_request = &create;
    return pack_frame(out, &req, err);
}

int grpc_frame_cancel(struct weft_buf *out, int64_t server_id, struct weft_err *err)
{
    Weftetcd__WatchCancelRequest cancel = WEFTETCD__WATCH_CANCEL_REQUEST__INIT;
    cancel.watch_id = server_id;
    Weftetcd__WatchRequest req = WEFTETCD__WATCH_REQUEST__INIT;
    req.request_union_case = WEFTETCD__WATCH_REQUEST__REQUEST_UNION_CANCEL_REQUEST;
    req.cancel_request = &cancel;
    return pack_frame(out, &req, err);
}

int grpc_frame_progress(struct weft_buf *out, struct weft_err *err)
{
    Weftetcd__WatchProgressRequest progress = WEFTETCD__WATCH_PROGRESS_REQUEST__INIT;
    Weftetcd__WatchRequest req = WEFTETCD__WATCH_REQUEST__INIT;
    req.request_union_case = WEFTETCD__WATCH_REQUEST__REQUEST_UNION_PROGRESS_REQUEST;
    req.progress_request = &progress;
    return pack_frame(out, &req, err);
}

int grpc_frame_next(const struct weft_buf *in, size_t *off, Weftetcd__WatchResponse **resp,
                    struct weft_err *err)
{
    if (in->len - *off < GRPC_FRAME_HEADER)
        return 0;
    const uint8_t *p = (const uint8_t *)in->data + *off;
    uint32_t len = (uint32_t)p[1] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 8 | p[4];
    if (p[0] != 0)
        return weft_err_set(err, -EPROTO, "etcd watch: a compressed answer (never asked for)");
    if (len > GRPC_FRAME_MAX)
        return weft_err_set(err, -EMSGSIZE, "etcd watch: an answer of %u bytes", len);
    if (in->len - *off < GRPC_FRAME_HEADER + (size_t)len)
        return 0;
    *resp = weftetcd__watch_response__unpack(NULL, len, p + GRPC_FRAME_HEADER);
    *off += GRPC_FRAME_HEADER + len;
    if (!*resp)
        return weft_err_set(err, -EPROTO, "etcd watch: an answer that is not a WatchResponse");
    return 1;
}
