// SPDX-License-Identifier: Apache-2.0
/* arch/x86/insn: naming the instructions that stop emulated guests. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "arch/x86/emulate.h"
#include "arch/x86/insn.h"

#define NAME(...)                                                                 \
	({                                                                        \
		static const uint8_t b_[] = { __VA_ARGS__ };                      \
		x86_insn_name(b_, sizeof(b_), name_buf, sizeof(name_buf));        \
	})

static char name_buf[128];

/* The name starts with the mnemonic (operands follow). */
#define assert_names(text, mnemonic)                                             \
	do {                                                                      \
		const char *t_ = (text), *m_ = (mnemonic);                        \
		size_t n_ = strlen(m_);                                           \
		if (strncmp(t_, m_, n_) || (t_[n_] != '\0' && t_[n_] != ' '))    \
			fail_msg("'%s' does not name '%s'", t_, m_);              \
	} while (0)

static void test_cmpxchg(void **state)
{
	(void)state;
	assert_names(NAME(0x48, 0x0f, 0xc7, 0x0e), "cmpxchg16b");
	assert_names(NAME(0xf0, 0x48, 0x0f, 0xc7, 0x0e), "lock cmpxchg16b");
	assert_names(NAME(0x0f, 0xc7, 0x0e), "cmpxchg8b");
	assert_names(NAME(0x0f, 0xb1, 0x0e), "cmpxchg");
	/* Operands are shown too. */
	assert_string_equal(NAME(0x48, 0x0f, 0xc7, 0x0e), "cmpxchg16b [rsi]");
}

static void test_xsave_family(void **state)
{
	(void)state;
	assert_names(NAME(0x48, 0x0f, 0xae, 0x2f), "xrstor64");
	assert_names(NAME(0x0f, 0xae, 0x6f, 0x10), "xrstor");
	assert_names(NAME(0x48, 0x0f, 0xae, 0x27), "xsave64");
	assert_names(NAME(0x0f, 0xae, 0x37), "xsaveopt");
	assert_names(NAME(0x0f, 0xae, 0x07), "fxsave");
	assert_names(NAME(0x0f, 0xae, 0x17), "ldmxcsr");
	assert_names(NAME(0x48, 0x0f, 0xc7, 0x1f), "xrstors64");
	/* The register forms of 0f ae /5../7 are fences, not xrstor. */
	assert_names(NAME(0x0f, 0xae, 0xe8), "lfence");
	assert_names(NAME(0x0f, 0xae, 0xf0), "mfence");
	assert_names(NAME(0x0f, 0xae, 0xf8), "sfence");
	assert_names(NAME(0xf3, 0x48, 0x0f, 0xae, 0xc0), "rdfsbase");
}

static void test_one_byte(void **state)
{
	(void)state;
	assert_names(NAME(0xcc), "int3");
	assert_names(NAME(0x9b), "fwait");
	assert_names(NAME(0xf4), "hlt");
	assert_names(NAME(0xfa), "cli");
	assert_string_equal(NAME(0xec), "in al, dx");
	assert_string_equal(NAME(0xf3, 0xa4), "rep movsb");
	assert_string_equal(NAME(0xf3, 0x48, 0xab), "rep stosq");
	assert_string_equal(NAME(0x66, 0x89, 0x07), "mov [rdi], ax");
	assert_names(NAME(0xdb, 0xe2), "fnclex");
	assert_names(NAME(0xdb, 0xe3), "fninit");
	assert_names(NAME(0xd9, 0x7c, 0x24, 0x08), "fnstcw");
}

static void test_system(void **state)
{
	(void)state;
	assert_names(NAME(0x0f, 0x01, 0xca), "clac");
	assert_names(NAME(0x0f, 0x01, 0xcb), "stac");
	assert_names(NAME(0x0f, 0x01, 0xc1), "vmcall");
	assert_names(NAME(0x0f, 0x01, 0xd9), "vmmcall");
	assert_names(NAME(0x0f, 0x01, 0xd0), "xgetbv");
	assert_names(NAME(0x0f, 0x01, 0xf8), "swapgs");
	assert_names(NAME(0x0f, 0x01, 0x38), "invlpg");
	assert_names(NAME(0x0f, 0x01, 0x10), "lgdt");
	assert_names(NAME(0x0f, 0x05), "syscall");
	assert_names(NAME(0x0f, 0x30), "wrmsr");
	assert_names(NAME(0x0f, 0xa2), "cpuid");
}

static void test_popcnt(void **state)
{
	(void)state;
	assert_string_equal(NAME(0xf3, 0x0f, 0xb8, 0xc0), "popcnt eax, eax");
	assert_string_equal(NAME(0xf3, 0x48, 0x0f, 0xb8, 0xc0), "popcnt rax, rax");
}

static void test_rdrand_ud2(void **state)
{
	(void)state;
	assert_names(NAME(0x0f, 0xc7, 0xf0), "rdrand");
	assert_names(NAME(0x48, 0x0f, 0xc7, 0xf8), "rdseed");
	assert_names(NAME(0x0f, 0x0b), "ud2");
}

static void test_vex_evex(void **state)
{
	(void)state;
	assert_names(NAME(0xc5, 0xf8, 0x77), "vzeroupper");
	assert_names(NAME(0xc4, 0xe2, 0x79, 0x18, 0x07), "vbroadcastss");
	assert_names(NAME(0x62, 0xf1, 0x7c, 0x48, 0x10, 0x07), "vmovups");
	assert_names(NAME(0x66, 0x0f, 0x38, 0x00, 0xc1), "pshufb");
}

static void test_truncated(void **state)
{
	static const uint8_t b[] = { 0x0f, 0xc7 };

	(void)state;
	x86_insn_name(b, 0, name_buf, sizeof(name_buf));
	assert_non_null(strstr(name_buf, "truncated"));
	x86_insn_name(NULL, 0, name_buf, sizeof(name_buf));
	assert_non_null(strstr(name_buf, "truncated"));
	assert_non_null(strstr(NAME(0x0f), "truncated"));
	assert_non_null(strstr(NAME(0xf3, 0x48, 0x0f), "truncated"));
	assert_non_null(strstr(NAME(0xf0, 0xf3), "truncated"));
	assert_non_null(strstr(NAME(0x48), "truncated"));
	/* A group opcode without its ModRM byte is not guessed (ASan checks b[2]). */
	x86_insn_name(b, 2, name_buf, sizeof(name_buf));
	assert_non_null(strstr(name_buf, "truncated"));
}

static void test_many_prefixes(void **state)
{
	uint8_t b[32];

	(void)state;
	/* 13 prefixes then int3: still an instruction (15 bytes at most). */
	memset(b, 0x66, 13);
	b[13] = 0xcc;
	x86_insn_name(b, 14, name_buf, sizeof(name_buf));
	assert_names(name_buf, "int3");
	/* More than a valid instruction may have: not decoded past the limit. */
	memset(b, 0x2e, sizeof(b));
	b[31] = 0xcc;
	x86_insn_name(b, sizeof(b), name_buf, sizeof(name_buf));
	assert_non_null(strstr(name_buf, "undecodable (2e 2e"));
}

static void test_invalid(void **state)
{
	(void)state;
	assert_string_equal(NAME(0x0f, 0x04), "undecodable (0f 04)");
	assert_names(NAME(0x90), "nop");
}

static void test_small_buffer(void **state)
{
	static const uint8_t b[] = { 0x48, 0x0f, 0xc7, 0x0e };
	char small[5];

	(void)state;
	memset(small, 'z', sizeof(small));
	assert_ptr_equal(x86_insn_name(b, sizeof(b), small, sizeof(small)), small);
	assert_string_equal(small, "cmpx");
	memset(small, 'z', sizeof(small));
	x86_insn_name(b, sizeof(b), small, 0);
	assert_int_equal(small[0], 'z'); /* nothing written */
}

static void test_emulate_classify(void **state)
{
	static const uint8_t int3[] = { 0xcc, 0x90 };
	static const uint8_t fwait[] = { 0x9b };
	static const uint8_t popcnt[] = { 0xf3, 0x0f, 0xb8, 0xc0 };

	(void)state;
	assert_int_equal(x86_emulate_classify(int3, sizeof(int3)), X86_EMULATED_INT3);
	assert_int_equal(x86_emulate_classify(fwait, sizeof(fwait)), X86_EMULATED_FWAIT);
	assert_int_equal(x86_emulate_classify(popcnt, sizeof(popcnt)), X86_EMULATED_NONE);
	assert_int_equal(x86_emulate_classify(int3, 0), X86_EMULATED_NONE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cmpxchg),	     cmocka_unit_test(test_xsave_family),
		cmocka_unit_test(test_one_byte),     cmocka_unit_test(test_system),
		cmocka_unit_test(test_popcnt),	     cmocka_unit_test(test_rdrand_ud2),
		cmocka_unit_test(test_vex_evex),     cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_many_prefixes), cmocka_unit_test(test_invalid),
		cmocka_unit_test(test_small_buffer), cmocka_unit_test(test_emulate_classify),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
