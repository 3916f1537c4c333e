#!/usr/bin/env bash
# QEMU killed (SIGKILL) mid-boot, mid-fault and mid-dump: the run ends with verdict
# infra-error and a reason, exit 1; nothing partial sits under a final name (the run
# directory appears only complete, a dump only whole); no domain is left in the run's
# embedded root and no QEMU process survives.
set -u
. "$(dirname "$0")/lib.sh"
mkwork kill

# killed NAME PHASE: the checks after QEMU of run NAME was killed during PHASE.
killed() {
    local name=$1 phase=$2 rc res
    wait "$RUN_PID"
    rc=$?
    res=$work/$name.res/$name/result.json
    check "$phase: result recorded" test -f "$res"
    if [[ -f $res ]]; then
        local v r
        v=$(json "$res" 'd["verdict"]')
        r=$(json "$res" 'd["reason"]')
        check "$phase: verdict infra-error (got $v)" test "$v" = infra-error
        check "$phase: a reason is given ($r)" test -n "$r"
    fi
    check "$phase: exit 1 (got $rc)" test "$rc" = 1
    check "$phase: no partial run directory" test -z "$(ls -A "$work/$name.res" 2>/dev/null | grep '^\.')"
    local partial
    partial=$(find "$work/$name.res" -name '*.partial' -o -name '*.tmp.*' 2>/dev/null)
    check "$phase: no partial file left ($partial)" test -z "$partial"
    local d
    for d in "$work/$name.res/$name"/dump.*; do
        [[ -e $d ]] || continue
        check "$phase: a dump under its final name is the whole dump" \
            test "$(stat -c %s "$d")" = "$(json "$res" 'd.get("dump",{}).get("bytes",-1)')"
    done
    check "$phase: no domain left behind ($(domains_left "$name"))" test "$(domains_left "$name")" = 0
    check "$phase: no QEMU process left" test -z "$(qemu_of "$name")"
}

kill_qemu() { # NAME: true when a QEMU process was found and killed
    local q
    q=$(qemu_of "$1")
    [[ -n $q ]] && kill -9 "$q"
}

scenario "$work/s256.yaml" 256
# Mid-fault: hang-irp parks a task in the module; the hung-task panic comes >= 5 s later.
sed 's/trigger: {fault: bugcheck, message: "reliability panic"}/trigger: {fault: hang-irp}/; s/kind: panic/kind: hung-task/' \
    "$work/s256.yaml" >"$work/hang.yaml"
# 1 GiB of guest memory: the dump takes long enough to be caught in the middle.
scenario "$work/s1g.yaml" 1024

# Mid-boot and mid-fault at the same time (separate roots), then mid-dump alone.
start_run boot "$work/s256.yaml"
boot_pid=$RUN_PID
start_run fault "$work/hang.yaml"
fault_pid=$RUN_PID

wait_for "$work/boot.err" "starting cl-" 120 && sleep 2
if grep -q 'guest agent answered' "$work/boot.err"; then
    not_ok "mid-boot: the agent answered before the kill"
    kill_qemu boot
else
    check "mid-boot: QEMU killed before the agent answered" kill_qemu boot
fi
RUN_PID=$boot_pid killed boot mid-boot

if wait_for "$work/fault.err" "armed hang-irp; firing" 240; then
    sleep 1
    if grep -q "domain crashed" "$work/fault.err"; then
        not_ok "mid-fault: the guest crashed before the kill"
        kill_qemu fault
    else
        check "mid-fault: QEMU killed while the fault is at work" kill_qemu fault
    fi
else
    not_ok "mid-fault: the trigger was never reached ($(tail -1 "$work/fault.err"))"
    kill_qemu fault
fi
RUN_PID=$fault_pid killed fault mid-fault

start_run dump "$work/s1g.yaml"
if wait_for "$work/dump.err" "writing a .* memory dump" 300; then
    sleep 1
    check "mid-dump: QEMU killed while the dump is written" kill_qemu dump
else
    not_ok "mid-dump: the dump was never reached ($(tail -1 "$work/dump.err"))"
    kill_qemu dump
fi
killed dump mid-dump
finish
