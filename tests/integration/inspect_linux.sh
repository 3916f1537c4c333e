#!/usr/bin/env bash
# `crashlab inspect` and `fingerprint` on real Linux dumps: boots the lab's guest (build/guest)
# under plain QEMU (TCG), fires a fault, and when the kernel panics writes the guest's memory
# with QMP dump-guest-memory (ELF and kdump-zlib, which QEMU 7.2 writes in makedumpfile's
# flattened format) via tests/data/dumps/mkguestdump.py. Checks the kernel release, the panic
# message and title recovered from the printk ring, and the SMBIOS strings set on QEMU's command
# line found again in the dump. Guest A has no vmcoreinfo device (VMCOREINFO is found in RAM),
# guest B has one. KEEP=1 keeps the dumps.
set -u
. "$(dirname "$0")/lib.sh"
cd "$ROOT"
BIN=$CRASHLAB
# inspect uses no libvirt, so its leaks are judged here (lib.sh turns LeakSanitizer off for
# whole runs because of libvirt's threads).
export ASAN_OPTIONS="${ASAN_OPTIONS%detect_leaks=0}detect_leaks=1"
GUEST=build/guest

for f in "$GUEST/vmlinuz" "$GUEST/initrd.img" "$GUEST/manifest.json"; do
    if [[ ! -r $f ]]; then
        not_ok "inspect_linux: $f missing (run make guest)"
        exit 1
    fi
done
release=$(jq -r .kernel_release "$GUEST/manifest.json")
tmp=$(mktemp -d "${TMPDIR:-/tmp}/crashlab-inspect-linux.XXXXXX")
[[ ${KEEP:-0} == 1 ]] && echo "# dumps kept in $tmp" || trap 'rm -rf "$tmp"' EXIT

serial="crashlab-run-$$-$RANDOM"
python3 tests/data/dumps/mkguestdump.py "$tmp/a" --fault bugcheck --mem 192 --no-vmcoreinfo \
    --smbios type=0,vendor=CrashlabBIOS,version=9.9 \
    --smbios "type=1,manufacturer=Crashlab,product=LabMachine,version=v1,serial=$serial,uuid=12345678-9abc-def0-1234-56789abcdef0" \
    --formats elf,kdump-zlib >"$tmp/a.out" 2>&1 &
pa=$!
python3 tests/data/dumps/mkguestdump.py "$tmp/b" --fault dpc-watchdog-single --mem 192 \
    --cmdline "softlockup_panic=1 watchdog_thresh=2" --formats kdump-zlib >"$tmp/b.out" 2>&1 &
pb=$!
wait $pa; ra=$?
wait $pb; rb=$?
check "guest A (panic) dumped" test "$ra" -eq 0
check "guest B (soft lockup) dumped" test "$rb" -eq 0
[[ $ra -eq 0 && $rb -eq 0 ]] || { tail -5 "$tmp"/*.out; exit 1; }

for fmt in elf kdump-zlib; do
    d=$tmp/a/dump.$fmt
    "$BIN" inspect "$d" --json >"$tmp/a.$fmt.json"; rc=$?
    check "A $fmt: inspect exits 0" test "$rc" -eq 0
    check "A $fmt: kernel release from VMCOREINFO" jq_eq "$tmp/a.$fmt.json" .os.release "$release"
    check "A $fmt: panic message from the printk ring" jq_eq "$tmp/a.$fmt.json" .linux.panic_message 'crashlab: fault injected'
    check "A $fmt: title and module" jq_eq "$tmp/a.$fmt.json" '.title + " / " + .faulting_module.name' \
        'Kernel panic - not syncing: crashlab: fault injected / labfault'
    check "A $fmt: VMCOREINFO found in guest RAM (no vmcoreinfo device)" jq_eq "$tmp/a.$fmt.json" .linux.vmcoreinfo memory
    check "A $fmt: the console's panic line is in the recovered log" \
        grep -q "$(jq -r .linux.report_line "$tmp/a.$fmt.json" | sed 's/[][]/./g')" "$tmp/a/console.log"
    "$BIN" fingerprint "$d" --json >"$tmp/fp.$fmt.json"; rc=$?
    check "A $fmt: fingerprint finds exactly the SMBIOS strings QEMU was given" jq_eq "$tmp/fp.$fmt.json" \
        "[$rc, .smbios.bios.vendor, .smbios.bios.version, .smbios.system.manufacturer, .smbios.system.product, .smbios.system.version, .smbios.system.serial, .smbios.system.uuid] | @csv" \
        "0,\"CrashlabBIOS\",\"9.9\",\"Crashlab\",\"LabMachine\",\"v1\",\"$serial\",\"12345678-9abc-def0-1234-56789abcdef0\""
done
check "A: the kdump is QEMU's flattened format" jq_eq "$tmp/a.kdump-zlib.json" .format kdump-flattened

"$BIN" inspect "$tmp/b/dump.kdump-zlib" --json >"$tmp/b.json"; rc=$?
check "B: soft lockup title names the module's timer function" jq_eq "$tmp/b.json" "\"$rc \" + .title" \
    '0 BUG: soft lockup in lf_timer_fn'
check "B: VMCOREINFO from the vmcoreinfo device's note" jq_eq "$tmp/b.json" .linux.vmcoreinfo note
check "B: panic message" jq_eq "$tmp/b.json" .linux.panic_message 'softlockup: hung tasks'

size=$(stat -c %s "$tmp/a/dump.kdump-zlib")
head -c $((size / 2)) "$tmp/a/dump.kdump-zlib" >"$tmp/cut.kdump"
"$BIN" inspect "$tmp/cut.kdump" --json >"$tmp/cut.json" 2>/dev/null; rc=$?
check "A kdump cut in half: exit 3, truncated, release still read" jq_eq "$tmp/cut.json" \
    "\"$rc \" + (.truncated | tostring) + \" \" + .os.release" "3 true $release"
size=$(stat -c %s "$tmp/a/dump.elf")
head -c $((size - 4096 * 100)) "$tmp/a/dump.elf" >"$tmp/cut.elf"
"$BIN" inspect "$tmp/cut.elf" --json >"$tmp/cute.json" 2>/dev/null; rc=$?
check "A elf cut short: exit 3, truncated" jq_eq "$tmp/cute.json" "\"$rc \" + (.truncated | tostring)" "3 true"
finish
