// SPDX-License-Identifier: Apache-2.0
/* arch/x86/boot: zero page, PVH start_info and the common boot structures. */
#include <asm/bootparam.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "arch/x86/boot.h"
#include "arch/x86/e820.h"
#include "arch/x86/layout.h"
#include "base/util.h"

#define RAM MiB(16)
#define CMDLINE "console=ttyS0 panic=-1"

static int mem_setup(void **state)
{
	static struct guest_mem mem;

	if (guest_mem_init(&mem, RAM))
		return -1;
	*state = &mem;
	return 0;
}

static int mem_teardown(void **state)
{
	guest_mem_destroy(*state);
	return 0;
}

static void linux64_image(struct boot_image *img)
{
	memset(img, 0, sizeof(*img));
	img->entry_mode = X86_ENTRY_LINUX64;
	img->entry = 0x100200;
	img->kernel_start = X86_KERNEL_LOAD_ADDR;
	img->kernel_end = MiB(4);
	img->has_setup_header = true;
	img->hdr.boot_flag = 0xaa55;
	img->hdr.header = 0x53726448;
	img->hdr.version = 0x020f;
	img->hdr.cmdline_size = 2047;
	img->cmdline_max = 2047;
}

static void pvh_image(struct boot_image *img)
{
	memset(img, 0, sizeof(*img));
	img->entry_mode = X86_ENTRY_PVH;
	img->entry = 0x1000000;
	img->kernel_start = X86_KERNEL_LOAD_ADDR;
	img->kernel_end = MiB(4);
}

static struct x86_boot_setup setup_for(const struct boot_image *img, const char *cmdline)
{
	return (struct x86_boot_setup){
		.img = img,
		.cmdline = cmdline,
		.ncpus = 2,
		.cpu_signature = 0x806f8,
		.cpu_features = 0x178bfbff,
	};
}

static void check_common(const struct guest_mem *mem, const char *cmdline)
{
	uint16_t ebda_seg = 0;
	const uint8_t *mpf = guest_mem_ptr(mem, X86_EBDA_ADDR, 16);
	const uint64_t *pml4 = guest_mem_ptr(mem, X86_PML4_ADDR, 8);
	const uint64_t *gdt = guest_mem_ptr(mem, X86_GDT_ADDR, 5 * 8);

	assert_string_equal((const char *)guest_mem_ptr(mem, X86_CMDLINE_ADDR, 1), cmdline);
	assert_memory_equal(mpf, "_MP_", 4);
	assert_int_equal(guest_mem_read(mem, 0x40e, &ebda_seg, 2), 0);
	assert_int_equal(ebda_seg, X86_EBDA_ADDR >> 4);
	assert_int_equal(pml4[0] & ~0xfffULL, X86_PDPT_ADDR);
	assert_int_not_equal(gdt[X86_GDT_CODE_SEL / 8], 0);
}

static void test_linux64_zero_page(void **state)
{
	struct guest_mem *mem = *state;
	struct boot_image img;
	struct x86_boot_setup s;
	const struct boot_params *bp;
	uint64_t param = 0;
	char err[256] = "";

	linux64_image(&img);
	s = setup_for(&img, CMDLINE);
	s.initrd_addr = MiB(12);
	s.initrd_size = 123456;
	memset(guest_mem_ptr(mem, X86_ZERO_PAGE_ADDR, 4096), 0xcc, 4096);
	assert_int_equal(x86_boot_setup(mem, &s, &param, err, sizeof(err)), 0);
	assert_int_equal(param, X86_ZERO_PAGE_ADDR);
	bp = guest_mem_ptr(mem, X86_ZERO_PAGE_ADDR, sizeof(*bp));
	assert_non_null(bp);
	assert_int_equal(bp->hdr.cmd_line_ptr, X86_CMDLINE_ADDR);
	assert_int_equal(bp->ext_cmd_line_ptr, 0);
	assert_int_equal(bp->hdr.ramdisk_image, MiB(12));
	assert_int_equal(bp->hdr.ramdisk_size, 123456);
	assert_int_equal(bp->ext_ramdisk_image, 0);
	assert_int_equal(bp->ext_ramdisk_size, 0);
	assert_int_equal(bp->hdr.type_of_loader, 0xff);
	assert_true(bp->hdr.loadflags & LOADED_HIGH);
	/* The image's own header is carried over. */
	assert_int_equal(bp->hdr.version, 0x020f);
	assert_int_equal(bp->hdr.boot_flag, 0xaa55);
	assert_int_equal(bp->hdr.header, 0x53726448);
	/* e820 as e820_build makes it, and the rest of the page zeroed. */
	assert_int_equal(bp->e820_entries, 3);
	assert_int_equal(bp->e820_table[0].addr, 0);
	assert_int_equal(bp->e820_table[0].type, E820_TYPE_RAM);
	assert_int_equal(bp->e820_table[1].addr, X86_EBDA_ADDR);
	assert_int_equal(bp->e820_table[1].type, E820_TYPE_RESERVED);
	assert_int_equal(bp->e820_table[2].addr, X86_HIMEM_START);
	assert_int_equal(bp->e820_table[2].size, RAM - X86_HIMEM_START);
	assert_int_equal(bp->e820_table[3].size, 0);
	assert_int_equal(bp->screen_info.orig_video_isVGA, 0);
	check_common(mem, CMDLINE);
}

static void test_linux64_no_initrd(void **state)
{
	struct guest_mem *mem = *state;
	struct boot_image img;
	struct x86_boot_setup s;
	const struct boot_params *bp;
	uint64_t param = 0;
	char err[256] = "";

	linux64_image(&img);
	s = setup_for(&img, "");
	assert_int_equal(x86_boot_setup(mem, &s, &param, err, sizeof(err)), 0);
	bp = guest_mem_ptr(mem, X86_ZERO_PAGE_ADDR, sizeof(*bp));
	assert_int_equal(bp->hdr.ramdisk_image, 0);
	assert_int_equal(bp->hdr.ramdisk_size, 0);
	check_common(mem, "");
}

static void test_pvh_start_info(void **state)
{
	struct guest_mem *mem = *state;
	struct boot_image img;
	struct x86_boot_setup s;
	const struct hvm_start_info *si;
	const struct hvm_memmap_table_entry *mm;
	const struct hvm_modlist_entry *mod;
	uint64_t param = 0;
	char err[256] = "";

	pvh_image(&img);
	s = setup_for(&img, CMDLINE);
	s.initrd_addr = MiB(8);
	s.initrd_size = 4096;
	assert_int_equal(x86_boot_setup(mem, &s, &param, err, sizeof(err)), 0);
	assert_int_equal(param, X86_PVH_INFO_ADDR);
	si = guest_mem_ptr(mem, X86_PVH_INFO_ADDR, sizeof(*si));
	assert_int_equal(si->magic, HVM_START_MAGIC);
	assert_int_equal(si->version, 1);
	assert_int_equal(si->cmdline_paddr, X86_CMDLINE_ADDR);
	assert_int_equal(si->memmap_paddr, X86_PVH_MEMMAP_ADDR);
	assert_int_equal(si->memmap_entries, 3);
	assert_int_equal(si->rsdp_paddr, 0);
	mm = guest_mem_ptr(mem, si->memmap_paddr, si->memmap_entries * sizeof(*mm));
	assert_non_null(mm);
	assert_int_equal(mm[0].addr, 0);
	assert_int_equal(mm[0].size, X86_EBDA_ADDR);
	assert_int_equal(mm[0].type, E820_TYPE_RAM);
	assert_int_equal(mm[1].type, E820_TYPE_RESERVED);
	assert_int_equal(mm[2].addr, X86_HIMEM_START);
	assert_int_equal(mm[2].size, RAM - X86_HIMEM_START);
	assert_int_equal(si->nr_modules, 1);
	assert_int_equal(si->modlist_paddr, X86_PVH_MODLIST_ADDR);
	mod = guest_mem_ptr(mem, si->modlist_paddr, sizeof(*mod));
	assert_int_equal(mod->paddr, MiB(8));
	assert_int_equal(mod->size, 4096);
	check_common(mem, CMDLINE);
}

static void test_pvh_no_initrd(void **state)
{
	struct guest_mem *mem = *state;
	struct boot_image img;
	struct x86_boot_setup s;
	const struct hvm_start_info *si;
	uint64_t param = 0;
	char err[256] = "";

	pvh_image(&img);
	s = setup_for(&img, CMDLINE);
	assert_int_equal(x86_boot_setup(mem, &s, &param, err, sizeof(err)), 0);
	si = guest_mem_ptr(mem, X86_PVH_INFO_ADDR, sizeof(*si));
	assert_int_equal(si->nr_modules, 0);
	assert_int_equal(si->modlist_paddr, 0);
}

static void test_cmdline_limit_from_header(void **state)
{
	struct guest_mem *mem = *state;
	struct boot_image img;
	struct x86_boot_setup s;
	uint64_t param = 0;
	char err[256] = "";
	char line[32];

	linux64_image(&img);
	img.cmdline_max = 10;
	memset(line, 'a', sizeof(line));
	line[10] = '\0'; /* exactly the limit */
	s = setup_for(&img, line);
	assert_int_equal(x86_boot_setup(mem, &s, &param, err, sizeof(err)), 0);
	line[10] = 'a';
	line[11] = '\0'; /* one more */
	assert_int_equal(x86_boot_setup(mem, &s, &param, err, sizeof(err)), -E2BIG);
	assert_non_null(strstr(err, "command line"));
	assert_non_null(strstr(err, "11"));
}

static void test_cmdline_too_long_pvh(void **state)
{
	struct guest_mem *mem = *state;
	struct boot_image img;
	struct x86_boot_setup s;
	uint64_t param = 0;
	char err[256] = "";
	char *line = malloc(X86_CMDLINE_MAX + 1);

	assert_non_null(line);
	memset(line, 'x', X86_CMDLINE_MAX);
	line[X86_CMDLINE_MAX] = '\0';
	pvh_image(&img);
	s = setup_for(&img, line);
	assert_int_equal(x86_boot_setup(mem, &s, &param, err, sizeof(err)), -E2BIG);
	line[X86_CMDLINE_MAX - 1] = '\0';
	assert_int_equal(x86_boot_setup(mem, &s, &param, err, sizeof(err)), 0);
	free(line);
}

static void test_bad_cpu_count(void **state)
{
	struct guest_mem *mem = *state;
	struct boot_image img;
	struct x86_boot_setup s;
	uint64_t param = 0;
	char err[256] = "";

	pvh_image(&img);
	s = setup_for(&img, CMDLINE);
	s.ncpus = 0;
	assert_int_equal(x86_boot_setup(mem, &s, &param, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "MP table"));
}

static void test_ram_too_small(void **state)
{
	struct guest_mem mem;
	struct boot_image img;
	struct x86_boot_setup s;
	uint64_t param = 0;
	char err[256] = "";

	(void)state;
	assert_int_equal(guest_mem_init(&mem, KiB(64)), 0);
	pvh_image(&img);
	s = setup_for(&img, CMDLINE);
	assert_int_equal(x86_boot_setup(&mem, &s, &param, err, sizeof(err)), -EFAULT);
	assert_non_null(strstr(err, "too small"));
	guest_mem_destroy(&mem);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_linux64_zero_page, mem_setup, mem_teardown),
		cmocka_unit_test_setup_teardown(test_linux64_no_initrd, mem_setup, mem_teardown),
		cmocka_unit_test_setup_teardown(test_pvh_start_info, mem_setup, mem_teardown),
		cmocka_unit_test_setup_teardown(test_pvh_no_initrd, mem_setup, mem_teardown),
		cmocka_unit_test_setup_teardown(test_cmdline_limit_from_header, mem_setup,
						mem_teardown),
		cmocka_unit_test_setup_teardown(test_cmdline_too_long_pvh, mem_setup, mem_teardown),
		cmocka_unit_test_setup_teardown(test_bad_cpu_count, mem_setup, mem_teardown),
		cmocka_unit_test(test_ram_too_small),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
