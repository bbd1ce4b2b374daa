/* SPDX-License-Identifier: Apache-2.0 */
/*
 * 8254 programmable interval timer (ports 0x40-0x43) and the PIT bits of
 * system control port B (0x61: bit 0 channel 2 gate, bit 1 speaker data,
 * bit 4 refresh toggle, bit 5 channel 2 output) for the software-CPU
 * backend. Channel 0 drives IRQ0 through ops.irq.
 *
 * Modelled: the control word (channel, access mode LSB/MSB/LSB-then-MSB,
 * modes 0-5, 6 and 7 as 2 and 3), the counter latch command, the
 * read-back command (count and status latches, output and null-count
 * bits), count reads and writes per access mode, the gate (channel 2
 * from port 0x61; channels 0 and 1 always high): modes 0 and 4 pause
 * while it is low, modes 2 and 3 stop and restart on its rising edge,
 * modes 1 and 5 start on its rising edge. The counters are not ticked:
 * counts and outputs are computed from the time (ops.now_ns, ns) at
 * PIT_HZ = 1193182 Hz. Output timing: mode 0/1 rise after N clocks,
 * mode 2 low for the last clock of each period, mode 3 high for the
 * first ceil(N/2) clocks of each period, mode 4/5 low for one clock
 * after N clocks. A count of 0 means 65536.
 *
 * Channel 0 interrupts are rising edges of its output, delivered as a
 * pulse (ops.irq(true) then ops.irq(false)) by pit_advance(now); missed
 * periods are coalesced into one pulse. pit_next_event_ns() says when
 * the next one is due (never sooner than PIT_MIN_IRQ_NS after the last
 * pit_advance, so a tiny period cannot make the host spin), so the
 * backend can sleep until then, as with the LAPIC timer.
 *
 * Not modelled: BCD counting (the BCD bit is stored and reported, counts
 * are binary), the one-clock delay between writing a count and counting,
 * a new count in modes 2/3 waiting for the end of the current period (it
 * restarts the counter at once), the speaker.
 *
 * Threads: a mutex; ops.irq and ops.changed are called without it held.
 */
#ifndef OSPREY_IRQCHIP_PIT_H
#define OSPREY_IRQCHIP_PIT_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#define PIT_HZ 1193182ULL
#define PIT_MIN_IRQ_NS 20000ULL
#define PIT_PORT_CH0 0x40
#define PIT_PORT_CMD 0x43
#define PIT_PORT_61 0x61

struct pit_channel {
	uint8_t mode;	/* 0-5 */
	uint8_t rw;	/* 1 LSB, 2 MSB, 3 LSB then MSB */
	uint8_t bcd;
	uint8_t gate;
	uint8_t armed;	/* counting (mode 1/5: triggered) */
	uint8_t loaded;	/* a count was written since the control word */
	uint8_t frozen;	/* counting paused by the gate */
	uint8_t null_count;
	uint8_t write_msb_next;
	uint8_t read_msb_next;
	uint8_t write_lsb;
	uint8_t count_latched; /* bytes of the latched count left to read (0-2) */
	uint8_t status_latched;
	uint8_t status;
	uint8_t fired;	/* one-shot modes: the edge was delivered */
	uint8_t pad;
	uint16_t latched_count;
	uint32_t reload;	/* 1..65536 */
	uint64_t start_ns;	/* when the count started (relative in a snapshot) */
	uint64_t frozen_ticks;	/* clocks counted before the gate paused it */
	uint64_t edges_done;	/* periodic modes: rising edges already delivered */
};

struct pit_ops {
	void *opaque;
	/* The clock (ns). NULL: the time of the last pit_advance(). */
	uint64_t (*now_ns)(void *opaque);
	/* IRQ0 line. */
	void (*irq)(void *opaque, bool level);
	/* The guest reprogrammed channel 0: re-read pit_next_event_ns() (may be NULL). */
	void (*changed)(void *opaque);
};

struct pit {
	pthread_mutex_t lock;
	struct pit_ops ops;
	struct pit_channel ch[3];
	uint8_t port61; /* bits 0-3 as written */
	uint64_t last_now;
};

struct pit_snap {
	struct pit_channel ch[3];
	uint8_t port61;
	uint8_t pad[7];
};

void pit_init(struct pit *p, const struct pit_ops *ops);
void pit_destroy(struct pit *p);
void pit_reset(struct pit *p);

/* Ports 0x40-0x43 and 0x61 (others: read 0xff, write ignored). */
uint8_t pit_io_read(struct pit *p, uint16_t port);
void pit_io_write(struct pit *p, uint16_t port, uint8_t value);

/* When channel 0's output rises next (ns), UINT64_MAX if never. */
uint64_t pit_next_event_ns(struct pit *p);
/* Delivers the channel 0 edges due by now_ns as IRQ0 pulses. */
void pit_advance(struct pit *p, uint64_t now_ns);

/* Snapshots: start times are stored relative to the clock's now. */
void pit_save(struct pit *p, struct pit_snap *snap);
void pit_restore(struct pit *p, const struct pit_snap *snap);

#endif
