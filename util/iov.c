/*
 * Scatter/gather helpers: flat buffer <-> struct iovec copies and the
 * QEMUIOVector container used for every block-layer request.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "qemu/osdep.h"
#include <assert.h>
#include "qemu/iov.h"

size_t iov_size(const struct iovec *iov, unsigned int iov_cnt)
{
    size_t len = 0;

    for (unsigned int i = 0; i < iov_cnt; i++) {
        len += iov[i].iov_len;
    }
    return len;
}

/*
 * Call op on each chunk of [offset, offset + bytes) that lies inside the
 * vector; pos is the chunk's position relative to offset.  Returns the
 * number of bytes visited, which is short when the vector ends first.
 */
typedef void IOVChunkFunc(void *base, size_t pos, size_t len, void *opaque);

static size_t iov_for_each(const struct iovec *iov, unsigned int iov_cnt,
                           size_t offset, size_t bytes, IOVChunkFunc *op,
                           void *opaque)
{
    size_t done = 0;

    for (unsigned int i = 0; i < iov_cnt && done < bytes; i++) {
        size_t len = iov[i].iov_len;

        if (offset >= len) {
            offset -= len;
            continue;
        }
        len = MIN(len - offset, bytes - done);
        op((char *)iov[i].iov_base + offset, done, len, opaque);
        done += len;
        offset = 0;
    }
    return done;
}

static void chunk_from_buf(void *base, size_t pos, size_t len, void *opaque)
{
    memcpy(base, (const char *)opaque + pos, len);
}

static void chunk_to_buf(void *base, size_t pos, size_t len, void *opaque)
{
    memcpy((char *)opaque + pos, base, len);
}

static void chunk_memset(void *base, size_t pos, size_t len, void *opaque)
{
    memset(base, *(int *)opaque, len);
}

size_t iov_from_buf(const struct iovec *iov, unsigned int iov_cnt,
                    size_t offset, const void *buf, size_t bytes)
{
    return iov_for_each(iov, iov_cnt, offset, bytes, chunk_from_buf,
                        (void *)buf);
}

size_t iov_to_buf(const struct iovec *iov, unsigned int iov_cnt,
                  size_t offset, void *buf, size_t bytes)
{
    return iov_for_each(iov, iov_cnt, offset, bytes, chunk_to_buf, buf);
}

size_t iov_memset(const struct iovec *iov, unsigned int iov_cnt,
                  size_t offset, int fillc, size_t bytes)
{
    return iov_for_each(iov, iov_cnt, offset, bytes, chunk_memset, &fillc);
}

/* ---- QEMUIOVector ---- */

void qemu_iovec_init(QEMUIOVector *qiov, int alloc_hint)
{
    assert(alloc_hint >= 0);
    memset(qiov, 0, sizeof(*qiov));
    qiov->iov = alloc_hint ? g_new(struct iovec, alloc_hint) : NULL;
    qiov->nalloc = alloc_hint;
}

void qemu_iovec_init_external(QEMUIOVector *qiov, struct iovec *iov, int niov)
{
    assert(niov >= 0);
    memset(qiov, 0, sizeof(*qiov));
    qiov->iov = iov;
    qiov->niov = niov;
    qiov->nalloc = -1;
    qiov->size = iov_size(iov, niov);
}

void qemu_iovec_init_buf(QEMUIOVector *qiov, void *buf, size_t len)
{
    memset(qiov, 0, sizeof(*qiov));
    qiov->local_iov.iov_base = buf;
    qiov->local_iov.iov_len = len;
    /* Points into qiov itself: such a vector must not be copied by value. */
    qiov->iov = &qiov->local_iov;
    qiov->niov = 1;
    qiov->nalloc = -1;
    qiov->size = len;
}

int qemu_iovec_init_slice(QEMUIOVector *qiov, QEMUIOVector *source,
                          size_t offset, size_t len)
{
    if (offset > source->size || len > source->size - offset) {
        return -EINVAL;
    }
    qemu_iovec_init(qiov, 0);
    qemu_iovec_concat(qiov, source, offset, len);
    return 0;
}

void qemu_iovec_destroy(QEMUIOVector *qiov)
{
    if (qiov->nalloc != -1) {
        g_free(qiov->iov);
    }
    memset(qiov, 0, sizeof(*qiov));
}

void qemu_iovec_reset(QEMUIOVector *qiov)
{
    assert(qiov->nalloc != -1);
    qiov->niov = 0;
    qiov->size = 0;
}

void qemu_iovec_add(QEMUIOVector *qiov, void *base, size_t len)
{
    /* External and embedded arrays are not ours to grow. */
    assert(qiov->nalloc != -1);

    if (qiov->niov == qiov->nalloc) {
        assert(qiov->nalloc < INT_MAX / 2);
        qiov->nalloc = 2 * qiov->nalloc + 1;
        qiov->iov = g_renew(struct iovec, qiov->iov, qiov->nalloc);
    }
    qiov->iov[qiov->niov].iov_base = base;
    qiov->iov[qiov->niov].iov_len = len;
    qiov->niov++;
    qiov->size += len;
}

void qemu_iovec_concat(QEMUIOVector *dst, QEMUIOVector *src,
                       size_t soffset, size_t sbytes)
{
    /* Snapshot the count: src may be dst, which grows as we append. */
    int src_niov = src->niov;

    assert(dst->nalloc != -1);
    assert(soffset <= src->size && sbytes <= src->size - soffset);

    for (int i = 0; i < src_niov && sbytes > 0; i++) {
        /* Re-read through src->iov each time: add() may move the array. */
        size_t len = src->iov[i].iov_len;
        char *base = src->iov[i].iov_base;

        if (soffset >= len) {
            soffset -= len;
            continue;
        }
        len = MIN(len - soffset, sbytes);
        qemu_iovec_add(dst, base + soffset, len);
        sbytes -= len;
        soffset = 0;
    }
    assert(sbytes == 0);
}

void qemu_iovec_discard_back(QEMUIOVector *qiov, size_t bytes)
{
    assert(bytes <= qiov->size);
    qiov->size -= bytes;

    while (bytes > 0) {
        struct iovec *last = &qiov->iov[qiov->niov - 1];

        if (last->iov_len > bytes) {
            last->iov_len -= bytes;
            break;
        }
        bytes -= last->iov_len;
        qiov->niov--;
    }
    /* Also drop empty elements that now end the vector. */
    while (qiov->niov > 0 && qiov->iov[qiov->niov - 1].iov_len == 0) {
        qiov->niov--;
    }
}

size_t qemu_iovec_to_buf(QEMUIOVector *qiov, size_t offset,
                         void *buf, size_t bytes)
{
    return iov_to_buf(qiov->iov, qiov->niov, offset, buf, bytes);
}

size_t qemu_iovec_from_buf(QEMUIOVector *qiov, size_t offset,
                           const void *buf, size_t bytes)
{
    return iov_from_buf(qiov->iov, qiov->niov, offset, buf, bytes);
}

size_t qemu_iovec_memset(QEMUIOVector *qiov, size_t offset,
                         int fillc, size_t bytes)
{
    return iov_memset(qiov->iov, qiov->niov, offset, fillc, bytes);
}

ssize_t qemu_iovec_compare(QEMUIOVector *a, QEMUIOVector *b)
{
    int ia = 0, ib = 0;
    size_t oa = 0, ob = 0;     /* offsets inside a->iov[ia], b->iov[ib] */
    size_t pos = 0;

    assert(a->size == b->size);

    while (pos < a->size) {
        const char *pa, *pb;
        size_t len;

        /* Skip exhausted (or empty) elements. */
        if (oa == a->iov[ia].iov_len) {
            ia++;
            oa = 0;
            continue;
        }
        if (ob == b->iov[ib].iov_len) {
            ib++;
            ob = 0;
            continue;
        }
        pa = (const char *)a->iov[ia].iov_base + oa;
        pb = (const char *)b->iov[ib].iov_base + ob;
        len = MIN(a->iov[ia].iov_len - oa, b->iov[ib].iov_len - ob);
        if (memcmp(pa, pb, len) != 0) {
            for (size_t i = 0; i < len; i++) {
                if (pa[i] != pb[i]) {
                    return pos + i;
                }
            }
        }
        pos += len;
        oa += len;
        ob += len;
    }
    return -1;
}

static bool buf_is_zero(const char *p, size_t len)
{
    /* p[0] == 0 and p[i] == p[i + 1] for all i means every byte is 0. */
    return len == 0 || (p[0] == 0 && memcmp(p, p + 1, len - 1) == 0);
}

bool qemu_iovec_is_zero(QEMUIOVector *qiov, size_t offset, size_t bytes)
{
    assert(offset <= qiov->size && bytes <= qiov->size - offset);

    for (int i = 0; i < qiov->niov && bytes > 0; i++) {
        size_t len = qiov->iov[i].iov_len;

        if (offset >= len) {
            offset -= len;
            continue;
        }
        len = MIN(len - offset, bytes);
        if (!buf_is_zero((const char *)qiov->iov[i].iov_base + offset, len)) {
            return false;
        }
        bytes -= len;
        offset = 0;
    }
    return true;
}

bool qemu_iovec_is_aligned(QEMUIOVector *qiov, size_t align)
{
    assert(align > 0);
    for (int i = 0; i < qiov->niov; i++) {
        if (!QEMU_PTR_IS_ALIGNED(qiov->iov[i].iov_base, align) ||
            !QEMU_IS_ALIGNED(qiov->iov[i].iov_len, align)) {
            return false;
        }
    }
    return true;
}
