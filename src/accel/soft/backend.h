/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The software CPU's backend (accel/soft/backend.c): the glue between
 * the machine (vmm/) and osprey's software CPU (soft_cpu.h) plus the
 * user-space interrupt controllers (irqchip/). Its ops table is
 * accel_soft_ops (accel/accel.h).
 */
#ifndef OSPREY_ACCEL_SOFT_BACKEND_H
#define OSPREY_ACCEL_SOFT_BACKEND_H

#include "accel/accel.h"

#endif
