/*
 * Main loop helpers for command-line tools: one main AioContext, created by
 * qemu_init_main_loop(), run by main_loop_wait().
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef QEMU_MAIN_LOOP_H
#define QEMU_MAIN_LOOP_H

#include "block/aio.h"

/* Create the main context (idempotent).  Returns 0, or -errno with *errp. */
int qemu_init_main_loop(Error **errp);
/* The main context; aborts if qemu_init_main_loop() was not called. */
AioContext *qemu_get_aio_context(void);
/* One iteration of the main context; blocks unless nonblocking. */
void main_loop_wait(bool nonblocking);
/* True in the thread that called qemu_init_main_loop(). */
bool qemu_in_main_thread(void);

#endif /* QEMU_MAIN_LOOP_H */
