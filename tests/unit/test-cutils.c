/*
 * Unit tests for the strict number/size parsers and size_to_str()
 * (util/cutils.c).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "qemu/osdep.h"
#include "qapi/error.h"
#include "qemu/cutils.h"

/* ---- qemu_strtoi64 / qemu_strtou64 / qemu_strtoi / qemu_strtoui ---- */

typedef struct IntCase {
    const char *str;
    int base;
    int ret;            /* whole string (end == NULL) */
    int64_t val;
} IntCase;

static const IntCase i64_cases[] = {
    { "0", 10, 0, 0 },
    { "12345", 10, 0, 12345 },
    { "  \t-42", 10, 0, -42 },              /* leading whitespace */
    { "+7", 10, 0, 7 },
    { "0x1f", 0, 0, 31 },
    { "010", 0, 0, 8 },                     /* base 0: octal */
    { "010", 10, 0, 10 },
    { "ff", 16, 0, 255 },
    { "0xff", 16, 0, 255 },
    { "z", 36, 0, 35 },
    { "9223372036854775807", 10, 0, INT64_MAX },
    { "-9223372036854775808", 10, 0, INT64_MIN },
    /* overflow clamps */
    { "9223372036854775808", 10, -ERANGE, INT64_MAX },
    { "-9223372036854775809", 10, -ERANGE, INT64_MIN },
    { "0x8000000000000000", 0, -ERANGE, INT64_MAX },
    /* garbage */
    { "", 10, -EINVAL, 0 },
    { "   ", 10, -EINVAL, 0 },
    { "abc", 10, -EINVAL, 0 },
    { "-", 10, -EINVAL, 0 },
    { "12abc", 10, -EINVAL, 0 },
    { "12 ", 10, -EINVAL, 0 },              /* trailing whitespace */
    { "0x", 0, -EINVAL, 0 },
    { "8", 8, -EINVAL, 0 },
    { "99999999999999999999x", 10, -EINVAL, 0 },   /* garbage wins */
    { "1", 1, -EINVAL, 0 },                 /* invalid bases */
    { "1", 37, -EINVAL, 0 },
    { "1", -1, -EINVAL, 0 },
};

static void test_strtoi64(void)
{
    for (size_t i = 0; i < ARRAY_SIZE(i64_cases); i++) {
        const IntCase *c = &i64_cases[i];
        int64_t val = 0x5555;

        g_test_message("strtoi64 '%s' base %d", c->str, c->base);
        g_assert_cmpint(qemu_strtoi64(c->str, NULL, c->base, &val), ==,
                        c->ret);
        g_assert_cmpint(val, ==, c->val);
    }
}

static void test_strtoi64_end(void)
{
    const char *s, *end;
    int64_t val;

    s = "12abc";
    g_assert_cmpint(qemu_strtoi64(s, &end, 10, &val), ==, 0);
    g_assert_cmpint(val, ==, 12);
    g_assert_true(end == s + 2);

    s = " -3,rest";
    g_assert_cmpint(qemu_strtoi64(s, &end, 0, &val), ==, 0);
    g_assert_cmpint(val, ==, -3);
    g_assert_cmpstr(end, ==, ",rest");

    s = "0x";                   /* "0" parses, 'x' is left over */
    g_assert_cmpint(qemu_strtoi64(s, &end, 0, &val), ==, 0);
    g_assert_cmpint(val, ==, 0);
    g_assert_cmpstr(end, ==, "x");

    s = "abc";                  /* no digits: end stays at the start */
    g_assert_cmpint(qemu_strtoi64(s, &end, 10, &val), ==, -EINVAL);
    g_assert_true(end == s);
    s = "  ";
    g_assert_cmpint(qemu_strtoi64(s, &end, 10, &val), ==, -EINVAL);
    g_assert_true(end == s);

    s = "99999999999999999999 tail";
    g_assert_cmpint(qemu_strtoi64(s, &end, 10, &val), ==, -ERANGE);
    g_assert_cmpint(val, ==, INT64_MAX);
    g_assert_cmpstr(end, ==, " tail");

    end = "unchanged";
    g_assert_cmpint(qemu_strtoi64(NULL, &end, 10, &val), ==, -EINVAL);
    g_assert_null(end);
}

static const struct {
    const char *str;
    int base;
    int ret;
    uint64_t val;
} u64_cases[] = {
    { "0", 10, 0, 0 },
    { "+5", 10, 0, 5 },
    { " 42", 0, 0, 42 },
    { "18446744073709551615", 10, 0, UINT64_MAX },
    { "0xffffffffffffffff", 0, 0, UINT64_MAX },
    { "18446744073709551616", 10, -ERANGE, UINT64_MAX },
    { "0x10000000000000000", 0, -ERANGE, UINT64_MAX },
    /* a minus sign cannot be unsigned: no silent wrap-around */
    { "-1", 10, -EINVAL, 0 },
    { " -0", 10, -EINVAL, 0 },
    { "-18446744073709551616", 10, -EINVAL, 0 },
    { "", 10, -EINVAL, 0 },
    { "x", 10, -EINVAL, 0 },
    { "1x", 10, -EINVAL, 0 },
    { "1", 40, -EINVAL, 0 },
};

static void test_strtou64(void)
{
    const char *end;
    uint64_t val;

    for (size_t i = 0; i < ARRAY_SIZE(u64_cases); i++) {
        val = 0x5555;
        g_test_message("strtou64 '%s'", u64_cases[i].str);
        g_assert_cmpint(qemu_strtou64(u64_cases[i].str, NULL,
                                      u64_cases[i].base, &val),
                        ==, u64_cases[i].ret);
        g_assert_cmpuint(val, ==, u64_cases[i].val);
    }

    g_assert_cmpint(qemu_strtou64("77 z", &end, 8, &val), ==, 0);
    g_assert_cmpuint(val, ==, 63);
    g_assert_cmpstr(end, ==, " z");
    const char *neg = "-1";
    g_assert_cmpint(qemu_strtou64(neg, &end, 10, &val), ==, -EINVAL);
    g_assert_true(end == neg);
}

static void test_strtoi(void)
{
    const char *end;
    int val;

    g_assert_cmpint(qemu_strtoi("2147483647", NULL, 10, &val), ==, 0);
    g_assert_cmpint(val, ==, INT_MAX);
    g_assert_cmpint(qemu_strtoi("-2147483648", NULL, 10, &val), ==, 0);
    g_assert_cmpint(val, ==, INT_MIN);
    g_assert_cmpint(qemu_strtoi("2147483648", NULL, 10, &val), ==, -ERANGE);
    g_assert_cmpint(val, ==, INT_MAX);
    g_assert_cmpint(qemu_strtoi("-2147483649", NULL, 10, &val), ==, -ERANGE);
    g_assert_cmpint(val, ==, INT_MIN);
    g_assert_cmpint(qemu_strtoi("9223372036854775808", NULL, 10, &val), ==,
                    -ERANGE);
    g_assert_cmpint(val, ==, INT_MAX);
    g_assert_cmpint(qemu_strtoi("0x10", NULL, 0, &val), ==, 0);
    g_assert_cmpint(val, ==, 16);
    g_assert_cmpint(qemu_strtoi("", NULL, 10, &val), ==, -EINVAL);
    g_assert_cmpint(qemu_strtoi("5q", NULL, 10, &val), ==, -EINVAL);
    g_assert_cmpint(qemu_strtoi("5q", &end, 10, &val), ==, 0);
    g_assert_cmpint(val, ==, 5);
    g_assert_cmpstr(end, ==, "q");
}

static void test_strtoui(void)
{
    const char *end;
    unsigned int val;

    g_assert_cmpint(qemu_strtoui("4294967295", NULL, 10, &val), ==, 0);
    g_assert_cmpuint(val, ==, UINT_MAX);
    g_assert_cmpint(qemu_strtoui("4294967296", NULL, 10, &val), ==, -ERANGE);
    g_assert_cmpuint(val, ==, UINT_MAX);
    g_assert_cmpint(qemu_strtoui("-1", NULL, 10, &val), ==, -EINVAL);
    g_assert_cmpint(qemu_strtoui("", NULL, 10, &val), ==, -EINVAL);
    g_assert_cmpint(qemu_strtoui("12 ", NULL, 10, &val), ==, -EINVAL);
    g_assert_cmpint(qemu_strtoui("12 ", &end, 10, &val), ==, 0);
    g_assert_cmpuint(val, ==, 12);
    g_assert_cmpstr(end, ==, " ");
}

/* ---- sizes ---- */

typedef struct SizeCase {
    const char *str;
    int ret;
    uint64_t val;       /* when ret == 0 */
} SizeCase;

#define KiB (1ULL << 10)
#define MiB (1ULL << 20)
#define GiB (1ULL << 30)
#define TiB (1ULL << 40)
#define PiB (1ULL << 50)
#define EiB (1ULL << 60)

/*
 * qemu_strtosz(str, NULL): QEMU 10's rules.  Every input that qemu-io can
 * pass (no spaces, no empty string) was probed with QEMU 10.0.2's qemu-io
 * ("read -- STR 1" on a sparse image of 8 EiB - 1 GiB) and its answer is
 * cvtnum() of this row: the value, or -ERANGE above INT64_MAX, or ret.
 */
static const SizeCase size_cases[] = {
    /* decimal */
    { "0", 0, 0 },
    { "5", 0, 5 },
    { "012", 0, 12 },                       /* no octal */
    { "000", 0, 0 },
    { "0005k", 0, 5 * KiB },
    { "+5", 0, 5 },
    { "+5k", 0, 5 * KiB },
    /* suffixes, either case; one letter only */
    { "1b", 0, 1 }, { "1B", 0, 1 },
    { "1m", 0, MiB }, { "1g", 0, GiB }, { "1t", 0, TiB }, { "1p", 0, PiB },
    { "1e", 0, EiB }, { "1E", 0, EiB },
    { "1KB", -EINVAL },
    { "1kb", -EINVAL },
    { "1KiB", -EINVAL },
    { "1Q", -EINVAL },
    { "1Z", -EINVAL },
    { "12k3", -EINVAL },
    { "1k1", -EINVAL },
    { "k", -EINVAL }, { "K", -EINVAL }, { "B", -EINVAL }, { "b", -EINVAL },
    { "1e3", -EINVAL },                     /* 'e' is EiB, not an exponent */
    { "1E3", -EINVAL },
    { "1e-3", -EINVAL },
    { "1.5e3", -EINVAL },
    { "5.e3", -EINVAL },
    /* hex: no fraction, no suffix (B and E are digits) */
    { "0x10", 0, 16 },
    { "0X10", 0, 16 },
    { "+0x10", 0, 16 },
    { "0x1B", 0, 0x1b }, { "0x1b", 0, 0x1b }, { "0xB", 0, 11 },
    { "0x1E", 0, 0x1e }, { "0x1e", 0, 0x1e },
    { "0xaB", 0, 0xab },
    { "0x0", 0, 0 },
    { "0x00000000000000000001", 0, 1 },
    { "0x1k", -EINVAL }, { "0x1K", -EINVAL }, { "0x1M", -EINVAL },
    { "0x1m", -EINVAL }, { "0x1G", -EINVAL }, { "0x1T", -EINVAL },
    { "0x1P", -EINVAL },
    { "0xffffffffffffffffk", -EINVAL },
    { "0x4000000000000000K", -EINVAL },
    { "0x1.8", -EINVAL },
    { "0x1.8k", -EINVAL },
    { "0x.8", -EINVAL },
    { "0x1p3", -EINVAL },
    { "0x", -EINVAL },
    { "0xg", -EINVAL },
    { "0xk", -EINVAL },
    { "00x10", -EINVAL },
    { "00x1", -EINVAL },
    { "0x-5", -EINVAL },
    { "0x+5", -EINVAL },
    { "0x7fffffffffffffff", 0, INT64_MAX },
    { "0x8000000000000000", 0, 1ULL << 63 },      /* qemu-io: -ERANGE */
    { "0xffffffffffffffff", 0, UINT64_MAX },
    { "0x10000000000000000", -ERANGE },
    { "0x10000000000000000k", -EINVAL },
    { "0x10000000000000000.5", -EINVAL },
    /* fractions */
    { "1.5k", 0, 1536 },
    { "0.5k", 0, 512 },
    { ".5k", 0, 512 },
    { "+.5k", 0, 512 },
    { ".5e", 0, EiB / 2 }, { ".5E", 0, EiB / 2 },
    { "0.5e", 0, EiB / 2 },
    { "0.5M", 0, MiB / 2 },
    { "0.5G", 0, GiB / 2 },
    { "1.5m", 0, 3 * MiB / 2 }, { "1.5g", 0, 3 * GiB / 2 },
    { "1.5t", 0, 3 * TiB / 2 }, { "1.5p", 0, 3 * PiB / 2 },
    { "1.5P", 0, 3 * PiB / 2 }, { "1.5E", 0, 3 * EiB / 2 },
    { "5.5e", 0, 11 * EiB / 2 },
    { "4.0E", 0, 4 * EiB },
    { "5.", 0, 5 },
    { "5.k", 0, 5 * KiB },
    { "5.B", 0, 5 },
    { "1.e", 0, EiB }, { "1.E", 0, EiB },
    { "5.0", 0, 5 },                        /* a zero fraction is no fraction */
    { "5.000", 0, 5 },
    { "5.0B", 0, 5 },
    { "1.5", -EINVAL },                     /* a byte fraction */
    { "1.5B", -EINVAL },
    { "2.5b", -EINVAL },
    { "0.5", -EINVAL },
    { ".5", -EINVAL },
    { "1.00000000000000000001", -EINVAL },  /* tiny, but not zero */
    { "9223372036854775807.5", -EINVAL },
    { ".", -EINVAL }, { ".k", -EINVAL }, { ".e", -EINVAL },
    { "+.", -EINVAL }, { "-.", -EINVAL },
    { "1..5k", -EINVAL }, { "1.5.k", -EINVAL }, { "5..", -EINVAL },
    { ".5.", -EINVAL }, { "1.5.", -EINVAL },
    { "1,5k", -EINVAL },
    /* the fraction is a double, the result rounded half up */
    { "1.1k", 0, 1126 },                    /* 1126.4 */
    { "0.1k", 0, 102 },                     /* 102.4 */
    { "0.7k", 0, 717 },                     /* 716.8 */
    { "1.999999999k", 0, 2048 },            /* 2047.999998976 */
    { "0.00048828125k", 0, 1 },             /* 0.5 */
    { "0.00048828124k", 0, 0 },
    { "0.0009765625k", 0, 1 },
    { "1.0009765625K", 0, 1025 },
    { "1.00048828125k", 0, 1025 },          /* 1024.5 */
    { "1.0014648437k", 0, 1025 },           /* 1025.49999... */
    { "1.0014648438k", 0, 1026 },           /* 1025.50000... */
    { "0.3E", 0, 345876451382054080ULL },   /* double(0.3) * 2^60 */
    { "0.1E", 0, 115292150460684704ULL },   /* double(0.1) * 2^60 */
    { "7.5E", 0, 15 * EiB / 2 },
    { "7.999999999E", 0, 9223372035701854336ULL },
    { "7.99999999999E", 0, 9223372036843246592ULL },
    { "1.0000000000000000001E", 0, EiB },
    { "0.00000000000000000001k", 0, 0 },
    { "0.000000000000000000001E", 0, 0 },
    /* digits that round to 1.0 carry into the integer part */
    { "1.99999999999999999999", 0, 2 },
    { "1.99999999999999999999B", 0, 2 },
    { "1.99999999999999999999k", 0, 2 * KiB },
    { "1.9999999999999999999999k", 0, 2 * KiB },
    { ".99999999999999999999k", 0, KiB },
    { "7.99999999999999999E", 0, 8 * EiB },         /* qemu-io: -ERANGE */
    { "15.9999999999999999999E", -ERANGE },
    { "18446744073709551614.99999999999999999999", 0, UINT64_MAX },
    { "18446744073709551615.99999999999999999999", -ERANGE },
    { "1.00000000000000000001k", 0, KiB },
    /* signs: '-' before digits is -ERANGE, then trailing text -EINVAL */
    { "-5", -ERANGE },
    { "-0", -ERANGE },
    { "-.5", -ERANGE },
    { "-.0", -ERANGE },
    { "-99999999999999999999", -ERANGE },
    { "-5k", -EINVAL },
    { "-5x", -EINVAL },
    { "-.5k", -EINVAL },
    { "-.0k", -EINVAL },
    { "-0.0", -EINVAL },
    { "-0.0k", -EINVAL },
    { "-0x10", -EINVAL },
    { "-", -EINVAL }, { "+", -EINVAL },
    { "--5", -EINVAL }, { "+-5", -EINVAL }, { "++5", -EINVAL },
    { "-x", -EINVAL },
    { "+ 5", -EINVAL }, { "- 5", -EINVAL },
    { "+\t5", -EINVAL }, { "+\t.5k", -EINVAL },
    /* whitespace: leading only */
    { "\t5", 0, 5 }, { "\v5", 0, 5 }, { "\n5", 0, 5 }, { " 5", 0, 5 },
    { "\f0x10", 0, 16 }, { "\t+0x10", 0, 16 }, { " 0x10", 0, 16 },
    { "\t.5k", 0, 512 },
    { "5\t", -EINVAL }, { "5 ", -EINVAL }, { "1k\n", -EINVAL },
    { "1.5\t", -EINVAL }, { "0x1 ", -EINVAL },
    { "1\tk", -EINVAL }, { "1 k", -EINVAL },
    { "", -EINVAL }, { "   ", -EINVAL },
    /* large */
    { "9223372036854775807", 0, INT64_MAX },
    { "9223372036854775807.0", 0, INT64_MAX },
    { "9223372036854775808", 0, 1ULL << 63 },     /* qemu-io: -ERANGE */
    { "18446744073709551615", 0, UINT64_MAX },
    { "18446744073709551616", -ERANGE },
    { "99999999999999999999", -ERANGE },
    { "99999999999999999999k", -EINVAL },
    { "99999999999999999999x", -EINVAL },
    { "99999999999999999999.5k", -EINVAL },
    { "9999999999999999999999999999999999999999.5", -EINVAL },
    { "18446744073709551615.5k", -ERANGE },
    { "7E", 0, 7 * EiB },
    { "8E", 0, 8 * EiB },                   /* qemu-io: -ERANGE */
    { "15E", 0, 15 * EiB },
    { "16E", -ERANGE },
    { "16.0E", -ERANGE },
    { "16Ex", -EINVAL },
    { "8191P", 0, 8191 * PiB },
    { "8192P", 0, 8192 * PiB },             /* qemu-io: -ERANGE */
    { "16384P", -ERANGE },
    { "8388607T", 0, 8388607 * TiB },
    { "8388608T", 0, 8388608 * TiB },       /* qemu-io: -ERANGE */
    { "17179869183G", 0, 17179869183ULL * GiB },
    { "17179869184G", -ERANGE },
    /* words */
    { "abc", -EINVAL }, { "1x", -EINVAL },
    { "inf", -EINVAL }, { "inf.", -EINVAL }, { "nan.", -EINVAL },
    { "-inf.", -EINVAL }, { "infinity.5", -EINVAL },
};

static void test_strtosz(void)
{
    for (size_t i = 0; i < ARRAY_SIZE(size_cases); i++) {
        const SizeCase *c = &size_cases[i];
        uint64_t val = 0xbaadf00d;
        int64_t io = c->ret ? c->ret : c->val > INT64_MAX ? -ERANGE : c->val;

        g_test_message("strtosz '%s'", c->str);
        g_assert_cmpint(qemu_strtosz(c->str, NULL, &val), ==, c->ret);
        /* The result is only written on success. */
        g_assert_cmpuint(val, ==, c->ret == 0 ? c->val : 0xbaadf00d);
        /* What qemu-io sees. */
        g_assert_cmpint(cvtnum(c->str), ==, io);
    }
}

/* Digits beyond what a double can hold: underflow still counts. */
static void test_strtosz_underflow(void)
{
    g_autofree char *zeros = g_strnfill(400, '0');
    g_autofree char *frac_k = g_strdup_printf(".%s1k", zeros);
    g_autofree char *frac = g_strdup_printf(".%s1", zeros);
    g_autofree char *five = g_strdup_printf("5.%s1", zeros);
    g_autofree char *five_k = g_strdup_printf("5.%s1k", zeros);
    g_autofree char *neg = g_strdup_printf("-.%s1", zeros);
    g_autofree char *five_zero = g_strdup_printf("5.%s", zeros);
    uint64_t val;

    g_assert_cmpint(qemu_strtosz(frac_k, NULL, &val), ==, 0);
    g_assert_cmpuint(val, ==, 0);
    g_assert_cmpint(qemu_strtosz(five_k, NULL, &val), ==, 0);
    g_assert_cmpuint(val, ==, 5 * KiB);
    g_assert_cmpint(qemu_strtosz(five_zero, NULL, &val), ==, 0);
    g_assert_cmpuint(val, ==, 5);
    g_assert_cmpint(qemu_strtosz(frac, NULL, &val), ==, -EINVAL);
    g_assert_cmpint(qemu_strtosz(five, NULL, &val), ==, -EINVAL);
    g_assert_cmpint(qemu_strtosz(neg, NULL, &val), ==, -ERANGE);
}

static void test_strtosz_end(void)
{
    const char *s, *end;
    uint64_t val;

    s = "12Q";                  /* unknown letter: not a suffix, stop */
    g_assert_cmpint(qemu_strtosz(s, &end, &val), ==, 0);
    g_assert_cmpuint(val, ==, 12);
    g_assert_true(end == s + 2);

    s = "4k,rest";
    g_assert_cmpint(qemu_strtosz(s, &end, &val), ==, 0);
    g_assert_cmpuint(val, ==, 4096);
    g_assert_cmpstr(end, ==, ",rest");

    s = "12KB";
    g_assert_cmpint(qemu_strtosz(s, &end, &val), ==, 0);
    g_assert_cmpuint(val, ==, 12 * KiB);
    g_assert_cmpstr(end, ==, "B");

    s = "1e3";                  /* 'e' is a suffix */
    g_assert_cmpint(qemu_strtosz(s, &end, &val), ==, 0);
    g_assert_cmpuint(val, ==, EiB);
    g_assert_cmpstr(end, ==, "3");

    s = "1. ";                  /* the '.' belongs to the number */
    g_assert_cmpint(qemu_strtosz(s, &end, &val), ==, 0);
    g_assert_cmpuint(val, ==, 1);
    g_assert_cmpstr(end, ==, " ");

    s = "0x";                   /* "0", then 'x' */
    g_assert_cmpint(qemu_strtosz(s, &end, &val), ==, 0);
    g_assert_cmpuint(val, ==, 0);
    g_assert_cmpstr(end, ==, "x");
    s = "00x1";
    g_assert_cmpint(qemu_strtosz(s, &end, &val), ==, 0);
    g_assert_cmpuint(val, ==, 0);
    g_assert_cmpstr(end, ==, "x1");

    /* Errors leave end at the start. */
    s = "1.5x";                 /* a byte fraction even with end */
    g_assert_cmpint(qemu_strtosz(s, &end, &val), ==, -EINVAL);
    g_assert_true(end == s);
    s = "0x1.8";
    g_assert_cmpint(qemu_strtosz(s, &end, &val), ==, -EINVAL);
    g_assert_true(end == s);
    s = "0x1k";                 /* a hex suffix even with end */
    g_assert_cmpint(qemu_strtosz(s, &end, &val), ==, -EINVAL);
    g_assert_true(end == s);
    s = "abc";
    g_assert_cmpint(qemu_strtosz(s, &end, &val), ==, -EINVAL);
    g_assert_true(end == s);
    s = "";
    g_assert_cmpint(qemu_strtosz(s, &end, &val), ==, -EINVAL);
    g_assert_true(end == s);

    /* -ERANGE stops after what was parsed. */
    s = "-4k";
    g_assert_cmpint(qemu_strtosz(s, &end, &val), ==, -ERANGE);
    g_assert_cmpstr(end, ==, "k");
    s = "-.5k";
    g_assert_cmpint(qemu_strtosz(s, &end, &val), ==, -ERANGE);
    g_assert_cmpstr(end, ==, "k");
    s = "99999999999999999999.5k";
    g_assert_cmpint(qemu_strtosz(s, &end, &val), ==, -ERANGE);
    g_assert_cmpstr(end, ==, ".5k");
    s = "0x10000000000000000k";
    g_assert_cmpint(qemu_strtosz(s, &end, &val), ==, -ERANGE);
    g_assert_cmpstr(end, ==, "k");
    s = "16E+";
    g_assert_cmpint(qemu_strtosz(s, &end, &val), ==, -ERANGE);
    g_assert_cmpstr(end, ==, "+");

    end = "unchanged";
    g_assert_cmpint(qemu_strtosz(NULL, &end, &val), ==, -EINVAL);
    g_assert_null(end);
    g_assert_cmpint(qemu_strtosz(NULL, NULL, &val), ==, -EINVAL);
}

static void test_strtosz_MiB(void)
{
    uint64_t val;

    g_assert_cmpint(qemu_strtosz_MiB("1", NULL, &val), ==, 0);
    g_assert_cmpuint(val, ==, MiB);
    g_assert_cmpint(qemu_strtosz_MiB("1.5", NULL, &val), ==, 0);
    g_assert_cmpuint(val, ==, 3 * MiB / 2);
    g_assert_cmpint(qemu_strtosz_MiB("1K", NULL, &val), ==, 0);
    g_assert_cmpuint(val, ==, KiB);
    g_assert_cmpint(qemu_strtosz_MiB("1B", NULL, &val), ==, 0);
    g_assert_cmpuint(val, ==, 1);
    g_assert_cmpint(qemu_strtosz_MiB("17592186044415", NULL, &val), ==, 0);
    g_assert_cmpuint(val, ==, 17592186044415ULL << 20);
    g_assert_cmpint(qemu_strtosz_MiB("17592186044416", NULL, &val), ==,
                    -ERANGE);
    g_assert_cmpint(qemu_strtosz_MiB(".5", NULL, &val), ==, 0);
    g_assert_cmpuint(val, ==, MiB / 2);
    g_assert_cmpint(qemu_strtosz_MiB("0.7", NULL, &val), ==, 0);
    g_assert_cmpuint(val, ==, 734003);      /* 734003.19999... */
    g_assert_cmpint(qemu_strtosz_MiB("0x10", NULL, &val), ==, 0);
    g_assert_cmpuint(val, ==, 16 * MiB);    /* hex takes the default unit */
    g_assert_cmpint(qemu_strtosz_MiB("0x10M", NULL, &val), ==, -EINVAL);
    g_assert_cmpint(qemu_strtosz_MiB("1.5B", NULL, &val), ==, -EINVAL);
    g_assert_cmpint(qemu_strtosz_MiB("-1", NULL, &val), ==, -ERANGE);
    g_assert_cmpint(qemu_strtosz_MiB("", NULL, &val), ==, -EINVAL);
}

static const struct {
    const char *name;
    const char *str;
    const char *msg;
} parse_size_errors[] = {
    { NULL, "12Q", "'12Q': invalid size suffix 'Q' "
                   "(use B, K, M, G, T, P or E)" },
    { NULL, "12KB", "'12KB': invalid size suffix 'KB' "
                    "(use B, K, M, G, T, P or E)" },
    { NULL, "3foo", "'3foo': invalid size suffix 'foo' "
                    "(use B, K, M, G, T, P or E)" },
    { NULL, "-5", "'-5': negative size" },
    { NULL, " -5k", "' -5k': negative size" },
    { NULL, "-0", "'-0': negative size" },
    { NULL, "-.5", "'-.5': negative size" },
    { NULL, "-", "'-': not a number" },
    { NULL, "+", "'+': not a number" },
    { NULL, ".k", "'.k': not a number" },
    { NULL, "", "'': empty size" },
    { NULL, "  ", "'  ': empty size" },
    { NULL, "abc", "'abc': not a number" },
    { NULL, "0x", "'0x': not a number" },
    { NULL, "00x10", "'00x10': not a number" },
    { NULL, "1KiB", "'1KiB': invalid size suffix 'KiB' "
                    "(use B, K, M, G, T, P or E)" },
    { NULL, "1.5x", "'1.5x': invalid size suffix 'x' "
                    "(use B, K, M, G, T, P or E)" },
    { NULL, "5.x", "'5.x': invalid size suffix 'x' "
                   "(use B, K, M, G, T, P or E)" },
    { NULL, "1e3", "'1e3': trailing garbage '3'" },
    { NULL, "0x1k", "'0x1k': hexadecimal size cannot have a suffix "
                    "(write it in decimal)" },
    { NULL, "12 K", "'12 K': trailing garbage ' K'" },
    { NULL, "1k,", "'1k,': trailing garbage ','" },
    { NULL, "0x1.8M", "'0x1.8M': hexadecimal size cannot have a fraction" },
    { NULL, "1.5", "'1.5': fractional size needs a suffix "
                   "K, M, G, T, P or E" },
    { NULL, "1.5B", "'1.5B': fractional size needs a suffix "
                    "K, M, G, T, P or E" },
    { NULL, "99999999999999999999",
      "'99999999999999999999': size too large (max 16 EiB - 1)" },
    { NULL, "16E", "'16E': size too large (max 16 EiB - 1)" },
    { NULL, "99999999999999999999k",
      "'99999999999999999999k': size too large (max 16 EiB - 1)" },
    { NULL, "15.9999999999999999999E",
      "'15.9999999999999999999E': size too large (max 16 EiB - 1)" },
    { "size", "12Q", "Parameter 'size': '12Q': invalid size suffix 'Q' "
                     "(use B, K, M, G, T, P or E)" },
    { "file.size", "-1", "Parameter 'file.size': '-1': negative size" },
};

static void test_parse_size(void)
{
    uint64_t val = 7;
    Error *err = NULL;

    g_assert_true(qemu_parse_size("size", "4k", &val, &err));
    g_assert_null(err);
    g_assert_cmpuint(val, ==, 4096);
    g_assert_true(qemu_parse_size(NULL, "0x100000", &val, &error_abort));
    g_assert_cmpuint(val, ==, MiB);
    g_assert_true(qemu_parse_size(NULL, "+.5k", &val, &error_abort));
    g_assert_cmpuint(val, ==, 512);
    g_assert_true(qemu_parse_size(NULL, "5.", &val, &error_abort));
    g_assert_cmpuint(val, ==, 5);

    for (size_t i = 0; i < ARRAY_SIZE(parse_size_errors); i++) {
        val = 7;
        g_assert_false(qemu_parse_size(parse_size_errors[i].name,
                                       parse_size_errors[i].str, &val, &err));
        g_assert_nonnull(err);
        g_assert_cmpstr(error_get_pretty(err), ==, parse_size_errors[i].msg);
        g_assert_cmpuint(val, ==, 7);
        error_free(err);
        err = NULL;
    }
    /* NULL errp is allowed. */
    g_assert_false(qemu_parse_size(NULL, "x", &val, NULL));
}

static void test_cvtnum(void)
{
    g_assert_cmpint(cvtnum("0"), ==, 0);
    g_assert_cmpint(cvtnum("512"), ==, 512);
    g_assert_cmpint(cvtnum("4k"), ==, 4096);
    g_assert_cmpint(cvtnum("1.5M"), ==, 3 * MiB / 2);
    g_assert_cmpint(cvtnum("0x200"), ==, 512);
    g_assert_cmpint(cvtnum("9223372036854775807"), ==, INT64_MAX);
    g_assert_cmpint(cvtnum("7.5E"), ==, 8646911284551352320LL);
    g_assert_cmpint(cvtnum("9223372036854775808"), ==, -ERANGE);
    g_assert_cmpint(cvtnum("8E"), ==, -ERANGE);
    g_assert_cmpint(cvtnum("99999999999999999999"), ==, -ERANGE);
    g_assert_cmpint(cvtnum("abc"), ==, -EINVAL);
    g_assert_cmpint(cvtnum("-1"), ==, -ERANGE);
    g_assert_cmpint(cvtnum("-1k"), ==, -EINVAL);
    g_assert_cmpint(cvtnum("0x1k"), ==, -EINVAL);
    g_assert_cmpint(cvtnum(".5k"), ==, 512);
    g_assert_cmpint(cvtnum(""), ==, -EINVAL);
    g_assert_cmpint(cvtnum("12Q"), ==, -EINVAL);
    g_assert_cmpint(cvtnum("1.5"), ==, -EINVAL);
}

/* Reference strings as qemu-io prints them (iotests golden outputs). */
static const struct {
    uint64_t val;
    const char *str;
} size_str_cases[] = {
    { 0, "0 bytes" },
    { 1, "1 bytes" },
    { 512, "512 bytes" },
    { 1000, "1000 bytes" },
    { 1023, "1023 bytes" },
    { 1024, "1 KiB" },
    { 1025, "1.001 KiB" },
    { 1234, "1.205 KiB" },
    { 1536, "1.500 KiB" },
    { 4096, "4 KiB" },
    { 65024, "63.500 KiB" },
    { 65536, "64 KiB" },
    { 527872, "515.500 KiB" },
    { 982528, "959.500 KiB" },
    { 1048575, "1023.999 KiB" },
    { 1048576, "1 MiB" },
    { 5243000, "5 MiB" },                   /* 5.0001 rounds to .000 */
    { 3 * MiB / 2, "1.500 MiB" },
    { GiB, "1 GiB" },
    { 3 * GiB / 2, "1.500 GiB" },
    { TiB, "1 TiB" },
    { PiB, "1 PiB" },
    { EiB, "1 EiB" },
    { 15 * EiB, "15 EiB" },
    { UINT64_MAX, "16 EiB" },
};

static void test_size_to_str(void)
{
    for (size_t i = 0; i < ARRAY_SIZE(size_str_cases); i++) {
        g_autofree char *s = size_to_str(size_str_cases[i].val);
        g_assert_cmpstr(s, ==, size_str_cases[i].str);
    }
}

static void test_parse_bool(void)
{
    static const char *const yes[] = { "on", "yes", "true" };
    static const char *const no[] = { "off", "no", "false" };
    static const char *const bad[] = {
        "", "ON", "Yes", "TRUE", "1", "0", "y", "n", "onn", "of", " on",
        "on ", "tru",
    };
    bool b;

    for (size_t i = 0; i < ARRAY_SIZE(yes); i++) {
        b = false;
        g_assert_true(qemu_parse_bool(yes[i], &b));
        g_assert_true(b);
        g_assert_true(qemu_parse_bool(no[i], &b));
        g_assert_false(b);
    }
    for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
        b = true;
        g_assert_false(qemu_parse_bool(bad[i], &b));
        g_assert_true(b);                       /* untouched */
    }
    g_assert_false(qemu_parse_bool(NULL, &b));
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/cutils/strtoi64", test_strtoi64);
    g_test_add_func("/cutils/strtoi64-end", test_strtoi64_end);
    g_test_add_func("/cutils/strtou64", test_strtou64);
    g_test_add_func("/cutils/strtoi", test_strtoi);
    g_test_add_func("/cutils/strtoui", test_strtoui);
    g_test_add_func("/cutils/strtosz", test_strtosz);
    g_test_add_func("/cutils/strtosz-underflow", test_strtosz_underflow);
    g_test_add_func("/cutils/strtosz-end", test_strtosz_end);
    g_test_add_func("/cutils/strtosz-MiB", test_strtosz_MiB);
    g_test_add_func("/cutils/parse-size", test_parse_size);
    g_test_add_func("/cutils/cvtnum", test_cvtnum);
    g_test_add_func("/cutils/size-to-str", test_size_to_str);
    g_test_add_func("/cutils/parse-bool", test_parse_bool);
    return g_test_run();
}
