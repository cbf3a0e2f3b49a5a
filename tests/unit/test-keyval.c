/*
 * Unit tests for QDict and keyval_parse() (util/keyval.c).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "qemu/osdep.h"
#include "qapi/error.h"
#include "qemu/keyval.h"

/* Assert that d holds exactly the NULL-terminated key/value pairs, in order. */
static void assert_dict(const QDict *d, const char *const *kv)
{
    size_t n, want = 0;
    g_autofree const char **keys = qdict_keys(d, &n);

    while (kv[2 * want]) {
        want++;
    }
    g_assert_cmpuint(n, ==, want);
    g_assert_cmpuint(qdict_size(d), ==, want);
    g_assert_null(keys[n]);
    for (size_t i = 0; i < n; i++) {
        g_assert_cmpstr(keys[i], ==, kv[2 * i]);
        g_assert_cmpstr(qdict_get_try_str(d, kv[2 * i]), ==, kv[2 * i + 1]);
    }
}

static void test_qdict_basic(void)
{
    g_autoptr(QDict) d = qdict_new();
    g_autoptr(QDict) c = NULL;

    g_assert_cmpstr(qdict_get_prefix(d), ==, "");
    g_assert_cmpuint(qdict_size(d), ==, 0);
    g_assert_null(qdict_get_try_str(d, "a"));
    g_assert_false(qdict_haskey(d, "a"));
    g_assert_false(qdict_del(d, "a"));

    qdict_put_str(d, "b", "1");
    qdict_put_str(d, "a", "2");
    qdict_put_str(d, "c", "3");
    qdict_put_str(d, "b", "4");         /* replace keeps the position */
    assert_dict(d, (const char *[]) { "b", "4", "a", "2", "c", "3", NULL });
    g_assert_true(qdict_haskey(d, "a"));

    c = qdict_clone(d);
    g_assert_true(qdict_del(d, "a"));
    g_assert_false(qdict_del(d, "a"));
    assert_dict(d, (const char *[]) { "b", "4", "c", "3", NULL });
    /* The clone is independent. */
    assert_dict(c, (const char *[]) { "b", "4", "a", "2", "c", "3", NULL });

    /* Re-adding a deleted key appends it. */
    qdict_put_str(d, "a", "5");
    assert_dict(d, (const char *[]) { "b", "4", "c", "3", "a", "5", NULL });

    /* n may be NULL. */
    g_free(qdict_keys(d, NULL));
    qdict_free(NULL);
}

static void test_parse(void)
{
    Error *err = NULL;
    g_autoptr(QDict) d = keyval_parse("a=1,b.c=x,d=,Z_9-x.y=v", NULL, &err);

    g_assert_null(err);
    assert_dict(d, (const char *[]) {
        "a", "1", "b.c", "x", "d", "", "Z_9-x.y", "v", NULL });
    g_assert_cmpstr(qdict_get_prefix(d), ==, "");
    qdict_free(g_steal_pointer(&d));

    /* Empty input is an empty dict, with or without an implied key. */
    d = keyval_parse("", NULL, &error_abort);
    g_assert_cmpuint(qdict_size(d), ==, 0);
    qdict_free(g_steal_pointer(&d));
    d = keyval_parse("", "filename", &error_abort);
    g_assert_cmpuint(qdict_size(d), ==, 0);
    qdict_free(g_steal_pointer(&d));

    /* A value may contain '=' and anything but a lone comma. */
    d = keyval_parse("a=b=c,d= x/y:z ", NULL, &error_abort);
    assert_dict(d, (const char *[]) { "a", "b=c", "d", " x/y:z ", NULL });
}

static void test_escapes(void)
{
    static const struct {
        const char *params;
        const char *value;
    } cases[] = {
        { "a=x,,y", "x,y" },
        { "a=,,", "," },
        { "a=1,,", "1," },
        { "a=,,,,", ",," },
        { "a=x,,,,y", "x,,y" },
        { "a=x,,b=2", "x,b=2" },        /* ",," never ends the value */
    };

    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        g_autoptr(QDict) d = keyval_parse(cases[i].params, NULL,
                                          &error_abort);
        assert_dict(d, (const char *[]) { "a", cases[i].value, NULL });
    }

    g_autoptr(QDict) d = keyval_parse("a=,,,b=2", NULL, &error_abort);
    assert_dict(d, (const char *[]) { "a", ",", "b", "2", NULL });
}

static void test_implied(void)
{
    g_autoptr(QDict) d = NULL;

    d = keyval_parse("disk.img,format=raw", "filename", &error_abort);
    assert_dict(d, (const char *[]) {
        "filename", "disk.img", "format", "raw", NULL });
    qdict_free(g_steal_pointer(&d));

    /* The implied value takes escapes and any characters. */
    d = keyval_parse("my disk,,1.img", "filename", &error_abort);
    assert_dict(d, (const char *[]) { "filename", "my disk,1.img", NULL });
    qdict_free(g_steal_pointer(&d));
    d = keyval_parse(",,x", "filename", &error_abort);
    assert_dict(d, (const char *[]) { "filename", ",x", NULL });
    qdict_free(g_steal_pointer(&d));

    /* With '=' the first element is an ordinary key. */
    d = keyval_parse("filename=x,format=raw", "filename", &error_abort);
    assert_dict(d, (const char *[]) {
        "filename", "x", "format", "raw", NULL });
}

typedef struct ErrorCase {
    const char *params;
    const char *implied;
    const char *msg;
} ErrorCase;

static const ErrorCase parse_errors[] = {
    /* empty key */
    { "=1", NULL, "Empty parameter name in '=1'" },
    { "a=1,=2", NULL, "Empty parameter name in '=2'" },
    { ",a=1", NULL, "Empty parameter name in ',a=1'" },
    { ",a=1", "filename", "Empty parameter name in ',a=1'" },
    { "a=1,=", NULL, "Empty parameter name in '='" },
    /* key without '=' */
    { "a", NULL, "Expected '=' after parameter 'a'" },
    { "a=1,b", NULL, "Expected '=' after parameter 'b'" },
    { "a=1,b,c=2", NULL, "Expected '=' after parameter 'b'" },
    /* the implied key applies to the first element only */
    { "format=raw,disk.img", "filename",
      "Expected '=' after parameter 'disk.img'" },
    /* invalid key characters and shapes */
    { "a b=1", NULL, "Invalid parameter name 'a b'" },
    { "a/b=1", NULL, "Invalid parameter name 'a/b'" },
    { "x=1,k\xc3\xa9=2", NULL, "Invalid parameter name 'k\xc3\xa9'" },
    { "a..b=1", NULL, "Invalid parameter name 'a..b'" },
    { ".a=1", NULL, "Invalid parameter name '.a'" },
    { "a.=1", NULL, "Invalid parameter name 'a.'" },
    { ".=1", NULL, "Invalid parameter name '.'" },
    /* duplicates, also against the implied key */
    { "a=1,a=2", NULL, "Parameter 'a' is set more than once" },
    { "x.y=1,b=2,x.y=1", NULL, "Parameter 'x.y' is set more than once" },
    { "a.img,filename=b.img", "filename",
      "Parameter 'filename' is set more than once" },
    /* trailing comma */
    { "a=1,", NULL, "Trailing comma in 'a=1,'" },
    { "a=,,,", NULL, "Trailing comma in 'a=,,,'" },
    { "disk.img,", "filename", "Trailing comma in 'disk.img,'" },
};

static void test_parse_errors(void)
{
    for (size_t i = 0; i < ARRAY_SIZE(parse_errors); i++) {
        const ErrorCase *c = &parse_errors[i];
        Error *err = NULL;
        QDict *d;

        g_test_message("keyval_parse '%s'", c->params);
        d = keyval_parse(c->params, c->implied, &err);
        g_assert_null(d);
        g_assert_nonnull(err);
        g_assert_cmpstr(error_get_pretty(err), ==, c->msg);
        error_free(err);
    }
    /* NULL errp: still NULL result, no crash. */
    g_assert_null(keyval_parse("a", NULL, NULL));
}

static void test_extract_subdict(void)
{
    g_autoptr(QDict) d = keyval_parse(
        "driver=qcow2,file.driver=file,file.filename=a.img,filex=2,"
        "file.x.y=1,file=3,cache.direct=on", NULL, &error_abort);
    g_autoptr(QDict) file = NULL;
    g_autoptr(QDict) x = NULL;
    g_autoptr(QDict) none = NULL;

    file = qdict_extract_subdict(d, "file");
    g_assert_cmpstr(qdict_get_prefix(file), ==, "file.");
    /* Nested prefixes are kept, order preserved. */
    assert_dict(file, (const char *[]) {
        "driver", "file", "filename", "a.img", "x.y", "1", NULL });
    /* Only "file." keys moved: "filex" and "file" stay. */
    assert_dict(d, (const char *[]) {
        "driver", "qcow2", "filex", "2", "file", "3",
        "cache.direct", "on", NULL });

    /* One level further: the prefix accumulates. */
    x = qdict_extract_subdict(file, "x");
    g_assert_cmpstr(qdict_get_prefix(x), ==, "file.x.");
    assert_dict(x, (const char *[]) { "y", "1", NULL });
    assert_dict(file, (const char *[]) {
        "driver", "file", "filename", "a.img", NULL });

    /* Nothing to extract: empty dict, prefix still set. */
    none = qdict_extract_subdict(d, "backing");
    g_assert_cmpuint(qdict_size(none), ==, 0);
    g_assert_cmpstr(qdict_get_prefix(none), ==, "backing.");
    g_assert_cmpuint(qdict_size(d), ==, 4);

    /* A bare "p." key has no sub-key and is left alone. */
    qdict_put_str(d, "p.", "v");
    qdict_free(qdict_extract_subdict(d, "p"));
    g_assert_true(qdict_haskey(d, "p."));

    /* Clones keep the prefix. */
    g_autoptr(QDict) c = qdict_clone(x);
    g_assert_cmpstr(qdict_get_prefix(c), ==, "file.x.");
}

static void test_take_str(void)
{
    g_autoptr(QDict) d = keyval_parse("a=1,b=", NULL, &error_abort);
    char *s;

    g_assert_true(qdict_take_str(d, "a", "def", &s, &error_abort));
    g_assert_cmpstr(s, ==, "1");
    g_free(s);
    g_assert_false(qdict_haskey(d, "a"));               /* removed */
    g_assert_true(qdict_take_str(d, "a", "def", &s, &error_abort));
    g_assert_cmpstr(s, ==, "def");
    g_free(s);
    g_assert_true(qdict_take_str(d, "a", NULL, &s, &error_abort));
    g_assert_null(s);
    g_assert_true(qdict_take_str(d, "b", "def", &s, &error_abort));
    g_assert_cmpstr(s, ==, "");                         /* present, empty */
    g_free(s);
    g_assert_cmpuint(qdict_size(d), ==, 0);
}

static void test_take_bool(void)
{
    g_autoptr(QDict) d = keyval_parse(
        "cache.direct=maybe,cache.no-flush=on,ro=off", NULL, &error_abort);
    g_autoptr(QDict) cache = qdict_extract_subdict(d, "cache");
    Error *err = NULL;
    bool b = false;

    g_assert_true(qdict_take_bool(cache, "no-flush", false, &b, &err));
    g_assert_true(b);
    g_assert_true(qdict_take_bool(d, "ro", true, &b, &err));
    g_assert_false(b);
    g_assert_true(qdict_take_bool(d, "absent", true, &b, &err));
    g_assert_true(b);
    g_assert_null(err);

    g_assert_false(qdict_take_bool(cache, "direct", false, &b, &err));
    g_assert_cmpstr(error_get_pretty(err), ==,
                    "Parameter 'cache.direct' expects 'on' or 'off'");
    error_free(err);
    g_assert_cmpuint(qdict_size(cache), ==, 0);
    g_assert_cmpuint(qdict_size(d), ==, 0);
}

static void test_take_size(void)
{
    g_autoptr(QDict) d = keyval_parse(
        "file.size=4k,file.bad=12Q,file.neg=-1", NULL, &error_abort);
    g_autoptr(QDict) file = qdict_extract_subdict(d, "file");
    Error *err = NULL;
    uint64_t v = 0;

    g_assert_true(qdict_take_size(file, "size", 0, &v, &err));
    g_assert_cmpuint(v, ==, 4096);
    g_assert_true(qdict_take_size(file, "size", 512, &v, &err));
    g_assert_cmpuint(v, ==, 512);                       /* default */
    g_assert_null(err);

    g_assert_false(qdict_take_size(file, "bad", 0, &v, &err));
    g_assert_cmpstr(error_get_pretty(err), ==,
                    "Parameter 'file.bad': '12Q': invalid size suffix 'Q' "
                    "(use B, K, M, G, T, P or E)");
    error_free(err);
    err = NULL;
    g_assert_false(qdict_take_size(file, "neg", 0, &v, &err));
    g_assert_cmpstr(error_get_pretty(err), ==,
                    "Parameter 'file.neg': '-1': negative size");
    error_free(err);
    g_assert_cmpuint(qdict_size(file), ==, 0);
}

static void test_take_uint(void)
{
    g_autoptr(QDict) d = keyval_parse(
        "n=42,h=0x10,bad=abc,neg=-1,big=18446744073709551616,sp=1 ",
        NULL, &error_abort);
    Error *err = NULL;
    uint64_t v = 0;

    g_assert_true(qdict_take_uint(d, "n", 0, &v, &error_abort));
    g_assert_cmpuint(v, ==, 42);
    g_assert_true(qdict_take_uint(d, "h", 0, &v, &error_abort));
    g_assert_cmpuint(v, ==, 16);
    g_assert_true(qdict_take_uint(d, "n", 7, &v, &error_abort));
    g_assert_cmpuint(v, ==, 7);

    static const struct {
        const char *key;
        const char *msg;
    } bad[] = {
        { "bad", "Parameter 'bad' expects a non-negative integer" },
        { "neg", "Parameter 'neg' expects a non-negative integer" },
        { "sp", "Parameter 'sp' expects a non-negative integer" },
        { "big", "Parameter 'big' is too large "
                 "(max 18446744073709551615)" },
    };
    for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
        g_assert_false(qdict_take_uint(d, bad[i].key, 0, &v, &err));
        g_assert_cmpstr(error_get_pretty(err), ==, bad[i].msg);
        error_free(err);
        err = NULL;
    }
    g_assert_cmpuint(qdict_size(d), ==, 0);
}

static void test_take_enum(void)
{
    static const char *const aio[] = {
        "threads", "native", "io_uring", NULL
    };
    g_autoptr(QDict) d = keyval_parse("file.aio=native,file.x.aio=bogus",
                                      NULL, &error_abort);
    g_autoptr(QDict) file = qdict_extract_subdict(d, "file");
    g_autoptr(QDict) x = qdict_extract_subdict(file, "x");
    Error *err = NULL;
    int v = -1;

    g_assert_true(qdict_take_enum(file, "aio", aio, 0, &v, &err));
    g_assert_cmpint(v, ==, 1);
    g_assert_true(qdict_take_enum(file, "aio", aio, 2, &v, &err));
    g_assert_cmpint(v, ==, 2);                          /* default */
    g_assert_null(err);

    g_assert_false(qdict_take_enum(x, "aio", aio, 0, &v, &err));
    g_assert_cmpstr(error_get_pretty(err), ==,
                    "Parameter 'file.x.aio' expects 'threads', 'native', "
                    "'io_uring'");
    error_free(err);
}

static void test_check_empty(void)
{
    g_autoptr(QDict) d = keyval_parse("driver=raw,file.foo=1,file.bar=2",
                                      NULL, &error_abort);
    g_autoptr(QDict) file = qdict_extract_subdict(d, "file");
    Error *err = NULL;
    char *s;

    g_assert_false(qdict_check_empty(file, &err));
    g_assert_cmpstr(error_get_pretty(err), ==, "Invalid parameter 'file.foo'");
    error_free(err);
    err = NULL;

    g_assert_false(qdict_check_empty(d, &err));
    g_assert_cmpstr(error_get_pretty(err), ==, "Invalid parameter 'driver'");
    error_free(err);

    g_assert_true(qdict_take_str(d, "driver", NULL, &s, &error_abort));
    g_free(s);
    g_assert_true(qdict_check_empty(d, &error_abort));
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/keyval/qdict/basic", test_qdict_basic);
    g_test_add_func("/keyval/parse/basic", test_parse);
    g_test_add_func("/keyval/parse/escapes", test_escapes);
    g_test_add_func("/keyval/parse/implied", test_implied);
    g_test_add_func("/keyval/parse/errors", test_parse_errors);
    g_test_add_func("/keyval/qdict/extract-subdict", test_extract_subdict);
    g_test_add_func("/keyval/take/str", test_take_str);
    g_test_add_func("/keyval/take/bool", test_take_bool);
    g_test_add_func("/keyval/take/size", test_take_size);
    g_test_add_func("/keyval/take/uint", test_take_uint);
    g_test_add_func("/keyval/take/enum", test_take_enum);
    g_test_add_func("/keyval/check-empty", test_check_empty);
    return g_test_run();
}
