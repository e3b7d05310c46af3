# sluice — top-level build. Plain GNU make, no generated makefiles.
#
#   make            build everything (build/)
#   make run        install deps, build, start sluiced in the foreground
#   make test       install deps, build, run unit + e2e + diff + interop + kernel + install tests
#   make difftest   differential test against Debian's rtpengine (t/diff/, < 1 min)
#   make test-kernel   only the kernel module tests (qemu guest, t/kernel/)
#   make test-install  the .deb packages in a Debian 12 guest booted with systemd (t/install/)
#   make fuzz       build libFuzzer targets (clang-14) and run each for FUZZ_SECONDS
#   make bench      install deps, build, benchmark sluiced against rtpengine
#   make soak       churn soak of sluiced: 300 calls for SOAK_SECONDS (600), docs/soak.md
#   make bench-kernel  CPU per packet: kernel path vs userspace paths (qemu guest)
#   make SANITIZE=1 ...   same, with ASan+UBSan, in build-san/
#   t/tools/NAME.c -> build/t/NAME: helpers the e2e tests run (codec encode/decode, DTMF)
#
# Layout: lib/*.c -> libsluice.a; daemon/*.c (minus main.c) -> libsluiced.a + sluiced;
# utils/NAME/*.c -> build/NAME; t/unit/test_*.c -> build/t/test_* (cmocka);
# t/fuzz/fuzz_*.c -> build-fuzz/fuzz_* (clang, libFuzzer).

CC       ?= gcc
ifeq ($(origin CC),default)
CC       := gcc
endif
BUILD    ?= build
PKGS     := json-c spandsp opus libswresample libavutil libavformat libavcodec libbcg729 libnftnl libmnl \
            openssl zlib libpcap libmicrohttpd hiredis liburing
OPT      ?= -O2

ifeq ($(SANITIZE),1)
BUILD    := build-san
SANFLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
endif

PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)

CFLAGS   := -std=gnu11 $(OPT) -g -Wall -Wextra -Werror -Wshadow -Wno-missing-field-initializers \
            -Iinclude -D_GNU_SOURCE $(PKG_CFLAGS) $(SANFLAGS) -MMD -MP $(EXTRA_CFLAGS)
LDFLAGS  := $(SANFLAGS) $(EXTRA_LDFLAGS)
LDLIBS   := $(PKG_LIBS) -lpthread -lm

LIB_SRC    := $(sort $(wildcard lib/*.c))
DAEMON_SRC := $(filter-out daemon/main.c,$(sort $(wildcard daemon/*.c)))
UTILS      := $(notdir $(patsubst %/,%,$(sort $(wildcard utils/*/))))
UTILS      := $(foreach u,$(UTILS),$(if $(wildcard utils/$(u)/*.c),$(u)))
UNIT_SRC   := $(sort $(wildcard t/unit/test_*.c))
TOOL_SRC   := $(sort $(wildcard t/tools/*.c))

LIB_OBJ    := $(LIB_SRC:%.c=$(BUILD)/%.o)
DAEMON_OBJ := $(DAEMON_SRC:%.c=$(BUILD)/%.o)
UNIT_BIN   := $(UNIT_SRC:t/unit/%.c=$(BUILD)/t/%)
UTIL_BIN   := $(UTILS:%=$(BUILD)/%)
TOOL_BIN   := $(TOOL_SRC:t/tools/%.c=$(BUILD)/t/%)

.SECONDARY:
KTEST_BIN  := $(BUILD)/t/sluice-ktest

.PHONY: all progs deps run test unit e2e difftest interop kernel test-kernel test-install fuzz bench bench-kernel soak deb clean man
all: progs $(UNIT_BIN) $(KTEST_BIN) $(TOOL_BIN)
progs: $(BUILD)/sluiced $(UTIL_BIN)

Q ?= @
$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	$(Q)$(CC) $(CFLAGS) -c -o $@ $<

$(BUILD)/libsluice.a: $(LIB_OBJ)
	@rm -f $@
	$(Q)ar rcs $@ $^

$(BUILD)/libsluiced.a: $(DAEMON_OBJ)
	@rm -f $@
	$(Q)ar rcs $@ $^

$(BUILD)/sluiced: $(BUILD)/daemon/main.o $(BUILD)/libsluiced.a $(BUILD)/libsluice.a
	@echo "  LINK    $@"
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# libsrtp2 is no part of sluiced (lib/srtp*.c is sluice's own SRTP): it is the
# reference peer of test_srtp_ref and the SRTP generator of sluice-bench.
SRTP2_CFLAGS := $(shell pkg-config --cflags libsrtp2 2>/dev/null)
SRTP2_LIBS   := $(shell pkg-config --libs libsrtp2 2>/dev/null)
$(BUILD)/t/unit/test_srtp_ref.o: CFLAGS += $(SRTP2_CFLAGS)
$(BUILD)/t/test_srtp_ref: LDLIBS += $(SRTP2_LIBS)

# Extra libraries of one tool: LDLIBS_<name>.
LDLIBS_sluice-bench := -luring

define util_rule
$(BUILD)/$(1): $(patsubst %.c,$(BUILD)/%.o,$(wildcard utils/$(1)/*.c)) $(BUILD)/libsluice.a
	@echo "  LINK    $$@"
	$$(Q)$$(CC) $$(LDFLAGS) -o $$@ $$^ $$(LDLIBS) $$(LDLIBS_$(1))
endef
$(foreach u,$(UTILS),$(eval $(call util_rule,$(u))))

$(BUILD)/t/%: $(BUILD)/t/unit/%.o $(BUILD)/libsluiced.a $(BUILD)/libsluice.a
	@mkdir -p $(dir $@)
	@echo "  LINK    $@"
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS) -lcmocka

# test helpers (t/tools/NAME.c -> build/t/NAME), linked like the unit tests
$(TOOL_BIN): $(BUILD)/t/%: $(BUILD)/t/tools/%.o $(BUILD)/libsluiced.a $(BUILD)/libsluice.a
	@mkdir -p $(dir $@)
	@echo "  LINK    $@"
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# the kernel test tool (runs inside the test VM): lib/kmod.c + daemon/nft.c; kabuse.c is
# its control-file abuse mode, checked against the model of the ABI in kmodel.c
$(KTEST_BIN): $(BUILD)/t/kernel/ktest.o $(BUILD)/t/kernel/kabuse.o $(BUILD)/t/kernel/kmodel.o \
		$(BUILD)/t/kernel/ksrtp.o \
		$(BUILD)/libsluiced.a $(BUILD)/libsluice.a
	@mkdir -p $(dir $@)
	@echo "  LINK    $@"
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

deps:
	@utils/install-deps.sh build

run: deps
	$(MAKE) $(BUILD)/sluiced
	$(BUILD)/sluiced --config-file=none --foreground --log-stderr

test: deps
	@utils/install-deps.sh test
	$(MAKE) all
	BUILD=$(BUILD) t/run-tests.sh

unit: all
	BUILD=$(BUILD) t/run-tests.sh unit
e2e: all
	BUILD=$(BUILD) t/run-tests.sh e2e e2e-serial
difftest: all
	BUILD=$(BUILD) t/run-tests.sh diff
interop: all
	BUILD=$(BUILD) t/run-tests.sh interop
kernel: all
	BUILD=$(BUILD) t/run-tests.sh kernel
# the module in a qemu guest (t/kernel/): one boot, plus the build of each 6.1 flavour
test-kernel: deps
	@utils/install-deps.sh kernel
	$(MAKE) all
	BUILD=$(BUILD) t/run-tests.sh kernel
# install, start, a call in the kernel, restart, reboot, remove, purge: the packages in a
# Debian 12 guest booted with systemd (t/install/run-vm.sh, docs/operations.md)
test-install: deps
	@utils/install-deps.sh kernel deb
	BUILD=$(BUILD) t/run-tests.sh install

# Side-by-side benchmark against rtpengine (docs/benchmarks.md); BENCH_* variables in
# utils/bench/run-bench.sh tune durations.
bench: deps
	@utils/install-deps.sh bench
	$(MAKE) all
	BUILD=$(BUILD) utils/bench/run-bench.sh
# Churn soak against a fresh sluiced (docs/soak.md); SOAK_* variables in
# utils/bench/run-soak.sh. With SANITIZE=1 the ASan build runs (RSS slope reported only).
soak: deps
	$(MAKE) progs
	BUILD=$(BUILD) SANITIZE=$(SANITIZE) utils/bench/run-soak.sh
# Forwarding CPU per packet in the qemu guest: sluiced kernel path, sluiced userspace,
# rtpengine userspace (t/kernel/bench_guest.py; BENCH_CALLS/WARMUP/DURATION there).
bench-kernel: deps
	@utils/install-deps.sh kernel bench
	$(MAKE) all
	SLUICE_VM_MODE=bench BUILD=$(BUILD) t/kernel/run-vm.sh
	@cat $(BUILD)/kernel-bench/bench.txt

# ---- fuzzing (clang-14 + libFuzzer) ----
FUZZ_CC      ?= clang-14
FUZZ_BUILD   := build-fuzz
FUZZ_SECONDS ?= 60
FUZZ_SRC     := $(sort $(wildcard t/fuzz/fuzz_*.c))
FUZZ_BIN     := $(FUZZ_SRC:t/fuzz/%.c=$(FUZZ_BUILD)/%)
FUZZ_CFLAGS  := -std=gnu11 -g -O1 -Iinclude -D_GNU_SOURCE $(PKG_CFLAGS) \
                -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined

$(FUZZ_BUILD)/%: t/fuzz/%.c $(LIB_SRC) $(DAEMON_SRC)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -o $@ $< $(LIB_SRC) $(DAEMON_SRC) $(LDLIBS)
# differential: libsrtp2 as the reference of lib/srtp.c
$(FUZZ_BUILD)/fuzz_srtp_ref: LDLIBS += $(SRTP2_LIBS)

fuzz: deps
	@utils/install-deps.sh fuzz
	$(MAKE) $(FUZZ_BIN)
	FUZZ_SECONDS=$(FUZZ_SECONDS) t/fuzz/run-fuzz.sh $(FUZZ_BIN)

# Man pages, made from the programs' own --help (sluiced's comes from its option table)
# by help2man and utils/man/mkconf.py, so they list exactly the options there are.
MAN_PAGES := $(BUILD)/man/sluiced.8 $(BUILD)/man/sluice.conf.5 $(BUILD)/man/sluice-ng.1 \
             $(BUILD)/man/sluice-ctl.1 $(BUILD)/man/sluice-bench.1
H2M = help2man -N --no-discard-stderr -i utils/man/$(1).h2m -s $(2) -o $@ $(BUILD)/$(1)

man: $(MAN_PAGES)
$(BUILD)/man/sluiced.8: $(BUILD)/sluiced utils/man/sluiced.h2m
	@mkdir -p $(dir $@)
	$(call H2M,sluiced,8)
$(BUILD)/man/sluice.conf.5: $(BUILD)/sluiced utils/man/mkconf.py
	@mkdir -p $(dir $@)
	/usr/bin/python3 utils/man/mkconf.py $(BUILD)/sluiced $@
$(BUILD)/man/%.1: $(BUILD)/% utils/man/%.h2m
	@mkdir -p $(dir $@)
	$(call H2M,$*,1)

# Debian packages (sluice-daemon, sluice-utils, sluice-kernel-dkms) into build/deb/.
deb:
	@utils/install-deps.sh deb
	dpkg-buildpackage -b -us -uc -j$(shell nproc)
	@mkdir -p build/deb
	mv ../sluice-*_$(shell dpkg-parsechangelog -S Version)_*.deb ../sluice_$(shell dpkg-parsechangelog -S Version)_*.* build/deb/
	@ls -1 build/deb

clean:
	rm -rf build build-san build-fuzz build-deb

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
