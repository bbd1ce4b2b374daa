# SPDX-License-Identifier: MIT
#
# guest/tests/build.mk - builds osprey's freestanding test guests.
#
# Included by the top-level Makefile (run from the repository root):
#     include guest/tests/build.mk
# Defines GUEST_TEST_ELFS (build/guest/<name>.elf) and the rules for them,
# plus the phony targets guest-tests and guest-tests-clean.  Standalone:
#     make -f guest/tests/build.mk guest-tests
#
# Uses only the host gcc/as/ld (no libc, no libgcc).  Most guests are 32-bit
# (ELF32, guest.ld); the GUEST_TEST64_NAMES ones are 64-bit (ELF64,
# guest64.ld, lib/start64.S: long mode and user mode).  All
# variables are GUEST_TEST_* / GT_* so nothing leaks into the VMM build, and
# the including Makefile's CFLAGS/LDFLAGS are deliberately not used.

GT_SAVED_DEFAULT_GOAL := $(.DEFAULT_GOAL)

GT_SRC := $(patsubst %/,%,$(dir $(lastword $(MAKEFILE_LIST))))
GT_ABI := $(patsubst %/tests,%/abi,$(GT_SRC))
GT_OUT ?= build/guest
GT_OBJ := $(GT_OUT)/obj

GUEST_TEST_NAMES := hello triple_fault unclaimed_port smp reboot memsize emul_fail int3 ticker hostile \
	counter
GUEST_TEST64_NAMES := blk_bench cpubench
GUEST_TEST_ELFS := $(GUEST_TEST_NAMES:%=$(GT_OUT)/%.elf) \
	$(GUEST_TEST64_NAMES:%=$(GT_OUT)/%.elf)

GUEST_TEST_CC ?= gcc
GUEST_TEST_LD ?= ld

# -mgeneral-regs-only: no x87/SSE (not everything is emulated under kvm_pvm).
# -fcf-protection=none: no endbr32.  -fno-tree-loop-distribute-patterns:
# keeps gcc from turning memcpy/memset loops into calls to themselves.
GT_CFLAGS := -m32 -march=i686 -mtune=generic -mgeneral-regs-only \
	-std=gnu11 -O2 -g -ffreestanding -fno-builtin -fno-pic -fno-pie \
	-fno-stack-protector -fcf-protection=none -fno-asynchronous-unwind-tables \
	-fno-tree-loop-distribute-patterns -fno-common \
	-Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
	-I$(GT_SRC)/lib -I$(GT_SRC) -I$(GT_ABI) -MMD -MP
GT_ASFLAGS := -m32 -fno-pic -fno-pie -Wa,--fatal-warnings \
	-I$(GT_SRC)/lib -I$(GT_SRC) -I$(GT_ABI) -MMD -MP
GT_LDFLAGS := -m elf_i386 -nostdlib -static --no-dynamic-linker \
	--build-id=none -z noexecstack -z max-page-size=0x1000 --fatal-warnings \
	-T $(GT_SRC)/guest.ld

GT_LIB_OBJS := $(GT_OBJ)/lib/start.o $(GT_OBJ)/lib/gt.o

# 64-bit guests: same warnings; -mno-red-zone because exceptions in kernel
# mode push onto the interrupted stack; the image sits at 1 MiB, so the
# small code model without PIC works.  Objects go in $(GT_OBJ)/64/.
GT64_CFLAGS := $(filter-out -m32 -march=i686,$(GT_CFLAGS)) -m64 -march=x86-64 \
	-mno-red-zone -mcmodel=small
GT64_ASFLAGS := $(filter-out -m32,$(GT_ASFLAGS)) -m64
GT64_LDFLAGS := $(filter-out -m elf_i386 -T $(GT_SRC)/guest.ld,$(GT_LDFLAGS)) \
	-m elf_x86_64 -T $(GT_SRC)/guest64.ld
GT64_LIB_OBJS := $(GT_OBJ)/64/lib/start64.o $(GT_OBJ)/64/lib/gt64.o $(GT_OBJ)/64/lib/gt.o

# Extra objects per guest (besides <name>.o and the library).
GT_EXTRA_smp := $(GT_OBJ)/smp_ap.o
GT_EXTRA_cpubench := $(GT_OBJ)/64/cpuloops.o

GT_ALL_OBJS := $(GT_LIB_OBJS) $(GUEST_TEST_NAMES:%=$(GT_OBJ)/%.o) \
	$(foreach n,$(GUEST_TEST_NAMES),$(GT_EXTRA_$(n))) \
	$(foreach n,$(GUEST_TEST64_NAMES),$(GT_EXTRA_$(n))) \
	$(GT64_LIB_OBJS) $(GUEST_TEST64_NAMES:%=$(GT_OBJ)/64/%.o)

$(GT_OBJ)/64/%.o: $(GT_SRC)/%.c
	@mkdir -p $(@D)
	$(GUEST_TEST_CC) $(GT64_CFLAGS) -c $< -o $@

$(GT_OBJ)/64/%.o: $(GT_SRC)/%.S
	@mkdir -p $(@D)
	$(GUEST_TEST_CC) $(GT64_ASFLAGS) -c $< -o $@

$(GT_OBJ)/%.o: $(GT_SRC)/%.c
	@mkdir -p $(@D)
	$(GUEST_TEST_CC) $(GT_CFLAGS) -c $< -o $@

$(GT_OBJ)/%.o: $(GT_SRC)/%.S
	@mkdir -p $(@D)
	$(GUEST_TEST_CC) $(GT_ASFLAGS) -c $< -o $@

$(GT_OUT)/smp.elf: $(GT_EXTRA_smp)
$(GT_OUT)/cpubench.elf: $(GT_EXTRA_cpubench)

$(GUEST_TEST_NAMES:%=$(GT_OUT)/%.elf): $(GT_OUT)/%.elf: $(GT_OBJ)/%.o $(GT_LIB_OBJS) $(GT_SRC)/guest.ld
	@mkdir -p $(@D)
	$(GUEST_TEST_LD) $(GT_LDFLAGS) -o $@ $(filter %.o,$^)

$(GUEST_TEST64_NAMES:%=$(GT_OUT)/%.elf): $(GT_OUT)/%.elf: $(GT_OBJ)/64/%.o $(GT64_LIB_OBJS) $(GT_SRC)/guest64.ld
	@mkdir -p $(@D)
	$(GUEST_TEST_LD) $(GT64_LDFLAGS) -o $@ $(filter %.o,$^)

.PHONY: guest-tests guest-tests-clean
guest-tests: $(GUEST_TEST_ELFS)

guest-tests-clean:
	rm -rf $(GT_OBJ) $(GUEST_TEST_ELFS)

-include $(GT_ALL_OBJS:.o=.d)

# Don't let the rules above become the including Makefile's default goal.
.DEFAULT_GOAL := $(GT_SAVED_DEFAULT_GOAL)
