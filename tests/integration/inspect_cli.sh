#!/usr/bin/env bash
# `crashlab inspect` and `crashlab fingerprint` as a user runs them: on the real Windows dumps
# in ../shared/testdata/windows-dumps (values from its README) and on the SYNTHETIC dumps in
# tests/data/dumps/synthetic; exit codes 0 / 2 / 3, JSON that jq reads, the human summary.
# Also prints the time and peak RSS of `inspect` on triage_x64.dmp (release build).
set -u
. "$(dirname "$0")/lib.sh"
cd "$ROOT"
BIN=$CRASHLAB
# inspect uses no libvirt, so its leaks are judged here (lib.sh turns LeakSanitizer off for
# whole runs because of libvirt's threads).
export ASAN_OPTIONS="${ASAN_OPTIONS%detect_leaks=0}detect_leaks=1"
REAL=../shared/testdata/windows-dumps
SYN=tests/data/dumps/synthetic
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# jq_eq FILE FILTER EXPECTED

"$BIN" inspect "$REAL/triage_x64.dmp" --json >"$tmp/x64.json"; rc=$?
check "inspect triage_x64 exits 0" test "$rc" -eq 0
check "triage_x64 type, machine, cpus, build" \
    jq_eq "$tmp/x64.json" '[.dump_type.number, .machine.number, .processors, .os.build, .os.major] | @csv' '4,34404,16,19041,15'
check "triage_x64 bug check and parameters" \
    jq_eq "$tmp/x64.json" '[.bugcheck.code, .bugcheck.name, (.bugcheck.params | join(","))] | join(" ")' \
    '0x1000007e SYSTEM_THREAD_EXCEPTION_NOT_HANDLED_M 0xffffffffc0000005,0xfffff8048b58334c,0xffff850429891ee8,0xffff850429891720'
check "triage_x64 time, modules, faulting module" \
    jq_eq "$tmp/x64.json" '[.system_time, .module_count, .faulting_module.name, .faulting_module.base, .faulting_module.size] | @csv' \
    '"2021-02-21T01:38:22Z",151,"amdppm.sys","0xfffff8048b580000","0x3b000"'
check "triage_x64 title, not truncated" \
    jq_eq "$tmp/x64.json" '.title + " " + (.truncated | tostring)' \
    '0x1000007E SYSTEM_THREAD_EXCEPTION_NOT_HANDLED_M (STATUS_ACCESS_VIOLATION) in amdppm.sys false'

"$BIN" inspect "$REAL/triage_arm64.dmp" --json >"$tmp/arm.json"; rc=$?
check "triage_arm64 read as ARM64 with its own bug check and build" \
    jq_eq "$tmp/arm.json" "[$rc, .machine.name, .bugcheck.code, .os.build, .processors] | @csv" '0,"arm64","0x1c8",22000,8'

"$BIN" inspect "$REAL/imhex_dmp64.hexpat.bin" --json >"$tmp/cut.json" 2>"$tmp/cut.err"; rc=$?
check "cut-short full dump exits 3" test "$rc" -eq 3
check "cut-short full dump: truncated, header fields kept" \
    jq_eq "$tmp/cut.json" '[.truncated, .dump_type.number, .os.build, (.warnings | length > 0)] | @csv' 'true,1,19045,true'

"$BIN" inspect "$REAL/triage_x64.dmp" >"$tmp/human.txt"; rc=$?
check "human summary names the title and the faulting module" \
    grep -q '^faulting:    amdppm.sys+0x334c' "$tmp/human.txt"

printf 'just text\n' >"$tmp/text"
"$BIN" inspect "$tmp/text" >"$tmp/na.out" 2>"$tmp/na.err"; rc=$?
check "not a dump exits 2 with one line naming the signatures" \
    bash -c "[[ $rc -eq 2 && \$(wc -l <'$tmp/na.err') -eq 1 && ! -s '$tmp/na.out' ]] && grep -q 'PAGEDU64.*KDUMP' '$tmp/na.err'"
"$BIN" inspect >/dev/null 2>&1; rc=$?
check "no file is a usage error (2)" test "$rc" -eq 2

for f in "$SYN"/synthetic-*; do
    n=$(basename "$f")
    "$BIN" inspect "$f" --json >"$tmp/s.json"; rc=$?
    case $n in
    *linux*) want='BUG: soft lockup in lf_timer_fn' ;;
    *triage-0x133*) want='0x133 DPC_WATCHDOG_VIOLATION (single DPC) in labfault.sys' ;;
    *bitmap*) want='0xD1 DRIVER_IRQL_NOT_LESS_OR_EQUAL (write)' ;;
    *win32*) want='0x1E KMODE_EXCEPTION_NOT_HANDLED (STATUS_ACCESS_VIOLATION)' ;;
    *) want='0x133 DPC_WATCHDOG_VIOLATION (single DPC)' ;;
    esac
    check "synthetic $n: exit 0, title" jq_eq "$tmp/s.json" "\"$rc \" + .title" "0 $want"
    head -c 5000 "$f" >"$tmp/cut"
    "$BIN" inspect "$tmp/cut" --json >"$tmp/c.json" 2>/dev/null; rc=$?
    check "synthetic $n cut at 5000 bytes: exit 3, truncated" jq_eq "$tmp/c.json" "\"$rc \" + (.truncated|tostring)" "3 true"
done

"$BIN" fingerprint "$REAL/triage_x64.dmp" --json >"$tmp/fp.json"; rc=$?
check "fingerprint of a triage dump: drivers, no SMBIOS" \
    jq_eq "$tmp/fp.json" "[$rc, .smbios, ([.virtualization_drivers[].name] | index(\"vmbusr.sys\") != null)] | @csv" '0,,true'
"$BIN" fingerprint "$tmp/text" >/dev/null 2>&1; rc=$?
check "fingerprint of a non-dump exits 2" test "$rc" -eq 2

# time and memory of the release build on the 1.4 MB triage dump; the process itself (libvirt,
# OpenSSL, ... mapped in) has a baseline RSS, measured with `crashlab --help`
if [[ -x build/crashlab ]] && /usr/bin/time -v true 2>/dev/null; then
    /usr/bin/time -v build/crashlab --help >/dev/null 2>"$tmp/base"
    /usr/bin/time -v build/crashlab inspect "$REAL/triage_x64.dmp" --json >/dev/null 2>"$tmp/time"
    secs=$(sed -n 's/.*Elapsed (wall clock) time.*: \(.*\)/\1/p' "$tmp/time")
    rss=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$tmp/time")
    base=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$tmp/base")
    echo "# inspect triage_x64.dmp: wall $secs, peak RSS ${rss} KB (the binary alone: ${base} KB)"
    check "inspect triage_x64 needs under 4 MB over the binary's own RSS" test $((rss - base)) -lt 4096
fi
finish
