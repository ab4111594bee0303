/*
 * datapath_bench.c: TCP throughput through datapath/ with the identity transform
 * between two hosts in network namespaces (tests/netns/datapath_topology.h); for
 * comparison over the plain veth that joins the hosts (the underlay) too,
 * and the same containers over kernel VXLAN (plain weft's data path). Prints the
 * three in Gbit/s and the ratios. Not part of make bench yet.
 *   build/datapath_bench [seconds (5)] [workers (cores)]
 * Needs CAP_NET_ADMIN and iperf3; everything it makes lives in namespaces held
 * by this process; the iperf3 servers are one-shot (-1), stopped by recorded pid.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>

#include "tests/netns/datapath_topology.h"

/* Runs an iperf3 client in ns against addr and returns the receiver's Gbit/s. */
static double iperf_gbits(int client_ns, int server_ns, const char *addr, int seconds)
{
    char path[64], pidfile[64];
    snprintf(path, sizeof(path), "/tmp/weft-dp-bench.%d", (int)getpid());
    snprintf(pidfile, sizeof(pidfile), "/tmp/weft-dp-bench-iperf.%d", (int)getpid());
    /* A one-shot server (-1), stopped by its recorded pid if the client never came. */
    if (in_ns(server_ns, "iperf3 -s -1 -D -p 5302 -I %s", pidfile) != 0)
        return -1;
    usleep(300 * 1000);
    int rc = in_ns(client_ns,
                   "iperf3 -c %s -p 5302 -t %d -f m 2>/dev/null | "
                   "awk '/receiver/ {print $7}' > %s",
                   addr, seconds, path);
    double mbits = -1;
    FILE *f = fopen(path, "r");
    if (rc == 0 && f && fscanf(f, "%lf", &mbits) != 1)
        mbits = -1;
    if (f)
        fclose(f);
    unlink(path);
    f = fopen(pidfile, "r");
    int pid = 0;
    if (f && fscanf(f, "%d", &pid) == 1 && pid > 1)
        kill(pid, SIGTERM);
    if (f)
        fclose(f);
    unlink(pidfile);
    return mbits / 1000;
}

/* Each host's TAP replaced by a kernel VXLAN device on the same bridge, sending to
 * the other host: the data path plain weft overlays use, for comparison. */
static int kernel_vxlan_instead(struct topology *t)
{
    for (int i = 0; i < 2; i++) {
        struct topo_host *h = &t->host[i];
        struct weft_err err;
        topo_stop(t, i);
        tap_close(&h->ov[0].tap);
        if (tap_delete(h->nl, TOPO_VNI, &err) < 0 ||
            in_ns(h->host_ns,
                  "ip link add wvx7 mtu %d type vxlan id 7 local 192.168.99.%d remote "
                  "192.168.99.%d dstport 4789 && ip link set wvx7 master wbr7 up",
                  t->mtu, i + 1, 2 - i) != 0)
            return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    int seconds = argc > 1 ? atoi(argv[1]) : 5;
    int workers = argc > 2 ? atoi(argv[2]) : datapath_default_workers();
    struct topology t;
    if (netns_missing()) {
        fprintf(stderr, "datapath_bench: %s\n", netns_missing());
        return 1;
    }
    if (netns_private() < 0 || topo_build(&t, workers, 0, 1) < 0 ||
        topo_start(&t, 0, &datapath_plain) < 0 || topo_start(&t, 1, &datapath_plain) < 0) {
        fprintf(stderr, "datapath_bench: setting up the namespaces failed\n");
        topo_destroy(&t);
        return 1;
    }
    double dp = iperf_gbits(t.host[0].ov[0].ctr_ns, t.host[1].ov[0].ctr_ns, "10.99.0.2", seconds);
    struct datapath_stats s0;
    datapath_stats(t.host[0].dp, &s0);
    double veth = iperf_gbits(t.host[0].host_ns, t.host[1].host_ns, "192.168.99.2", seconds);
    double vxlan = -1;
    if (kernel_vxlan_instead(&t) == 0)
        vxlan = iperf_gbits(t.host[0].ov[0].ctr_ns, t.host[1].ov[0].ctr_ns, "10.99.0.2", seconds);
    topo_destroy(&t);
    printf("datapath (identity, %d workers, MTU %d): %.2f Gbit/s\n", workers, t.mtu, dp);
    printf("kernel VXLAN, as plain weft (MTU %d):      %.2f Gbit/s\n", t.mtu, vxlan);
    printf("plain veth, the underlay (MTU %d):         %.2f Gbit/s\n", TOPO_UNDERLAY_MTU, veth);
    printf("ratio datapath/vxlan: %.2f  datapath/veth: %.2f  (host 0 sent %llu datagrams)\n",
           vxlan > 0 ? dp / vxlan : 0, veth > 0 ? dp / veth : 0, (unsigned long long)s0.sent);
    return dp > 0 && veth > 0 ? 0 : 1;
}
