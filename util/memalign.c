/*
 * Aligned memory allocation for O_DIRECT-capable I/O buffers.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "qemu/osdep.h"

size_t qemu_real_host_page_size(void)
{
    static size_t page_size;

    /* Benign race: every thread computes the same value. */
    if (!page_size) {
        long ps = sysconf(_SC_PAGESIZE);
        page_size = ps > 0 ? (size_t)ps : 4096;
    }
    return page_size;
}

void *qemu_try_memalign(size_t align, size_t size)
{
    void *ptr;

    if (align == 0) {
        align = qemu_real_host_page_size();
    }
    if (!is_power_of_2(align)) {
        errno = EINVAL;
        return NULL;
    }
    /* posix_memalign() also requires a multiple of sizeof(void *). */
    if (align < sizeof(void *)) {
        align = sizeof(void *);
    }
    /* Give a zero-sized request a real, freeable allocation. */
    if (size == 0) {
        size = align;
    }
    int ret = posix_memalign(&ptr, align, size);
    if (ret != 0) {
        errno = ret;
        return NULL;
    }
    return ptr;
}

void *qemu_memalign(size_t align, size_t size)
{
    void *ptr = qemu_try_memalign(align, size);

    if (!ptr) {
        fprintf(stderr, "qemu_memalign: failed to allocate %zu bytes "
                "aligned to %zu: %s\n", size, align, strerror(errno));
        abort();
    }
    return ptr;
}

void qemu_vfree(void *ptr)
{
    free(ptr);
}
