/*
 * Strict number and size parsers, and the human-readable size format used
 * by qemu-io.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "qemu/osdep.h"
#include <ctype.h>
#include "qapi/error.h"
#include "qemu/cutils.h"

/* ---- integers ---- */

static const char *skip_space(const char *p)
{
    while (isspace((unsigned char)*p)) {
        p++;
    }
    return p;
}

/*
 * Common tail of the strtoX wrappers: ep is where the C library stopped.
 * No digits consumed (ep == nptr) is -EINVAL; so are leftovers when the
 * caller asked for the whole string (end == NULL).
 */
static int check_strtox(const char *nptr, const char *ep, const char **end,
                        int libc_errno)
{
    if (ep == nptr) {
        if (end) {
            *end = nptr;
        }
        return -EINVAL;
    }
    if (end) {
        *end = ep;
    } else if (*ep) {
        return -EINVAL;
    }
    if (libc_errno == ERANGE) {
        return -ERANGE;
    }
    return 0;
}

static bool base_ok(int base)
{
    return base == 0 || (base >= 2 && base <= 36);
}

int qemu_strtoi64(const char *nptr, const char **end, int base,
                  int64_t *result)
{
    char *ep;
    long long val;
    int ret;

    if (!nptr || !base_ok(base)) {
        if (end) {
            *end = nptr;
        }
        *result = 0;
        return -EINVAL;
    }
    errno = 0;
    val = strtoll(nptr, &ep, base);
    ret = check_strtox(nptr, ep, end, errno);
    /* Like strtoll: 0 for garbage, the clamped value for overflow. */
    *result = ret == -EINVAL ? 0 : val;
    return ret;
}

int qemu_strtou64(const char *nptr, const char **end, int base,
                  uint64_t *result)
{
    char *ep;
    unsigned long long val;
    int ret;

    if (!nptr || !base_ok(base)) {
        if (end) {
            *end = nptr;
        }
        *result = 0;
        return -EINVAL;
    }
    /*
     * strtoull() silently negates "-1" into UINT64_MAX; an unsigned value
     * written with a minus sign is garbage here.
     */
    if (*skip_space(nptr) == '-') {
        if (end) {
            *end = nptr;
        }
        *result = 0;
        return -EINVAL;
    }
    errno = 0;
    val = strtoull(nptr, &ep, base);
    ret = check_strtox(nptr, ep, end, errno);
    *result = ret == -EINVAL ? 0 : val;
    return ret;
}

int qemu_strtoi(const char *nptr, const char **end, int base, int *result)
{
    int64_t val;
    int ret = qemu_strtoi64(nptr, end, base, &val);

    if (ret == 0 && val > INT_MAX) {
        ret = -ERANGE;
    } else if (ret == 0 && val < INT_MIN) {
        ret = -ERANGE;
    }
    *result = val > INT_MAX ? INT_MAX : val < INT_MIN ? INT_MIN : (int)val;
    return ret;
}

int qemu_strtoui(const char *nptr, const char **end, int base,
                 unsigned int *result)
{
    uint64_t val;
    int ret = qemu_strtou64(nptr, end, base, &val);

    if (ret == 0 && val > UINT_MAX) {
        ret = -ERANGE;
    }
    *result = val > UINT_MAX ? UINT_MAX : (unsigned int)val;
    return ret;
}

/* ---- sizes ---- */

typedef enum SizeError {
    SIZE_OK,
    SIZE_EMPTY,
    SIZE_NEGATIVE,
    SIZE_NOT_NUMBER,
    SIZE_BAD_SUFFIX,
    SIZE_TRAILING,
    SIZE_HEX_FRACTION,
    SIZE_HEX_SUFFIX,
    SIZE_FRACTION_BYTES,
    SIZE_TOO_LARGE,
} SizeError;

/* Binary exponent of a suffix letter, or -1 if c is not a suffix. */
static int suffix_shift(char c)
{
    switch (g_ascii_toupper(c)) {
    case 'B': return 0;
    case 'K': return 10;
    case 'M': return 20;
    case 'G': return 30;
    case 'T': return 40;
    case 'P': return 50;
    case 'E': return 60;
    default:  return -1;
    }
}

static int hex_value(char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    c = g_ascii_tolower(c);
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    return -1;
}

/*
 * The fraction ".DIGITS" (dot at p, n digits) as a 0.64 fixed-point
 * number.  QEMU goes through a double here, and users see the result
 * ("0.3E" is double(0.3) * 2^60, not the exact 0.3 * 2^60), so do the
 * same: round the digits to a double, then scale.  Any non-zero digit,
 * even one that underflows, makes the fraction non-zero.  *carry is set
 * when the digits round up to a whole 1.0 ("0.99999999999999999999").
 */
static uint64_t fraction_fixed(const char *p, size_t n, bool *carry)
{
    g_autofree char *digits = g_strndup(p, n + 1);
    bool nonzero = strspn(digits + 1, "0") < n;
    double f;
    uint64_t fixed;

    *carry = false;
    if (!nonzero) {
        return 0;
    }
    f = g_ascii_strtod(digits, NULL);
    if (f >= 1.0) {
        *carry = true;
        return 0;
    }
    fixed = (uint64_t)(f * 0x1p64);
    return fixed ? fixed : 1;
}

/*
 * Parse a size with QEMU's rules (the header lists them).  The return
 * value is the errno class QEMU gives; *why is the first problem found,
 * for exact messages, and *bad points at the offending text (suffix or
 * trailing characters).  Problems in the number itself (sign, too many
 * digits) stop the parse like in QEMU, so "-5k" is -EINVAL (trailing "k"
 * after the rejected "-5") but its reason is SIZE_NEGATIVE.
 */
static int do_strtosz(const char *nptr, const char **end, int default_shift,
                      uint64_t *result, SizeError *why, const char **bad)
{
    const char *p = skip_space(nptr);
    const char *num;
    const char *frac = NULL;
    uint64_t val = 0, valf = 0;
    bool negative = false, overflow = false, zeros_then_x = false;
    bool suffix;
    int shift;

    *bad = NULL;
    if (*p == '\0') {
        *why = SIZE_EMPTY;
        goto einval;
    }
    if (*p == '+' || *p == '-') {
        negative = *p == '-';
        p++;
    }

    num = p;
    if (g_ascii_isdigit(*p)) {
        for (; g_ascii_isdigit(*p); p++) {
            unsigned d = *p - '0';
            if (val > (UINT64_MAX - d) / 10) {
                overflow = true;
            }
            val = val * 10 + d;
        }
        if (negative || overflow) {
            /* Even "-0": QEMU parses sizes as unsigned and refuses a '-'. */
            *why = negative ? SIZE_NEGATIVE : SIZE_TOO_LARGE;
            goto erange;
        }
        if (val == 0 && (*p == 'x' || *p == 'X')) {
            /*
             * Hex needs exactly "0x" and a hex digit; "0x" alone or "00x1"
             * is the number 0 with an 'x' after it.
             */
            if (p - num == 1 && hex_value(p[1]) >= 0) {
                for (p++; hex_value(*p) >= 0; p++) {
                    if (val > (UINT64_MAX >> 4)) {
                        overflow = true;
                    }
                    val = (val << 4) | hex_value(*p);
                }
                if (overflow) {
                    *why = SIZE_TOO_LARGE;
                    goto erange;
                }
            } else {
                zeros_then_x = true;
            }
            /* B and E are hex digits; the other suffixes are refused. */
            if (*p == '.') {
                *why = SIZE_HEX_FRACTION;
                goto einval;
            }
            if (suffix_shift(*p) > 0) {
                *why = SIZE_HEX_SUFFIX;
                goto einval;
            }
        } else if (*p == '.') {
            /* "5." and "5.k" are whole numbers. */
            if (g_ascii_isdigit(p[1])) {
                frac = p;
            }
            p++;
        }
    } else if (*p == '.' && g_ascii_isdigit(p[1])) {
        /* ".5k": a fraction without integer digits. */
        frac = p++;
    } else {
        *why = SIZE_NOT_NUMBER;
        goto einval;
    }

    if (frac) {
        bool carry;

        while (g_ascii_isdigit(*p)) {
            p++;
        }
        if (negative) {
            /* "-.5": only now does QEMU look at the sign. */
            *why = SIZE_NEGATIVE;
            goto erange;
        }
        valf = fraction_fixed(frac, p - frac - 1, &carry);
        if (carry) {
            if (val == UINT64_MAX) {
                *why = SIZE_TOO_LARGE;
                goto erange;
            }
            val++;
        }
    }

    shift = suffix_shift(*p);
    suffix = shift >= 0;
    if (suffix) {
        p++;
    } else {
        shift = default_shift;
    }

    if (!end && *p) {
        if (zeros_then_x) {
            *why = SIZE_NOT_NUMBER;
        } else if (g_ascii_isalpha(*p)) {
            /* "12Q", and "12KB" whose whole word is the bad suffix. */
            *why = SIZE_BAD_SUFFIX;
            *bad = suffix && g_ascii_isalpha(p[-1]) ? p - 1 : p;
        } else {
            *why = SIZE_TRAILING;
            *bad = p;
        }
        goto einval;
    }
    if (shift == 0 && valf) {
        *why = SIZE_FRACTION_BYTES;
        goto einval;
    }

    if (shift) {
        /* val.valf * 2^shift, the fraction rounded half up. */
        uint64_t add = (valf >> (64 - shift)) + ((valf >> (63 - shift)) & 1);

        if (val > (UINT64_MAX >> shift) || (val << shift) > UINT64_MAX - add) {
            *why = SIZE_TOO_LARGE;
            goto erange;
        }
        val = (val << shift) + add;
    }
    if (end) {
        *end = p;
    }
    *why = SIZE_OK;
    *result = val;
    return 0;

erange:
    /* The whole string was wanted: what follows makes it garbage. */
    if (end) {
        *end = p;
    } else if (*p) {
        return -EINVAL;
    }
    return -ERANGE;

einval:
    if (end) {
        *end = nptr;
    }
    return -EINVAL;
}

int qemu_strtosz(const char *nptr, const char **end, uint64_t *result)
{
    SizeError why;
    const char *bad;

    if (!nptr) {
        if (end) {
            *end = NULL;
        }
        return -EINVAL;
    }
    return do_strtosz(nptr, end, 0, result, &why, &bad);
}

int qemu_strtosz_MiB(const char *nptr, const char **end, uint64_t *result)
{
    SizeError why;
    const char *bad;

    if (!nptr) {
        if (end) {
            *end = NULL;
        }
        return -EINVAL;
    }
    return do_strtosz(nptr, end, 20, result, &why, &bad);
}

bool qemu_parse_size(const char *name, const char *str, uint64_t *result,
                     Error **errp)
{
    g_autofree char *prefix = name ? g_strdup_printf("Parameter '%s': ", name)
                                   : g_strdup("");
    g_autofree char *word = NULL;
    SizeError why;
    const char *bad;
    size_t n;

    if (!str) {
        str = "";
    }
    if (do_strtosz(str, NULL, 0, result, &why, &bad) == 0) {
        return true;
    }

    switch (why) {
    case SIZE_EMPTY:
        error_setg(errp, "%s'%s': empty size", prefix, str);
        break;
    case SIZE_NEGATIVE:
        error_setg(errp, "%s'%s': negative size", prefix, str);
        break;
    case SIZE_NOT_NUMBER:
        error_setg(errp, "%s'%s': not a number", prefix, str);
        break;
    case SIZE_BAD_SUFFIX:
        for (n = 0; g_ascii_isalpha(bad[n]); n++) {
            /* the suffix is the whole run of letters */
        }
        word = g_strndup(bad, n);
        error_setg(errp, "%s'%s': invalid size suffix '%s' "
                   "(use B, K, M, G, T, P or E)", prefix, str, word);
        break;
    case SIZE_TRAILING:
        error_setg(errp, "%s'%s': trailing garbage '%s'", prefix, str, bad);
        break;
    case SIZE_HEX_FRACTION:
        error_setg(errp, "%s'%s': hexadecimal size cannot have a fraction",
                   prefix, str);
        break;
    case SIZE_HEX_SUFFIX:
        error_setg(errp, "%s'%s': hexadecimal size cannot have a suffix "
                   "(write it in decimal)", prefix, str);
        break;
    case SIZE_FRACTION_BYTES:
        error_setg(errp, "%s'%s': fractional size needs a suffix "
                   "K, M, G, T, P or E", prefix, str);
        break;
    case SIZE_TOO_LARGE:
        error_setg(errp, "%s'%s': size too large (max 16 EiB - 1)",
                   prefix, str);
        break;
    case SIZE_OK:
    default:
        g_assert_not_reached();
    }
    return false;
}

int64_t cvtnum(const char *s)
{
    uint64_t val;
    int ret = qemu_strtosz(s, NULL, &val);

    if (ret < 0) {
        return ret;
    }
    if (val > INT64_MAX) {
        return -ERANGE;
    }
    return val;
}

/*
 * qemu-io's format: the largest binary unit not above the value, three
 * decimals, and ".000" dropped: "512 bytes", "4 KiB", "1.500 KiB",
 * "1.205 KiB" (1234 bytes).  iotests reference outputs depend on it.
 */
char *size_to_str(uint64_t val)
{
    static const char *const units[] = {
        "bytes", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB",
    };
    int i = 0;
    char num[64];
    size_t len;

    while (i + 1 < (int)ARRAY_SIZE(units) && val >> (10 * (i + 1))) {
        i++;
    }
    snprintf(num, sizeof(num), "%.3f", (double)val / (1ULL << (10 * i)));
    len = strlen(num);
    if (len > 4 && strcmp(num + len - 4, ".000") == 0) {
        num[len - 4] = '\0';
    }
    return g_strdup_printf("%s %s", num, units[i]);
}

bool qemu_parse_bool(const char *str, bool *result)
{
    if (!str) {
        return false;
    }
    if (!strcmp(str, "on") || !strcmp(str, "yes") || !strcmp(str, "true")) {
        *result = true;
        return true;
    }
    if (!strcmp(str, "off") || !strcmp(str, "no") || !strcmp(str, "false")) {
        *result = false;
        return true;
    }
    return false;
}
