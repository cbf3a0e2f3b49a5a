#!/usr/bin/env bash
# tests/vm/run.sh - run one command in a throw-away QEMU guest with zoned null_blk
# devices.  See usage() and docs/testing-vm.md.
# (QEMU options are comma-separated lists, not mistaken array syntax)
# shellcheck disable=SC2054
set -euo pipefail
# shellcheck source=tests/vm/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

usage() {
    cat <<'EOF'
usage: tests/vm/run.sh [options] -- command [args...]

Boots the Debian 6.12 guest kernel under QEMU, creates zoned null_blk devices,
runs the command in the project directory and powers off.  The command's stdout
and stderr arrive on ours, and its exit status becomes ours.

  -z SPEC    create a null_blk device through configfs (repeatable: nullb0,
             nullb1, ...).  SPEC is a comma-separated list of configfs attributes,
             e.g. zone_size=64,zone_capacity=48,zone_nr_conv=2,zone_max_open=8,
             zone_max_active=12,memory_backed=1,size=1024,blocksize=4096,
             zone_append_max_sectors=64.  zoned=1 is implied.  (size is in MB,
             zone sizes in MB.)
  -s DIR     share DIR read-write through virtio-9p at the same path (repeatable;
             default: the project root).  The command runs in the host's current
             directory if that is inside the first share, else in the first share.
  -i FILE    pack a host file or directory into the guest at the same path
             (repeatable).  ELF executables bring their shared libraries (ldd).
  -e VAR=VAL set an environment variable for the command (repeatable)
  -m MEM     guest RAM (default 2G); memory_backed devices take it as they fill
  -c N       guest CPUs (default 2)
  -t SECS    timeout (default 600; 0 = none)
  -a ACCEL   tcg (default) or kvm; also $ZBD_VM_ACCEL
  -k ARGS    extra kernel command line
  -q ARGS    extra QEMU arguments (split at spaces)
  -v         show the guest console on stderr and print boot timings

Always in the guest: busybox, bash, blkzone, blkdiscard, blockdev, lsblk, the
libraries of the ELF executables in the shared directories, and the command
itself if it is a host program busybox lacks.
Exit status: the command's; 124 on timeout; 125 if the VM or the runner failed.
Environment: ZBD_VM_STATE (default build-vm/), ZBD_VM_ACCEL, ZBD_VM_KEEP=1 (keep the
run's directory with the initramfs, console log and QEMU log).
EOF
}
die() { echo "run.sh: $*" >&2; exit 125; }
TSTART=$EPOCHREALTIME

DEVS=() SHARES=() INCS=() ENVS=() MEM=2G CPUS=2 TMO=600 ACCEL=${ZBD_VM_ACCEL:-tcg}
KARGS='' QARGS='' VERBOSE=''
while getopts 'z:s:i:e:m:c:t:a:k:q:vh' o; do
    case $o in
        z) DEVS+=("$OPTARG") ;;  s) SHARES+=("$OPTARG") ;;  i) INCS+=("$OPTARG") ;;
        e) ENVS+=("$OPTARG") ;;  m) MEM=$OPTARG ;;  c) CPUS=$OPTARG ;;  t) TMO=$OPTARG ;;
        a) ACCEL=$OPTARG ;;  k) KARGS=$OPTARG ;;  q) QARGS=$OPTARG ;;  v) VERBOSE=1 ;;
        h) usage; exit 0 ;;
        *) usage >&2; exit 125 ;;
    esac
done
shift $((OPTIND - 1))
[ $# -gt 0 ] || { usage >&2; exit 125; }
[[ $TMO =~ ^[0-9]+$ ]] || die "-t $TMO: not a number of seconds"
[[ $CPUS =~ ^[1-9][0-9]*$ ]] || die "-c $CPUS: not a CPU count"
[[ $MEM =~ ^[0-9]+[MGT]?$ ]] || die "-m $MEM: use e.g. 2G or 1536M"
case $ACCEL in tcg|kvm) ;; *) die "-a $ACCEL: use tcg or kvm" ;; esac
for e in "${ENVS[@]}"; do
    [[ $e =~ ^[A-Za-z_][A-Za-z0-9_]*= ]] || die "-e $e: not VAR=VALUE"
done

# Validate the device specs here, where a mistake is cheap to report.
DEVLINES=()
for spec in "${DEVS[@]}"; do
    words=() zoned=zoned=1
    IFS=, read -ra kvs <<< "$spec"
    for kv in "${kvs[@]}"; do
        [[ $kv =~ ^[a-z_]+=[^[:space:]=]+$ ]] ||
            die "-z $spec: '$kv' is not attribute=value"
        case $kv in
            zoned=*) zoned=$kv ;;
            power=*) die "-z $spec: power is set by the runner" ;;
            *) words+=("$kv") ;;
        esac
    done
    DEVLINES+=("$zoned ${words[*]}")
done

[ ${#SHARES[@]} -gt 0 ] || SHARES=("$ZBD_VM_ROOT")
for i in "${!SHARES[@]}"; do
    [ -d "${SHARES[$i]}" ] || die "-s ${SHARES[$i]}: not a directory"
    SHARES[i]=$(realpath "${SHARES[$i]}")
    [[ ${SHARES[$i]} != *[[:space:]]* ]] || die "-s ${SHARES[$i]}: no spaces in shared paths, please"
done
CWD=$(realpath "$PWD")
case $CWD/ in "${SHARES[0]%/}"/*) ;; *) CWD=${SHARES[0]} ;; esac

# ------------------------------------------------------------ setup, if needed ----
if ! zbd_vm_ready; then
    echo "run.sh: the VM state in $ZBD_VM_STATE is missing or stale; running tests/vm/setup.sh" >&2
    "$ZBD_VM_DIR/setup.sh" >&2 ||
        die "setup failed; run tests/vm/setup.sh as root (it installs packages with apt-get)"
fi
STATE=$ZBD_VM_STATE
command -v qemu-system-x86_64 > /dev/null || die "qemu-system-x86_64 missing: run tests/vm/setup.sh"
KERNEL=$STATE/vmlinux
[ -s "$KERNEL" ] || KERNEL=$STATE/vmlinuz

RUN=$(mktemp -d "${TMPDIR:-/tmp}/zbd-vm.XXXXXX") || die "mktemp failed"
QPID='' READERS=()
# shellcheck disable=SC2317  # (run from the EXIT trap)
cleanup() {
    # Interrupted: stop QEMU (timeout passes the signal on); the readers follow QEMU's
    # pid and end by themselves once it is gone.
    if [ -n "$QPID" ]; then
        kill "$QPID" 2>/dev/null || true
        wait "$QPID" 2>/dev/null || true
    fi
    [ ${#READERS[@]} -eq 0 ] || wait "${READERS[@]}" 2>/dev/null || true
    [ -n "${ZBD_VM_KEEP:-}" ] || rm -rf "$RUN"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

# ------------------------------------------------------- the per-run initramfs ----
# GUEST[guest path]=host source: files copied into this run's initramfs.
declare -A GUEST CANON
canon_dir() {   # canonical form of a directory, cached: a fork per library adds up
    [ -n "${CANON[$1]:-}" ] || CANON[$1]=$(realpath -m "$1")
    REPLY=${CANON[$1]}
}
add_file() {    # host path (kept at its canonical directory; symlinks are followed)
    local f=$1
    [[ $f == /* ]] || f=$PWD/$f
    canon_dir "${f%/*}/"
    GUEST[${REPLY%/}/${f##*/}]=$f
}
ELFS=()         # executables whose libraries are needed (files or in shares)
add_tool() { local p; p=$(command -v "$1" 2>/dev/null) && [[ $p == /* ]] && add_file "$p" && ELFS+=("$p"); }

for t in bash blkzone blkdiscard blockdev lsblk; do add_tool "$t" || true; done
for f in "${INCS[@]}"; do
    [ -e "$f" ] || die "-i $f: not found"
    if [ -d "$f" ]; then
        d=$(realpath "$f")
        GUEST[$d/]=$d
        while IFS= read -r -d '' x; do ELFS+=("$x"); done < <(find "$d" -type f -perm /111 -print0)
    else
        add_file "$f"; ELFS+=("$(realpath "$f")")
    fi
done
# A bare command name that busybox does not provide is taken from the host.
if [[ $1 != */* ]] && ! grep -qx -- "$1" "$STATE/busybox.applets" &&
   ! type -t -- "$1" | grep -q builtin; then
    add_tool "$1" || echo "run.sh: warning: '$1' is neither a host program nor a busybox applet" >&2
fi

# Libraries of every candidate executable (-i files, tools, executables in the shares:
# build trees hold many test binaries).  ldd costs ~10 ms a file, so its answers are
# kept in a cache keyed by path, mtime and size; only new or rebuilt files are asked.
CAND=$RUN/candidates
{
    [ ${#ELFS[@]} -eq 0 ] || stat -L -c '%n	%Y	%s' "${ELFS[@]}"
    for s in "${SHARES[@]}"; do
        find "$s" \( -name .git -o -path "$STATE" \) -prune -o \
            -type f -perm /111 -printf '%p\t%T@\t%s\n'
    done
} | LC_ALL=C sort -u > "$CAND"
mkdir -p "$STATE/cache"
DB=$STATE/cache/ldd.db        # path TAB mtime TAB size TAB library paths
touch "$DB"
awk -F'\t' 'FILENAME == ARGV[1] { known[$1 FS $2 FS $3] = 1; next }
            !(($1 FS $2 FS $3) in known) { print $1 }' "$DB" "$CAND" > "$RUN/ldd.todo"
if [ -s "$RUN/ldd.todo" ]; then
    # With several files ldd heads each answer with "file:"; scripts and static
    # programs get "not a dynamic executable" (ignored).
    # shellcheck disable=SC2094  # (ldd.todo is only read)
    tr '\n' '\0' < "$RUN/ldd.todo" | xargs -0 ldd 2>/dev/null |
        awk -v one="$(head -n1 "$RUN/ldd.todo")" -v n="$(wc -l < "$RUN/ldd.todo")" '
            BEGIN { if (n == 1) cur = one }
            /^[^ \t].*:$/ { cur = substr($0, 1, length($0) - 1); next }
            /=> not found/ { print "run.sh: warning: " cur ": library " $1 " not found" > "/dev/stderr"; next }
            /^[ \t]/ { for (i = 1; i <= NF; i++) if ($i ~ /^\//) libs[cur] = libs[cur] " " $i }
            END { for (f in libs) print f "\t" libs[f] }' > "$RUN/ldd.new" || true
    # New entries replace older ones of the same path; files without libraries are
    # recorded too, so they are not asked again.
    awk -F'\t' -v OFS='\t' '
        FILENAME == ARGV[1] { libs[$1] = $2; next }
        FILENAME == ARGV[2] { todo[$1] = 1; next }
        FILENAME == ARGV[3] { if ($1 in todo) print $1, $2, $3, libs[$1]; next }
        !($1 in todo) { print }' "$RUN/ldd.new" "$RUN/ldd.todo" "$CAND" "$DB" > "$DB.$$"
    mv "$DB.$$" "$DB"
fi
LIBS=$RUN/libs
awk -F'\t' 'FILENAME == ARGV[1] { want[$1 FS $2 FS $3] = 1; next }
            ($1 FS $2 FS $3) in want { n = split($4, l, " "); for (i = 1; i <= n; i++) print l[i] }' \
    "$CAND" "$DB" | LC_ALL=C sort -u > "$LIBS"
while read -r l; do add_file "$l"; done < "$LIBS"

# The host files go into an archive of their own, cached by what went into it (paths,
# mtimes, sizes), since fio alone brings 80 MB of libraries; the small archive with
# /init and the run's description is made every time.
cpio_of() { (cd "$1" && find . -mindepth 1 | sed 's|^\./||' | cpio -o -H newc -R 0:0 --quiet); }
FILES_KEY=$(
    for g in "${!GUEST[@]}"; do
        printf '%s\t' "$g"
        if [[ $g == */ ]]; then find "${GUEST[$g]}" -printf '%p %T@ %s\n'
        else stat -L -c '%n %Y %s' "${GUEST[$g]}"; fi
    done | LC_ALL=C sort | sha256sum | cut -c1-20)
FILES=$STATE/cache/files-$FILES_KEY.cpio
if [ ! -s "$FILES" ]; then
    FSTAGE=$RUN/files
    mkdir -p "$FSTAGE"
    for g in "${!GUEST[@]}"; do
        mkdir -p "$FSTAGE$(dirname "$g")"
        if [[ $g == */ ]]; then cp -rL "${GUEST[$g]}/." "$FSTAGE$g"
        else cp -L --preserve=mode "${GUEST[$g]}" "$FSTAGE$g"; fi
    done
    # (find lists every directory before its contents, as the kernel's unpacker needs)
    cpio_of "$FSTAGE" > "$FILES.$$" || die "cpio failed"
    mv "$FILES.$$" "$FILES"
    rm -rf "$FSTAGE"
    # keep the 4 most recently used archives (up to 100 MB each)
    find "$STATE/cache" -name 'files-*.cpio' -printf '%T@ %p\n' | sort -rn |
        tail -n +5 | cut -d' ' -f2- | xargs -r -d '\n' rm -f
fi
touch "$FILES"

STAGE=$RUN/stage
mkdir -p "$STAGE/zbd-vm"
cp "$ZBD_VM_DIR/guest-init" "$STAGE/init"
chmod 755 "$STAGE/init"
i=0
for s in "${SHARES[@]}"; do echo "zbd$i $s rw"; i=$((i + 1)); done > "$STAGE/zbd-vm/shares"
if [ ${#DEVLINES[@]} -gt 0 ]; then printf '%s\n' "${DEVLINES[@]}"; fi > "$STAGE/zbd-vm/devices"
sq() { local a out=''; for a; do out+=" '${a//\'/\'\\\'\'}'"; done; echo "${out# }"; }
{
    for e in "${ENVS[@]}"; do echo "export $(sq "$e")"; done
    echo "cd $(sq "$CWD") || exit 125"
    echo "exec $(sq "$@")"
} > "$STAGE/zbd-vm/cmd"
cpio_of "$STAGE" > "$RUN/run.cpio" || die "cpio failed"
# Archives simply concatenate (GNU cpio pads each to 512 bytes).
cat "$STATE/base.cpio" "$FILES" "$RUN/run.cpio" > "$RUN/initrd"

# -------------------------------------------------------------------- the VM ----
QEMU=(qemu-system-x86_64 -name zbd-vm -nodefaults -no-user-config -display none
      -no-reboot -smp "$CPUS" -m "$MEM")
if [ "$ACCEL" = kvm ]; then QEMU+=(-machine q35,accel=kvm -cpu host)
else QEMU+=(-machine q35,accel=tcg -cpu max); fi
# Kernel command line: a quiet serial console (each character costs an emulated I/O
# exit), panic=-1 so a panic resets and -no-reboot then ends QEMU, and switches that
# skip boot work a throw-away test guest does not need, 1 to 2 s under TCG: crypto
# self-tests, the jitter-entropy RNG, KDF108 and encrypted-key setup, the built-in
# certificates (setup.sh strips the module signatures), IPv6, read-only kernel data
# with its W+X page table scan, speculation mitigations.
APPEND=(console=ttyS0 quiet loglevel=4 panic=-1 rdinit=/init cryptomgr.notests
        initcall_blacklist=crypto_kdf108_init,jent_mod_init,init_encrypted,load_system_certificate_list
        ipv6.disable=1 rodata=off mitigations=off)
QEMU+=(-kernel "$KERNEL" -initrd "$RUN/initrd" -append "${APPEND[*]} $KARGS")
# File chardevs never block or drop data, unlike pipes that a slow reader lets fill up.
for c in console out err status; do : > "$RUN/$c"; done
QEMU+=(-chardev "file,id=con,path=$RUN/console,append=on" -serial chardev:con
       -device virtio-serial-pci,id=vser)
for p in out err status; do
    QEMU+=(-chardev "file,id=$p,path=$RUN/$p,append=on"
           -device "virtserialport,bus=vser.0,chardev=$p,name=zbd.$p")
done
i=0
for s in "${SHARES[@]}"; do
    # (multidevs=remap: inode numbers stay unique if the share spans file systems)
    QEMU+=(-fsdev "local,id=fs$i,path=${s//,/,,},security_model=none,multidevs=remap"
           -device "virtio-9p-pci,fsdev=fs$i,mount_tag=zbd$i")
    i=$((i + 1))
done
if [ -n "$QARGS" ]; then read -ra qa <<< "$QARGS"; QEMU+=("${qa[@]}"); fi

T0=$EPOCHREALTIME
timeout -k 10 "$TMO" "${QEMU[@]}" < /dev/null > "$RUN/qemu.log" 2>&1 &
QPID=$!
# Stream the command's output while the VM runs; tail exits once QEMU (via timeout)
# is gone and the files are read to the end.
follow() { exec tail -c +1 -s 0.1 -f --pid="$QPID" "$1" 2>/dev/null; }
follow "$RUN/out" & READERS+=($!)
follow "$RUN/err" >&2 & READERS+=($!)
[ -z "$VERBOSE" ] || { follow "$RUN/console" >&2 & READERS+=($!); }
# Host time at which each status line arrives, for the boot figures.
follow "$RUN/status" | while read -r l; do echo "$EPOCHREALTIME $l"; done > "$RUN/status.timed" &
READERS+=($!)
qrc=0
{ wait "$QPID"; } 2>/dev/null || qrc=$?   # (no "Aborted" job notice from bash)
QPID=
T1=$EPOCHREALTIME
for p in "${READERS[@]}"; do wait "$p" 2>/dev/null || true; done
READERS=()

# ----------------------------------------------------------------- the verdict ----
if grep -Eq 'WARNING:|BUG:|Oops|Call Trace:|Kernel panic' "$RUN/console"; then
    echo "run.sh: note: the guest kernel logged warnings or oopses:" >&2
    grep -E -A4 'WARNING:|BUG:|Oops|Kernel panic' "$RUN/console" | head -n 30 | sed 's/^/  /' >&2
fi
if [ -n "$VERBOSE" ]; then
    # Host times from QEMU's start; the guest's own uptime is less reliable under TCG.
    awk -v ts="$TSTART" -v t0="$T0" -v t1="$T1" '
        { host[$2] = $1 - t0; guest[$2] = $3 }
        END {
            printf "run.sh: timing: initramfs %.2f s; after QEMU start: /init %.2f s (guest uptime %.2f s), ", t0 - ts, host["init"], guest["init"]
            printf "command %.2f s; command ran %.2f s; QEMU exited at %.2f s\n", host["cmd"], guest["end"] - guest["cmd"], t1 - t0
        }' "$RUN/status.timed" >&2
fi
rc=$(sed -n 's/^rc \([0-9]*\)$/\1/p' "$RUN/status")
if grep -qx setup-failed "$RUN/status"; then
    # the guest already said why, on our stderr
    exit 125
fi
[ -z "$rc" ] || exit "$rc"
if [ "$qrc" -eq 124 ]; then
    echo "run.sh: timeout: the guest did not finish within ${TMO}s" >&2
else
    echo "run.sh: the VM failed: no exit status from the guest (QEMU exit status $qrc)" >&2
fi
if [ -s "$RUN/qemu.log" ]; then sed 's/^/  qemu: /' "$RUN/qemu.log" >&2; fi
echo "run.sh: last lines of the guest console (-v shows it live, -k loglevel=7 a full boot log):" >&2
tail -n 25 "$RUN/console" | sed 's/^/  /' >&2
[ "$qrc" -eq 124 ] && exit 124
exit 125
