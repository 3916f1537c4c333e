#!/usr/bin/env bash
# The lab's own dump writer (issue 12, lab/virt/memdump.c + lab/dump/writer): a real Linux guest
# panics, and while it is paused the lab writes its dump (kdump-lzo, the Linux default, then
# kdump-zstd) and QEMU writes its own kdump-zlib dump of the same guest (CRASHLAB_DUMP_ALSO).
# Checked for each codec: every page and every register of every vCPU agree
# (tests/tools/dumpcmp), the file is standard (not flattened) kdump with that codec's pages and
# a filled utsname, crash 8.0.2 and drgn (libkdumpfile) open both dumps and print the same
# `log` and `bt`, and (lzo) Debian's makedumpfile 1.7.2 reads the log out of the lab's dump.
# DW_CODECS="lzo" narrows it.
source "$(dirname "$0")/lib.sh"
cd "$ROOT" || exit 1
DUMPCMP=$ROOT/build/tools/dumpcmp
T=$(mktemp -d /tmp/crashlab-dumpwriter.XXXXXX)
chmod 0711 "$T"
trap '[ "${KEEP:-0}" = 1 ] || rm -rf "$T"' EXIT

# The panic scenario on 2 vCPUs (the other vCPU is stopped mid-flight: its registers count
# too), with boot time for a loaded machine.
sed -e 's/^  memory_mb: 256$/  memory_mb: 256\n  vcpus: 2/' -e 's/timeouts: {boot: [0-9]*/timeouts: {boot: 300/' \
    scenarios/linux/panic.yaml >"$T/panic2.yaml"
one_codec() {
local codec=$1 status=$2
local t=$T/$codec
mkdir -p "$t"
run_once() {
    CRASHLAB_DUMP_ALSO=kdump-zlib "$CRASHLAB" run "$T/panic2.yaml" --dump-format "kdump-$codec" --accel tcg \
        --state "$T/state" --results "$t/results" --quiet >"$t/run.out" 2>&1
}
# A guest under TCG on a loaded machine can miss its boot deadline: one retry, as for every guest test.
run_once || { rm -rf "$t/results"; run_once; }
rc=$?
r=$(ls -d "$t"/results/*/ 2>/dev/null | head -1)
check "dump-writer $codec: the panic run ends as expected (exit $rc)" test "$rc" -eq 0 -a -n "$r"
[ -n "$r" ] || { cat "$t/run.out"; return; }
res=$r/result.json
check "dump-writer $codec: result.json matches its schema" schema_ok "$res"
check "dump-writer $codec: dump.format is kdump-$codec, written by crashlab with $codec pages" \
    test "$(json "$res" 'd["dump"]["format"] + "/" + d["dump"]["writer"]["name"] + "/" + d["dump"]["writer"]["codec"]')" = "kdump-$codec/crashlab/$codec"
check "dump-writer $codec: QEMU's kdump-zlib of the same paused guest was written" test -s "$r/dump-qemu.kdump"
check "dump-writer $codec: the crash was read from the lab's dump" \
    test "$(json "$res" 'd["crash"].get("kind")')" = panic

# The header, read independently of crashlab: "KDUMP   ", version 6, zstd, utsname = VMCOREINFO.
hdr=$(/usr/bin/python3 - "$r/dump.kdump" <<'PY'
import struct, sys
b = open(sys.argv[1], "rb").read(8192)
sig, ver = b[:8], struct.unpack_from("<I", b, 8)[0]
uts = [b[12 + 65 * i:12 + 65 * (i + 1)].split(b"\0")[0].decode() for i in range(6)]
status = struct.unpack_from("<I", b, 0x1a8)[0]
print(sig.decode(errors="replace"), ver, hex(status), uts[0], uts[2], uts[4])
PY
)
rel=$(json "$res" 'd["guest"].get("kernel_release") or ""')
[ -n "$rel" ] || rel=$(echo "$hdr" | awk '{print $5}')
check "dump-writer $codec: standard kdump header, $codec ($status), utsname Linux/$rel/x86_64 ($hdr)" \
    test "$hdr" = "KDUMP    6 $status Linux $rel x86_64"

"$DUMPCMP" "$r/dump-qemu.kdump" "$r/dump.kdump" >"$t/cmp.out" 2>&1
cmprc=$?
check "dump-writer $codec: 2 vCPUs, every page and every register agree with QEMU's dump ($(tail -3 "$t/cmp.out" | head -2 | tr '\n' ' '))" \
    sh -c "test $cmprc -eq 0 && grep -q 'registers: 2 vCPUs, 0 differences' '$t/cmp.out'"
[ "$cmprc" -eq 0 ] || cat "$t/cmp.out"

vmlinux=/usr/lib/debug/boot/vmlinux-$rel
if [ ! -r "$vmlinux" ]; then
    not_ok "dump-writer $codec: $vmlinux is missing (make setup installs the -dbg kernel)"
    return
fi
printf 'log\nbt\nquit\n' >"$t/crash.cmd"
for d in dump-qemu dump; do
    timeout 300 crash -s -i "$t/crash.cmd" "$vmlinux" "$r/$d.kdump" >"$t/$d.crash" 2>&1 </dev/null
done
check "dump-writer $codec: crash opens the lab's dump: the panic message in log, panic in bt" \
    grep -q "crashlab demo panic 0x2a" "$t/dump.crash"
check "dump-writer $codec: crash bt names the panicking task's panic frame" grep -qE '#[0-9]+ .*panic' "$t/dump.crash"
check "dump-writer $codec: crash prints the same log and bt for both dumps" cmp -s "$t/dump-qemu.crash" "$t/dump.crash"
cmp -s "$t/dump-qemu.crash" "$t/dump.crash" || diff "$t/dump-qemu.crash" "$t/dump.crash" | head -20

cat >"$t/drgn.py" <<'PY'
from drgn.helpers.linux.printk import get_printk_records
for rec in get_printk_records(prog):
    print(rec.text.decode(errors="replace"))
thread = prog.crashed_thread()
print("crashed thread", thread.tid)
print(thread.stack_trace())
PY
# libkdumpfile reads no flattened file: QEMU 7.2's kdump is one unless it was converted.
qemu_std=$r/dump-qemu.kdump
if [ "$(head -c 12 "$qemu_std")" = makedumpfile ]; then
    qemu_std=$t/dump-qemu-std.kdump
    makedumpfile -R "$qemu_std" <"$r/dump-qemu.kdump" >/dev/null 2>&1
fi
# QEMU 7.2 also leaves the header's utsname empty but for the machine, and libkdumpfile
# wants the rest: give QEMU's copy the utsname the lab wrote (0x0c, 6 x 65 bytes), as the lab's
# conversion of QEMU's dumps does. Nothing else of QEMU's file changes.
if [ -z "$(dd if="$qemu_std" bs=1 skip=$((0x0c + 65 * 2)) count=16 2>/dev/null | tr -d '\0')" ]; then
    [ "$qemu_std" != "$r/dump-qemu.kdump" ] || { cp "$qemu_std" "$t/dump-qemu-std.kdump"; qemu_std=$t/dump-qemu-std.kdump; }
    dd if="$r/dump.kdump" of="$qemu_std" bs=1 skip=12 seek=12 count=390 conv=notrunc 2>/dev/null
fi
timeout 300 drgn -q -c "$qemu_std" -s "$vmlinux" "$t/drgn.py" >"$t/dump-qemu.drgn" 2>&1 </dev/null
timeout 300 drgn -q -c "$r/dump.kdump" -s "$vmlinux" "$t/drgn.py" >"$t/dump.drgn" 2>&1 </dev/null
check "dump-writer $codec: drgn (libkdumpfile) opens the lab's dump: log and the crashed thread's stack" \
    grep -q "crashlab demo panic 0x2a" "$t/dump.drgn"
# (drgn's crashed thread is the one of the first PRSTATUS note; with 2 vCPUs that may be
# the vCPU the panic stopped, so only its having a stack is asked here.)
check "dump-writer $codec: drgn unwinds the crashed thread's stack" \
    sh -c "sed -n '/^crashed thread/,\$p' '$t/dump.drgn' | grep -qE '^#1 '"
check "dump-writer $codec: drgn prints the same log and stack for both dumps" cmp -s "$t/dump-qemu.drgn" "$t/dump.drgn"
cmp -s "$t/dump-qemu.drgn" "$t/dump.drgn" || diff "$t/dump-qemu.drgn" "$t/dump.drgn" | head -20
# makedumpfile 1.7.2 (Debian) is built with zlib and lzo, not zstd: the lab's lzo dump is
# one it reads as written.
if [ "$codec" = lzo ]; then
    timeout 300 makedumpfile --dump-dmesg "$r/dump.kdump" "$t/dmesg.txt" >"$t/dmesg.log" 2>&1
    check "dump-writer $codec: makedumpfile --dump-dmesg reads the lab's dump (exit $?)" \
        grep -q "Kernel panic - not syncing: crashlab demo panic 0x2a" "$t/dmesg.txt"
fi
}
for codec in ${DW_CODECS:-lzo zstd}; do
    case $codec in lzo) one_codec lzo 0x2 ;; zstd) one_codec zstd 0x20 ;; *) not_ok "dump-writer: unknown codec $codec" ;; esac
done
finish
