/*
 * Intrusive list macros in the BSD <sys/queue.h> style, written for this
 * project.  Elements embed a link field; no allocation happens in the list.
 *
 *   QLIST    doubly linked, O(1) removal, head holds the first element only
 *   QSLIST   singly linked stack (used for free lists and lock-free pushes)
 *   QSIMPLEQ singly linked FIFO with tail pointer
 *   QTAILQ   doubly linked FIFO with tail pointer, O(1) removal anywhere
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef QEMU_QUEUE_H
#define QEMU_QUEUE_H

/* ---- QLIST ---- */
#define QLIST_HEAD(name, type) struct name { struct type *lh_first; }
#define QLIST_HEAD_INITIALIZER(head) { NULL }
#define QLIST_ENTRY(type) struct { struct type *le_next; struct type **le_prev; }

#define QLIST_INIT(head) ((head)->lh_first = NULL)
#define QLIST_EMPTY(head) ((head)->lh_first == NULL)
#define QLIST_FIRST(head) ((head)->lh_first)
#define QLIST_NEXT(elm, field) ((elm)->field.le_next)
#define QLIST_IS_INSERTED(elm, field) ((elm)->field.le_prev != NULL)

#define QLIST_INSERT_HEAD(head, elm, field) do {                        \
    if (((elm)->field.le_next = (head)->lh_first) != NULL) {            \
        (head)->lh_first->field.le_prev = &(elm)->field.le_next;        \
    }                                                                   \
    (head)->lh_first = (elm);                                           \
    (elm)->field.le_prev = &(head)->lh_first;                           \
} while (0)

#define QLIST_REMOVE(elm, field) do {                                   \
    if ((elm)->field.le_next != NULL) {                                 \
        (elm)->field.le_next->field.le_prev = (elm)->field.le_prev;     \
    }                                                                   \
    *(elm)->field.le_prev = (elm)->field.le_next;                       \
    (elm)->field.le_next = NULL;                                        \
    (elm)->field.le_prev = NULL;                                        \
} while (0)

#define QLIST_FOREACH(var, head, field)                                 \
    for ((var) = (head)->lh_first; (var); (var) = (var)->field.le_next)

#define QLIST_FOREACH_SAFE(var, head, field, next)                      \
    for ((var) = (head)->lh_first;                                      \
         (var) && ((next) = (var)->field.le_next, 1);                   \
         (var) = (next))

/* ---- QSLIST ---- */
#define QSLIST_HEAD(name, type) struct name { struct type *slh_first; }
#define QSLIST_HEAD_INITIALIZER(head) { NULL }
#define QSLIST_ENTRY(type) struct { struct type *sle_next; }

#define QSLIST_INIT(head) ((head)->slh_first = NULL)
#define QSLIST_EMPTY(head) ((head)->slh_first == NULL)
#define QSLIST_FIRST(head) ((head)->slh_first)
#define QSLIST_NEXT(elm, field) ((elm)->field.sle_next)

#define QSLIST_INSERT_HEAD(head, elm, field) do {                       \
    (elm)->field.sle_next = (head)->slh_first;                          \
    (head)->slh_first = (elm);                                          \
} while (0)

/* Lock-free push; safe against concurrent pushes and QSLIST_MOVE_ATOMIC. */
#define QSLIST_INSERT_HEAD_ATOMIC(head, elm, field) do {                \
    __typeof__(elm) qsl_old_ = __atomic_load_n(&(head)->slh_first,      \
                                               __ATOMIC_RELAXED);       \
    do {                                                                \
        (elm)->field.sle_next = qsl_old_;                               \
    } while (!__atomic_compare_exchange_n(&(head)->slh_first, &qsl_old_,\
                 (elm), true, __ATOMIC_RELEASE, __ATOMIC_RELAXED));     \
} while (0)

/* Atomically take the whole list from src into dest (LIFO order). */
#define QSLIST_MOVE_ATOMIC(dest, src) do {                              \
    (dest)->slh_first = __atomic_exchange_n(&(src)->slh_first, NULL,    \
                                            __ATOMIC_ACQUIRE);          \
} while (0)

#define QSLIST_REMOVE_HEAD(head, field) do {                            \
    (head)->slh_first = (head)->slh_first->field.sle_next;              \
} while (0)

#define QSLIST_FOREACH(var, head, field)                                \
    for ((var) = (head)->slh_first; (var); (var) = (var)->field.sle_next)

#define QSLIST_FOREACH_SAFE(var, head, field, next)                     \
    for ((var) = (head)->slh_first;                                     \
         (var) && ((next) = (var)->field.sle_next, 1);                  \
         (var) = (next))

/* ---- QSIMPLEQ ---- */
#define QSIMPLEQ_HEAD(name, type)                                       \
    struct name { struct type *sqh_first; struct type **sqh_last; }
#define QSIMPLEQ_HEAD_INITIALIZER(head) { NULL, &(head).sqh_first }
#define QSIMPLEQ_ENTRY(type) struct { struct type *sqe_next; }

#define QSIMPLEQ_INIT(head) do {                                        \
    (head)->sqh_first = NULL;                                           \
    (head)->sqh_last = &(head)->sqh_first;                              \
} while (0)
#define QSIMPLEQ_EMPTY(head) ((head)->sqh_first == NULL)
#define QSIMPLEQ_FIRST(head) ((head)->sqh_first)
#define QSIMPLEQ_NEXT(elm, field) ((elm)->field.sqe_next)

#define QSIMPLEQ_INSERT_TAIL(head, elm, field) do {                     \
    (elm)->field.sqe_next = NULL;                                       \
    *(head)->sqh_last = (elm);                                          \
    (head)->sqh_last = &(elm)->field.sqe_next;                          \
} while (0)

#define QSIMPLEQ_INSERT_HEAD(head, elm, field) do {                     \
    if (((elm)->field.sqe_next = (head)->sqh_first) == NULL) {          \
        (head)->sqh_last = &(elm)->field.sqe_next;                      \
    }                                                                   \
    (head)->sqh_first = (elm);                                          \
} while (0)

#define QSIMPLEQ_REMOVE_HEAD(head, field) do {                          \
    if (((head)->sqh_first = (head)->sqh_first->field.sqe_next) == NULL) { \
        (head)->sqh_last = &(head)->sqh_first;                          \
    }                                                                   \
} while (0)

/* Append all of src to dest and leave src empty. */
#define QSIMPLEQ_CONCAT(dest, src) do {                                 \
    if (!QSIMPLEQ_EMPTY(src)) {                                         \
        *(dest)->sqh_last = (src)->sqh_first;                           \
        (dest)->sqh_last = (src)->sqh_last;                             \
        QSIMPLEQ_INIT(src);                                             \
    }                                                                   \
} while (0)

#define QSIMPLEQ_FOREACH(var, head, field)                              \
    for ((var) = (head)->sqh_first; (var); (var) = (var)->field.sqe_next)

#define QSIMPLEQ_FOREACH_SAFE(var, head, field, next)                   \
    for ((var) = (head)->sqh_first;                                     \
         (var) && ((next) = (var)->field.sqe_next, 1);                  \
         (var) = (next))

/* ---- QTAILQ ---- */
#define QTAILQ_HEAD(name, type)                                         \
    struct name { struct type *tqh_first; struct type **tqh_last; }
#define QTAILQ_HEAD_INITIALIZER(head) { NULL, &(head).tqh_first }
#define QTAILQ_ENTRY(type)                                              \
    struct { struct type *tqe_next; struct type **tqe_prev; }

#define QTAILQ_INIT(head) do {                                          \
    (head)->tqh_first = NULL;                                           \
    (head)->tqh_last = &(head)->tqh_first;                              \
} while (0)
#define QTAILQ_EMPTY(head) ((head)->tqh_first == NULL)
#define QTAILQ_FIRST(head) ((head)->tqh_first)
#define QTAILQ_NEXT(elm, field) ((elm)->field.tqe_next)
#define QTAILQ_IN_USE(elm, field) ((elm)->field.tqe_prev != NULL)

#define QTAILQ_INSERT_TAIL(head, elm, field) do {                       \
    (elm)->field.tqe_next = NULL;                                       \
    (elm)->field.tqe_prev = (head)->tqh_last;                           \
    *(head)->tqh_last = (elm);                                          \
    (head)->tqh_last = &(elm)->field.tqe_next;                          \
} while (0)

#define QTAILQ_INSERT_HEAD(head, elm, field) do {                       \
    if (((elm)->field.tqe_next = (head)->tqh_first) != NULL) {          \
        (head)->tqh_first->field.tqe_prev = &(elm)->field.tqe_next;     \
    } else {                                                            \
        (head)->tqh_last = &(elm)->field.tqe_next;                      \
    }                                                                   \
    (head)->tqh_first = (elm);                                          \
    (elm)->field.tqe_prev = &(head)->tqh_first;                         \
} while (0)

#define QTAILQ_REMOVE(head, elm, field) do {                            \
    if ((elm)->field.tqe_next != NULL) {                                \
        (elm)->field.tqe_next->field.tqe_prev = (elm)->field.tqe_prev;  \
    } else {                                                            \
        (head)->tqh_last = (elm)->field.tqe_prev;                       \
    }                                                                   \
    *(elm)->field.tqe_prev = (elm)->field.tqe_next;                     \
    (elm)->field.tqe_next = NULL;                                       \
    (elm)->field.tqe_prev = NULL;                                       \
} while (0)

#define QTAILQ_FOREACH(var, head, field)                                \
    for ((var) = (head)->tqh_first; (var); (var) = (var)->field.tqe_next)

#define QTAILQ_FOREACH_SAFE(var, head, field, next)                     \
    for ((var) = (head)->tqh_first;                                     \
         (var) && ((next) = (var)->field.tqe_next, 1);                  \
         (var) = (next))

#endif /* QEMU_QUEUE_H */
