/*
 * fuzz_requests.c: libFuzzer target over the plugin request handlers.
 *
 * The first input byte picks the call (every route, plus an unknown one) and
 * whether the domain is there; the rest is the body. Without a domain a valid
 * request stops with "not ready"; with one, it reaches the fakes of
 * fake_domain.c (which abort on anything validation should have refused) and
 * the answer building. Every answer must be a JSON object with a known status,
 * and an Err exactly when it is not a 200.
 */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>

#include "driver/api.h"
#include "tests/fuzz/fake_domain.h"

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
    const size_t n_paths = sizeof(paths) / sizeof(paths[0]);
    const char *path = paths[data[0] % n_paths];
    struct driver_ctx ctx = {0};
    if ((data[0] / n_paths) & 1) {
        ctx.fabric = fake_fabric();
        ctx.etcd = fake_etcd();
        ctx.host = "192.168.77.1";
    }
    struct driver_response response = {0};
    driver_handle(&ctx, path, (const char *)data + 1, size - 1, &response);
    if (response.status != 200 && response.status != 404 && response.status != 500)
        abort();
    json_error_t jerr;
    json_t *answer = json_loads(response.body ? response.body : "", 0, &jerr);
    if (!answer || !json_is_object(answer))
        abort(); /* Docker reads every answer as a JSON object */
    const json_t *message = json_object_get(answer, "Err");
    if (response.status != 200 && (!json_is_string(message) || !json_string_length(message)))
        abort();
    if (response.status == 200 && message)
        abort();
    json_decref(answer);
    free(response.body);
    return 0;
}
