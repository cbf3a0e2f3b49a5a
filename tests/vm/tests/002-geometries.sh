#!/bin/bash
# Zoned null_blk geometries the block layer must cope with, one device each:
# conventional zones, zone capacity < zone size, open/active zone limits, 4 KiB
# logical blocks, a small zone append limit, read-only and offline zones.  Prints each device's sysfs attributes
# and checks them, and the configfs values, against the spec in the header below.
# devices: zone_size=32,zone_nr_conv=4,size=512,memory_backed=1
# devices: zone_size=64,zone_capacity=48,size=1024,memory_backed=1
# devices: zone_size=16,zone_max_open=4,zone_max_active=6,size=256
# devices: zone_size=64,blocksize=4096,size=512,memory_backed=1
# devices: zone_size=32,zone_append_max_sectors=64,size=256
# devices: zone_size=16,zone_nr_conv=1,size=128,zone_readonly=32768,zone_offline=65536
set -euo pipefail
. tests/vm/test-lib.sh

attrs="zoned nr_zones chunk_sectors logical_block_size physical_block_size
       max_open_zones max_active_zones zone_append_max_bytes zone_write_granularity"
n=0
while read -r spec; do
    name=nullb$n dev=/dev/nullb$n q=/sys/block/nullb$n/queue
    echo "== $name: $spec"
    for a in $attrs; do printf '  %-24s %s\n' "$a" "$(cat "$q/$a")"; done

    # What configfs holds is what the runner was asked to set (zoned=1 implied).
    # zone_readonly/zone_offline are write-only: they are checked through the zones.
    for kv in zoned=1 $spec; do
        case $kv in zone_readonly=*|zone_offline=*) continue ;; esac
        check "$name configfs ${kv%%=*}" "$(cat "/sys/kernel/config/nullb/$name/${kv%%=*}")" "${kv#*=}"
    done

    zs=$(spec_get "$spec" zone_size 256)       # MB; 256 is null_blk's default
    size=$(spec_get "$spec" size 250)
    bs=$(spec_get "$spec" blocksize 512)
    check "$name zoned" "$(cat $q/zoned)" host-managed
    check "$name chunk_sectors" "$(cat $q/chunk_sectors)" $((zs * 2048))
    check "$name nr_zones" "$(cat $q/nr_zones)" $(( (size + zs - 1) / zs ))
    check "$name logical_block_size" "$(cat $q/logical_block_size)" "$bs"
    check "$name max_open_zones" "$(cat $q/max_open_zones)" "$(spec_get "$spec" zone_max_open 0)"
    check "$name max_active_zones" "$(cat $q/max_active_zones)" "$(spec_get "$spec" zone_max_active 0)"

    conv=$(spec_get "$spec" zone_nr_conv 0)
    check "$name conventional zones" "$(nr_conv_zones $dev)" "$conv"
    check "$name sequential zones" "$(nr_seq_zones $dev)" $(( (size + zs - 1) / zs - conv ))
    # capacity of the first sequential zone, from blkzone's "cap 0x..." (sectors)
    cap=$(blkzone report -o $((conv * zs * 2048)) -c 1 $dev | sed -n 's/.*cap \(0x[0-9a-f]*\).*/\1/p')
    check "$name zone capacity (sectors)" "$((cap))" $(( $(spec_get "$spec" zone_capacity "$zs") * 2048 ))

    zam=$(spec_get "$spec" zone_append_max_sectors "")
    if [ -n "$zam" ]; then
        check "$name zone_append_max_bytes" "$(cat $q/zone_append_max_bytes)" $((zam * 512))
    fi
    # zcond 13 = read-only, 15 = offline, in the zone holding the given sector
    for kv in $spec; do
        case $kv in
            zone_readonly=*) want=13 ;;
            zone_offline=*) want=15 ;;
            *) continue ;;
        esac
        c=$(blkzone report -o "${kv#*=}" -c 1 $dev | sed -n 's/.*zcond:[[:space:]]*\([0-9]*\).*/\1/p')
        check "$name condition of the zone at sector ${kv#*=}" "$c" "$want"
    done
    n=$((n + 1))
done < <(declared_devices "$0")
check "devices declared and present" "$(find /sys/block -name 'nullb*' | wc -l)" "$n"

done_testing
