/*
 * service_port.c: a namespace of weft's own per overlay, reached through a veth
 * port on the overlay's bridge (service_port.h). A thread's network namespace is
 * its own (setns and unshare with CLONE_NEWNET change the calling thread only), so
 * everything done inside a namespace runs on a short-lived thread: the namespace is
 * made there with unshare, the address set from a netlink socket opened there, and
 * the sockets that weft serves on opened there (a socket stays in the namespace it
 * was made in). The daemon's own threads never change namespace.
 */
#include "vxlan/service_port.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <unistd.h>

#include "common/log.h"
#include "netlink/nl.h"

/* Work to do inside a namespace, on a thread of its own. */
struct ns_job {
    int ns_fd; /* the namespace to enter; -1: make a new one (its fd into ns_fd) */
    int (*fn)(struct ns_job *job);
    const struct service_port *port;
    const struct service_port_spec *spec; /* configure_inner_end's */
    uint32_t addr;
    int type;
    uint16_t port_no;
    int result; /* fn's: an fd, 0, or -1 */
    struct weft_err err;
};

/* A sysctl of the thread's own namespace: /proc/sys/net is read in the opener's. */
static void write_sysctl(const char *path, const char *value)
{
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return; /* IPv6 compiled out, say: nothing to turn off */
    if (write(fd, value, strlen(value)) < 0)
        log_warn("setting a sysctl in a service namespace failed", "path=%s errno=%d", path,
                 errno);
    close(fd);
}

static void *ns_thread(void *arg)
{
    struct ns_job *job = arg;
    job->result = -1;
    if (job->ns_fd < 0) {
        if (unshare(CLONE_NEWNET) < 0) {
            weft_err_set(&job->err, -errno, "cannot make a network namespace: %s",
                         strerror(errno));
            return NULL;
        }
        job->ns_fd = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
        if (job->ns_fd < 0) {
            weft_err_set(&job->err, -errno, "cannot open the new namespace: %s",
                         strerror(errno));
            return NULL;
        }
    } else if (setns(job->ns_fd, CLONE_NEWNET) < 0) {
        weft_err_set(&job->err, -errno, "cannot enter a service namespace: %s", strerror(errno));
        return NULL;
    }
    job->result = job->fn(job);
    return NULL;
}

static int run_in_ns(struct ns_job *job)
{
    pthread_t thread;
    int rc = pthread_create(&thread, NULL, ns_thread, job);
    if (rc != 0)
        return weft_err_set(&job->err, -rc, "cannot start a namespace thread");
    pthread_join(thread, NULL);
    return job->result;
}

/* Docker mounts /proc/sys read-only in a managed plugin's container (README, "Install
 * as a managed Docker plugin"). Then this thread alone gets a mount namespace with a
 * procfs of its own, writable and gone with the thread; its /proc/sys/net is the
 * namespace the thread is in. A plain install's /proc/sys is writable: nothing to do. */
static void writable_proc_sys(void)
{
    if (access("/proc/sys/net/ipv4/ip_forward", W_OK) == 0 || errno != EROFS)
        return;
    if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_SLAVE, NULL) < 0 ||
        mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
        log_warn("/proc/sys is read-only: a service namespace keeps the host's forwarding, "
                 "rp_filter and IPv6 defaults",
                 "errno=%d", errno);
}

/* In a new namespace: forwarding and IPv6 off before any interface arrives. */
static int prepare_namespace(struct ns_job *job)
{
    (void)job;
    writable_proc_sys();
    write_sysctl("/proc/sys/net/ipv4/ip_forward", "0");
    /* Strict reverse path: only sources the port's subnet holds get in at all. */
    write_sysctl("/proc/sys/net/ipv4/conf/all/rp_filter", "1");
    write_sysctl("/proc/sys/net/ipv4/conf/default/rp_filter", "1");
    write_sysctl("/proc/sys/net/ipv6/conf/all/disable_ipv6", "1");
    write_sysctl("/proc/sys/net/ipv6/conf/default/disable_ipv6", "1");
    return 0;
}

/* In the port's namespace: the inner end gets its address, goes up (a route needs
 * its link up) and gets a route to each extra subnet. A failure here is undone by
 * the caller deleting the pair, which takes the address and routes with it. */
static int configure_inner_end(struct ns_job *job)
{
    const struct service_port_spec *spec = job->spec;
    struct nl *nl;
    if (nl_open(&nl, &job->err) < 0)
        return -1;
    const char *name = job->port->inner_end;
    int rc = nl_addr_add(nl, name, spec->addr, spec->prefix_len, &job->err);
    if (rc == 0)
        rc = nl_link_set_up(nl, name, &job->err);
    for (int i = 0; rc == 0 && i < spec->onlink_count; i++)
        rc = nl_route_add_onlink(nl, name, htonl(spec->onlink[i].network),
                                 spec->onlink[i].prefix_len, &job->err);
    nl_close(nl);
    return rc;
}

int service_port_open(struct nl *nl, const struct service_port_spec *spec,
                      struct service_port *out, struct weft_err *err)
{
    memset(out, 0, sizeof(*out));
    out->ns_fd = -1;
    snprintf(out->host_end, sizeof(out->host_end), "wsp%u", spec->vni);
    snprintf(out->inner_end, sizeof(out->inner_end), "wsi%u", spec->vni);
    struct ns_job job = {.ns_fd = -1, .fn = prepare_namespace};
    if (run_in_ns(&job) < 0) {
        *err = job.err;
        if (job.ns_fd >= 0)
            close(job.ns_fd);
        return -1;
    }
    out->ns_fd = job.ns_fd;
    struct nl_veth_spec veth = {.host_name = out->host_end,
                                .container_name = out->inner_end,
                                .container_mac = spec->mac,
                                .mtu = spec->mtu,
                                .master_ifindex = spec->bridge_ifindex};
    if (nl_veth_create(nl, &veth, err) < 0)
        goto undo_namespace;
    if (nl_link_set_netns(nl, out->inner_end, out->ns_fd, err) < 0)
        goto undo_pair;
    job = (struct ns_job){.ns_fd = out->ns_fd, .fn = configure_inner_end, .port = out,
                          .spec = spec};
    if (run_in_ns(&job) < 0) {
        *err = job.err;
        goto undo_pair;
    }
    return 0;

undo_pair: {
    struct weft_err undo = {0};
    if (nl_link_delete(nl, out->host_end, &undo) < 0) /* takes the other end too */
        log_warn("undo failed: service port left behind", "link=%s error=\"%s\"", out->host_end,
                 undo.msg);
}
undo_namespace:
    close(out->ns_fd);
    out->ns_fd = -1;
    return -1;
}

static int open_socket(struct ns_job *job)
{
    int fd = socket(AF_INET, job->type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return weft_err_set(&job->err, -errno, "socket: %s", strerror(errno));
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons(job->port_no)};
    sin.sin_addr.s_addr = job->addr;
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0 ||
        (job->type == SOCK_STREAM && listen(fd, 64) < 0)) {
        char text[INET_ADDRSTRLEN];
        inet_ntop(AF_INET, &job->addr, text, sizeof(text));
        weft_err_set(&job->err, -errno, "cannot serve on %s:%u: %s", text, job->port_no,
                     strerror(errno));
        close(fd);
        return -1;
    }
    return fd;
}

int service_port_socket(const struct service_port *port, int type, uint32_t addr, uint16_t port_no,
                        struct weft_err *err)
{
    if (port->ns_fd < 0)
        return weft_err_set(err, -EBADF, "the service port is closed");
    struct ns_job job = {.ns_fd = port->ns_fd, .fn = open_socket, .port = port, .addr = addr,
                         .type = type, .port_no = port_no};
    int fd = run_in_ns(&job);
    if (fd < 0)
        *err = job.err;
    return fd;
}

void service_port_close(struct nl *nl, struct service_port *port)
{
    if (port->ns_fd < 0)
        return;
    struct weft_err err = {0};
    if (nl_link_delete(nl, port->host_end, &err) < 0 && err.code != -ENODEV)
        log_warn("deleting a service port failed", "link=%s error=\"%s\"", port->host_end,
                 err.msg);
    close(port->ns_fd);
    port->ns_fd = -1;
}
