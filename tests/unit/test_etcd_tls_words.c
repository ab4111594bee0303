/*
 * test_etcd_tls_words.c: etcd_tls_failure reads libcurl's error text the same way
 * whichever TLS library libcurl was built with. The daemon links libcurl's OpenSSL
 * build (scripts/lean-libs.sh), the test programs Debian's GnuTLS one (Makefile): a
 * member's fatal alert about our certificate, in either wording, is a refused client
 * certificate; an alert about anything else is not; a name mismatch, in either
 * wording, names the address to put in the member's certificate.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "store/etcd_internal.h"

static struct etcd tls_store(void)
{
    static char cert[] = "/etc/weft/client.pem";
    static char key[] = "/etc/weft/client-key.pem";
    struct etcd etcd = {0};
    etcd.tls = (struct etcd_tls){.on = true, .cert_file = cert, .key_file = key};
    return etcd;
}

static void assert_reads(CURLcode cc, const char *errbuf, const char *words)
{
    struct etcd etcd = tls_store();
    struct weft_err err = {0};
    assert_int_equal(etcd_tls_failure(&etcd, "10.0.0.5:2379", cc, errbuf, &err), -1);
    assert_int_equal(err.code, -EKEYREJECTED);
    if (!strstr(err.msg, words))
        fail_msg("\"%s\" read as \"%s\", wanted \"%s\"", errbuf, err.msg, words);
}

static void certificate_alerts_of_both_libraries_are_refusals(void **state)
{
    (void)state;
    static const char refused[] = "refused our client certificate";
    assert_reads(CURLE_RECV_ERROR, "GnuTLS recv error (-12): A TLS fatal alert has been received.",
                 refused);
    assert_reads(CURLE_RECV_ERROR,
                 "OpenSSL SSL_read: OpenSSL/3.0.19: error:0A00045C:SSL routines::tlsv13 alert "
                 "certificate required, errno 0",
                 refused);
    assert_reads(CURLE_SSL_CONNECT_ERROR,
                 "OpenSSL/3.0.19: error:0A000412:SSL routines::sslv3 alert bad certificate",
                 refused);
    assert_reads(CURLE_RECV_ERROR,
                 "OpenSSL SSL_read: OpenSSL/3.0.19: error:0A000418:SSL routines::tlsv1 alert "
                 "unknown ca, errno 0",
                 refused);
}

static void other_alerts_are_not_refused_certificates(void **state)
{
    (void)state;
    struct etcd etcd = tls_store();
    struct weft_err err = {0};
    const char *version =
        "OpenSSL/3.0.19: error:0A00042E:SSL routines::tlsv1 alert protocol version";
    assert_int_equal(
        etcd_tls_failure(&etcd, "10.0.0.5:2379", CURLE_SSL_CONNECT_ERROR, version, &err), -1);
    assert_non_null(strstr(err.msg, "TLS handshake failed"));
    /* A plain read error after the handshake is the store going away, not TLS. */
    assert_int_equal(etcd_tls_failure(&etcd, "10.0.0.5:2379", CURLE_RECV_ERROR,
                                      "Recv failure: Connection timed out", &err),
                     0);
}

static void name_mismatch_of_both_libraries_names_the_address(void **state)
{
    (void)state;
    static const char names[] = "does not name 10.0.0.5";
    assert_reads(CURLE_PEER_FAILED_VERIFICATION,
                 "SSL: certificate subject name (etcd) does not match target host name '10.0.0.5'",
                 names);
    assert_reads(CURLE_PEER_FAILED_VERIFICATION,
                 "SSL: no alternative certificate subject name matches target host name '10.0.0.5'",
                 names);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(certificate_alerts_of_both_libraries_are_refusals),
        cmocka_unit_test(other_alerts_are_not_refused_certificates),
        cmocka_unit_test(name_mismatch_of_both_libraries_names_the_address),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
