#!/usr/bin/env bash
# Snapshot/restore fast path probe: boot a template VM once, save it while the
# guest agent waits for core.bootstrap, then start clones from that state, each
# with its own agent socket and bootstrap. Same kernel/initramfs/rootfs as
# raw-baseline.sh; the QEMU argv follows src/Sdk/Engines/Qemu/QemuCommandLine.cs
# (agent chardev server=off: the host listens, QEMU connects). No shell strings
# reach QEMU (no exec: migration); QMP is driven by snapqmp.py.
#
# Usage: native/test/snapshot-probe.sh OUTDIR [RUNS] [SECTIONS]
#   OUTDIR    native/build.sh output (vmlinux, initrd.cpio, rootfs.*, agentctl)
#   RUNS      restores per measured variant (default 5; medians are printed)
#   SECTIONS  comma list, default all: cold,stream,shared,parallel,isolation,
#             initramfs,memory,hostgone,rng,ext4,9p,net,disk
# Prints key=value lines; "FAIL" lines for checks that did not hold.
# MSB_SNAP_KEEP=1 keeps the work directory (consoles, agentctl output).
set -euo pipefail
out="${1:?usage: snapshot-probe.sh OUTDIR [RUNS] [SECTIONS]}"
runs="${2:-5}"
sections=",${3:-cold,stream,shared,parallel,isolation,initramfs,memory,hostgone,rng,ext4,9p,net,disk},"
here="$(cd "$(dirname "$0")" && pwd)"
snapqmp=(python3 "$here/snapqmp.py")
agentctl="$out/agentctl"
mem_mib=256
tsc_khz="$(awk -F: '/^cpu MHz/ {printf "%d", $2 * 1000; exit}' /proc/cpuinfo)"
# the modules an oci-erofs root needs, loaded in the template before it is saved
preload="erofs,overlay"
work="$(mktemp -d "${TMPDIR:-/tmp}/msb-snap.XXXXXX")"
# the template's RAM file lives in tmpfs (page cache only, no disk writes)
shm="$(mktemp -d /dev/shm/msb-snap.XXXXXX)"
pids=()

cleanup() {
    local p
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
    if [[ -n "${MSB_SNAP_KEEP:-}" ]]; then echo "kept $work" >&2; rm -rf -- "$shm"; else rm -rf -- "$work" "$shm"; fi
}
trap cleanup EXIT

want() { [[ "$sections" == *",$1,"* ]]; }
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
median() { sort -n | awk '{a[NR] = $1} END {if (NR) print a[int((NR + 1) / 2)]; else print "-"}'; }
fail() { echo "FAIL: $*"; echo "$*" >>"$work/failures"; }
clone_output() { sed 's/since_start_ms=[0-9]* //g' "$work/$1.out"; }
wait_socket() { # PATH: until a listener has bound it
    local i
    for ((i = 0; i < 500; i++)); do [[ -S "$1" ]] && return 0; sleep 0.01; done
    echo "no socket $1" >&2
    return 1
}

# vm_argv NAME MEM ROOT: sets VM (argv, program first). MEM: anon | shared
# (template: RAM is a shared mapping of $shm/NAME.ram) | private:FILE (clone:
# copy-on-write mapping of a template's RAM file). ROOT: erofs | ext4 | initramfs
# (the built-in image inside initrd-busybox.cpio, what the SDK boots by default). Appends
# EXTRA (devices) and APPEND_EXTRA (kernel command line); CHARDEV_SERVER=on
# gives the raw-baseline form (QEMU listens) instead of the production one.
EXTRA=()
APPEND_EXTRA=""
CHARDEV_SERVER=off
vm_argv() {
    local name="$1" mem="$2" root="$3" chardev
    if [[ "$CHARDEV_SERVER" == on ]]; then
        chardev="socket,id=agent,path=$work/$name.agent.sock,server=on,wait=off"
    else
        chardev="socket,id=agent,path=$work/$name.agent.sock,server=off"
    fi
    local initrd="$out/initrd.cpio"
    [[ "$root" == initramfs ]] && initrd="$out/initrd-busybox.cpio"
    VM=(qemu-system-x86_64 -M microvm,x-option-roms=off -accel tcg -m "$mem_mib" -smp 1
        -nodefaults -no-user-config -display none -no-reboot
        -chardev "file,id=console,path=$work/$name.console.log" -serial chardev:console
        -kernel "$out/vmlinux" -initrd "$initrd"
        -append "console=ttyS0 quiet panic=-1 reboot=t tsc_early_khz=$tsc_khz msb.preload=$preload$APPEND_EXTRA"
        -device virtio-serial-device -chardev "$chardev" -device virtserialport,chardev=agent,name=agent)
    case "$mem" in
        anon) ;;
        shared) VM+=(-object "memory-backend-file,id=mem,size=${mem_mib}M,mem-path=$shm/$name.ram,share=on"
                     -machine memory-backend=mem) ;;
        private:*) VM+=(-object "memory-backend-file,id=mem,size=${mem_mib}M,mem-path=${mem#private:},share=off"
                        -machine memory-backend=mem) ;;
        *) echo "bad MEM $mem" >&2; return 2 ;;
    esac
    case "$root" in
        erofs) VM+=(-drive "file=$out/rootfs.erofs,format=raw,if=none,id=rootfs,readonly=on"
                    -device virtio-blk-device,drive=rootfs,serial=rootfs) ;;
        ext4) VM+=(-drive "file=$out/rootfs.ext4,format=raw,if=none,id=rootfs,snapshot=on"
                   -device virtio-blk-device,drive=rootfs,serial=rootfs) ;;
        initramfs) ;; # the built-in image rides in initrd-busybox.cpio: no root device
        *) echo "bad ROOT $root" >&2; return 2 ;;
    esac
    VM+=("${EXTRA[@]}")
}

root_boot_args() { # ROOT -> BOOT (agentctl bootstrap options)
    case "$1" in
        erofs) BOOT=(--root-erofs /dev/disk/by-id/virtio-rootfs) ;;
        ext4) BOOT=(--root-disk /dev/disk/by-id/virtio-rootfs:ext4) ;;
        initramfs) BOOT=() ;; # no block_root, no msb_root share: the agent uses /rootfs
    esac
}

# make_template NAME MEM ROOT [CAP...]: boots, waits until the agent has opened
# its port (it then waits for core.bootstrap), saves to $work/NAME.snap, quits.
# The host side listens and holds QEMU's connection without sending a frame,
# as the sandbox process would. Prints one template line.
make_template() {
    local name="$1" mem="$2" root="$3"
    shift 3
    rm -f -- "$work/$name".{agent.sock,qmp.sock,hold-ready}
    if [[ "$CHARDEV_SERVER" == off ]]; then
        "${snapqmp[@]}" hold "$work/$name.agent.sock" "$work/$name.hold-ready" &
        local hold_pid=$!
        pids+=("$hold_pid")
        wait_socket "$work/$name.agent.sock"
    fi
    vm_argv "$name" "$mem" "$root"
    VM+=(-qmp "unix:$work/$name.qmp.sock,server=on,wait=off")
    local t0 t1 t2 qpid saved
    t0="$(now_ms)"
    "${VM[@]}" &
    qpid=$!
    pids+=("$qpid")
    "${snapqmp[@]}" wait-port "$work/$name.qmp.sock" agent 60 >/dev/null
    t1="$(now_ms)"
    # TEMPLATE_SETTLE: let the waiting guest run on before it is saved (rng section)
    sleep "${TEMPLATE_SETTLE:-0}"
    saved="$("${snapqmp[@]}" save "$work/$name.qmp.sock" "$work/$name.snap" "$@")"
    wait "$qpid"
    t2="$(now_ms)"
    [[ -n "${hold_pid:-}" ]] && { kill "$hold_pid" 2>/dev/null || true; wait "$hold_pid" 2>/dev/null || true; }
    local ram=""
    [[ "$mem" == shared ]] && ram=" ram_file_kib_used=$(du -k "$shm/$name.ram" | cut -f1)"
    local settle_ms=$((${TEMPLATE_SETTLE:-0} * 1000))
    echo "template name=$name mem=$mem root=$root boot_to_port_ms=$((t1 - t0)) save_ms=$((t2 - t1 - settle_ms)) boot_to_saved_ms=$((t2 - t0 - settle_ms)) $saved$ram"
}

# run_clone NAME SNAP MEM ROOT RESTORE ACTION...: RESTORE is "cmdline" (-incoming fd:3,
# no QMP), "qmp[:CAP,...]" (-incoming defer; a python QMP client sets CAPs, then
# migrate-incoming fd:3) or "script[:CAP,...]" (the same commands queued in a FIFO
# that QEMU's monitor reads: no client process at all).
# agentctl listens first (production form), sends the bootstrap (BOOT + ROOT's options),
# marks ready and the first echo, then runs ACTION. Sets CLONE_LINE; output in NAME.out.
run_clone() {
    local name="$1" snap="$2" mem="$3" root="$4" restore="$5"
    shift 5
    rm -f -- "$work/$name".{agent.sock,qmp.sock}
    local boot_extra=("${BOOT_EXTRA[@]}" "${RESTORED_ARGS[@]}")
    root_boot_args "$root"
    local t0 apid qpid restore_ms="-"
    t0="$(now_ms)"
    if [[ "$CHARDEV_SERVER" == off ]]; then
        "$agentctl" --listen "$work/$name.agent.sock" --timeout 60 "${BOOT[@]}" "${boot_extra[@]}" \
            mark run 0 'x\n' echo x \; mark "$@" >"$work/$name.out" 2>"$work/$name.err" &
        apid=$!
        pids+=("$apid")
        wait_socket "$work/$name.agent.sock"
    fi
    vm_argv "$name" "$mem" "$root"
    local qin=""
    case "$restore" in
        cmdline) VM+=(-incoming fd:3) ;;
        qmp*) VM+=(-qmp "unix:$work/$name.qmp.sock,server=on,wait=off" -incoming defer) ;;
        script*)
            # QMP without a client: the commands wait in a FIFO before QEMU starts; QEMU's
            # pipe chardev reads NAME.qmp.in and writes replies/events to NAME.qmp.out.
            # The template must have been saved running ("live"): a stopped one arrives paused.
            mkfifo "$work/$name.qmp.in" "$work/$name.qmp.out"
            exec {qin}<>"$work/$name.qmp.in"
            local capjson="" c
            if [[ "$restore" == script:* ]]; then
                IFS=, read -r -a caps <<<"${restore#script:}"
                for c in "${caps[@]}"; do capjson+="${capjson:+,}{\"capability\":\"$c\",\"state\":true}"; done
            fi
            printf '%s\n' '{"execute":"qmp_capabilities"}' \
                "{\"execute\":\"migrate-set-capabilities\",\"arguments\":{\"capabilities\":[$capjson]}}" \
                '{"execute":"migrate-incoming","arguments":{"uri":"fd:3"}}' >&"$qin"
            VM+=(-chardev "pipe,id=qmp,path=$work/$name.qmp" -mon chardev=qmp,mode=control -incoming defer) ;;
    esac
    local rpid=""
    if [[ "$restore" == qmp* ]]; then
        # the QMP client is started first and waits for QEMU's socket, as an in-process
        # client would: python's own start-up stays out of the restore time
        local caps=()
        [[ "$restore" == qmp:* ]] && IFS=, read -r -a caps <<<"${restore#qmp:}"
        "${snapqmp[@]}" restore "$work/$name.qmp.sock" fd:3 "${caps[@]}" >"$work/$name.restore" &
        rpid=$!
        pids+=("$rpid")
    fi
    "${VM[@]}" 3<"$snap" &
    qpid=$!
    pids+=("$qpid")
    if [[ -n "$rpid" ]]; then
        wait "$rpid" || fail "$name: QMP restore failed"
        restore_ms="$(cat "$work/$name.restore")"
    fi
    if [[ -n "${SAMPLE_MEM:-}" ]]; then
        # while the clone runs its ACTION (a sleep), sample QEMU's memory
        ( sleep "$SAMPLE_MEM"
          awk -v n="$name" '/^(Rss|Pss|Private_Dirty|Shared_Clean):/ {printf "%s_kib=%s ", $1, $2} END {print ""}' \
              "/proc/$qpid/smaps_rollup" | sed "s/:_kib/_kib/g; s/^/mem clone=$name /" ) &
    fi
    if [[ "$CHARDEV_SERVER" == on ]]; then
        sleep "${LATE_CONNECT:-0}"
        "$agentctl" --socket "$work/$name.agent.sock" --timeout 60 "${BOOT[@]}" "${boot_extra[@]}" \
            mark run 0 'x\n' echo x \; mark "$@" >"$work/$name.out" 2>"$work/$name.err" &
        apid=$!
        pids+=("$apid")
    fi
    local rc=0
    wait "$apid" || rc=$?
    # QEMU opened the FIFO long ago; the queued commands no longer need our end
    [[ -n "$qin" ]] && exec {qin}>&-
    # agentctl ends with shutdown: QEMU powers off by itself, unless agentctl failed
    ((rc == 0)) || kill "$qpid" 2>/dev/null || true
    local qrc=0
    wait "$qpid" || qrc=$?
    local t1 marks
    t1="$(now_ms)"
    marks="$(grep -o 'since_start_ms=[0-9]*' "$work/$name.out" | head -2 | cut -d= -f2 | tr '\n' ' ')" || true
    read -r ready first <<<"$marks" || true
    CLONE_READY="${ready:--}"
    CLONE_FIRST="${first:--}"
    CLONE_LINE="clone name=$name restore=$restore qmp_restore_ms=$restore_ms spawn_to_ready_ms=${ready:--} spawn_to_first_exec_ms=${first:--} total_ms=$((t1 - t0)) agentctl_rc=$rc qemu_rc=$qrc"
    if ((rc != 0)) && [[ -n "${EXPECT_FAIL:-}" ]]; then
        echo "expected failure: $name: $(tail -n 1 "$work/$name.err")"
    elif ((rc != 0)); then
        fail "$name: agentctl: $(tail -n 3 "$work/$name.err" | tr '\n' ' ') console: $(tail -c 400 "$work/$name.console.log" | tr '\n' ' ')"
    fi
    return 0
}
BOOT_EXTRA=()
# bootstrap extension for restored guests: wall clock + entropy (see CONTRACT.md)
RESTORED_ARGS=(--restored)

# ---------------------------------------------------------------- cold boot baseline
if want cold; then
    r=()
    f=()
    for ((i = 1; i <= runs; i++)); do
        rm -f -- "$work/cold.agent.sock"
        "$agentctl" --listen "$work/cold.agent.sock" --timeout 60 --root-erofs /dev/disk/by-id/virtio-rootfs \
            mark run 0 'x\n' echo x \; mark shutdown >"$work/cold.out" 2>"$work/cold.err" &
        apid=$!
        pids+=("$apid")
        wait_socket "$work/cold.agent.sock"
        vm_argv cold anon erofs
        "${VM[@]}" &
        qpid=$!
        pids+=("$qpid")
        wait "$apid" || fail "cold: $(tail -n 2 "$work/cold.err")"
        wait "$qpid" || true
        read -r a b <<<"$(grep -o 'since_start_ms=[0-9]*' "$work/cold.out" | cut -d= -f2 | tr '\n' ' ')" || true
        echo "cold run=$i spawn_to_ready_ms=$a spawn_to_first_exec_ms=$b"
        r+=("$a")
        f+=("$b")
    done
    echo "cold median spawn_to_ready_ms=$(printf '%s\n' "${r[@]}" | median) spawn_to_first_exec_ms=$(printf '%s\n' "${f[@]}" | median)"
fi

# clone_series LABEL SNAP MEM ROOT RESTORE: RUNS sequential clones, each also checks
# the guest wall clock before and after core.clock.sync; prints medians.
clone_series() {
    local label="$1" snap="$2" mem="$3" root="$4" restore="$5" i r=() f=() host_before g1 g2 host_after
    for ((i = 1; i <= runs; i++)); do
        host_before="$(date +%s%N)"
        run_clone "$label-$i" "$snap" "$mem" "$root" "$restore" \
            sh 'date +%s' clock sh 'date +%s; cat /proc/uptime' shutdown
        host_after="$(date +%s%N)"
        read -r g1 g2 <<<"$(clone_output "$label-$i" | grep -Eo '^[0-9]{10}$' | tr '\n' ' ')" || true
        local clock="guest_clock=?"
        if [[ -n "${g1:-}" && -n "${g2:-}" ]]; then
            # busybox date has no %N: whole seconds are enough to see a clock that stood still
            clock="guest_clock_behind_before_sync_s=$((host_before / 1000000000 - g1)) synced=$((g2 >= host_before / 1000000000 && g2 <= host_after / 1000000000 + 1))"
        fi
        echo "$CLONE_LINE $clock uptime=$(clone_output "$label-$i" | grep -Eo '^[0-9]+\.[0-9]+ ' | head -1)"
        r+=("$CLONE_READY")
        f+=("$CLONE_FIRST")
    done
    echo "$label median spawn_to_ready_ms=$(printf '%s\n' "${r[@]}" | median) spawn_to_first_exec_ms=$(printf '%s\n' "${f[@]}" | median) (n=$runs)"
}

# ---------------------------------------------------------------- full stream (anonymous RAM)
if want stream; then
    # saved while running ("live"): QEMU stops the VM for the last pass and clones resume
    # by themselves, so a clone needs no QMP at all (-incoming fd:3 on its command line)
    for ((i = 1; i <= 3; i++)); do make_template stream anon erofs fd live; done
    make_template stream-unix anon erofs unix live
    clone_series stream "$work/stream.snap" anon erofs cmdline
    # the same snapshot through -incoming defer + QMP migrate-incoming (what x-ignore-shared needs)
    clone_series stream-script "$work/stream.snap" anon erofs script
    clone_series stream-pyqmp "$work/stream.snap" anon erofs qmp
    # without msb.preload the clone loads the erofs/overlay modules itself during the bootstrap
    preload=""
    make_template stream-nopreload anon erofs fd live
    clone_series stream-nopreload "$work/stream-nopreload.snap" anon erofs cmdline
    preload="erofs,overlay"
    # saved stopped: the clone arrives paused and needs QMP "cont"
    make_template stream-stopped anon erofs fd
    # (a queued "cont" does not help here: a stopped source's run state wins over autostart,
    # so the client has to wait for the load to finish, then "cont")
    clone_series stream-stopped "$work/stream-stopped.snap" anon erofs qmp
fi

# ---------------------------------------------------------------- shared RAM file + x-ignore-shared
if want shared || want parallel || want isolation || want memory; then
    for ((i = 1; i <= 3; i++)); do
        rm -f -- "$shm/shared.ram"
        make_template shared shared erofs fd live x-ignore-shared
    done
fi
if want shared; then
    clone_series shared "$work/shared.snap" "private:$shm/shared.ram" erofs script:x-ignore-shared
    clone_series shared-pyqmp "$work/shared.snap" "private:$shm/shared.ram" erofs qmp:x-ignore-shared
fi

# ---------------------------------------------------------------- built-in image in the initramfs
if want initramfs; then
    preload=""
    make_template initramfs anon initramfs fd live
    clone_series initramfs "$work/initramfs.snap" anon initramfs cmdline
    rm -f -- "$shm/initramfs-shared.ram"
    make_template initramfs-shared shared initramfs fd live x-ignore-shared
    clone_series initramfs-shared "$work/initramfs-shared.snap" "private:$shm/initramfs-shared.ram" initramfs script:x-ignore-shared
    preload="erofs,overlay"
fi

# ---------------------------------------------------------------- memory per clone
if want memory; then
    [[ -f "$work/stream.snap" ]] || make_template stream anon erofs fd live
    [[ -f "$work/shared.snap" ]] || make_template shared shared erofs fd live x-ignore-shared
    SAMPLE_MEM=1.5 run_clone mem-stream "$work/stream.snap" anon erofs cmdline sh 'sleep 2.5' shutdown
    SAMPLE_MEM=1.5 run_clone mem-shared "$work/shared.snap" "private:$shm/shared.ram" erofs script:x-ignore-shared sh 'sleep 2.5' shutdown
    wait
fi

# ---------------------------------------------------------------- clones at once
if want parallel; then
    for n in 2 4; do
        t0="$(now_ms)"
        cpids=()
        for ((k = 1; k <= n; k++)); do
            ( run_clone "par$n-$k" "$work/shared.snap" "private:$shm/shared.ram" erofs script:x-ignore-shared \
                  sh 'echo $((1+1))' shutdown
              echo "$CLONE_LINE" ) &
            cpids+=($!)
        done
        for p in "${cpids[@]}"; do wait "$p"; done
        echo "parallel n=$n all_done_ms=$(( $(now_ms) - t0 ))"
    done
fi

# ---------------------------------------------------------------- isolation
if want isolation; then
    cpids=()
    sums_before="$(md5sum "$shm/shared.ram" "$work/shared.snap" "$out/rootfs.erofs" | cut -d' ' -f1 | tr '\n' ' ')"
    for who in A B; do
        ( run_clone "iso$who" "$work/shared.snap" "private:$shm/shared.ram" erofs script:x-ignore-shared \
              sh "echo $who > /etc/who; echo $who > /tmp/who; echo $who > /root/who" \
              sh 'sleep 1; cat /etc/who /tmp/who /root/who' shutdown
          echo "$CLONE_LINE" ) &
        cpids+=($!)
    done
    wait "${cpids[@]}" 2>/dev/null || true
    for who in A B; do
        seen="$(clone_output "iso$who" | grep -v '^$' | tr '\n' ' ' || true)"
        echo "isolation clone=$who sees: $seen"
        [[ "$seen" == "$who $who $who " ]] || fail "isolation: clone $who saw '$seen'"
    done
    run_clone isoC "$work/shared.snap" "private:$shm/shared.ram" erofs script:x-ignore-shared \
        sh 'cat /etc/who /tmp/who /root/who 2>&1; true' shutdown
    echo "$CLONE_LINE"
    echo "isolation later clone sees: $(grep -c 'No such file' "$work/isoC.out") of 3 files missing (want 3)"
    sums_after="$(md5sum "$shm/shared.ram" "$work/shared.snap" "$out/rootfs.erofs" | cut -d' ' -f1 | tr '\n' ' ')"
    if [[ "$sums_before" == "$sums_after" ]]; then
        echo "isolation template ram file, snapshot file and rootfs.erofs unchanged"
    else
        fail "isolation: template files changed"
    fi
fi

# ---------------------------------------------------------------- host side gone and back
if want hostgone; then
    # template saved with a host connected (server=off, held); the clone's chardev has
    # no host (server=on, nobody connects for 2 s): QEMU tells the guest the host side
    # closed (virtio-serial post-load), then opened again when agentctl connects
    make_template hold anon erofs fd live
    CHARDEV_SERVER=on LATE_CONNECT=2 run_clone hostgone "$work/hold.snap" anon erofs cmdline sh 'echo ok' shutdown
    echo "$CLONE_LINE (connected 2 s after spawn)"
    # and the reverse: template without a host (server=on), clone with one (server=off)
    CHARDEV_SERVER=on make_template nohost anon erofs fd live
    run_clone hostback "$work/nohost.snap" anon erofs cmdline sh 'echo ok' shutdown
    echo "$CLONE_LINE"
fi

# ---------------------------------------------------------------- RNG and clock after restore
if want rng; then
    # saved 4 s after the agent opened its port: the kernel CRNG is initialised by then
    # ("random: crng init done" ~2.6 s after boot here), so every clone starts from the
    # same CRNG state; without the bootstrap's entropy field they read the same bytes
    TEMPLATE_SETTLE=4 make_template rng anon erofs fd live
    sleep 3 # let the template's wall clock fall behind
    for mode in plain restored; do
        if [[ "$mode" == plain ]]; then RESTORED_ARGS=(); else RESTORED_ARGS=(--restored); fi
        cpids=()
        for who in A B; do
            ( run_clone "rng-$mode-$who" "$work/rng.snap" anon erofs cmdline \
                  sh 'head -c 16 /dev/urandom | od -An -tx1 | tr -d " \n"; echo; date +%s' shutdown
              echo "$CLONE_LINE" ) &
            cpids+=($!)
        done
        wait "${cpids[@]}" 2>/dev/null || true
        host_now="$(date +%s)"
        read -r ra da <<<"$(clone_output "rng-$mode-A" | grep -v '^$' | tr '\n' ' ')" || true
        read -r rb db <<<"$(clone_output "rng-$mode-B" | grep -v '^$' | tr '\n' ' ')" || true
        same=$([[ "$ra" == "$rb" ]] && echo yes || echo no)
        # plain: the bootstrap has no unix_time_nanos/entropy; restored: it has (agentctl --restored)
        echo "rng bootstrap=$mode urandom_A=$ra urandom_B=$rb identical=$same guest_clock_behind_s=$((host_now - da))"
        if [[ "$mode" == restored && "$same" == yes ]]; then fail "rng: restored clones read the same random bytes"; fi
    done
    RESTORED_ARGS=(--restored)
fi

# ---------------------------------------------------------------- ext4 root, snapshot=on
if want ext4; then
    preload="ext4"
    make_template ext4 anon ext4 fd live
    sum_before="$(md5sum <"$out/rootfs.ext4")"
    runs_saved="$runs"
    runs=2
    clone_series ext4 "$work/ext4.snap" anon ext4 cmdline
    runs="$runs_saved"
    run_clone ext4w "$work/ext4.snap" anon ext4 cmdline sh 'echo w > /etc/written; sync; cat /etc/written' shutdown
    echo "$CLONE_LINE"
    [[ "$(md5sum <"$out/rootfs.ext4")" == "$sum_before" ]] && echo "ext4 rootfs.ext4 unchanged" || fail "ext4: rootfs.ext4 changed"
    preload="erofs,overlay"
fi

# ---------------------------------------------------------------- 9p share, different host dir per clone
if want 9p; then
    mkdir -p "$work/share-tpl" "$work/share-c1"
    echo template >"$work/share-tpl/hello"
    echo clone1 >"$work/share-c1/hello"
    EXTRA=(-fsdev "local,id=fs0,path=$work/share-tpl,security_model=none"
           -device virtio-9p-device,fsdev=fs0,mount_tag=vol0)
    make_template ninep anon erofs fd live
    EXTRA=(-fsdev "local,id=fs0,path=$work/share-c1,security_model=none"
           -device virtio-9p-device,fsdev=fs0,mount_tag=vol0)
    BOOT_EXTRA=(--dir vol0:/mnt/vol)
    run_clone ninep-c1 "$work/ninep.snap" anon erofs cmdline sh 'cat /mnt/vol/hello; echo from-guest > /mnt/vol/out' shutdown
    echo "$CLONE_LINE"
    echo "9p guest read: $(clone_output ninep-c1 | grep -x 'clone1\|template' || echo none) (want clone1); host got: $(cat "$work/share-c1/out" 2>/dev/null || echo nothing)"
    EXTRA=()
    BOOT_EXTRA=()
fi

# ---------------------------------------------------------------- user networking + hostfwd
if want net; then
    free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
    p_tpl="$(free_port)"
    p_c1="$(free_port)"
    p_host="$(free_port)"
    mkdir -p "$work/www"
    echo host-says-hi >"$work/www/index.html"
    python3 -m http.server "$p_host" --bind 127.0.0.1 --directory "$work/www" >/dev/null 2>&1 &
    pids+=($!)
    net_dev() { EXTRA=(-netdev "user,id=net0,hostfwd=tcp:127.0.0.1:$1-:8080" -device virtio-net-device,netdev=net0,mac=52:54:00:12:34:56); }
    net_dev "$p_tpl"
    make_template net anon erofs fd live
    net_dev "$p_c1"
    BOOT_EXTRA=(--net-slirp)
    (
        for ((k = 0; k < 80; k++)); do
            if body="$(curl -s --max-time 1 "http://127.0.0.1:$p_c1/")" && [[ -n "$body" ]]; then
                echo "net hostfwd to clone: $body"
                exit 0
            fi
            sleep 0.1
        done
        echo "net hostfwd to clone: no answer"
    ) &
    poller=$!
    run_clone net-c1 "$work/net.snap" anon erofs cmdline \
        sh 'mkdir -p /tmp/www; echo guest-says-hi > /tmp/www/index.html; httpd -p 8080 -h /tmp/www' \
        sh "wget -qO- http://10.0.2.2:$p_host/ 2>&1; sleep 3" shutdown
    wait "$poller" || true
    echo "$CLONE_LINE"
    echo "net guest to host via slirp: $(clone_output net-c1 | grep -x 'host-says-hi' || echo 'no answer')"
    EXTRA=()
    BOOT_EXTRA=()
fi

# ---------------------------------------------------------------- disk volume, different backing file
if want disk; then
    truncate -s 16M "$work/disk-tpl.img"
    truncate -s 16M "$work/disk-c1.img"
    mkfs.ext4 -q -F "$work/disk-c1.img"
    EXTRA=(-drive "file=$work/disk-tpl.img,format=raw,if=none,id=vol1" -device virtio-blk-device,drive=vol1,serial=vol1)
    preload="erofs,overlay,ext4"
    make_template disk anon erofs fd live
    EXTRA=(-drive "file=$work/disk-c1.img,format=raw,if=none,id=vol1" -device virtio-blk-device,drive=vol1,serial=vol1)
    BOOT_EXTRA=(--disk vol1:/mnt/d:ext4)
    run_clone disk-c1 "$work/disk.snap" anon erofs cmdline sh 'echo on-disk > /mnt/d/f; cat /mnt/d/f' shutdown
    echo "$CLONE_LINE"
    clone_output disk-c1 | grep -q '^on-disk$' && echo "disk volume mounted in clone" ||
        echo "disk volume in clone: $(tail -n 2 "$work/disk-c1.err" | tr '\n' ' ')"
    # a disk of another size: the guest read the capacity when the template probed the
    # device and keeps it, so the larger filesystem does not mount (expected to fail)
    truncate -s 32M "$work/disk-c2.img"
    mkfs.ext4 -q -F "$work/disk-c2.img"
    EXTRA=(-drive "file=$work/disk-c2.img,format=raw,if=none,id=vol1" -device virtio-blk-device,drive=vol1,serial=vol1)
    EXPECT_FAIL=1 run_clone disk-c2 "$work/disk.snap" anon erofs cmdline sh 'echo on-disk > /mnt/d/f; cat /mnt/d/f' shutdown >/dev/null
    echo "disk volume of another size (32 MiB vs the template's 16 MiB): $(grep -o 'guest bootstrap failed: .*' "$work/disk-c2.err" | head -1 || echo mounted)"
    EXTRA=()
    BOOT_EXTRA=()
    preload="erofs,overlay"
fi

echo "done failures=$(cat "$work/failures" 2>/dev/null | wc -l)"
