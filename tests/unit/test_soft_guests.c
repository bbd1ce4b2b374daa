// SPDX-License-Identifier: Apache-2.0
/*
 * accel/soft core: boots osprey's own test guests (build/guest/NAME.elf, made
 * by `make guests`) on the software CPU in a minimal machine: PVH entry in
 * 32-bit protected mode, COM1 output captured, the PV port's power-off.
 * A guest that was not built is skipped.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "accel/soft/soft_cpu.h"
#include "accel/soft/soft_debug.h"
#include "arch/x86/boot.h"
#include "hw/memory.h"
#include "loader/loader.h"
#include "osprey_pv.h"

#define MEM_SIZE (64u << 20)
#define START_INFO 0x6000
#define MEMMAP 0x6100
#define CMDLINE 0x7000

struct machine {
	struct guest_mem mem;
	struct soft_cpu *cpu;
	char out[8192];
	unsigned nout;
	bool poweroff;
};

static void m_pio(void *opaque, uint16_t port, bool is_write, uint8_t *data, unsigned len)
{
	struct machine *m = opaque;

	if (is_write) {
		if (port == OSPREY_COM1_PORT && m->nout + 1 < sizeof(m->out))
			m->out[m->nout++] = (char)data[0];
		if (port == OSPREY_PV_PORT && len == 4) {
			uint32_t v;

			memcpy(&v, data, 4);
			if (v == OSPREY_PV_POWEROFF) {
				m->poweroff = true;
				soft_cpu_post(m->cpu, SOFT_EVENT_KICK);
			}
		}
		return;
	}
	memset(data, 0xff, len);
	if (port == OSPREY_COM1_PORT + 5)
		data[0] = 0x60; /* LSR: transmitter empty */
}

static void m_mmio(void *opaque, uint64_t gpa, bool is_write, uint8_t *data, unsigned len)
{
	(void)opaque;
	(void)gpa;
	if (!is_write)
		memset(data, 0xff, len);
}

static void m_cpuid(void *opaque, uint32_t leaf, uint32_t sub, uint32_t out[4])
{
	(void)opaque;
	(void)sub;
	memset(out, 0, 16);
	if (leaf == 0) {
		out[0] = 1;
		out[1] = 0x756e6547;
		out[2] = 0x6c65746e;
		out[3] = 0x49656e69;
	} else if (leaf == 1) {
		out[0] = 0x806f8;
		out[3] = (1u << 0) | (1u << 4) | (1u << 5) | (1u << 6) | (1u << 8) | (1u << 15) | (1u << 23) |
			 (1u << 24) | (1u << 25) | (1u << 26);
	}
}

/* Boots build/guest/<name>.elf; false when it is not built. */
static bool boot(struct machine *m, const char *name, uint64_t max_insns)
{
	char path[256], err[LOADER_ERR_MAX];
	struct boot_image img;
	struct soft_env env = { 0 };
	struct hvm_start_info si = { 0 };
	struct hvm_memmap_table_entry mm[2] = { 0 };
	static const char cmdline[] = "console=ttyS0 soft";

	snprintf(path, sizeof(path), "build/guest/%s.elf", name);
	if (access(path, R_OK))
		return false;
	memset(m, 0, sizeof(*m));
	assert_int_equal(guest_mem_init(&m->mem, MEM_SIZE), 0);
	assert_int_equal(kernel_load_file(&m->mem, path, &img, err, sizeof(err)), 0);
	soft_code_invalidate(0, MEM_SIZE);

	si.magic = HVM_START_MAGIC;
	si.version = 1;
	si.cmdline_paddr = CMDLINE;
	si.memmap_paddr = MEMMAP;
	si.memmap_entries = 2;
	mm[0] = (struct hvm_memmap_table_entry){ 0, 0x9fc00, 1, 0 };
	mm[1] = (struct hvm_memmap_table_entry){ 0x100000, MEM_SIZE - 0x100000, 1, 0 };
	assert_int_equal(guest_mem_write(&m->mem, START_INFO, &si, sizeof(si)), 0);
	assert_int_equal(guest_mem_write(&m->mem, MEMMAP, mm, sizeof(mm)), 0);
	assert_int_equal(guest_mem_write(&m->mem, CMDLINE, cmdline, sizeof(cmdline)), 0);

	env.mem = &m->mem;
	env.opaque = m;
	env.pio = m_pio;
	env.mmio = m_mmio;
	env.cpuid = m_cpuid;
	m->cpu = soft_cpu_new(&env, 0);
	assert_non_null(m->cpu);

	struct x86_cpu_state *s = soft_cpu_state(m->cpu);

	s->cr0 = 0x11;
	for (unsigned r = X86_ES; r <= X86_GS; r++)
		s->seg[r] = (struct x86_segment){ .selector = OSPREY_BOOT_DS, .limit = 0xffffffff, .type = 3,
						  .s = 1, .present = 1, .db = 1, .g = 1 };
	s->seg[X86_CS] = (struct x86_segment){ .selector = OSPREY_BOOT_CS, .limit = 0xffffffff, .type = 0xb,
					       .s = 1, .present = 1, .db = 1, .g = 1 };
	s->seg[X86_TR] = (struct x86_segment){ .limit = 0xffff, .type = 0xb, .present = 1 };
	s->rip = img.entry;
	s->gpr[X86_RBX] = START_INFO;
	s->rflags = 2;
	soft_cpu_state_changed(m->cpu);

	uint64_t done = 0;
	enum soft_exit ex = SOFT_EXIT_KICK;

	while (!m->poweroff && done < max_insns) {
		struct soft_cpu_stats st;

		ex = soft_cpu_run_bounded(m->cpu, 1000000);
		soft_cpu_get_stats(m->cpu, &st);
		done = st.insns;
		if (ex == SOFT_EXIT_SHUTDOWN || ex == SOFT_EXIT_HLT)
			break;
	}
	m->out[m->nout] = 0;
	if (getenv("SOFT_TEST_VERBOSE")) {
		fprintf(stderr, "--- %s (exit %d, %llu insns)\n%s---\n", name, ex, (unsigned long long)done, m->out);
		soft_cpu_dump(m->cpu, stderr);
	}
	return true;
}

static void shut(struct machine *m)
{
	soft_cpu_free(m->cpu);
	guest_mem_destroy(&m->mem);
}

static void expect(const struct machine *m, const char *line)
{
	if (!strstr(m->out, line)) {
		fprintf(stderr, "missing \"%s\" in:\n%s\n", line, m->out);
		fail();
	}
}

static void test_hello(void **state)
{
	(void)state;
	struct machine *m = calloc(1, sizeof(*m));

	if (!boot(m, "hello", 50000000)) {
		free(m);
		skip();
	}
	expect(m, "hello from osprey test guest\n");
	expect(m, "cmdline: console=ttyS0 soft\n");
	expect(m, "boot marker written\n");
	assert_true(m->poweroff);
	shut(m);
	free(m);
}

static void test_memsize(void **state)
{
	(void)state;
	struct machine *m = calloc(1, sizeof(*m));

	if (!boot(m, "memsize", 50000000)) {
		free(m);
		skip();
	}
	expect(m, "memmap: entries=2\n");
	assert_true(m->poweroff);
	shut(m);
	free(m);
}

static void test_unclaimed_port(void **state)
{
	(void)state;
	struct machine *m = calloc(1, sizeof(*m));

	if (!boot(m, "unclaimed_port", 50000000)) {
		free(m);
		skip();
	}
	expect(m, "unclaimed in8=0xff in16=0xffff in32=0xffffffff\n");
	expect(m, "still alive\n");
	assert_true(m->poweroff);
	shut(m);
	free(m);
}

static void test_int3(void **state)
{
	(void)state;
	struct machine *m = calloc(1, sizeof(*m));

	if (!boot(m, "int3", 50000000)) {
		free(m);
		skip();
	}
	expect(m, "after the int3");
	assert_true(m->poweroff);
	shut(m);
	free(m);
}

static void test_triple_fault(void **state)
{
	(void)state;
	struct machine *m = calloc(1, sizeof(*m));

	if (!boot(m, "triple_fault", 50000000)) {
		free(m);
		skip();
	}
	expect(m, "about to triple fault\n");
	assert_null(strstr(m->out, "still alive"));
	assert_false(m->poweroff);
	assert_int_equal(soft_cpu_state(m->cpu)->mp_state, X86_MP_STOPPED);
	shut(m);
	free(m);
}

/* 64-bit guest: long mode set-up, user mode; no virtio-blk device here. */
static void test_blk_bench_long_mode(void **state)
{
	(void)state;
	struct machine *m = calloc(1, sizeof(*m));

	if (!boot(m, "blk_bench", 50000000)) {
		free(m);
		skip();
	}
	expect(m, "blk_bench: long mode\n");
	expect(m, "blk_bench: user mode (CPL3): this line is printed from there\n");
	shut(m);
	free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hello),	      cmocka_unit_test(test_memsize),
		cmocka_unit_test(test_unclaimed_port), cmocka_unit_test(test_int3),
		cmocka_unit_test(test_triple_fault), cmocka_unit_test(test_blk_bench_long_mode),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
