// SPDX-License-Identifier: Apache-2.0
#include "devices/rtc.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "base/state.h"
#include "hw/device.h"
#include "hw/device_env.h"

#define RTC_PORT_INDEX 0x70
#define RTC_PORT_DATA 0x71

static time_t rtc_host_now(void)
{
	return time(NULL);
}

void rtc_init(struct rtc *r)
{
	memset(r->cmos, 0, sizeof(r->cmos));
	pthread_mutex_init(&r->lock, NULL);
	r->index = 0;
	r->offset = 0;
	r->now = rtc_host_now;
	r->cmos[RTC_REG_A] = 0x26; /* 32.768 kHz time base, 1024 Hz rate */
	r->cmos[RTC_REG_B] = RTC_B_24H;
	r->cmos[RTC_REG_D] = RTC_D_VRT;
}

static bool rtc_is_bcd(const struct rtc *r)
{
	return !(r->cmos[RTC_REG_B] & RTC_B_DM_BINARY);
}

static uint8_t to_reg(const struct rtc *r, int v)
{
	return rtc_is_bcd(r) ? (uint8_t)(((v / 10) << 4) | (v % 10)) : (uint8_t)v;
}

static int from_reg(const struct rtc *r, uint8_t v)
{
	return rtc_is_bcd(r) ? ((v >> 4) * 10 + (v & 0x0f)) : v;
}

/* Fills the time registers from host time + offset. */
static void rtc_latch(struct rtc *r)
{
	time_t t = r->now() + r->offset;
	struct tm tm;
	int hour;

	gmtime_r(&t, &tm);
	hour = tm.tm_hour;
	r->cmos[RTC_SECONDS] = to_reg(r, tm.tm_sec);
	r->cmos[RTC_MINUTES] = to_reg(r, tm.tm_min);
	if (r->cmos[RTC_REG_B] & RTC_B_24H) {
		r->cmos[RTC_HOURS] = to_reg(r, hour);
	} else {
		int h12 = hour % 12 ? hour % 12 : 12;

		r->cmos[RTC_HOURS] = (uint8_t)(to_reg(r, h12) | (hour >= 12 ? 0x80 : 0));
	}
	r->cmos[RTC_DAY_OF_WEEK] = to_reg(r, tm.tm_wday + 1);
	r->cmos[RTC_DAY_OF_MONTH] = to_reg(r, tm.tm_mday);
	r->cmos[RTC_MONTH] = to_reg(r, tm.tm_mon + 1);
	r->cmos[RTC_YEAR] = to_reg(r, tm.tm_year % 100);
	r->cmos[RTC_CENTURY] = to_reg(r, (tm.tm_year + 1900) / 100);
}

/* The guest finished setting the clock: remember its offset from host time. */
static void rtc_commit(struct rtc *r)
{
	struct tm tm;
	int hour;

	memset(&tm, 0, sizeof(tm));
	tm.tm_sec = from_reg(r, r->cmos[RTC_SECONDS]);
	tm.tm_min = from_reg(r, r->cmos[RTC_MINUTES]);
	hour = r->cmos[RTC_HOURS];
	if (r->cmos[RTC_REG_B] & RTC_B_24H) {
		tm.tm_hour = from_reg(r, (uint8_t)hour);
	} else {
		tm.tm_hour = from_reg(r, hour & 0x7f) % 12;
		if (hour & 0x80)
			tm.tm_hour += 12;
	}
	tm.tm_mday = from_reg(r, r->cmos[RTC_DAY_OF_MONTH]);
	tm.tm_mon = from_reg(r, r->cmos[RTC_MONTH]) - 1;
	tm.tm_year = from_reg(r, r->cmos[RTC_CENTURY]) * 100 + from_reg(r, r->cmos[RTC_YEAR]) - 1900;
	if (tm.tm_year < 0 || tm.tm_mon < 0 || tm.tm_mon > 11 || tm.tm_mday < 1 || tm.tm_mday > 31)
		return; /* nonsense from the guest: keep the old offset */
	r->offset = timegm(&tm) - r->now();
}

uint8_t rtc_read(struct rtc *r, unsigned port)
{
	uint8_t v;

	if (port == RTC_PORT_INDEX)
		return 0xff; /* the index register is write-only */
	pthread_mutex_lock(&r->lock);
	switch (r->index) {
	case RTC_SECONDS:
	case RTC_MINUTES:
	case RTC_HOURS:
	case RTC_DAY_OF_WEEK:
	case RTC_DAY_OF_MONTH:
	case RTC_MONTH:
	case RTC_YEAR:
	case RTC_CENTURY:
		if (!(r->cmos[RTC_REG_B] & RTC_B_SET))
			rtc_latch(r);
		v = r->cmos[r->index];
		break;
	case RTC_REG_A:
		v = r->cmos[RTC_REG_A] & 0x7f; /* never "update in progress" */
		break;
	case RTC_REG_C:
		v = 0;
		break;
	default:
		v = r->cmos[r->index];
		break;
	}
	pthread_mutex_unlock(&r->lock);
	return v;
}

void rtc_write(struct rtc *r, unsigned port, uint8_t value)
{
	pthread_mutex_lock(&r->lock);
	if (port == RTC_PORT_INDEX) {
		r->index = value & 0x7f; /* bit 7 is the NMI mask */
	} else {
		switch (r->index) {
		case RTC_REG_B:
			if ((r->cmos[RTC_REG_B] & RTC_B_SET) && !(value & RTC_B_SET)) {
				r->cmos[RTC_REG_B] = value;
				rtc_commit(r);
			} else {
				if (!(r->cmos[RTC_REG_B] & RTC_B_SET) && (value & RTC_B_SET))
					rtc_latch(r);
				r->cmos[RTC_REG_B] = value;
			}
			break;
		case RTC_REG_C:
		case RTC_REG_D:
			break; /* read-only */
		default:
			r->cmos[r->index] = value;
			break;
		}
	}
	pthread_mutex_unlock(&r->lock);
}

/* ---- snapshots ---- */

static int rtc_state_save(void *opaque, struct state_writer *w)
{
	struct rtc *r = opaque;

	pthread_mutex_lock(&r->lock);
	state_put_u8(w, r->index);
	state_put_bytes(w, r->cmos, sizeof(r->cmos));
	state_put_u64(w, (uint64_t)(int64_t)r->offset);
	pthread_mutex_unlock(&r->lock);
	return w->err; /* 0 or -ENOMEM; the machine closes the section */
}

static int rtc_state_load(void *opaque, struct state_reader *rd, char *err, size_t errlen)
{
	struct rtc *r = opaque;
	uint8_t index, cmos[sizeof(r->cmos)];
	int64_t offset;

	index = state_get_u8(rd);
	state_get_bytes(rd, cmos, sizeof(cmos));
	offset = (int64_t)state_get_u64(rd);
	if (!state_reader_error(rd) && index > 0x7f)
		state_fail(rd, "rtc: index 0x%02x beyond the CMOS", index);
	if (!state_reader_error(rd) &&
	    (offset > RTC_STATE_OFFSET_MAX || offset < -RTC_STATE_OFFSET_MAX))
		state_fail(rd, "rtc: offset of %lld s from host time", (long long)offset);
	if (!state_reader_error(rd))
		state_reader_finish(rd, "rtc state");
	if (state_reader_error(rd)) {
		snprintf(err, errlen, "%s", state_reader_msg(rd));
		return -EBADMSG;
	}
	pthread_mutex_lock(&r->lock);
	r->index = index;
	memcpy(r->cmos, cmos, sizeof(cmos));
	r->offset = (time_t)offset;
	pthread_mutex_unlock(&r->lock);
	return 0;
}

const struct device_state_ops rtc_state_ops = {
	.version = RTC_STATE_VERSION,
	.save = rtc_state_save,
	.load = rtc_state_load,
};

/* ---- device glue ---- */

static void rtc_pio_read(void *opaque, uint64_t offset, uint8_t *data, unsigned len)
{
	memset(data, 0, len);
	data[0] = rtc_read(opaque, RTC_PORT_INDEX + (unsigned)offset);
}

static void rtc_pio_write(void *opaque, uint64_t offset, const uint8_t *data, unsigned len)
{
	(void)len;
	rtc_write(opaque, RTC_PORT_INDEX + (unsigned)offset, data[0]);
}

static const struct bus_ops rtc_ops = {
	.read = rtc_pio_read,
	.write = rtc_pio_write,
};

static int rtc_create(const struct device_env *env)
{
	struct rtc *r = calloc(1, sizeof(*r));
	int ret;

	if (!r)
		return -ENOMEM;
	rtc_init(r);
	ret = bus_register(env->pio, RTC_PORT_INDEX, 2, "rtc", &rtc_ops, r);
	if (ret) {
		free(r);
		return ret;
	}
	ret = env->add_cleanup(env->machine, free, r);
	if (ret || !env->register_state)
		return ret;
	ret = env->register_state(env->machine, "rtc", &rtc_state_ops, r);
	if (ret)
		log_errx("rtc", "cannot register state handler rtc");
	return ret;
}

static const struct device_desc rtc_device = {
	.name = "rtc",
	.create = rtc_create,
};
DEVICE_REGISTER(rtc_device);
