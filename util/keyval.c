/*
 * Flat ordered string dictionaries (QDict) and the "key=value,..." option
 * syntax that fills them.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "qemu/osdep.h"
#include "qapi/error.h"
#include "qemu/cutils.h"
#include "qemu/keyval.h"

struct QDict {
    /* key -> value; keys are borrowed from order, values owned here */
    GHashTable *table;
    /* owned key strings in first-insertion order, for stable iteration */
    GPtrArray *order;
    /* prepended to keys in messages, "" for a top-level dict */
    char *prefix;
};

static QDict *qdict_new_prefixed(const char *prefix)
{
    QDict *d = g_new0(QDict, 1);

    d->table = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, g_free);
    d->order = g_ptr_array_new_with_free_func(g_free);
    d->prefix = g_strdup(prefix);
    return d;
}

QDict *qdict_new(void)
{
    return qdict_new_prefixed("");
}

const char *qdict_get_prefix(const QDict *d)
{
    return d->prefix;
}

QDict *qdict_clone(const QDict *d)
{
    QDict *copy = qdict_new_prefixed(d->prefix);

    for (guint i = 0; i < d->order->len; i++) {
        const char *key = g_ptr_array_index(d->order, i);
        qdict_put_str(copy, key, g_hash_table_lookup(d->table, key));
    }
    return copy;
}

void qdict_free(QDict *d)
{
    if (!d) {
        return;
    }
    /* The table borrows its keys from order: destroy it first. */
    g_hash_table_destroy(d->table);
    g_ptr_array_free(d->order, TRUE);
    g_free(d->prefix);
    g_free(d);
}

void qdict_put_str(QDict *d, const char *key, const char *value)
{
    gpointer stored_key;

    if (g_hash_table_lookup_extended(d->table, key, &stored_key, NULL)) {
        g_hash_table_insert(d->table, stored_key, g_strdup(value));
        return;
    }
    stored_key = g_strdup(key);
    g_ptr_array_add(d->order, stored_key);
    g_hash_table_insert(d->table, stored_key, g_strdup(value));
}

const char *qdict_get_try_str(const QDict *d, const char *key)
{
    return g_hash_table_lookup(d->table, key);
}

bool qdict_haskey(const QDict *d, const char *key)
{
    return g_hash_table_contains(d->table, key);
}

bool qdict_del(QDict *d, const char *key)
{
    gpointer stored_key;

    if (!g_hash_table_lookup_extended(d->table, key, &stored_key, NULL)) {
        return false;
    }
    g_hash_table_remove(d->table, stored_key);
    /* Ordered removal keeps the remaining keys in insertion order. */
    g_ptr_array_remove(d->order, stored_key);
    return true;
}

size_t qdict_size(const QDict *d)
{
    return d->order->len;
}

const char **qdict_keys(const QDict *d, size_t *n)
{
    const char **keys = g_new(const char *, d->order->len + 1);

    for (guint i = 0; i < d->order->len; i++) {
        keys[i] = g_ptr_array_index(d->order, i);
    }
    keys[d->order->len] = NULL;
    if (n) {
        *n = d->order->len;
    }
    return keys;
}

QDict *qdict_extract_subdict(QDict *src, const char *prefix)
{
    g_autofree char *sub_prefix = g_strdup_printf("%s%s.", src->prefix,
                                                  prefix);
    size_t plen = strlen(prefix);
    QDict *sub = qdict_new_prefixed(sub_prefix);
    guint i = 0;

    while (i < src->order->len) {
        const char *key = g_ptr_array_index(src->order, i);

        if (strncmp(key, prefix, plen) == 0 && key[plen] == '.' &&
            key[plen + 1] != '\0') {
            qdict_put_str(sub, key + plen + 1,
                          g_hash_table_lookup(src->table, key));
            /* Removal shifts the next key into slot i. */
            qdict_del(src, key);
        } else {
            i++;
        }
    }
    return sub;
}

/* ---- parsing ---- */

static bool key_char_ok(char c)
{
    return g_ascii_isalnum(c) || c == '_' || c == '.' || c == '-';
}

/* Allowed characters, and no empty component between dots. */
static bool key_valid(const char *key)
{
    bool component_empty = true;

    for (const char *p = key; *p; p++) {
        if (!key_char_ok(*p)) {
            return false;
        }
        if (*p == '.') {
            if (component_empty) {
                return false;
            }
            component_empty = true;
        } else {
            component_empty = false;
        }
    }
    return !component_empty;
}

/*
 * Read a value up to a single ',' or the end, turning ",," into ','.
 * *pp is left on the terminating ',' or '\0'.
 */
static char *parse_value(const char **pp)
{
    GString *val = g_string_new(NULL);
    const char *p = *pp;

    while (*p) {
        if (*p == ',') {
            if (p[1] != ',') {
                break;
            }
            p++;
        }
        g_string_append_c(val, *p);
        p++;
    }
    *pp = p;
    return g_string_free(val, FALSE);
}

QDict *keyval_parse(const char *params, const char *implied_key,
                    Error **errp)
{
    g_autoptr(QDict) d = qdict_new();
    const char *p = params;
    bool first = true;

    while (*p) {
        const char *elem = p;
        g_autofree char *key = NULL;
        g_autofree char *value = NULL;

        while (*p && *p != '=' && *p != ',') {
            p++;
        }
        if (*p != '=' && first && implied_key) {
            /* "disk.img,..." : the whole first element is a value. */
            p = elem;
            key = g_strdup(implied_key);
            value = parse_value(&p);
            if (!*value) {
                error_setg(errp, "Empty parameter name in '%s'", elem);
                return NULL;
            }
        } else if (p == elem) {
            error_setg(errp, "Empty parameter name in '%s'", elem);
            return NULL;
        } else if (*p != '=') {
            key = g_strndup(elem, p - elem);
            error_setg(errp, "Expected '=' after parameter '%s'", key);
            return NULL;
        } else {
            key = g_strndup(elem, p - elem);
            if (!key_valid(key)) {
                error_setg(errp, "Invalid parameter name '%s'", key);
                return NULL;
            }
            p++;
            value = parse_value(&p);
        }

        if (qdict_haskey(d, key)) {
            error_setg(errp, "Parameter '%s' is set more than once", key);
            return NULL;
        }
        qdict_put_str(d, key, value);

        if (*p == ',') {
            p++;
            if (!*p) {
                error_setg(errp, "Trailing comma in '%s'", params);
                return NULL;
            }
        }
        first = false;
    }
    return g_steal_pointer(&d);
}

/* ---- typed getters ---- */

/* Remove key and hand back its value (caller frees), or NULL if absent. */
static char *qdict_steal(QDict *d, const char *key)
{
    gpointer stored_key;
    gpointer value;

    if (!g_hash_table_lookup_extended(d->table, key, &stored_key, &value)) {
        return NULL;
    }
    g_hash_table_steal(d->table, stored_key);
    g_ptr_array_remove(d->order, stored_key);
    return value;
}

bool qdict_take_str(QDict *d, const char *key, const char *def,
                    char **out, Error **errp)
{
    char *value = qdict_steal(d, key);

    *out = value ? value : g_strdup(def);
    return true;
}

bool qdict_take_bool(QDict *d, const char *key, bool def, bool *out,
                     Error **errp)
{
    g_autofree char *value = qdict_steal(d, key);

    if (!value) {
        *out = def;
        return true;
    }
    if (!qemu_parse_bool(value, out)) {
        error_setg(errp, "Parameter '%s%s' expects 'on' or 'off'",
                   d->prefix, key);
        return false;
    }
    return true;
}

bool qdict_take_size(QDict *d, const char *key, uint64_t def,
                     uint64_t *out, Error **errp)
{
    g_autofree char *value = qdict_steal(d, key);
    g_autofree char *full_key = NULL;

    if (!value) {
        *out = def;
        return true;
    }
    full_key = g_strconcat(d->prefix, key, NULL);
    return qemu_parse_size(full_key, value, out, errp);
}

bool qdict_take_uint(QDict *d, const char *key, uint64_t def,
                     uint64_t *out, Error **errp)
{
    g_autofree char *value = qdict_steal(d, key);
    int ret;

    if (!value) {
        *out = def;
        return true;
    }
    ret = qemu_strtou64(value, NULL, 0, out);
    if (ret == -ERANGE) {
        error_setg(errp, "Parameter '%s%s' is too large (max %" PRIu64 ")",
                   d->prefix, key, UINT64_MAX);
        return false;
    }
    if (ret < 0) {
        error_setg(errp, "Parameter '%s%s' expects a non-negative integer",
                   d->prefix, key);
        return false;
    }
    return true;
}

bool qdict_take_enum(QDict *d, const char *key, const char *const *choices,
                     int def, int *out, Error **errp)
{
    g_autofree char *value = qdict_steal(d, key);
    GString *list;

    if (!value) {
        *out = def;
        return true;
    }
    for (int i = 0; choices[i]; i++) {
        if (strcmp(value, choices[i]) == 0) {
            *out = i;
            return true;
        }
    }

    list = g_string_new(NULL);
    for (int i = 0; choices[i]; i++) {
        g_string_append_printf(list, "%s'%s'", i ? ", " : "", choices[i]);
    }
    error_setg(errp, "Parameter '%s%s' expects %s", d->prefix, key,
               list->str);
    g_string_free(list, TRUE);
    return false;
}

bool qdict_check_empty(const QDict *d, Error **errp)
{
    if (d->order->len == 0) {
        return true;
    }
    error_setg(errp, "Invalid parameter '%s%s'", d->prefix,
               (const char *)g_ptr_array_index(d->order, 0));
    return false;
}
