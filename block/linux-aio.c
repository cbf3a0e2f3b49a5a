/*
 * Linux AIO (libaio) backend of file-posix.
 *
 * One io_context per AioContext, shared by the nodes submitting from it.
 * A request is prepared as an iocb and queued; the queue goes to the kernel
 * in one io_submit() from a bottom half, or at once when it reaches the
 * batch size.  Every iocb signals an eventfd registered in the AioContext;
 * its handler reaps the events and wakes the waiting coroutines.
 * Submission never reaps and reaping never submits, so a request that the
 * kernel completes during io_submit() (buffered I/O on a page-cache hit) is
 * still finished from the next event-loop iteration: the stack does not
 * grow with a chain of requests.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "qemu/osdep.h"
#include <libaio.h>
#include "qapi/error.h"
#include "qemu/error-report.h"
#include "qemu/queue.h"
#include "raw-aio-backend.h"

/* iocbs in the kernel per context; more wait in our queue. */
#define LAIO_MAX_EVENTS      512
/* iocbs per io_submit()/io_getevents() call. */
#define LAIO_EVENTS_PER_CALL 64
/* Retry delay after EAGAIN when no completion will trigger a retry. */
#define LAIO_RETRY_NS        (1000 * 1000)

typedef struct LaioReq {
    struct iocb iocb;
    LinuxAioState *s;
    RawAioReq base;
    QSIMPLEQ_ENTRY(LaioReq) next;
} LaioReq;

struct LinuxAioState {
    RawAioCtx base;             /* AioContext, references, counters */
    io_context_t io_ctx;
    EventNotifier notifier;
    QEMUBH *submit_bh;
    QEMUTimer *retry_timer;

    /* Context thread only. */
    QSIMPLEQ_HEAD(, LaioReq) queue;     /* prepared, not yet submitted */
    unsigned queued;
    unsigned in_flight;                 /* submitted, not yet reaped */
};

static RawAioRegistry laio_registry;

static void laio_prep(LaioReq *r)
{
    const RawAioRequest *req = r->base.req;
    QEMUIOVector *qiov = raw_aio_req_qiov(&r->base);
    int64_t offset = req->offset + r->base.done;
    int fd = req->fd;

    switch (req->op) {
    case RAW_AIO_READ:
        io_prep_preadv(&r->iocb, fd, qiov->iov, qiov->niov, offset);
        break;
    case RAW_AIO_WRITE:
        io_prep_pwritev(&r->iocb, fd, qiov->iov, qiov->niov, offset);
        break;
    case RAW_AIO_FLUSH:
        io_prep_fdsync(&r->iocb, fd);
        break;
    }
    io_set_eventfd(&r->iocb, event_notifier_get_fd(&r->s->notifier));
}

static void laio_submit_queued(LinuxAioState *s)
{
    struct iocb *iocbs[LAIO_EVENTS_PER_CALL];

    while (!QSIMPLEQ_EMPTY(&s->queue) && s->in_flight < LAIO_MAX_EVENTS) {
        unsigned n = 0;
        LaioReq *r;
        int ret;

        QSIMPLEQ_FOREACH(r, &s->queue, next) {
            if (n == ARRAY_SIZE(iocbs) ||
                s->in_flight + n == LAIO_MAX_EVENTS) {
                break;
            }
            iocbs[n++] = &r->iocb;
        }

        do {
            ret = io_submit(s->io_ctx, n, iocbs);
        } while (ret == -EINTR);
        s->base.stats.submit_calls++;

        if (ret == -EAGAIN || ret == 0) {
            /* Kernel out of resources: retry after completions free some. */
            s->base.stats.eagain++;
            if (s->in_flight == 0) {
                timer_mod_ns(s->retry_timer, get_clock_ns() + LAIO_RETRY_NS);
            }
            return;
        }
        if (ret < 0) {
            /* The first iocb was refused (e.g. fdsync unsupported). */
            r = QSIMPLEQ_FIRST(&s->queue);
            QSIMPLEQ_REMOVE_HEAD(&s->queue, next);
            s->queued--;
            raw_aio_req_finish(&s->base, &r->base, ret, false);
            continue;
        }

        for (int i = 0; i < ret; i++) {
            QSIMPLEQ_REMOVE_HEAD(&s->queue, next);
        }
        s->queued -= ret;
        s->in_flight += ret;
        raw_aio_ctx_count_submitted(&s->base, ret, s->in_flight);
    }
}

static void laio_submit_bh(void *opaque)
{
    laio_submit_queued(opaque);
}

static void laio_retry_cb(void *opaque)
{
    laio_submit_queued(opaque);
}

/* Account one event for r; res is the byte count or a negative errno. */
static void laio_complete(LinuxAioState *s, LaioReq *r, long res)
{
    s->in_flight--;
    if (raw_aio_req_complete(&s->base, &r->base, res)) {
        return;
    }
    laio_prep(r);
    QSIMPLEQ_INSERT_TAIL(&s->queue, r, next);
    s->queued++;
}

static void laio_completion_cb(EventNotifier *e)
{
    LinuxAioState *s = container_of(e, LinuxAioState, notifier);
    struct io_event events[LAIO_EVENTS_PER_CALL];

    event_notifier_test_and_clear(e);
    /* A woken coroutine may close the last node using s. */
    raw_aio_ctx_ref(&laio_registry, &s->base);
    for (;;) {
        struct timespec zero = { 0, 0 };
        int n = io_getevents(s->io_ctx, 0, ARRAY_SIZE(events), events, &zero);

        if (n == -EINTR) {
            continue;
        }
        if (n <= 0) {
            break;
        }
        for (int i = 0; i < n; i++) {
            LaioReq *r = container_of(events[i].obj, LaioReq, iocb);
            laio_complete(s, r, (long)events[i].res);
        }
        if (n < (int)ARRAY_SIZE(events)) {
            break;
        }
    }
    if (!QSIMPLEQ_EMPTY(&s->queue)) {
        qemu_bh_schedule(s->submit_bh);
    }
    laio_detach(s);
}

int coroutine_fn laio_co_submit(LinuxAioState *s, const RawAioRequest *req)
{
    LaioReq r = { .s = s };

    raw_aio_req_init(&r.base, &s->base, req);
    laio_prep(&r);
    QSIMPLEQ_INSERT_TAIL(&s->queue, &r, next);
    s->queued++;
    if (raw_aio_batch_full(req, s->queued, LAIO_MAX_EVENTS)) {
        laio_submit_queued(s);
    } else {
        qemu_bh_schedule(s->submit_bh);
    }
    return raw_aio_req_wait(&r.base);
}

/* Runs with the registry locked; it fills in s->base. */
static RawAioCtx *laio_create(AioContext *ctx, Error **errp)
{
    LinuxAioState *s = g_new0(LinuxAioState, 1);
    int ret;

    ret = io_setup(LAIO_MAX_EVENTS, &s->io_ctx);
    if (ret < 0) {
        error_setg_errno(errp, -ret, "Linux AIO (aio=native) is not "
                         "available: io_setup(%d) failed", LAIO_MAX_EVENTS);
        if (ret == -EAGAIN) {
            error_append_hint(errp, "The system-wide limit fs.aio-max-nr "
                              "may be exhausted.\n");
        }
        g_free(s);
        return NULL;
    }
    ret = event_notifier_init(&s->notifier, 0);
    if (ret < 0) {
        io_destroy(s->io_ctx);
        g_free(s);
        error_setg_errno(errp, -ret, "Linux AIO (aio=native): cannot create "
                         "its eventfd");
        return NULL;
    }
    QSIMPLEQ_INIT(&s->queue);
    s->submit_bh = aio_bh_new(ctx, laio_submit_bh, s);
    s->retry_timer = aio_timer_new(ctx, laio_retry_cb, s);
    aio_set_event_notifier(ctx, &s->notifier, laio_completion_cb);
    return &s->base;
}

LinuxAioState *laio_attach(AioContext *ctx, Error **errp)
{
    RawAioCtx *c = raw_aio_ctx_attach(&laio_registry, ctx, laio_create,
                                      errp);

    return c ? container_of(c, LinuxAioState, base) : NULL;
}

void laio_detach(LinuxAioState *s)
{
    AioContext *ctx = s->base.ctx;

    if (!raw_aio_ctx_unref(&laio_registry, &s->base)) {
        return;
    }

    /* Nodes are drained before they close; wait for stragglers anyway. */
    if (s->in_flight || s->queued) {
        assert(qemu_get_current_aio_context() == ctx);
        AIO_WAIT_WHILE(ctx, s->in_flight || s->queued);
    }
    aio_set_event_notifier(ctx, &s->notifier, NULL);
    qemu_bh_delete(s->submit_bh);
    timer_free(s->retry_timer);
    io_destroy(s->io_ctx);
    event_notifier_cleanup(&s->notifier);
    g_free(s);
}

bool laio_get_stats(AioContext *ctx, RawAioStats *stats)
{
    return raw_aio_ctx_get_stats(&laio_registry, ctx, stats);
}
