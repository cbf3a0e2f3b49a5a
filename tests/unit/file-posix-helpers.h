/*
 * What the tests of the file-posix protocol driver (test-file-posix*.c)
 * share: the backend modes they run in, files in a temporary directory,
 * "file" nodes opened through the block layer, requests run to
 * completion in a coroutine, patterned data written and checked.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef FILE_POSIX_HELPERS_H
#define FILE_POSIX_HELPERS_H

#include "block/block_int.h"
#include "block/raw-aio.h"
#include "sysemu/block-backend.h"

#define KiB 1024LL
#define MiB (1024 * KiB)

/* The test's temporary directory; main() makes it. */
extern char *tmpdir;

/* ---- test modes ---- */

typedef struct Mode {
    const char *aio;
    bool direct;
} Mode;

/* Every backend, buffered and with O_DIRECT (Linux AIO needs it). */
#define NR_MODES 5
extern const Mode modes[NR_MODES];

RawAioBackend mode_backend(const Mode *m);
/* The backend's counters in the main context; false for the pool. */
bool mode_stats(const Mode *m, RawAioStats *stats);

typedef struct ModeTest {
    const char *name;
    GTestDataFunc fn;
    bool direct_only;
} ModeTest;

/*
 * Add each test for every mode whose backend is built, as
 * /file-posix/AIO/buffered|direct/NAME with the Mode as its data.
 */
void add_mode_tests(const ModeTest *tests, size_t n);

/* ---- files ---- */

char *new_path(void);
char *make_file(int64_t size);
/* A file filled with pattern(seed), written without the block layer. */
char *make_data_file(int64_t size, unsigned seed);
/* Bytes that depend on their offset and seed, never zero. */
void pattern(void *buf, int64_t offset, size_t len, unsigned seed);
void check_pattern(const void *buf, int64_t offset, size_t len,
                   unsigned seed);
void check_zero(const void *buf, size_t len);
void rmdir_recursive(const char *dir);

/* ---- nodes ---- */

typedef struct Node {
    BlockBackend *blk;
    BlockDriverState *bs;
    const Mode *mode;
    char *path;
} Node;

/*
 * Open path as a "file" node (or driver, if set) through the block layer.
 * extra: more options, keyval syntax.
 */
Node *node_open_full(const char *driver, const char *path, const char *aio,
                     int flags, const char *extra, Error **errp);
/* In mode m, read-write; the node must use m's backend. */
Node *node_open(const Mode *m, const char *path, const char *extra);
void node_close(Node *n);

/* ---- requests in coroutines ---- */

enum {
    OP_READ, OP_WRITE, OP_ZEROES, OP_DISCARD, OP_FLUSH,
    /* straight to the driver, below the block layer's checks */
    OP_DRV_READ, OP_DRV_WRITE, OP_DRV_STATUS,
};

typedef struct IoArgs {
    Node *n;
    int op;
    int64_t offset;
    int64_t bytes;
    QEMUIOVector *qiov;
    int flags;
    bool want_zero;
    int64_t pnum;
    int64_t map;
    int ret;
    bool done;
} IoArgs;

int run_io(IoArgs *a);
int do_io(Node *n, int op, int64_t offset, int64_t bytes, void *buf,
          int flags);

/* Buffers aligned for O_DIRECT. */
void *abuf(size_t len);
void write_pattern(Node *n, int64_t offset, int64_t len, unsigned seed);
/* Read and check pattern(seed), or zeroes if seed is 0. */
void read_check(Node *n, int64_t offset, int64_t len, unsigned seed);

#endif /* FILE_POSIX_HELPERS_H */
