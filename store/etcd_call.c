/*
 * etcd_call.c: one request of weft's etcd client on its way through the members
 * (see etcd.h): a pool of curl handles (a request reuses an open connection and costs
 * one round trip), failover between members, rounds while a cluster elects or a
 * burst queues, and telling an unreachable store from a slow one. etcd.c opens and
 * closes the client. Callers: etcd_call and etcd_call_consume, from any thread.
 */
#include "store/etcd_internal.h"

#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/buf.h"
#include "common/clock.h"
#include "common/log.h"
#include "common/weft_metrics.h"

static int cancel_check(void *clientp, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                        curl_off_t ulnow)
{
    (void)dltotal, (void)dlnow, (void)ultotal, (void)ulnow;
    return atomic_load((const atomic_bool *)clientp) ? 1 : 0;
}

static CURL *pool_take(struct etcd *etcd)
{
    CURL *h = NULL;
    pthread_mutex_lock(&etcd->pool_lock);
    if (etcd->pool_count > 0)
        h = etcd->pool[--etcd->pool_count];
    pthread_mutex_unlock(&etcd->pool_lock);
    return h ? h : etcd_handle_new(etcd);
}

/* Gives h back (on top) and takes out what has been idle too long at the bottom. */
static void pool_give(struct etcd *etcd, CURL *h)
{
    CURL *stale[ETCD_POOL_MAX];
    size_t stale_count = 0;
    long now = clock_monotonic_ms(), idle_ms = atomic_load(&etcd->pool_idle_ms);
    pthread_mutex_lock(&etcd->pool_lock);
    if (etcd->pool_count < ETCD_POOL_MAX) {
        etcd->pool_idle_since[etcd->pool_count] = now;
        etcd->pool[etcd->pool_count++] = h;
        h = NULL;
    }
    while (stale_count + 1 < etcd->pool_count && now - etcd->pool_idle_since[stale_count] > idle_ms) {
        stale[stale_count] = etcd->pool[stale_count];
        stale_count++;
    }
    etcd->pool_count -= stale_count;
    memmove(etcd->pool, etcd->pool + stale_count, etcd->pool_count * sizeof(etcd->pool[0]));
    memmove(etcd->pool_idle_since, etcd->pool_idle_since + stale_count,
            etcd->pool_count * sizeof(etcd->pool_idle_since[0]));
    pthread_mutex_unlock(&etcd->pool_lock);
    if (h)
        curl_easy_cleanup(h);
    for (size_t i = 0; i < stale_count; i++)
        curl_easy_cleanup(stale[i]);
}

void etcd_set_pool_idle_ms(struct etcd *etcd, long idle_ms)
{
    if (idle_ms > 0)
        atomic_store(&etcd->pool_idle_ms, idle_ms);
}

/* One request on its way through the members. */
struct attempt {
    struct etcd *etcd;
    CURL *h;
    const char *path;
    const char *request;       /* the JSON body sent */
    const atomic_bool *cancel; /* may be NULL */
    unsigned token_generation; /* of the token sent (etcd_auth.c) */
    struct weft_err trust;     /* a member we could not trust or that refused us: code 0 if none */
    char errbuf[CURL_ERROR_SIZE];
    struct weft_buf answer;
    size_t start;    /* etcd->current when the round began */
    bool saw_503;    /* a member had no leader: another round may do better */
    bool unanswered; /* a member took the request and timed out: maybe electing */
    bool refused;    /* every member of the round refused the connection */
    char failures[WEFT_ERR_MAX - 64];
};

/* Appends "(member): reason" to the round's list of members that failed. */
static void note_failure(struct attempt *a, const char *member, const char *reason)
{
    size_t used = strlen(a->failures);
    if (used + 1 < sizeof(a->failures))
        snprintf(a->failures + used, sizeof(a->failures) - used, "%s(%s): %s", used ? "; " : "",
                 member, reason);
}

/* The message of an etcd error body {"error","message","code"}, or a generic one. */
static void error_message(const struct weft_buf *body, char *out, size_t size, long status)
{
    json_t *json = body->data ? json_loadb(body->data, body->len, 0, NULL) : NULL;
    const char *msg = etcd_json_reason(json, "message");
    if (!msg)
        msg = etcd_json_reason(json, "error");
    if (msg)
        snprintf(out, size, "%s", msg);
    else
        snprintf(out, size, "HTTP status %ld", status);
    json_decref(json);
}

/* The kind of an HTTP error status from a member that answered (the gateway's
 * mapping of gRPC codes). A member that answered is reachable: never -ETIMEDOUT. */
static int status_code(long status)
{
    switch (status) {
    case 400:
        return -EINVAL;
    case 401:
    case 403:
        return -EACCES;
    case 404:
        return -ENOENT;
    case 409:
        return -EEXIST;
    default:
        return -EIO;
    }
}

/* An answer other than 200 or 503 from member: the final error for err. 2 when it
 * says our token expired (get a new one, ask again). */
static int answer_failure(struct attempt *a, const char *member, long status, struct weft_err *err)
{
    struct etcd *etcd = a->etcd;
    const char *body = a->answer.data;
    size_t len = a->answer.len;
    /* (Authenticating sends no token: a 401 there is final, and must not recurse.) */
    if (etcd->auth.user && strcmp(a->path, "/v3/auth/authenticate") != 0 &&
        etcd_auth_token_invalid(status, body, len))
        return 2;
    if (etcd_tls_answer_failure(etcd, member, status, body, len, err) < 0 ||
        etcd_auth_failure(etcd, member, a->path, a->request, status, body, len, err) < 0)
        return -1;
    char msg[256];
    error_message(&a->answer, msg, sizeof(msg), status);
    return weft_err_set(err, status_code(status), "store error at %s: %s", member, msg);
}

/* Asks member m once. 0: *reply holds the answer; -1: a final failure in err;
 * 1: this member failed (noted) and the next may do better; 2: our token expired. */
static int try_member(struct attempt *a, size_t m, json_t **reply, struct weft_err *err)
{
    struct etcd *etcd = a->etcd;
    const char *member = etcd->members[m];
    char url[512];
    snprintf(url, sizeof(url), "%s://%s%s", etcd_scheme(etcd), member, a->path);
    curl_easy_setopt(a->h, CURLOPT_URL, url);
    weft_buf_clear(&a->answer);
    a->errbuf[0] = '\0';
    struct etcd_socket_owner owner = {&etcd->health, m, etcd_health_dead(&etcd->health, m)};
    etcd_health_perform_on(a->h, &owner);
    CURLcode cc = curl_easy_perform(a->h);
    if (a->cancel && atomic_load(a->cancel))
        return weft_err_set(err, -ECANCELED, "store request to %s canceled", member);
    if (cc == CURLE_WRITE_ERROR) /* only answer_write fails a write: out of memory */
        return weft_err_set(err, -ENOMEM, "out of memory reading the answer of %s", member);
    if (cc != CURLE_OK && a->trust.code == 0 &&
        etcd_tls_failure(etcd, member, cc, a->errbuf, &a->trust) < 0) {
        note_failure(a, member, "not trusted (TLS)");
        a->refused = false;
        return 1; /* another member may be set up right */
    }
    if (cc != CURLE_OK) {
        a->refused = a->refused && cc == CURLE_COULDNT_CONNECT;
        long sent = 0;
        if (cc == CURLE_OPERATION_TIMEDOUT &&
            curl_easy_getinfo(a->h, CURLINFO_REQUEST_SIZE, &sent) == CURLE_OK && sent > 0)
            a->unanswered = true;
        note_failure(a, member, curl_easy_strerror(cc));
        return 1;
    }
    long status = 0;
    curl_easy_getinfo(a->h, CURLINFO_RESPONSE_CODE, &status);
    char msg[256];
    if (status == 503) { /* no leader or overloaded: another member may do better */
        error_message(&a->answer, msg, sizeof(msg), status);
        note_failure(a, member, msg);
        a->saw_503 = true;
        a->refused = false;
        return 1;
    }
    if (m != a->start) {
        log_info("store failover", "member=%s", member);
        weft_metrics_store_failover();
    }
    atomic_store(&etcd->current, m);
    if (status != 200)
        return answer_failure(a, member, status, err);
    *reply = a->answer.data ? json_loadb(a->answer.data, a->answer.len, 0, NULL) : NULL;
    if (!*reply)
        return weft_err_set(err, -EPROTO, "store at %s answered invalid JSON", member);
    return 0;
}

/* Between retry rounds while a cluster elects a leader. */
#define ELECTION_RETRY_MS 150L

/* Sleeps ms (on the monotonic clock) in small steps; true if cancel became set meanwhile. */
static bool pause_unless_canceled(long ms, const atomic_bool *cancel)
{
    long until = clock_monotonic_ms() + ms;
    for (long left = ms; left > 0; left = until - clock_monotonic_ms()) {
        if (cancel && atomic_load(cancel))
            return true;
        struct timespec step = {0, (left < 25 ? left : 25) * 1000000L};
        clock_nanosleep(CLOCK_MONOTONIC, 0, &step, NULL);
    }
    return cancel && atomic_load(cancel);
}

/* A request that timed out while the store answered others (a store queueing a
 * burst) is asked again, up to this many rounds beyond its budget, each only when the
 * store answered others during the round before: served late rather than failed. */
#define SLOW_STORE_ROUNDS 2

/* Rounds over the members, as try_member answers: 1 when every member failed.
 * Another round only while the budget of one timeout per member allows, and only
 * when some member answered 503 (no leader yet: an election takes one to three
 * seconds; a 503 request was not applied) or took the request and answered
 * nothing: a follower that has not yet noticed its leader's death forwards to the
 * dead leader, and by the next round the cluster has elected. Such a request may
 * have been applied; the next member is asked it already within a round, and
 * callers recognise their own write (test_etcd_retry). So an election shows as
 * latency rather than as errors, and so does a burst (SLOW_STORE_ROUNDS). */
static int call_rounds(struct attempt *a, long timeout, json_t **reply, struct weft_err *err)
{
    struct etcd *etcd = a->etcd;
    long began = clock_monotonic_ms(), budget = timeout * (long)etcd->member_count;
    int rc = 1, slow_rounds = 0;
    unsigned long answers_at_round = atomic_load(&etcd->answers);
    a->saw_503 = true;
    for (int round = 0; rc == 1 && (a->saw_503 || a->unanswered); round++) {
        if (round > 0) {
            /* Slow, not gone: it took the request and answered others meanwhile. */
            unsigned long answers_now = atomic_load(&etcd->answers);
            bool slow = a->unanswered && answers_now != answers_at_round;
            answers_at_round = answers_now;
            if (clock_monotonic_ms() - began + ELECTION_RETRY_MS >= budget &&
                (!slow || slow_rounds++ == SLOW_STORE_ROUNDS))
                break;
            if (pause_unless_canceled(ELECTION_RETRY_MS, a->cancel))
                break;
        }
        a->failures[0] = '\0';
        a->saw_503 = false;
        a->unanswered = false;
        a->refused = true;
        a->start = atomic_load(&etcd->current);
        size_t order[etcd->member_count];
        etcd_member_order(etcd, order);
        for (size_t i = 0; i < etcd->member_count && rc == 1; i++) {
            /* Found silent since the order was made: another member is still left. */
            if (etcd_health_skip(&etcd->health, order, etcd->member_count, i)) {
                note_failure(a, etcd->members[order[i]], "not answering");
                a->refused = false;
                continue;
            }
            rc = try_member(a, order[i], reply, err);
        }
    }
    return rc;
}

/* No member answered: remembers the error for etcd_unreachable and returns it. A
 * member that we could not trust, or that refused our certificate, did answer: its
 * error is returned instead, and the store is not unreachable. Nor is it when this
 * request only timed out while members answered others (answers_before: the count of
 * answers when it began): the store is slow, queueing a burst, and refusing new
 * endpoints meanwhile would fail containers that a moment's wait would have served. */
static int note_unreachable(struct attempt *a, unsigned long answers_before, struct weft_err *err)
{
    if (a->trust.code != 0) {
        if (err)
            *err = a->trust;
        return -1;
    }
    struct weft_err failure;
    if (!a->refused && atomic_load(&a->etcd->answers) != answers_before) {
        weft_err_set(&failure, -ETIMEDOUT,
                     "store too slow %s (it answered other requests meanwhile)", a->failures);
        if (err)
            *err = failure;
        return -1;
    }
    weft_err_set(&failure, a->refused ? -ECONNREFUSED : -ETIMEDOUT, "store unreachable %s",
                 a->failures);
    pthread_mutex_lock(&a->etcd->pool_lock);
    a->etcd->last_failure = failure;
    atomic_store(&a->etcd->unreachable, true);
    pthread_mutex_unlock(&a->etcd->pool_lock);
    if (err)
        *err = failure;
    return -1;
}

/* call_rounds with this request's headers; when etcd says our token expired, once
 * more with a new one (the request was refused, not applied: asking again is safe). */
static int call_with_token(struct attempt *a, long timeout, json_t **reply, struct weft_err *err)
{
    for (int tries = 0;; tries++) {
        struct curl_slist *own;
        if (etcd_auth_headers(a->etcd, a->h, a->path, &own, &a->token_generation, err) < 0)
            return -1;
        int rc = call_rounds(a, timeout, reply, err);
        curl_easy_setopt(a->h, CURLOPT_HTTPHEADER, a->etcd->headers); /* own is freed */
        curl_slist_free_all(own);
        if (rc != 2)
            return rc;
        if (tries == 1)
            return weft_err_set(err, -EACCES, "etcd user %s: the store refused a new token too",
                                a->etcd->auth.user);
        if (etcd_auth_refresh(a->etcd, a->token_generation, err) < 0)
            return -1;
    }
}

/* etcd_call without the gate. */
static int call_members(struct etcd *etcd, const char *path, json_t *body, json_t **reply,
                        const atomic_bool *cancel, struct weft_err *err)
{
    *reply = NULL;
    char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
    struct attempt a = {
        .etcd = etcd, .path = path, .request = text, .cancel = cancel, .answer = WEFT_BUF_INIT};
    a.h = text ? pool_take(etcd) : NULL;
    if (!a.h) {
        free(text);
        return weft_err_set(err, -ENOMEM, "out of memory building the store request");
    }
    long timeout = atomic_load(&etcd->timeout_ms);
    unsigned long answers_before = atomic_load(&etcd->answers);
    curl_easy_setopt(a.h, CURLOPT_POSTFIELDS, text);
    curl_easy_setopt(a.h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(text));
    curl_easy_setopt(a.h, CURLOPT_WRITEDATA, &a.answer);
    curl_easy_setopt(a.h, CURLOPT_ERRORBUFFER, a.errbuf);
    curl_easy_setopt(a.h, CURLOPT_TIMEOUT_MS, timeout);
    curl_easy_setopt(a.h, CURLOPT_CONNECTTIMEOUT_MS, etcd_connect_timeout_ms(etcd, timeout));
    curl_easy_setopt(a.h, CURLOPT_NOPROGRESS, cancel ? 0L : 1L);
    curl_easy_setopt(a.h, CURLOPT_XFERINFOFUNCTION, cancel ? cancel_check : NULL);
    curl_easy_setopt(a.h, CURLOPT_XFERINFODATA, (void *)cancel);
    int rc = call_with_token(&a, timeout, reply, err);
    if (rc == 1) {
        rc = note_unreachable(&a, answers_before, err);
    } else if (!(cancel && atomic_load(cancel)) && a.trust.code == 0) {
        atomic_fetch_add(&etcd->answers, 1);
        atomic_store(&etcd->unreachable, false); /* a member answered */
    }
    /* The handle outlives this frame: nothing may point into it. */
    curl_easy_setopt(a.h, CURLOPT_ERRORBUFFER, NULL);
    curl_easy_setopt(a.h, CURLOPT_POSTFIELDS, NULL);
    weft_buf_free(&a.answer);
    if (strcmp(path, "/v3/auth/authenticate") == 0) /* it holds the password */
        sodium_memzero(text, strlen(text));
    free(text);
    pool_give(etcd, a.h);
    return rc;
}

long etcd_connect_timeout_ms(const struct etcd *etcd, long timeout_ms)
{
    if (etcd->member_count < 2 || timeout_ms < ETCD_CONNECT_TIMEOUT_MS)
        return timeout_ms;
    return ETCD_CONNECT_TIMEOUT_MS;
}

void etcd_member_order(struct etcd *etcd, size_t *order)
{
    size_t n = etcd->member_count, start = atomic_load(&etcd->current), used = 0;
    for (int dead = 0; dead <= 1; dead++)
        for (size_t i = 0; i < n; i++) {
            size_t m = (start + i) % n;
            if (etcd_health_dead(&etcd->health, m) == (dead == 1))
                order[used++] = m;
        }
}

bool etcd_unreachable(struct etcd *etcd, struct weft_err *err)
{
    if (!atomic_load(&etcd->unreachable))
        return false;
    pthread_mutex_lock(&etcd->pool_lock);
    if (err)
        *err = etcd->last_failure;
    pthread_mutex_unlock(&etcd->pool_lock);
    return true;
}

bool etcd_err_unreachable(const struct weft_err *err)
{
    return err && (err->code == -ETIMEDOUT || err->code == -ECONNREFUSED);
}

/* The gate keeps a burst of requests from piling up on a slow store. Lease calls
 * pass it: a keepalive queued behind a burst could let this host's lease expire
 * (counting the leases is no such call). */
int etcd_call(struct etcd *etcd, const char *path, json_t *body, json_t **reply,
              const atomic_bool *cancel, struct weft_err *err)
{
    bool gated = strncmp(path, "/v3/lease/", 10) != 0 || strcmp(path, "/v3/lease/leases") == 0;
    if (gated && etcd_gate_enter(&etcd->gate, err) < 0) {
        *reply = NULL;
        return -1;
    }
    int rc = call_members(etcd, path, body, reply, cancel, err);
    weft_metrics_store_round_trip(path, rc == 0 || (cancel && atomic_load(cancel)));
    if (gated)
        etcd_gate_leave(&etcd->gate);
    return rc;
}

int etcd_call_consume(struct etcd *etcd, const char *path, json_t *body, json_t **reply,
                      struct weft_err *err)
{
    int rc = etcd_call(etcd, path, body, reply, NULL, err);
    json_decref(body);
    return rc;
}
