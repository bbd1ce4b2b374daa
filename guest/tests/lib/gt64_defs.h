/* SPDX-License-Identifier: MIT */
/* gt64_defs.h - constants shared by start64.S and gt64.c (asm-safe). */
#ifndef GT64_DEFS_H
#define GT64_DEFS_H

/* GDT selectors (start64.S). */
#define GT64_KERNEL_CS 0x08
#define GT64_KERNEL_DS 0x10
#define GT64_USER_DS   0x1b /* 0x18 | RPL 3 */
#define GT64_USER_CS   0x23 /* 0x20 | RPL 3 */
#define GT64_TSS_SEL   0x28

/* Vectors in the IDT: the exceptions. */
#define GT64_IDT_VECTORS 32

/* RFLAGS bits. */
#define GT64_RFLAGS_FIXED 0x2       /* bit 1 is always set */
#define GT64_RFLAGS_IF    0x200
#define GT64_RFLAGS_IOPL3 0x3000

#endif /* GT64_DEFS_H */
