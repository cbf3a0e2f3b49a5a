/*
 * fd handlers and aio_poll() on Linux epoll.
 *
 * Why epoll rather than poll(): the kernel keeps the interest set, so an
 * iteration costs O(ready fds) instead of rebuilding and scanning a pollfd
 * array of every registered fd; the number of fds grows with each
 * io_uring/libaio instance and event notifier.  Level-triggered, so a
 * handler that does not drain its fd is simply called again, like poll().
 *
 * Each epoll_event carries a pointer to its AioHandler.  Changing or
 * removing the handlers of an fd retires the old AioHandler (marks it
 * deleted) instead of editing it, and retired handlers are only freed when
 * no aio_poll() is running on the context (walking_handlers == 0): a ready
 * list returned by epoll_wait() may still point at them, and a handler may
 * remove itself or others while it runs.  Retired handlers are never
 * called.  The notifier of aio_notify() is in the same epoll set, with a
 * NULL data pointer.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "qemu/osdep.h"
#include "block/aio.h"
#include "qapi/error.h"
#include "qemu/error-report.h"
#include "aio-int.h"

#include <sys/epoll.h>
#include <time.h>

/* Ready fds handled per iteration; the rest stay ready for the next one. */
#define AIO_MAX_EVENTS 64

struct AioHandler {
    int fd;
    IOHandler *io_read;
    IOHandler *io_write;
    EventNotifierHandler *io_notify;    /* instead of io_read, opaque = e */
    void *opaque;
    bool deleted;                       /* atomic */
    QLIST_ENTRY(AioHandler) node;       /* in deleted_handlers */
};

int aio_context_setup(AioContext *ctx, Error **errp)
{
    struct epoll_event ev = { .events = EPOLLIN, .data.ptr = NULL };

    ctx->epollfd = epoll_create1(EPOLL_CLOEXEC);
    if (ctx->epollfd < 0) {
        error_setg_errno(errp, errno, "Failed to create epoll instance");
        return -errno;
    }
    if (epoll_ctl(ctx->epollfd, EPOLL_CTL_ADD,
                  event_notifier_get_fd(&ctx->notifier), &ev) < 0) {
        int ret = -errno;

        error_setg_errno(errp, errno,
                         "Failed to add event notifier to epoll set");
        close(ctx->epollfd);
        return ret;
    }
    g_mutex_init(&ctx->list_lock);
    ctx->handlers = g_hash_table_new(g_direct_hash, g_direct_equal);
    QLIST_INIT(&ctx->deleted_handlers);
    ctx->walking_handlers = 0;
    return 0;
}

void aio_context_cleanup(AioContext *ctx)
{
    AioHandler *h, *next;

    assert(ctx->walking_handlers == 0);
    if (g_hash_table_size(ctx->handlers)) {
        GHashTableIter iter;
        gpointer key;

        g_hash_table_iter_init(&iter, ctx->handlers);
        g_hash_table_iter_next(&iter, &key, NULL);
        fprintf(stderr, "aio_context_unref: fd %d still has handlers; "
                "remove them before the last unref\n", GPOINTER_TO_INT(key));
        abort();
    }
    QLIST_FOREACH_SAFE(h, &ctx->deleted_handlers, node, next) {
        QLIST_REMOVE(h, node);
        g_free(h);
    }
    g_hash_table_destroy(ctx->handlers);
    g_mutex_clear(&ctx->list_lock);
    close(ctx->epollfd);
}

/* Called with list_lock held. */
static void aio_handler_retire(AioContext *ctx, AioHandler *h)
{
    __atomic_store_n(&h->deleted, true, __ATOMIC_RELEASE);
    if (ctx->walking_handlers) {
        QLIST_INSERT_HEAD(&ctx->deleted_handlers, h, node);
    } else {
        g_free(h);
    }
}

static void aio_epoll_update(AioContext *ctx, AioHandler *old, AioHandler *h)
{
    struct epoll_event ev = { 0 };
    int fd = old ? old->fd : h->fd;
    int op, ret;

    if (!h) {
        /* EBADF/ENOENT: fd closed already, epoll dropped it by itself. */
        epoll_ctl(ctx->epollfd, EPOLL_CTL_DEL, fd, &ev);
        return;
    }
    ev.data.ptr = h;
    if (h->io_read || h->io_notify) {
        ev.events |= EPOLLIN;
    }
    if (h->io_write) {
        ev.events |= EPOLLOUT;
    }
    op = old ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;
    ret = epoll_ctl(ctx->epollfd, op, fd, &ev);
    if (ret < 0 && errno == ENOENT && op == EPOLL_CTL_MOD) {
        /* The old fd was closed without removing its handlers. */
        ret = epoll_ctl(ctx->epollfd, EPOLL_CTL_ADD, fd, &ev);
    } else if (ret < 0 && errno == EEXIST && op == EPOLL_CTL_ADD) {
        ret = epoll_ctl(ctx->epollfd, EPOLL_CTL_MOD, fd, &ev);
    }
    if (ret < 0) {
        /* EPERM: regular files cannot be polled and never need to be. */
        error_report("aio_set_fd_handler: cannot poll fd %d: %s",
                     fd, strerror(errno));
        abort();
    }
}

static void aio_set_handler(AioContext *ctx, int fd, IOHandler *io_read,
                            IOHandler *io_write,
                            EventNotifierHandler *io_notify, void *opaque)
{
    AioHandler *old, *h = NULL;

    g_mutex_lock(&ctx->list_lock);
    old = g_hash_table_lookup(ctx->handlers, GINT_TO_POINTER(fd));
    if (io_read || io_write || io_notify) {
        h = g_new0(AioHandler, 1);
        h->fd = fd;
        h->io_read = io_read;
        h->io_write = io_write;
        h->io_notify = io_notify;
        h->opaque = opaque;
    }
    if (!old && !h) {
        g_mutex_unlock(&ctx->list_lock);
        return;
    }
    aio_epoll_update(ctx, old, h);
    if (h) {
        g_hash_table_insert(ctx->handlers, GINT_TO_POINTER(fd), h);
    } else {
        g_hash_table_remove(ctx->handlers, GINT_TO_POINTER(fd));
    }
    if (old) {
        aio_handler_retire(ctx, old);
    }
    g_mutex_unlock(&ctx->list_lock);
}

void aio_set_fd_handler(AioContext *ctx, int fd, IOHandler *io_read,
                        IOHandler *io_write, void *opaque)
{
    aio_set_handler(ctx, fd, io_read, io_write, NULL, opaque);
}

void aio_set_event_notifier(AioContext *ctx, EventNotifier *e,
                            EventNotifierHandler *handler)
{
    aio_set_handler(ctx, event_notifier_get_fd(e), NULL, NULL, handler, e);
}

static void aio_walk_begin(AioContext *ctx)
{
    g_mutex_lock(&ctx->list_lock);
    ctx->walking_handlers++;
    g_mutex_unlock(&ctx->list_lock);
}

static void aio_walk_end(AioContext *ctx)
{
    AioHandler *h, *next;

    g_mutex_lock(&ctx->list_lock);
    if (--ctx->walking_handlers == 0) {
        QLIST_FOREACH_SAFE(h, &ctx->deleted_handlers, node, next) {
            QLIST_REMOVE(h, node);
            g_free(h);
        }
    }
    g_mutex_unlock(&ctx->list_lock);
}

static bool aio_handler_live(AioHandler *h)
{
    return !__atomic_load_n(&h->deleted, __ATOMIC_ACQUIRE);
}

static bool aio_dispatch_handlers(AioContext *ctx, struct epoll_event *events,
                                  int n)
{
    bool progress = false;
    int i;

    for (i = 0; i < n; i++) {
        AioHandler *h = events[i].data.ptr;
        uint32_t revents = events[i].events;

        if (!h) {
            event_notifier_test_and_clear(&ctx->notifier);
            continue;
        }
        /* Re-check before each call: the previous one may retire h. */
        if (aio_handler_live(h) &&
            (revents & (EPOLLIN | EPOLLHUP | EPOLLERR))) {
            if (h->io_notify) {
                h->io_notify(h->opaque);
                progress = true;
            } else if (h->io_read) {
                h->io_read(h->opaque);
                progress = true;
            }
        }
        /* HUP too, or a write-only fd that hung up would spin the loop. */
        if (aio_handler_live(h) &&
            (revents & (EPOLLOUT | EPOLLERR | EPOLLHUP)) && h->io_write) {
            h->io_write(h->opaque);
            progress = true;
        }
    }
    return progress;
}

/*
 * timeout_ns < 0 waits forever.  epoll_pwait2() (Linux 5.11) takes
 * nanoseconds, so short timers are not delayed to the next millisecond;
 * the fallback rounds up so that a timer is never woken for too early.
 */
static int aio_epoll_wait(AioContext *ctx, struct epoll_event *events,
                          int64_t timeout_ns)
{
    static bool no_pwait2;
    int ms;

    if (timeout_ns > 0 && !__atomic_load_n(&no_pwait2, __ATOMIC_RELAXED)) {
        struct timespec ts = {
            .tv_sec = timeout_ns / 1000000000LL,
            .tv_nsec = timeout_ns % 1000000000LL,
        };
        int ret = epoll_pwait2(ctx->epollfd, events, AIO_MAX_EVENTS, &ts,
                               NULL);

        /* Old kernel, or a seccomp filter that does not know it. */
        if (ret >= 0 || (errno != ENOSYS && errno != EPERM)) {
            return ret;
        }
        __atomic_store_n(&no_pwait2, true, __ATOMIC_RELAXED);
    }
    if (timeout_ns < 0) {
        ms = -1;
    } else {
        ms = MIN(DIV_ROUND_UP(timeout_ns, 1000000LL), (int64_t)INT_MAX);
    }
    return epoll_wait(ctx->epollfd, events, AIO_MAX_EVENTS, ms);
}

/* Called after notify_me was raised, so no work published later is lost. */
static int64_t aio_compute_timeout(AioContext *ctx)
{
    if (__atomic_load_n(&ctx->notified, __ATOMIC_SEQ_CST) ||
        aio_bh_pending(ctx)) {
        return 0;
    }
    return aio_timers_timeout_ns(ctx);
}

bool aio_poll(AioContext *ctx, bool blocking)
{
    struct epoll_event events[AIO_MAX_EVENTS];
    bool progress = false;
    bool notified;

    aio_walk_begin(ctx);
    do {
        int64_t timeout = 0;
        int n;

        if (blocking) {
            __atomic_fetch_add(&ctx->notify_me, 1, __ATOMIC_SEQ_CST);
            __atomic_thread_fence(__ATOMIC_SEQ_CST);
            timeout = aio_compute_timeout(ctx);
        }
        n = aio_epoll_wait(ctx, events, timeout);
        if (blocking) {
            __atomic_fetch_sub(&ctx->notify_me, 1, __ATOMIC_SEQ_CST);
        }
        if (n < 0) {
            if (errno != EINTR) {
                error_report("aio_poll: epoll_wait: %s", strerror(errno));
                abort();
            }
            n = 0;
        }
        notified = __atomic_exchange_n(&ctx->notified, false,
                                       __ATOMIC_SEQ_CST);

        progress |= aio_dispatch_handlers(ctx, events, n);
        progress |= aio_bh_poll(ctx);
        progress |= aio_timers_run(ctx);

        /*
         * A blocking call ends once something ran or aio_notify() was
         * called; other wake-ups (a stale kick, EINTR, an early return
         * from epoll) just wait again.
         */
    } while (blocking && !progress && !notified);
    aio_walk_end(ctx);
    return progress;
}
