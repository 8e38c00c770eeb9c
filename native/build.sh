#!/usr/bin/env bash
# Assembles everything the QEMU engine boots into OUTDIR:
#   vmlinux            Debian generic kernel, decompressed to its ELF (PVH entry)
#   initrd.cpio        initramfs: the guest agent as /init + the kernel modules it loads
#   initrd-busybox.cpio  initrd.cpio with the base rootfs appended as /rootfs (built-in image, no root disk)
#   rootfs.ext4        default base rootfs (busybox-static) as an ext4 image
#   rootfs.erofs       the same tree as a read-only EROFS image (oci-erofs root)
#   rootfs/            the same tree as a plain directory (for a 9p root)
#   msb-agent          the static guest agent binary
#   agentctl           host-side test client
#   libmsb-netfilter.so  host-side network policy filter preloaded into QEMU (native/netfilter)
#   manifest.json      kernel version, file names, sha256s
#   guest.tar.gz       what the Microsandbox.Guest.linux-x64 package carries: vmlinux, both initramfs images,
#                      rootfs.ext4, msb-agent and manifest.json (deterministic: fixed owner, mtime, order)
#
# Usage: native/build.sh OUTDIR
# Idempotent: downloads are cached in OUTDIR/.cache and steps whose inputs did
# not change are skipped. Needs the packages in native/packages.txt and apt
# access to Debian's archive (apt-get download; nothing is installed).
#
# Environment overrides:
#   MSB_KERNEL_PACKAGE   e.g. linux-image-6.1.0-56-amd64 (default: what linux-image-amd64 depends on)
#   MSB_ROOTFS_SIZE_MIB  size of rootfs.ext4 (default 256, sparse)
set -euo pipefail

die() { printf 'native/build.sh: %s\n' "$*" >&2; exit 1; }
log() { printf 'native/build.sh: %s\n' "$*" >&2; }

[[ $# -eq 1 && -n "$1" ]] || die "usage: native/build.sh OUTDIR"
here="$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)"
mkdir -p -- "$1"
out="$(cd -- "$1" && pwd)"
cache="$out/.cache"
work="$out/.work"
mkdir -p -- "$cache" "$work"

for tool in apt-get apt-cache dpkg-deb depmod modprobe cpio mkfs.ext4 mkfs.erofs gcc make xz lz4 sha256sum; do
    command -v "$tool" >/dev/null 2>&1 || die "missing tool '$tool' (install the packages in native/packages.txt)"
done

# ---------------------------------------------------------------- kernel package
kpkg="${MSB_KERNEL_PACKAGE:-}"
if [[ -z "$kpkg" ]]; then
    kpkg="$(apt-cache depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-[0-9]/ {print $2; exit}')"
    [[ -n "$kpkg" ]] || die "cannot resolve linux-image-amd64 (run apt-get update first)"
fi
kver="${kpkg#linux-image-}"
log "kernel package $kpkg (version $kver)"

fetch_deb() { # fetch_deb PACKAGE -> prints path of the cached .deb
    local pkg="$1" deb
    deb="$(find "$cache" -maxdepth 1 -name "${pkg}_*.deb" -print -quit)"
    if [[ -z "$deb" ]]; then
        (cd -- "$cache" && apt-get download -- "$pkg" >&2) || die "apt-get download $pkg failed"
        deb="$(find "$cache" -maxdepth 1 -name "${pkg}_*.deb" -print -quit)"
        [[ -n "$deb" ]] || die "download of $pkg produced no .deb"
    fi
    printf '%s\n' "$deb"
}

kdeb="$(fetch_deb "$kpkg")"
kroot="$work/kernel-$kver"
if [[ ! -f "$kroot/.extracted" ]]; then
    rm -rf -- "$kroot"
    mkdir -p -- "$kroot"
    dpkg-deb -x "$kdeb" "$kroot"
    depmod -b "$kroot" "$kver"
    touch -- "$kroot/.extracted"
fi
vmlinuz="$kroot/boot/vmlinuz-$kver"
[[ -f "$vmlinuz" ]] || die "no vmlinuz in $kdeb"

# ---------------------------------------------------------------- vmlinux (ELF)
# The bzImage carries the kernel as an xz or lz4 payload; decompress it once so
# QEMU can boot the ELF through its PVH entry point.
extract_vmlinux() { # extract_vmlinux BZIMAGE DEST
    local img="$1" dest="$2" tmp="$2.tmp" off
    local -a offsets
    # the xz magic is FD 37 7A 58 5A 00; match its ASCII tail (byte patterns
    # above 0x7f depend on the locale) and step back one byte
    mapfile -t offsets < <(LC_ALL=C grep -obUaP '7zXZ\x00' "$img" | cut -d: -f1)
    for off in "${offsets[@]}"; do
        [[ $off -gt 0 ]] || continue
        tail -c "+$off" -- "$img" | xz -dc --single-stream >"$tmp" 2>/dev/null || true
        if [[ "$(head -c 4 -- "$tmp" | od -An -tx1 | tr -d ' \n')" == 7f454c46 ]]; then
            mv -f -- "$tmp" "$dest"; return 0
        fi
    done
    mapfile -t offsets < <(LC_ALL=C grep -obUaP '\x02\x21\x4c\x18' "$img" | cut -d: -f1)
    for off in "${offsets[@]}"; do
        tail -c "+$((off + 1))" -- "$img" | lz4 -dc >"$tmp" 2>/dev/null || true
        if [[ "$(head -c 4 -- "$tmp" | od -An -tx1 | tr -d ' \n')" == 7f454c46 ]]; then
            mv -f -- "$tmp" "$dest"; return 0
        fi
    done
    rm -f -- "$tmp"
    return 1
}

stamp_vmlinux="$work/vmlinux.stamp"
if [[ ! -f "$out/vmlinux" || "$(cat "$stamp_vmlinux" 2>/dev/null)" != "$kver" ]]; then
    log "decompressing $vmlinuz to vmlinux"
    extract_vmlinux "$vmlinuz" "$out/vmlinux" || die "no xz or lz4 ELF payload found in $vmlinuz"
    printf '%s\n' "$kver" >"$stamp_vmlinux"
fi

# ---------------------------------------------------------------- up to date?
# Everything below depends only on these inputs: skip it when they and the
# outputs are unchanged, so callers can run the build on every start.
inputs_hash="$(
    {
        printf '%s\n' "$kver" "${MSB_ROOTFS_SIZE_MIB:-256}"
        dpkg -s busybox-static 2>/dev/null | grep -m1 '^Version:' || true
        cat -- "$here/build.sh" "$here/agent/Makefile" "$here"/agent/*.c "$here"/agent/*.h "$here/tools/agentctl.c" "$here"/netfilter/*.c
    } | sha256sum | cut -d' ' -f1
)"
outputs_present=1
for f in vmlinux initrd.cpio initrd-busybox.cpio rootfs.ext4 rootfs.erofs msb-agent agentctl libmsb-netfilter.so manifest.json guest.tar.gz; do
    [[ -e "$out/$f" ]] || outputs_present=0
done
if [[ $outputs_present -eq 1 && "$(cat "$work/inputs.sha256" 2>/dev/null)" == "$inputs_hash" ]]; then
    log "up to date: $out"
    exit 0
fi

# ---------------------------------------------------------------- agent + client
log "building the guest agent"
# make cannot handle spaces in target paths: build in a private temp dir
agent_build="$(mktemp -d "${TMPDIR:-/tmp}/msb-agent-build.XXXXXX")"
make -s -C "$here/agent" OUT="$agent_build" >&2 || { rm -rf -- "$agent_build"; die "agent build failed"; }
install -m 0755 "$agent_build/msb-agent" "$out/msb-agent.tmp" && mv -f -- "$out/msb-agent.tmp" "$out/msb-agent"
install -m 0755 "$agent_build/agentctl" "$out/agentctl.tmp" && mv -f -- "$out/agentctl.tmp" "$out/agentctl"
rm -rf -- "$agent_build"

# ---------------------------------------------------------------- network filter (host side)
log "building the network filter"
gcc -O2 -std=gnu11 -Wall -Wextra -Werror -shared -fPIC -o "$out/libmsb-netfilter.so.tmp" "$here/netfilter/msb-netfilter.c" -ldl -lpthread \
    || die "network filter build failed"
mv -f -- "$out/libmsb-netfilter.so.tmp" "$out/libmsb-netfilter.so"

# ---------------------------------------------------------------- module closure
# Modules come in groups the agent loads on demand (loading all of them costs
# about half a second under TCG). Each group lists its full insmod order, from
# modprobe --show-depends against the depmod'd tree; a dependency may appear in
# several groups and is loaded once.
group_order=(boot blk net 9p ext4 overlay erofs)
declare -A group_modules=(
    [boot]="virtio_mmio virtio_console"
    [blk]="virtio_blk"
    [net]="virtio_net"
    [9p]="9p 9pnet_virtio"
    [ext4]="crc32c_generic ext4"
    [overlay]="overlay"
    [erofs]="erofs"
)
modlist="$work/modules.list"
: >"$modlist"
for group in "${group_order[@]}"; do
    for mod in ${group_modules[$group]}; do
        deps="$(modprobe -S "$kver" -d "$kroot" --show-depends "$mod" 2>/dev/null)" || die "modprobe --show-depends $mod failed"
        while IFS= read -r line; do
            [[ "$line" == "insmod "* ]] || continue
            path="${line#insmod }"
            path="${path%"${path##*[![:space:]]}"}"
            # crc32c-intel needs SSE4.2, which TCG's default CPU lacks; crc32c_generic covers it
            [[ "$path" == */crc32c-intel.ko* ]] && continue
            grep -qxF -- "$group $path" "$modlist" || printf '%s %s\n' "$group" "$path" >>"$modlist"
        done <<<"$deps"
    done
done
grep -q '^boot .*virtio_console' "$modlist" || die "module closure lacks virtio_console"

# ---------------------------------------------------------------- initramfs
ird="$work/initramfs"
rm -rf -- "$ird"
mkdir -p -- "$ird"/{dev,proc,sys,newroot,run,etc/msb,tmp}
install -m 0755 "$out/msb-agent" "$ird/init"
: >"$ird/etc/msb/modules"
while read -r group path; do
    rel="${path#"$kroot"}"
    dest="$ird$rel"
    mkdir -p -- "$(dirname -- "$dest")"
    case "$path" in
        *.ko.xz) rel="${rel%.xz}"; [[ -e "$ird$rel" ]] || xz -dc -- "$path" >"$ird$rel" ;;
        *.ko.zst) rel="${rel%.zst}"; [[ -e "$ird$rel" ]] || zstd -dcq -- "$path" >"$ird$rel" ;;
        *) [[ -e "$dest" ]] || cp -- "$path" "$dest" ;;
    esac
    printf '%s %s\n' "$group" "$rel" >>"$ird/etc/msb/modules"
done <"$modlist"
# /dev/console lets the kernel hand init its console before devtmpfs is up;
# the agent copes without it when mknod is not permitted.
mknod -m 600 "$ird/dev/console" c 5 1 2>/dev/null || true
(cd -- "$ird" && find . -mindepth 1 | LC_ALL=C sort | cpio --quiet -o -H newc -R 0:0) >"$out/initrd.cpio.tmp"
mv -f -- "$out/initrd.cpio.tmp" "$out/initrd.cpio"

# ---------------------------------------------------------------- base rootfs
busybox_bin=""
if dpkg -s busybox-static >/dev/null 2>&1; then
    busybox_bin="$(dpkg -L busybox-static | grep -m1 -E '/bin/busybox$' || true)"
fi
if [[ -z "$busybox_bin" ]]; then
    bdeb="$(fetch_deb busybox-static)"
    rm -rf -- "$work/busybox"
    mkdir -p -- "$work/busybox"
    dpkg-deb -x "$bdeb" "$work/busybox"
    busybox_bin="$work/busybox/bin/busybox"
fi
[[ -x "$busybox_bin" ]] || die "no static busybox found"

rfs="$work/rootfs"
rm -rf -- "$rfs"
mkdir -p -- "$rfs"/{bin,sbin,usr/bin,usr/sbin,etc,root,home/user,tmp,var/tmp,var/log,run,proc,sys,dev,mnt,opt,srv}
install -m 0755 "$busybox_bin" "$rfs/bin/busybox"
while read -r applet; do
    [[ -n "$applet" && "$applet" != bin/busybox ]] || continue
    mkdir -p -- "$rfs/$(dirname -- "$applet")"
    [[ -e "$rfs/$applet" ]] || ln -s /bin/busybox "$rfs/$applet"
done < <("$busybox_bin" --list-full)
chmod 1777 "$rfs/tmp" "$rfs/var/tmp"
chmod 0700 "$rfs/root"
cat >"$rfs/etc/passwd" <<'EOF'
root:x:0:0:root:/root:/bin/sh
user:x:1000:1000:user:/home/user:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
EOF
cat >"$rfs/etc/group" <<'EOF'
root:x:0:
user:x:1000:
nogroup:x:65534:
EOF
cat >"$rfs/etc/shadow" <<'EOF'
root:*:19000:0:99999:7:::
user:*:19000:0:99999:7:::
nobody:*:19000:0:99999:7:::
EOF
chmod 0640 "$rfs/etc/shadow"
printf 'microsandbox\n' >"$rfs/etc/hostname"
printf '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n' >"$rfs/etc/hosts"
: >"$rfs/etc/resolv.conf"
printf 'export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\n' >"$rfs/etc/profile"
printf 'NAME="microsandbox base (busybox)"\nID=microsandbox-busybox\n' >"$rfs/etc/os-release"
chown -R 1000:1000 "$rfs/home/user" 2>/dev/null || true

size_mib="${MSB_ROOTFS_SIZE_MIB:-256}"
rm -f -- "$out/rootfs.ext4.tmp"
truncate -s "${size_mib}M" "$out/rootfs.ext4.tmp"
mkfs.ext4 -q -F -L msb-root -E root_owner=0:0 -d "$rfs" "$out/rootfs.ext4.tmp" >/dev/null
mv -f -- "$out/rootfs.ext4.tmp" "$out/rootfs.ext4"
# The same disk under the name the SDK's BuiltinImages uses: image sources name raw disks by a .raw extension.
ln -f -- "$out/rootfs.ext4" "$out/busybox.raw"
# the same tree as a read-only EROFS image, for the oci-erofs root (writable
# tmpfs or ext4 upper); mounting it needs no ext4 module, which boots faster
rm -f -- "$out/rootfs.erofs.tmp"
mkfs.erofs --quiet -T 0 "$out/rootfs.erofs.tmp" "$rfs" >/dev/null
mv -f -- "$out/rootfs.erofs.tmp" "$out/rootfs.erofs"
rm -rf -- "$out/rootfs"
cp -a -- "$rfs" "$out/rootfs"
# The fastest root for the built-in image: the same tree appended to the initramfs as /rootfs (the kernel unpacks
# concatenated cpio archives in order), so the guest needs no block device, no filesystem module and no mount of
# its own; each boot unpacks a private writable copy. Owners are kept (home/user is 1000:1000).
(cd -- "$work" && find rootfs | LC_ALL=C sort | cpio --quiet -o -H newc) >"$out/rootfs.cpio.tmp"
cat -- "$out/initrd.cpio" "$out/rootfs.cpio.tmp" >"$out/initrd-busybox.cpio.tmp"
rm -f -- "$out/rootfs.cpio.tmp"
mv -f -- "$out/initrd-busybox.cpio.tmp" "$out/initrd-busybox.cpio"

# ---------------------------------------------------------------- manifest
sha() { sha256sum -- "$1" | cut -d' ' -f1; }
json_str() { local s="$1"; s="${s//\\/\\\\}"; s="${s//\"/\\\"}"; printf '"%s"' "$s"; }
{
    printf '{\n'
    printf '  "kernel_package": %s,\n' "$(json_str "$kpkg")"
    printf '  "kernel_version": %s,\n' "$(json_str "$kver")"
    printf '  "protocol_version": 7,\n'
    printf '  "files": {\n'
    printf '    "kernel": {"path": "vmlinux", "sha256": "%s"},\n' "$(sha "$out/vmlinux")"
    printf '    "initrd": {"path": "initrd.cpio", "sha256": "%s"},\n' "$(sha "$out/initrd.cpio")"
    printf '    "initrd_busybox": {"path": "initrd-busybox.cpio", "sha256": "%s"},\n' "$(sha "$out/initrd-busybox.cpio")"
    printf '    "rootfs_ext4": {"path": "rootfs.ext4", "sha256": "%s"},\n' "$(sha "$out/rootfs.ext4")"
    printf '    "rootfs_erofs": {"path": "rootfs.erofs", "sha256": "%s"},\n' "$(sha "$out/rootfs.erofs")"
    printf '    "rootfs_dir": {"path": "rootfs"},\n'
    printf '    "agent": {"path": "msb-agent", "sha256": "%s"},\n' "$(sha "$out/msb-agent")"
    printf '    "netfilter": {"path": "libmsb-netfilter.so", "sha256": "%s"},\n' "$(sha "$out/libmsb-netfilter.so")"
    printf '    "agentctl": {"path": "agentctl", "sha256": "%s"}\n' "$(sha "$out/agentctl")"
    printf '  },\n'
    printf '  "module_groups": {'
    gfirst=1
    for group in "${group_order[@]}"; do
        [[ $gfirst -eq 1 ]] || printf ', '
        gfirst=0
        printf '"%s": [' "$group"
        first=1
        while read -r g rel; do
            [[ "$g" == "$group" ]] || continue
            [[ $first -eq 1 ]] || printf ', '
            first=0
            json_str "$(basename -- "$rel" .ko)"
        done <"$ird/etc/msb/modules"
        printf ']'
    done
    printf '}\n'
    printf '}\n'
} >"$out/manifest.json.tmp"
mv -f -- "$out/manifest.json.tmp" "$out/manifest.json"

# ---------------------------------------------------------------- package archive
# What a consumer's machine needs to boot guests, for the Microsandbox.Guest.linux-x64 package (the SDK unpacks it
# into ~/.microsandbox/guest/ on first use and checks every file against manifest.json's sha256s). Test tools
# (agentctl), the EROFS image and the plain tree stay out.
log "packing guest.tar.gz"
tar -C "$out" --format=gnu --owner=0 --group=0 --numeric-owner --mtime=@0 -cf - -- \
    manifest.json vmlinux initrd.cpio initrd-busybox.cpio rootfs.ext4 msb-agent libmsb-netfilter.so \
    | gzip -n -6 >"$out/guest.tar.gz.tmp"
mv -f -- "$out/guest.tar.gz.tmp" "$out/guest.tar.gz"
printf '%s\n' "$inputs_hash" >"$work/inputs.sha256"
log "done: $out"
