/*
 * Unit tests for struct iovec helpers and QEMUIOVector (util/iov.c).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "qemu/osdep.h"
#include "qemu/iov.h"

/* Element lengths with an empty element in the middle and at the end. */
static const size_t layout[] = { 3, 1, 0, 7, 16, 5, 0 };
#define LAYOUT_TOTAL 32

/* Build an iovec array over separate heap buffers following layout[]. */
static struct iovec *make_iov(unsigned int *cnt)
{
    struct iovec *iov = g_new0(struct iovec, ARRAY_SIZE(layout));

    for (size_t i = 0; i < ARRAY_SIZE(layout); i++) {
        /* one spare byte so that even empty elements get a real pointer */
        iov[i].iov_base = g_malloc0(layout[i] + 1);
        iov[i].iov_len = layout[i];
    }
    *cnt = ARRAY_SIZE(layout);
    return iov;
}

static void free_iov(struct iovec *iov, unsigned int cnt)
{
    for (unsigned int i = 0; i < cnt; i++) {
        g_free(iov[i].iov_base);
    }
    g_free(iov);
}

/* Flatten iov into buf without using the code under test. */
static void flatten(const struct iovec *iov, unsigned int cnt, uint8_t *buf)
{
    for (unsigned int i = 0; i < cnt; i++) {
        memcpy(buf, iov[i].iov_base, iov[i].iov_len);
        buf += iov[i].iov_len;
    }
}

static void test_iov_size(void)
{
    unsigned int cnt;
    struct iovec *iov = make_iov(&cnt);

    g_assert_cmpuint(iov_size(iov, cnt), ==, LAYOUT_TOTAL);
    g_assert_cmpuint(iov_size(iov, 0), ==, 0);
    g_assert_cmpuint(iov_size(iov, 2), ==, 4);
    free_iov(iov, cnt);
}

/*
 * Every (offset, bytes) pair, including ones reaching past the end, for
 * iov_from_buf / iov_to_buf / iov_memset against a flat reference.
 */
static void test_iov_copy_all_ranges(void)
{
    unsigned int cnt;
    struct iovec *iov = make_iov(&cnt);
    uint8_t src[LAYOUT_TOTAL + 8], ref[LAYOUT_TOTAL], flat[LAYOUT_TOTAL];
    uint8_t out[LAYOUT_TOTAL + 8];

    for (size_t i = 0; i < sizeof(src); i++) {
        src[i] = 0x80 + i;
    }
    for (size_t off = 0; off <= LAYOUT_TOTAL + 2; off++) {
        for (size_t bytes = 0; bytes <= LAYOUT_TOTAL + 3; bytes++) {
            size_t expect = off >= LAYOUT_TOTAL ? 0 :
                            MIN(bytes, LAYOUT_TOTAL - off);
            size_t n;

            /* from_buf: only [off, off + expect) changes */
            for (unsigned int i = 0; i < cnt; i++) {
                memset(iov[i].iov_base, 0x11, iov[i].iov_len);
            }
            memset(ref, 0x11, sizeof(ref));
            memcpy(ref + MIN(off, LAYOUT_TOTAL), src, expect);
            n = iov_from_buf(iov, cnt, off, src, bytes);
            g_assert_cmpuint(n, ==, expect);
            flatten(iov, cnt, flat);
            g_assert_cmpmem(flat, sizeof(flat), ref, sizeof(ref));

            /* to_buf reads the same bytes back, leaves the rest of out */
            memset(out, 0xee, sizeof(out));
            n = iov_to_buf(iov, cnt, off, out, bytes);
            g_assert_cmpuint(n, ==, expect);
            g_assert_cmpmem(out, expect, src, expect);
            g_assert_cmpint(out[expect], ==, 0xee);

            /* memset */
            memset(ref + MIN(off, LAYOUT_TOTAL), 0x5a, expect);
            n = iov_memset(iov, cnt, off, 0x5a, bytes);
            g_assert_cmpuint(n, ==, expect);
            flatten(iov, cnt, flat);
            g_assert_cmpmem(flat, sizeof(flat), ref, sizeof(ref));
        }
    }
    free_iov(iov, cnt);
}

static void test_init_add(void)
{
    QEMUIOVector qiov;
    char a[10], b[20];

    qemu_iovec_init(&qiov, 0);
    g_assert_cmpint(qiov.niov, ==, 0);
    g_assert_cmpuint(qiov.size, ==, 0);
    g_assert_cmpint(qiov.nalloc, ==, 0);

    /* Grows well past the hint. */
    for (int i = 0; i < 100; i++) {
        qemu_iovec_add(&qiov, i % 2 ? a : b, i % 2 ? sizeof(a) : sizeof(b));
    }
    g_assert_cmpint(qiov.niov, ==, 100);
    g_assert_cmpint(qiov.nalloc, >=, 100);
    g_assert_cmpuint(qiov.size, ==, 50 * (sizeof(a) + sizeof(b)));
    g_assert_true(qiov.iov[0].iov_base == b);
    g_assert_true(qiov.iov[99].iov_base == a);
    g_assert_cmpuint(iov_size(qiov.iov, qiov.niov), ==, qiov.size);

    qemu_iovec_reset(&qiov);
    g_assert_cmpint(qiov.niov, ==, 0);
    g_assert_cmpuint(qiov.size, ==, 0);
    g_assert_cmpint(qiov.nalloc, >=, 100);      /* allocation kept */
    qemu_iovec_add(&qiov, a, 3);
    g_assert_cmpuint(qiov.size, ==, 3);
    qemu_iovec_destroy(&qiov);

    qemu_iovec_init(&qiov, 4);
    g_assert_cmpint(qiov.nalloc, ==, 4);
    g_assert_nonnull(qiov.iov);
    qemu_iovec_destroy(&qiov);
    g_assert_null(qiov.iov);
}

static void test_init_external(void)
{
    char a[4], b[6];
    struct iovec iov[2] = {
        { .iov_base = a, .iov_len = sizeof(a) },
        { .iov_base = b, .iov_len = sizeof(b) },
    };
    QEMUIOVector qiov;

    qemu_iovec_init_external(&qiov, iov, 2);
    g_assert_true(qiov.iov == iov);
    g_assert_cmpint(qiov.niov, ==, 2);
    g_assert_cmpint(qiov.nalloc, ==, -1);
    g_assert_cmpuint(qiov.size, ==, 10);
    qemu_iovec_destroy(&qiov);      /* must not free the stack array */

    qemu_iovec_init_external(&qiov, NULL, 0);
    g_assert_cmpuint(qiov.size, ==, 0);
}

static void test_init_buf(void)
{
    char buf[100];
    QEMUIOVector qiov;

    qemu_iovec_init_buf(&qiov, buf, sizeof(buf));
    g_assert_cmpint(qiov.niov, ==, 1);
    g_assert_cmpint(qiov.nalloc, ==, -1);
    g_assert_cmpuint(qiov.size, ==, sizeof(buf));
    g_assert_true(qiov.iov == &qiov.local_iov);
    g_assert_true(qiov.iov[0].iov_base == buf);

    memset(buf, 0, sizeof(buf));
    g_assert_cmpuint(qemu_iovec_memset(&qiov, 10, 'x', 5), ==, 5);
    g_assert_cmpint(buf[9], ==, 0);
    g_assert_cmpint(buf[10], ==, 'x');
    g_assert_cmpint(buf[14], ==, 'x');
    g_assert_cmpint(buf[15], ==, 0);
    qemu_iovec_destroy(&qiov);
}

/* add() and reset() on an external or embedded vector are bugs. */
static void test_misuse_add_external(void)
{
    if (g_test_subprocess()) {
        char buf[8];
        QEMUIOVector qiov;

        qemu_iovec_init_buf(&qiov, buf, sizeof(buf));
        qemu_iovec_add(&qiov, buf, 1);
        return;
    }
    g_test_trap_subprocess(NULL, 0, 0);
    g_test_trap_assert_failed();
}

static void test_misuse_concat_external(void)
{
    if (g_test_subprocess()) {
        char buf[8];
        struct iovec iov = { .iov_base = buf, .iov_len = sizeof(buf) };
        QEMUIOVector ext, src;

        qemu_iovec_init_external(&ext, &iov, 1);
        qemu_iovec_init_buf(&src, buf, sizeof(buf));
        qemu_iovec_concat(&ext, &src, 0, 4);
        return;
    }
    g_test_trap_subprocess(NULL, 0, 0);
    g_test_trap_assert_failed();
}

static void test_misuse_reset_external(void)
{
    if (g_test_subprocess()) {
        char buf[8];
        QEMUIOVector qiov;

        qemu_iovec_init_buf(&qiov, buf, sizeof(buf));
        qemu_iovec_reset(&qiov);
        return;
    }
    g_test_trap_subprocess(NULL, 0, 0);
    g_test_trap_assert_failed();
}

static void test_misuse_concat_range(void)
{
    if (g_test_subprocess()) {
        char buf[8];
        QEMUIOVector dst, src;

        qemu_iovec_init_buf(&src, buf, sizeof(buf));
        qemu_iovec_init(&dst, 1);
        qemu_iovec_concat(&dst, &src, 4, 5);    /* one byte too many */
        return;
    }
    g_test_trap_subprocess(NULL, 0, 0);
    g_test_trap_assert_failed();
}

static void test_misuse_discard_too_much(void)
{
    if (g_test_subprocess()) {
        char buf[8];
        QEMUIOVector qiov;

        qemu_iovec_init(&qiov, 1);
        qemu_iovec_add(&qiov, buf, sizeof(buf));
        qemu_iovec_discard_back(&qiov, sizeof(buf) + 1);
        return;
    }
    g_test_trap_subprocess(NULL, 0, 0);
    g_test_trap_assert_failed();
}

static void test_misuse_compare_sizes(void)
{
    if (g_test_subprocess()) {
        char buf[8] = { 0 };
        QEMUIOVector a, b;

        qemu_iovec_init_buf(&a, buf, 8);
        qemu_iovec_init_buf(&b, buf, 7);
        qemu_iovec_compare(&a, &b);
        return;
    }
    g_test_trap_subprocess(NULL, 0, 0);
    g_test_trap_assert_failed();
}

/* Owned vector over one flat buffer, cut into layout[] pieces. */
static void init_layout_qiov(QEMUIOVector *qiov, uint8_t *buf)
{
    size_t pos = 0;

    qemu_iovec_init(qiov, 2);
    for (size_t i = 0; i < ARRAY_SIZE(layout); i++) {
        qemu_iovec_add(qiov, buf + pos, layout[i]);
        pos += layout[i];
    }
    g_assert_cmpuint(qiov->size, ==, LAYOUT_TOTAL);
}

static void test_concat(void)
{
    uint8_t buf[LAYOUT_TOTAL];
    QEMUIOVector src, dst;

    init_layout_qiov(&src, buf);
    for (size_t off = 0; off <= LAYOUT_TOTAL; off++) {
        for (size_t len = 0; off + len <= LAYOUT_TOTAL; len++) {
            uint8_t *expect_ptr = buf + off;

            qemu_iovec_init(&dst, 0);
            qemu_iovec_add(&dst, NULL, 0);      /* pre-existing element */
            qemu_iovec_concat(&dst, &src, off, len);
            g_assert_cmpuint(dst.size, ==, len);
            /* Pointers into the source memory, in order, no copy. */
            for (int i = 1; i < dst.niov; i++) {
                g_assert_true(dst.iov[i].iov_base == expect_ptr);
                g_assert_cmpuint(dst.iov[i].iov_len, >, 0);
                expect_ptr += dst.iov[i].iov_len;
            }
            g_assert_true(expect_ptr == buf + off + len);
            qemu_iovec_destroy(&dst);
        }
    }

    /* Concatenating a vector onto itself doubles it. */
    qemu_iovec_concat(&src, &src, 0, LAYOUT_TOTAL);
    g_assert_cmpuint(src.size, ==, 2 * LAYOUT_TOTAL);
    for (size_t i = 0; i < sizeof(buf); i++) {
        buf[i] = i;
    }
    {
        uint8_t out[2 * LAYOUT_TOTAL];
        g_assert_cmpuint(qemu_iovec_to_buf(&src, 0, out, sizeof(out)), ==,
                         sizeof(out));
        g_assert_cmpmem(out, LAYOUT_TOTAL, buf, LAYOUT_TOTAL);
        g_assert_cmpmem(out + LAYOUT_TOTAL, LAYOUT_TOTAL, buf, LAYOUT_TOTAL);
    }
    qemu_iovec_destroy(&src);
}

static void test_slice(void)
{
    uint8_t buf[LAYOUT_TOTAL];
    uint8_t out[LAYOUT_TOTAL];
    QEMUIOVector src, slice;

    for (size_t i = 0; i < sizeof(buf); i++) {
        buf[i] = i;
    }
    init_layout_qiov(&src, buf);

    g_assert_cmpint(qemu_iovec_init_slice(&slice, &src, 2, 20), ==, 0);
    g_assert_cmpuint(slice.size, ==, 20);
    g_assert_cmpint(slice.nalloc, !=, -1);      /* owned: can grow */
    g_assert_true(slice.iov[0].iov_base == buf + 2);
    /* No data copy: writes to the source show through the slice. */
    buf[5] = 0xaa;
    g_assert_cmpuint(qemu_iovec_to_buf(&slice, 0, out, 20), ==, 20);
    g_assert_cmpmem(out, 20, buf + 2, 20);
    g_assert_cmpint(out[3], ==, 0xaa);
    qemu_iovec_add(&slice, out, 1);
    g_assert_cmpuint(slice.size, ==, 21);
    g_assert_cmpuint(src.size, ==, LAYOUT_TOTAL);   /* source untouched */
    qemu_iovec_destroy(&slice);

    /* Boundaries: whole vector, empty slice at the very end. */
    g_assert_cmpint(qemu_iovec_init_slice(&slice, &src, 0, LAYOUT_TOTAL),
                    ==, 0);
    g_assert_cmpint(qemu_iovec_compare(&slice, &src), ==, -1);
    qemu_iovec_destroy(&slice);
    g_assert_cmpint(qemu_iovec_init_slice(&slice, &src, LAYOUT_TOTAL, 0),
                    ==, 0);
    g_assert_cmpuint(slice.size, ==, 0);
    g_assert_cmpint(slice.niov, ==, 0);
    qemu_iovec_destroy(&slice);

    /* Outside the source. */
    g_assert_cmpint(qemu_iovec_init_slice(&slice, &src, 0, LAYOUT_TOTAL + 1),
                    ==, -EINVAL);
    g_assert_cmpint(qemu_iovec_init_slice(&slice, &src, LAYOUT_TOTAL + 1, 0),
                    ==, -EINVAL);
    g_assert_cmpint(qemu_iovec_init_slice(&slice, &src, 1, SIZE_MAX),
                    ==, -EINVAL);                /* offset + len wraps */
    qemu_iovec_destroy(&src);
}

static void test_qiov_buf_copies(void)
{
    uint8_t buf[LAYOUT_TOTAL];
    uint8_t data[LAYOUT_TOTAL];
    uint8_t out[LAYOUT_TOTAL + 4];
    QEMUIOVector qiov;

    memset(buf, 0, sizeof(buf));
    for (size_t i = 0; i < sizeof(data); i++) {
        data[i] = 0xc0 + i;
    }
    init_layout_qiov(&qiov, buf);

    g_assert_cmpuint(qemu_iovec_from_buf(&qiov, 3, data, 10), ==, 10);
    g_assert_cmpmem(buf + 3, 10, data, 10);
    g_assert_cmpint(buf[2], ==, 0);
    g_assert_cmpint(buf[13], ==, 0);

    /* Past the end: short count, or nothing at all. */
    g_assert_cmpuint(qemu_iovec_from_buf(&qiov, LAYOUT_TOTAL - 2, data, 10),
                     ==, 2);
    g_assert_cmpuint(qemu_iovec_from_buf(&qiov, LAYOUT_TOTAL, data, 10),
                     ==, 0);
    g_assert_cmpuint(qemu_iovec_to_buf(&qiov, LAYOUT_TOTAL + 100, out, 4),
                     ==, 0);
    g_assert_cmpuint(qemu_iovec_to_buf(&qiov, 0, out, sizeof(out)), ==,
                     LAYOUT_TOTAL);
    g_assert_cmpmem(out + LAYOUT_TOTAL - 2, 2, data, 2);
    g_assert_cmpuint(qemu_iovec_memset(&qiov, LAYOUT_TOTAL - 1, 0, 50),
                     ==, 1);
    g_assert_cmpint(buf[LAYOUT_TOTAL - 1], ==, 0);
    g_assert_cmpint(buf[LAYOUT_TOTAL - 2], ==, data[0]);
    qemu_iovec_destroy(&qiov);
}

static void test_compare(void)
{
    uint8_t abuf[LAYOUT_TOTAL], bbuf[LAYOUT_TOTAL];
    QEMUIOVector a, b;

    for (size_t i = 0; i < LAYOUT_TOTAL; i++) {
        abuf[i] = bbuf[i] = i * 7;
    }
    /* Different element boundaries on each side. */
    init_layout_qiov(&a, abuf);
    qemu_iovec_init(&b, 0);
    qemu_iovec_add(&b, bbuf, 10);
    qemu_iovec_add(&b, bbuf + 10, 0);
    qemu_iovec_add(&b, bbuf + 10, LAYOUT_TOTAL - 10);

    g_assert_cmpint(qemu_iovec_compare(&a, &b), ==, -1);
    for (size_t pos = 0; pos < LAYOUT_TOTAL; pos++) {
        bbuf[pos] ^= 1;
        g_assert_cmpint(qemu_iovec_compare(&a, &b), ==, pos);
        g_assert_cmpint(qemu_iovec_compare(&b, &a), ==, pos);
        /* A later difference does not hide the first one. */
        if (pos + 5 < LAYOUT_TOTAL) {
            abuf[pos + 5] ^= 2;
            g_assert_cmpint(qemu_iovec_compare(&a, &b), ==, pos);
            abuf[pos + 5] ^= 2;
        }
        bbuf[pos] ^= 1;
    }

    /* Empty vectors are equal. */
    qemu_iovec_reset(&a);
    qemu_iovec_reset(&b);
    g_assert_cmpint(qemu_iovec_compare(&a, &b), ==, -1);
    qemu_iovec_destroy(&a);
    qemu_iovec_destroy(&b);
}

static void test_is_zero(void)
{
    uint8_t buf[LAYOUT_TOTAL] = { 0 };
    QEMUIOVector qiov;

    init_layout_qiov(&qiov, buf);
    g_assert_true(qemu_iovec_is_zero(&qiov, 0, LAYOUT_TOTAL));
    g_assert_true(qemu_iovec_is_zero(&qiov, LAYOUT_TOTAL, 0));

    buf[11] = 1;       /* inside the 16-byte element, at its start */
    g_assert_false(qemu_iovec_is_zero(&qiov, 0, LAYOUT_TOTAL));
    g_assert_false(qemu_iovec_is_zero(&qiov, 11, 1));
    g_assert_false(qemu_iovec_is_zero(&qiov, 5, 7));
    g_assert_true(qemu_iovec_is_zero(&qiov, 0, 11));
    g_assert_true(qemu_iovec_is_zero(&qiov, 12, LAYOUT_TOTAL - 12));
    buf[11] = 0;
    buf[LAYOUT_TOTAL - 1] = 0x80;      /* the very last byte */
    g_assert_false(qemu_iovec_is_zero(&qiov, 0, LAYOUT_TOTAL));
    g_assert_true(qemu_iovec_is_zero(&qiov, 0, LAYOUT_TOTAL - 1));
    g_assert_false(qemu_iovec_is_zero(&qiov, LAYOUT_TOTAL - 1, 1));
    qemu_iovec_destroy(&qiov);
}

static void test_is_aligned(void)
{
    uint8_t *buf = qemu_memalign(4096, 8192);
    QEMUIOVector qiov;

    qemu_iovec_init(&qiov, 0);
    g_assert_true(qemu_iovec_is_aligned(&qiov, 512));  /* vacuous */
    qemu_iovec_add(&qiov, buf, 512);
    qemu_iovec_add(&qiov, buf + 4096, 1024);
    g_assert_true(qemu_iovec_is_aligned(&qiov, 512));
    g_assert_false(qemu_iovec_is_aligned(&qiov, 1024));    /* length 512 */
    qemu_iovec_add(&qiov, buf + 1, 512);                  /* base off */
    g_assert_false(qemu_iovec_is_aligned(&qiov, 512));
    g_assert_true(qemu_iovec_is_aligned(&qiov, 1));
    qemu_iovec_destroy(&qiov);
    qemu_vfree(buf);
}

static void test_discard_back(void)
{
    uint8_t buf[LAYOUT_TOTAL];
    QEMUIOVector qiov;

    init_layout_qiov(&qiov, buf);
    /* Last element is empty, before it one of 5 bytes. */
    qemu_iovec_discard_back(&qiov, 0);
    g_assert_cmpuint(qiov.size, ==, LAYOUT_TOTAL);

    qemu_iovec_discard_back(&qiov, 2);          /* inside the 5-byte one */
    g_assert_cmpuint(qiov.size, ==, LAYOUT_TOTAL - 2);
    g_assert_cmpuint(iov_size(qiov.iov, qiov.niov), ==, qiov.size);
    g_assert_cmpuint(qiov.iov[qiov.niov - 1].iov_len, ==, 3);

    qemu_iovec_discard_back(&qiov, 3);          /* exactly that element */
    g_assert_cmpuint(qiov.size, ==, LAYOUT_TOTAL - 5);
    g_assert_cmpuint(iov_size(qiov.iov, qiov.niov), ==, qiov.size);
    g_assert_cmpuint(qiov.iov[qiov.niov - 1].iov_len, ==, 16);

    qemu_iovec_discard_back(&qiov, 16 + 7 + 1);  /* across several */
    g_assert_cmpuint(qiov.size, ==, 3);
    g_assert_cmpint(qiov.niov, ==, 1);
    g_assert_cmpuint(qiov.iov[0].iov_len, ==, 3);

    qemu_iovec_discard_back(&qiov, 3);
    g_assert_cmpuint(qiov.size, ==, 0);
    g_assert_cmpint(qiov.niov, ==, 0);
    qemu_iovec_destroy(&qiov);

    /* Works on an embedded vector too: it only shortens. */
    qemu_iovec_init_buf(&qiov, buf, sizeof(buf));
    qemu_iovec_discard_back(&qiov, 4);
    g_assert_cmpuint(qiov.size, ==, LAYOUT_TOTAL - 4);
    g_assert_cmpuint(qiov.iov[0].iov_len, ==, LAYOUT_TOTAL - 4);
}

/* Random layouts: compare against a flat model. */
static void test_random_roundtrip(void)
{
    for (int round = 0; round < 200; round++) {
        size_t total = 0;
        int n = g_test_rand_int_range(1, 12);
        g_autofree uint8_t *flat = NULL;
        g_autofree uint8_t *out = NULL;
        QEMUIOVector qiov;
        size_t off, len;

        qemu_iovec_init(&qiov, 0);
        for (int i = 0; i < n; i++) {
            size_t l = g_test_rand_int_range(0, 64);
            qemu_iovec_add(&qiov, g_malloc(l + 1), l);
            total += l;
        }
        flat = g_malloc(total + 1);
        out = g_malloc(total + 1);
        for (size_t i = 0; i < total; i++) {
            flat[i] = g_test_rand_int();
        }
        g_assert_cmpuint(qemu_iovec_from_buf(&qiov, 0, flat, total), ==,
                         total);
        off = g_test_rand_int_range(0, total + 1);
        len = g_test_rand_int_range(0, total - off + 1);
        g_assert_cmpuint(qemu_iovec_to_buf(&qiov, off, out, len), ==, len);
        g_assert_cmpmem(out, len, flat + off, len);

        for (int i = 0; i < qiov.niov; i++) {
            g_free(qiov.iov[i].iov_base);
        }
        qemu_iovec_destroy(&qiov);
    }
}

static void test_memalign(void)
{
    size_t page = qemu_real_host_page_size();
    void *p;

    g_assert_true(is_power_of_2(page));
    g_assert_cmpuint(page, ==, (size_t)sysconf(_SC_PAGESIZE));

    for (size_t align = 1; align <= 65536; align <<= 1) {
        p = qemu_memalign(align, 100);
        g_assert_true(QEMU_PTR_IS_ALIGNED(p, align));
        memset(p, 0xaa, 100);                   /* usable (ASan checks) */
        qemu_vfree(p);
    }
    /* align 0 means the page size; size 0 still gives a freeable block. */
    p = qemu_memalign(0, 0);
    g_assert_nonnull(p);
    g_assert_true(QEMU_PTR_IS_ALIGNED(p, page));
    qemu_vfree(p);
    qemu_vfree(NULL);

    errno = 0;
    g_assert_null(qemu_try_memalign(3, 100));   /* not a power of two */
    g_assert_cmpint(errno, ==, EINVAL);
    g_assert_null(qemu_try_memalign(4096 + 512, 100));
}

static void test_memalign_bad_align_aborts(void)
{
    if (g_test_subprocess()) {
        qemu_memalign(1000, 10);
        return;
    }
    g_test_trap_subprocess(NULL, 0, 0);
    g_test_trap_assert_failed();
    g_test_trap_assert_stderr("*qemu_memalign*");
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/iov/size", test_iov_size);
    g_test_add_func("/iov/copy-all-ranges", test_iov_copy_all_ranges);
    g_test_add_func("/iov/qiov/init-add-reset", test_init_add);
    g_test_add_func("/iov/qiov/init-external", test_init_external);
    g_test_add_func("/iov/qiov/init-buf", test_init_buf);
    g_test_add_func("/iov/qiov/concat", test_concat);
    g_test_add_func("/iov/qiov/slice", test_slice);
    g_test_add_func("/iov/qiov/buf-copies", test_qiov_buf_copies);
    g_test_add_func("/iov/qiov/compare", test_compare);
    g_test_add_func("/iov/qiov/is-zero", test_is_zero);
    g_test_add_func("/iov/qiov/is-aligned", test_is_aligned);
    g_test_add_func("/iov/qiov/discard-back", test_discard_back);
    g_test_add_func("/iov/qiov/random-roundtrip", test_random_roundtrip);
    g_test_add_func("/iov/misuse/add-external", test_misuse_add_external);
    g_test_add_func("/iov/misuse/concat-external",
                    test_misuse_concat_external);
    g_test_add_func("/iov/misuse/reset-external", test_misuse_reset_external);
    g_test_add_func("/iov/misuse/concat-range", test_misuse_concat_range);
    g_test_add_func("/iov/misuse/discard-too-much",
                    test_misuse_discard_too_much);
    g_test_add_func("/iov/misuse/compare-sizes", test_misuse_compare_sizes);
    g_test_add_func("/iov/memalign", test_memalign);
    g_test_add_func("/iov/memalign-bad-align", test_memalign_bad_align_aborts);
    return g_test_run();
}
