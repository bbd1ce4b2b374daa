/* SPDX-License-Identifier: MIT */
/*
 * osprey_pv.h - the guest/host ABI of osprey, shared by the VMM (host side)
 * and by freestanding guests (guest/tests, later the PV guest SDK).
 *
 * Rules for this file:
 *  - plain C99/C11 and the preprocessor only; fixed-width types from
 *    <stdint.h> (available freestanding); no host or guest headers;
 *  - usable from assembly too (everything that is not a #define is
 *    guarded by __ASSEMBLER__);
 *  - every incompatible change bumps OSPREY_PV_ABI_VERSION_MAJOR, every
 *    compatible addition bumps OSPREY_PV_ABI_VERSION_MINOR.
 *
 * The Xen PVH boot structures (struct hvm_start_info, memmap entries) are
 * in pvh.h next to this file.
 */
#ifndef OSPREY_PV_H
#define OSPREY_PV_H

#ifdef __ASSEMBLER__
#define OSPREY_U32(x) x
#define OSPREY_U64(x) x
#else
#include <stdint.h>
#define OSPREY_U32(x) x##U
#define OSPREY_U64(x) x##ULL
#endif

/* ---- ABI version ---------------------------------------------------- */
#define OSPREY_PV_ABI_VERSION_MAJOR 0
#define OSPREY_PV_ABI_VERSION_MINOR 1
#define OSPREY_PV_ABI_VERSION \
	((OSPREY_PV_ABI_VERSION_MAJOR << 16) | OSPREY_PV_ABI_VERSION_MINOR)

/* ---- PV control port (32-bit OUT only) -------------------------------- */
/* A 32-bit `outl` of one of the commands below to this port.  Other widths
 * and other values are ignored by the host (reads return all ones). */
#define OSPREY_PV_PORT        OSPREY_U32(0x700)
#define OSPREY_PV_PORT_SIZE   4
/* Commands: "OSP" in the top three bytes, the command in the low byte. */
#define OSPREY_PV_CMD_MAGIC   OSPREY_U32(0x4F535000)
#define OSPREY_PV_CMD_MASK    OSPREY_U32(0xFFFFFF00)
#define OSPREY_PV_POWEROFF    OSPREY_U32(0x4F535001) /* VMM exits, status 0 */
#define OSPREY_PV_REBOOT      OSPREY_U32(0x4F535002) /* reboot request */
#define OSPREY_PV_BOOT_MARKER OSPREY_U32(0x4F535003) /* log time since start */

/* ---- Boot-marker MMIO page ------------------------------------------- */
/* Any write (any width, any offset, any value) inside this page is logged
 * by the VMM with the time since its process start; reads return all ones. */
#define OSPREY_BOOT_MARKER_MMIO_BASE OSPREY_U64(0xd0000000)
#define OSPREY_BOOT_MARKER_MMIO_SIZE OSPREY_U64(0x1000)

/* ---- VMM exit statuses a guest can cause ------------------------------ */
#define OSPREY_EXIT_POWEROFF     0 /* OSPREY_PV_POWEROFF */
#define OSPREY_EXIT_REBOOT       2 /* i8042 reset (0xFE to port 0x64), PV reboot */
#define OSPREY_EXIT_TRIPLE_FAULT 3 /* KVM_EXIT_SHUTDOWN; registers are dumped */

/* ---- Boot protocol (Xen PVH entry) ------------------------------------ */
#define OSPREY_PVH_NOTE_NAME        "Xen"
#define OSPREY_PVH_NOTE_TYPE        18 /* XEN_ELFNOTE_PHYS32_ENTRY */
#define OSPREY_BOOT_CS              0x10 /* flat 32-bit code at entry */
#define OSPREY_BOOT_DS              0x18 /* flat data: DS/ES/SS at entry */
#define OSPREY_KERNEL_MIN_PADDR     OSPREY_U32(0x100000) /* load at/above 1 MiB */
/* Guest-physical memory the VMM writes at boot (GDT, start_info, command
 * line, memmap, ...).  Don't overwrite it before you are done with it. */
#define OSPREY_BOOT_DATA_START      OSPREY_U32(0x500)
#define OSPREY_BOOT_DATA_END        OSPREY_U32(0xa000) /* exclusive */
/* Intel MP floating pointer (followed by the "PCMP" config table). */
#define OSPREY_MPTABLE_PADDR        OSPREY_U32(0x9fc00)
/* First byte above the low RAM block (EBDA-style hole starts here). */
#define OSPREY_LOW_RAM_END          OSPREY_U32(0x9fc00)

/* ---- Platform devices --------------------------------------------------- */
#define OSPREY_COM1_PORT            OSPREY_U32(0x3f8) /* 16550A, 8 ports */
#define OSPREY_I8042_DATA_PORT      OSPREY_U32(0x60)
#define OSPREY_I8042_CMD_PORT       OSPREY_U32(0x64)
#define OSPREY_I8042_CMD_RESET      OSPREY_U32(0xfe)
#define OSPREY_LAPIC_BASE           OSPREY_U32(0xfee00000) /* xAPIC mode */
#define OSPREY_IOAPIC_BASE          OSPREY_U32(0xfec00000)
/* Unclaimed I/O ports read as all ones; writes to them are dropped. */
#define OSPREY_UNCLAIMED_PORT_VALUE OSPREY_U32(0xffffffff)

#ifndef __ASSEMBLER__
/* A fixed-width ABI version word, so either side can embed/compare it. */
typedef uint32_t osprey_pv_abi_version_t;
#endif

#endif /* OSPREY_PV_H */
