/*
 * Number and size parsing for command lines and option strings.
 *
 * Every parser is strict: leading whitespace is allowed, a sign where the
 * type cannot hold it, empty input, trailing garbage (when end is NULL) and
 * overflow are rejected.  Return 0 or -EINVAL (garbage) / -ERANGE (overflow).
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
 * Sizes: a decimal or 0x-hex number with an optional binary suffix
 * B, K, M, G, T, P, E (case-insensitive, powers of 1024).  A decimal number
 * may have a fraction ("1.5M") when a suffix other than B follows; the result
 * is rounded down to whole bytes.  Negative numbers are rejected.
 * qemu_strtosz() assumes bytes without a suffix; qemu_strtosz_MiB() MiB.
 */
int qemu_strtosz(const char *nptr, const char **end, uint64_t *result);
int qemu_strtosz_MiB(const char *nptr, const char **end, uint64_t *result);

/*
 * The same with the exact reason in *errp, naming what was parsed:
 *   "'12Q': invalid size suffix 'Q' (use B, K, M, G, T, P or E)"
 *   "'-5': negative size", "'': empty size",
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
