/* SPDX-License-Identifier: Apache-2.0 */
/*
 * MC146818 CMOS RTC at ports 0x70/0x71, reporting host wall time (UTC).
 * The guest may set the clock: osprey keeps the offset from host time.
 */
#ifndef OSPREY_DEVICES_RTC_H
#define OSPREY_DEVICES_RTC_H

#include <pthread.h>
#include <stdint.h>
#include <time.h>

#define RTC_SECONDS 0x00
#define RTC_MINUTES 0x02
#define RTC_HOURS 0x04
#define RTC_DAY_OF_WEEK 0x06
#define RTC_DAY_OF_MONTH 0x07
#define RTC_MONTH 0x08
#define RTC_YEAR 0x09
#define RTC_REG_A 0x0a
#define RTC_REG_B 0x0b
#define RTC_REG_C 0x0c
#define RTC_REG_D 0x0d
#define RTC_CENTURY 0x32

#define RTC_B_SET 0x80
#define RTC_B_DM_BINARY 0x04
#define RTC_B_24H 0x02
#define RTC_D_VRT 0x80

struct rtc {
	pthread_mutex_t lock;
	uint8_t index;
	uint8_t cmos[128];
	time_t offset;	   /* guest time - host time, seconds */
	time_t (*now)(void); /* host clock (replaceable in tests) */
};

void rtc_init(struct rtc *r);
uint8_t rtc_read(struct rtc *r, unsigned port);
void rtc_write(struct rtc *r, unsigned port, uint8_t value);

/*
 * Snapshot state (hw/device_state.h; opaque: the struct rtc), section
 * "rtc", version RTC_STATE_VERSION: u8 index, the 128 CMOS bytes, u64
 * offset (two's complement seconds, guest time - host time). Time
 * continues from the host clock: a restored guest's RTC reads host time
 * plus the offset it had, so it moves on with the host (as the guest's
 * kvmclock does). The RTC raises no interrupts: no resumed().
 */
#define RTC_STATE_VERSION 1
/* Largest offset accepted from a state: some 300 000 years. */
#define RTC_STATE_OFFSET_MAX 10000000000000LL
struct device_state_ops;
extern const struct device_state_ops rtc_state_ops;

#endif
