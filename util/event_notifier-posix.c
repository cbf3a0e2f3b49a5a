/*
 * EventNotifier on Linux eventfd: one fd, a 64-bit counter that is
 * readable while non-zero.  Setting adds 1; test_and_clear reads (and so
 * resets) the counter.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "qemu/osdep.h"
#include "qemu/event_notifier.h"

#include <sys/eventfd.h>

int event_notifier_init(EventNotifier *e, int active)
{
    /* Non-blocking so that test_and_clear never sleeps on an unset one. */
    int fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);

    if (fd < 0) {
        return -errno;
    }
    e->rfd = e->wfd = fd;
    e->initialized = true;
    if (active) {
        int ret = event_notifier_set(e);
        if (ret < 0) {
            event_notifier_cleanup(e);
            return ret;
        }
    }
    return 0;
}

void event_notifier_cleanup(EventNotifier *e)
{
    if (!e->initialized) {
        return;
    }
    close(e->rfd);
    if (e->wfd != e->rfd) {
        close(e->wfd);
    }
    e->rfd = e->wfd = -1;
    e->initialized = false;
}

int event_notifier_set(EventNotifier *e)
{
    static const uint64_t one = 1;
    ssize_t ret;

    do {
        ret = write(e->wfd, &one, sizeof(one));
    } while (ret < 0 && errno == EINTR);

    /* EAGAIN: the counter is about to overflow, so it is set already. */
    if (ret < 0 && errno != EAGAIN) {
        return -errno;
    }
    return 0;
}

int event_notifier_test_and_clear(EventNotifier *e)
{
    uint64_t value;
    ssize_t ret;

    do {
        ret = read(e->rfd, &value, sizeof(value));
    } while (ret < 0 && errno == EINTR);

    /* EAGAIN: the counter was zero. */
    return ret == sizeof(value) && value != 0;
}

int event_notifier_get_fd(const EventNotifier *e)
{
    return e->rfd;
}
