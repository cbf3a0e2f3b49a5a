/*
 * Number and size parsing for command lines and option strings.
 *
 * Every parser is strict: leading whitespace is allowed, a sign where the
 * type cannot hold it, empty input, trailing garbage (when end is NULL) and
 * overflow are rejected.  Return 0 or -EINVAL (garbage) / -ERANGE (overflow;
 * also a negative size, as QEMU does).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef QEMU_CUTILS_H
#define QEMU_CUTILS_H

/*
 * Integers.  base as for strtol (0 accepts 0x.. hex and 0.. octal).
 * With end != NULL, parsing stops at the first unparsed character and *end
 * points there; with end == NULL the whole string must be consumed.
 */
int qemu_strtoi64(const char *nptr, const char **end, int base,
                  int64_t *result);
int qemu_strtou64(const char *nptr, const char **end, int base,
                  uint64_t *result);
int qemu_strtoi(const char *nptr, const char **end, int base, int *result);
int qemu_strtoui(const char *nptr, const char **end, int base,
                 unsigned int *result);

/*
 * Sizes, with QEMU's rules (qemu-io users see them):
 * - leading whitespace, then an optional '+'; a '-' before digits is
 *   -ERANGE ("-5", "-0", "-.5"), like any unsigned overflow.
 * - decimal digits, optionally a fraction ("1.5k", ".5k", "5.", "5.k");
 *   the fraction goes through a double and the scaled result is rounded
 *   half up ("0.7k" = 717, "1.999999999k" = 2048, "0.3E" = double(0.3)
 *   * 2^60); a non-zero fraction needs a suffix other than B ("1.5" and
 *   "1.5B" are -EINVAL, "5.0" is 5).
 * - or "0x"/"0X" and hex digits, with no fraction and no suffix: B and E
 *   are hex digits ("0x1E" = 30), "0x1k" is -EINVAL; "0x" alone or
 *   "00x1" is a 0 followed by garbage.
 * - then one optional suffix B, K, M, G, T, P, E (case-insensitive,
 *   powers of 1024); "1e3" is 1 EiB followed by garbage.
 * A result above UINT64_MAX is -ERANGE.  With end == NULL anything left
 * over is -EINVAL, even after a number that was -ERANGE ("-5k",
 * "99999999999999999999k"); with end != NULL parsing stops there (an
 * unknown letter is left over, not an error) and *end points at it;
 * -EINVAL leaves *end at nptr.  *result is written only on success.
 * qemu_strtosz() assumes bytes without a suffix; qemu_strtosz_MiB() MiB.
 */
int qemu_strtosz(const char *nptr, const char **end, uint64_t *result);
int qemu_strtosz_MiB(const char *nptr, const char **end, uint64_t *result);

/*
 * qemu_strtosz() with the exact reason in *errp, naming what was parsed;
 * the first problem wins ("'-5k': negative size"):
 *   "'12Q': invalid size suffix 'Q' (use B, K, M, G, T, P or E)"
 *   "'-5': negative size", "'': empty size", "'1.5': fractional size
 *   needs a suffix...", "'0x1k': hexadecimal size cannot have a suffix...",
 *   "'99999999999999999999': size too large (max 16 EiB - 1)"...
 * name, if not NULL, prefixes the message ("Parameter 'size' ...").
 */
bool qemu_parse_size(const char *name, const char *str, uint64_t *result,
                     Error **errp);

/*
 * qemu-io's cvtnum(): a size as int64_t; negative errno on failure
 * (-EINVAL garbage, -ERANGE above INT64_MAX).
 */
int64_t cvtnum(const char *s);

/*
 * Human-readable size as qemu-io prints it: "512 bytes", "4 KiB",
 * "1.500 MiB" (three decimals unless they are all zero).
 */
char *size_to_str(uint64_t val);

/* Parse on/off/true/false/yes/no (case-sensitive like QEMU: on/off etc.). */
bool qemu_parse_bool(const char *str, bool *result);

#endif /* QEMU_CUTILS_H */
