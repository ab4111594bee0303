/*
 * libraries.c: the versions the running daemon's libraries report (libraries.h).
 */
#include "daemon/libraries.h"

#include <curl/curl.h>
#include <jansson.h>
#include <ldns/ldns.h>
#include <microhttpd.h>
#include <sodium.h>
#include <stdio.h>

void daemon_libraries(char *out, size_t size)
{
    const curl_version_info_data *curl = curl_version_info(CURLVERSION_NOW);
    const char *mhd = MHD_get_version();
    /* libcurl names its TLS library and nghttp2 with their versions ("OpenSSL/3.0.19"). */
    snprintf(out, size, "libcurl/%s%s%s%s%s libmicrohttpd/%s ldns/%s libsodium/%s jansson/%s",
             curl->version, curl->ssl_version ? " " : "",
             curl->ssl_version ? curl->ssl_version : "", curl->nghttp2_version ? " nghttp2/" : "",
             curl->nghttp2_version ? curl->nghttp2_version : "", mhd ? mhd : "?", ldns_version(),
             sodium_version_string(), jansson_version_str());
}
