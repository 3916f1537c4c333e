#!/usr/bin/env bash
# The lab's Linux dumps open as written in the standard tools: crash, drgn (libkdumpfile) and
# makedumpfile, with no conversion step of the test's own. Real runs on the real guest
# (panic, oops, hung-task, soft-lockup, stack-overflow with the Linux default dump format,
# kdump-lzo; panic with kdump-zstd; panic and oops with QEMU's kdump-zlib); for each dump:
#   - dump.format names a standard kdump-compressed file ("KDUMP   ", not makedumpfile's
#     flattened format; QEMU's is converted by the lab) and dump.sha256 is the stored file's;
#   - crash (batch: sys, log, bt) opens it; its RELEASE is the guest's, its PANIC line agrees
#     with result.json (the panic message, or the report the title was made from) and is in
#     the dump's log; bt shows the panicking task (or fails only the documented way);
#   - drgn opens it: release, the panic message in the log, the task current on the panic CPU
#     is the one crash's bt shows, and all tasks are walked (crash 8.0.2 sees 2, README);
#   - makedumpfile --dump-dmesg extracts the log with the panic line.
# ORACLE_RESULTS=DIR reuses the results already in DIR (run ids t-NAME, as lab-scenarios.sh
# leaves them with KEEP_RESULTS=DIR) and runs only the missing ones into it.
set -u
. "$(dirname "$0")/lib.sh"
. "$ROOT/scripts/oracle.sh"
cd "$ROOT"
for tool in crash drgn makedumpfile; do
    command -v "$tool" >/dev/null || { not_ok "$tool is installed (make setup)"; finish; exit; }
done
work=$(mktemp -d /tmp/cl-oracle.XXXXXX); chmod 755 "$work"
trap '[ "${KEEP:-0}" = 1 ] || rm -rf "$work"' EXIT
release=$(json build/guest/manifest.json 'd["kernel_release"]')
vmlinux=$(oracle_vmlinux "$release") || { not_ok "debug vmlinux for the guest kernel $release"; finish; exit; }
ok "debug vmlinux for $release: $vmlinux"
# NAME or NAME@FORMAT: the scenario with its own dump format (the lab's writer for Linux),
# or with --dump-format FORMAT (kdump-zlib: QEMU's writer, then the lab's conversion).
# ORACLE_SCENARIOS="panic oops@kdump-zlib" narrows it.
read -r -a scenarios <<<"${ORACLE_SCENARIOS:-panic oops hung-task soft-lockup stack-overflow panic@kdump-zstd panic@kdump-zlib oops@kdump-zlib}"

results=${ORACLE_RESULTS:-$work/results}
mkdir -p "$results"
run_one() { # lane entry: runs it unless its result is already there
    local lane=$1 entry=$2 sc=${2%@*} fmt= id
    [ "$entry" != "$sc" ] && fmt=${entry#*@}
    id=t-${entry/@/-}
    [ -f "$results/$id/result.json" ] && return
    # The scenario as shipped but with room to boot on a machine that other tests load: this
    # test judges the dumps, lab-scenarios.sh the timings.
    sed 's/^timeouts: .*/timeouts: {boot: 400, step: 120, observe: 120, run: 900}/' \
        "scenarios/linux/$sc.yaml" >"$work/$id.yaml"
    "$CRASHLAB" run "$work/$id.yaml" --results "$results" --state "$work/state$lane" \
        --run-id "$id" --quiet ${fmt:+--dump-format "$fmt"} >"$work/$id.run" 2>&1
}
lane() { # the entries at even or odd positions, each lane with its own embedded root
    local i=0 entry
    for entry in "${scenarios[@]}"; do
        [ $((i++ % 2)) = "$1" ] && run_one "$1" "$entry"
    done
}
lane 0 & lane 1 & wait

for entry in "${scenarios[@]}"; do
    name=${entry/@/-}
    dir=$results/t-$name res=$results/t-$name/result.json
    if [ ! -f "$res" ]; then
        not_ok "$name: no result.json ($(tail -c 300 "$work/t-$name.run" 2>/dev/null))"
        continue
    fi
    # Whether the crash was the expected one is lab-scenarios.sh's to judge; here any crash
    # with a dump is a dump to open.
    verdict=$(json "$res" 'd["verdict"]')
    if [ "$verdict" != expected-crash ] && [ "$verdict" != unexpected-crash ] ||
        [ -z "$(json "$res" 'd.get("dump",{}).get("path","")')" ]; then
        not_ok "$name: a crash with a dump (got $verdict: $(json "$res" 'd["reason"]'))"
        continue
    fi
    dump=$dir/$(json "$res" 'd["dump"]["path"]')
    fmt=$(json "$res" 'd["dump"]["format"]')
    # kdump-lzo (the default) and kdump-zstd: the lab's own writer; kdump-zlib: QEMU's, converted
    # by the lab (dump.converted)
    check "$name: dump.format names a standard kdump file (got $fmt)" test "$fmt" = kdump-zlib -o "$fmt" = kdump-zstd -o "$fmt" = kdump-lzo
    check "$name: the file is standard kdump-compressed, not flattened" test "$(head -c 8 "$dump")" = "KDUMP   "
    check "$name: dump.sha256 is the stored file's" \
        test "$(sha256sum <"$dump" | cut -d' ' -f1)" = "$(json "$res" 'd["dump"]["sha256"]')"
    if [ "$fmt" = kdump-zlib ]; then
        check "$name: dump.converted: QEMU's flattened file rewritten, utsname release $release" \
            test "$(json "$res" 'd["dump"]["converted"]["from"] + " " + d["dump"]["converted"]["utsname"]["release"]')" \
            = "kdump-zlib-flattened $release"
    fi
    panic_msg=$(json "$res" 'd["crash"].get("panic_message") or ""')
    title=$(json "$res" 'd["crash"].get("title") or ""')

    # crash
    oracle_crash "$vmlinux" "$dump" "$work/$name.crash" sys log bt
    rc=$?
    nobt=
    if grep -q 'invalid structure member offset: mm_struct_mmap' "$work/$name.crash" &&
        ! grep -q 'DUMPFILE:' "$work/$name.crash"; then
        # crash 8.0.2 predates the 6.1 maple tree and gives up while determining the panic
        # task (README, "What the debuggers read"); without that step it opens the file.
        ok "$name: crash $(oracle_crash_version) stops at 'determining panic task' (mm_struct_mmap), as documented"
        ORACLE_CRASH_OPTS=--no_panic oracle_crash "$vmlinux" "$dump" "$work/$name.crash" sys log
        rc=$?
        nobt=1
    fi
    check "$name: crash opens it (exit $rc)" test "$rc" = 0 -a -n "$(grep -m1 'DUMPFILE:' "$work/$name.crash")"
    check "$name: crash RELEASE is $release" grep -q "RELEASE: $release\$" "$work/$name.crash"
    cpanic=$(oracle_crash_panic "$work/$name.crash")
    # crash names the first report in the log (Oops, BUG, ...) or the panic itself; the lab's
    # title is made from the same report ("BUG: kernel NULL pointer dereference in lf_fire").
    head=${title%% in *}
    agree=no
    if [ -n "$cpanic" ] && { [ "$cpanic" = "Kernel panic - not syncing: $panic_msg" ] ||
        [[ "$cpanic" == *"$head"* ]] || [[ "$cpanic" == *"$panic_msg"* ]]; }; then agree=yes; fi
    # For an oops crash names its "Oops: ..." line, the lab the report that opens the same oops
    # ("BUG: kernel NULL pointer dereference, address: ..."): the first Oops line of the log
    # must be crash's, with the lab's report before it.
    if [ $agree = no ] && [[ "$cpanic" == Oops:* ]]; then
        first_oops=$(grep -n '^\[' "$work/$name.crash" | grep -m1 -F "$cpanic" | cut -d: -f1)
        report=$(grep -n '^\[' "$work/$name.crash" | grep -m1 -F "$head" | cut -d: -f1)
        [ -n "$first_oops" ] && [ -n "$report" ] && [ "$report" -lt "$first_oops" ] &&
            [ -z "$(sed -n "${report},${first_oops}p" "$work/$name.crash" | grep -F 'Oops:' | grep -vF "$cpanic")" ] && agree=yes
    fi
    check "$name: crash PANIC '$cpanic' agrees with result.json (title '$title', panic '$panic_msg')" test $agree = yes
    check "$name: crash's log holds 'Kernel panic - not syncing: $panic_msg'" \
        grep -qF "Kernel panic - not syncing: $panic_msg" "$work/$name.crash"
    btline=$(grep -m1 '^PID: ' "$work/$name.crash")
    btpid=$(sed -n 's/^PID: \([0-9]*\) .*/\1/p' <<<"$btline")
    if [ -z "$nobt" ]; then
        check "$name: crash bt shows the panicking task's frames ($btline)" grep -qE '^ *#[0-9]+ \[' "$work/$name.crash"
    fi

    # drgn
    oracle_drgn "$vmlinux" "$dump" "$work/$name.drgn"
    rc=$?
    check "$name: drgn opens it (exit $rc: $(grep -m1 -E 'Error|Exception' "$work/$name.drgn"))" test "$rc" = 0
    if [ "$rc" = 0 ]; then
        d=$work/$name.drgn
        check "$name: drgn release $release" test "$(json "$d" 'd["release"]')" = "$release"
        has=$(/usr/bin/python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(any(l == "Kernel panic - not syncing: " + sys.argv[2] for l in d["panic_lines"]))' "$d" "$panic_msg")
        check "$name: drgn's log holds the panic message" test "$has" = True
        dpid=$(json "$d" 'd.get("panic_task",{}).get("pid","")')
        dcomm=$(json "$d" 'd.get("panic_task",{}).get("comm","")')
        if [ -z "$nobt" ]; then
            check "$name: drgn's panicking task ($dpid $dcomm) is crash's bt task ($btpid)" test -n "$dpid" -a "$dpid" = "$btpid"
        else
            check "$name: drgn names the panicking task ($dpid $dcomm)" test -n "$dpid"
        fi
        tasks=$(json "$d" 'd["tasks"]')
        check "$name: drgn walks the task list ($tasks tasks)" test "$tasks" -gt 10
    fi

    # makedumpfile: Debian's 1.7.2 is built with zlib and lzo only (`makedumpfile -v`: zstd
    # disabled), so it reads the default kdump-lzo and QEMU's zlib pages and cannot read
    # kdump-zstd pages at all (README, "What the debuggers read"); it is asked only about the
    # formats it can read.
    if [ "$fmt" = kdump-zstd ]; then
        echo "# $name: makedumpfile not asked ($fmt: Debian's makedumpfile has no zstd)"
        continue
    fi
    oracle_dmesg "$dump" "$work/$name.dmesg"
    rc=$?
    check "$name: makedumpfile --dump-dmesg reads the log (exit $rc: $(grep -m1 -iE 'fail|can.t' "$work/$name.dmesg.log"))" \
        test "$rc" = 0
    check "$name: makedumpfile's log holds the panic line" grep -qF "Kernel panic - not syncing: $panic_msg" "$work/$name.dmesg"
done
finish
