/*
 * zprobe: drive a zoned block device one command at a time and print what
 * the kernel answered, so that the zone state machine of the zoned image
 * format can be checked against the real zoned null_blk.
 *
 *   zprobe DEV CMD...
 *
 * Offsets and lengths are bytes (any strtoull base); "Nz" means N zones of
 * the device's zone size and "Nz+M" ("Nz-M") adds (subtracts) M bytes.
 * Commands:
 *   w:OFF:LEN      O_DIRECT write of LEN bytes at OFF
 *   r:OFF:LEN      O_DIRECT read; prints the bytes read (see do_io)
 *   open|close|finish|reset:OFF[:LEN]   BLK*ZONE ioctl (LEN: one zone)
 *   rep[:FIRST[:N]]  report zones (indexes), one line each
 *   ro:IDX / off:IDX  toggle zone IDX read-only / offline through configfs
 *   sysfs          print the queue's zone limits and zone count
 *   resync:on|off  after a failed write, report the zones it touched (on,
 *                  the default, as the project's file-posix does).  Since
 *                  6.12.y (6.13 upstream) Linux fails every later write to
 *                  a zone after a failed one until the zone is reported,
 *                  reset or finished: "off" shows that.
 *   -TEXT          print TEXT (a label)
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/blkzoned.h>
#include <linux/fs.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

static int fd;
static const char *dev;
static uint64_t zone_bytes;
static unsigned nr_zones;
static bool resync = true;

static const char *errname(int e)
{
    switch (e) {
    case EIO: return "EIO";
    case EINVAL: return "EINVAL";
    case ETOOMANYREFS: return "ETOOMANYREFS";
    case EOVERFLOW: return "EOVERFLOW";
    case EBADF: return "EBADF";
    case EPERM: return "EPERM";
    case ENOSPC: return "ENOSPC";
    case EAGAIN: return "EAGAIN";
    default: return strerror(e);
    }
}

static const char *cond_name(unsigned c)
{
    switch (c) {
    case BLK_ZONE_COND_NOT_WP: return "not-wp";
    case BLK_ZONE_COND_EMPTY: return "empty";
    case BLK_ZONE_COND_IMP_OPEN: return "imp-open";
    case BLK_ZONE_COND_EXP_OPEN: return "exp-open";
    case BLK_ZONE_COND_CLOSED: return "closed";
    case BLK_ZONE_COND_READONLY: return "read-only";
    case BLK_ZONE_COND_FULL: return "full";
    case BLK_ZONE_COND_OFFLINE: return "offline";
    default: return "?";
    }
}

static uint64_t num(const char *s)
{
    char *end;
    uint64_t v = strtoull(s, &end, 0);

    if (*end == 'z') {
        v *= zone_bytes;
        end++;
    }
    if (*end == '+') {
        v += strtoull(end + 1, NULL, 0);
    } else if (*end == '-') {
        v -= strtoull(end + 1, NULL, 0);
    }
    return v;
}

static void report(unsigned first, unsigned n, bool quiet)
{
    size_t sz = sizeof(struct blk_zone_report) + n * sizeof(struct blk_zone);
    struct blk_zone_report *rep = calloc(1, sz);

    rep->sector = (uint64_t)first * (zone_bytes >> 9);
    rep->nr_zones = n;
    if (ioctl(fd, BLKREPORTZONE, rep) < 0) {
        printf("  report: %s\n", errname(errno));
        free(rep);
        return;
    }
    /* A quiet report only refreshes the kernel's write pointer cache. */
    for (unsigned i = 0; !quiet && i < rep->nr_zones; i++) {
        struct blk_zone *z = &rep->zones[i];
        char wp[32];

        if (z->wp == UINT64_MAX) {
            snprintf(wp, sizeof(wp), "all-ones");
        } else {
            snprintf(wp, sizeof(wp), "start+0x%llx",
                     (unsigned long long)((z->wp - z->start) << 9));
        }
        printf("  z%u %-9s wp=%s len=0x%llx cap=0x%llx\n", first + i,
               cond_name(z->cond), wp, (unsigned long long)z->len << 9,
               (unsigned long long)z->capacity << 9);
    }
    free(rep);
}

static void toggle(const char *attr, unsigned idx)
{
    char path[256], val[32];
    const char *name = strrchr(dev, '/') + 1;
    int f;

    snprintf(path, sizeof(path), "/sys/kernel/config/nullb/%s/%s", name,
             attr);
    snprintf(val, sizeof(val), "%llu",
             (unsigned long long)idx * (zone_bytes >> 9));
    f = open(path, O_WRONLY);
    if (f < 0 || write(f, val, strlen(val)) < 0) {
        printf("  %s: %s\n", path, errname(errno));
    } else {
        printf("  ok\n");
    }
    if (f >= 0) {
        close(f);
    }
}

static void sysfs(void)
{
    static const char *attrs[] = { "max_open_zones", "max_active_zones",
                                   "nr_zones" };
    const char *name = strrchr(dev, '/') + 1;

    for (unsigned i = 0; i < sizeof(attrs) / sizeof(attrs[0]); i++) {
        char path[256], buf[64] = "";
        FILE *f;

        snprintf(path, sizeof(path), "/sys/block/%s/queue/%s", name,
                 attrs[i]);
        f = fopen(path, "r");
        if (f && fgets(buf, sizeof(buf), f)) {
            buf[strcspn(buf, "\n")] = 0;
        }
        printf("  %s=%s\n", attrs[i], buf);
        if (f) {
            fclose(f);
        }
    }
}

/*
 * Writes fill each call's data with its own byte (1, 2, ...); reads print
 * the bytes found as runs of 512-byte sectors ("02x8 00x8": 8 sectors of
 * the second write, then 8 of zeroes).
 */
static void do_io(bool wr, uint64_t off, uint64_t len)
{
    static unsigned char fill;
    unsigned char *buf;
    ssize_t ret;

    if (posix_memalign((void **)&buf, 4096, len ? len : 4096)) {
        abort();
    }
    if (wr) {
        fill = fill == 0xff ? 1 : fill + 1;
    }
    memset(buf, wr ? fill : 0, len);
    ret = wr ? pwrite(fd, buf, len, off) : pread(fd, buf, len, off);
    if (ret < 0) {
        printf("  %s\n", errname(errno));
        if (wr && resync && len) {
            unsigned first = off / zone_bytes;

            report(first, (off + len - 1) / zone_bytes - first + 1, true);
        }
    } else if ((uint64_t)ret != len) {
        printf("  short %zd\n", ret);
    } else if (wr) {
        printf("  ok (byte %02x)\n", fill);
    } else {
        uint64_t run = 0;

        printf("  ok");
        for (uint64_t i = 0; i < len; i += 512) {
            run++;
            if (i + 512 >= len || buf[i + 512] != buf[i]) {
                printf(" %02xx%llu", buf[i], (unsigned long long)run);
                run = 0;
            }
        }
        printf("\n");
    }
    free(buf);
}

int main(int argc, char **argv)
{
    unsigned int zs;

    if (argc < 2) {
        fprintf(stderr, "usage: zprobe DEV CMD...\n");
        return 2;
    }
    dev = argv[1];
    fd = open(dev, O_RDWR | O_DIRECT);
    if (fd < 0 || ioctl(fd, BLKGETZONESZ, &zs) < 0 ||
        ioctl(fd, BLKGETNRZONES, &nr_zones) < 0) {
        perror(dev);
        return 1;
    }
    zone_bytes = (uint64_t)zs << 9;
    for (int i = 2; i < argc; i++) {
        char *cmd = strdup(argv[i]);
        char *a = strchr(cmd, ':'), *b = NULL;
        unsigned long op = 0;

        if (cmd[0] == '-') {
            printf("## %s\n", cmd + 1);
            free(cmd);
            continue;
        }
        printf("%s\n", cmd);
        if (a) {
            *a++ = 0;
            b = strchr(a, ':');
            if (b) {
                *b++ = 0;
            }
        }
        if (!strcmp(cmd, "w") || !strcmp(cmd, "r")) {
            do_io(cmd[0] == 'w', num(a), num(b));
        } else if (!strcmp(cmd, "rep")) {
            unsigned first = a ? num(a) : 0;
            report(first, b ? num(b) : nr_zones - first, false);
        } else if (!strcmp(cmd, "ro") || !strcmp(cmd, "off")) {
            toggle(cmd[1] == 'o' ? "zone_readonly" : "zone_offline",
                   num(a));
        } else if (!strcmp(cmd, "resync")) {
            resync = a && !strcmp(a, "on");
        } else if (!strcmp(cmd, "sysfs")) {
            sysfs();
        } else {
            struct blk_zone_range r;

            op = !strcmp(cmd, "open") ? BLKOPENZONE :
                 !strcmp(cmd, "close") ? BLKCLOSEZONE :
                 !strcmp(cmd, "finish") ? BLKFINISHZONE :
                 !strcmp(cmd, "reset") ? BLKRESETZONE : 0;
            if (!op || !a) {
                printf("  bad command\n");
                free(cmd);
                continue;
            }
            r.sector = num(a) >> 9;
            r.nr_sectors = (b ? num(b) : zone_bytes) >> 9;
            if (ioctl(fd, op, &r) < 0) {
                printf("  %s\n", errname(errno));
            } else {
                printf("  ok\n");
            }
        }
        free(cmd);
    }
    return 0;
}
