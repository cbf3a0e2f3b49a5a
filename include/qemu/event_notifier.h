/*
 * EventNotifier: a counter fd (eventfd) one side sets and the other polls.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef QEMU_EVENT_NOTIFIER_H
#define QEMU_EVENT_NOTIFIER_H

typedef struct EventNotifier {
    int rfd;
    int wfd;     /* same as rfd for eventfd */
    bool initialized;
} EventNotifier;

/* Returns 0 or -errno.  active: start in the set state. */
int event_notifier_init(EventNotifier *e, int active);
void event_notifier_cleanup(EventNotifier *e);
/* Returns 0 or -errno.  Async-signal-safe and thread-safe. */
int event_notifier_set(EventNotifier *e);
/* Returns whether it was set, and clears it. */
int event_notifier_test_and_clear(EventNotifier *e);
int event_notifier_get_fd(const EventNotifier *e);

#endif /* QEMU_EVENT_NOTIFIER_H */
