/*
 * file-posix: the blocking work that runs on thread-pool workers
 * (preadv/pwritev loops, fdatasync, fallocate, discard and zero-out ioctls,
 * truncation).  Each function takes a RawThreadRequest and returns 0 or a
 * negative errno; operations the file system or device lacks give -ENOTSUP
 * so that file-posix can remember it and the core can fall back.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "qemu/osdep.h"
#include <sys/ioctl.h>
#include <linux/fs.h>
#include "raw-aio.h"

/* Chunk written at a time when preallocating with zeroes. */
#define RAW_PREALLOC_CHUNK (1 << 20)

static int raw_errno_notsup(int err)
{
    if (err == EOPNOTSUPP || err == ENOTSUP || err == ENOSYS ||
        err == ENOTTY) {
        return -ENOTSUP;
    }
    return -err;
}

/* Drop the first n bytes of a private iovec array. */
static void raw_iov_advance(struct iovec **iov, int *niov, size_t n)
{
    while (n > 0 && *niov > 0) {
        if (n >= (*iov)->iov_len) {
            n -= (*iov)->iov_len;
            (*iov)++;
            (*niov)--;
        } else {
            (*iov)->iov_base = (char *)(*iov)->iov_base + n;
            (*iov)->iov_len -= n;
            n = 0;
        }
    }
}

/*
 * Transfer the whole qiov, continuing after short transfers and EINTR.
 * A read that reaches the end of the file fills the rest with zeroes; a
 * write that makes no progress fails with -ENOSPC.
 */
static int raw_thread_rw(RawThreadRequest *r)
{
    bool is_read = r->op == RAW_THREAD_READ;
    struct iovec *iov = r->qiov->iov;
    struct iovec *copy = NULL;
    int niov = r->qiov->niov;
    size_t size = r->qiov->size;
    size_t done = 0;
    int ret = 0;

    while (done < size) {
        ssize_t n;

        if (is_read) {
            n = preadv(r->fd, iov, niov, r->offset + done);
        } else {
            n = pwritev(r->fd, iov, niov, r->offset + done);
        }
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            ret = -errno;
            break;
        }
        done += n;
        if (done == size) {
            break;
        }
        /* Nothing more, or O_DIRECT stopped off alignment: end of file. */
        if (n == 0 || (r->offset + done) % r->align != 0) {
            if (is_read) {
                qemu_iovec_memset(r->qiov, done, 0, size - done);
            } else {
                ret = -ENOSPC;
            }
            break;
        }
        if (!copy) {
            copy = g_memdup2(iov, niov * sizeof(*iov));
            iov = copy;
        }
        raw_iov_advance(&iov, &niov, n);
    }
    g_free(copy);
    return ret;
}

static int raw_thread_fallocate(RawThreadRequest *r, int mode)
{
    int ret;

    do {
        ret = fallocate(r->fd, mode, r->offset, r->bytes);
    } while (ret < 0 && errno == EINTR);
    return ret < 0 ? raw_errno_notsup(errno) : 0;
}

/*
 * Zeroes by deallocation.  The range may reach past the end of the file
 * (a request rounded up to the O_DIRECT alignment): extend the file then,
 * as a write of zeroes would.
 */
static int raw_thread_punch_hole(RawThreadRequest *r)
{
    struct stat st;
    int ret = raw_thread_fallocate(r, FALLOC_FL_PUNCH_HOLE |
                                      FALLOC_FL_KEEP_SIZE);

    if (ret < 0) {
        return ret;
    }
    if (fstat(r->fd, &st) < 0) {
        return -errno;
    }
    if (S_ISREG(st.st_mode) && r->offset + r->bytes > st.st_size &&
        ftruncate(r->fd, r->offset + r->bytes) < 0) {
        return -errno;
    }
    return 0;
}

static int raw_thread_blk_ioctl(RawThreadRequest *r, unsigned long req)
{
    uint64_t range[2] = { r->offset, r->bytes };

    if (ioctl(r->fd, req, range) < 0) {
        return raw_errno_notsup(errno);
    }
    return 0;
}

/* Write zero buffers over [start, end), aligned for O_DIRECT. */
static int raw_thread_write_zeroes_buf(RawThreadRequest *r, int64_t start,
                                       int64_t end)
{
    size_t buf_align = MAX(r->align, qemu_real_host_page_size());
    void *buf = qemu_try_memalign(buf_align, RAW_PREALLOC_CHUNK);
    int ret = 0;

    if (!buf) {
        return -ENOMEM;
    }
    memset(buf, 0, RAW_PREALLOC_CHUNK);
    while (start < end) {
        size_t len = MIN(end - start, RAW_PREALLOC_CHUNK);
        ssize_t n = pwrite(r->fd, buf, len, start);

        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            ret = -errno;
            break;
        }
        if (n == 0) {
            ret = -ENOSPC;
            break;
        }
        start += n;
    }
    qemu_vfree(buf);
    return ret;
}

/*
 * Resize a regular file to r->offset.  prealloc_full writes zeroes into
 * the new area (so that it is allocated) and makes them durable.
 */
static int raw_thread_truncate(RawThreadRequest *r)
{
    struct stat st;
    int64_t old_size, start, end;
    int ret;

    if (fstat(r->fd, &st) < 0) {
        return -errno;
    }
    old_size = st.st_size;
    if (ftruncate(r->fd, r->offset) < 0) {
        return -errno;
    }
    if (!r->prealloc_full || r->offset <= old_size) {
        return 0;
    }

    /*
     * The new area already reads as zeroes; allocate it by writing them.
     * With O_DIRECT, writes must stay aligned: the partial block at the old
     * end stays sparse, and a final partial block is written whole and cut
     * back afterwards.
     */
    start = QEMU_ALIGN_UP(old_size, r->align);
    end = QEMU_ALIGN_UP(r->offset, r->align);
    ret = raw_thread_write_zeroes_buf(r, start, end);
    if (ret == 0 && end != r->offset && ftruncate(r->fd, r->offset) < 0) {
        ret = -errno;
    }
    if (ret == 0 && fdatasync(r->fd) < 0) {
        ret = -errno;
    }
    if (ret < 0) {
        /* Do not leave a half-preallocated file behind. */
        if (ftruncate(r->fd, old_size) < 0) {
            /* nothing more we can do; report the first error */
        }
    }
    return ret;
}

int raw_thread_work(void *opaque)
{
    RawThreadRequest *r = opaque;

    switch (r->op) {
    case RAW_THREAD_READ:
    case RAW_THREAD_WRITE:
        return raw_thread_rw(r);
    case RAW_THREAD_FLUSH:
        return fdatasync(r->fd) < 0 ? -errno : 0;
    case RAW_THREAD_DISCARD:
        return raw_thread_fallocate(r, FALLOC_FL_PUNCH_HOLE |
                                       FALLOC_FL_KEEP_SIZE);
    case RAW_THREAD_ZERO_RANGE:
        return raw_thread_fallocate(r, FALLOC_FL_ZERO_RANGE);
    case RAW_THREAD_PUNCH_HOLE:
        return raw_thread_punch_hole(r);
    case RAW_THREAD_BLKDISCARD:
        return raw_thread_blk_ioctl(r, BLKDISCARD);
    case RAW_THREAD_BLKZEROOUT:
        return raw_thread_blk_ioctl(r, BLKZEROOUT);
    case RAW_THREAD_TRUNCATE:
        return raw_thread_truncate(r);
    }
    return -EINVAL;
}
