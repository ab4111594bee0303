# weft: build, test, install. See README.md.
PREFIX ?= /usr/local
CC ?= cc
PKGS := libmnl jansson libmicrohttpd libcurl libsodium
BUILD := build

PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS))
# libcurl's GnuTLS build (libcurl3-gnutls) when installed: same API and headers, and
# GnuTLS is loaded anyway for libmicrohttpd, so libssl stays out and OpenSSL is never set
# up (with store/etcd.c's libssh2 start, about 2 MiB less resident). Else pkg-config's.
CURL_LIBS = $(if $(wildcard $(shell pkg-config --variable=libdir libcurl)/libcurl-gnutls.so.4),\
            -l:libcurl-gnutls.so.4,$(shell pkg-config --libs libcurl))
PKG_LIBS = $(shell pkg-config --libs $(filter-out libcurl,$(PKGS))) $(CURL_LIBS) -lpthread
CFLAGS ?= -O2 -g
# -Wextra minus missing-field-initializers: "struct weft_err err = {""}" (C zero-fills the
# rest, so its code starts at 0) is the house idiom, and naming every field would only add noise.
WEFT_CFLAGS = -std=c11 -D_GNU_SOURCE -Wall -Wextra -Wno-missing-field-initializers -Werror -I. \
              $(PKG_CFLAGS)
SAN_FLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined

LIB_SRCS := $(filter-out daemon/main.c,$(wildcard common/*.c store/*.c ipam/*.c netlink/*.c \
            vxlan/*.c fabric/*.c driver/*.c daemon/*.c))
HDRS := $(wildcard */*.h)
UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_NAMES := $(notdir $(UNIT_SRCS:.c=))

LIB_OBJS := $(LIB_SRCS:%.c=$(BUILD)/obj/%.o)
SAN_OBJS := $(LIB_SRCS:%.c=$(BUILD)/san/%.o)

.PHONY: all weft test test-run unit unit-san integration e2e install clean format demo bench stress fuzz
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

$(BUILD)/weft: $(BUILD)/obj/daemon/main.o $(BUILD)/libweft.a
	$(CC) $(CFLAGS) $^ -o $@ $(PKG_LIBS)

# The daemon built with AddressSanitizer and UBSan; integration tests run this one.
$(BUILD)/weft-san: $(BUILD)/san/daemon/main.o $(BUILD)/libweft-san.a
	$(CC) $(SAN_FLAGS) $^ -o $@ $(PKG_LIBS)

$(BUILD)/tests/%: tests/unit/%.c $(BUILD)/libweft.a $(HDRS) $(wildcard tests/unit/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(WEFT_CFLAGS) $(CFLAGS) $< $(BUILD)/libweft.a -o $@ $(PKG_LIBS) $(shell pkg-config --libs cmocka)

$(BUILD)/tests-san/%: tests/unit/%.c $(BUILD)/libweft-san.a $(HDRS) $(wildcard tests/unit/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(WEFT_CFLAGS) -O1 -g $(SAN_FLAGS) $< $(BUILD)/libweft-san.a -o $@ $(PKG_LIBS) \
		$(shell pkg-config --libs cmocka)

weft: $(BUILD)/weft

# Installs missing Debian packages, then runs every suite.
test:
	@scripts/install-deps.sh test
	@$(MAKE) --no-print-directory test-run

test-run: $(BUILD)/weft $(BUILD)/weft-san $(BUILD)/plugin_bench $(UNIT_NAMES:%=$(BUILD)/tests/%) \
          $(UNIT_NAMES:%=$(BUILD)/tests-san/%)
	@tests/run.sh

# Each suite's target builds what tests/run.sh runs for it (run.sh refuses a stale one).
unit: $(UNIT_NAMES:%=$(BUILD)/tests/%) $(UNIT_NAMES:%=$(BUILD)/tests-san/%)
	@TEST_ONLY=unit tests/run.sh

integration: $(BUILD)/weft $(BUILD)/weft-san $(BUILD)/plugin_bench
	@TEST_ONLY=integration tests/run.sh

e2e: $(BUILD)/weft
	@TEST_ONLY=e2e tests/run.sh

demo:
	@scripts/install-deps.sh demo
	@$(MAKE) --no-print-directory $(BUILD)/weft
	@scripts/demo.sh

$(BUILD)/plugin_bench: bench/plugin_bench.c
	@mkdir -p $(dir $@)
	$(CC) $(WEFT_CFLAGS) $(CFLAGS) $< -o $@ $(PKG_LIBS)

# Benchmarks (not tests): prints a table, writes bench/results.json and bench/convergence.png.
bench:
	@scripts/install-deps.sh bench
	@$(MAKE) --no-print-directory $(BUILD)/weft $(BUILD)/plugin_bench
	@bench/run.sh

# The concurrency test at a larger size than make test runs.
stress: $(BUILD)/weft
	HOSTS_N=8 REQUESTS_N=400 TEST_ONLY=integration TEST_FILTER=concurrency tests/run.sh

# libFuzzer over the request handlers (clang), with ASan and UBSan.
FUZZ_SECONDS ?= 600
FUZZ_FLAGS := -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined -g -O1
# fabric/ and ipam/ipam.c are replaced by tests/fuzz/fake_domain.c, so valid requests
# run into answer building without a kernel or a store.
FUZZ_SRCS := $(wildcard common/*.c driver/*.c) ipam/cidr.c tests/fuzz/fake_domain.c
$(BUILD)/fuzz_requests: tests/fuzz/fuzz_requests.c $(FUZZ_SRCS) $(HDRS) tests/fuzz/fake_domain.h
	@mkdir -p $(dir $@)
	clang $(WEFT_CFLAGS) $(FUZZ_FLAGS) $< $(FUZZ_SRCS) -o $@ $(PKG_LIBS)

# Runs the fuzzer for FUZZ_SECONDS, growing tests/fuzz/corpus.
fuzz:
	@scripts/install-deps.sh fuzz
	@$(MAKE) --no-print-directory $(BUILD)/fuzz_requests
	@mkdir -p $(BUILD)/fuzz-artifacts
	WEFT_LOG_LEVEL=off $(BUILD)/fuzz_requests -max_total_time=$(FUZZ_SECONDS) -max_len=4096 -print_final_stats=1 \
		-artifact_prefix=$(BUILD)/fuzz-artifacts/ tests/fuzz/corpus

install: $(BUILD)/weft
	install -D -m 0755 $(BUILD)/weft $(DESTDIR)$(PREFIX)/bin/weft

format:
	clang-format -i $(wildcard */*.c */*.h tests/unit/*.c)

clean:
	rm -rf $(BUILD)
