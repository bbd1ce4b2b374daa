/* SPDX-License-Identifier: MIT */
/*
 * blk_bench - virtio-blk benchmark whose hot loops run in guest user mode.
 *
 * On kvm_pvm hosts guest kernel code runs in KVM's instruction emulator
 * (about 1 us per instruction), so a kernel-mode driver would measure the
 * emulator.  This guest switches to long mode (lib/start64.S), drops to
 * user mode (CPL3, native speed there) and drives the first virtio-blk
 * device over virtio-mmio from there: a virtio 1.x driver with one split
 * queue, polling the used ring (no interrupts).  Only the queue-notify
 * MMIO exits and the VMM's own device work are on the clock.
 *
 * What user mode can and cannot do on kvm_pvm (found by experiment, see
 * README.md): RFLAGS.IOPL is always 0 there whatever iretq asked for, so
 * port I/O works only through the TSS I/O bitmap (lib/gt64.c), and then
 * at 60-120 us per access, 5-7 times the cost in kernel mode; int $N
 * raises #UD at the int; rdtsc, MMIO (virtio-mmio, the boot-marker
 * page), ud2 and int3 (#BP) work.  So each benchmark phase runs as one
 * gt64_enter_user() call that writes its report into a buffer, and kernel
 * mode prints the buffer to COM1 between phases (outside the timed loops)
 * and powers off at the end.  One line is printed from user mode itself,
 * to show that the I/O bitmap works.
 *
 * Phases: set-up (find the device, negotiate, queue), the cost of one
 * MMIO read and one queue notify, sequential write of
 * a pattern, sequential read (checks the sector tags), verify (reads
 * everything again and compares every byte), random 4 KiB reads at queue
 * depth 1 and at the chosen depth (checking tags).  Any error prints
 * "blk_bench: FAIL: ..." and ends the guest with a triple fault (osprey
 * exit status 3).
 *
 * Kernel command line options (all optional):
 *   blk_bench.mib=N      area written and read, MiB (default 64)
 *   blk_bench.qd=N       queue depth of the deep runs, 1-32 (default 16)
 *   blk_bench.ios=N      random reads per random run (default 4000)
 *   blk_bench.flush=1    negotiate VIRTIO_BLK_F_FLUSH if offered and time
 *                        one FLUSH after the write pass (default 0:
 *                        VIRTIO_F_VERSION_1 only)
 *   blk_bench.tsc_khz=N  TSC frequency, instead of kvmclock's
 *   blk_bench.markers=0  no boot-marker writes around the timed loops
 *   blk_bench.reseed=1   change the pattern after the write pass, so the
 *                        read pass must fail (tests the check itself)
 * The device: the first virtio_mmio.device=SIZE@ADDR:IRQ on the command
 * line whose device ID is 2, else the first one found probing the 4 KiB
 * windows from 0xd0001000.
 */
#include "gt64.h"

#define SECTOR 512
#define SEQ_BS (64 * 1024)
#define RAND_BS 4096
#define MAX_QD 32
#define QSIZE_WANT 128
#define WORDS_PER_SECTOR (SECTOR / 8)

/* virtio-mmio registers (virtio 1.x, 4.2.2) */
#define VM_MAGIC 0x000
#define VM_VERSION 0x004
#define VM_DEVICE_ID 0x008
#define VM_DEVICE_FEATURES 0x010
#define VM_DEVICE_FEATURES_SEL 0x014
#define VM_DRIVER_FEATURES 0x020
#define VM_DRIVER_FEATURES_SEL 0x024
#define VM_QUEUE_SEL 0x030
#define VM_QUEUE_NUM_MAX 0x034
#define VM_QUEUE_NUM 0x038
#define VM_QUEUE_READY 0x044
#define VM_QUEUE_NOTIFY 0x050
#define VM_STATUS 0x070
#define VM_QUEUE_DESC_LOW 0x080
#define VM_QUEUE_DESC_HIGH 0x084
#define VM_QUEUE_AVAIL_LOW 0x090
#define VM_QUEUE_AVAIL_HIGH 0x094
#define VM_QUEUE_USED_LOW 0x0a0
#define VM_QUEUE_USED_HIGH 0x0a4
#define VM_CONFIG 0x100
#define VM_MAGIC_VALUE 0x74726976 /* "virt" */

#define ST_ACKNOWLEDGE 1
#define ST_DRIVER 2
#define ST_DRIVER_OK 4
#define ST_FEATURES_OK 8
#define ST_NEEDS_RESET 0x40
#define ST_FAILED 0x80

#define VIRTIO_ID_BLOCK 2
#define F_VERSION_1_HI (1U << 0) /* bit 32 */
#define F_BLK_FLUSH (1U << 9)

#define VIRTQ_DESC_F_NEXT 1
#define VIRTQ_DESC_F_WRITE 2
#define VIRTQ_AVAIL_F_NO_INTERRUPT 1
#define VIRTQ_USED_F_NO_NOTIFY 1

#define BLK_T_IN 0
#define BLK_T_OUT 1
#define BLK_T_FLUSH 4

struct vq_desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
	uint16_t next;
};
struct vq_avail {
	uint16_t flags;
	uint16_t idx;
	uint16_t ring[QSIZE_WANT];
};
struct vq_used_elem {
	uint32_t id;
	uint32_t len;
};
struct vq_used {
	uint16_t flags;
	uint16_t idx;
	struct vq_used_elem ring[QSIZE_WANT];
};
struct blk_hdr {
	uint32_t type;
	uint32_t reserved;
	uint64_t sector;
};

/* ---- memory (not loaded, not zeroed: user mode clears what it needs) ---- */
#define BIG __attribute__((section(".bigbss")))
static uint8_t ustack[64 * 1024] BIG __attribute__((aligned(16)));
static struct vq_desc vq_desc[QSIZE_WANT] BIG __attribute__((aligned(4096)));
static struct vq_avail vq_avail BIG __attribute__((aligned(4096)));
static struct vq_used vq_used BIG __attribute__((aligned(4096)));
static struct blk_hdr hdrs[MAX_QD] BIG __attribute__((aligned(64)));
static uint8_t statuses[MAX_QD] BIG __attribute__((aligned(64)));
static uint64_t bufs[MAX_QD][SEQ_BS / 8] BIG __attribute__((aligned(4096)));

/* ---- state shared by kernel and user mode -------------------------------- */
struct bench {
	const struct osprey_hvm_start_info *si;
	/* options */
	uint64_t mib, qd, ios, tsc_khz;
	int want_flush, markers, reseed;
	const char *tsc_src;
	/* device */
	uint64_t base, irq, capacity;
	uint32_t qsize, features_lo;
	uint16_t avail_idx, used_last;
	uint64_t seed;
	uint64_t kicks, polls;
	/* the current phase's report, printed by kernel mode */
	char out[2048];
	unsigned out_len;
};

static struct bench B;

/* ---- report buffer (user mode: no port I/O there) ------------------------ */
static void out_c(char c)
{
	if (B.out_len < sizeof(B.out) - 1)
		B.out[B.out_len++] = c;
}
static void out_s(const char *s)
{
	while (*s)
		out_c(*s++);
}
static void out_u(uint64_t v)
{
	char buf[20];
	int n = 0;

	do {
		buf[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	while (n)
		out_c(buf[--n]);
}
static void out_x(uint64_t v)
{
	int shift = 60;

	out_s("0x");
	while (shift > 0 && !(v >> shift))
		shift -= 4;
	for (; shift >= 0; shift -= 4)
		out_c("0123456789abcdef"[(v >> shift) & 0xf]);
}
/* v / 10 with one decimal: 12345 -> "1234.5" */
static void out_tenths(uint64_t v)
{
	out_u(v / 10);
	out_c('.');
	out_c((char)('0' + v % 10));
}

/* ---- command line --------------------------------------------------------- */
static const char *cmdline(void)
{
	if (!B.si->cmdline_paddr || B.si->cmdline_paddr >= (1ULL << 32))
		return "";
	return phys_ptr(B.si->cmdline_paddr);
}

static void parse_options(void)
{
	const char *c = cmdline(), *v;

	for (unsigned n = 0; *c && n < 4096;) {
		while (gt_is_space(*c))
			c++;
		if ((v = gt_word_value(c, "blk_bench.mib=")))
			B.mib = gt_parse_num(&v);
		else if ((v = gt_word_value(c, "blk_bench.qd=")))
			B.qd = gt_parse_num(&v);
		else if ((v = gt_word_value(c, "blk_bench.ios=")))
			B.ios = gt_parse_num(&v);
		else if ((v = gt_word_value(c, "blk_bench.flush=")))
			B.want_flush = gt_parse_num(&v) != 0;
		else if ((v = gt_word_value(c, "blk_bench.reseed=")))
			B.reseed = gt_parse_num(&v) != 0;
		else if ((v = gt_word_value(c, "blk_bench.markers=")))
			B.markers = gt_parse_num(&v) != 0;
		else if ((v = gt_word_value(c, "blk_bench.tsc_khz="))) {
			B.tsc_khz = gt_parse_num(&v);
			B.tsc_src = "command line";
		}
		while (*c && !gt_is_space(*c)) {
			c++;
			n++;
		}
	}
}

static uint32_t rd(uint32_t off)
{
	return mmio_read32((uint32_t)B.base + off);
}
static void wr(uint32_t off, uint32_t v)
{
	mmio_write32((uint32_t)B.base + off, v);
}

static int window_is_blk(uint64_t base)
{
	return mmio_read32((uint32_t)base + VM_MAGIC) == VM_MAGIC_VALUE &&
	       mmio_read32((uint32_t)base + VM_DEVICE_ID) == VIRTIO_ID_BLOCK;
}

/* virtio_mmio.device=<size>[KMG]@<base>:<irq>: the first virtio-blk one. */
static int find_device(void)
{
	const char *c = cmdline(), *v;

	while (*c) {
		while (gt_is_space(*c))
			c++;
		if ((v = gt_word_value(c, "virtio_mmio.device="))) {
			uint64_t base, irq;

			(void)gt_parse_num(&v);
			if (*v == 'K' || *v == 'k' || *v == 'M' || *v == 'm' || *v == 'G' ||
			    *v == 'g')
				v++;
			if (*v++ == '@') {
				base = gt_parse_num(&v);
				irq = *v == ':' ? (v++, gt_parse_num(&v)) : 0;
				if (base >= 0xc0000000 && base < 0xfff00000 && window_is_blk(base)) {
					B.base = base;
					B.irq = irq;
					return 0;
				}
			}
		}
		while (*c && !gt_is_space(*c))
			c++;
	}
	/* Nothing announced: probe osprey's windows. */
	for (uint64_t base = 0xd0001000; base < 0xd0021000; base += 0x1000) {
		if (window_is_blk(base)) {
			B.base = base;
			B.irq = 0;
			return 0;
		}
	}
	return -1;
}

#define FAIL(msg)                              \
	do {                                   \
		out_s("blk_bench: FAIL: " msg); \
		return -1;                     \
	} while (0)

/* ---- virtio set-up --------------------------------------------------------- */
static int virtio_setup(void)
{
	uint32_t st, hi, lo, qmax;
	uint64_t q;

	if (rd(VM_VERSION) != 2)
		FAIL("virtio-mmio version is not 2 (legacy device)\n");
	wr(VM_STATUS, 0);
	for (unsigned i = 0; rd(VM_STATUS) != 0; i++)
		if (i > 1000)
			FAIL("device does not reset\n");
	wr(VM_STATUS, ST_ACKNOWLEDGE);
	wr(VM_STATUS, ST_ACKNOWLEDGE | ST_DRIVER);
	wr(VM_DEVICE_FEATURES_SEL, 1);
	hi = rd(VM_DEVICE_FEATURES);
	wr(VM_DEVICE_FEATURES_SEL, 0);
	lo = rd(VM_DEVICE_FEATURES);
	if (!(hi & F_VERSION_1_HI))
		FAIL("device does not offer VIRTIO_F_VERSION_1\n");
	B.features_lo = B.want_flush ? lo & F_BLK_FLUSH : 0;
	wr(VM_DRIVER_FEATURES_SEL, 0);
	wr(VM_DRIVER_FEATURES, B.features_lo);
	wr(VM_DRIVER_FEATURES_SEL, 1);
	wr(VM_DRIVER_FEATURES, F_VERSION_1_HI);
	wr(VM_STATUS, ST_ACKNOWLEDGE | ST_DRIVER | ST_FEATURES_OK);
	if (!(rd(VM_STATUS) & ST_FEATURES_OK))
		FAIL("device refused the features (FEATURES_OK not set)\n");

	wr(VM_QUEUE_SEL, 0);
	if (rd(VM_QUEUE_READY))
		FAIL("queue 0 already live after reset\n");
	qmax = rd(VM_QUEUE_NUM_MAX);
	B.qsize = QSIZE_WANT;
	while (B.qsize > qmax)
		B.qsize >>= 1;
	if (B.qsize < 4)
		FAIL("queue 0 too small\n");
	if (B.qd * 3 > B.qsize)
		B.qd = B.qsize / 3;
	memset(vq_desc, 0, sizeof(vq_desc));
	memset(&vq_avail, 0, sizeof(vq_avail));
	memset(&vq_used, 0, sizeof(vq_used));
	/* No interrupts: we poll the used ring. */
	vq_avail.flags = VIRTQ_AVAIL_F_NO_INTERRUPT;
	wr(VM_QUEUE_NUM, B.qsize);
	q = (uint64_t)(uintptr_t)vq_desc;
	wr(VM_QUEUE_DESC_LOW, (uint32_t)q);
	wr(VM_QUEUE_DESC_HIGH, (uint32_t)(q >> 32));
	q = (uint64_t)(uintptr_t)&vq_avail;
	wr(VM_QUEUE_AVAIL_LOW, (uint32_t)q);
	wr(VM_QUEUE_AVAIL_HIGH, (uint32_t)(q >> 32));
	q = (uint64_t)(uintptr_t)&vq_used;
	wr(VM_QUEUE_USED_LOW, (uint32_t)q);
	wr(VM_QUEUE_USED_HIGH, (uint32_t)(q >> 32));
	wr(VM_QUEUE_READY, 1);
	if (rd(VM_QUEUE_READY) != 1)
		FAIL("queue 0 not ready\n");
	wr(VM_STATUS, ST_ACKNOWLEDGE | ST_DRIVER | ST_FEATURES_OK | ST_DRIVER_OK);
	st = rd(VM_STATUS);
	if (!(st & ST_DRIVER_OK) || (st & (ST_NEEDS_RESET | ST_FAILED)))
		FAIL("device did not take DRIVER_OK\n");
	/* capacity: 64 bits at config offset 0, read as two halves */
	lo = rd(VM_CONFIG);
	hi = rd(VM_CONFIG + 4);
	B.capacity = ((uint64_t)hi << 32) | lo;

	/* Slot k owns descriptors 3k (header), 3k+1 (data), 3k+2 (status). */
	for (unsigned k = 0; k < MAX_QD && 3 * k + 2 < B.qsize; k++) {
		struct vq_desc *d = &vq_desc[3 * k];

		d[0].addr = (uint64_t)(uintptr_t)&hdrs[k];
		d[0].len = sizeof(hdrs[k]);
		d[0].flags = VIRTQ_DESC_F_NEXT;
		d[0].next = (uint16_t)(3 * k + 1);
		d[1].addr = (uint64_t)(uintptr_t)bufs[k];
		d[1].flags = VIRTQ_DESC_F_NEXT;
		d[1].next = (uint16_t)(3 * k + 2);
		d[2].addr = (uint64_t)(uintptr_t)&statuses[k];
		d[2].len = 1;
		d[2].flags = VIRTQ_DESC_F_WRITE;
	}
	return 0;
}

/* ---- requests ---------------------------------------------------------------- */
static void submit(unsigned slot, uint32_t type, uint64_t sector, uint32_t len)
{
	struct vq_desc *d = &vq_desc[3 * slot];

	hdrs[slot].type = type;
	hdrs[slot].reserved = 0;
	hdrs[slot].sector = sector;
	statuses[slot] = 0xff;
	if (type == BLK_T_FLUSH) {
		d[0].next = (uint16_t)(3 * slot + 2);
	} else {
		d[0].next = (uint16_t)(3 * slot + 1);
		d[1].len = len;
		d[1].flags = (uint16_t)(VIRTQ_DESC_F_NEXT | (type == BLK_T_IN ? VIRTQ_DESC_F_WRITE : 0));
	}
	vq_avail.ring[B.avail_idx % B.qsize] = (uint16_t)(3 * slot);
	barrier();
	B.avail_idx++;
	*(volatile uint16_t *)&vq_avail.idx = B.avail_idx;
}

/* Notifies the device unless it said it is already looking (NO_NOTIFY). */
static void kick(void)
{
	mb(); /* avail->idx store before the used->flags load */
	if (!(*(volatile uint16_t *)&vq_used.flags & VIRTQ_USED_F_NO_NOTIFY)) {
		wr(VM_QUEUE_NOTIFY, 0);
		B.kicks++;
	}
}

/* Waits for the next used entry; returns its slot, or -1 after 10 s. */
static int reap(void)
{
	uint64_t t0 = 0, limit = B.tsc_khz ? B.tsc_khz * 10000 : 30000000000ULL;
	uint32_t id;

	while (*(volatile uint16_t *)&vq_used.idx == B.used_last) {
		B.polls++;
		if (!t0)
			t0 = rdtsc();
		else if (rdtsc() - t0 > limit)
			return -1;
		__asm__ volatile("pause");
	}
	barrier();
	id = vq_used.ring[B.used_last % B.qsize].id;
	B.used_last++;
	if (id % 3 || id / 3 >= B.qd)
		return -2;
	return (int)(id / 3);
}

/* ---- data pattern -------------------------------------------------------------
 * Sector s: word 0 = tag(s), word 63 = ~tag(s), words 1-62 fixed per word
 * index; the seed is the TSC at start-up, so stale data from an earlier
 * run cannot pass. */
static uint64_t tag(uint64_t sector)
{
	return (sector * 0x9e3779b97f4a7c15ULL) ^ B.seed;
}
static uint64_t fixed_word(unsigned i)
{
	return (i * 0x0101010101010101ULL) ^ (B.seed >> 7) ^ 0x6f73707265790000ULL;
}
static void fill_fixed(uint64_t *buf, unsigned bytes)
{
	for (unsigned s = 0; s < bytes / SECTOR; s++)
		for (unsigned i = 1; i < WORDS_PER_SECTOR - 1; i++)
			buf[s * WORDS_PER_SECTOR + i] = fixed_word(i);
}
static void put_tags(uint64_t *buf, uint64_t sector, unsigned bytes)
{
	for (unsigned s = 0; s < bytes / SECTOR; s++) {
		buf[s * WORDS_PER_SECTOR] = tag(sector + s);
		buf[s * WORDS_PER_SECTOR + WORDS_PER_SECTOR - 1] = ~tag(sector + s);
	}
}

static int mismatch(uint64_t sector, unsigned word, uint64_t got, uint64_t want)
{
	out_s("blk_bench: FAIL: data mismatch at sector ");
	out_u(sector);
	out_s(" word ");
	out_u(word);
	out_s(": got ");
	out_x(got);
	out_s(" want ");
	out_x(want);
	out_s("\n");
	return -1;
}

/* full: every word; else the two tag words of each sector. */
static int check(const uint64_t *buf, uint64_t sector, unsigned bytes, int full)
{
	for (unsigned s = 0; s < bytes / SECTOR; s++) {
		const uint64_t *w = buf + s * WORDS_PER_SECTOR;
		uint64_t t = tag(sector + s);

		if (w[0] != t)
			return mismatch(sector + s, 0, w[0], t);
		if (w[WORDS_PER_SECTOR - 1] != ~t)
			return mismatch(sector + s, WORDS_PER_SECTOR - 1, w[WORDS_PER_SECTOR - 1], ~t);
		if (!full)
			continue;
		for (unsigned i = 1; i < WORDS_PER_SECTOR - 1; i++)
			if (w[i] != fixed_word(i))
				return mismatch(sector + s, i, w[i], fixed_word(i));
	}
	return 0;
}

static int bad_completion(int slot)
{
	if (slot == -1)
		out_s("blk_bench: FAIL: no completion within 10 s\n");
	else if (slot < 0)
		out_s("blk_bench: FAIL: used ring entry with a head we never made\n");
	else {
		out_s("blk_bench: FAIL: request status ");
		out_u(statuses[slot]);
		out_s(" at sector ");
		out_u(hdrs[slot].sector);
		out_s("\n");
	}
	return -1;
}

static void marker(uint32_t v)
{
	if (B.markers)
		boot_marker_mmio(v);
}

/* ---- timed runs ------------------------------------------------------------- */
struct run {
	const char *name; /* "seqread 64KiB qd16" etc. are built from these */
	uint32_t type;
	unsigned bs, qd;
	uint64_t n;	/* requests */
	int random, full_check, report;
	uint32_t marker;
};

static uint64_t lcg;
static uint64_t next_sector(const struct run *r, uint64_t i)
{
	uint64_t blocks = B.mib * (1024 * 1024 / r->bs);

	if (!r->random)
		return i * (r->bs / SECTOR);
	lcg = lcg * 6364136223846793005ULL + 1442695040888963407ULL;
	return ((lcg >> 24) % blocks) * (r->bs / SECTOR);
}

static void report(const struct run *r, uint64_t cycles)
{
	uint64_t us = B.tsc_khz ? cycles * 1000 / B.tsc_khz : 0;
	uint64_t bytes = r->n * r->bs;

	out_s("blk_bench: ");
	out_s(r->name);
	out_c(' ');
	out_u(r->bs / 1024);
	out_s("KiB qd");
	out_u(r->qd);
	out_s(": ");
	if (!us)
		out_s("n/a");
	else if (r->random)
		out_u(r->n * 1000000 / us);
	else
		out_tenths(bytes * 10 / us);
	out_s(r->random ? " IOPS" : " MB/s");
	out_s(" (");
	out_u(r->n);
	out_s(" requests, ");
	out_u(bytes / 1024);
	out_s(" KiB, ");
	out_u(us);
	out_s(" us, ");
	out_u(cycles);
	out_s(" cycles");
	if (us && r->qd == 1) {
		out_s(", ");
		out_tenths(us * 10 / r->n);
		out_s(" us/request");
	}
	out_s(", ");
	out_u(B.kicks);
	out_s(" kicks)\n");
}

static int run(const struct run *r)
{
	uint64_t submitted = 0, done = 0, t0, t1;
	uint64_t sector_of[MAX_QD];
	unsigned qd = r->qd;

	if (r->type == BLK_T_OUT)
		for (unsigned k = 0; k < qd; k++)
			fill_fixed(bufs[k], r->bs);
	B.kicks = B.polls = 0;
	lcg = B.seed;
	marker(r->marker);
	t0 = rdtsc();
	for (; submitted < qd && submitted < r->n; submitted++) {
		unsigned k = (unsigned)submitted;

		sector_of[k] = next_sector(r, submitted);
		if (r->type == BLK_T_OUT)
			put_tags(bufs[k], sector_of[k], r->bs);
		submit(k, r->type, sector_of[k], r->bs);
	}
	kick();
	while (done < r->n) {
		int slot = reap(), more = 0;

		for (;;) {
			if (slot < 0 || statuses[slot] != 0)
				return bad_completion(slot);
			done++;
			if (r->type == BLK_T_IN &&
			    check(bufs[slot], sector_of[slot], r->bs, r->full_check))
				return -1;
			if (submitted < r->n) {
				sector_of[slot] = next_sector(r, submitted++);
				if (r->type == BLK_T_OUT)
					put_tags(bufs[slot], sector_of[slot], r->bs);
				submit((unsigned)slot, r->type, sector_of[slot], r->bs);
				more = 1;
			}
			/* Take whatever else completed before kicking once. */
			if (*(volatile uint16_t *)&vq_used.idx == B.used_last)
				break;
			slot = reap();
		}
		if (more)
			kick();
	}
	t1 = rdtsc();
	marker(r->marker + 1);
	if (r->report)
		report(r, t1 - t0);
	return 0;
}

/* ---- phases (each one gt64_enter_user() call) ------------------------------ */
static int phase_setup(void)
{
	parse_options();
	if (B.qd < 1)
		B.qd = 1;
	if (B.qd > MAX_QD)
		B.qd = MAX_QD;
	if (B.mib < 1)
		B.mib = 1;
	if (B.ios < 1)
		B.ios = 1;
	B.seed = rdtsc() | 1;
	print("blk_bench: user mode (CPL3): this line is printed from there\n");
	out_s("blk_bench: user mode (CPL3), tsc ");
	out_u(B.tsc_khz);
	out_s(" kHz (");
	out_s(B.tsc_khz ? B.tsc_src : "unknown: figures in cycles only");
	out_s(")\n");
	if (find_device())
		FAIL("no virtio-blk device (virtio_mmio.device= or a probe from 0xd0001000)\n");
	if (virtio_setup())
		return -1;
	out_s("blk_bench: virtio-blk at ");
	out_x(B.base);
	out_s(" irq ");
	out_u(B.irq);
	out_s(", ");
	out_u(B.capacity);
	out_s(" sectors, queue ");
	out_u(B.qsize);
	out_s(", features VERSION_1");
	if (B.features_lo & F_BLK_FLUSH)
		out_s(" FLUSH");
	out_s(", polling (no interrupts)\n");
	if (B.capacity < B.mib * 2048)
		FAIL("disk smaller than blk_bench.mib\n");
	out_s("blk_bench: area ");
	out_u(B.mib);
	out_s(" MiB, qd ");
	out_u(B.qd);
	out_s(", ");
	out_u(B.ios);
	out_s(" random reads per run\n");
	/* Touch every buffer page once, so first-use faults stay off the clock. */
	memset(bufs, 0, sizeof(bufs));
	return 0;
}

/* The exit costs under everything else: an MMIO read of a virtio-mmio
 * register (a KVM_EXIT_MMIO round trip to the VMM's vCPU thread) and a
 * QueueNotify write with nothing new in the ring (KVM signals the
 * ioeventfd and resumes the guest; the device thread finds no work). */
static void out_per_op(uint64_t cycles, uint64_t n)
{
	if (B.tsc_khz) {
		out_tenths(cycles * 10000 / B.tsc_khz / n);
		out_s(" us (");
	} else {
		out_s("n/a (");
	}
	out_u(cycles / n);
	out_s(" cycles)");
}

static int phase_exits(void)
{
	const uint64_t n = 1000;
	uint64_t t0, t1, t2;

	marker(90);
	t0 = rdtsc();
	for (uint64_t i = 0; i < n; i++)
		(void)rd(VM_VERSION);
	t1 = rdtsc();
	for (uint64_t i = 0; i < n; i++)
		wr(VM_QUEUE_NOTIFY, 0);
	t2 = rdtsc();
	marker(91);
	out_s("blk_bench: exits: mmio read ");
	out_per_op(t1 - t0, n);
	out_s(", queue notify ");
	out_per_op(t2 - t1, n);
	out_s(", ");
	out_u(n);
	out_s(" each\n");
	return 0;
}

static int phase_seqwrite(void)
{
	struct run r = { "seqwrite", BLK_T_OUT, SEQ_BS, (unsigned)B.qd,
			 B.mib * 1024 * 1024 / SEQ_BS, 0, 0, 1, 100 };
	uint64_t t0, t1;
	int slot;

	if (run(&r))
		return -1;
	if (B.reseed)
		B.seed ^= 0x10000; /* what was written no longer matches */
	if (!(B.features_lo & F_BLK_FLUSH))
		return 0;
	B.kicks = 0;
	marker(r.marker + 2);
	t0 = rdtsc();
	submit(0, BLK_T_FLUSH, 0, 0);
	kick();
	slot = reap();
	t1 = rdtsc();
	marker(r.marker + 3);
	if (slot != 0 || statuses[0] != 0)
		return bad_completion(slot);
	out_s("blk_bench: flush: ");
	out_u(B.tsc_khz ? (t1 - t0) * 1000 / B.tsc_khz : 0);
	out_s(" us (");
	out_u(t1 - t0);
	out_s(" cycles)\n");
	return 0;
}

static int phase_seqread(void)
{
	struct run r = { "seqread", BLK_T_IN, SEQ_BS, (unsigned)B.qd,
			 B.mib * 1024 * 1024 / SEQ_BS, 0, 0, 1, 110 };

	return run(&r);
}

static int phase_verify(void)
{
	struct run r = { "verify", BLK_T_IN, SEQ_BS, (unsigned)B.qd,
			 B.mib * 1024 * 1024 / SEQ_BS, 0, 1, 0, 120 };

	if (run(&r))
		return -1;
	out_s("blk_bench: verify ");
	out_u(B.mib);
	out_s(" MiB: data ok\n");
	return 0;
}

static int phase_randread_qd1(void)
{
	struct run r = { "randread", BLK_T_IN, RAND_BS, 1, B.ios, 1, 1, 1, 130 };

	return run(&r);
}

static int phase_randread_qd(void)
{
	struct run r = { "randread", BLK_T_IN, RAND_BS, (unsigned)B.qd, B.ios, 1, 1, 1, 140 };

	return run(&r);
}

static int (*const phases[])(void) = {
	phase_setup, phase_exits, phase_seqwrite, phase_seqread, phase_verify, phase_randread_qd1,
	phase_randread_qd,
};

static uint64_t user_phase(void *arg)
{
	return (uint64_t)(int64_t)phases[(uintptr_t)arg]();
}

/* ---- kernel mode --------------------------------------------------------- */
void test_main(const struct osprey_hvm_start_info *si)
{
	print("blk_bench: long mode\n");
	if (!start_info_ok(si)) {
		print("blk_bench: FAIL: bad start_info\n");
		gt64_fail();
	}
	gt64_cpu_init();
	B.si = si;
	B.mib = 64;
	B.qd = 16;
	B.ios = 4000;
	B.markers = 1;
	B.tsc_khz = gt64_kvmclock_tsc_khz();
	B.tsc_src = "kvmclock";
	for (unsigned i = 0; i < sizeof(phases) / sizeof(phases[0]); i++) {
		int64_t ret;

		B.out_len = 0;
		ret = (int64_t)gt64_enter_user(user_phase, (void *)(uintptr_t)i,
					       (uint64_t)(uintptr_t)(ustack + sizeof(ustack)),
					       GT64_RFLAGS_FIXED);
		print_n(B.out, B.out_len);
		if (ret) {
			print("blk_bench: FAIL in phase ");
			print_dec(i);
			print("\n");
			gt64_fail();
		}
	}
	print("blk_bench: done\n");
	poweroff();
}
