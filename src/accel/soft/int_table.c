// SPDX-License-Identifier: Apache-2.0
/* The integer family's handler table (soft_handlers_int), from int.h's list. */
#include "accel/soft/int_priv.h"

#define INT_ENTRY(m, fn) { ZYDIS_MNEMONIC_##m, soft_int_##fn },
#define INT_ENTRY_CC(m, cc) { ZYDIS_MNEMONIC_##m, soft_int_##m },

static const struct soft_handler_entry int_entries[] = {
	SOFT_INT_LIST(INT_ENTRY)
	SOFT_INT_CC_LIST(INT_ENTRY_CC, J)
	SOFT_INT_CC_LIST(INT_ENTRY_CC, SET)
	SOFT_INT_CC_LIST(INT_ENTRY_CC, CMOV)
};

const struct soft_handler_table soft_handlers_int = {
	int_entries, sizeof(int_entries) / sizeof(int_entries[0]),
};
