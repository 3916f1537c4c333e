#!/usr/bin/env bash
# Windows images offline (issue 13): image check, image prepare, rescue and the run's
# pre-check, on Windows-shaped disks this script makes itself: a GPT qcow2 with an EFI
# partition holding a BCD store and an NTFS partition holding the Windows directory
# layout, SYSTEM and SOFTWARE hives (an empty hive from tests/data/image/mkhive.py, filled
# by hivexregedit --merge: the hives are written by hivex's own tool, read by the lab's C
# code), the real triage_x64.dmp as C:\Windows\MEMORY.DMP and a truncated copy as a
# minidump, and a page file that starts with the dump. Every libguestfs appliance start
# is slow under TCG, so the disk is built once (one guestfish run) and each command below
# starts the appliance once.
set -u
. "$(dirname "$0")/lib.sh"
cd "$ROOT"
export LIBGUESTFS_BACKEND=${LIBGUESTFS_BACKEND:-direct}
MK=$ROOT/tests/data/image/mkhive.py
DUMP=$ROOT/../shared/testdata/windows-dumps/triage_x64.dmp
[ -f "$DUMP" ] || DUMP=/work/shared/testdata/windows-dumps/triage_x64.dmp
w=$(mktemp -d /tmp/cl-winimg.XXXXXX); chmod 755 "$w"
trap '[ "${KEEP:-0}" = 1 ] || rm -rf "$w"' EXIT

hive() { # hive OUT PREFIX < spec: an empty hive filled by hivexregedit
    cp "$w/empty.hive" "$1" && python3 "$MK" reg "$2" >"$1.reg" && hivexregedit --merge --prefix "$2" "$1" "$1.reg"
}
python3 "$MK" empty "$w/empty.hive"
# The bad image: every setting the lab needs is wrong or missing.
hive "$w/SYSTEM" 'HKEY_LOCAL_MACHINE\SYSTEM' <<'S'
Select	Current	dword	1
ControlSet001\Control\CrashControl	CrashDumpEnabled	dword	0
ControlSet001\Control\CrashControl	AutoReboot	dword	0
ControlSet001\Control\CrashControl	Overwrite	dword	0
ControlSet001\Control\CrashControl	NMICrashDump	dword	0
ControlSet001\Control\CrashControl	DumpFile	expand	D:\MEMORY.DMP
ControlSet001\Control\Session Manager\Memory Management	PagingFiles	multi	C:\pagefile.sys 64 64
ControlSet001\Services\QEMU-GA	Start	dword	3
ControlSet001\Services\pvpanic	Start	dword	4
S
hive "$w/SOFTWARE" 'HKEY_LOCAL_MACHINE\SOFTWARE' <<'S'
Microsoft\Windows NT\CurrentVersion	ProductName	sz	Windows 10 Pro
Microsoft\Windows NT\CurrentVersion	DisplayVersion	sz	22H2
Microsoft\Windows NT\CurrentVersion	CurrentBuildNumber	sz	19045
Microsoft\SystemCertificates\ROOT\Certificates	x	key
S
hive "$w/BCD" 'HKEY_LOCAL_MACHINE\BCD00000000' <<'S'
Objects\{9dea862c-5cdd-4e70-acc1-f32b344d4795}\Elements\23000003	Element	sz	{6b2e4c3a-1111-4a2b-9c3d-0123456789ab}
Objects\{6b2e4c3a-1111-4a2b-9c3d-0123456789ab}\Elements\12000004	Element	sz	Windows 10
Objects\{6b2e4c3a-1111-4a2b-9c3d-0123456789ab}\Elements\16000049	Element	binary	00
S
check "hivexregedit made the three hives" test -s "$w/SYSTEM" -a -s "$w/SOFTWARE" -a -s "$w/BCD"
head -c 600000 "$DUMP" >"$w/trunc.dmp"
# A page file that still holds the dump (the guest never booted again to move it out).
{ cat "$DUMP"; head -c $((2097152 - $(stat -c %s "$DUMP"))) /dev/zero; } >"$w/pagefile.sys"
# The lab's certificate (a test one) and a stand-in labagent.exe when the Windows build is absent.
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=crashlab image test" -keyout "$w/k.pem" \
    -outform der -out "$w/lab.cer" 2>/dev/null
agent=$ROOT/build/windows/labagent.exe
[ -s "$agent" ] || { printf 'MZ stand-in' >"$w/labagent.exe"; agent=$w/labagent.exe; }
# A virtio-win ISO with its layout (DRIVER\OS\ARCH, guest-agent\*.msi).
for d in vioserial/w10/amd64 pvpanic/w10/amd64 fwcfg/w10/amd64 guest-agent; do mkdir -p "$w/iso/$d"; done
for d in vioserial pvpanic fwcfg; do printf '[Version]\r\n' >"$w/iso/$d/w10/amd64/$d.inf"; done
printf 'msi stand-in' >"$w/iso/guest-agent/qemu-ga-x86_64.msi"
xorriso -as mkisofs -quiet -R -J -V virtio-win -o "$w/virtio-win.iso" "$w/iso" 2>/dev/null
check "xorriso made the virtio-win ISO" test -s "$w/virtio-win.iso"

qemu-img create -q -f qcow2 "$w/bad.qcow2" 2G
t0=$(date +%s.%N)
guestfish -a "$w/bad.qcow2" >"$w/guestfish.log" 2>&1 <<G
run
part-init /dev/sda gpt
part-add /dev/sda p 2048 133119
part-add /dev/sda p 133120 -2048
mkfs vfat /dev/sda1
mkfs ntfs /dev/sda2
mkmountpoint /c
mkmountpoint /e
mount /dev/sda2 /c
mount /dev/sda1 /e
mkdir-p /c/Windows/System32/config
mkdir-p /c/Windows/Minidump
upload $w/SYSTEM /c/Windows/System32/config/SYSTEM
upload $w/SOFTWARE /c/Windows/System32/config/SOFTWARE
upload $DUMP /c/Windows/MEMORY.DMP
upload $w/trunc.dmp /c/Windows/Minidump/120226-01.dmp
upload $w/pagefile.sys /c/pagefile.sys
mkdir-p /e/EFI/Microsoft/Boot
upload $w/BCD /e/EFI/Microsoft/Boot/BCD
G
rc=$?
check "guestfish built the Windows-shaped disk ($(echo "$(date +%s.%N) - $t0" | bc) s)" test $rc -eq 0
base_sum=$(sha256sum <"$w/bad.qcow2")

# 1. image check: each bad setting is named, with what it breaks and its fix.
t0=$(date +%s.%N)
"$CRASHLAB" image check "$w/bad.qcow2" --memory-mb 8192 --cert "$w/lab.cer" --json >"$w/bad.json" 2>"$w/bad.err"
rc=$?
t_check=$(echo "$(date +%s.%N) - $t0" | bc)
check "image check on the bad image exits 1 (${t_check} s, appliance $(json "$w/bad.json" 'd["launch_seconds"]') s)" test $rc -eq 1
check "image check reads the build from SOFTWARE" test "$(json "$w/bad.json" 'd["windows"]["build"]')" = 19045
for id in crashcontrol.enabled crashcontrol.dumpfile crashcontrol.autoreboot crashcontrol.overwrite \
          crashcontrol.alwayskeep crashcontrol.nmi pagefile.size disk.free bcd.testsigning service.qemu-ga \
          driver.vioserial driver.pvpanic driver.fwcfg labagent labagent.certificate verifier.special-pool; do
    st=$(json "$w/bad.json" "[f['status']+'|'+(f['fix'] or '') for f in d['findings'] if f['id']=='$id'][0]")
    check "image check: $id fails with a fix (${st%%|*}: ${st#*|})" test "${st%%|*}" = FAIL -a -n "${st#*|}"
done
check "image check: the page file finding names its size" grep -q "64-64 MiB" <<<"$(json "$w/bad.json" "[f['what'] for f in d['findings'] if f['id']=='pagefile.size'][0]")"
"$CRASHLAB" image check "$w/bad.qcow2" --memory-mb 999999999 >/dev/null 2>&1
check "image check: a bad --memory-mb is refused (exit 2)" test $? -eq 2

# 2. rescue: the dump is found, copied and read; the truncated one is kept and flagged.
t0=$(date +%s.%N)
"$CRASHLAB" rescue "$w/bad.qcow2" --out "$w/rescue" --json >"$w/rescue.json" 2>"$w/rescue.err"
rc=$?
check "rescue exits 0: a whole dump was found ($(echo "$(date +%s.%N) - $t0" | bc) s, appliance $(json "$w/rescue.json" 'd["launch_seconds"]') s)" test $rc -eq 0
r0='d["dumps"][d["chosen"]]'
check "rescue: MEMORY.DMP found and chosen" test "$(json "$w/rescue.json" "$r0['guest_path']")" = 'C:\Windows\MEMORY.DMP'
check "rescue: chosen dump is rescued-0.dmp" test "$(json "$w/rescue.json" "$r0['path']")" = rescued-0.dmp
check "rescue: byte-identical to the dump placed on the disk" cmp -s "$DUMP" "$w/rescue/rescued-0.dmp"
check "rescue: bug check 0x1000007e" test "$(json "$w/rescue.json" "$r0['inspect']['bugcheck']['code']")" = 0x1000007e
check "rescue: in amdppm.sys" test "$(json "$w/rescue.json" "$r0['inspect']['faulting_module']['name']")" = amdppm.sys
tr='[x for x in d["dumps"] if x["guest_path"].endswith("120226-01.dmp")][0]'
check "rescue: the truncated minidump is kept" test "$(json "$w/rescue.json" "$tr['bytes']")" = 600000
check "rescue: ... and flagged truncated, never chosen" test "$(json "$w/rescue.json" "$tr['truncated']")" = True
check "rescue: crashlab inspect agrees it is cut short (exit 3)" bash -c "'$CRASHLAB' inspect '$w/rescue/$(json "$w/rescue.json" "$tr['path']")' >/dev/null 2>&1; test \$? -eq 3"
pf='[x for x in d["dumps"] if x["guest_path"]=="C:\\pagefile.sys"][0]'
check "rescue: the dump still in pagefile.sys is found by its header" test "$(json "$w/rescue.json" "$pf.get('from_pagefile')")" = True
check "rescue: ... copied for its RequiredDumpSpace (1669397 bytes)" test "$(json "$w/rescue.json" "$pf['bytes']")" = 1669397
check "rescue: ... and read: bug check 0x1000007e" test "$(json "$w/rescue.json" "$pf['inspect']['bugcheck']['code']")" = 0x1000007e
check "rescue: nothing partial left" test -z "$(ls -A "$w/rescue" | grep -v '^rescued-[0-9]*\.dmp$')"

# 3. the run refuses the bad image before starting anything.
sed -e "s|build/windows/labfault.sys|$ROOT/build/windows/labfault.sys|" scenarios/windows/bugcheck.yaml >"$w/bugcheck.yaml"
t0=$(date +%s.%N)
"$CRASHLAB" run "$w/bugcheck.yaml" --image "$w/bad.qcow2" --results "$w/res" --state "$w/st" >"$w/run.out" 2>"$w/run.err"
rc=$?
check "run on the bad image: exit 2 ($(echo "$(date +%s.%N) - $t0" | bc) s)" test $rc -eq 2
check "run: the refusal names the finding ($(grep -o 'image check: .*: [a-z.-]*:' "$w/run.err" | head -1))" grep -q "cannot run this scenario: [a-z.-]*: .*fix:" "$w/run.err"
check "run: nothing written (no results directory entries)" test -z "$(ls -A "$w/res" 2>/dev/null)"
check "run: nothing started (no embedded libvirt root)" test ! -e "$w/st/embed"

# 4. image prepare: a lab-ready copy; the base stays byte-identical.
t0=$(date +%s.%N)
"$CRASHLAB" image prepare "$w/bad.qcow2" --out "$w/lab.qcow2" --virtio-win "$w/virtio-win.iso" --labagent "$agent" \
    --cert "$w/lab.cer" --json >"$w/prep.json" 2>"$w/prep.err"
rc=$?
check "image prepare exits 0: the result passes everything settled offline ($(echo "$(date +%s.%N) - $t0" | bc) s, appliance $(json "$w/prep.json" 'd["launch_seconds"]') s)" test $rc -eq 0
check "image prepare: the base is byte-identical" test "$base_sum" = "$(sha256sum <"$w/bad.qcow2")"
check "image prepare: no partial file left" test ! -e "$w/lab.qcow2.partial"
check "image prepare: a standalone qcow2 (no backing file)" bash -c "! qemu-img info '$w/lab.qcow2' | grep -q backing"
"$CRASHLAB" image check "$w/lab.qcow2" --cert "$w/lab.cer" --json >"$w/lab.json" 2>"$w/lab.err"
check "image check on the prepared image: exit 0" test $? -eq 0
for id in crashcontrol.enabled crashcontrol.dumpfile crashcontrol.autoreboot crashcontrol.overwrite crashcontrol.alwayskeep \
          crashcontrol.nmi pagefile.size disk.free bcd.testsigning service.qemu-ga driver.pvpanic labagent verifier.special-pool; do
    check "prepared: $id ok" test "$(json "$w/lab.json" "[f['status'] for f in d['findings'] if f['id']=='$id'][0]")" = ok
done
for id in driver.vioserial driver.fwcfg labagent.certificate firstboot; do
    check "prepared: $id left to the first boot" test "$(json "$w/lab.json" "[f['status'] for f in d['findings'] if f['id']=='$id'][0]")" = first-boot
done
# The prepared disk, read with libguestfs's own tools rather than the lab's code.
guestfish --ro -a "$w/lab.qcow2" >"$w/lab.ls" 2>&1 <<G
run
mkmountpoint /c
mkmountpoint /e
mount-ro /dev/sda2 /c
mount-ro /dev/sda1 /e
download /c/Windows/System32/config/SYSTEM $w/SYSTEM.after
download /e/EFI/Microsoft/Boot/BCD $w/BCD.after
cat /c/crashlab/firstboot.cmd
ls /c/crashlab/virtio
ls /c/crashlab/virtio/vioserial
G
check "hivexget: CrashDumpEnabled is 2 in the prepared SYSTEM" test "$(hivexget "$w/SYSTEM.after" '\ControlSet001\Control\CrashControl' CrashDumpEnabled)" = 2
check "hivexget: the first-boot service is registered" grep -q 'firstboot.cmd' <<<"$(hivexget "$w/SYSTEM.after" '\ControlSet001\Services\crashlab-firstboot' ImagePath)"
check "hivexget: BCD testsigning element is 01" test "$(hivexregedit --export --prefix 'HKEY_LOCAL_MACHINE\BCD00000000' "$w/BCD.after" '\Objects\{6b2e4c3a-1111-4a2b-9c3d-0123456789ab}\Elements\16000049' | grep -o 'hex(3):01')" = 'hex(3):01'
check "firstboot.cmd installs vioserial, fwcfg and the certificate" grep -q 'crashlab-step: fwcfg' "$w/lab.ls"
check "the virtio-win drivers were copied from the ISO" grep -q 'vioserial.inf' "$w/lab.ls"
finish
