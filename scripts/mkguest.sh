#!/usr/bin/env bash
# Builds the crashlab Linux guest: Debian's kernel plus a busybox initramfs holding the
# virtio/pvpanic/fw_cfg modules, qemu-ga and its libraries, labagent and labfault.ko.
# Writes OUT/vmlinuz, OUT/initrd.img and OUT/manifest.json (kernel release, sizes and
# sha256 of everything), all mode 0444: runs read them, never write them.
# Each file is built under a temporary name and renamed into place, manifest last, so an
# interrupted build never leaves a manifest that describes other files.
set -euo pipefail

usage() {
    echo "usage: $0 --krel RELEASE --out DIR --agent LABAGENT --module LABFAULT.KO --init INIT" >&2
    exit 2
}
krel= out= agent= module= init=
while (($#)); do
    case "$1" in
    --krel) krel=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --agent) agent=$2; shift 2 ;;
    --module) module=$2; shift 2 ;;
    --init) init=$2; shift 2 ;;
    *) usage ;;
    esac
done
[[ -n $krel && -n $out && -n $agent && -n $module && -n $init ]] || usage

die() { echo "mkguest: $*" >&2; exit 1; }
kernel=/boot/vmlinuz-$krel
moddir=/usr/lib/modules/$krel
busybox=$(command -v busybox || true)
qga=$(command -v qemu-ga || true)
[[ -z $qga && -x /usr/sbin/qemu-ga ]] && qga=/usr/sbin/qemu-ga
[[ -r $kernel ]] || die "no kernel $kernel (apt-get install linux-image-amd64)"
[[ -r $moddir/modules.dep ]] || die "no modules for $krel in $moddir"
[[ -n $busybox ]] || die "busybox not found (apt-get install busybox-static)"
[[ -n $qga ]] || die "qemu-ga not found (apt-get install qemu-guest-agent)"
command -v modprobe >/dev/null || die "modprobe (kmod) not found"
file -L "$busybox" | grep -q 'statically linked' || die "$busybox is not static (install busybox-static)"
for f in "$agent" "$module" "$init"; do [[ -r $f ]] || die "missing $f"; done

# What the guest needs, and their dependencies, in load order.
MODULES=(virtio_pci virtio_console virtio_blk pvpanic_mmio pvpanic_pci qemu_fw_cfg)

mkdir -p "$out"
work=$(mktemp -d "$out/.mkguest.XXXXXX")
trap 'rm -rf "$work"' EXIT
root=$work/root
mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,lib/modules,lib/crashlab,etc/crashlab,proc,sys,dev,tmp,run,var,root}
ln -s ../run "$root/var/run"

cp "$busybox" "$root/bin/busybox"
for a in $("$busybox" --list); do
    [[ $a == busybox || -e $root/bin/$a ]] || ln -s busybox "$root/bin/$a"
done

: >"$root/etc/crashlab/modules"
declare -A seen=()
for m in "${MODULES[@]}"; do
    while read -r kind path _; do
        [[ $kind == insmod ]] || continue
        base=$(basename "$path")
        [[ -n ${seen[$base]:-} ]] && continue
        seen[$base]=1
        case "$path" in
        *.ko) cp "$path" "$root/lib/modules/$base" ;;
        *.ko.xz) xz -dc "$path" >"$root/lib/modules/${base%.xz}"; base=${base%.xz} ;;
        *.ko.zst) zstd -qdc "$path" >"$root/lib/modules/${base%.zst}"; base=${base%.zst} ;;
        *.ko.gz) gzip -dc "$path" >"$root/lib/modules/${base%.gz}"; base=${base%.gz} ;;
        *) die "unexpected module file $path" ;;
        esac
        echo "$base" >>"$root/etc/crashlab/modules"
    done < <(modprobe --show-depends -S "$krel" "$m" 2>/dev/null || die "module $m not found for $krel")
done

# qemu-ga and the shared libraries it links, at the paths the loader will look for.
cp "$qga" "$root/usr/bin/qemu-ga"
ln -s ../bin/qemu-ga "$root/usr/sbin/qemu-ga"
while read -r lib; do
    [[ -n $lib ]] || continue
    mkdir -p "$root$(dirname "$lib")"
    cp -L "$lib" "$root$lib"
done < <(ldd "$qga" | awk '/=> \//{print $3} /^\t\/[^ ]+ \(/{print $1}' | sort -u)

cp "$agent" "$root/usr/bin/labagent"
# tests/reliability's misbehaving qemu-ga stand-in (bench.mk builds it next to labagent).
if [[ -x $(dirname "$agent")/badagent ]]; then cp "$(dirname "$agent")/badagent" "$root/usr/bin/badagent"; fi
cp "$module" "$root/lib/crashlab/labfault.ko"
install -m 0755 "$init" "$root/init"
printf 'root:x:0:0:root:/root:/bin/sh\n' >"$root/etc/passwd"
printf 'root:x:0:\n' >"$root/etc/group"
echo crashlab-guest >"$root/etc/hostname"

# Same inputs, same bytes: fixed owners, times and order.
find "$root" -exec touch -h -d @0 {} +
(cd "$root" && find . -mindepth 1 | LC_ALL=C sort | cpio --quiet -o -H newc -R 0:0 --reproducible) \
    | gzip -9n >"$work/initrd.img"
cp "$kernel" "$work/vmlinuz"

sha() { sha256sum "$1" | cut -d' ' -f1; }
size() { stat -c %s "$1"; }
json_file() { printf '"%s":{"bytes":%s,"sha256":"%s"}' "$1" "$(size "$2")" "$(sha "$2")"; }
{
    printf '{\n  "kernel_release":"%s",\n' "$krel"
    printf '  "kernel_source":"%s",\n' "$kernel"
    printf '  "files":{%s,%s},\n' "$(json_file vmlinuz "$work/vmlinuz")" "$(json_file initrd.img "$work/initrd.img")"
    printf '  "initrd":{%s,%s,%s,%s},\n' \
        "$(json_file labfault.ko "$root/lib/crashlab/labfault.ko")" \
        "$(json_file labagent "$root/usr/bin/labagent")" \
        "$(json_file qemu-ga "$root/usr/bin/qemu-ga")" \
        "$(json_file busybox "$root/bin/busybox")"
    printf '  "modules":[%s],\n' "$(sed 's/.*/"&"/' "$root/etc/crashlab/modules" | paste -sd,)"
    printf '  "qemu_ga_version":"%s",\n' "$("$qga" -V 2>/dev/null | head -1 | tr -d '"\\')"
    printf '  "ready_line":"crashlab-guest: ready"\n}\n'
} >"$work/manifest.json"

for f in vmlinuz initrd.img manifest.json; do
    chmod 0444 "$work/$f"
    mv -f "$work/$f" "$out/$f"
done
echo "  built $out (kernel $krel, initrd $(($(size "$out/initrd.img") / 1024)) KiB)"
