/*
 * fuzz_requests.c: libFuzzer target over the plugin request handlers.
 *
 * The first input byte picks the call (every route, plus an unknown one); the
 * rest is the body. The context has no fabric and no store, so every request
 * runs parsing, validation and answer building, and stops with an Err where it
 * would reach the domain. Every answer must be JSON with a known status.
 */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>

#include "driver/api.h"

static const char *const paths[] = {
    "/Plugin.Activate",
    "/NetworkDriver.GetCapabilities",
    "/NetworkDriver.CreateNetwork",
    "/NetworkDriver.DeleteNetwork",
    "/NetworkDriver.CreateEndpoint",
    "/NetworkDriver.DeleteEndpoint",
    "/NetworkDriver.EndpointOperInfo",
    "/NetworkDriver.Join",
    "/NetworkDriver.Leave",
    "/NetworkDriver.DiscoverNew",
    "/NetworkDriver.DiscoverDelete",
    "/NetworkDriver.ProgramExternalConnectivity",
    "/NetworkDriver.RevokeExternalConnectivity",
    "/NetworkDriver.AllocateNetwork",
    "/NetworkDriver.FreeNetwork",
    "/IpamDriver.GetCapabilities",
    "/IpamDriver.GetDefaultAddressSpaces",
    "/IpamDriver.RequestPool",
    "/IpamDriver.ReleasePool",
    "/IpamDriver.RequestAddress",
    "/IpamDriver.ReleaseAddress",
    "/Nothing.Here",
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    const char *path = paths[data[0] % (sizeof(paths) / sizeof(paths[0]))];
    struct driver_ctx ctx = {0};
    struct driver_response response = {0};
    driver_handle(&ctx, path, (const char *)data + 1, size - 1, &response);
    if (response.status != 200 && response.status != 404 && response.status != 413 &&
        response.status != 500)
        abort();
    json_error_t jerr;
    json_t *answer = json_loads(response.body ? response.body : "", 0, &jerr);
    if (!answer || !json_is_object(answer))
        abort(); /* Docker reads every answer as a JSON object */
    if (response.status != 200 && !json_is_string(json_object_get(answer, "Err")))
        abort();
    json_decref(answer);
    free(response.body);
    return 0;
}
