# weft: build, test, install. See README.md.
PREFIX ?= /usr/local
CC ?= cc
PKGS := libmnl jansson libmicrohttpd libcurl libsodium ldns
# protobuf-c: for etcd's gRPC (store/etcd_grpc_watch.c), which weft's --store-watch grpc
# uses (store/etcd_watch_grpc.c), so every program with the store links it.
PROTOBUF_PKG := libprotobuf-c
BUILD := build
# make test builds with one job per core: a clean clone's build is a tenth of the suite.
NPROC := $(shell nproc 2>/dev/null || echo 2)

# libsodium: 1.0.19 or later has AEGIS-128L, the encrypted overlays' fastest cipher
# (tunnel/aead.h). Debian 12 ships 1.0.18: scripts/fetch-libsodium.sh then takes
# libsodium-dev from Debian's unstable into build/libsodium/ (once; about 6 s) and weft
# links it statically; without the archive, the installed one (no AEGIS-128L).
# SODIUM=system always builds with the installed one (a distribution's package).
SODIUM ?= fetch
ifeq ($(SODIUM),fetch)
SODIUM_DIR := $(shell mkdir -p $(BUILD) && scripts/fetch-libsodium.sh 2>$(BUILD)/libsodium.log)
ifneq ($(.SHELLSTATUS),0)
$(warning building without AEGIS-128L: $(shell tail -n 1 $(BUILD)/libsodium.log))
endif
endif
PKG_CONFIG := $(if $(SODIUM_DIR),PKG_CONFIG_PATH=$(SODIUM_DIR)/lib/pkgconfig )pkg-config
# Which libsodium the objects were built with: written when it changes, and every object
# depends on it (through HDRS), so that a change rebuilds them all.
# write_stamp FILE,TEXT: FILE holds TEXT, rewritten (so newer) only when TEXT changed.
write_stamp = $(shell mkdir -p $(BUILD) && [ "$$(cat $(1) 2>/dev/null)" = "$(2)" ] || \
                      printf '%s\n' "$(2)" >$(1))
SODIUM_STAMP := $(BUILD)/sodium.stamp
$(call write_stamp,$(SODIUM_STAMP),$(SODIUM_DIR))

PKG_CFLAGS = $(shell $(PKG_CONFIG) --cflags $(PKGS) $(PROTOBUF_PKG))
PROTOBUF_LIBS = $(shell $(PKG_CONFIG) --libs $(PROTOBUF_PKG))
# libcurl's GnuTLS build (libcurl3-gnutls) when installed: same API and headers, and
# GnuTLS is loaded anyway for libmicrohttpd, so libssl stays out and OpenSSL is never set
# up (with store/etcd.c's libssh2 start, about 2 MiB less resident). Else pkg-config's.
CURL_LIBS = $(if $(wildcard $(shell $(PKG_CONFIG) --variable=libdir libcurl)/libcurl-gnutls.so.4),\
            -l:libcurl-gnutls.so.4,$(shell $(PKG_CONFIG) --libs libcurl))
PKG_LIBS = $(shell $(PKG_CONFIG) --libs $(filter-out libcurl,$(PKGS))) $(CURL_LIBS) $(PROTOBUF_LIBS) \
           -lpthread
# The daemon (weft, weft-san) links libcurl, libmicrohttpd, ldns, nghttp2, OpenSSL, jansson
# and protobuf-c statically: libcurl and libmicrohttpd built by scripts/lean-libs.sh with
# only what weft uses, so that none of Debian's builds' other libraries (Kerberos, LDAP,
# SSH, GnuTLS, ...) is loaded, and no shared library's symbol tables, relocations and
# unused code around what is called are mapped (issue 14: RSS). $(LEAN_FILE) holds those
# link flags, or Debian's shared libraries' when the sources could not be fetched or built
# (the reason in $(BUILD)/lean.log; dated 1970 then, so that the next make tries again).
# LEAN=no always links the shared ones (for a distribution that rebuilds on every
# security fix).
# Test programs link the shared libraries: same API, weft's code is what they test.
LEAN ?= yes
LEAN_FILE := $(BUILD)/lean-libs
SHARED_LEAN_LIBS = $(shell $(PKG_CONFIG) --libs libmicrohttpd ldns jansson) $(CURL_LIBS) \
                   $(PROTOBUF_LIBS)
DAEMON_LIBS = $$(cat $(LEAN_FILE)) $(shell $(PKG_CONFIG) --libs libmnl libsodium) -lpthread
# Relative relocations packed (DT_RELR, binutils 2.38 and glibc 2.36 on): the daemon's table
# of them shrinks from 480 KiB, read at every start, to 7 KiB. Where the toolchain lacks it,
# nothing. Asked only when the daemon is linked (=, not :=).
RELR_LDFLAGS = $(shell echo 'int main(void){return 0;}' | $(CC) -x c - -o /dev/null \
                  -Wl,-z,pack-relative-relocs 2>/dev/null && echo -Wl,-z,pack-relative-relocs)
CFLAGS ?= -O2 -g
WEFT_CFLAGS = -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -I. -I$(BUILD)/gen \
              $(PKG_CFLAGS)
SAN_FLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined

LIB_SRCS := $(filter-out daemon/main.c,$(wildcard common/*.c store/*.c ipam/*.c netlink/*.c \
            vxlan/*.c datapath/*.c fabric/*.c driver/*.c daemon/*.c admin/*.c dns/*.c docker/*.c \
            tunnel/*.c))
HDRS := $(wildcard */*.h) $(SODIUM_STAMP)
# The C test programs, one folder per need: unit/ pure (no root, no etcd, no namespaces),
# netns/ (CAP_NET_ADMIN: each makes its own network namespace), live/ (a loopback etcd the
# test starts). Every test_*.c in them is a program, built plain and with ASan/UBSan as
# build/tests/<folder>/<name> and build/tests-san/<folder>/<name>.
TEST_DIRS := unit netns live
TEST_SRCS := $(wildcard $(TEST_DIRS:%=tests/%/test_*.c))
TEST_HDRS := $(wildcard tests/lib/*.h $(TEST_DIRS:%=tests/%/*.h))
test_bins = $(patsubst tests/%.c,$(BUILD)/tests/%,$(1)) $(patsubst tests/%.c,$(BUILD)/tests-san/%,$(1))
UNIT_BINS := $(call test_bins,$(TEST_SRCS))

# The version `weft status` reports (issue 13): git's description of the tree built.
WEFT_VERSION ?= $(shell git describe --always --dirty 2>/dev/null || echo unknown)
$(BUILD)/obj/daemon/control.o $(BUILD)/san/daemon/control.o: WEFT_CFLAGS += -DWEFT_VERSION='"$(WEFT_VERSION)"'

# C made from .proto files by protoc-c (store/etcd_rpc.proto: etcd's gRPC messages that
# store/etcd_grpc_watch.c speaks), into build/gen/, part of the library like the rest.
PROTOS := $(wildcard store/*.proto)
GEN_SRCS := $(PROTOS:%.proto=$(BUILD)/gen/%.pb-c.c)
GEN_HDRS := $(PROTOS:%.proto=$(BUILD)/gen/%.pb-c.h)
LIB_SRCS += $(GEN_SRCS)
GRPC_OBJS := $(patsubst %.c,%.o,$(wildcard store/etcd_grpc_*.c))
$(GRPC_OBJS:%=$(BUILD)/obj/%) $(GRPC_OBJS:%=$(BUILD)/san/%): $(GEN_HDRS)
$(BUILD)/gen/%.pb-c.c $(BUILD)/gen/%.pb-c.h: %.proto
	@mkdir -p $(BUILD)/gen
	protoc-c --proto_path=. --c_out=$(BUILD)/gen $<

LIB_OBJS := $(LIB_SRCS:%.c=$(BUILD)/obj/%.o)
SAN_OBJS := $(LIB_SRCS:%.c=$(BUILD)/san/%.o)

.PHONY: all weft test test-run test-docker unit pure netns live integration e2e install plugin clean format demo bench soak stress fuzz
all: $(BUILD)/weft

$(BUILD)/obj/%.o: %.c $(HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(WEFT_CFLAGS) $(CFLAGS) -c $< -o $@

$(BUILD)/san/%.o: %.c $(HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(WEFT_CFLAGS) -O1 -g $(SAN_FLAGS) -c $< -o $@

# Archives, so a program pulls in only the modules it uses.
$(BUILD)/libweft.a: $(LIB_OBJS)
	rm -f $@ && ar rcs $@ $^

$(BUILD)/libweft-san.a: $(SAN_OBJS)
	rm -f $@ && ar rcs $@ $^

# Written when LEAN changes, so that the daemon is linked again.
LEAN_STAMP := $(BUILD)/lean.stamp
$(call write_stamp,$(LEAN_STAMP),$(LEAN))
$(LEAN_FILE): scripts/lean-libs.sh $(LEAN_STAMP)
	@mkdir -p $(BUILD)
	@if [ "$(LEAN)" = yes ] && scripts/lean-libs.sh $(abspath $(BUILD))/lean >$@.tmp 2>$(BUILD)/lean.log; \
	then echo "lean-libs: $$(cat $@.tmp)"; \
	else echo '$(SHARED_LEAN_LIBS)' >$@.tmp; [ "$(LEAN)" != yes ] || { touch -d @0 $@.tmp; \
	echo "warning: the daemon links Debian's shared libraries (tried again at the next make): \
	$$(tail -n 1 $(BUILD)/lean.log)" >&2; }; fi
	@mv $@.tmp $@

$(BUILD)/weft: $(BUILD)/obj/daemon/main.o $(BUILD)/libweft.a $(LEAN_FILE)
	$(CC) $(CFLAGS) $(RELR_LDFLAGS) $(filter-out $(LEAN_FILE),$^) -o $@ $(DAEMON_LIBS)

# The daemon built with AddressSanitizer and UBSan; integration tests run this one.
$(BUILD)/weft-san: $(BUILD)/san/daemon/main.o $(BUILD)/libweft-san.a $(LEAN_FILE)
	$(CC) $(SAN_FLAGS) $(RELR_LDFLAGS) $(filter-out $(LEAN_FILE),$^) -o $@ $(DAEMON_LIBS)

$(BUILD)/tests/%: tests/%.c $(BUILD)/libweft.a $(HDRS) $(TEST_HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(WEFT_CFLAGS) $(CFLAGS) $< $(BUILD)/libweft.a -o $@ $(PKG_LIBS) $(PROTOBUF_LIBS) \
		$(shell $(PKG_CONFIG) --libs cmocka)

$(BUILD)/tests-san/%: tests/%.c $(BUILD)/libweft-san.a $(HDRS) $(TEST_HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(WEFT_CFLAGS) -O1 -g $(SAN_FLAGS) $< $(BUILD)/libweft-san.a -o $@ $(PKG_LIBS) \
		$(PROTOBUF_LIBS) $(shell $(PKG_CONFIG) --libs cmocka)

# fabric/ on fakes: tests/fakes/ replaces netlink/ and store/etcd*.c (but the pure
# etcd_pacing.c) with an in-memory kernel and store (and a "fail the Nth call" hook), so
# every undo path of fabric runs without root or etcd. Explicit sources instead of
# libweft.a, by wildcard so that files split out of these folders join by themselves.
FAKES_SRCS = $(wildcard common/*.c fabric/*.c vxlan/*.c ipam/*.c tunnel/*.c datapath/*.c) store/keys.c \
             store/records.c store/etcd_pacing.c \
             $(filter-out tests/fakes/test_%.c,$(wildcard tests/fakes/*.c))
FAKES_NAMES := $(notdir $(basename $(wildcard tests/fakes/test_*.c)))
FAKES_HDRS = $(HDRS) $(wildcard tests/fakes/*.h)
$(patsubst %.c,$(BUILD)/obj/%.o,$(wildcard tests/fakes/*.c)): $(wildcard tests/fakes/*.h)
$(patsubst %.c,$(BUILD)/san/%.o,$(wildcard tests/fakes/*.c)): $(wildcard tests/fakes/*.h)
.SECONDARY: $(FAKES_NAMES:%=$(BUILD)/obj/tests/fakes/%.o) $(FAKES_NAMES:%=$(BUILD)/san/tests/fakes/%.o)

$(BUILD)/fakes/%: $(BUILD)/obj/tests/fakes/%.o $(FAKES_SRCS:%.c=$(BUILD)/obj/%.o) $(FAKES_HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $< $(FAKES_SRCS:%.c=$(BUILD)/obj/%.o) -o $@ $(PKG_LIBS) \
		$(shell $(PKG_CONFIG) --libs cmocka)

$(BUILD)/fakes-san/%: $(BUILD)/san/tests/fakes/%.o $(FAKES_SRCS:%.c=$(BUILD)/san/%.o) $(FAKES_HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(SAN_FLAGS) $< $(FAKES_SRCS:%.c=$(BUILD)/san/%.o) -o $@ $(PKG_LIBS) \
		$(shell $(PKG_CONFIG) --libs cmocka)

# Built by unit and test-run, as the unit tests (tests/run.sh runs them in the unit suite).
unit: $(FAKES_NAMES:%=$(BUILD)/fakes/%) $(FAKES_NAMES:%=$(BUILD)/fakes-san/%)
test-run: $(FAKES_NAMES:%=$(BUILD)/fakes/%) $(FAKES_NAMES:%=$(BUILD)/fakes-san/%)
pure: $(FAKES_NAMES:%=$(BUILD)/fakes/%) $(FAKES_NAMES:%=$(BUILD)/fakes-san/%)

weft: $(BUILD)/weft

# Installs missing Debian packages, then runs every suite.
test:
	@scripts/install-deps.sh test
	@$(MAKE) --no-print-directory -j$(NPROC) test-run

test-run: $(BUILD)/weft $(BUILD)/weft-san $(BUILD)/plugin_bench $(BUILD)/dns_load $(BUILD)/neigh_wait $(UNIT_BINS)
	@tests/run.sh

# Each suite's target builds what tests/run.sh runs for it (run.sh refuses a stale one).
# unit: every C test program (the three folders); pure, netns, live: one folder each.
unit: $(UNIT_BINS)
	@TEST_ONLY=unit tests/run.sh

pure: $(call test_bins,$(filter tests/unit/%,$(TEST_SRCS)))
	@TEST_ONLY=pure tests/run.sh

netns: $(call test_bins,$(filter tests/netns/%,$(TEST_SRCS)))
	@TEST_ONLY=netns tests/run.sh

live: $(call test_bins,$(filter tests/live/%,$(TEST_SRCS)))
	@TEST_ONLY=live tests/run.sh

integration: $(BUILD)/weft $(BUILD)/weft-san $(BUILD)/plugin_bench $(BUILD)/dns_load $(BUILD)/neigh_wait
	@TEST_ONLY=integration tests/run.sh

e2e: $(BUILD)/weft
	@TEST_ONLY=e2e tests/run.sh

# The e2e suite on every Docker release in DOCKER_VERSIONS, each fetched from Debian's
# archive into build/docker/ when the machine lacks it (scripts/fetch-docker.sh);
# DOCKER_EXCEPT leaves some out (those make test ran already). CI runs all three in make
# test's own pool instead: TEST_DOCKER="distro 26 newest" make test (.ci/run).
DOCKER_VERSIONS ?= 20.10 26 28
DOCKER_EXCEPT ?=
test-docker:
	@scripts/install-deps.sh test
	@$(MAKE) --no-print-directory $(BUILD)/weft
	@TEST_ONLY=e2e TEST_DOCKER="$(DOCKER_VERSIONS)" TEST_DOCKER_EXCEPT="$(DOCKER_EXCEPT)" tests/run.sh

demo:
	@scripts/install-deps.sh demo
	@$(MAKE) --no-print-directory $(BUILD)/weft
	@if [ -n "$(DOCKER)" ]; then \
	    dir=$$(scripts/fetch-docker.sh "$(DOCKER)") && SIM_DOCKER_DIR=$$dir scripts/demo.sh; \
	else scripts/demo.sh; fi

$(BUILD)/plugin_bench: bench/plugin_bench.c
	@mkdir -p $(dir $@)
	$(CC) $(WEFT_CFLAGS) $(CFLAGS) $< -o $@ $(PKG_LIBS)

# DNS query load for the names benchmark: ldns builds the query once.
$(BUILD)/dns_load: bench/dns_load.c
	@mkdir -p $(dir $@)
	$(CC) $(WEFT_CFLAGS) $(CFLAGS) $< -o $@ $(shell $(PKG_CONFIG) --libs ldns)

# The watchers and writer of bench/watch_fanout.sh (etcd's fan-out: gateway, gRPC, grpc-proxy).
$(BUILD)/watch_load: bench/watch_load.c $(BUILD)/libweft.a $(HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(WEFT_CFLAGS) $(CFLAGS) $< $(BUILD)/libweft.a -o $@ $(PKG_LIBS) $(PROTOBUF_LIBS)

# When each simulated host had its remote endpoints, from the kernel (make bench's scale figure).
$(BUILD)/neigh_wait: bench/neigh_wait.c $(BUILD)/libweft.a $(HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(WEFT_CFLAGS) $(CFLAGS) $< $(BUILD)/libweft.a -o $@ $(PKG_LIBS)

# Seal+open speed of the encrypted overlay's packets on one core (not in make bench yet).
$(BUILD)/tunnel_bench: bench/tunnel_bench.c $(BUILD)/libweft.a $(HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(WEFT_CFLAGS) $(CFLAGS) $< $(BUILD)/libweft.a -o $@ $(PKG_LIBS)

# Benchmarks (not tests): prints a table, writes bench/results.json and bench/convergence.png.
bench:
	@scripts/install-deps.sh bench
	@$(MAKE) --no-print-directory $(BUILD)/weft $(BUILD)/plugin_bench $(BUILD)/dns_load $(BUILD)/neigh_wait
	@bench/run.sh

# Container churn on three simulated hosts, sampled (bench/soak.sh; CYCLES=10000 by
# default: 2 h 17 min here); not part of make test.
soak:
	@scripts/install-deps.sh bench
	@$(MAKE) --no-print-directory $(BUILD)/weft
	@bench/soak.sh

# The concurrency test at a larger size than make test runs: 250 requests at once per
# host, each on its own connection, within the plugin socket's 256 (daemon/http.c).
# Through the integration target, which builds what tests/run.sh checks for.
stress:
	@scripts/install-deps.sh test
	@HOSTS_N=8 REQUESTS_N=250 TEST_FILTER=concurrency $(MAKE) --no-print-directory integration

# libFuzzer targets (clang), with ASan and UBSan. Each source is compiled once into
# build/fuzz-obj/ and the targets are linked from those: six targets share common/ and
# most share store/, and fuzz_smoke builds them all in make test.
FUZZ_SECONDS ?= 600
FUZZ_FLAGS := -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined -g -O1
FUZZ_LINK_FLAGS := -fsanitize=fuzzer,address,undefined
fuzz_objs = $(patsubst %.c,$(BUILD)/fuzz-obj/%.o,$(1))
$(BUILD)/fuzz-obj/%.o: %.c $(HDRS) $(wildcard tests/fuzz/*.h)
	@mkdir -p $(dir $@)
	clang $(WEFT_CFLAGS) $(FUZZ_FLAGS) -c $< -o $@
# fuzz_watch.c reads the gRPC internals too, so it waits for the generated header.
$(GRPC_OBJS:%=$(BUILD)/fuzz-obj/%) $(BUILD)/fuzz-obj/tests/fuzz/fuzz_watch.o: $(GEN_HDRS)
define fuzz_link
@mkdir -p $(dir $@)
clang $(FUZZ_LINK_FLAGS) $^ -o $@ $(PKG_LIBS)
endef

# The request handlers. fabric/ and ipam/ (but its pure pool IDs) are replaced by
# tests/fuzz/fake_domain.c, so valid requests run into answer building without a kernel
# or a store. (driver/status_json.c is the control socket's, not a plugin request's: it
# needs fabric/.)
FUZZ_SRCS := $(filter-out driver/status_json.c,$(wildcard common/*.c driver/*.c)) ipam/pool_id.c \
             ipam/pool_id6.c tests/fuzz/fake_domain.c
$(BUILD)/fuzz_requests: $(call fuzz_objs,tests/fuzz/fuzz_requests.c $(FUZZ_SRCS))
	$(fuzz_link)

# The DNS message handler: a query in, its verdict and answer checked.
FUZZ_DNS_SRCS := $(wildcard common/*.c) dns/dns_query.c
$(BUILD)/fuzz_dns: $(call fuzz_objs,tests/fuzz/fuzz_dns.c $(FUZZ_DNS_SRCS))
	$(fuzz_link)

# The encrypted overlay's receive side: any datagram, and sealed ones replayed,
# changed, late or from another host.
FUZZ_TUNNEL_SRCS := $(wildcard common/*.c tunnel/*.c)
$(BUILD)/fuzz_tunnel: $(call fuzz_objs,tests/fuzz/fuzz_tunnel.c $(FUZZ_TUNNEL_SRCS))
	$(fuzz_link)

# What the daemon reads from the store: record decoders and the checks the watch and
# the restart run on keys and bodies.
FUZZ_RECORDS_SRCS := $(wildcard common/*.c) store/records.c store/keys.c fabric/record_check.c \
                     tunnel/aead.c tunnel/host_keys.c
$(BUILD)/fuzz_records: $(call fuzz_objs,tests/fuzz/fuzz_records.c $(FUZZ_RECORDS_SRCS))
	$(fuzz_link)

# What a gRPC Watch stream brings back: frames, answers, the watch table (etcd_codec.c:
# a watch's prefix end).
FUZZ_WATCH_SRCS := $(wildcard common/*.c) store/etcd_grpc_answer.c store/etcd_grpc_codec.c \
                   store/etcd_grpc_watch.c store/etcd_grpc_stream.c store/etcd_health.c \
                   store/etcd_pacing.c store/etcd_member.c store/etcd_codec.c $(GEN_SRCS)
$(BUILD)/fuzz_watch: $(call fuzz_objs,tests/fuzz/fuzz_watch.c $(FUZZ_WATCH_SRCS))
	$(fuzz_link)

# The JSON gateway's watch stream: store/etcd_watch.c is included whole by the target,
# so the rest of store/ is linked without it.
FUZZ_GATEWAY_WATCH_SRCS := $(wildcard common/*.c) $(filter-out store/etcd_watch.c,$(wildcard store/*.c)) \
                           $(GEN_SRCS)
$(BUILD)/fuzz-obj/tests/fuzz/fuzz_gateway_watch.o: store/etcd_watch.c
$(BUILD)/fuzz_gateway_watch: $(call fuzz_objs,tests/fuzz/fuzz_gateway_watch.c $(FUZZ_GATEWAY_WATCH_SRCS))
	$(fuzz_link)

# Each fuzzer as name:corpus folder in tests/fuzz:prefix of its crash files in
# build/fuzz-artifacts (tests/integration/fuzz_smoke.sh runs the same six briefly).
FUZZERS := requests:corpus: dns:corpus_dns:dns- tunnel:corpus_tunnel:tunnel- \
           records:corpus_records:records- watch:corpus_watch:watch- \
           gateway_watch:corpus_gateway_watch:gateway-
# Runs each fuzzer for FUZZ_SECONDS, growing its corpus; stops at the first finding.
fuzz:
	@scripts/install-deps.sh fuzz
	@$(MAKE) --no-print-directory $(foreach f,$(FUZZERS),$(BUILD)/fuzz_$(firstword $(subst :, ,$(f))))
	@mkdir -p $(BUILD)/fuzz-artifacts
	@for f in $(FUZZERS); do set -- $$(echo "$$f" | tr : ' '); \
		echo "fuzz_$$1 on tests/fuzz/$$2 for $(FUZZ_SECONDS) s"; \
		WEFT_LOG_LEVEL=off $(BUILD)/fuzz_$$1 -max_total_time=$(FUZZ_SECONDS) -max_len=4096 \
			-print_final_stats=1 -artifact_prefix=$(BUILD)/fuzz-artifacts/$${3:-} tests/fuzz/$$2 || exit 1; \
	done

# TCP through datapath/ (identity transform), kernel VXLAN and the underlay veth,
# in namespaces (not in make bench yet): build/datapath_bench [seconds] [workers].
$(BUILD)/datapath_bench: bench/datapath_bench.c $(BUILD)/libweft.a $(HDRS) tests/netns/datapath_topology.h
	@mkdir -p $(dir $@)
	$(CC) $(WEFT_CFLAGS) $(CFLAGS) $< $(BUILD)/libweft.a -o $@ $(PKG_LIBS)

# The binary, the systemd unit (ExecStart pointing at the installed binary), its
# settings file /etc/weft/weft.env only when absent (it is the operator's), and weft(8).
UNITDIR ?= $(PREFIX)/lib/systemd/system
SYSCONFDIR ?= /etc
MANDIR ?= $(PREFIX)/share/man
install: $(BUILD)/weft
	install -D -m 0755 $(BUILD)/weft $(DESTDIR)$(PREFIX)/bin/weft
	install -d -m 0755 $(DESTDIR)$(UNITDIR)
	sed 's|@BINDIR@|$(PREFIX)/bin|g' dist/weft.service.in >$(DESTDIR)$(UNITDIR)/weft.service
	chmod 0644 $(DESTDIR)$(UNITDIR)/weft.service
	install -d -m 0755 $(DESTDIR)$(SYSCONFDIR)/weft
	[ -e $(DESTDIR)$(SYSCONFDIR)/weft/weft.env ] || \
		install -m 0600 dist/weft.env $(DESTDIR)$(SYSCONFDIR)/weft/weft.env
	install -D -m 0644 man/weft.8 $(DESTDIR)$(MANDIR)/man8/weft.8

# weft as a managed (v2) Docker plugin: build/plugin/config.json (dist/plugin/) and
# rootfs/ (the stripped binary, its libraries, the CA bundle), for
# `docker plugin create weft build/plugin` (README, "Install as a managed Docker plugin").
plugin: $(BUILD)/plugin/config.json
$(BUILD)/plugin/config.json: $(BUILD)/weft dist/plugin/config.json scripts/plugin-rootfs.sh
	scripts/plugin-rootfs.sh $(BUILD)/weft $(BUILD)/plugin

format:
	clang-format -i $(wildcard */*.c */*.h $(TEST_SRCS) $(TEST_HDRS))

clean:
	rm -rf $(BUILD)
