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

/*
 * floor(0.DIGITS * 2^shift) for the ndigits decimal digits at p, exactly:
 * multiply the digit string by 2^shift from the right, keeping one decimal
 * digit per position, and what carries out on the left is the integer part.
 * d * 2^60 + carry < 10 * 2^60 fits in 64 bits.
 */
static uint64_t fraction_bytes(const char *p, size_t ndigits, int shift)
{
    uint64_t carry = 0;

    for (size_t i = ndigits; i-- > 0;) {
        uint64_t v = ((uint64_t)(p[i] - '0') << shift) + carry;
        carry = v / 10;
    }
    return carry;
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
 * Parse a size.  On failure *why says what was wrong and *bad points at
 * the offending text (the suffix or trailing characters) for messages.
 */
static int do_strtosz(const char *nptr, const char **end, int default_shift,
                      uint64_t *result, SizeError *why, const char **bad)
{
    const char *p = skip_space(nptr);
    const char *frac = NULL;
    size_t frac_len = 0;
    uint64_t val = 0;
    bool overflow = false;
    int shift;

    *bad = NULL;
    if (*p == '\0') {
        *why = SIZE_EMPTY;
        goto einval;
    }
    if (*p == '-') {
        *why = SIZE_NEGATIVE;
        goto einval;
    }

    if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
        p += 2;
        if (hex_value(*p) < 0) {
            *why = SIZE_NOT_NUMBER;
            goto einval;
        }
        for (int d; (d = hex_value(*p)) >= 0; p++) {
            if (val > (UINT64_MAX >> 4)) {
                overflow = true;
            }
            val = (val << 4) | d;
        }
        if (*p == '.') {
            *why = SIZE_HEX_FRACTION;
            *bad = p;
            goto einval;
        }
    } else if (g_ascii_isdigit(*p)) {
        for (; g_ascii_isdigit(*p); p++) {
            unsigned d = *p - '0';
            if (val > (UINT64_MAX - d) / 10) {
                overflow = true;
            }
            val = val * 10 + d;
        }
        /* A '.' belongs to the number only when a digit follows. */
        if (p[0] == '.' && g_ascii_isdigit(p[1])) {
            frac = ++p;
            while (g_ascii_isdigit(*p)) {
                p++;
            }
            frac_len = p - frac;
        }
    } else {
        *why = SIZE_NOT_NUMBER;
        goto einval;
    }

    shift = suffix_shift(*p);
    if (shift >= 0) {
        p++;
    } else if (g_ascii_isalpha(*p) && !end) {
        *why = SIZE_BAD_SUFFIX;
        *bad = p;
        goto einval;
    } else {
        shift = default_shift;
    }

    if (frac && shift == 0) {
        *why = SIZE_FRACTION_BYTES;
        goto einval;
    }
    if (!end && *p) {
        /* "12KB": report the whole word as the suffix. */
        *why = g_ascii_isalpha(*p) && g_ascii_isalpha(p[-1])
               ? SIZE_BAD_SUFFIX : SIZE_TRAILING;
        *bad = *why == SIZE_BAD_SUFFIX ? p - 1 : p;
        goto einval;
    }
    if (end) {
        *end = p;
    }

    if (overflow || (shift && val > (UINT64_MAX >> shift))) {
        *why = SIZE_TOO_LARGE;
        return -ERANGE;
    }
    val <<= shift;
    if (frac) {
        uint64_t extra = fraction_bytes(frac, frac_len, shift);
        if (val > UINT64_MAX - extra) {
            *why = SIZE_TOO_LARGE;
            return -ERANGE;
        }
        val += extra;
    }
    *why = SIZE_OK;
    *result = val;
    return 0;

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
        return -EINVAL;
    }
    return do_strtosz(nptr, end, 0, result, &why, &bad);
}

int qemu_strtosz_MiB(const char *nptr, const char **end, uint64_t *result)
{
    SizeError why;
    const char *bad;

    if (!nptr) {
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
