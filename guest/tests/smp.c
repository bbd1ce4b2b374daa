/* SPDX-License-Identifier: MIT */
/*
 * smp - finds and checks the Intel MP table, counts its processor entries,
 * starts every other enabled processor with INIT-SIPI-SIPI and reports which
 * CPUs came up (see smp_ap.S for the AP side).
 *
 * Delays and the wait for the APs are timed with the local APIC timer,
 * assuming KVM's 1 GHz APIC bus clock (divide-by-16: 62.5 ticks per us).
 * If the timer does not count, a bounded loop of port reads stands in.
 */
#include "gt.h"
#include "smp.h"

#define APIC_TICKS_PER_MS 62500U /* 1 GHz / 16 */
#define AP_WAIT_MS 2000U
#define FALLBACK_SPINS 200000U /* port reads: ~2 s emulated, < 1 s native */
#define DELAY_SPINS 100000U   /* bound for delay_us() if the timer stalls */
#define PACE_PORT 0x80

#define ICR_INIT 0x00000500U
#define ICR_STARTUP 0x00000600U
#define ICR_DELIVS (1U << 12)
#define ICR_ASSERT (1U << 14)
#define ICR_LEVEL (1U << 15)
#define ICR_ALL_BUT_SELF (3U << 18)

volatile uint32_t smp_ap_slot;
volatile uint32_t smp_ap_count;
volatile uint32_t smp_ap_apic_ids[SMP_MAX_CPUS];

/* ---- MP table ----------------------------------------------------------- */

struct mp_cpu {
	uint8_t apic_id;
	uint8_t flags; /* bit 0 enabled, bit 1 bootstrap processor */
};

static struct mp_cpu mp_cpus[SMP_MAX_CPUS];
static uint32_t mp_ncpus;

static uint8_t sum8(const uint8_t *p, uint32_t len)
{
	uint8_t s = 0;

	while (len--)
		s = (uint8_t)(s + *p++);
	return s;
}

static const uint8_t *mpf_scan(uint32_t start, uint32_t len)
{
	for (uint32_t a = start; a + 16 <= start + len; a += 16) {
		const uint8_t *p = phys_ptr(a);

		if (p[0] == '_' && p[1] == 'M' && p[2] == 'P' && p[3] == '_')
			return p;
	}
	return NULL;
}

static const uint8_t *mpf_find(void)
{
	const uint8_t *p;
	uint32_t ebda = (uint32_t)*(const volatile uint16_t *)phys_ptr(0x40e) << 4;

	if ((p = mpf_scan(OSPREY_MPTABLE_PADDR, 16)) != NULL)
		return p;
	if (ebda >= 0x80000 && ebda < 0xa0000 && (p = mpf_scan(ebda, 1024)) != NULL)
		return p;
	if ((p = mpf_scan(0x9fc00, 1024)) != NULL)
		return p;
	return mpf_scan(0xf0000, 0x10000);
}

static uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static void fail(const char *what)
{
	print("mptable: ");
	print(what);
	print("\n");
}

/* Returns 0 and fills mp_cpus[] if the table is present and valid. */
static int mptable_parse(void)
{
	const uint8_t *mpf = mpf_find(), *cfg, *e, *end;
	uint32_t mpf_len, base_len, ext_len, count, walked;

	if (!mpf) {
		fail("not found");
		return -1;
	}
	mpf_len = mpf[8] * 16U;
	if (mpf_len < 16 || sum8(mpf, mpf_len) != 0) {
		fail("bad floating pointer checksum");
		return -1;
	}
	if (mpf[11] != 0 || rd32(mpf + 4) == 0) {
		fail("default configuration (no config table) not supported");
		return -1;
	}
	cfg = phys_ptr(rd32(mpf + 4));
	if (cfg[0] != 'P' || cfg[1] != 'C' || cfg[2] != 'M' || cfg[3] != 'P') {
		fail("bad config table signature");
		return -1;
	}
	base_len = rd16(cfg + 4);
	ext_len = rd16(cfg + 0x28);
	count = rd16(cfg + 0x22);
	if (base_len < 0x2c || sum8(cfg, base_len) != 0) {
		fail("bad config table checksum");
		return -1;
	}
	if (ext_len && (uint8_t)(sum8(cfg + base_len, ext_len) + cfg[0x2a]) != 0) {
		fail("bad extended table checksum");
		return -1;
	}
	print("mptable: at ");
	print_hex((uint32_t)(uintptr_t)mpf, 8);
	print(" config ");
	print_hex(rd32(mpf + 4), 8);
	print(" spec 1.");
	print_dec(mpf[9]);
	print(" entries=");
	print_dec(count);
	print(" lapic=");
	print_hex(rd32(cfg + 0x24), 8);
	print("\n");

	/* Walk by length, not by the entry count: QEMU's qboot leaves the
	 * count 0.  A mismatch is reported (osprey's table should agree). */
	e = cfg + 0x2c;
	end = cfg + base_len;
	for (walked = 0; e < end; walked++) {
		if (e[0] == 0) { /* processor */
			if (e + 20 > end)
				break;
			if (mp_ncpus < SMP_MAX_CPUS) {
				mp_cpus[mp_ncpus].apic_id = e[1];
				mp_cpus[mp_ncpus].flags = e[3];
				mp_ncpus++;
			}
			print("mptable: cpu apic_id=");
			print_dec(e[1]);
			print(e[3] & 1 ? " enabled" : " disabled");
			print(e[3] & 2 ? " bsp\n" : "\n");
			e += 20;
		} else if (e[0] <= 4) { /* bus, I/O APIC, I/O int, local int */
			e += 8;
		} else {
			fail("unknown entry type");
			break;
		}
	}
	if (walked != count) {
		print("mptable: warning: entry count field ");
		print_dec(count);
		print(" but ");
		print_dec(walked);
		print(" entries in the table\n");
	}
	return 0;
}

/* ---- local APIC --------------------------------------------------------- */

static uint32_t lapic_read(uint32_t reg)
{
	return mmio_read32(OSPREY_LAPIC_BASE + reg);
}

static void lapic_write(uint32_t reg, uint32_t v)
{
	mmio_write32(OSPREY_LAPIC_BASE + reg, v);
}

static int timer_ok;

/* Does the (masked, one-shot) APIC timer count down?  Arms it for ~68 s. */
static void timer_probe(void)
{
	lapic_write(LAPIC_TDCR, 0x3);        /* divide by 16 */
	lapic_write(LAPIC_LVT_TMR, 0x100ef); /* masked, one-shot */
	lapic_write(LAPIC_TMICT, 0xffffffffU);
	timer_ok = lapic_read(LAPIC_TMCCT) != 0;
	if (!timer_ok)
		print("smp: lapic timer does not count, using a spin loop\n");
}

static void timer_arm(uint32_t ticks)
{
	lapic_write(LAPIC_TMICT, ticks);
}

static int timer_expired(void)
{
	return !timer_ok || lapic_read(LAPIC_TMCCT) == 0;
}

static void delay_us(uint32_t us)
{
	timer_arm(us * (APIC_TICKS_PER_MS / 1000) + us / 2);
	for (uint32_t i = 0; i < DELAY_SPINS && !timer_expired(); i++)
		;
}

static void send_ipi(uint32_t apic_id, uint32_t icr_lo)
{
	lapic_write(LAPIC_ICR_HI, apic_id << 24);
	lapic_write(LAPIC_ICR_LO, icr_lo);
	for (uint32_t i = 0; i < 1000 && (lapic_read(LAPIC_ICR_LO) & ICR_DELIVS); i++)
		;
}

/* Sends the IPI to every AP in the MP table, or to all but self if none. */
static void send_ipi_aps(uint32_t bsp_id, uint32_t icr_lo)
{
	if (mp_ncpus == 0) {
		send_ipi(0, icr_lo | ICR_ALL_BUT_SELF);
		return;
	}
	for (uint32_t i = 0; i < mp_ncpus; i++) {
		if ((mp_cpus[i].flags & 1) && mp_cpus[i].apic_id != bsp_id)
			send_ipi(mp_cpus[i].apic_id, icr_lo);
	}
}

void test_main(const struct osprey_hvm_start_info *si)
{
	uint32_t bsp_id, expected = 0, up, n = 0;
	uint32_t ids[SMP_MAX_CPUS];
	const uint32_t vector = SMP_TRAMPOLINE_PADDR >> 12;

	(void)si;
	mptable_parse();
	print("mptable cpus=");
	print_dec(mp_ncpus);
	print("\n");

	for (uint32_t i = 0; i < mp_ncpus; i++)
		expected += (mp_cpus[i].flags & 1) ? 1 : 0;

	bsp_id = lapic_read(LAPIC_ID) >> 24;
	print("smp: bsp apic_id=");
	print_dec(bsp_id);
	print("\n");

	memcpy(phys_ptr(SMP_TRAMPOLINE_PADDR), smp_tramp_start,
	       (size_t)(smp_tramp_end - smp_tramp_start));

	lapic_write(LAPIC_SVR, 0x1ff); /* software enable, spurious vector 0xff */
	timer_probe();

	send_ipi_aps(bsp_id, ICR_INIT | ICR_LEVEL | ICR_ASSERT);
	delay_us(10000);
	send_ipi_aps(bsp_id, ICR_STARTUP | ICR_ASSERT | vector);
	delay_us(200);
	send_ipi_aps(bsp_id, ICR_STARTUP | ICR_ASSERT | vector);

	/* Wait for every enabled AP (bounded). */
	timer_arm(AP_WAIT_MS * APIC_TICKS_PER_MS);
	for (uint32_t i = 0; expected == 0 || smp_ap_count < expected - 1; i++) {
		if (timer_ok ? timer_expired() : i >= FALLBACK_SPINS)
			break;
		if (!timer_ok)
			(void)inb(PACE_PORT);
	}

	up = smp_ap_count;
	ids[n++] = bsp_id;
	for (uint32_t i = 0; i < up && i < SMP_MAX_CPUS - 1; i++)
		ids[n++] = smp_ap_apic_ids[i];
	/* insertion sort, n is small */
	for (uint32_t i = 1; i < n; i++) {
		uint32_t v = ids[i], j = i;

		for (; j > 0 && ids[j - 1] > v; j--)
			ids[j] = ids[j - 1];
		ids[j] = v;
	}

	print("smp: ");
	print_dec(1 + up);
	print(" of ");
	print_dec(mp_ncpus);
	print(" cpus up\n");
	print("smp: apic_ids=");
	for (uint32_t i = 0; i < n; i++) {
		if (i)
			print(",");
		print_dec(ids[i]);
	}
	print("\n");
	poweroff();
}
