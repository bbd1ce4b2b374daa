// SPDX-License-Identifier: Apache-2.0
/*
 * Fuzz target: the destination's side of a migration stream
 * (migration/stream.h) on hostile bytes: record framing, CRC, bounds and
 * order, HELLO parsing, CONFIG through vm_config_read, PAGES against a
 * small fake RAM, STATE's section structure.
 *
 * Input: byte 0 chooses the form. Odd: the rest is a raw stream (CRCs
 * as given). Even: the rest is records without their CRC (u32 type,
 * u32 flags, u64 length, payload), each framed here with its right CRC,
 * so that the fuzzer reaches the payload parsers.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/state.h"
#include "migration/stream.h"
#include "vmm/vm_state.h"

#define FAKE_RAM (16 * MIG_PAGE_SIZE)

static uint8_t ram[FAKE_RAM];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Frames CRC-less records into a stream (the payload is cut to what is there). */
static uint8_t *reframe(const uint8_t *p, size_t n, size_t *outlen)
{
	uint8_t *out = malloc(n + (n / MIG_HDR_LEN + 1) * 8 + 8);
	size_t o = 0;

	if (!out)
		return NULL;
	while (n >= MIG_HDR_LEN) {
		uint64_t len = mig_get_u64(p + 8), crc;

		if (len > n - MIG_HDR_LEN)
			len = n - MIG_HDR_LEN;
		memcpy(out + o, p, 8);
		mig_put_u64(out + o + 8, len);
		memcpy(out + o + MIG_HDR_LEN, p + MIG_HDR_LEN, (size_t)len);
		crc = state_crc64(out + o, MIG_HDR_LEN + (size_t)len, 0);
		o += MIG_HDR_LEN + (size_t)len;
		mig_put_u64(out + o, crc);
		o += 8;
		p += MIG_HDR_LEN + len;
		n -= MIG_HDR_LEN + (size_t)len;
	}
	*outlen = o;
	return out;
}

static void state_sections(const uint8_t *p, size_t n)
{
	struct state_reader r, sub;
	char name[STATE_NAME_MAX + 1];
	uint32_t version;

	state_reader_init(&r, p, n);
	for (unsigned i = 0; i < 256 && state_next_section(&r, name, &version, &sub) == 1; i++)
		(void)state_remaining(&sub);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mig_order ord = { 0 };
	struct mig_hello h;
	struct mig_reader r;
	struct mig_rec rec;
	uint8_t *framed = NULL;
	size_t len;
	char err[256];

	if (size < 1)
		return 0;
	if (data[0] & 1) {
		mig_reader_init_mem(&r, data + 1, size - 1);
	} else {
		framed = reframe(data + 1, size - 1, &len);
		if (!framed)
			return 0;
		mig_reader_init_mem(&r, framed, len);
	}
	for (unsigned i = 0; i < 512; i++) {
		if (mig_read_record(&r, &rec, err, sizeof(err)))
			break;
		if (rec.type == MIG_REC_ERROR)
			break;
		if (mig_order_check(&ord, rec.type, err, sizeof(err)))
			break;
		if (rec.type == MIG_REC_HELLO) {
			if (mig_hello_parse(rec.payload, (size_t)rec.len, &h, err, sizeof(err)))
				break;
		} else if (rec.type == MIG_REC_CONFIG) {
			struct state_reader sr;
			struct vm_config cfg;

			state_reader_init(&sr, rec.payload, (size_t)rec.len);
			if (vm_config_read(&sr, &cfg))
				break;
			vm_config_free_strings(&cfg);
		} else if (rec.type == MIG_REC_PAGES) {
			uint64_t n;

			if (mig_pages_apply(rec.payload, (size_t)rec.len, ram, sizeof(ram), &n, err,
					    sizeof(err)))
				break;
		} else if (rec.type == MIG_REC_STATE) {
			state_sections(rec.payload, (size_t)rec.len);
		} else {
			break; /* DONE */
		}
	}
	mig_reader_free(&r);
	free(framed);
	return 0;
}
