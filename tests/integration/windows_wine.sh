#!/usr/bin/env bash
# The Windows fault driver and agent under Wine 8: PE properties and signature, loading as
# a kernel service, the IOCTL contract (lengths, bad parameters), ground truth for every
# fault, the faults Wine can run (pool leak, hang IRP with and without a cancel routine,
# explicit bug check), the wait chain, configure-dump and collect.
# Wine gives each test a private prefix and a persistent wineserver, killed on exit.
set -u
. "$(dirname "$0")/lib.sh"
cd "$ROOT"
OUT=build/windows
SYS=$OUT/labfault.sys
AGENT=$OUT/labagent.exe
export WINEDEBUG=-all,err+ntoskrnl
export WINEDLLOVERRIDES="mscoree,mshtml="
export PATH=/usr/lib/wine:$PATH
pids=()

# A failed check shows what the agent last printed (lib.sh's not_ok calls this hook).
on_not_ok() { [ -n "${T:-}" ] && [ -f "$T/last" ] && sed 's/^/#   last agent output: /' "$T/last" | head -5; }

cleanup() {
    for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null; done
    wineserver -k 2>/dev/null
    wait 2>/dev/null
}
trap cleanup EXIT
# A signal still runs the EXIT trap (and so kills the wineserver).
trap 'exit 143' TERM INT HUP

# jq-free JSON access: jsonl FILE EXPR (python expression over d).
# Like lib.sh's json, but booleans print as true/false.
jsonl() { python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); v=eval(sys.argv[2]); print(v if not isinstance(v,bool) else str(v).lower())' "$1" "$2" 2>/dev/null; }
agent() {
    local out=$1 rc; shift
    timeout 60 wine64 "$AGENT" "$@" >"$out" 2>>"$LOG"
    rc=$?
    { echo "labagent $*"; cat "$out"; } >"$T/last"
    return $rc
}

for tool in wine64 wineserver x86_64-w64-mingw32-objdump osslsigncode python3 openssl; do
    command -v "$tool" >/dev/null || { not_ok "tool $tool present"; exit 1; }
done
[ -f "$SYS" ] && [ -f "$AGENT" ] || { not_ok "build outputs exist # run make first"; exit 1; }
# Everything of this run lives in $T, so two runs at once cannot meet.
T=$ROOT/$(mktemp -d build/wine-test.tmp.XXXXXX)
export WINEPREFIX=$T/prefix
LOG=$T/system.log
trap 'cleanup; mkdir -p build/test-logs; cp "$LOG" build/test-logs/windows_wine.system.log 2>/dev/null; rm -rf "$T"' EXIT

# --- PE properties -------------------------------------------------------------------
x86_64-w64-mingw32-objdump -p "$SYS" >"$T/sys.pe"
check "labfault.sys subsystem is native (1)" grep -Eq '^Subsystem[[:space:]]+00000001' "$T/sys.pe"
grep 'DLL Name:' "$T/sys.pe" | awk '{print $3}' | sort -u >"$T/dlls"
check "labfault.sys imports only ntoskrnl.exe and HAL.dll" \
    test "$(tr '\n' ' ' <"$T/dlls")" = "HAL.dll ntoskrnl.exe "
nexp=$(awk '/\[Ordinal\/Name Pointer\] Table/ {f=1; next} /Function Table|Import Tables/ {f=0} f && /\[ *[0-9]+\]/' "$T/sys.pe" | wc -l)
check "labfault.sys is relocatable and exports no names ($nexp)" \
    bash -c "grep -q 'Base Relocation Directory' '$T/sys.pe' && test $nexp = 0"
osslsigncode verify -CAfile "$OUT/labfault-test.crt" -in "$SYS" >"$T/verify" 2>&1
check "labfault.sys signature verifies against the test certificate" \
    grep -q 'Signature verification: ok' "$T/verify"
check "labfault.sys signer is the crashlab test certificate" \
    grep -q 'Subject: /CN=crashlab test signing' "$T/verify"
osslsigncode verify -in "$OUT/labfault-unsigned.sys" >"$T/verify-unsigned" 2>&1
check "the unsigned image does not verify (the check can fail)" \
    bash -c "! grep -q 'Signature verification: ok' '$T/verify-unsigned'"
x86_64-w64-mingw32-objdump -p "$AGENT" >"$T/agent.pe"
check "labagent.exe is a console program (subsystem 3)" grep -Eq '^Subsystem[[:space:]]+00000003' "$T/agent.pe"

# --- symbols: a PDB beside the .sys, the signed image's CodeView record pointing at it --
llvm-readobj --coff-debug-directory "$SYS" >"$T/dbg" 2>&1
check "labfault.sys (signed) has a CodeView record naming labfault.pdb, not a build path" \
    grep -Eq 'PDBFileName: labfault.pdb$' "$T/dbg"
llvm-pdbutil dump --summary "$OUT/labfault.pdb" >"$T/pdb" 2>&1
# The record's GUID bytes are the PDB's GUID in Windows byte order; the ages must agree too.
check "the record's GUID and age are the PDB's (llvm-pdbutil)" python3 - "$T/dbg" "$T/pdb" <<'PY'
import re, sys, uuid
dbg, pdb = open(sys.argv[1]).read(), open(sys.argv[2]).read()
raw = bytes(int(x, 16) for x in re.search(r"PDBGUID: \(([0-9A-F ]+)\)", dbg).group(1).split())
age = int(re.search(r"PDBAge: (\d+)", dbg).group(1))
g = uuid.UUID(re.search(r"GUID: \{([0-9A-F-]+)\}", pdb).group(1))
sys.exit(0 if raw == g.bytes_le and age == int(re.search(r"Age: (\d+)", pdb).group(1)) else 1)
PY
# The kernel image's identity as a dump reader finds it (lab/dump/windows/kimage.c): a
# synthetic x64 full dump whose memory holds page tables (CR3 = DirectoryTableBase), a
# PsLoadedModuleList whose first entry is "ntoskrnl.exe", and labfault.sys loaded there as
# the loader lays out an image (sections at their RVAs). crashlab must read the PDB name,
# GUID and age llvm-readobj reads from the file, and the image key from its PE header.
python3 - "$SYS" "$T/kimage.dmp" <<'PY' 2>>"$LOG"
import struct, sys
pe = open(sys.argv[1], "rb").read()
lfanew = struct.unpack_from("<I", pe, 0x3c)[0]
nsec, optsize = struct.unpack_from("<H", pe, lfanew + 6)[0], struct.unpack_from("<H", pe, lfanew + 20)[0]
opt = lfanew + 24
size_of_image, size_of_headers = struct.unpack_from("<II", pe, opt + 56)
img = bytearray((size_of_image + 4095) // 4096 * 4096)
img[:size_of_headers] = pe[:size_of_headers]
for i in range(nsec):
    vsize, rva, rawsize, rawptr = struct.unpack_from("<IIII", pe, opt + optsize + 40 * i + 8)
    n = min(vsize or rawsize, rawsize)
    img[rva:rva + n] = pe[rawptr:rawptr + n]
KB = 0xfffff80412000000          # 2 MiB aligned: one page table maps the image and the loader page
LDR = KB + 0x100000
npages = len(img) // 4096
PML4, PDPT, PD, PT, LDRP, IMG = 0x10, 0x11, 0x12, 0x13, 0x14, 0x100
pages = {p: bytearray(4096) for p in (PML4, PDPT, PD, PT, LDRP)}
ent = lambda pfn: pfn << 12 | 0x3
struct.pack_into("<Q", pages[PML4], 8 * ((KB >> 39) & 511), ent(PDPT))
struct.pack_into("<Q", pages[PDPT], 8 * ((KB >> 30) & 511), ent(PD))
struct.pack_into("<Q", pages[PD], 8 * ((KB >> 21) & 511), ent(PT))
for i in range(npages):
    struct.pack_into("<Q", pages[PT], 8 * (((KB >> 12) & 511) + i), ent(IMG + i))
struct.pack_into("<Q", pages[PT], 8 * ((LDR >> 12) & 511), ent(LDRP))
ldr = pages[LDRP]
struct.pack_into("<QQ", ldr, 0, LDR + 0x100, LDR + 0x100)            # PsLoadedModuleList
name = "ntoskrnl.exe".encode("utf-16-le")
struct.pack_into("<QQ", ldr, 0x100, LDR, LDR)                         # InLoadOrderLinks
struct.pack_into("<Q", ldr, 0x100 + 0x30, KB)                         # DllBase
struct.pack_into("<I", ldr, 0x100 + 0x40, size_of_image)              # SizeOfImage
struct.pack_into("<HHIQ", ldr, 0x100 + 0x58, len(name), len(name), 0, LDR + 0x400)  # BaseDllName
ldr[0x400:0x400 + len(name)] = name
hdr = bytearray(b"PAGE" * (0x2000 // 4))
hdr[4:8] = b"DU64"
struct.pack_into("<II", hdr, 0x08, 15, 19041)
struct.pack_into("<QQQ", hdr, 0x10, PML4 << 12, 0, LDR)              # DTB, PFN db, PsLoadedModuleList
struct.pack_into("<I", hdr, 0x30, 0x8664)
struct.pack_into("<II", hdr, 0x34, 1, 0xE2)
struct.pack_into("<IIQ", hdr, 0x88, 2, 0, 5 + npages)                # two runs
struct.pack_into("<QQQQ", hdr, 0x98, PML4, 5, IMG, npages)
struct.pack_into("<I", hdr, 0xf98, 1)                                 # full dump
body = b"".join(bytes(pages[p]) for p in (PML4, PDPT, PD, PT, LDRP)) + bytes(img)
struct.pack_into("<Q", hdr, 0xfa0, 0x2000 + len(body))
open(sys.argv[2], "wb").write(bytes(hdr) + body)
PY
build/crashlab inspect --json "$T/kimage.dmp" >"$T/kimage.json" 2>>"$LOG"
check "a full dump's kernel image: PDB name, GUID and age as llvm-readobj reads them from the file" \
    python3 - "$T/dbg" "$T/kimage.json" <<'PY'
import json, re, sys, uuid
dbg = open(sys.argv[1]).read()
raw = bytes(int(x, 16) for x in re.search(r"PDBGUID: \(([0-9A-F ]+)\)", dbg).group(1).split())
age = int(re.search(r"PDBAge: (\d+)", dbg).group(1))
name = re.search(r"PDBFileName: (\S+)", dbg).group(1)
pdb = json.load(open(sys.argv[2]))["windows"]["kernel_image"]["pdb"]
guid = str(uuid.UUID(bytes_le=raw)).upper()
ok = pdb["name"] == name and pdb["guid"] == guid and pdb["age"] == age and \
    pdb["symbol_key"] == "%s/%s%X/%s" % (name, guid.replace("-", ""), age, name)
print("# lab:", pdb, "readobj:", name, guid, age)
sys.exit(0 if ok else 1)
PY
llvm-readobj --file-headers "$SYS" >"$T/fh" 2>&1
stamp=$(sed -n 's/^ *TimeDateStamp: .*(0x\([0-9A-Fa-f]*\))$/\1/p' "$T/fh" | head -1)
soi=$(sed -n 's/^ *SizeOfImage: \([0-9]*\)$/\1/p' "$T/fh" | head -1)
check "... and the image key ntoskrnl.exe/TIMESTAMP SIZEOFIMAGE from its PE header (llvm-readobj: 0x$stamp $soi)" \
    test -n "$stamp" -a -n "$soi" -a "$(jsonl "$T/kimage.json" 'd["windows"]["kernel_image"]["image_key"]')" = \
         "ntoskrnl.exe/$(printf '%08X%x' "0x$stamp" "$soi")/ntoskrnl.exe"
llvm-pdbutil dump --publics "$OUT/labfault.pdb" >"$T/publics" 2>&1
check "the PDB names the driver's functions (DriverEntry, lf_fire, lf_hang_fire)" \
    bash -c "grep -q 'DriverEntry' '$T/publics' && grep -q 'lf_fire' '$T/publics' && grep -q 'lf_hang_fire' '$T/publics'"

# --- a private Wine ----------------------------------------------------------------
mkdir -p "$WINEPREFIX"
: >"$LOG"
# Create the prefix and let its first-run setup finish completely (wineserver -w): until
# then the service database is locked and StartService times out.
start=$SECONDS
timeout 180 wine64 wineboot -i >>"$LOG" 2>&1
# No crash debugger popping up inside a test.
wine64 reg add 'HKLM\Software\Microsoft\Windows NT\CurrentVersion\AeDebug' /v Debugger /d false /f >>"$LOG" 2>&1
timeout 180 wineserver -w
check "wine prefix created ($((SECONDS - start)) s)" test -d "$WINEPREFIX/drive_c/windows/system32"
# Now the persistent server (60 s after the last client, so that even a SIGKILLed test
# leaves nothing behind for long), and the system processes (services.exe, later each
# winedevice.exe) started by a command whose stderr is the log: they inherit it, and the
# log is where Wine's ntoskrnl reports KeBugCheckEx.
wineserver -p60
timeout 60 wine64 wineboot >>"$LOG" 2>&1
DRV="$WINEPREFIX/drive_c/windows/system32/drivers/labfault.sys"
cp "$SYS" "$DRV"

# --- usage errors -------------------------------------------------------------------
agent "$T/u" ; rc=$?
check "no command: exit 2 and ok:false" test "$rc" = 2 -a "$(jsonl "$T/u" 'd["ok"]')" = false
agent "$T/u" arm no-such-fault; rc=$?
check "unknown fault: exit 2" test "$rc" = 2
agent "$T/u" arm double-free size=1; rc=$?
check "out-of-range parameter: exit 2 with the catalogue's reason" \
    bash -c "test $rc = 2 && grep -q 'out of range' '$T/u'"
agent "$T/u" arm double-free nope=1; rc=$?
check "unknown parameter: exit 2" test "$rc" = 2
agent "$T/u" status; rc=$?
check "status without the driver: exit 1, one JSON error" \
    test "$rc" = 1 -a "$(jsonl "$T/u" 'd["ok"]')" = false

# --- the driver as a kernel service, by the standard tools --------------------------
wine64 sc create labfault type= kernel binPath= 'C:\windows\system32\drivers\labfault.sys' >>"$LOG" 2>&1
wine64 net start labfault >>"$LOG" 2>&1
wine64 sc query labfault >"$T/sc" 2>>"$LOG"
check "sc create + net start: service RUNNING" grep -q 'RUNNING' "$T/sc"
agent "$T/s" status
check "labagent opens \\\\.\\LabFault: status idle" test "$(jsonl "$T/s" 'd["state"]')" = idle
wine64 net stop labfault >>"$LOG" 2>&1
sleep 0.5
agent "$T/s" status; rc=$?
check "net stop runs DriverUnload: the device is gone" test "$rc" = 1
wine64 sc delete labfault >>"$LOG" 2>&1

# --- install-cert / install-driver through the agent -----------------------------------
agent "$T/c" install-cert
thumb=$(jsonl "$T/c" 'd["thumbprint"]')
want=$(openssl x509 -in "$OUT/labfault-test.crt" -noout -fingerprint -sha1 | sed 's/.*=//; s/://g')
check "install-cert reports the certificate's SHA-1 thumbprint" test -n "$thumb" -a "$thumb" = "$want"
wine64 reg query "HKLM\\Software\\Microsoft\\SystemCertificates\\ROOT\\Certificates\\$thumb" >"$T/reg" 2>&1
check "install-cert: the certificate is in LocalMachine\\Root" grep -qi 'Blob' "$T/reg"
wine64 reg query "HKLM\\Software\\Microsoft\\SystemCertificates\\TrustedPublisher\\Certificates\\$thumb" >"$T/reg" 2>&1
check "install-cert: and in TrustedPublisher" grep -qi 'Blob' "$T/reg"

agent "$T/c" install-cert "Z:${ROOT//\//\\}\\$OUT\\labfault-test.crt"; rc=$?
check "install-cert FILE (PEM) gives the same thumbprint" \
    test "$rc $(jsonl "$T/c" 'd["thumbprint"]')" = "0 $want"
agent "$T/c" install-cert /nonexistent.cer; rc=$?
check "install-cert with a missing file: exit 1" test "$rc" = 1

agent "$T/i" install-driver 'C:\windows\system32\drivers\labfault.sys'; rc=$?
check "install-driver creates and starts the kernel service" \
    test "$rc" = 0 -a "$(jsonl "$T/i" 'd["state"]')" = running
agent "$T/i" install-driver 'C:\windows\system32\drivers\labfault.sys'; rc=$?
check "install-driver again is idempotent (service exists, running)" \
    test "$rc" = 0 -a "$(jsonl "$T/i" 'd["created"]')" = false

# --- labagent check: what the image has, which rungs are unavailable ----------------------
agent "$T/k" check; rc=$?
check "check: win-dmp unavailable without the fwcfg device and driver, and says why" \
    test "$rc $(jsonl "$T/k" 'd["rungs"]["win-dmp"]["available"]') $(jsonl "$T/k" '"fw_cfg" in d["rungs"]["win-dmp"]["why"]')" = "0 false true"
check "check: no special pool, NMICrashDump not set: the nmi rung is unavailable" \
    test "$(jsonl "$T/k" 'd["verifier"]["special_pool"]') $(jsonl "$T/k" 'd["rungs"]["nmi"]["available"]')" = "false false"
# The device's DACL (SYSTEM and Administrators only): DriverEntry fails unless
# ZwSetSecurityObject took it, so the driver running is the check here. Wine answers a
# security query on a handle to the device with the file's empty descriptor, not the
# device's, so what `check` reads back is only printed; on Windows it is
# D:P(A;;FA;;;SY)(A;;FA;;;BA).
echo "# device_sddl as Wine reports it: '$(jsonl "$T/k" 'd.get("device_sddl")')'"
wine64 reg add 'HKLM\SYSTEM\CurrentControlSet\Enum\ACPI\QEMU0002\1' /v Service /d FwCfg /f >>"$LOG" 2>&1
agent "$T/k" check
check "check: the fw_cfg device alone is not enough (no FwCfg service)" \
    test "$(jsonl "$T/k" 'd["rungs"]["win-dmp"]["available"]') $(jsonl "$T/k" 'd["devices"]["fwcfg"]["device"]')" = "false true"
wine64 reg add 'HKLM\SYSTEM\CurrentControlSet\Services\FwCfg' /v Start /t REG_DWORD /d 3 /f >>"$LOG" 2>&1
agent "$T/d" configure-dump kernel nmi=1 autoreboot=0 special_pool_tag=LabF
agent "$T/k" check
check "check: device + driver bound: win-dmp available; NMICrashDump=1: nmi available" \
    test "$(jsonl "$T/k" 'd["rungs"]["win-dmp"]["available"]') $(jsonl "$T/k" 'd["rungs"]["nmi"]["available"]')" = "true true"
check "check: AutoReboot=0 makes the guest-dump rung unavailable, saying why" \
    test "$(jsonl "$T/k" 'd["rungs"]["guest-dump"]["available"]') $(jsonl "$T/k" '"AutoReboot=0" in d["rungs"]["guest-dump"]["why"]')" = "false true"
check "check: special pool on tag LabF is seen (needs_met)" \
    test "$(jsonl "$T/k" 'd["needs_met"]')" = "['special-pool', 'nmi-dump']"
agent "$T/d" configure-dump kernel autoreboot=1
agent "$T/k" check
check "check: AutoReboot=1 makes it available" test "$(jsonl "$T/k" 'd["rungs"]["guest-dump"]["available"]')" = true

# --- IOCTL contract -------------------------------------------------------------------
agent "$T/p" probe-ioctl
sent=$(jsonl "$T/p" 'd["probes_sent"]')
check "every IOCTL refuses short and oversized buffers (STATUS_INFO_LENGTH_MISMATCH, $sent probes)" \
    test -n "$sent" -a "$sent" -gt 40 -a "$sent" = "$(jsonl "$T/p" 'd["refused_length"]')"
check "well-sized ARM requests with bad parameters are refused (STATUS_INVALID_PARAMETER)" \
    test "$(jsonl "$T/p" 'all(b["status"]=="0xc000000d" for b in d["bad_params"]) and len(d["bad_params"])==8')" = true
agent "$T/s" status
check "refused requests left nothing armed" test "$(jsonl "$T/s" 'd["state"]')" = idle
# Every IOCTL needs FILE_WRITE_ACCESS: the I/O manager (Windows', and Wine's) refuses one
# on a read-only handle with STATUS_ACCESS_DENIED before the driver runs.
check "an IOCTL on a handle opened without write access is refused (0xc0000022)" \
    test "$(jsonl "$T/p" 'd.get("readonly_status")')" = 0xc0000022

# --- the ground-truth block, as a dump reader finds it ---------------------------------
# Under Wine the driver's pool is winedevice.exe's heap: the block the agent names is read
# from that process's memory, put in a synthetic full dump, and `crashlab inspect` must
# find it there and agree with STATUS.
agent "$T/a" arm hang-irp-cancel timeout_ms=5
agent "$T/f" fire
agent "$T/s" status
wdpid=""
for p in $(pgrep -f winedevice.exe); do
    tr '\0' '\n' </proc/$p/environ 2>/dev/null | grep -qx "WINEPREFIX=$WINEPREFIX" && wdpid=$p
done
addr=$(jsonl "$T/s" 'd["ground_truth"]["gt_block"]')
python3 - "$wdpid" "$addr" "$T/gt.dmp" <<'PY' 2>>"$LOG"
import struct, sys
pid, addr, out = int(sys.argv[1]), int(sys.argv[2], 16), sys.argv[3]
with open("/proc/%d/mem" % pid, "rb") as m:
    m.seek(addr)
    block = m.read(568)
hdr = bytearray(b"PAGE" * (0x2000 // 4))
hdr[4:8] = b"DU64"
struct.pack_into("<II", hdr, 0x08, 15, 19041)
struct.pack_into("<I", hdr, 0x30, 0x8664)
struct.pack_into("<II", hdr, 0x34, 1, 0x80)
struct.pack_into("<I", hdr, 0x88, 1)                   # one run of one page: pfn 0x10
struct.pack_into("<QQQ", hdr, 0x90, 1, 0x10, 1)
struct.pack_into("<I", hdr, 0xf98, 1)                  # full dump
page = bytearray(4096)
page[0x200:0x200 + len(block)] = block
struct.pack_into("<Q", hdr, 0xfa0, 0x2000 + 4096)
open(out, "wb").write(bytes(hdr) + bytes(page))
PY
build/crashlab inspect --json "$T/gt.dmp" >"$T/gti.json" 2>>"$LOG"
check "the dump reader finds the driver's ground-truth block (read from winedevice.exe, pid ${wdpid:-none})" \
    test "$(jsonl "$T/gti.json" 'd["windows"]["labfault_ground_truth"]["address"]')" = "$addr"
check "... and it agrees with STATUS: fault, state, IRP, firing thread" \
    test "$(jsonl "$T/gti.json" '(lambda g: " ".join([g["fault"], g["state"], g["items"]["irp"], g["items"]["fire_thread"]]))(d["windows"]["labfault_ground_truth"])')" = \
         "hang-irp-cancel done $(jsonl "$T/s" 'd["ground_truth"]["irp"]+" "+d["ground_truth"]["fire_thread"]')"
check "... with the fire path's return addresses" \
    test "$(jsonl "$T/gti.json" 'len(d["windows"]["labfault_ground_truth"]["fire_frames"]) > 0')" = true

# --- ARM reports ground truth for every fault ---------------------------------------------
declare -A keys=(
    [hang-irp]="device timeout_ms" [hang-irp-cancel]="device timeout_ms"
    [spinlock-deadlock]="lock_a lock_b" [resource-self-deadlock]="eresource"
    [dpc-watchdog-single]="dpc timer bugcheck arg1" [dpc-watchdog-cumulative]="dpc timer bugcheck arg1"
    [high-irql-fault]="address irql lock" [pool-overrun]="pool_block size overrun tag"
    [double-free]="pool_block size tag" [use-after-free]="pool_block size tag"
    [stack-overflow]="stack_base stack_limit" [stack-trash]="stack_base stack_limit"
    [pool-leak]="tag size rate duration_ms paged" [bugcheck]="code p1 p2 p3 p4"
    [null-deref]="address"
)
faults=$(sed -n 's/^LABFAULT([A-Z_]*, *[0-9]*, *"\([a-z-]*\)")$/\1/p' drivers/catalogue/faults.def)
nf=0
for f in $faults; do
    nf=$((nf + 1))
    agent "$T/a" arm "$f"; rc=$?
    good=$(jsonl "$T/a" 'd["ok"] and d["state"]=="armed" and d["fault"]=="'"$f"'" and "thread" in d["ground_truth"] and all(k in d["ground_truth"] for k in "'"${keys[$f]:-missing}"'".split())')
    check "arm $f: ground truth has thread ${keys[$f]:-?}" test "$rc" = 0 -a "$good" = true
done
check "every fault in faults.def was armed ($nf)" test "$nf" = 15
# The driver's own range checks must accept everything the catalogue accepts: arm every
# fault with all its parameters at their minimum, then at their maximum.
if build/crashlab faults --json >"$T/cat.json" 2>/dev/null; then
    python3 - "$T/cat.json" >"$T/extremes" <<'PY'
import json, sys
for f in json.load(open(sys.argv[1]))["faults"]:
    for end in ("min", "max"):
        args = []
        for p in f["params"]:
            if p["type"] == "uint":
                args.append("%s=%d" % (p["name"], p[end]))
            elif p["type"] == "bool":
                args.append("%s=%s" % (p["name"], "false" if end == "min" else "true"))
            elif p["type"] == "tag":
                args.append("%s=%s" % (p["name"], "A" if end == "min" else "Zz9_"))
        print(f["id"], " ".join(args))
PY
    bad=""
    while read -r f args; do
        # shellcheck disable=SC2086
        agent "$T/a" arm "$f" $args || bad="$bad $f($args)"
    done <"$T/extremes"
    check "the driver accepts the catalogue's minimum and maximum of every parameter ($(wc -l <"$T/extremes") arms)" \
        test -z "$bad"
    [ -n "$bad" ] && echo "# refused:$bad"
else
    not_ok "crashlab faults --json works"
fi
agent "$T/a" arm dpc-watchdog-cumulative
check "dpc-watchdog-cumulative reports Arg1 = 1" test "$(jsonl "$T/a" 'd["ground_truth"]["arg1"]')" = 0x1
agent "$T/a" arm pool-overrun size=256 overrun=8
check "pool-overrun: a real block with the given size and the LabF tag" \
    test "$(jsonl "$T/a" 'int(d["ground_truth"]["pool_block"],16)!=0 and d["ground_truth"]["size"]=="0x100" and d["ground_truth"]["tag"]=="0x4662614c"')" = true

# --- pool leak: counts grow with the tag ------------------------------------------------
# 20 s, not 6, and the busy check first: under load (8 engineers, 2 cores) one wine64 call
# took 5 s here, and the check must still find the leak running.
agent "$T/l" trigger pool-leak tag=Wlk1 size=64 rate=30 duration_ms=20000; rc=$?
check "trigger pool-leak returns at once" test "$rc" = 0
agent "$T/s" arm null-deref; rc=$?
check "ARM while a leak runs is refused (busy)" test "$rc" = 1
sleep 0.6
agent "$T/l1" status
sleep 0.5
agent "$T/l2" status
a1=$(jsonl "$T/l1" 'int(d["ground_truth"]["allocations"],16)')
a2=$(jsonl "$T/l2" 'int(d["ground_truth"]["allocations"],16)')
check "pool-leak: allocations grow while it runs ($a1 -> $a2)" test -n "$a1" -a -n "$a2" -a "${a1:-0}" -gt 0 -a "${a2:-0}" -gt "${a1:-0}"
check "pool-leak: tag Wlk1 is reported as the pool tag" test "$(jsonl "$T/l1" 'd["ground_truth"]["tag"]')" = 0x316b6c57
for _ in $(seq 100); do
    agent "$T/l3" status
    [ "$(jsonl "$T/l3" 'd["state"]')" = done ] && break
    sleep 0.2
done
check "pool-leak: finishes with rate x duration allocations (600) of 64 bytes" \
    test "$(jsonl "$T/l3" 'd["state"]+" "+str(int(d["ground_truth"]["allocations"],16))+" "+str(int(d["ground_truth"]["bytes"],16))')" = "done 600 38400"

# --- arm and fire as two processes ----------------------------------------------------------
agent "$T/s" fire; rc=$?
check "fire with nothing armed: exit 1, no FIRE sent" \
    bash -c "test $rc = 1 && grep -q 'no fault is armed' '$T/s'"
agent "$T/a" arm hang-irp-cancel timeout_ms=300
agent "$T/f" fire; rc=$?
agent "$T/s" status
check "arm, then fire from another process: FIRE returns, the IRP completed" \
    test "$rc $(jsonl "$T/f" 'd["fault"]') $(jsonl "$T/s" 'd["state"]')" = "0 hang-irp-cancel done"

# --- hang IRP with a cancel routine: timeout, then kill ------------------------------------
start=$SECONDS
agent "$T/h" trigger hang-irp-cancel timeout_ms=700; rc=$?
check "hang-irp-cancel timeout_ms=700: FIRE completes by itself" test "$rc" = 0 -a $((SECONDS - start)) -lt 10
agent "$T/s" status
check "hang-irp-cancel: ground truth has the IRP, completed with STATUS_SUCCESS" \
    test "$(jsonl "$T/s" 'd["state"]=="done" and int(d["ground_truth"]["irp"],16)!=0 and d["ground_truth"]["completed_status"]=="0x0"')" = true

wine64 "$AGENT" trigger hang-irp-cancel >"$T/hc" 2>>"$LOG" &
hc=$!; pids+=("$hc")
for _ in $(seq 50); do agent "$T/s" status; [ "$(jsonl "$T/s" 'd["state"]')" = fired ] && break; sleep 0.1; done
check "hang-irp-cancel: the caller blocks in the driver" kill -0 "$hc"
kill -TERM "$hc"; wait "$hc" 2>/dev/null
sleep 0.5
agent "$T/s" status
check "hang-irp-cancel: killing the caller cancels the IRP (STATUS_CANCELLED)" \
    test "$(jsonl "$T/s" 'd["state"]+" "+d["ground_truth"]["completed_status"]')" = "done 0xc0000120"

# --- hang IRP without a cancel routine ---------------------------------------------------
wine64 "$AGENT" trigger hang-irp >"$T/hz" 2>>"$LOG" &
hz=$!; pids+=("$hz")
for _ in $(seq 50); do agent "$T/s" status; [ "$(jsonl "$T/s" 'd["state"]')" = fired ] && break; sleep 0.1; done
check "hang-irp: ground truth printed before firing" test "$(jsonl "$T/hz" 'd["fault"]+" "+str(d["firing"])')" = "hang-irp True"
sleep 1
check "hang-irp: the caller is still blocked after 1 s" kill -0 "$hz"
check "hang-irp: STATUS names the pending IRP and its thread" \
    test "$(jsonl "$T/s" 'int(d["ground_truth"]["irp"],16)!=0 and int(d["ground_truth"]["irp_thread"],16)!=0')" = true
kill -TERM "$hz"; wait "$hz" 2>/dev/null
sleep 0.5
agent "$T/s" status
check "hang-irp: killing the caller does not complete the IRP (no cancel routine)" \
    test "$(jsonl "$T/s" 'd["state"]+" "+str("completed_status" in d["ground_truth"])')" = "fired False"

# --- wait chain ----------------------------------------------------------------------------
agent "$T/w" waitchain timeout_ms=8000; rc=$?
check "waitchain forms a 3-process cycle" \
    test "$rc" = 0 -a "$(jsonl "$T/w" '[c["waits_on_pid"] for c in d["ground_truth"]["chain"]]==[d["ground_truth"]["chain"][(i+1)%3]["pid"] for i in range(3)]')" = true
cid=$(jsonl "$T/w" 'd["chain_id"]')
nodes() { pgrep -fc "labagent.exe waitchain-node $cid "; }
sleep 1
n=$(nodes)
check "waitchain: the 3 processes stay deadlocked after the parent exits ($n)" test "$n" = 3
for _ in $(seq 100); do [ "$(nodes)" = 0 ] && break; sleep 0.2; done
check "waitchain: timeout_ms ends them" test "$(nodes)" = 0

# --- configure-dump and collect ------------------------------------------------------------
agent "$T/d" configure-dump kernel always_keep=1 nmi=1 overwrite=1 'dump_file=C:\dumps\MEMORY.DMP' special_pool_tag=LabF; rc=$?
check "configure-dump kernel: ok" test "$rc" = 0
wine64 reg query 'HKLM\SYSTEM\CurrentControlSet\Control\CrashControl' >"$T/cc" 2>&1
check "CrashDumpEnabled=2 AlwaysKeepMemoryDump=1 NMICrashDump=1 Overwrite=1 in the registry" \
    bash -c "grep -Eq 'CrashDumpEnabled.*0x2' '$T/cc' && grep -Eq 'AlwaysKeepMemoryDump.*0x1' '$T/cc' && grep -Eq 'NMICrashDump.*0x1' '$T/cc' && grep -Eq 'Overwrite.*0x1' '$T/cc' && grep -q 'dumps' '$T/cc'"
wine64 reg query 'HKLM\SYSTEM\CurrentControlSet\Control\Session Manager\Memory Management' >"$T/mm" 2>&1
check "special pool tag LabF -> PoolTag 0x4662614c, VerifyDrivers labfault.sys" \
    bash -c "grep -Eqi 'PoolTag.*0x4662614c' '$T/mm' && grep -q 'labfault.sys' '$T/mm'"
agent "$T/d" configure-dump huge; rc=$?
check "configure-dump with an unknown type: exit 2" test "$rc" = 2
agent "$T/d" configure-dump active nmi=2; rc=$?
check "configure-dump rejects nmi=2 before writing anything" \
    bash -c "test $rc = 2 && wine64 reg query 'HKLM\\SYSTEM\\CurrentControlSet\\Control\\CrashControl' /v CrashDumpEnabled 2>/dev/null | grep -q 0x2"

mkdir -p "$WINEPREFIX/drive_c/dumps" "$WINEPREFIX/drive_c/windows/Minidump"
head -c 3000000 /dev/urandom >"$WINEPREFIX/drive_c/dumps/MEMORY.DMP"
head -c 70000 /dev/urandom >"$WINEPREFIX/drive_c/windows/Minidump/112626-01.dmp"
agent "$T/k" collect
want=$(sha256sum "$WINEPREFIX/drive_c/dumps/MEMORY.DMP" | cut -c1-64)
check "collect: MEMORY.DMP from DumpFile with its size and SHA-256" \
    test "$(jsonl "$T/k" '[(x["size"],x["sha256"]) for x in d["dumps"] if x["kind"]=="memory"][0]')" = "(3000000, '$want')"
want=$(sha256sum "$WINEPREFIX/drive_c/windows/Minidump/112626-01.dmp" | cut -c1-64)
check "collect: the minidump too" \
    test "$(jsonl "$T/k" '[(x["size"],x["sha256"]) for x in d["dumps"] if x["kind"]=="minidump"][0]')" = "(70000, '$want')"

# --- remove-driver, then the explicit bug check (last: it takes the driver host down) -----
agent "$T/r" remove-driver; rc=$?
check "remove-driver stops and deletes the service" test "$rc" = 0 -a "$(jsonl "$T/r" 'd["existed"]')" = true
agent "$T/s" status; rc=$?
check "after remove-driver the device is gone" test "$rc" = 1
agent "$T/r" remove-driver; rc=$?
check "remove-driver when nothing is installed: ok, existed false" \
    test "$rc" = 0 -a "$(jsonl "$T/r" 'd["existed"]')" = false
agent "$T/i" install-driver 'C:\windows\system32\drivers\labfault.sys'; rc=$?
check "install-driver after remove-driver" test "$rc" = 0

# The crashing faults Wine can run in its user-mode driver host: each must really fault
# (the host process dies, the device is gone) rather than return from FIRE. Wine's kernel
# objects do not survive a dead driver host cleanly, so each gets a fresh wineserver.
# (stack-overflow is left out: Wine's guard-page handling in winedevice spins instead of
# killing the host, so there is nothing to observe but a timeout.)
restart_wine() {
    wineserver -k 2>/dev/null
    timeout 30 wineserver -w 2>/dev/null
    wineserver -p60
    timeout 60 wine64 wineboot >>"$LOG" 2>&1
    agent "$T/i" install-driver 'C:\windows\system32\drivers\labfault.sys'
}
for f in null-deref stack-trash high-irql-fault; do
    restart_wine; rc0=$?
    agent "$T/f" trigger "$f"; rc=$?
    printed=$(jsonl "$T/f" 'd["fault"]+" "+str(d["firing"])')
    # The host's death is asynchronous to FIRE's return under Wine: wait for it, bounded
    # (at most 3 tries of 10 s). A host that no longer answers at all (timeout, 124) is
    # wedged in the fault, as Wine's winedevice is after a smashed return on the clang build;
    # a host that answers STATUS normally (0) means the fault did not fire.
    for _ in 1 2 3; do
        sleep 0.5
        timeout 10 wine64 "$AGENT" status >"$T/s" 2>>"$LOG"; rc2=$?
        [ "$rc2" = 1 ] || [ "$rc2" = 124 ] && break
    done
    if [ "$rc2" = 124 ]; then
        # Wedged: FIRE hangs (timeout) instead of failing with the host; neither returned.
        rc2=1; [ "$rc" = 124 ] && rc=1
        echo "# $f: the driver host no longer answers (wedged in the fault)"
    fi
    check "$f fires for real: ground truth printed, FIRE does not return, the host died or hangs ($rc0 $printed $rc $rc2)" \
        test "$rc0 $printed $rc $rc2" = "0 $f True 1 1"
done
restart_wine

agent "$T/b" trigger bugcheck code=0xE2 p1=0x11 p2=0x22 p3=0x33 p4=0xfeedface; rc=$?
check "bugcheck: ground truth printed before firing" \
    test "$(jsonl "$T/b" '" ".join(d["ground_truth"][k] for k in ("code","p1","p2","p3","p4"))')" = "0xe2 0x11 0x22 0x33 0xfeedface"
check "bugcheck: FIRE never completes normally (exit 1)" test "$rc" = 1
sleep 0.5
check "bugcheck: Wine's KeBugCheckEx was reached with code and parameters" \
    grep -Eq 'KeBugCheckEx.*e2.*11.*22.*33.*feedface' "$LOG"
agent "$T/s" status; rc=$?
check "bugcheck: the driver host is gone (the device no longer opens)" test "$rc" = 1

finish
