/*
 * fuzz_gateway_watch.c: libFuzzer target over what the JSON gateway's watch stream
 * brings back (store/etcd_watch.c, `--store-watch gateway`): the stream's lines, each
 * a watch answer, decoded into events (base64 keys and values, revisions), batched and
 * delivered, or ending the stream with a reason.
 *
 * The file is included whole, so that its line handling runs as the watch thread
 * runs it, on a watch that was never started (no thread, no connection). The input is
 * the stream's bytes; each line is handled as stream_write would once it is whole.
 * What must hold, beyond not crashing and no sanitizer report:
 *  - every delivered event has a key, a PUT a value and a DELETE none, and no revision
 *    above what the watch then says it has delivered (last_rev);
 *  - last_rev never goes back;
 *  - a line that ends the stream says why (stream_error), and a stream that asks to be
 *    listed again (resync) has ended.
 * Seeds: tests/fuzz/corpus_gateway_watch.sh (answers as etcd 3.4's gateway sends them).
 * Built with -DFUZZ_GATEWAY_WATCH_VERBOSE it prints what each line led to.
 */
#include "store/etcd_watch.c"

static void on_events(void *ctx, const struct etcd_event *events, size_t count)
{
    const struct etcd_watch *w = ctx;
    for (size_t i = 0; i < count; i++) {
        const struct etcd_event *e = &events[i];
        if (e->type != ETCD_EVENT_PUT && e->type != ETCD_EVENT_DELETE)
            abort();
        if (!e->key || (e->type == ETCD_EVENT_PUT) != (e->value != NULL))
            abort();
        if (e->revision > w->last_rev)
            abort();
#ifdef FUZZ_GATEWAY_WATCH_VERBOSE
        fprintf(stderr, "event %s %s revision %" PRId64 "\n",
                e->type == ETCD_EVENT_PUT ? "put" : "delete", e->key, e->revision);
#endif
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct etcd etcd; /* only its current member is read, when a watch is created */
    static char member[] = "127.0.0.1:2379";
    static char *members[] = {member};
    etcd.members = members;
    etcd.member_count = 1;
    struct etcd_watch w = {.etcd = &etcd, .fn = on_events, .prefix = "/weft/v1/fabric/"};
    w.ctx = &w;
    size_t done = 0;
    while (done < size) {
        const uint8_t *nl = memchr(data + done, '\n', size - done);
        size_t len = nl ? (size_t)(nl - (data + done)) : size - done;
        int64_t before = w.last_rev;
        int rc = len > 0 ? handle_line(&w, (const char *)data + done, len) : 0;
        flush_batch(&w);
        if (w.last_rev < before)
            abort();
#ifdef FUZZ_GATEWAY_WATCH_VERBOSE
        fprintf(stderr, "line: rc %d last_rev %" PRId64 " created %d error \"%s\"\n", rc,
                w.last_rev, w.created, w.stream_error);
#endif
        if (rc < 0) {
            if (w.stream_error[0] == '\0')
                abort();
            break;
        }
        if (w.resync)
            abort(); /* asked to list again but went on */
        done += len + 1;
    }
    for (size_t i = 0; i < w.batch_count; i++)
        etcd_kv_clear(&w.batch_kvs[i]);
    free(w.batch_kvs);
    free(w.batch_events);
    return 0;
}
