/*
 * Common includes and helper macros; every .c file includes this first.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef QEMU_OSDEP_H
#define QEMU_OSDEP_H

#include "config-host.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <inttypes.h>
#include <limits.h>
#include <errno.h>
#include <assert.h>
#include <unistd.h>
#include <fcntl.h>
#include <sys/types.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <glib.h>

#ifndef container_of
#define container_of(ptr, type, member) \
    ((type *)((char *)(ptr) - offsetof(type, member)))
#endif

#ifndef ARRAY_SIZE
#define ARRAY_SIZE(x) (sizeof(x) / sizeof((x)[0]))
#endif

#define likely(x)   __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)

#define QEMU_NORETURN       __attribute__((noreturn))
#define QEMU_PRINTF(f, a)   __attribute__((format(printf, f, a)))
#define QEMU_WARN_UNUSED    __attribute__((warn_unused_result))
#define QEMU_ALWAYS_INLINE  __attribute__((always_inline))

/* n must be a power of two for the *_POW2 forms; the others take any n. */
#define QEMU_ALIGN_DOWN(x, n)   (((x) / (n)) * (n))
#define QEMU_ALIGN_UP(x, n)     QEMU_ALIGN_DOWN((x) + (n) - 1, (n))
#define QEMU_IS_ALIGNED(x, n)   (((x) % (n)) == 0)
#define QEMU_PTR_IS_ALIGNED(p, n) QEMU_IS_ALIGNED((uintptr_t)(p), (n))
#define DIV_ROUND_UP(n, d)      (((n) + (d) - 1) / (d))
#define is_power_of_2(x)        ((x) != 0 && (((x) & ((x) - 1)) == 0))

#define BDRV_SECTOR_BITS  9
#define BDRV_SECTOR_SIZE  (1ULL << BDRV_SECTOR_BITS)

/*
 * Aligned allocation (util/memalign.c).  qemu_memalign() aborts on failure,
 * qemu_try_memalign() returns NULL; both are freed with qemu_vfree().
 * align must be a power of two; 0 means the host page size.
 */
void *qemu_memalign(size_t align, size_t size);
void *qemu_try_memalign(size_t align, size_t size);
void qemu_vfree(void *ptr);
size_t qemu_real_host_page_size(void);

/* Monotonic clock in nanoseconds (util/qemu-timer.c). */
int64_t get_clock_ns(void);

#endif /* QEMU_OSDEP_H */
