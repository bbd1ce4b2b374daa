# osprey build. `make` builds build/osprey; `make test` runs the whole suite;
# `make run` boots the default guest. See README.md.

CC ?= gcc
CLANG ?= clang
BUILD := build

SRC_DIRS := src/base src/hw src/vmm src/arch/x86 src/loader src/devices src/cli src/virtio src/api \
	src/irqchip src/accel src/accel/kvm src/accel/soft src/snapshot src/migration
LIB_SRCS := $(foreach d,$(SRC_DIRS),$(wildcard $(d)/*.c))
MAIN_SRC := src/main.c

WARNINGS := -Wall -Wextra -Werror -Wshadow -Wformat=2 -Wformat-security \
	-Wstrict-prototypes -Wmissing-prototypes -Wmissing-declarations \
	-Wpointer-arith -Wvla -Wundef -Wwrite-strings -Wcast-qual \
	-Wimplicit-fallthrough -Wnull-dereference -Wdouble-promotion \
	-Wold-style-definition -Wredundant-decls
CPPFLAGS_COMMON := -D_GNU_SOURCE -Isrc -Iguest/abi -MMD -MP
CFLAGS_COMMON := -std=gnu11 -g $(WARNINGS) -fstack-protector-strong -fno-strict-aliasing

RELEASE_CFLAGS := $(CFLAGS_COMMON) -O2 -D_FORTIFY_SOURCE=2
SAN_FLAGS := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
ASAN_CFLAGS := $(CFLAGS_COMMON) -O1 $(SAN_FLAGS)

# The API server: HTTP (http-parser) and JSON (jansson, also metrics),
# both linked from their static archives: no shared object of theirs is
# mapped into each osprey process (docs/benchmarks.md, memory overhead).
API_CFLAGS := $(shell pkg-config --cflags jansson 2>/dev/null)
API_LIBS := -l:libhttp_parser.a -l:libjansson.a
CPPFLAGS_COMMON += $(API_CFLAGS)

# Zydis (x86 decoding for the software CPU and error reports): Debian ships
# it only as a shared library.
# liblzma: CRC-64 of snapshot and migration streams (base/state.c), static.
LDLIBS := $(API_LIBS) -l:liblzma.a -lZydis -lpthread

REL_OBJS := $(patsubst src/%.c,$(BUILD)/obj/release/%.o,$(LIB_SRCS))
ASAN_OBJS := $(patsubst src/%.c,$(BUILD)/obj/asan/%.o,$(LIB_SRCS))

UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(patsubst tests/unit/%.c,$(BUILD)/tests/unit/%,$(UNIT_SRCS))

FUZZ_SRCS := $(wildcard fuzz/fuzz_*.c)
FUZZ_BINS := $(patsubst fuzz/%.c,$(BUILD)/fuzz/%,$(FUZZ_SRCS))

.PHONY: all osprey asan unit fuzz guests test run check-deps clean format
all: $(BUILD)/osprey

osprey: $(BUILD)/osprey
asan: $(BUILD)/asan/osprey
unit: $(UNIT_BINS)
fuzz: $(FUZZ_BINS)

$(BUILD)/obj/release/%.o: src/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS_COMMON) $(RELEASE_CFLAGS) -c $< -o $@

$(BUILD)/obj/asan/%.o: src/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS_COMMON) $(ASAN_CFLAGS) -c $< -o $@

# The release osprey links libZydis dynamically (Debian has no static
# archive of it), so it is an ordinary PIE; jansson and http-parser still
# come from their static archives.
RELEASE_LDFLAGS :=
$(BUILD)/osprey: $(REL_OBJS) $(BUILD)/obj/release/main.o
	$(CC) $(RELEASE_CFLAGS) $(RELEASE_LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/asan/osprey: $(ASAN_OBJS) $(BUILD)/obj/asan/main.o
	@mkdir -p $(dir $@)
	$(CC) $(ASAN_CFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/libosprey-asan.a: $(ASAN_OBJS)
	@rm -f $@
	ar rcs $@ $^

# Unit tests (cmocka) link against the sanitizer build of the library.
# Their dependency files go under obj/, so build/tests/unit/ holds only the
# test binaries (runners glob build/tests/unit/test_*).
$(BUILD)/tests/unit/%: tests/unit/%.c $(BUILD)/libosprey-asan.a
	@mkdir -p $(dir $@) $(BUILD)/obj/unit
	$(CC) $(CPPFLAGS_COMMON) -MF $(BUILD)/obj/unit/$*.d -MT $@ $(ASAN_CFLAGS) \
		-Wno-missing-prototypes -Wno-missing-declarations \
		-o $@ $< $(BUILD)/libosprey-asan.a -lcmocka $(LDLIBS)

# Unit tests that build whole machines need every DEVICE_REGISTER'ed
# device (the osprey_devices section, referenced by no name): whole archive.
UNIT_MACHINE_BINS := $(BUILD)/tests/unit/test_vm_snapshot
$(UNIT_MACHINE_BINS): $(BUILD)/tests/unit/%: tests/unit/%.c $(BUILD)/libosprey-asan.a
	@mkdir -p $(dir $@) $(BUILD)/obj/unit
	$(CC) $(CPPFLAGS_COMMON) -MF $(BUILD)/obj/unit/$*.d -MT $@ $(ASAN_CFLAGS) \
		-Wno-missing-prototypes -Wno-missing-declarations \
		-o $@ $< -Wl,--whole-archive $(BUILD)/libosprey-asan.a -Wl,--no-whole-archive \
		-lcmocka $(LDLIBS)

# libFuzzer targets (clang). The library is compiled once with coverage
# instrumentation and the sanitizers (libosprey-fuzz.a); each target links
# what it uses from it.
FUZZ_SAN := -fsanitize=address,undefined -fno-sanitize-recover=all
FUZZ_CFLAGS := -std=gnu11 -g -O1 -D_GNU_SOURCE -Isrc -Iguest/abi $(API_CFLAGS) \
	-fsanitize=fuzzer $(FUZZ_SAN)
FUZZ_LIB_CFLAGS := -std=gnu11 -g -O1 -fsanitize=fuzzer-no-link $(FUZZ_SAN) \
	-Wno-gnu-variable-sized-type-not-at-end
FUZZ_OBJS := $(patsubst src/%.c,$(BUILD)/obj/fuzz/%.o,$(LIB_SRCS))
$(BUILD)/obj/fuzz/%.o: src/%.c
	@mkdir -p $(dir $@)
	$(CLANG) $(CPPFLAGS_COMMON) $(FUZZ_LIB_CFLAGS) -c $< -o $@

$(BUILD)/libosprey-fuzz.a: $(FUZZ_OBJS)
	@rm -f $@
	ar rcs $@ $^

# Whole archive: targets that build machines need every DEVICE_REGISTER'ed
# device (the osprey_devices section), which nothing references by name.
$(BUILD)/fuzz/%: fuzz/%.c $(BUILD)/libosprey-fuzz.a $(wildcard fuzz/*.h)
	@mkdir -p $(dir $@)
	$(CLANG) $(FUZZ_CFLAGS) -o $@ $< -Wl,--whole-archive $(BUILD)/libosprey-fuzz.a \
		-Wl,--no-whole-archive $(LDLIBS)

# The software CPU's differential tests (build/tests/difftest).
include tests/diff/build.mk

# osprey-ctl, the API client (src/ctl, docs/ctl.md): a separate program
# on libcurl and jansson that uses only base/parse.c of the library.
CTL_SRCS := $(wildcard src/ctl/*.c)
CTL_OBJS := $(patsubst src/%.c,$(BUILD)/obj/release/%.o,$(CTL_SRCS)) $(BUILD)/obj/release/base/parse.o
.PHONY: ctl
all: $(BUILD)/osprey-ctl
ctl: $(BUILD)/osprey-ctl
$(BUILD)/osprey-ctl: $(CTL_OBJS)
	$(CC) $(RELEASE_CFLAGS) -o $@ $^ -lcurl -ljansson
# tests/unit/test_ctl.c includes src/ctl/plan.c
$(BUILD)/tests/unit/test_ctl: LDLIBS += -ljansson
-include $(CTL_OBJS:.o=.d)

# osprey-oci, the OCI container runtime (src/oci, docs/containers.md), on
# the sandbox primitives (src/sandbox: namespaces, cgroups, mounts,
# capabilities, seccomp). Neither folder is in SRC_DIRS: the VMM does not
# link them. libseccomp is linked shared (Debian's static one is not PIC).
OCI_SRCS := $(wildcard src/oci/*.c) $(wildcard src/sandbox/*.c)
OCI_LIBS := -l:libjansson.a -lseccomp
OCI_REL_OBJS := $(patsubst src/%.c,$(BUILD)/obj/release/%.o,$(OCI_SRCS))
OCI_ASAN_OBJS := $(patsubst src/%.c,$(BUILD)/obj/asan/%.o,$(OCI_SRCS))
OCI_LIB_ASAN_OBJS := $(filter-out $(BUILD)/obj/asan/oci/main.o,$(OCI_ASAN_OBJS))
# the fuzz target needs only the parser and what it calls
OCI_FUZZ_OBJS := $(patsubst src/%.c,$(BUILD)/obj/fuzz/%.o,src/oci/config.c $(wildcard src/sandbox/*.c))
OCI_UNIT_BINS := $(filter $(BUILD)/tests/unit/test_oci_%,$(UNIT_BINS))
.PHONY: oci oci-asan
all: $(BUILD)/osprey-oci
oci: $(BUILD)/osprey-oci
oci-asan: $(BUILD)/asan/osprey-oci
$(BUILD)/osprey-oci: $(OCI_REL_OBJS)
	$(CC) $(RELEASE_CFLAGS) -o $@ $^ $(OCI_LIBS)
$(BUILD)/asan/osprey-oci: $(OCI_ASAN_OBJS)
	@mkdir -p $(dir $@)
	$(CC) $(ASAN_CFLAGS) -o $@ $^ $(OCI_LIBS)
$(BUILD)/libosprey-oci-asan.a: $(OCI_LIB_ASAN_OBJS)
	@rm -f $@
	ar rcs $@ $^
$(OCI_UNIT_BINS): $(BUILD)/libosprey-oci-asan.a
$(OCI_UNIT_BINS): LDLIBS += $(BUILD)/libosprey-oci-asan.a -lseccomp -ljansson
$(BUILD)/fuzz/fuzz_oci_config: $(OCI_FUZZ_OBJS)
$(BUILD)/fuzz/fuzz_oci_config: LDLIBS += $(OCI_FUZZ_OBJS) -lseccomp
-include $(OCI_REL_OBJS:.o=.d) $(OCI_ASAN_OBJS:.o=.d) $(OCI_FUZZ_OBJS:.o=.d)

# osprey-jailer, the VMM jailer (src/jail, docs/jailer.md): a separate
# binary on the sandbox primitives, like osprey-oci.
JAIL_SRCS := $(wildcard src/jail/*.c) $(wildcard src/sandbox/*.c)
JAIL_REL_OBJS := $(patsubst src/%.c,$(BUILD)/obj/release/%.o,$(JAIL_SRCS))
JAIL_ASAN_OBJS := $(patsubst src/%.c,$(BUILD)/obj/asan/%.o,$(JAIL_SRCS))
.PHONY: jailer jailer-asan
all: $(BUILD)/osprey-jailer
jailer: $(BUILD)/osprey-jailer
jailer-asan: $(BUILD)/asan/osprey-jailer
$(BUILD)/osprey-jailer: $(JAIL_REL_OBJS)
	$(CC) $(RELEASE_CFLAGS) -o $@ $^ -lseccomp
$(BUILD)/asan/osprey-jailer: $(JAIL_ASAN_OBJS)
	@mkdir -p $(dir $@)
	$(CC) $(ASAN_CFLAGS) -o $@ $^ -lseccomp
-include $(JAIL_REL_OBJS:.o=.d) $(JAIL_ASAN_OBJS:.o=.d)

include guest/tests/build.mk
guests: $(GUEST_TEST_ELFS)

test:
	scripts/test.sh

run:
	scripts/run-default.sh

format:
	clang-format -i $(LIB_SRCS) $(MAIN_SRC) $(UNIT_SRCS) $(FUZZ_SRCS)

clean:
	rm -rf $(BUILD)

-include $(REL_OBJS:.o=.d) $(ASAN_OBJS:.o=.d) $(FUZZ_OBJS:.o=.d) $(BUILD)/obj/release/main.d $(BUILD)/obj/asan/main.d
-include $(patsubst tests/unit/%.c,$(BUILD)/obj/unit/%.d,$(UNIT_SRCS))
