/*
 * etcd_tls.c: https to etcd's members (issue 17): the options every handle gets
 * when --store is etcds:// or https://, and what a failed handshake means in
 * words a user can act on. Callers: etcd.c and etcd_watch.c, for every handle.
 *
 * The member's name is always checked against its certificate: there is no switch
 * to turn that off. Failures of trust, either side, carry -EKEYREJECTED so that
 * nobody takes them for a store that is away (etcd.h).
 */
#include "store/etcd_internal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *etcd_scheme(const struct etcd *etcd)
{
    return etcd->tls.on ? "https" : "http";
}

void etcd_tls_apply(const struct etcd *etcd, CURL *h)
{
    if (!etcd->tls.on) {
        curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http");
        return;
    }
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "https");
    /* The watch splits a chunked HTTP/1.1 answer; and with HTTP/2 a refused client
     * certificate shows only as a framing error. */
    curl_easy_setopt(h, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
    if (etcd->tls.ca_file)
        curl_easy_setopt(h, CURLOPT_CAINFO, etcd->tls.ca_file);
    if (etcd->tls.cert_file) {
        curl_easy_setopt(h, CURLOPT_SSLCERT, etcd->tls.cert_file);
        curl_easy_setopt(h, CURLOPT_SSLCERTTYPE, "PEM");
        curl_easy_setopt(h, CURLOPT_SSLKEY, etcd->tls.key_file);
        curl_easy_setopt(h, CURLOPT_SSLKEYTYPE, "PEM");
    }
}

/* The member's certificate is not to be trusted. */
static int server_untrusted(const struct etcd *etcd, const char *member, const char *errbuf,
                            struct weft_err *err)
{
    struct etcd_member_addr addr;
    /* GnuTLS: "... does not match target host name"; OpenSSL: that, or "no alternative
     * certificate subject name matches target host name". */
    if (strstr(errbuf, "target host name") && etcd_member_parse(member, &addr, NULL) == 0) {
        /* libcurl checks an address in the URL (IPv6 without its brackets) against
         * the certificate's IP subjectAltNames, a name against its DNS ones. */
        struct in_addr v4;
        bool ip = addr.ipv6 || inet_pton(AF_INET, addr.host, &v4) == 1;
        return weft_err_set(err, -EKEYREJECTED,
                            "store %s: its certificate does not name %s (give its certificate "
                            "the subjectAltName %s:%s, the address in --store)",
                            member, addr.host, ip ? "IP" : "DNS", addr.host);
    }
    if (etcd->tls.ca_file)
        return weft_err_set(err, -EKEYREJECTED,
                            "store %s: its certificate is not signed by the CA in --store-ca (%s)",
                            member, etcd->tls.ca_file);
    return weft_err_set(err, -EKEYREJECTED,
                        "store %s: its certificate is not signed by a CA this system trusts "
                        "(give etcd's CA with --store-ca)",
                        member);
}

/* The peer's fatal alert, as libcurl words it: GnuTLS says only that one came ("A TLS
 * fatal alert has been received."), OpenSSL names it ("SSL routines::tlsv13 alert
 * certificate required", "sslv3 alert bad certificate", "tlsv1 alert unknown ca"), so
 * that an alert about anything but a certificate (a protocol version, say) is not
 * read as a refused certificate. The daemon links libcurl's OpenSSL build, the test
 * programs Debian's GnuTLS one (Makefile): both are read. */
static bool certificate_alert(const char *errbuf)
{
    if (strstr(errbuf, "fatal alert has been received"))
        return true;
    return strstr(errbuf, "SSL routines") && strstr(errbuf, " alert ") &&
           (strstr(errbuf, "certificate") || strstr(errbuf, "unknown ca") ||
            strstr(errbuf, "access denied"));
}

/* With TLS 1.3 a server checks our certificate at the end of the handshake and
 * refuses one (or the lack of one) with a fatal alert and a close, which curl meets
 * wherever it is: finishing the handshake ("Send failure: Broken pipe"), at its
 * first read (the alert, certificate_alert) or send ("getpeername() failed with
 * errno 107", or "Failed sending data to the peer" when the close beat our request).
 * A member that dies mid-request after the handshake gives none of the alert or
 * errno 107 forms; one dying just as we send (the last form, or a broken pipe in the
 * handshake) is read as a refusal too, for that request only: the next one, on
 * another connection, tells which it was. */
static bool refused_by_peer(CURLcode cc, const char *errbuf)
{
    if (certificate_alert(errbuf) || strstr(errbuf, "errno 107"))
        return cc == CURLE_SEND_ERROR || cc == CURLE_RECV_ERROR || cc == CURLE_SSL_CONNECT_ERROR;
    if (cc == CURLE_SEND_ERROR) /* worded by the socket's errno, or left empty */
        return !errbuf[0] || strstr(errbuf, "Failed sending data") || strstr(errbuf, "Send failure") ||
               strstr(errbuf, "Broken pipe") || strstr(errbuf, "reset by peer");
    return cc == CURLE_SSL_CONNECT_ERROR &&
           (strstr(errbuf, "Broken pipe") || strstr(errbuf, "reset by peer"));
}

/* Our certificate, or the lack of one, refused by member. */
static int client_refused(const struct etcd *etcd, const char *member, struct weft_err *err)
{
    if (!etcd->tls.cert_file)
        return weft_err_set(err, -EKEYREJECTED,
                            "store %s: wants a client certificate: give --store-cert and "
                            "--store-key",
                            member);
    return weft_err_set(err, -EKEYREJECTED,
                        "store %s: refused our client certificate (--store-cert %s): expired, or "
                        "not from a CA it trusts",
                        member, etcd->tls.cert_file);
}

int etcd_tls_failure(const struct etcd *etcd, const char *member, CURLcode cc, const char *errbuf,
                     struct weft_err *err)
{
    if (!etcd->tls.on)
        return 0;
    const struct etcd_tls *tls = &etcd->tls;
    switch (cc) {
    case CURLE_PEER_FAILED_VERIFICATION:
        return server_untrusted(etcd, member, errbuf, err);
    case CURLE_SSL_CACERT_BADFILE:
        return weft_err_set(err, -EKEYREJECTED, "--store-ca %s: not a readable PEM file of CAs",
                            tls->ca_file ? tls->ca_file : "(the system's)");
    case CURLE_SSL_CERTPROBLEM:
        return weft_err_set(err, -EKEYREJECTED,
                            "--store-cert %s with --store-key %s: not a readable PEM certificate "
                            "and its key (%s)",
                            tls->cert_file, tls->key_file, errbuf);
    case CURLE_SSL_CONNECT_ERROR:
        if (strstr(errbuf, "key or certificate file"))
            return weft_err_set(err, -EKEYREJECTED,
                                "--store-cert %s with --store-key %s: cannot be read, or the key "
                                "is not the certificate's",
                                tls->cert_file, tls->key_file);
        if (refused_by_peer(cc, errbuf))
            return client_refused(etcd, member, err);
        return weft_err_set(err, -EKEYREJECTED,
                            "store %s: TLS handshake failed (%s): does it serve https?", member,
                            errbuf[0] ? errbuf : curl_easy_strerror(cc));
    default:
        return refused_by_peer(cc, errbuf) ? client_refused(etcd, member, err) : 0;
    }
}
int etcd_tls_answer_failure(const struct etcd *etcd, const char *member, long status,
                            const char *body, size_t len, struct weft_err *err)
{
    static const char cn_refused[] = "CommonName of client sending a request against gateway";
    if (!etcd->tls.on || status != 400 || !body ||
        !memmem(body, len, cn_refused, sizeof(cn_refused) - 1))
        return 0;
    return weft_err_set(err, -EKEYREJECTED,
                        "store %s: our client certificate (--store-cert %s) carries a Common "
                        "Name, which etcd's JSON gateway refuses: make it with a subjectAltName "
                        "and no CN",
                        member, etcd->tls.cert_file ? etcd->tls.cert_file : "");
}

void etcd_tls_free(struct etcd_tls *tls)
{
    free(tls->ca_file);
    free(tls->cert_file);
    free(tls->key_file);
    *tls = (struct etcd_tls){0};
}
