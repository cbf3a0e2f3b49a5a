/*
 * What the tests of the zoned image format (test-zoned-format*.c) share:
 * images in a temporary directory opened through BlockBackend -> zoned
 * -> file, zone reports, patterned data written, read back and appended.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef ZONED_FORMAT_HELPERS_H
#define ZONED_FORMAT_HELPERS_H

#include "sysemu/block-backend.h"

#define KiB 1024LL
#define MiB (1024 * KiB)

/* The geometry of most tests: 8 zones of 1 MiB (768 KiB capacity). */
#define GEO "zone_size=1M,zone_capacity=768K,conventional_zones=1," \
            "logical_block_size=4096"
#define ZS (1 * MiB)
#define ZCAP (768 * KiB)

/* The test's temporary directory; main() makes it. */
extern char *tmpdir;

/* Remove tmpdir and everything in it. */
void tmpdir_remove(void);
char *path_of(const char *name);

int try_create(const char *path, const char *opts, int64_t size,
               Error **errp);
char *create_img(const char *name, const char *opts, int64_t size);
BlockBackend *try_open(const char *path, int flags, Error **errp);
BlockBackend *open_img(const char *path, int flags);

void zone(BlockBackend *blk, uint32_t i, BlockZoneDescriptor *d);
void assert_zone(BlockBackend *blk, uint32_t i, BlockZoneState st,
                 uint64_t wp);

/* len bytes (qemu_vfree them) that tell seed and block apart. */
uint8_t *pattern(size_t len, uint8_t seed);
void write_pat(BlockBackend *blk, int64_t off, size_t len, uint8_t seed);
void check_pat(BlockBackend *blk, int64_t off, size_t len, uint8_t seed);
void check_zero(BlockBackend *blk, int64_t off, size_t len);
/* An append of pattern(len, seed); where it landed in *landed. */
int do_append(BlockBackend *blk, int64_t zone_start, size_t len,
              uint8_t seed, int64_t *landed);

/* Is there data in the file under the image, in [off, off + len)? */
bool file_has_data(const char *path, int64_t off, int64_t len);

#endif /* ZONED_FORMAT_HELPERS_H */
