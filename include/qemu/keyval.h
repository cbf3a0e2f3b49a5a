/*
 * Option strings: "key=value,key.sub=value,..." parsed into a flat, ordered
 * string dictionary (QDict).  Dotted keys name options of child nodes
 * ("file.filename"); qdict_extract_subdict() splits them off.  A literal
 * comma inside a value is written ",,".
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef QEMU_KEYVAL_H
#define QEMU_KEYVAL_H

typedef struct QDict QDict;

QDict *qdict_new(void);
/* The key prefix used in messages ("file." for an extracted subdict). */
const char *qdict_get_prefix(const QDict *d);
QDict *qdict_clone(const QDict *d);
void qdict_free(QDict *d);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(QDict, qdict_free)

/* Insert or replace; keeps first-insertion order. */
void qdict_put_str(QDict *d, const char *key, const char *value);
const char *qdict_get_try_str(const QDict *d, const char *key);
bool qdict_haskey(const QDict *d, const char *key);
/* Remove key; returns whether it was there. */
bool qdict_del(QDict *d, const char *key);
size_t qdict_size(const QDict *d);
/* Keys in insertion order; the strings belong to d.  g_free() the array. */
const char **qdict_keys(const QDict *d, size_t *n);

/*
 * Move every "prefix.KEY" entry of src into a new dict as "KEY" (its
 * message prefix becomes src's prefix + "prefix.").  Returns an empty dict
 * if there is none.
 */
QDict *qdict_extract_subdict(QDict *src, const char *prefix);

/*
 * Parse params.  The first element may lack "=" when implied_key is set
 * ("disk.img,format=raw" -> filename=disk.img with implied_key "filename").
 * Errors (with the offending text): empty key, key without '=', invalid
 * key characters, a key given twice, a trailing comma.
 */
QDict *keyval_parse(const char *params, const char *implied_key,
                    Error **errp);

/*
 * Typed getters that remove the key from d when present, so that after
 * parsing a caller can reject leftovers with qdict_check_empty().  When the
 * key is absent *out is set to def.  Errors name the full key.
 */
bool qdict_take_str(QDict *d, const char *key, const char *def,
                    char **out, Error **errp);
bool qdict_take_bool(QDict *d, const char *key, bool def, bool *out,
                     Error **errp);
bool qdict_take_size(QDict *d, const char *key, uint64_t def,
                     uint64_t *out, Error **errp);
bool qdict_take_uint(QDict *d, const char *key, uint64_t def,
                     uint64_t *out, Error **errp);
/* Value must be one of choices (NULL-terminated); *out is its index. */
bool qdict_take_enum(QDict *d, const char *key, const char *const *choices,
                     int def, int *out, Error **errp);
/* "Invalid parameter 'file.foo'" for the first key left, if any. */
bool qdict_check_empty(const QDict *d, Error **errp);

#endif /* QEMU_KEYVAL_H */
