/*
 * io_uring (liburing) backend of file-posix.
 *
 * One ring per AioContext, shared by the nodes submitting from it.
 * Requests wait in a queue and become SQEs in a bottom half (or at once
 * when the batch is full), then go to the kernel in one io_uring_submit().
 * The ring signals an eventfd registered in the AioContext for every CQE;
 * its handler reaps the CQEs and wakes the waiting coroutines.
 *
 * Submission never reaps and reaping never submits.  On buffered files the
 * kernel often completes a read inside io_uring_submit() (page-cache hit);
 * its CQE is still handled from the next event-loop iteration, so a chain
 * of such requests at queue depth 1 does not nest stack frames.
 *
 * The completion queue cannot overflow: no more requests are given to the
 * ring than the CQ has entries.  Should the kernel still report an
 * overflow, the reaping loop flushes it.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "qemu/osdep.h"
#include <liburing.h>
#include "qapi/error.h"
#include "qemu/error-report.h"
#include "qemu/queue.h"
#include "raw-aio-backend.h"

/* SQ entries per ring; the CQ gets twice as many. */
#define LURING_ENTRIES   128
/* Retry delay after EAGAIN/EBUSY when no completion will trigger a retry. */
#define LURING_RETRY_NS  (1000 * 1000)

typedef struct LuringReq {
    RawAioReq base;
    QSIMPLEQ_ENTRY(LuringReq) next;
} LuringReq;

struct LuringState {
    RawAioCtx base;             /* AioContext, references, counters */
    struct io_uring ring;
    unsigned cq_entries;
    EventNotifier notifier;
    QEMUBH *submit_bh;
    QEMUTimer *retry_timer;

    /* Context thread only. */
    QSIMPLEQ_HEAD(, LuringReq) queue;   /* waiting for an SQE */
    unsigned queued;
    unsigned in_ring;                   /* SQEs prepared, CQE not yet reaped */
    bool submit_error_reported;
};

static RawAioRegistry luring_registry;

static void luring_prep(struct io_uring_sqe *sqe, LuringReq *r)
{
    const RawAioRequest *req = r->base.req;
    QEMUIOVector *qiov = raw_aio_req_qiov(&r->base);
    int64_t offset = req->offset + r->base.done;

    switch (req->op) {
    case RAW_AIO_READ:
        io_uring_prep_readv(sqe, req->fd, qiov->iov, qiov->niov, offset);
        break;
    case RAW_AIO_WRITE:
        io_uring_prep_writev(sqe, req->fd, qiov->iov, qiov->niov, offset);
        break;
    case RAW_AIO_FLUSH:
        io_uring_prep_fsync(sqe, req->fd, IORING_FSYNC_DATASYNC);
        break;
    }
    io_uring_sqe_set_data(sqe, r);
}

static void luring_retry_later(LuringState *s)
{
    /* With requests in the ring, their completions trigger the retry. */
    if (s->in_ring == io_uring_sq_ready(&s->ring)) {
        timer_mod_ns(s->retry_timer, get_clock_ns() + LURING_RETRY_NS);
    }
}

static void luring_submit_queued(LuringState *s)
{
    for (;;) {
        int ret;

        /* Fill the SQ without promising more CQEs than the CQ holds. */
        while (!QSIMPLEQ_EMPTY(&s->queue) && s->in_ring < s->cq_entries) {
            struct io_uring_sqe *sqe = io_uring_get_sqe(&s->ring);
            LuringReq *r;

            if (!sqe) {
                break;          /* SQ full: submit, then go on */
            }
            r = QSIMPLEQ_FIRST(&s->queue);
            QSIMPLEQ_REMOVE_HEAD(&s->queue, next);
            s->queued--;
            luring_prep(sqe, r);
            s->in_ring++;
        }
        if (io_uring_sq_ready(&s->ring) == 0) {
            return;
        }

        ret = io_uring_submit(&s->ring);
        s->base.stats.submit_calls++;
        if (ret == -EINTR) {
            continue;
        }
        if (ret <= 0) {
            if (ret == -EAGAIN || ret == -EBUSY || ret == 0) {
                s->base.stats.eagain++;
            } else if (!s->submit_error_reported) {
                /* The SQEs stay in the ring and are offered again. */
                error_report("io_uring_submit: %s", strerror(-ret));
                s->submit_error_reported = true;
            }
            luring_retry_later(s);
            return;
        }
        raw_aio_ctx_count_submitted(&s->base, ret, s->in_ring);
        if (QSIMPLEQ_EMPTY(&s->queue) || s->in_ring >= s->cq_entries) {
            if (io_uring_sq_ready(&s->ring) == 0) {
                return;
            }
        }
    }
}

static void luring_submit_bh(void *opaque)
{
    luring_submit_queued(opaque);
}

static void luring_retry_cb(void *opaque)
{
    luring_submit_queued(opaque);
}

/* Account one CQE for r; res is the byte count or a negative errno. */
static void luring_complete(LuringState *s, LuringReq *r, int res)
{
    if (res == -EINTR || res == -EAGAIN) {
        /* Nothing happened: offer the same request again. */
        s->base.stats.eagain++;
    } else if (raw_aio_req_complete(&s->base, &r->base, res)) {
        return;
    }
    /* The SQE is prepared from what is left when it is next submitted. */
    QSIMPLEQ_INSERT_TAIL(&s->queue, r, next);
    s->queued++;
}

static void luring_completion_cb(EventNotifier *e)
{
    LuringState *s = container_of(e, LuringState, notifier);

    event_notifier_test_and_clear(e);
    /* A woken coroutine may close the last node using s. */
    raw_aio_ctx_ref(&luring_registry, &s->base);
    for (;;) {
        struct io_uring_cqe *cqe;
        LuringReq *r;
        int res;

        if (io_uring_peek_cqe(&s->ring, &cqe) != 0 || !cqe) {
            /* Entries the kernel kept aside when the CQ was full. */
            if (io_uring_cq_has_overflow(&s->ring)) {
                s->base.stats.cq_overflows++;
                io_uring_get_events(&s->ring);
                continue;
            }
            break;
        }
        r = io_uring_cqe_get_data(cqe);
        res = cqe->res;
        io_uring_cqe_seen(&s->ring, cqe);
        s->in_ring--;
        luring_complete(s, r, res);
    }
    if (!QSIMPLEQ_EMPTY(&s->queue) || io_uring_sq_ready(&s->ring)) {
        qemu_bh_schedule(s->submit_bh);
    }
    luring_detach(s);
}

int coroutine_fn luring_co_submit(LuringState *s, const RawAioRequest *req)
{
    LuringReq r;

    raw_aio_req_init(&r.base, &s->base, req);
    QSIMPLEQ_INSERT_TAIL(&s->queue, &r, next);
    s->queued++;
    if (raw_aio_batch_full(req, s->queued, LURING_ENTRIES)) {
        luring_submit_queued(s);
    } else {
        qemu_bh_schedule(s->submit_bh);
    }
    return raw_aio_req_wait(&r.base);
}

/* Runs with the registry locked; it fills in s->base. */
static RawAioCtx *luring_create(AioContext *ctx, Error **errp)
{
    LuringState *s = g_new0(LuringState, 1);
    int ret;

    ret = io_uring_queue_init(LURING_ENTRIES, &s->ring, 0);
    if (ret < 0) {
        g_free(s);
        error_setg_errno(errp, -ret, "io_uring (aio=io_uring) is not "
                         "available: io_uring_queue_init(%d) failed",
                         LURING_ENTRIES);
        return NULL;
    }
    ret = event_notifier_init(&s->notifier, 0);
    if (ret == 0) {
        ret = io_uring_register_eventfd(&s->ring,
                                        event_notifier_get_fd(&s->notifier));
        if (ret < 0) {
            event_notifier_cleanup(&s->notifier);
        }
    }
    if (ret < 0) {
        io_uring_queue_exit(&s->ring);
        g_free(s);
        error_setg_errno(errp, -ret, "io_uring (aio=io_uring): cannot "
                         "register its eventfd");
        return NULL;
    }
    s->cq_entries = s->ring.cq.ring_entries;
    QSIMPLEQ_INIT(&s->queue);
    s->submit_bh = aio_bh_new(ctx, luring_submit_bh, s);
    s->retry_timer = aio_timer_new(ctx, luring_retry_cb, s);
    aio_set_event_notifier(ctx, &s->notifier, luring_completion_cb);
    return &s->base;
}

LuringState *luring_attach(AioContext *ctx, Error **errp)
{
    RawAioCtx *c = raw_aio_ctx_attach(&luring_registry, ctx, luring_create,
                                      errp);

    return c ? container_of(c, LuringState, base) : NULL;
}

void luring_detach(LuringState *s)
{
    AioContext *ctx = s->base.ctx;

    if (!raw_aio_ctx_unref(&luring_registry, &s->base)) {
        return;
    }

    /* Nodes are drained before they close; wait for stragglers anyway. */
    if (s->in_ring || s->queued) {
        assert(qemu_get_current_aio_context() == ctx);
        AIO_WAIT_WHILE(ctx, s->in_ring || s->queued);
    }
    aio_set_event_notifier(ctx, &s->notifier, NULL);
    qemu_bh_delete(s->submit_bh);
    timer_free(s->retry_timer);
    io_uring_queue_exit(&s->ring);
    event_notifier_cleanup(&s->notifier);
    g_free(s);
}

bool luring_get_stats(AioContext *ctx, RawAioStats *stats)
{
    return raw_aio_ctx_get_stats(&luring_registry, ctx, stats);
}
