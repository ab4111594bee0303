/* test_driver_requests.c: Docker requests weft must refuse are refused with a
 * clear Err before they reach the domain, good ones parse into the right
 * structs, and the capability calls answer what Docker expects. No etcd, no
 * fabric: the ctx holds NULLs, so any request reaching them would say "not ready". */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "driver/api.h"
#include "driver/request.h"
#include "ipam/ipam.h"

#define ID_A "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define ID_B "fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210"
#define NET "\"NetworkID\":\"" ID_A "\""
#define EP "\"EndpointID\":\"" ID_B "\""
#define V4DATA "\"IPv4Data\":[{\"AddressSpace\":\"weft\",\"Pool\":\"10.77.0.0/24\"}]"
#define GENERIC(x) "\"Options\":{\"com.docker.network.generic\":{" x "}}"

static struct driver_ctx no_domain = {.fabric = NULL, .etcd = NULL, .host = NULL};

/* Calls driver_handle and returns the parsed answer; checks status and that an
 * error answer is {"Err": "...containing want..."}. */
static json_t *call(const char *path, const char *body, size_t len, int status, const char *want)
{
    struct driver_response resp;
    driver_handle(&no_domain, path, body, len, &resp);
    if (resp.status != status)
        fail_msg("%s %.200s: status %d, want %d; body %s", path, body ? body : "", resp.status,
                 status, resp.body);
    assert_non_null(resp.body);
    json_error_t jerr;
    json_t *answer = json_loads(resp.body, 0, &jerr);
    if (!answer)
        fail_msg("answer is not JSON: %s", resp.body);
    if (status != 200) {
        const char *msg = json_string_value(json_object_get(answer, "Err"));
        if (!msg || !msg[0])
            fail_msg("answer has no Err: %s", resp.body);
        if (want && !strstr(msg, want))
            fail_msg("%s %.200s: Err \"%s\" lacks \"%s\"", path, body ? body : "", msg, want);
    }
    free(resp.body);
    return answer;
}

static void expect(const char *path, const char *body, int status, const char *want)
{
    json_decref(call(path, body, body ? strlen(body) : 0, status, want));
}

struct refusal {
    const char *path;
    const char *body;
    const char *want; /* substring of Err; NULL: any message (its text is another module's) */
};

#define CREATE "/NetworkDriver.CreateNetwork"
#define ENDPOINT "/NetworkDriver.CreateEndpoint"
#define NEED_IPAM "weft networks need weft IPAM: add --ipam-driver weft"
#define NEED_V4 "weft needs an IPv4 address for every endpoint"

static const struct refusal refusals[] = {
    /* the body itself */
    {CREATE, "{\"NetworkID\":", "not valid JSON"},
    {CREATE, "[]", "must be a JSON object"},
    {CREATE, "\"text\"", "not valid JSON"},
    {CREATE, "{\"NetworkID\":\"a\",\"NetworkID\":\"b\"}", "not valid JSON"},
    {CREATE, "{\"NetworkID\":\"a\\u0000b\"}", "not valid JSON: strings may not contain NUL"},
    {CREATE, "{} trailing", "not valid JSON"},
    /* network IDs: types, emptiness, path and shell characters, length */
    {CREATE, "{" V4DATA "}", "missing field \"NetworkID\""},
    {CREATE, "{\"NetworkID\":42," V4DATA "}", "\"NetworkID\" must be a string, not a number"},
    {CREATE, "{\"NetworkID\":[\"x\"]," V4DATA "}", "must be a string, not an array"},
    {CREATE, "{\"NetworkID\":\"\"," V4DATA "}", "is empty"},
    {CREATE, "{\"NetworkID\":\"../../etc/passwd\"," V4DATA "}", "is not a Docker ID"},
    {CREATE, "{\"NetworkID\":\"a;rm -rf /\"," V4DATA "}", "is not a Docker ID"},
    {CREATE, "{\"NetworkID\":\"$(reboot)\"," V4DATA "}", "is not a Docker ID"},
    {CREATE, "{\"NetworkID\":\"" ID_A "0\"," V4DATA "}", "too long"},
    /* IPAM: weft's own, one subnet */
    {CREATE, "{" NET "}", NEED_IPAM},
    {CREATE, "{" NET ",\"IPv4Data\":[]}", NEED_IPAM},
    {CREATE,
     "{" NET ",\"IPv4Data\":[{\"AddressSpace\":\"LocalDefault\",\"Pool\":\"172.18.0.0/16\"}]}",
     NEED_IPAM},
    {CREATE, "{" NET ",\"IPv4Data\":[{\"Pool\":\"10.1.0.0/16\"}]}", NEED_IPAM},
    {CREATE, "{" NET ",\"IPv4Data\":\"10.77.0.0/24\"}", "\"IPv4Data\" must be an array"},
    {CREATE, "{" NET ",\"IPv4Data\":[7]}", "must be objects"},
    {CREATE,
     "{" NET ",\"IPv4Data\":[{\"AddressSpace\":\"weft\",\"Pool\":\"10.1.0.0/24\"},"
     "{\"AddressSpace\":\"weft\",\"Pool\":\"10.2.0.0/24\"},{\"AddressSpace\":\"weft\",\"Pool\":\"10.3.0.0/24\"},"
     "{\"AddressSpace\":\"weft\",\"Pool\":\"10.4.0.0/24\"},{\"AddressSpace\":\"weft\",\"Pool\":\"10.5.0.0/24\"}]}",
     "weft networks take at most 4 IPv4 --subnet, this one has 5"},
    {CREATE, "{" NET ",\"IPv4Data\":[{\"AddressSpace\":\"weft\"}]}", "missing field \"Pool\""},
    {CREATE, "{" NET ",\"IPv4Data\":[{\"AddressSpace\":\"weft\",\"Pool\":\"10.77.0.0/33\"}]}",
     NULL},
    {CREATE, "{" NET ",\"IPv4Data\":[{\"AddressSpace\":\"weft\",\"Pool\":\"10.77.0.5/24\"}]}",
     NULL},
    {CREATE, "{" NET ",\"IPv4Data\":[{\"AddressSpace\":\"weft\",\"Pool\":\"banana\"}]}", NULL},
    /* IPv6 (dual stack): one pool from weft IPAM, as for IPv4 */
    {CREATE,
     "{" NET "," V4DATA ",\"IPv6Data\":[{\"AddressSpace\":\"weft\",\"Pool\":\"fd00::/64\"},"
     "{\"AddressSpace\":\"weft\",\"Pool\":\"fd01::/64\"},{\"AddressSpace\":\"weft\",\"Pool\":\"fd02::/64\"},"
     "{\"AddressSpace\":\"weft\",\"Pool\":\"fd03::/64\"},{\"AddressSpace\":\"weft\",\"Pool\":\"fd04::/64\"}]}",
     "at most 4 IPv6 --subnet, this one has 5"},
    {CREATE,
     "{" NET "," V4DATA ",\"IPv6Data\":[{\"AddressSpace\":\"LocalDefault\",\"Pool\":\"fd00::/64\"}]}",
     NEED_IPAM},
    {CREATE, "{" NET "," V4DATA ",\"IPv6Data\":[{\"AddressSpace\":\"weft\",\"Pool\":\"fd00::/48\"}]}",
     "from /64 to /120"},
    {CREATE, "{" NET "," V4DATA ",\"IPv6Data\":[{\"AddressSpace\":\"weft\",\"Pool\":\"10.1.0.0/24\"}]}",
     "IPv6Data"},
    {CREATE, "{" NET "," V4DATA ",\"IPv6Data\":{}}", "\"IPv6Data\" must be an array"},
    {CREATE, "{" NET "," V4DATA ",\"Options\":{\"com.docker.network.enable_ipv6\":\"yes\"}}",
     "must be a boolean"},
    /* Docker 28: --ipv4=false sends enable_ipv4 false and no IPv4Data */
    {CREATE,
     "{" NET ",\"Options\":{\"com.docker.network.enable_ipv4\":false,"
     "\"com.docker.network.enable_ipv6\":true},\"IPv4Data\":[],"
     "\"IPv6Data\":[{\"AddressSpace\":\"weft\",\"Pool\":\"fd00::/64\"}]}",
     "weft overlays need an IPv4 subnet too (IPv6-only overlays are not supported yet)"},
    {CREATE, "{" NET "," V4DATA ",\"Options\":{\"com.docker.network.enable_ipv4\":1}}",
     "must be a boolean"},
    /* options */
    {CREATE, "{" NET "," V4DATA "," GENERIC("\"vni\":\"0\"") "}", "vni=\"0\" is not valid"},
    {CREATE, "{" NET "," V4DATA "," GENERIC("\"vni\":\"16777215\"") "}", "1 to 16777214"},
    {CREATE, "{" NET "," V4DATA "," GENERIC("\"vni\":\"12a\"") "}", "is not valid"},
    {CREATE, "{" NET "," V4DATA "," GENERIC("\"vni\":\"-1\"") "}", "is not valid"},
    {CREATE, "{" NET "," V4DATA "," GENERIC("\"vni\":\" 42\"") "}", "is not valid"},
    {CREATE, "{" NET "," V4DATA "," GENERIC("\"vni\":42") "}", "vni must be a string"},
    {CREATE, "{" NET "," V4DATA "," GENERIC("\"mtu\":\"100\"") "}", "576 to 9000"},
    {CREATE, "{" NET "," V4DATA "," GENERIC("\"mtu\":\"9001\"") "}", "576 to 9000"},
    {CREATE, "{" NET "," V4DATA "," GENERIC("\"mtu\":\"99999999999999999999\"") "}", "576 to 9000"},
    {CREATE, "{" NET "," V4DATA "," GENERIC("\"color\":\"blue\"") "}",
     "unknown option \"color\": weft knows vni"},
    {CREATE, "{" NET "," V4DATA "," GENERIC("\"encrypted\":\"maybe\"") "}",
     "option encrypted=\"maybe\" is not valid"},
    /* Docker's own spellings: one VNI only, and both spellings must agree */
    {CREATE, "{" NET "," V4DATA "," GENERIC("\"com.docker.network.driver.overlay.vxlanid_list\":"
                                           "\"4242,4243\"") "}",
     "names several VNIs: a weft network has one VNI, shared by all its subnets"},
    {CREATE, "{" NET "," V4DATA "," GENERIC("\"com.docker.network.driver.overlay.vxlanid_list\":"
                                           "\"x\"") "}",
     "com.docker.network.driver.overlay.vxlanid_list=\"x\" is not valid"},
    {CREATE, "{" NET "," V4DATA "," GENERIC("\"com.docker.network.driver.mtu\":\"50\"") "}",
     "com.docker.network.driver.mtu=\"50\" is not valid: use a number from 576 to 9000"},
    {CREATE, "{" NET "," V4DATA "," GENERIC("\"mtu\":\"1400\",\"com.docker.network.driver.mtu\":"
                                           "\"1300\"") "}",
     "options mtu and com.docker.network.driver.mtu disagree"},
    {CREATE, "{" NET "," V4DATA "," GENERIC("\"vni\":\"7\",\"com.docker.network.driver.overlay."
                                           "vxlanid_list\":\"8\"") "}",
     "disagree (7 and 8)"},
    {CREATE, "{" NET "," V4DATA ",\"Options\":{\"com.docker.network.generic\":\"vni=4\"}}",
     "must be an object"},
    {CREATE, "{" NET "," V4DATA ",\"Options\":[]}", "\"Options\" must be an object"},
    /* endpoints */
    {ENDPOINT, "{" NET "," EP "}", NEED_V4},
    {ENDPOINT, "{" NET "," EP ",\"Interface\":{}}", NEED_V4},
    {ENDPOINT, "{" NET "," EP ",\"Interface\":{\"Address\":\"\"}}", NEED_V4},
    {ENDPOINT, "{" NET "," EP ",\"Interface\":\"10.77.0.2/24\"}", "must be an object"},
    {ENDPOINT,
     "{" NET "," EP ",\"Interface\":{\"Address\":\"10.77.0.2/24\",\"AddressIPv6\":\"fd00::2\"}}",
     "not a valid IPv6 address with prefix length"},
    {ENDPOINT,
     "{" NET "," EP ",\"Interface\":{\"Address\":\"10.77.0.2/24\",\"AddressIPv6\":\"fd00::2/48\"}}",
     "prefix length must be the network's (/64 to /120), not /48"},
    {ENDPOINT, "{" NET "," EP ",\"Interface\":{\"AddressIPv6\":\"fd00::2/64\"}}", NEED_V4},
    {ENDPOINT, "{" NET "," EP ",\"Interface\":{\"Address\":\"10.77.0.300/24\"}}", NULL},
    {ENDPOINT,
     "{" NET "," EP
     ",\"Interface\":{\"Address\":\"10.77.0.3/24\",\"MacAddress\":\"zz:00:00:00:00:01\"}}",
     NULL},
    {ENDPOINT,
     "{" NET "," EP
     ",\"Interface\":{\"Address\":\"10.77.0.3/24\",\"MacAddress\":\"01:00:5e:00:00:01\"}}",
     NULL},
    {ENDPOINT, "{" NET "," EP ",\"Interface\":{\"Address\":\"10.77.0.3/24\",\"MacAddress\":7}}",
     "\"MacAddress\" must be a string"},
    {ENDPOINT, "{" NET ",\"Interface\":{\"Address\":\"10.77.0.3/24\"}}",
     "missing field \"EndpointID\""},
    {"/NetworkDriver.Join", "{" NET ",\"EndpointID\":\"a/b\"}", "is not a Docker ID"},
    {"/NetworkDriver.Leave", "{" NET ",\"EndpointID\":null}", "missing field \"EndpointID\""},
    {"/NetworkDriver.DeleteEndpoint", "{" EP "}", "missing field \"NetworkID\""},
    {"/NetworkDriver.EndpointOperInfo", "{\"NetworkID\":true," EP "}", "not a boolean"},
    {"/NetworkDriver.DeleteNetwork", "{}", "missing field \"NetworkID\""},
    {"/NetworkDriver.AllocateNetwork", "{" NET "}", "weft does not support Swarm mode"},
    {"/NetworkDriver.FreeNetwork", "", "weft does not support Swarm mode"},
    /* IPAM */
    {"/IpamDriver.RequestPool", "{\"Pool\":\"10.77.0.0/24\",\"V6\":true}",
     "pool 10.77.0.0/24 is not an IPv6 subnet"},
    {"/IpamDriver.RequestPool", "{\"Pool\":\"fd00::/64\"}", "pool fd00::/64 is not an IPv4 subnet"},
    {"/IpamDriver.RequestPool", "{\"Pool\":\"\",\"V6\":true}", "IPv6 --subnet with --ipv6"},
    {"/IpamDriver.RequestPool", "{\"Pool\":\"fd00::/48\",\"V6\":true}", "from /64 to /120"},
    {"/IpamDriver.RequestPool", "{\"Pool\":\"fe80::/64\",\"V6\":true}", "unique local"},
    {"/IpamDriver.RequestAddress", "{\"PoolID\":\"fd00::1/64\"}", "did you mean fd00::/64"},
    {"/IpamDriver.RequestAddress", "{\"PoolID\":\"fd00::/64\",\"Address\":\"fd00::g\"}",
     "not a valid IPv6 address"},
    {"/IpamDriver.RequestAddress", "{\"PoolID\":\"fd00::/64\",\"Address\":\"10.77.0.5\"}",
     "address 10.77.0.5 is not an IPv6 address of pool fd00::/64"},
    {"/IpamDriver.ReleaseAddress", "{\"PoolID\":\"10.77.0.0/24\",\"Address\":\"fd00::5\"}",
     "address fd00::5 is not an IPv4 address of pool 10.77.0.0/24"},
    {"/IpamDriver.RequestPool", "{\"Pool\":\"10.77.0.0/24\",\"V6\":\"true\"}", "must be a boolean"},
    {"/IpamDriver.RequestPool", "{\"Pool\":\"10.77.0.0/24\",\"SubPool\":\"10.78.0.0/25\"}",
     "--ip-range 10.78.0.0/25 is not inside --subnet 10.77.0.0/24"},
    {"/IpamDriver.RequestPool", "{\"Pool\":\"10.77.0.0/24\",\"SubPool\":\"10.77.0.5/25\"}",
     "--ip-range 10.77.0.5/25 has host bits set; did you mean 10.77.0.0/25?"},
    {"/IpamDriver.RequestPool", "{\"Pool\":\"10.77.0.0/24\",\"SubPool\":\"10.77.0.0/16\"}",
     "is not inside --subnet"},
    {"/IpamDriver.RequestPool", "{\"Pool\":\"10.77.0.0/24\",\"SubPool\":\"10.77.0.255/32\"}",
     "holds no host address"},
    {"/IpamDriver.RequestPool", "{\"Pool\":\"10.77.0.0/24\",\"Options\":{\"color\":\"blue\"}}",
     "--ipam-opt color is not supported: weft IPAM takes no options"},
    {"/IpamDriver.RequestPool", "{\"Pool\":10}", "\"Pool\" must be a string"},
    {"/IpamDriver.RequestPool", "{\"Pool\":\"10.77.0.0/24\",\"Options\":\"x\"}",
     "must be an object"},
    {"/IpamDriver.RequestAddress", "{\"Address\":\"\"}", "missing field \"PoolID\""},
    {"/IpamDriver.RequestAddress", "{\"PoolID\":\"10.77.0.0/99\"}", "PoolID"},
    {"/IpamDriver.RequestAddress", "{\"PoolID\":\"10.77.0.0/24@10.78.0.0/25\"}", "PoolID"},
    {"/IpamDriver.RequestAddress", "{\"PoolID\":\"10.77.0.0/24@\"}", "PoolID"},
    {"/IpamDriver.RequestAddress", "{\"PoolID\":\"10.77.0.0/24\",\"Address\":\"10.77.0.999\"}",
     NULL},
    {"/IpamDriver.RequestAddress",
     "{\"PoolID\":\"10.77.0.0/24\",\"Options\":{\"RequestAddressType\":1}}", "must be a string"},
    {"/IpamDriver.ReleaseAddress", "{\"PoolID\":\"10.77.0.0/24\"}", "missing field \"Address\""},
    {"/IpamDriver.ReleaseAddress", "{\"PoolID\":\"10.77.0.0/24\",\"Address\":\"\"}", "is empty"},
    {"/IpamDriver.ReleasePool", "{\"PoolID\":\"../x\"}", "PoolID"},
    {"/IpamDriver.ReleasePool", "{}", "missing field \"PoolID\""},
};

static void refusals_name_the_problem(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(refusals) / sizeof(refusals[0]); i++)
        expect(refusals[i].path, refusals[i].body, 500, refusals[i].want);
}

static void unknown_calls_are_404(void **state)
{
    (void)state;
    expect("/NetworkDriver.Frobnicate", "{}", 404, "unknown call /NetworkDriver.Frobnicate");
    expect("", "{}", 404, "unknown call");
    expect("/Plugin.Activate/../x", NULL, 404, "unknown call");
    expect("/\x01\xff\"weird", "{}", 404, "unknown call");
}

/* Valid requests get past validation and stop at the missing domain. */
static void valid_requests_reach_the_domain(void **state)
{
    (void)state;
    expect(CREATE, "{" NET "," V4DATA "," GENERIC("\"vni\":\"4242\",\"mtu\":\"1400\"") "}", 500,
           "not ready");
    /* What Docker 28 sends: enable_ipv4 true beside enable_ipv6 false. */
    expect(CREATE,
           "{" NET ",\"Options\":{\"com.docker.network.enable_ipv4\":true,"
           "\"com.docker.network.enable_ipv6\":false,\"com.docker.network.generic\":"
           "{\"mtu\":\"1400\"}},\"IPv4Data\":[{\"AddressSpace\":\"weft\",\"Gateway\":"
           "\"10.77.0.1/24\",\"Pool\":\"10.77.0.0/24\"}],\"IPv6Data\":[]}",
           500, "not ready");
    expect(CREATE,
           "{" NET ",\"Options\":{\"com.docker.network.enable_ipv6\":false,"
           "\"com.docker.network.internal\":true},"
           "\"IPv4Data\":[{\"AddressSpace\":\"weft\",\"Gateway\":\"10.77.0.1/24\","
           "\"Pool\":\"10.77.0.0/24\"}],\"IPv6Data\":[]}",
           500, "not ready");
    expect(ENDPOINT,
           "{" NET "," EP ",\"Interface\":{\"Address\":\"10.77.0.41/24\",\"AddressIPv6\":\"\","
           "\"MacAddress\":\"\"},\"Options\":{\"com.docker.network.portmap\":[]}}",
           500, "not ready");
    /* dual stack: what Docker sends for --ipv6 --subnet 10.77.0.0/24 --subnet fd00::/64 */
    expect(CREATE,
           "{" NET ",\"Options\":{\"com.docker.network.enable_ipv6\":true},"
           "\"IPv4Data\":[{\"AddressSpace\":\"weft\",\"Gateway\":\"10.77.0.1/24\","
           "\"Pool\":\"10.77.0.0/24\"}],\"IPv6Data\":[{\"AddressSpace\":\"weft\","
           "\"Gateway\":\"fd00::1/64\",\"Pool\":\"fd00::/64\"}]}",
           500, "not ready");
    expect(ENDPOINT,
           "{" NET "," EP ",\"Interface\":{\"Address\":\"10.77.0.41/24\","
           "\"AddressIPv6\":\"fd00::29/64\",\"MacAddress\":\"\"}}",
           500, "not ready");
    expect("/NetworkDriver.Join", "{" NET "," EP ",\"SandboxKey\":\"/var/run/docker/netns/x\"}",
           500, "not ready");
    expect("/NetworkDriver.Leave", "{" NET "," EP "}", 500, "not ready");
    expect("/NetworkDriver.DeleteEndpoint", "{" NET "," EP "}", 500, "not ready");
    expect("/NetworkDriver.EndpointOperInfo", "{" NET "," EP "}", 500, "not ready");
    expect("/NetworkDriver.DeleteNetwork", "{" NET "}", 500, "not ready");
    expect("/IpamDriver.RequestAddress",
           "{\"PoolID\":\"10.77.0.0/24\",\"Address\":\"\",\"Options\":"
           "{\"RequestAddressType\":\"com.docker.network.gateway\"}}",
           500, "not ready");
    expect("/IpamDriver.ReleaseAddress", "{\"PoolID\":\"10.77.0.0/24\",\"Address\":\"10.77.0.41\"}",
           500, "not ready");
    /* the pool's range is fixed in the store, so RequestPool needs it now */
    expect("/IpamDriver.RequestPool",
           "{\"AddressSpace\":\"weft\",\"Pool\":\"10.76.0.0/24\",\"SubPool\":\"10.76.0.128/25\","
           "\"Options\":{},\"V6\":false}",
           500, "not ready");
    expect("/IpamDriver.RequestAddress",
           "{\"PoolID\":\"10.76.0.0/24@10.76.0.128/25\",\"Address\":\"10.76.0.130\",\"Options\":null}",
           500, "not ready");
}

static void assert_answer(const char *path, const char *body, const char *want_text)
{
    json_t *answer = call(path, body, body ? strlen(body) : 0, 200, NULL);
    json_t *want = json_loads(want_text, 0, NULL);
    assert_non_null(want);
    if (!json_equal(answer, want)) {
        char *got = json_dumps(answer, JSON_COMPACT);
        fail_msg("%s answered %s, want %s", path, got, want_text);
    }
    json_decref(want);
    json_decref(answer);
}

static void capability_answers(void **state)
{
    (void)state;
    assert_answer("/Plugin.Activate", NULL, "{\"Implements\":[\"NetworkDriver\",\"IpamDriver\"]}");
    assert_answer("/Plugin.Activate", "", "{\"Implements\":[\"NetworkDriver\",\"IpamDriver\"]}");
    assert_answer("/NetworkDriver.GetCapabilities", "{}",
                  "{\"Scope\":\"local\",\"ConnectivityScope\":\"global\"}");
    assert_answer("/IpamDriver.GetCapabilities", " \n",
                  "{\"RequiresMACAddress\":false,\"RequiresRequestReplay\":false}");
    assert_answer("/IpamDriver.GetDefaultAddressSpaces", "{}",
                  "{\"LocalDefaultAddressSpace\":\"weft\",\"GlobalDefaultAddressSpace\":\"weft\"}");
    assert_answer("/NetworkDriver.DiscoverNew", "{\"DiscoveryType\":1,\"DiscoveryData\":{}}", "{}");
    assert_answer("/NetworkDriver.DiscoverDelete", "{}", "{}");
    assert_answer("/NetworkDriver.ProgramExternalConnectivity", "{" NET "," EP "}", "{}");
    assert_answer("/NetworkDriver.RevokeExternalConnectivity", "{" NET "," EP "}", "{}");
    assert_answer("/IpamDriver.ReleasePool", "{\"PoolID\":\"10.77.0.0/24\"}", "{}");
}

/* RequestPool's texts, then ipam/'s pool IDs: the plain subnet as always, and
 * subnet@range with --ip-range (ipam/pool_id.h). */
static void request_pool_answers_the_canonical_pool(void **state)
{
    (void)state;
    json_t *req = json_loads("{\"AddressSpace\":\"weft\",\"Pool\":\"10.76.0.0/24\",\"SubPool\":"
                             "\"10.76.0.128/25\",\"Options\":{\"com.docker.network.x\":\"y\"},"
                             "\"V6\":false}",
                             0, NULL);
    assert_non_null(req);
    struct request_pool r;
    struct weft_err err = {0};
    assert_int_equal(request_pool(req, &r, &err), 0);
    assert_string_equal(r.pool, "10.76.0.0/24");
    assert_string_equal(r.sub_pool, "10.76.0.128/25");
    json_decref(req);

    char id[IPAM_POOL_ID_MAX];
    assert_int_equal(ipam_request_pool("10.77.0.0/24", "", id, &err), 0);
    assert_string_equal(id, "10.77.0.0/24");
    assert_int_equal(ipam_request_pool("10.76.0.0/24", "10.76.0.128/25", id, &err), 0);
    assert_string_equal(id, "10.76.0.0/24@10.76.0.128/25");
    struct ipam_pool pool;
    uint32_t first, count;
    assert_int_equal(ipam_pool_parse(id, &pool, &err), 0);
    assert_string_equal(pool.subnet_text, "10.76.0.0/24");
    assert_string_equal(pool.range_text, "10.76.0.128/25");
    ipam_pool_span(&pool, &first, &count);
    assert_int_equal(first, 0x0a4c0080);
    assert_int_equal(count, 127); /* .128 to .254: the subnet's broadcast is no host */
    assert_int_equal(ipam_request_pool("10.76.0.0/24", "10.76.0.9/32", id, &err), 0);
    assert_string_equal(id, "10.76.0.0/24@10.76.0.9/32");
    /* What Docker sends for --ipv6 --subnet (V6 true): answered in RFC 5952 form, the
     * pool ID every host then names alike. */
    req = json_loads("{\"AddressSpace\":\"weft\",\"Pool\":\"FD81:0:0:0::/64\",\"SubPool\":\"\","
                     "\"Options\":{},\"V6\":true}",
                     0, NULL);
    assert_int_equal(request_pool(req, &r, &err), 0);
    json_decref(req);
    assert_int_equal(ipam_request_pool(r.pool, r.sub_pool, id, &err), 0);
    assert_string_equal(id, "fd81::/64");
    /* no --subnet: ipam/ refuses, since every host must name the same overlay */
    assert_int_equal(ipam_request_pool("", "", id, &err), -1);
    assert_non_null(strstr(err.msg, "--subnet"));
}

/* IPv6 pool IDs with --ip-range (ipam/pool_id.h): written like IPv4 ones,
 * canonical, parsed back, and their dynamic span of host offsets. */
static void ipv6_pool_ids_carry_the_range(void **state)
{
    (void)state;
    char id[IPAM_POOL_ID_MAX];
    struct weft_err err = {0};
    assert_int_equal(ipam_request_pool("FD73:0::/64", "FD73::0100/120", id, &err), 0);
    assert_string_equal(id, "fd73::/64@fd73::100/120");
    struct ipam_pool6 pool;
    uint64_t first, count;
    assert_int_equal(ipam_pool6_parse(id, &pool, &err), 0);
    assert_string_equal(pool.subnet_text, "fd73::/64");
    assert_string_equal(pool.range_text, "fd73::100/120");
    assert_true(pool.ranged);
    ipam_pool6_span(&pool, &first, &count);
    assert_true(first == 0x100 && count == 256);
    /* Without a range: the subnet, as before; the span skips offset 0 (anycast). */
    assert_int_equal(ipam_request_pool("fd73::/120", "", id, &err), 0);
    assert_string_equal(id, "fd73::/120");
    assert_int_equal(ipam_pool6_parse(id, &pool, &err), 0);
    ipam_pool6_span(&pool, &first, &count);
    assert_true(first == 1 && count == 255);
    /* The range may be the whole /64, a large part of it, or one address. */
    assert_int_equal(ipam_request_pool("fd73::/64", "fd73::/64", id, &err), 0);
    assert_int_equal(ipam_pool6_parse(id, &pool, &err), 0);
    ipam_pool6_span(&pool, &first, &count);
    assert_true(first == 1 && count == UINT64_MAX);
    assert_int_equal(ipam_request_pool("2001:db8::/64", "2001:db8::1:0:0/96", id, &err), 0);
    assert_string_equal(id, "2001:db8::/64@2001:db8::1:0:0/96");
    assert_int_equal(ipam_pool6_parse(id, &pool, &err), 0);
    ipam_pool6_span(&pool, &first, &count);
    assert_true(first == UINT64_C(0x100000000) && count == UINT64_C(0x100000000));
    assert_int_equal(ipam_request_pool("fd73::/64", "fd73::5/128", id, &err), 0);
    assert_int_equal(ipam_pool6_parse(id, &pool, &err), 0);
    ipam_pool6_span(&pool, &first, &count);
    assert_true(first == 5 && count == 1);
    /* Refused: outside, larger than the subnet, host bits, only the anycast, not CIDR. */
    assert_int_equal(ipam_request_pool("fd73::/64", "fd74::/120", id, &err), -1);
    assert_non_null(strstr(err.msg, "--ip-range fd74::/120 is not inside --subnet fd73::/64"));
    assert_int_equal(ipam_request_pool("fd73::/64", "fd73::/60", id, &err), -1);
    assert_non_null(strstr(err.msg, "is not inside"));
    assert_int_equal(ipam_request_pool("fd73::/64", "fd73::101/120", id, &err), -1);
    assert_non_null(strstr(err.msg, "host bits set"));
    assert_int_equal(ipam_request_pool("fd73::/64", "fd73::/128", id, &err), -1);
    assert_non_null(strstr(err.msg, "holds no host address"));
    assert_int_equal(ipam_request_pool("fd73::/64", "fd73::100", id, &err), -1);
    assert_non_null(strstr(err.msg, "is not an IPv6 CIDR"));
    /* Docker sends the ID back: parsed canonical, the subnet beside it. */
    struct request_address r;
    json_t *req = json_loads("{\"PoolID\":\"FD73::/64@fd73:0::100/120\",\"Address\":\"fd73::5\","
                             "\"Options\":null}",
                             0, NULL);
    assert_int_equal(request_address(req, &r, &err), 0);
    assert_string_equal(r.pool_id, "fd73::/64@fd73::100/120");
    assert_string_equal(r.subnet, "fd73::/64");
    json_decref(req);
    req = json_loads("{\"PoolID\":\"fd73::/64@\"}", 0, NULL);
    assert_int_equal(request_address(req, &r, &err), -1);
    assert_non_null(strstr(err.msg, "PoolID"));
    json_decref(req);
    req = json_loads("{\"PoolID\":\"fd73::/64@fd74::/120\"}", 0, NULL);
    assert_int_equal(request_address(req, &r, &err), -1);
    json_decref(req);
}

static void huge_body_is_refused(void **state)
{
    (void)state;
    size_t len = 2 * 1024 * 1024;
    char *body = malloc(len);
    assert_non_null(body);
    memset(body, ' ', len);
    body[0] = '{';
    body[len - 1] = '}';
    json_decref(call(CREATE, body, len, 500, "too large"));
    free(body);
}

static char *nested(size_t depth, char open, char close)
{
    char *text = malloc(2 * depth + 1);
    assert_non_null(text);
    memset(text, open, depth);
    memset(text + depth, close, depth);
    text[2 * depth] = '\0';
    return text;
}

static void deep_nesting_is_refused(void **state)
{
    (void)state;
    char *deep = nested(20000, '[', ']');
    deep[0] = '{'; /* not even valid; the depth check comes first */
    json_decref(call(CREATE, deep, strlen(deep), 500, "nests deeper than"));
    free(deep);

    /* 65 levels inside an object */
    char *arrays = nested(65, '[', ']');
    char body[512];
    snprintf(body, sizeof(body), "{\"x\":%s}", arrays);
    expect(CREATE, body, 500, "nests deeper than");
    free(arrays);

    /* brackets inside strings are not nesting */
    char *text = nested(20000, '[', '{');
    size_t len = strlen(text) + 64;
    char *in_string = malloc(len);
    assert_non_null(in_string);
    snprintf(in_string, len, "{\"x\":\"%s\\\"\"}", text);
    expect(CREATE, in_string, 500, "missing field \"NetworkID\"");
    free(text);
    free(in_string);
}

static void network_request_parses(void **state)
{
    (void)state;
    json_t *req = json_loads(
        "{" NET "," V4DATA "," GENERIC("\"vni\":\"16777214\",\"mtu\":\"1450\"") "}", 0, NULL);
    assert_non_null(req);
    struct fabric_network_spec spec;
    struct weft_err err;
    assert_int_equal(request_network_create(req, &spec, &err), 0);
    assert_string_equal(spec.network_id, ID_A);
    assert_string_equal(spec.subnet, "10.77.0.0/24");
    assert_int_equal(spec.vni, 16777214);
    assert_int_equal(spec.mtu, 1450);
    assert_false(spec.encrypted);
    json_decref(req);

    /* -o encrypted as Docker passes it (""), and spelled out */
    req = json_loads("{" NET "," V4DATA "," GENERIC("\"encrypted\":\"\"") "}", 0, NULL);
    assert_int_equal(request_network_create(req, &spec, &err), 0);
    assert_true(spec.encrypted);
    json_decref(req);
    req = json_loads("{" NET "," V4DATA "," GENERIC("\"encrypted\":\"true\"") "}", 0, NULL);
    assert_int_equal(request_network_create(req, &spec, &err), 0);
    assert_true(spec.encrypted);
    json_decref(req);

    req = json_loads("{\"NetworkID\":\"n1\"," V4DATA "}", 0, NULL);
    assert_int_equal(request_network_create(req, &spec, &err), 0);
    assert_string_equal(spec.network_id, "n1");
    assert_int_equal(spec.vni, 0);
    assert_int_equal(spec.mtu, 0);
    json_decref(req);
}

static void endpoint_request_parses(void **state)
{
    (void)state;
    struct fabric_endpoint_spec spec;
    struct weft_err err;
    json_t *req = json_loads("{" NET "," EP ",\"Interface\":{\"Address\":\"10.77.0.41/24\","
                             "\"MacAddress\":\"02:42:1E:81:3f:9f\"}}",
                             0, NULL);
    assert_int_equal(request_endpoint_create(req, &spec, &err), 0);
    assert_string_equal(spec.endpoint_id, ID_B);
    assert_int_equal(spec.ip, (10u << 24) | (77u << 16) | 41u);
    assert_int_equal(spec.prefix_len, 24);
    assert_true(spec.has_mac);
    const uint8_t mac[6] = {0x02, 0x42, 0x1e, 0x81, 0x3f, 0x9f};
    assert_memory_equal(spec.mac, mac, 6);
    json_decref(req);

    req = json_loads("{" NET "," EP ",\"Interface\":{\"Address\":\"10.77.0.42/24\"}}", 0, NULL);
    assert_int_equal(request_endpoint_create(req, &spec, &err), 0);
    assert_false(spec.has_mac);
    json_decref(req);
}

static void address_request_parses(void **state)
{
    (void)state;
    struct request_address r;
    struct weft_err err;
    json_t *req = json_loads("{\"PoolID\":\"10.77.0.0/24\",\"Address\":\"10.77.0.1\",\"Options\":"
                             "{\"RequestAddressType\":\"com.docker.network.gateway\"}}",
                             0, NULL);
    assert_int_equal(request_address(req, &r, &err), 0);
    assert_string_equal(r.pool_id, "10.77.0.0/24");
    assert_string_equal(r.address, "10.77.0.1");
    assert_true(r.gateway);
    json_decref(req);

    req = json_loads("{\"PoolID\":\"10.77.0.0/24\",\"Options\":"
                     "{\"com.docker.network.endpoint.macaddress\":\"02:42:1e:81:3f:9f\"}}",
                     0, NULL);
    assert_int_equal(request_address(req, &r, &err), 0);
    assert_string_equal(r.address, "");
    assert_false(r.gateway);
    json_decref(req);

    /* IPv6 (--ip6): pool and address written back canonical. */
    req = json_loads("{\"PoolID\":\"fd81:0::/120\",\"Address\":\"FD81::00a5\"}", 0, NULL);
    assert_int_equal(request_address(req, &r, &err), 0);
    assert_string_equal(r.pool_id, "fd81::/120");
    assert_string_equal(r.address, "fd81::a5");
    json_decref(req);
    req = json_loads("{\"PoolID\":\"fd81::/64\",\"Address\":\"fd81:0:0:0:0:0:0:1\"}", 0, NULL);
    assert_int_equal(request_release_address(req, &r, &err), 0);
    assert_string_equal(r.address, "fd81::1");
    json_decref(req);

    /* An aux address as Docker reserves it (options null), in a pool with a range */
    req = json_loads("{\"PoolID\":\"10.76.0.0/24@10.76.0.128/25\",\"Address\":\"10.76.0.130\","
                     "\"Options\":null}",
                     0, NULL);
    assert_int_equal(request_address(req, &r, &err), 0);
    assert_string_equal(r.pool_id, "10.76.0.0/24@10.76.0.128/25");
    assert_string_equal(r.subnet, "10.76.0.0/24");
    assert_string_equal(r.address, "10.76.0.130");
    assert_false(r.gateway);
    json_decref(req);
    req = json_loads("{\"PoolID\":\"10.76.0.0/24@10.76.0.128/25\"}", 0, NULL);
    assert_int_equal(request_release_pool(req, &r, &err), 0);
    assert_string_equal(r.subnet, "10.76.0.0/24");
    json_decref(req);
}

/* Docker's own drivers' option names, so compose files carry over. */
static void docker_option_names_are_aliases(void **state)
{
    (void)state;
    struct fabric_network_spec spec;
    struct weft_err err;
    json_t *req = json_loads("{" NET "," V4DATA "," GENERIC(
                                 "\"com.docker.network.driver.mtu\":\"1400\","
                                 "\"com.docker.network.driver.overlay.vxlanid_list\":\"4100\"") "}",
                             0, NULL);
    assert_non_null(req);
    assert_int_equal(request_network_create(req, &spec, &err), 0);
    assert_int_equal(spec.mtu, 1400);
    assert_int_equal(spec.vni, 4100);
    json_decref(req);
    /* both spellings at once are fine when they agree */
    req = json_loads("{" NET "," V4DATA "," GENERIC("\"mtu\":\"1400\","
                                                   "\"com.docker.network.driver.mtu\":\"1400\"") "}",
                     0, NULL);
    assert_int_equal(request_network_create(req, &spec, &err), 0);
    assert_int_equal(spec.mtu, 1400);
    json_decref(req);
    /* Docker passes --aux-address to CreateNetwork too: accepted (IPAM reserved them) */
    req = json_loads("{" NET ",\"IPv4Data\":[{\"AddressSpace\":\"weft\",\"Pool\":\"10.76.0.0/24\","
                     "\"Gateway\":\"10.76.0.128/24\",\"AuxAddresses\":{\"router\":"
                     "\"10.76.0.130/24\"}}]}",
                     0, NULL);
    assert_int_equal(request_network_create(req, &spec, &err), 0);
    assert_string_equal(spec.subnet, "10.76.0.0/24");
    json_decref(req);
}

/* Parses body with request_network_create and checks the refusal's kind. */
static void expect_network_kind(const char *body, int code, const char *want)
{
    json_t *req = json_loads(body, 0, NULL);
    assert_non_null(req);
    struct fabric_network_spec spec;
    struct weft_err err = {0};
    assert_int_equal(request_network_create(req, &spec, &err), -1);
    if (err.code != code || !strstr(err.msg, want))
        fail_msg("%s: code %d \"%s\", want %d \"%s\"", body, err.code, err.msg, code, want);
    json_decref(req);
}

/* Refusals carry a kind with their message: bad input from Docker is -EINVAL,
 * a feature weft lacks -EOPNOTSUPP, a domain not open yet -EAGAIN. */
static void refusals_carry_their_kind(void **state)
{
    (void)state;
    expect_network_kind("{" NET
                        ",\"IPv4Data\":[{\"AddressSpace\":\"weft\",\"Pool\":\"10.77.0.0/33\"}]}",
                        -EINVAL, "not a valid IPv4 CIDR");
    expect_network_kind("{" NET
                        ",\"IPv4Data\":[{\"AddressSpace\":\"weft\",\"Pool\":\"10.77.0.5/24\"}]}",
                        -EINVAL, "host bits set");
    expect_network_kind("{\"NetworkID\":\"../x\"," V4DATA "}", -EINVAL, "not a Docker ID");
    expect_network_kind("{" NET "," V4DATA "," GENERIC("\"vni\":\"0\"") "}", -EINVAL, "option vni");
    expect_network_kind("{" NET "," V4DATA
                        ",\"Options\":{\"com.docker.network.enable_ipv6\":true}}",
                        -EINVAL, "weft needs an IPv6 --subnet with --ipv6");

    json_t *req = json_loads("{\"V6\":true}", 0, NULL);
    struct request_pool pool;
    struct weft_err err = {0};
    assert_int_equal(request_pool(req, &pool, &err), -1);
    assert_int_equal(err.code, -EINVAL); /* --ipv6 without an IPv6 --subnet */
    json_decref(req);
    /* Several --subnet, in the random order Docker's CLI passes them: the lowest names the
     * network (with its gateway), the others are its extra pools, ascending. */
    req = json_loads("{" NET ",\"IPv4Data\":[{\"AddressSpace\":\"weft\",\"Pool\":\"10.3.0.0/24\"},"
                     "{\"AddressSpace\":\"weft\",\"Pool\":\"10.1.0.0/24\",\"Gateway\":\"10.1.0.9/24\"},"
                     "{\"AddressSpace\":\"weft\",\"Pool\":\"10.2.0.0/24\"}]}",
                     0, NULL);
    struct fabric_network_spec spec;
    assert_int_equal(request_network_create(req, &spec, &err), 0);
    assert_string_equal(spec.subnet, "10.1.0.0/24");
    assert_int_equal(spec.gateway, 0x0a010009);
    assert_int_equal(spec.extra_count, 2);
    assert_string_equal(spec.extra_subnets[0], "10.2.0.0/24");
    assert_string_equal(spec.extra_subnets[1], "10.3.0.0/24");
    json_decref(req);
    req = json_loads("{" NET "," V4DATA ",\"IPv6Data\":[{\"AddressSpace\":\"weft\",\"Pool\":\"fd01::/64\"},"
                     "{\"AddressSpace\":\"weft\",\"Pool\":\"fd00::/64\"}]}",
                     0, NULL);
    assert_int_equal(request_network_create(req, &spec, &err), 0);
    assert_string_equal(spec.subnet6, "fd00::/64");
    assert_int_equal(spec.extra6_count, 1);
    assert_string_equal(spec.extra_subnets6[0], "fd01::/64");
    json_decref(req);

    req = json_loads("{\"PoolID\":\"10.77.0.0/24\",\"Address\":\"10.77.0.300\"}", 0, NULL);
    struct request_address r;
    err = (struct weft_err){0};
    assert_int_equal(request_address(req, &r, &err), -1);
    assert_int_equal(err.code, -EINVAL);
    json_decref(req);

    /* Through the dispatcher: an unknown call is a 404 because its kind is -ENOSYS;
     * a domain that is not open yet is a 500. */
    expect("/NetworkDriver.Frobnicate", "{}", 404, "unknown call");
    expect(CREATE, "{" NET "," V4DATA "}", 500, "not ready");
}

/* The encoder daemon/http.c answers its own refusals with: Docker's shape, the
 * status given, control and non-ASCII bytes made '?', quotes escaped by JSON. */
static void error_answers_have_dockers_shape(void **state)
{
    (void)state;
    struct driver_response resp;
    driver_error_answer(405, "plugin calls are POST, not PUT", &resp);
    assert_int_equal(resp.status, 405);
    assert_string_equal(resp.body, "{\"Err\":\"plugin calls are POST, not PUT\"}");
    free(resp.body);
    driver_error_answer(413, "a\001b\303\251c \"q\"", &resp);
    assert_int_equal(resp.status, 413);
    assert_string_equal(resp.body, "{\"Err\":\"a?b??c \\\"q\\\"\"}");
    free(resp.body);
    driver_error_answer(500, NULL, &resp);
    assert_string_equal(resp.body, "{\"Err\":\"\"}");
    free(resp.body);
    json_error_t jerr;
    json_t *oom = json_loads(DRIVER_OOM_ANSWER, 0, &jerr);
    assert_non_null(oom);
    assert_string_equal(json_string_value(json_object_get(oom, "Err")), "out of memory");
    json_decref(oom);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(refusals_name_the_problem),
        cmocka_unit_test(unknown_calls_are_404),
        cmocka_unit_test(valid_requests_reach_the_domain),
        cmocka_unit_test(capability_answers),
        cmocka_unit_test(request_pool_answers_the_canonical_pool),
        cmocka_unit_test(huge_body_is_refused),
        cmocka_unit_test(deep_nesting_is_refused),
        cmocka_unit_test(network_request_parses),
        cmocka_unit_test(endpoint_request_parses),
        cmocka_unit_test(address_request_parses),
        cmocka_unit_test(ipv6_pool_ids_carry_the_range),
        cmocka_unit_test(docker_option_names_are_aliases),
        cmocka_unit_test(error_answers_have_dockers_shape),
        cmocka_unit_test(refusals_carry_their_kind),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
