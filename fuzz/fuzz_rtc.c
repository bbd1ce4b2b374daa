// SPDX-License-Identifier: Apache-2.0
/*
 * MC146818 RTC model with a fuzzed host clock. The first 4 bytes are the
 * host time (seconds since 1970, unsigned 32-bit); then records:
 *   00xxxxxp          read port p (0: index 0x70, 1: data 0x71)
 *   01xxxxxp vv       write vv to port p
 *   1nnnnnnn          the host clock advances by n minutes
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "devices/rtc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static time_t fuzz_now;

static time_t fz_now(void)
{
	return fuzz_now;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rtc r;
	uint32_t t0 = 0;
	size_t i = 0;

	if (size >= 4) {
		memcpy(&t0, data, 4);
		i = 4;
	}
	fuzz_now = (time_t)t0;
	memset(&r, 0, sizeof(r));
	rtc_init(&r);
	r.now = fz_now;
	while (i < size) {
		uint8_t c = data[i++];
		unsigned port = 0x70 + (c & 1);

		if (c & 0x80) {
			fuzz_now += (time_t)(c & 0x7f) * 60;
			continue;
		}
		if (c & 0x40) {
			if (i < size)
				rtc_write(&r, port, data[i++]);
		} else {
			rtc_read(&r, port);
		}
		if (r.index > 0x7f)
			abort();
		/* Register D always reports valid RAM and time. */
		if (r.cmos[RTC_REG_D] != RTC_D_VRT)
			abort();
	}
	pthread_mutex_destroy(&r.lock);
	return 0;
}
