#!/usr/bin/env bash
# tests/vm/setup.sh - prepare the VM test tier (see docs/testing-vm.md).
#
# The host kernel may lack zoned block device support, so zoned tests run in a
# throw-away QEMU guest with Debian's bookworm-backports kernel and zoned null_blk.
# This script, idempotent and non-interactive:
#   1. adds the bookworm-backports apt suite if missing (same mirror as the machine's
#      own bookworm suite) and installs QEMU 10 from it plus the host tools;
#   2. downloads the backports kernel package (NOT installed as the host kernel) and
#      unpacks it under $ZBD_VM_STATE (default: build-vm/ in the project root);
#   3. builds the guest kernel images and a base initramfs: busybox + the modules the
#      tests need, with their dependencies, decompressed and depmod'ed.
# A second run only checks and takes about a second.  apt steps need root (or sudo).
#
# Environment:
#   ZBD_VM_STATE=DIR          where generated files go
#   ZBD_VM_KERNEL_PKG=NAME    pin the kernel package (default: what the backports
#                             linux-image-amd64 metapackage depends on)
#   ZBD_VM_NO_APT=1           never call apt-get install/update (offline rebuilds)
set -euo pipefail
# shellcheck source=tests/vm/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

# Top-level guest modules; their dependencies come from modules.dep.  crc32c_generic
# is listed because btrfs only soft-depends on a crc32c implementation.
MODULES=(null_blk configfs 9p 9pnet_virtio virtio_blk vduse virtio_vdpa btrfs
         crc32c_generic)
# Host packages: QEMU comes from backports (10.x); the rest from the normal suites.
# busybox-static is the guest userland, cpio/kmod/zstd/xz-utils build the initramfs,
# util-linux (blkzone), fio, btrfs-progs and iproute2 (vdpa) are packed into guests.
QEMU_PKGS=(qemu-system-x86)
QEMU_MIN_VERSION=1:10
HOST_PKGS=(busybox-static cpio kmod zstd xz-utils util-linux fio btrfs-progs iproute2
           coreutils gzip)

STATE=$ZBD_VM_STATE
T0=$(zbd_vm_now)
# Unmatched globs expand to nothing (the apt source lists and cached .debs may not exist).
shopt -s nullglob
log() { echo "setup: $*" >&2; }
die() { echo "setup: error: $*" >&2; exit 1; }

mkdir -p "$STATE"
# Two runs at once (e.g. parallel suites) would trample each other's files.
exec 9>"$STATE/.setup.lock"
flock 9

# ---------------------------------------------------------------- apt helpers ----
as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"
    elif command -v sudo > /dev/null; then sudo -n "$@"
    else die "need root (or sudo) to run: $*"
    fi
}
APT_UPDATED=
apt_update() {
    [ -z "$APT_UPDATED" ] || return 0
    log "apt-get update"
    as_root apt-get update -q >&2 || die "apt-get update failed"
    APT_UPDATED=1
}
# apt_install [-t SUITE] PKG...: installs; on failure refreshes the lists once and retries
# (a fresh machine's lists may be missing or stale).
apt_install() {
    local cmd=(env DEBIAN_FRONTEND=noninteractive apt-get install -y -q
               --no-install-recommends -o Dpkg::Options::=--force-confold)
    log "installing $*"
    as_root "${cmd[@]}" "$@" >&2 && return 0
    [ -z "$APT_UPDATED" ] || die "apt-get install $* failed"
    apt_update
    as_root "${cmd[@]}" "$@" >&2 || die "apt-get install $* failed"
}
installed_version() { dpkg-query -W -f='${Version}' "$1" 2>/dev/null || true; }
is_installed() {
    [[ $(dpkg-query -W -f='${Status}' "$1" 2>/dev/null) == *" ok installed" ]]
}

# ------------------------------------------------------ 1. suites and packages ----
CODENAME=$( . /etc/os-release 2>/dev/null && echo "${VERSION_CODENAME:-}")
if [ "$CODENAME" = bookworm ]; then
    BPO=bookworm-backports
else
    # Later Debian releases ship QEMU >= 10 and a 6.12+ kernel in their main suite.
    BPO=
    log "note: host is '${CODENAME:-unknown}', not Debian 12; using its default suites"
fi

# Prints the first enabled apt source URI (and its Signed-By) serving suite $1,
# from deb822 .sources files first, then one-line .list files.
find_mirror() {
    local suite=$1 f out
    for f in /etc/apt/sources.list.d/*.sources; do
        [ -r "$f" ] || continue
        # Stanzas are separated by blank lines; print the first one listing the suite.
        out=$(awk -v suite="$suite" '
            function flush() {
                if (uris != "" && enabled != "no" && has) { print uris "\t" key; done = 1; exit }
                uris = ""; key = ""; enabled = ""; has = 0
            }
            /^[ \t]*$/ { flush(); next }
            /^#/ { next }
            tolower($1) == "uris:" { uris = $2 }
            tolower($1) == "enabled:" { enabled = tolower($2) }
            tolower($1) == "signed-by:" { key = $2 }
            tolower($1) == "suites:" { for (i = 2; i <= NF; i++) if ($i == suite) has = 1 }
            END { if (!done) flush() }' "$f")
        [ -z "$out" ] || { echo "$out"; return 0; }
    done
    # one-line format: deb [options] URI SUITE COMPONENTS...
    out=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list /dev/null 2>/dev/null |
          sed -e 's/#.*//' -e 's/\[[^]]*\]//' |
          awk -v suite="$suite" '$1 == "deb" && $3 == suite { print $2 "\t"; exit }')
    [ -n "$out" ] && echo "$out"
}
suite_configured() {
    local f
    for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list \
             /etc/apt/sources.list.d/*.sources; do
        [ -r "$f" ] && sed 's/#.*//' "$f" | grep -Eq "(^|[[:space:]])$1([[:space:]]|$)" &&
            return 0
    done
    return 1
}

if [ -n "${ZBD_VM_NO_APT:-}" ]; then
    log "ZBD_VM_NO_APT set: not touching apt"
else
    if [ -n "$BPO" ] && ! suite_configured "$BPO"; then
        m=$(find_mirror bookworm) ||
            die "no apt source for 'bookworm' found to derive $BPO from"
        uri=${m%%$'\t'*} key=${m#*$'\t'}
        key=${key:-/usr/share/keyrings/debian-archive-keyring.gpg}
        log "adding the $BPO suite ($uri)"
        printf 'Types: deb\nURIs: %s\nSuites: %s\nComponents: main\nSigned-By: %s\n' \
            "$uri" "$BPO" "$key" |
            as_root tee /etc/apt/sources.list.d/zbd-vm-backports.sources > /dev/null
        apt_update
    fi
    # Lists without the backports suite (added by hand, never fetched): refresh once.
    lists=(/var/lib/apt/lists/*_dists_"$BPO"_*Packages*)
    if [ -n "$BPO" ] && [ ${#lists[@]} -eq 0 ]; then
        apt_update
    fi

    qv=$(installed_version "${QEMU_PKGS[0]}")
    if [ -z "$qv" ] || dpkg --compare-versions "$qv" lt "$QEMU_MIN_VERSION"; then
        apt_install ${BPO:+-t "$BPO"} "${QEMU_PKGS[@]}"
    fi
    missing=()
    for p in "${HOST_PKGS[@]}"; do is_installed "$p" || missing+=("$p"); done
    [ ${#missing[@]} -eq 0 ] || apt_install "${missing[@]}"
fi
for t in qemu-system-x86_64 busybox cpio depmod zstd xz ldd flock; do
    command -v "$t" > /dev/null || [ -x "/bin/$t" ] ||
        die "'$t' is missing (install the packages listed in tests/vm/setup.sh)"
done

# ------------------------------------------------------------- 2. the kernel ----
# Resolve the kernel package through the metapackage, as apt would when installing
# linux-image-amd64 from backports: the metapackage's version in that suite, then
# the linux-image-* package it depends on.
resolve_kernel_pkg() {
    local ver
    if [ -n "$BPO" ]; then
        ver=$(apt-cache madison linux-image-amd64 2>/dev/null |
              awk -F'|' -v s="$BPO/" 'index($3, s) { gsub(/ /, "", $2); print $2; exit }')
    else
        ver=$(apt-cache policy linux-image-amd64 2>/dev/null |
              awk '$1 == "Candidate:" { print $2; exit }')
    fi
    [ -n "$ver" ] && [ "$ver" != "(none)" ] || return 1
    apt-cache show "linux-image-amd64=$ver" 2>/dev/null |
        awk '/^Depends:/ { sub(/^Depends:/, ""); gsub(/[,|]/, "\n"); print; exit }' |
        awk '$1 ~ /^linux-image-/ { print $1; found = 1; exit } END { exit !found }'
}

mkdir -p "$STATE/deb"
# The cached .deb of package $1 (or of any kernel package without $1); empty if none.
cached_deb() {
    local d=("$STATE/deb/${1:-linux-image-*}"_*.deb)
    [ ${#d[@]} -eq 0 ] || echo "${d[-1]}"
}
# apt-cache takes about a second per call, so remember the answer for as long as the
# package lists stay the same.
lists_sig() {
    local l=(/var/lib/apt/lists/*_dists_"${BPO:-}"*Packages*)
    [ ${#l[@]} -eq 0 ] || stat -c '%n %Y %s' "${l[@]}" | sha256sum | cut -c1-16
}
KPKG=${ZBD_VM_KERNEL_PKG:-}
if [ -z "$KPKG" ]; then
    sig=$(lists_sig)
    read -r rsig rpkg 2>/dev/null < "$STATE/deb/.resolved" || rsig=
    if [ -n "$sig" ] && [ "$rsig" = "$sig" ]; then
        KPKG=$rpkg
    else
        KPKG=$(resolve_kernel_pkg) || { [ -n "${ZBD_VM_NO_APT:-}" ] || apt_update
                                        KPKG=$(resolve_kernel_pkg) || KPKG=; }
        [ -z "$KPKG" ] || echo "$(lists_sig) $KPKG" > "$STATE/deb/.resolved"
    fi
fi
if [ -z "$KPKG" ]; then
    # Offline: fall back to whatever was downloaded before.
    DEB=$(cached_deb "")
    [ -n "$DEB" ] || die "cannot resolve the kernel package from linux-image-amd64${BPO:+ in $BPO}"
    log "warning: cannot resolve the kernel package; using cached $(basename "$DEB")"
else
    DEB=$(cached_deb "$KPKG")
    if [ -z "$DEB" ]; then
        log "downloading $KPKG (not installed; unpacked into $STATE)"
        dl() { (cd "$STATE/deb" && apt-get download -q -o APT::Sandbox::User=root "$KPKG") >&2; }
        dl || { [ -n "${ZBD_VM_NO_APT:-}" ] || apt_update; dl; } ||
            die "apt-get download $KPKG failed"
        DEB=$(cached_deb "$KPKG")
        [ -n "$DEB" ] || die "apt-get download $KPKG left no .deb in $STATE/deb"
        # keep only the current package: each one is about 100 MB
        find "$STATE/deb" -name 'linux-image-*.deb' ! -path "$DEB" -delete
    fi
fi

KTREE=$STATE/kernel
if [ "$(cat "$KTREE/.from" 2>/dev/null)" != "$(basename "$DEB")" ]; then
    log "unpacking $(basename "$DEB")"
    rm -rf "$KTREE" && mkdir -p "$KTREE"
    dpkg-deb -x "$DEB" "$KTREE"
    basename "$DEB" > "$KTREE/.from"
fi
MODROOT=$KTREE
[ -d "$MODROOT/lib/modules" ] || MODROOT=$KTREE/usr    # newer packages: /usr/lib/modules
kv=("$MODROOT"/lib/modules/*)
KVER=${kv[0]##*/}
if [ ${#kv[@]} -ne 1 ] || [ ! -f "$KTREE/boot/vmlinuz-$KVER" ]; then
    die "unexpected layout in $DEB"
fi
grep -q '^CONFIG_BLK_DEV_ZONED=y' "$KTREE/boot/config-$KVER" ||
    die "kernel $KVER has no CONFIG_BLK_DEV_ZONED; pick another ZBD_VM_KERNEL_PKG"
# The package ships no modules.dep (its postinst would run depmod): make one.
[ -s "$MODROOT/lib/modules/$KVER/modules.dep" ] || depmod -b "$MODROOT" "$KVER"

# --------------------------------------------- 3. kernel images and base initramfs ----
BB=$(command -v busybox || echo /bin/busybox)
WANT="setup=$(zbd_vm_setup_sum)
kernel=$(basename "$DEB")
busybox=$(installed_version busybox-static)"
if [ "$(cat "$STATE/setup.stamp" 2>/dev/null)" = "$WANT" ] && zbd_vm_ready; then
    log "up to date: kernel $KVER, $(du -h "$STATE/base.cpio" | cut -f1) base initramfs ($(zbd_vm_elapsed "$(zbd_vm_now)" "$T0") s)"
    exit 0
fi
rm -f "$STATE/setup.stamp"

cp "$KTREE/boot/vmlinuz-$KVER" "$STATE/vmlinuz"
cp "$KTREE/boot/config-$KVER" "$STATE/kernel.config"

# The uncompressed ELF vmlinux lets QEMU boot through the PVH entry point, which skips
# the bzImage's self-decompression: over a second saved per boot under TCG.  The
# compressed payload's place is in the bzImage header (boot protocol >= 2.08):
# setup_sects at 0x1f1, payload_offset/length at 0x248/0x24c, relative to the
# protected-mode code that starts after the (setup_sects + 1) real-mode sectors.
extract_vmlinux() {
    local bz=$1 out=$2 sects off len start magic tmp=$2.tmp
    sects=$(od -An -tu1 -j $((0x1f1)) -N1 "$bz" | tr -d ' ')
    [ "$sects" -ne 0 ] || sects=4
    off=$(od -An -tu4 -j $((0x248)) -N4 "$bz" | tr -d ' ')
    len=$(od -An -tu4 -j $((0x24c)) -N4 "$bz" | tr -d ' ')
    start=$(( (sects + 1) * 512 + off ))
    # (dd, not tail | head: with pipefail, head's early exit would fail the pipeline)
    payload() { dd if="$bz" iflag=skip_bytes,count_bytes skip="$start" count="$1" status=none; }
    magic=$(payload 4 | od -An -tx1 | tr -d ' ')
    # Except for gzip, the kernel build appends the uncompressed size (4 bytes) to the
    # compressed stream: cut it off so the decompressor sees no trailing garbage.
    case $magic in
        1f8b*)    payload "$len" | gzip -dc ;;
        28b52ffd) payload $((len - 4)) | zstd -qdc ;;
        fd377a58) payload $((len - 4)) | xz -dc ;;
        *) return 1 ;;
    esac > "$tmp" 2>/dev/null || { rm -f "$tmp"; return 1; }
    [ "$(head -c4 "$tmp" | od -An -tx1 | tr -d ' ')" = 7f454c46 ] || { rm -f "$tmp"; return 1; }
    mv "$tmp" "$out"
}
rm -f "$STATE/vmlinux"
if extract_vmlinux "$STATE/vmlinuz" "$STATE/vmlinux" &&
   grep -q '^CONFIG_PVH=y' "$STATE/kernel.config"; then
    log "extracted vmlinux for PVH boot"
else
    rm -f "$STATE/vmlinux"
    log "note: no PVH-bootable vmlinux; the guest boots the (slower) bzImage"
fi

STAGE=$STATE/base.stage
rm -rf "$STAGE" && mkdir -p "$STAGE"
trap 'rm -rf "$STAGE"' EXIT
mkdir -p "$STAGE"/{dev,proc,sys,tmp,run,root,etc,mnt,var/tmp,usr/bin,usr/sbin,usr/lib,usr/lib64}
# Mirror the host's /bin, /sbin, /lib, /lib64 (symlinks on merged-/usr systems), so
# host executables and libraries packed per run at their host paths are found where
# their ELF interpreter and RUNPATHs expect them.
for d in bin sbin lib lib64; do
    if [ -L "/$d" ]; then ln -s "$(readlink "/$d")" "$STAGE/$d"; else mkdir -p "$STAGE/$d"; fi
done
# busybox's applets live in a directory of their own that comes last in the guest's
# PATH, so host tools packed into a run (bash, blkzone, fio...) take precedence.
BBDIR=usr/libexec/zbd-vm
mkdir -p "$STAGE/$BBDIR/bin"
cp "$BB" "$STAGE/$BBDIR/busybox"
"$BB" --list > "$STATE/busybox.applets"
while read -r a; do
    ln -s ../busybox "$STAGE/$BBDIR/bin/$a"
done < "$STATE/busybox.applets"
# A few paths that scripts and the kernel hard-code (#!/bin/sh, #!/usr/bin/env,
# /sbin/modprobe for request_module()).
for a in sh env; do ln -s "/$BBDIR/busybox" "$STAGE/usr/bin/$a"; done
for a in modprobe insmod rmmod lsmod depmod; do ln -s "/$BBDIR/busybox" "$STAGE/usr/sbin/$a"; done
[ -L "$STAGE/bin" ] || ln -s "/$BBDIR/busybox" "$STAGE/bin/sh"
[ -L "$STAGE/sbin" ] || ln -s "/$BBDIR/busybox" "$STAGE/sbin/modprobe"
echo 'root:x:0:0:root:/root:/bin/sh' > "$STAGE/etc/passwd"
echo 'root:x:0:' > "$STAGE/etc/group"
: > "$STAGE/etc/fstab"

# Modules: the closure of $MODULES over modules.dep ("path: dep-path dep-path...").
MDIR=$MODROOT/lib/modules/$KVER
declare -A PATH_OF DEPS_OF SEL
modname() { local b=${1##*/}; b=${b%%.ko*}; echo "${b//-/_}"; }
while IFS=: read -r p deps; do
    n=$(modname "$p"); PATH_OF[$n]=$p; DEPS_OF[$n]=$deps
done < "$MDIR/modules.dep"
add_module() {
    local n d
    n=$(modname "$1")
    [ -z "${SEL[$n]:-}" ] || return 0
    if [ -z "${PATH_OF[$n]:-}" ]; then
        # built into the kernel: nothing to ship
        grep -q "/$1\.ko\|/${n}\.ko" "$MDIR/modules.builtin" && return 0
        die "module $1 is not in kernel $KVER"
    fi
    SEL[$n]=1
    for d in ${DEPS_OF[$n]}; do add_module "$(modname "$d")"; done
}
for m in "${MODULES[@]}"; do add_module "$m"; done
# Debian signs its modules, and checking a signature costs 0.1 to 0.3 s per module
# under TCG (RSA in emulated code), on every boot.  The guest does not enforce
# signatures, so drop them: the kernel then only notes a taint ('E') on first load.
# Layout: module, signature, struct module_signature (12 bytes, sig_len big-endian
# in the last 4), then the magic string.
strip_module_sig() {
    local f=$1 magic='~Module signature appended~' size siglen
    size=$(stat -c %s "$f")
    [ "$size" -gt 40 ] && [ "$(tail -c 28 "$f" | head -c 27)" = "$magic" ] || return 0
    siglen=$(od -An -tu1 -j $((size - 28 - 4)) -N4 "$f" |
             awk '{ print (($1 * 256 + $2) * 256 + $3) * 256 + $4 }')
    truncate -s $((size - 28 - 12 - siglen)) "$f"
}
GM=$STAGE/lib/modules/$KVER      # (through the stage's lib symlink on merged-/usr)
mkdir -p "$GM"
for n in "${!SEL[@]}"; do
    p=${PATH_OF[$n]}; src=$MDIR/$p; dst=$GM/${p%.xz}; dst=${dst%.zst}; dst=${dst%.gz}
    mkdir -p "$(dirname "$dst")"
    # busybox modprobe loads plain .ko files only, so decompress here
    case $p in
        *.xz) xz -dc "$src" > "$dst" ;;
        *.zst) zstd -qdc "$src" > "$dst" ;;
        *.gz) gzip -dc "$src" > "$dst" ;;
        *) cp "$src" "$dst" ;;
    esac
    strip_module_sig "$dst"
done
cp "$MDIR"/modules.{order,builtin,builtin.modinfo} "$GM/" 2>/dev/null || true
depmod -b "$STAGE" "$KVER"

# Uncompressed on purpose: gunzip under TCG costs more boot time than QEMU spends
# loading a bigger initrd.  GNU cpio pads the archive to 512 bytes, so the per-run
# archive can simply be appended.
(cd "$STAGE" && find . -mindepth 1 | sed 's|^\./||' | LC_ALL=C sort |
    cpio -o -H newc -R 0:0 --quiet) > "$STATE/base.cpio.tmp"
mv "$STATE/base.cpio.tmp" "$STATE/base.cpio"
echo "$KVER" > "$STATE/kernel.release"
echo "$WANT" > "$STATE/setup.stamp"
log "modules: $(printf '%s\n' "${!SEL[@]}" | sort | tr '\n' ' ')"
log "ready: kernel $KVER, $(du -h "$STATE/base.cpio" | cut -f1) base initramfs, $(qemu-system-x86_64 --version | head -n1) ($(zbd_vm_elapsed "$(zbd_vm_now)" "$T0") s)"
