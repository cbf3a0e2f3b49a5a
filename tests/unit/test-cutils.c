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

static const SizeCase size_cases[] = {
    { "0", 0, 0 },
    { "12345", 0, 12345 },
    { "  12", 0, 12 },
    { "1B", 0, 1 }, { "1b", 0, 1 },
    { "1K", 0, KiB }, { "1k", 0, KiB },
    { "1M", 0, MiB }, { "1m", 0, MiB },
    { "1G", 0, GiB }, { "1g", 0, GiB },
    { "1T", 0, TiB }, { "1t", 0, TiB },
    { "1P", 0, PiB }, { "1p", 0, PiB },
    { "1E", 0, EiB }, { "1e", 0, EiB },
    { "15E", 0, 15 * EiB },
    { "0x10", 0, 16 }, { "0X10", 0, 16 },
    { "0x1K", 0, KiB },
    { "0xaB", 0, 0xab },                    /* B and E are hex digits */
    { "0x1E", 0, 0x1e },
    { "0x10P", 0, 16 * PiB },
    { "0xffffffffffffffff", 0, UINT64_MAX },
    { "1.5K", 0, 1536 },
    { "1.5M", 0, 3 * MiB / 2 },
    { "0.5k", 0, 512 },
    { "1.1k", 0, 1126 },                    /* 1126.4 rounded down */
    { "1.0009765625K", 0, 1025 },           /* exact fraction */
    { "0.3E", 0, 345876451382054092ULL },   /* floor(0.3 * 2^60) */
    { "18446744073709551615", 0, UINT64_MAX },
    { "15.9999999999999999999E", 0, UINT64_MAX },
    /* too large */
    { "18446744073709551616", -ERANGE },
    { "99999999999999999999", -ERANGE },
    { "16E", -ERANGE },
    { "16384P", -ERANGE },
    { "16.0E", -ERANGE },
    { "0x10000000000000000", -ERANGE },
    { "0x4000000000000000K", -ERANGE },
    /* garbage */
    { "", -EINVAL },
    { "   ", -EINVAL },
    { "-1", -EINVAL },
    { "-0", -EINVAL },
    { " -1k", -EINVAL },
    { "+1", -EINVAL },
    { "abc", -EINVAL },
    { "K", -EINVAL },
    { ".5K", -EINVAL },
    { "1.5", -EINVAL },                     /* fraction of a byte */
    { "1.5B", -EINVAL },
    { "1.5b", -EINVAL },
    { "0x1.8K", -EINVAL },                  /* hex fraction */
    { "0x", -EINVAL },
    { "0xg", -EINVAL },
    { "12Q", -EINVAL },
    { "12KB", -EINVAL },
    { "12KiB", -EINVAL },
    { "12 K", -EINVAL },
    { "1k ", -EINVAL },
    { "1.K", -EINVAL },
    { "1e3", -EINVAL },
    { "1,5K", -EINVAL },
};

static void test_strtosz(void)
{
    for (size_t i = 0; i < ARRAY_SIZE(size_cases); i++) {
        const SizeCase *c = &size_cases[i];
        uint64_t val = 0xbaadf00d;

        g_test_message("strtosz '%s'", c->str);
        g_assert_cmpint(qemu_strtosz(c->str, NULL, &val), ==, c->ret);
        /* The result is only written on success. */
        g_assert_cmpuint(val, ==, c->ret == 0 ? c->val : 0xbaadf00d);
    }
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

    s = "1. ";                  /* '.' without a digit is not a fraction */
    g_assert_cmpint(qemu_strtosz(s, &end, &val), ==, 0);
    g_assert_cmpuint(val, ==, 1);
    g_assert_cmpstr(end, ==, ". ");

    /* Errors leave end at the start. */
    s = "1.5x";
    g_assert_cmpint(qemu_strtosz(s, &end, &val), ==, -EINVAL);
    g_assert_true(end == s);
    s = "0x1.8";
    g_assert_cmpint(qemu_strtosz(s, &end, &val), ==, -EINVAL);
    g_assert_true(end == s);
    s = "-4k";
    g_assert_cmpint(qemu_strtosz(s, &end, &val), ==, -EINVAL);
    g_assert_true(end == s);
    s = "";
    g_assert_cmpint(qemu_strtosz(s, &end, &val), ==, -EINVAL);
    g_assert_true(end == s);

    s = "16E+";
    g_assert_cmpint(qemu_strtosz(s, &end, &val), ==, -ERANGE);
    g_assert_cmpstr(end, ==, "+");

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
    g_assert_cmpint(qemu_strtosz_MiB("1.5B", NULL, &val), ==, -EINVAL);
    g_assert_cmpint(qemu_strtosz_MiB("-1", NULL, &val), ==, -EINVAL);
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
    { NULL, "", "'': empty size" },
    { NULL, "  ", "'  ': empty size" },
    { NULL, "abc", "'abc': not a number" },
    { NULL, "0x", "'0x': not a number" },
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
    g_assert_true(qemu_parse_size(NULL, "0x1M", &val, &error_abort));
    g_assert_cmpuint(val, ==, MiB);

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
    g_assert_cmpint(cvtnum("-1"), ==, -EINVAL);
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
    g_test_add_func("/cutils/strtosz-end", test_strtosz_end);
    g_test_add_func("/cutils/strtosz-MiB", test_strtosz_MiB);
    g_test_add_func("/cutils/parse-size", test_parse_size);
    g_test_add_func("/cutils/cvtnum", test_cvtnum);
    g_test_add_func("/cutils/size-to-str", test_size_to_str);
    g_test_add_func("/cutils/parse-bool", test_parse_bool);
    return g_test_run();
}
