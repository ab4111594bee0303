/*
 * fabric_internal.h: the state behind fabric.h, shared by the files of fabric/
 * and by nobody else (the pattern of store/etcd_internal.h).
 *
 * Rooms: fabric.c (state, lookups, open/close), networks.c and endpoints.c (the
 * public API), own_records.c (this host's records in the store), publisher.c
 * (endpoints reach the store after CreateEndpoint), peers.c (watch events to
 * kernel entries), spares.c (spare veth pairs), overlay_claim.c (VNI claim and
 * release), restore.c (adoption after a restart), lease.c (keeper and reaper),
 * member_watch.c (per-member watches) and member_claims.c (their claims' check).
 *
 * Threads: Docker's request threads (driver/), the watch callback (store/'s
 * watch thread, or the watch set's), the lease keeper, the publisher and the spare maker.
 *
 * THE LOCK. f->lock guards every field of struct fabric below "guarded", every
 * local_network and local_endpoint (lists and fields), the remote table and the
 * rejected set, and f->nl (one netlink socket, used under the lock only; the
 * spare maker has its own, f->spare_nl). Fields above "guarded" are set once by
 * fabric_open and read freely.
 *
 * ONE RULE for store I/O: no thread waits for the store while it holds the lock.
 * Work that must reach the store marks what it works on (an endpoint IN_FLIGHT
 * or removing, a network closing), drops the lock for the round trip, and takes
 * it back to record the outcome; whoever finds a marked object leaves it alone
 * or waits on its condition variable. So a Join, a watch batch or a
 * CreateEndpoint waits only for memory and netlink work, never for etcd.
 * CreateNetwork and DeleteNetwork write the store in order with linking and
 * unlinking the network: f->changes (taken before the lock, never under it)
 * serializes them, so a network looked up under the lock stays (or stays
 * absent) while they write without it. A network is linked only once its
 * records are written, and marked closing before they are withdrawn.
 *
 * The same goes for the two rare writers of this host's records: the publisher's
 * rewrite of a lost member record (rewrite_lost_members) and the lease keeper's
 * re-publication after a lost lease (republish_all) take f->changes (releasing
 * the lock first, as the order wants) and write without the lock; the keeper
 * marks the endpoints it re-publishes IN_FLIGHT, as the publisher does.
 * The one exception is start-up (restore.c), before any other thread runs.
 *
 * IN-FLIGHT PROTOCOL 1, publication (publisher.c, endpoints.c, lease.c): an
 * endpoint is PENDING until the publisher takes it (IN_FLIGHT), writes it with the
 * lock released, and records DONE or PENDING (retry); the lease keeper
 * takes DONE ones the same way to re-publish them under a new lease. Meanwhile
 * nobody frees it or changes its fields: a removal sets ep->removing and waits on
 * publish_done until it is no longer IN_FLIGHT; the watch, finding its record replaced, sets
 * ep->rewrite so the publisher writes it again. The removal then withdraws ep's
 * records with the lock released too (ep stays linked, marked removing); a
 * DeleteNetwork that finds it so waits on publish_done for the removal's end.
 * IN-FLIGHT PROTOCOL 2, spare veths (spares.c): the spare maker sets
 * net->spare_in_flight, makes a pair on its own socket with the lock released,
 * then clears it and broadcasts spare_done. Deleting a network (drop_spares)
 * waits for that before deleting spares, so net outlives the maker's use of it.
 * Both waits release the lock, so the waiter first marks its object (removing,
 * closing) and a second removal of it is refused rather than started.
 *
 * Condition variables run on CLOCK_MONOTONIC (wait_on).
 */
#ifndef WEFT_FABRIC_INTERNAL_H
#define WEFT_FABRIC_INTERNAL_H

#include <net/if.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "fabric/fabric.h"
#include "fabric/record_check.h"
#include "fabric/rejected_records.h"
#include "fabric/remote_table.h"
#include "ipam/ipam.h"
#include "store/etcd.h"
#include "store/records.h"
#include "vxlan/fast_path.h"
#include "vxlan/segment.h"
#include "vxlan/tap.h"

struct datapath;
struct vtep_map;
struct etcd_watch_set;
struct watched_prefix;

/* Whose records one per-member watch carries (member_watch.c): host's, of subnet. */
struct watch_scope {
    struct ip_addr host;
    char subnet[ADDR_STR_MAX];
};

/* Spare veth pairs kept ready per network: CreateEndpoint takes one, the spare
 * maker makes the next in the background (see segment.h for why). */
#define SPARES_PER_NETWORK 2
/* A spare is made again this long after the last CreateEndpoint (settle_left). */
#define SPARE_SETTLE_MS 10

/* Where an endpoint's records stand in the store (protocol 1 above). */
enum publication {
    PUBLICATION_PENDING,   /* to be written */
    PUBLICATION_IN_FLIGHT, /* being written, outside the lock: not to be removed meanwhile */
    PUBLICATION_DONE,
};

struct local_endpoint {
    struct local_endpoint *next;
    char id[FABRIC_ID_MAX];
    uint32_t ip; /* host order */
    int prefix_len;
    bool has_ip6; /* dual-stack overlays */
    struct ipv6_addr ip6;
    int prefix6_len;
    uint8_t mac[6];
    char ifname[IF_NAMESIZE]; /* host end of its veth (a spare's name, or wh<id>) */
    enum publication publication;
    bool removing; /* a removal waits (lock released) for its write in flight */
    bool rewrite;  /* its peer record was replaced while being written: write it again */
    char names[RECORD_NAMES_MAX]; /* its container's DNS names (from docker/), or "" */
    uint16_t fast_prio; /* its fast path filters' priority (vxlan/fast_path.h), 0: none */
};

struct local_network {
    struct local_network *next;
    char id[FABRIC_ID_MAX];
    char subnet[ADDR_STR_MAX];
    struct ipv4_subnet cidr;
    char subnet6[ADDR_STR_MAX]; /* dual stack (--ipv6): its IPv6 pool; "" for none */
    struct ipv6_subnet cidr6;   /* when subnet6[0] */
    /* Its other IPv4 subnets (several --subnet; subnets.c): records of their addresses
     * are keyed by them, and map back to this network. */
    char extra_subnets[FABRIC_EXTRA_SUBNETS_MAX][ADDR_STR_MAX];
    struct ipv4_subnet extra_cidrs[FABRIC_EXTRA_SUBNETS_MAX];
    int extra_count;
    char extra_subnets6[FABRIC_EXTRA_SUBNETS_MAX][ADDR_STR_MAX]; /* its other IPv6 pools */
    struct ipv6_subnet extra_cidrs6[FABRIC_EXTRA_SUBNETS_MAX];
    int extra6_count;
    uint32_t vni;
    int mtu;
    struct segment_devices devices;
    struct fast_path fast; /* plain overlays: its tc filters past the bridge, or off */
    struct local_endpoint *endpoints;
    char spares[SPARES_PER_NETWORK][IF_NAMESIZE]; /* host ends of ready spare pairs */
    int spare_count;
    bool spare_in_flight; /* the spare maker is making one, outside the lock */
    bool closing;         /* being deleted: no new endpoints or spares for it */
    bool member_lost;     /* its member record was deleted or replaced: the publisher rewrites it */
    uint32_t gateway;     /* host order: the overlay's gateway, where its service port answers */
    bool service_up;      /* the overlay hooks' up() succeeded: down() is owed */
    /* Encrypted overlays (encrypted.c): a TAP instead of the VXLAN device (devices.vxlan
     * and vxlan_ifindex name the TAP), its queues in the data path, and the map the data
     * path looks destinations up in. */
    bool encrypted;
    struct tap_queues queues;
    struct vtep_map *vteps;
};

/* Whether this host holds roles/reaper (reaper_role.c), as its last ask found. */
enum reaper_role {
    REAPER_ROLE_UNKNOWN,   /* not asked yet, or the store did not answer: reaps */
    REAPER_ROLE_HELD,      /* reaps */
    REAPER_ROLE_ELSEWHERE, /* another host holds it: no pass */
    REAPER_ROLE_UNGRANTED, /* this host's etcd role may not write roles/: reaps */
};

struct fabric {
    pthread_mutex_t lock;
    pthread_mutex_t changes; /* adding, freeing or closing networks, and writing their member
                                records: one at a time. Taken before lock, never under it */
    /* Set by fabric_open, then read-only. */
    struct etcd *etcd;
    char host[ADDR_STR_MAX];  /* host_vtep's text: keys and records name the host by it */
    struct ip_addr host_vtep; /* this host's VTEP: IPv4, or IPv6 on an IPv6 underlay (issue 12);
                                 remote VTEPs of the other family are refused (peers.c) */
    int underlay_mtu;
    int lease_ttl;
    struct ipam_reaper *reaper; /* the lease keeper's only */
    int reaper_interval;        /* seconds between reaping passes */
    enum reaper_role reaper_role; /* the lease keeper's only */
    struct etcd_watch *watch;     /* the one list+watch of fabric/, or NULL: */
    bool member_watch;            /* per-member watches (fabric_config.member_watch) */
    struct etcd_watch_set *set;   /* their set, once started */
    struct fabric_overlay_hooks hooks; /* all NULL: none */
    struct tunnel_peer_table *tunnel;  /* NULL: no cluster secret, no encrypted overlays */
    uint16_t tunnel_port;
    char public_key[RECORD_KEY_TEXT_MAX]; /* this run's, for member records ("" without) */
    unsigned ciphers;                     /* and the ciphers it runs (tunnel/aead.h's set) */
    struct datapath *datapath;            /* encrypted overlays' (encrypted.c); NULL without */
    pthread_t keeper, publisher, spare_maker;
    bool keeper_running, publisher_running, spare_maker_running;
    struct nl *spare_nl; /* the spare maker's own socket: it works outside the lock */
    /* Guarded by lock. */
    struct nl *nl;
    int64_t lease;
    struct local_network *networks;
    struct remote_table remotes;
    struct rejected_records rejected; /* refused fabric/ records, each logged once */
    unsigned long records_rejected;   /* fabric/ records refused, each counted once */
    unsigned long records_reclaimed;  /* this host's records found changed, and rewritten */
    unsigned long claims_contested;   /* peer claims of an address another claim holds (or an
                                         endpoint here): each logged and counted once */
    bool stopping;
    pthread_cond_t wake;         /* the lease keeper: stopping */
    pthread_cond_t publish_work; /* an endpoint became pending, or stopping */
    pthread_cond_t publish_done; /* a write or a removal finished: IN_FLIGHT or removing changed */
    unsigned spare_serial;       /* names spares ws<serial> */
    pthread_cond_t spare_work;   /* a network may want a spare, or stopping */
    pthread_cond_t spare_done;   /* spare_in_flight changed */
    long last_create_ms;         /* monotonic time of the last CreateEndpoint */
    struct pending_claim *pending_claims; /* address claims waiting for the watch to read
                                             them back (address_claims.c) */
    struct watched_prefix *watched;       /* the set's prefixes (member_watch.c) */
    int64_t watch_revision;               /* the store revision the remote table is complete to */
    pthread_cond_t watch_progress;        /* watch_revision moved, or an own claim was read back */
};

/* An address claim written by fabric_claim_address, until the watch has read it
 * back and everything older (address_claims.c). Under the lock. */
struct pending_claim {
    struct pending_claim *next;
    char subnet[ADDR_STR_MAX];
    uint32_t addr;    /* network order */
    int64_t created;  /* create revision of this host's claim key, once read back (else 0) */
    int64_t revision; /* the revision at which it was read back */
};

/* subnets.c: a network's extra IPv4 subnets (several --subnet). */
int network_set_extra_subnets(struct local_network *net, const char (*texts)[ADDR_STR_MAX],
                              int count, struct weft_err *err);
int network_set_extra_subnets6(struct local_network *net, const char (*texts)[ADDR_STR_MAX],
                               int count, struct weft_err *err);
int network_parse_extra_subnets(struct local_network *net, const char *text,
                                const char *text6, struct weft_err *err);
bool extra_subnets_join(const char (*texts)[ADDR_STR_MAX], int count, char *out, size_t len);
const char *network_subnet6_of(const struct local_network *net, const struct ipv6_addr *ip,
                               const struct ipv6_subnet **cidr);
bool network_has_subnet(const struct local_network *net, const char *subnet);
const char *network_subnet_of(const struct local_network *net, uint32_t ip,
                              const struct ipv4_subnet **cidr);
bool in_overlay(const struct local_network *net, const char *a, const char *b);
/* Every pool of a network but its first subnet's (IPv6, extra IPv4, extra IPv6): what
 * goes with its overlay. out holds OVERLAY_POOLS_MAX; returns how many. */
#define OVERLAY_POOLS_MAX (1 + 2 * FABRIC_EXTRA_SUBNETS_MAX)
int spec_other_pools(const struct fabric_network_spec *spec, char (*out)[ADDR_STR_MAX]);
int network_other_pools(const struct local_network *net, char (*out)[ADDR_STR_MAX]);

/* fabric.c: lookups and waits, all under the lock. */
struct local_network *network_by_id(struct fabric *f, const char *id);
/* The network whose first or extra subnet is subnet (subnets.c). */
struct local_network *network_by_subnet(struct fabric *f, const char *subnet);
struct local_endpoint *endpoint_by_id(struct local_network *n, const char *id);
/* The endpoint of this host holding ip (network order) on subnet, or NULL. */
struct local_endpoint *endpoint_by_ip(struct fabric *f, const char *subnet, uint32_t ip);
int find_endpoint(struct fabric *f, const char *network_id, const char *endpoint_id,
                  struct local_network **net_out, struct local_endpoint **ep_out,
                  struct weft_err *err);
/* Waits on cond for at most ms (0: until signalled). */
void wait_on(struct fabric *f, pthread_cond_t *cond, long ms);
/* How long work that a CreateEndpoint caused still waits after it, or 0. */
long settle_left(const struct fabric *f, long settle_ms);
int effective_mtu(const struct fabric *f, int requested);
/* An undo or clean-up step's outcome: a failure is logged once, here, naming the
 * step and what it was for (the caller's own error stays the first failure's).
 * Returns rc. */
int cleanup_logged(int rc, const char *step, const char *name, const struct weft_err *err);
/* Frees net and its endpoints (not their kernel objects). */
void network_free(struct local_network *net);

/* networks.c: the overlay hooks (fabric.h) for net, after its segment exists;
 * restore.c uses it too. Without the lock. */
int overlay_hooks_up(struct fabric *f, struct local_network *net, struct weft_err *err);
void overlay_hooks_down(struct fabric *f, struct local_network *net);

/* own_records.c: this host's records in the store. No lock needed: they read
 * only fields that do not change while the caller holds the object (see above). */
/* Writes the member record and the joined/ index entry (one transaction). */
int publish_member(struct fabric *f, int64_t lease, const struct local_network *net,
                   struct weft_err *err);
/* Adds the puts of publish_member to txn. -1 when out of memory. */
int txn_add_member(struct etcd_txn *txn, const struct fabric *f, int64_t lease,
                   const struct local_network *net);
int publish_alive(struct fabric *f, int64_t lease, struct weft_err *err);
/* {"vtep": this host} (malloc'd; NULL: out of memory): the body of a record that only
 * names its host (alive, roles/reaper). */
char *host_named_text(const struct fabric *f);
void assert_address(struct fabric *f, const struct local_network *net,
                    const struct local_endpoint *ep);
int publish_peer(struct fabric *f, int64_t lease, const struct local_network *net,
                 const struct local_endpoint *ep, struct weft_err *err);
int withdraw_peer(struct fabric *f, const struct local_network *net,
                  const struct local_endpoint *ep, struct weft_err *err);
/* Deletes both keys publish_member writes (one transaction). */
int withdraw_member(struct fabric *f, const struct local_network *net, struct weft_err *err);
int save_host_network(struct fabric *f, const struct local_network *net, struct weft_err *err);
int delete_host_key(struct fabric *f, void (*key_fn)(char *, const char *, const char *),
                    const char *id, struct weft_err *err);
/* The host's own record of an endpoint, as JSON text (malloc'd, NULL if out of memory). */
char *host_endpoint_text(const struct local_network *net, const struct local_endpoint *ep);
/* The same record as a struct (the veth's alias is made from it: veth_alias.h). */
void host_endpoint_record_of(const struct local_network *net, const struct local_endpoint *ep,
                             struct host_endpoint_record *rec);
/* Adds an endpoint's host record and peer record to txn. -1 when out of memory. */
int txn_add_endpoint(struct etcd_txn *txn, const struct fabric *f, int64_t lease,
                     const struct local_network *net, const struct local_endpoint *ep);
/* Deletes an endpoint's host record and peer record, in one transaction. */
int withdraw_endpoint(struct fabric *f, const struct local_network *net,
                      const struct local_endpoint *ep, struct weft_err *err);

/* overlay_claim.c: the cluster's overlay record and VNI. Without the lock. */
int claim_overlay(struct fabric *f, const struct fabric_network_spec *spec,
                  struct overlay_record *out, bool *created, struct weft_err *err);
/* subnet6: the overlay's IPv6 pool, "" for none (its gateway record goes too). */
void release_overlay_if_unused(struct fabric *f, const char *subnet,
                               const char (*pools)[ADDR_STR_MAX], int pool_count, uint32_t vni);
int publish_member_joining(struct fabric *f, int64_t lease, const struct local_network *net,
                           const struct overlay_record *overlay, struct weft_err *err);

/* peers.c: remote entries into and out of the kernel, under the lock. */
/* Whether peer r's IPv6 address counts on net (programmed, answered by name): net is
 * dual-stack and the address one of its IPv6 pool's. */
bool peer6_wanted(const struct local_network *net, const struct remote_entry *r);
void remote_program(struct fabric *f, struct remote_entry *r);
void remote_unprogram(struct fabric *f, struct remote_entry *r);
/* Of an address's claims, programs the winner (the oldest), unless an endpoint here
 * holds the address, and takes the others out; each that loses is noted once. */
void claims_settle(struct fabric *f, const char *subnet, uint32_t addr);
/* A local network appeared: program what the cluster already has for it. */
void program_subnet(struct fabric *f, const char *subnet);
/* The segment of a subnet is gone, and its entries with it. */
void forget_programmed(struct fabric *f, const char *subnet);
/* The store watch's callback (takes the lock). */
void watch_callback(void *ctx, const struct etcd_event *events, size_t count);
/* One batch of a watch, under the lock: scope NULL, of the watch of all fabric/ (a
 * listing marks the whole table stale and sweeps every segment); else of one
 * per-member watch (a listing marks and drops only scope's entries, and sweeps
 * nothing: member_watch.c sweeps an overlay once each of its watches was listed).
 * Returns whether the batch ended a listing. */
bool watch_batch_locked(struct fabric *f, const struct watch_scope *scope,
                        const struct etcd_event *events, size_t count);
/* Sweeps net's segment of kernel entries the table does not hold (after a listing). */
void sweep_network(struct fabric *f, struct local_network *net);
/* Takes every entry of scope out of the table and the kernel (a member left); the
 * next claim of each address it held wins. */
void drop_scope_entries(struct fabric *f, const struct watch_scope *scope);
/* Takes peer entry r out of table and kernel; settle: let the next claim win now. */
void remote_drop(struct fabric *f, struct remote_entry *r, bool settle);

/* member_watch.c: per-member watches (fabric_config.member_watch). */
/* Starts the set and watches each local network's overlay (fabric_open, after restore). */
int member_watch_open(struct fabric *f, struct weft_err *err);
/* Stops the set (without the lock: its callback takes it) and forgets its prefixes. */
void member_watch_close(struct fabric *f);
/* Under the lock: a network was linked; watches its overlay's members. */
void member_watch_overlay_up(struct fabric *f, const struct local_network *net);
/* Without the lock: the network of overlay (its first subnet) was unlinked; stops
 * watching it and drops what its members' watches brought. */
void member_watch_overlay_down(struct fabric *f, const char *overlay);
/* Under the lock: the other members of overlay the watches know (their VTEPs' text),
 * in *out (malloc'd, NULL when out of memory); returns how many. */
size_t member_watch_members(struct fabric *f, const char *overlay, char (**out)[ADDR_STR_MAX]);
/* Under the lock, per-member mode only: whether a peer claim (its key part) was
 * created before its host's member record of the overlay (so it is no claim). */
bool claim_predates_member(struct fabric *f, const struct fabric_record *rec, int64_t created);
/* Under the lock: a member record (re)created; drops its host's older claims. */
void member_drop_older_claims(struct fabric *f, const struct remote_entry *member, bool listing);

/* member_claims.c: an address claim in per-member mode: writes this host's claim (key,
 * text, under lease) and reads the overlay's members' claims of the address in the same
 * transaction. Without the lock. 0, or -EADDRINUSE (refused, counted), or a store error. */
int claim_write_members(struct fabric *f, struct pending_claim *claim, const char *key,
                        const char *text, int64_t lease, const char *ip, struct weft_err *err);
/* address_claims.c: another host's older claim holds the address: logged, counted,
 * -EADDRINUSE. Under the lock. */
int claim_refuse(struct fabric *f, const struct pending_claim *claim, const char *ip,
                 const struct ip_addr *holder_vtep, struct weft_err *err);

/* address_claims.c, under the lock: the watch reads this host's own peer record
 * back (its create revision is a pending claim's age), and finishes a batch of
 * events (the table is complete up to the batch's last revision). */
void claims_note_own(struct fabric *f, const struct etcd_event *ev,
                     const struct fabric_record *key_part);
void claims_watch_progress(struct fabric *f, const struct etcd_event *events, size_t count);

/* encrypted.c: the data plane of encrypted overlays (issue 11). */
/* Starts the data path (fabric_open, when the daemon has a cluster secret). */
int encrypted_open(struct fabric *f, struct weft_err *err);
/* Stops it; the TAP devices stay, as the VXLAN devices do (fabric_close). */
void encrypted_close(struct fabric *f);
/* The overlay MTU of an encrypted network: requested (refused when too big for the
 * underlay) or the largest that fits. */
int encrypted_mtu(const struct fabric *f, int requested, int *mtu, struct weft_err *err);
/* Under the lock: the network's devices, made or adopted, in the data path; and out. */
int encrypted_segment_ensure(struct fabric *f, struct local_network *net, struct weft_err *err);
/* Takes the network out of the data path (its devices stay). */
void encrypted_segment_detach(struct fabric *f, struct local_network *net);
int encrypted_segment_remove(struct fabric *f, struct local_network *net, struct weft_err *err);
/* A remote entry of an encrypted network into and out of its TAP's bridge, map and
 * the sessions (members carry their host's public key). */
int encrypted_entry_add(struct fabric *f, struct local_network *net, const struct remote_entry *r,
                        struct weft_err *err);
int encrypted_entry_del(struct fabric *f, struct local_network *net, const struct remote_entry *r,
                        struct weft_err *err);

/* fabric.c: a network's devices, VXLAN or encrypted, made or adopted (under the lock). */
int network_segment_ensure(struct fabric *f, struct local_network *net, struct weft_err *err);
/* ensure for a new network: its fast path starts at once (a restore starts it once
 * the adopted endpoints have their filters, restore.c). */
int network_segment_start(struct fabric *f, struct local_network *net, struct weft_err *err);
int network_segment_remove(struct fabric *f, struct local_network *net, struct weft_err *err);

/* spares.c */
void *spare_maker_main(void *arg);
/* Deletes a network's spares, after waiting for one in the making. Under the lock. */
void drop_spares(struct fabric *f, struct local_network *net);
/* A removed endpoint's pair kept as a spare when it was one and its network has room;
 * false when the caller is to delete it. Under the lock. */
bool return_endpoint_veth(struct fabric *f, struct local_network *net, const char *host_name);
/* The endpoint's veth pair: a spare if one is ready, else one made now. Sets
 * ep->ifname; the host end's alias is the endpoint's record. Under the lock. */
int make_endpoint_veth(struct fabric *f, struct local_network *net, struct local_endpoint *ep,
                       struct weft_err *err);

/* endpoints.c: withdraws and deletes ep (waits for its write in flight, and
 * releases the lock for the store's round trip). Under the lock. */
int endpoint_remove_locked(struct fabric *f, struct local_network *net, struct local_endpoint *ep,
                           struct weft_err *err);

/* publisher.c and lease.c: thread bodies, started by fabric_open. */
void *publisher_main(void *arg);
void *lease_keeper(void *arg);
/* reaper_role.c: whether this host reaps this pass (it holds roles/reaper, or cannot
 * tell); the lease keeper's, without the lock. */
bool reaper_role_take(struct fabric *f, int64_t lease);

/* restore.c: adopts this host's networks and endpoints after a restart (from its
 * hosts/<host>/ records and its veths' aliases). Before any thread starts. */
int restore_host(struct fabric *f, struct weft_err *err);

#endif
