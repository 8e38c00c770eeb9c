#!/usr/bin/env bash
# Raw baseline for benchmarks: the hand-written QEMU command from CONTRACT.md,
# the same kernel/initramfs/rootfs, driven by agentctl (no .NET in the loop).
# Prints one line per run: ms from QEMU spawn (agentctl start, right after it)
# to the first exec's exit, echo round-trip min/median/max, total incl. shutdown.
#
# Usage: native/test/raw-baseline.sh OUTDIR [RUNS] [ROOT]   ROOT: erofs (default) | ext4
set -euo pipefail
out="${1:?usage: raw-baseline.sh OUTDIR [RUNS] [erofs|ext4]}"
runs="${2:-3}"
root="${3:-erofs}"
tsc_khz="$(awk -F: '/^cpu MHz/ {printf "%d", $2 * 1000; exit}' /proc/cpuinfo)"
work="$(mktemp -d "${TMPDIR:-/tmp}/msb-raw.XXXXXX")"
qemu_pid=""
trap '[[ -n "$qemu_pid" ]] && kill "$qemu_pid" 2>/dev/null; rm -rf -- "$work"' EXIT
case "$root" in
    erofs) image="$out/rootfs.erofs"; rootargs=(--root-erofs /dev/disk/by-id/virtio-msb-root) ;;
    ext4) image="$out/rootfs.ext4"; rootargs=(--root-disk /dev/disk/by-id/virtio-msb-root:ext4) ;;
    *) echo "raw-baseline: ROOT must be erofs or ext4" >&2; exit 2 ;;
esac
for ((r = 1; r <= runs; r++)); do
    rm -f -- "$work/agent.sock"
    t0="$(date +%s%N)"
    qemu-system-x86_64 -M microvm -accel tcg -m 256 -smp 1 -nographic -no-reboot -nodefaults \
        -serial "file:$work/console.log" -kernel "$out/vmlinux" -initrd "$out/initrd.cpio" \
        -append "console=ttyS0 quiet panic=-1 tsc_early_khz=$tsc_khz" \
        -device virtio-serial-device -chardev "socket,id=agent0,path=$work/agent.sock,server=on,wait=off" \
        -device virtserialport,chardev=agent0,name=agent \
        -drive "file=$image,format=raw,if=none,id=root0,snapshot=on" \
        -device virtio-blk-device,drive=root0,serial=msb-root &
    qemu_pid=$!
    # first exec reply marks the end of the boot measurement
    first="$("$out/agentctl" --socket "$work/agent.sock" "${rootargs[@]}" run 0 'x\n' echo x \; mark rtt 20 shutdown 2>/dev/null)"
    t1="$(date +%s%N)"
    wait "$qemu_pid" || true
    qemu_pid=""
    echo "run $r root=$root first_exec_$first spawn_to_shutdown_ms=$(( (t1 - t0) / 1000000 ))"
done
