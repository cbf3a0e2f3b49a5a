/*
 * I/O vectors: struct iovec helpers and QEMUIOVector, the scatter/gather list
 * every read and write carries through the block layer.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef QEMU_IOV_H
#define QEMU_IOV_H

/* ---- plain struct iovec arrays ---- */

size_t iov_size(const struct iovec *iov, unsigned int iov_cnt);
/* Copy between a flat buffer and iov starting at byte offset; return bytes copied. */
size_t iov_from_buf(const struct iovec *iov, unsigned int iov_cnt,
                    size_t offset, const void *buf, size_t bytes);
size_t iov_to_buf(const struct iovec *iov, unsigned int iov_cnt,
                  size_t offset, void *buf, size_t bytes);
size_t iov_memset(const struct iovec *iov, unsigned int iov_cnt,
                  size_t offset, int fillc, size_t bytes);

/* ---- QEMUIOVector ---- */

typedef struct QEMUIOVector {
    struct iovec *iov;
    int niov;
    /*
     * nalloc == -1 marks an external or embedded vector: iov is not owned,
     * and add/concat must not be used on it.
     */
    int nalloc;
    size_t size;
    struct iovec local_iov;   /* storage for qemu_iovec_init_buf() */
} QEMUIOVector;

/* Owned, growable vector; alloc_hint entries preallocated. */
void qemu_iovec_init(QEMUIOVector *qiov, int alloc_hint);
/* Wrap an existing array (not owned). */
void qemu_iovec_init_external(QEMUIOVector *qiov, struct iovec *iov, int niov);
/* One-element vector over buf (no allocation). */
void qemu_iovec_init_buf(QEMUIOVector *qiov, void *buf, size_t len);
/*
 * Owned vector viewing bytes [offset, offset+len) of source (no data copy).
 * Returns 0, or -EINVAL if the range is outside source.
 */
int qemu_iovec_init_slice(QEMUIOVector *qiov, QEMUIOVector *source,
                          size_t offset, size_t len);
void qemu_iovec_destroy(QEMUIOVector *qiov);
/* Empty the vector, keeping its allocation. */
void qemu_iovec_reset(QEMUIOVector *qiov);

void qemu_iovec_add(QEMUIOVector *qiov, void *base, size_t len);
/* Append bytes [soffset, soffset+sbytes) of src to dst (pointers, no copy). */
void qemu_iovec_concat(QEMUIOVector *dst, QEMUIOVector *src,
                       size_t soffset, size_t sbytes);
/* Drop bytes from the end. */
void qemu_iovec_discard_back(QEMUIOVector *qiov, size_t bytes);

size_t qemu_iovec_to_buf(QEMUIOVector *qiov, size_t offset,
                         void *buf, size_t bytes);
size_t qemu_iovec_from_buf(QEMUIOVector *qiov, size_t offset,
                           const void *buf, size_t bytes);
size_t qemu_iovec_memset(QEMUIOVector *qiov, size_t offset,
                         int fillc, size_t bytes);
/* Offset of the first differing byte, or -1 if equal (sizes must match). */
ssize_t qemu_iovec_compare(QEMUIOVector *a, QEMUIOVector *b);
bool qemu_iovec_is_zero(QEMUIOVector *qiov, size_t offset, size_t bytes);
/* True if every element's base and length are multiples of align. */
bool qemu_iovec_is_aligned(QEMUIOVector *qiov, size_t align);

#endif /* QEMU_IOV_H */
