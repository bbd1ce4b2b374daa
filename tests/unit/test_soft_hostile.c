// SPDX-License-Identifier: Apache-2.0
/*
 * accel/soft against a hostile guest: the things a guest (or a guest with
 * another vCPU racing it) can do that must fault its own vCPU and never
 * hang, crash or wedge osprey. Code is hand-assembled bytes in arrays,
 * run in a small 64-bit kernel-mode machine.
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "accel/soft/cpu_internal.h"
#include "accel/soft/exec.h"
#include "accel/soft/soft_cpu.h"
#include "accel/soft/soft_debug.h"
#include "base/log.h"
#include "hw/memory.h"

#define MEM_SIZE (4u << 20)

#define GDT 0x1000
#define IDT 0x2000
#define TSS 0x3000
#define HANDLERS 0x5000 /* vector v: HANDLERS + 16 v, one HLT */
#define KSTACK 0x8000
#define CODE 0x10000
#define PML4 0x20000
#define PDPT 0x21000
#define PD 0x22000
#define PT_MMIO 0x24000 /* maps 4-6 MiB: its entry 0 points at MMIO */
#define MMIO_GPA 0x40000000ull
#define MMIO_LIN 0x400000ull
#define KCS 0x08
#define KDS 0x10
#define TSS_SEL 0x30

struct hctx {
	struct guest_mem mem;
	struct soft_cpu *cpu;
	unsigned mmio_reads, mmio_writes;
	bool unmap_on_read; /* the MMIO read clears the PTE that maps it (a racing vCPU) */
	bool lazy_mmio;	    /* MMIO reads leave the buffer alone */
};

static void h_mmio(void *opaque, uint64_t gpa, bool is_write, uint8_t *data, unsigned len)
{
	struct hctx *h = opaque;
	uint64_t zero = 0;

	(void)gpa;
	if (is_write) {
		h->mmio_writes++;
		return;
	}
	h->mmio_reads++;
	if (h->lazy_mmio)
		return; /* a device that fills nothing */
	memset(data, 0, len);
	if (h->unmap_on_read)
		assert_int_equal(guest_mem_write(&h->mem, PT_MMIO, &zero, 8), 0);
}

static void put(struct hctx *h, uint64_t gpa, const void *b, size_t n)
{
	assert_int_equal(guest_mem_write(&h->mem, gpa, b, n), 0);
	soft_code_invalidate(gpa, n);
}

static void put64(struct hctx *h, uint64_t gpa, uint64_t v)
{
	put(h, gpa, &v, 8);
}

static struct hctx *hostile_machine(const void *code, size_t n)
{
	struct hctx *h = calloc(1, sizeof(*h));
	struct soft_env env = { 0 };
	struct x86_cpu_state *s;
	uint64_t gdt[8] = {
		0, 0x00af9a000000ffffull, 0x00cf92000000ffffull, 0, 0, 0, 0, 0,
	};

	assert_non_null(h);
	assert_int_equal(guest_mem_init(&h->mem, MEM_SIZE), 0);
	env.mem = &h->mem;
	env.opaque = h;
	env.mmio = h_mmio;
	h->cpu = soft_cpu_new(&env, 0);
	assert_non_null(h->cpu);
	s = soft_cpu_state(h->cpu);

	gdt[6] = 103 | ((uint64_t)TSS << 16) | (0x89ull << 40);
	put(h, GDT, gdt, sizeof(gdt));
	for (unsigned v = 0; v < 256; v++) {
		uint64_t target = HANDLERS + 16 * v;
		uint8_t hlt = 0xf4;

		put(h, target, &hlt, 1);
		put64(h, IDT + 16 * v,
		      (target & 0xffff) | ((uint64_t)KCS << 16) | (0x8eull << 40) | (((target >> 16) & 0xffff) << 48));
		put64(h, IDT + 16 * v + 8, 0);
	}
	put64(h, TSS + 4, KSTACK);
	put64(h, PML4, PDPT | 7);
	put64(h, PDPT, PD | 7);
	put64(h, PD, 0x87);		  /* 0-2 MiB */
	put64(h, PD + 8, 0x200000 | 0x87); /* 2-4 MiB */
	put64(h, PD + 16, PT_MMIO | 7);	  /* 4-6 MiB: 4 KiB pages */
	put64(h, PT_MMIO, MMIO_GPA | 7);
	put(h, CODE, code, n);

	s->cr0 = 0x80050033;
	s->cr4 = 0x20;
	s->cr3 = PML4;
	s->efer = 0xd00;
	s->gdt.base = GDT;
	s->gdt.limit = sizeof(gdt) - 1;
	s->idt.base = IDT;
	s->idt.limit = 16 * 256 - 1;
	s->seg[X86_CS] = (struct x86_segment){ .selector = KCS, .limit = 0xffffffff, .type = 0xb, .s = 1,
					       .present = 1, .l = 1, .g = 1 };
	for (unsigned r = X86_ES; r <= X86_GS; r++)
		if (r != X86_CS)
			s->seg[r] = (struct x86_segment){ .selector = KDS, .limit = 0xffffffff, .type = 3,
							  .s = 1, .present = 1, .db = 1, .g = 1 };
	s->seg[X86_TR] = (struct x86_segment){ .selector = TSS_SEL, .base = TSS, .limit = 103, .type = 0xb,
					       .present = 1 };
	s->gpr[X86_RSP] = KSTACK;
	s->rip = CODE;
	s->rflags = 2;
	soft_cpu_state_changed(h->cpu);
	return h;
}

static void hctx_free(struct hctx *h)
{
	soft_cpu_free(h->cpu);
	guest_mem_destroy(&h->mem);
	free(h);
}

static void assert_in_handler(struct hctx *h, unsigned v)
{
	struct x86_cpu_state *s = soft_cpu_state(h->cpu);

	if (s->rip != HANDLERS + 16 * v + 1)
		soft_cpu_dump(h->cpu, stderr);
	assert_int_equal(s->rip, HANDLERS + 16 * v + 1);
}

/* ---- A fault inside a locked MMIO access must not keep the slow lock ---------- */

static void *take_slow_lock(void *arg)
{
	(void)arg;
	soft_lock_slow();
	soft_unlock_slow();
	return NULL;
}

/* True when another thread can take soft_lock_slow() within a second. */
static bool slow_lock_free(void)
{
	pthread_t t;
	struct timespec ts;
	int r;

	assert_int_equal(pthread_create(&t, NULL, take_slow_lock, NULL), 0);
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += 1;
	r = pthread_timedjoin_np(t, NULL, &ts);
	if (r == ETIMEDOUT) {
		/* This thread still holds it: let the helper finish. */
		soft_unlock_slow();
		pthread_join(t, NULL);
		return false;
	}
	return r == 0;
}

static void test_locked_mmio_fault_releases_lock(void **state)
{
	/*
	 * lock inc dword [MMIO_LIN]: the read goes to MMIO, and meanwhile
	 * "another vCPU" unmaps the page, so the write half faults (#PF)
	 * under the process-wide lock of locked MMIO accesses.
	 */
	static const uint8_t code[] = {
		0xf0, 0xff, 0x04, 0x25, 0x00, 0x00, 0x40, 0x00, /* lock inc dword [0x400000] */
		0xf4,						/* hlt */
	};
	struct hctx *h = hostile_machine(code, sizeof(code));

	(void)state;
	h->unmap_on_read = true;
	assert_int_equal(soft_cpu_run(h->cpu), SOFT_EXIT_HLT);
	assert_int_equal(h->mmio_reads, 1);
	assert_int_equal(h->mmio_writes, 0);
	assert_in_handler(h, 14);
	assert_int_equal(soft_cpu_state(h->cpu)->cr2, MMIO_LIN);
	assert_true(slow_lock_free());
	hctx_free(h);
}

static void test_locked_cmpxchg16b_fault_releases_lock(void **state)
{
	/* The same with LOCK CMPXCHG16B (its own slow path). */
	static const uint8_t code[] = {
		0x48, 0xb8, 0x00, 0x00, 0x40, 0x00, 0x00, 0x00, 0x00, 0x00, /* mov rax, 0x400000 */
		0xf0, 0x48, 0x0f, 0xc7, 0x08,				    /* lock cmpxchg16b [rax] */
		0xf4,							    /* hlt */
	};
	struct hctx *h = hostile_machine(code, sizeof(code));

	(void)state;
	h->unmap_on_read = true;
	assert_int_equal(soft_cpu_run(h->cpu), SOFT_EXIT_HLT);
	assert_true(h->mmio_reads >= 1);
	assert_int_equal(h->mmio_writes, 0);
	assert_in_handler(h, 14);
	assert_true(slow_lock_free());
	hctx_free(h);
}

/* ---- Self-modifying code in a loop: the decode cache stays fast ------------------ */

/* Blocks for gpa in the lookup chains of the decode cache. */
static unsigned cached_versions(struct soft_cpu *cpu, uint64_t gpa)
{
	unsigned n = 0;

	for (unsigned i = 0; i < cpu->cc.hash_size; i++)
		for (const struct soft_block *b = cpu->cc.hash[i]; b; b = b->next)
			n += b->gpa == gpa;
	return n;
}

static void test_smc_loop_prunes_stale_blocks(void **state)
{
	/*
	 * Each iteration writes into its own code page: the page's blocks go
	 * stale and the loop is decoded again. Stale blocks must not pile up
	 * in the lookup chain: every lookup walked all of them (a loop of
	 * 400000 iterations took 5.3 s instead of 0.65 s under ASan).
	 */
	static const uint8_t code[] = {
		0xb9, 0x88, 0x13, 0x00, 0x00,	    /* mov ecx, 5000 */
		0x88, 0x05, 0xf5, 0x07, 0x00, 0x00, /* loop: mov [rip + 0x7f5], al (CODE + 0x800) */
		0xff, 0xc9,			    /* dec ecx */
		0x75, 0xf6,			    /* jnz loop */
		0xf4,				    /* hlt */
	};
	struct hctx *h = hostile_machine(code, sizeof(code));
	struct soft_cpu_stats st;

	(void)state;
	assert_int_equal(soft_cpu_run(h->cpu), SOFT_EXIT_HLT);
	assert_int_equal(soft_cpu_state(h->cpu)->rip, CODE + sizeof(code));
	assert_int_equal(soft_cpu_state(h->cpu)->gpr[X86_RCX], 0);
	soft_cpu_get_stats(h->cpu, &st);
	assert_true(st.blocks_decoded >= 5000); /* the loop was decoded again and again */
	assert_true(cached_versions(h->cpu, CODE + 5) <= 2);
	hctx_free(h);
}

/* ---- A guest cannot flood the host's log --------------------------------------- */

static void test_task_gate_loop_logs_once(void **state)
{
	/*
	 * 32-bit protected mode, no paging: INT 0x40 through a task gate
	 * (not supported: #GP), whose handler IRETs back to the INT. Each
	 * round used to write a warning to osprey's log.
	 */
	static const uint8_t code[] = { 0xcd, 0x40 };		    /* int 0x40 */
	static const uint8_t gp[] = { 0x83, 0xc4, 0x04, 0xcf };	    /* add esp, 4; iret */
	uint64_t gdt[3] = { 0, 0x00cf9a000000ffffull, 0x00cf92000000ffffull };
	uint64_t task_gate = (0x18ull << 16) | (0x85ull << 40);
	uint64_t gp_gate = (HANDLERS & 0xffff) | (0x08ull << 16) | (0x8eull << 40) |
			   ((uint64_t)(HANDLERS >> 16) << 48);
	struct hctx *h = hostile_machine(code, sizeof(code));
	struct x86_cpu_state *s = soft_cpu_state(h->cpu);
	char path[] = "/tmp/osprey-test-soft-hostile-XXXXXX", err[128], line[256];
	unsigned lines = 0;
	FILE *f;
	int fd;

	(void)state;
	put(h, GDT, gdt, sizeof(gdt));
	put64(h, IDT + 8 * 13, gp_gate);
	put64(h, IDT + 8 * 0x40, task_gate);
	put(h, HANDLERS, gp, sizeof(gp));
	s->cr0 = 0x11;
	s->cr4 = 0;
	s->efer = 0;
	s->gdt.limit = sizeof(gdt) - 1;
	s->idt.limit = 8 * 256 - 1;
	s->seg[X86_CS] = (struct x86_segment){ .selector = 0x08, .limit = 0xffffffff, .type = 0xb, .s = 1,
					       .present = 1, .db = 1, .g = 1 };
	for (unsigned r = X86_ES; r <= X86_GS; r++)
		if (r != X86_CS)
			s->seg[r] = (struct x86_segment){ .selector = 0x10, .limit = 0xffffffff, .type = 3,
							  .s = 1, .present = 1, .db = 1, .g = 1 };
	s->rip = CODE;
	s->gpr[X86_RSP] = KSTACK;
	soft_cpu_state_changed(h->cpu);

	fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(log_configure(path, "warning", false, false, NULL, err, sizeof(err)), 0);
	assert_int_equal(soft_cpu_run_bounded(h->cpu, 30000), SOFT_EXIT_KICK);
	log_sink_reset();
	s = soft_cpu_state(h->cpu);
	assert_true(s->rip == CODE || (s->rip >= HANDLERS && s->rip < HANDLERS + sizeof(gp)));
	f = fopen(path, "r");
	assert_non_null(f);
	while (fgets(line, sizeof(line), f))
		lines += strstr(line, "task gate") != NULL;
	fclose(f);
	unlink(path);
	assert_true(lines <= 1);
	hctx_free(h);
}

/* ---- MMIO reads a device does not fill leak nothing ------------------------------ */

static void test_unfilled_mmio_read_is_ones(void **state)
{
	/*
	 * 16-byte and 8-byte loads from an MMIO page whose device writes
	 * nothing into the buffer: all ones (as an unclaimed read), never the
	 * previous contents of a host buffer.
	 */
	static const uint8_t code[] = {
		0x48, 0xb8, 0x00, 0x00, 0x40, 0x00, 0x00, 0x00, 0x00, 0x00, /* mov rax, 0x400000 */
		0xf3, 0x0f, 0x6f, 0x00,					    /* movdqu xmm0, [rax] */
		0x48, 0x8b, 0x58, 0x10,					    /* mov rbx, [rax + 16] */
		0xf4,							    /* hlt */
	};
	struct hctx *h = hostile_machine(code, sizeof(code));
	struct x86_cpu_state *s;
	uint8_t ones[16];

	(void)state;
	h->lazy_mmio = true;
	s = soft_cpu_state(h->cpu);
	s->cr4 |= 0x600; /* OSFXSR OSXMMEXCPT */
	s->cr0 &= ~0xcull; /* EM, TS off */
	memset(s->fpu.xmm[0], 0x5a, 16);
	s->gpr[X86_RBX] = 0x5a5a5a5a5a5a5a5aull;
	soft_cpu_state_changed(h->cpu);
	assert_int_equal(soft_cpu_run(h->cpu), SOFT_EXIT_HLT);
	s = soft_cpu_state(h->cpu);
	if (s->rip != CODE + sizeof(code))
		soft_cpu_dump(h->cpu, stderr);
	assert_int_equal(s->rip, CODE + sizeof(code));
	memset(ones, 0xff, sizeof(ones));
	assert_memory_equal(s->fpu.xmm[0], ones, 16);
	assert_int_equal(s->gpr[X86_RBX], UINT64_MAX);
	hctx_free(h);
}

/* ---- Code at the end of RAM runs into MMIO ------------------------------------- */

static void test_code_across_ram_end(void **state)
{
	/*
	 * mov rax, imm64 four bytes before the end of RAM (4 MiB): the
	 * instruction's last six bytes lie in the MMIO page after it, which
	 * reads as ones; the next instruction is fetched from MMIO: #UD.
	 */
	static const uint8_t code[] = { 0xe9, 0xf7, 0xff, 0x3e, 0x00 }; /* jmp 0x3ffffc */
	static const uint8_t tail[] = { 0x48, 0xb8, 0x11, 0x22 };	/* mov rax, 0x....2211 */
	struct hctx *h = hostile_machine(code, sizeof(code));
	struct x86_cpu_state *s;
	uint64_t rip_pushed = 0;

	(void)state;
	put(h, MEM_SIZE - sizeof(tail), tail, sizeof(tail));
	assert_int_equal(soft_cpu_run(h->cpu), SOFT_EXIT_HLT);
	assert_in_handler(h, 6);
	s = soft_cpu_state(h->cpu);
	assert_int_equal(s->gpr[X86_RAX], 0xffffffffffff2211ull);
	assert_int_equal(guest_mem_read(&h->mem, s->gpr[X86_RSP], &rip_pushed, 8), 0);
	assert_int_equal(rip_pushed, MEM_SIZE + 6);
	hctx_free(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_locked_mmio_fault_releases_lock),
		cmocka_unit_test(test_locked_cmpxchg16b_fault_releases_lock),
		cmocka_unit_test(test_smc_loop_prunes_stale_blocks),
		cmocka_unit_test(test_task_gate_loop_logs_once),
		cmocka_unit_test(test_unfilled_mmio_read_is_ones),
		cmocka_unit_test(test_code_across_ram_end),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
