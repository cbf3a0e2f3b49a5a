/*
 * IOThread: a thread running its own AioContext's loop, for code (and tests)
 * that wants coroutines in more than one context.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef QEMU_IOTHREAD_H
#define QEMU_IOTHREAD_H

#include "block/aio.h"

typedef struct IOThread IOThread;

/* Start a thread named name looping on a fresh context. */
IOThread *iothread_create(const char *name, Error **errp);
AioContext *iothread_get_aio_context(IOThread *iothread);
/* Stop the loop (after running what is already scheduled) and join. */
void iothread_destroy(IOThread *iothread);

#endif /* QEMU_IOTHREAD_H */
