#!/usr/bin/env bash
# A real guest whose qemu-ga is replaced by badagent (guest-agent/linux/badagent.c,
# kernel argument crashlab.badagent=MODE): oversized replies, invalid JSON, wrong ids,
# endless output, no answer at all. For each, crashlab (the ASan build) must end on its
# own within the scenario's timeouts with verdict infra-error and a reason, keep its
# peak RSS bounded, report no sanitizer error and leave no domain behind.
# Then the lying guest: a working agent (the fault is installed and fires for real; the
# scenario asks for the guest's own dump, capture.guest_dump, and panic=1 reboots the
# guest after the crash) whose `labagent collect` claims a dump at ../../etc/passwd, of
# 100 GB, or of 4 KiB that never reaches eof. The lab must refuse each, keep nothing
# under a guest-chosen name and write nothing outside the run directory.
set -u
. "$(dirname "$0")/lib.sh"
mkwork badagent
RSS_CAP_MB=${RSS_CAP_MB:-600}
BOOT=60
passwd_sum=$(sha256sum /etc/passwd)

one() { # MODE: runs crashlab against a guest with badagent MODE; writes MODE.rc, MODE.time
    local mode=$1
    if [[ $mode == lie-* ]]; then
        scenario "$work/$mode.yaml" 256 "crashlab.badagent=$mode panic=1" 60 120
        sed -i 's/^timeouts: {\(.*\)}$/timeouts: {\1, guest_dump: 150}/; s/^capture: {\(.*\)}$/capture: {\1, guest_dump: true}/' \
            "$work/$mode.yaml"
    else
        scenario "$work/$mode.yaml" 256 "crashlab.badagent=$mode" 10 "$BOOT"
    fi
    mkdir -p "$work/$mode.st" && chmod 755 "$work/$mode.st"
    local t0=$SECONDS
    # The outer timeout only tells a hang from an end: the lab has to stop by itself.
    timeout -s KILL 600 /usr/bin/time -v -o "$work/$mode.time" \
        "$CRASHLAB" run "$work/$mode.yaml" --accel tcg --state "$work/$mode.st" --results "$work/$mode.res" --run-id "$mode" \
        >"$work/$mode.out" 2>"$work/$mode.err"
    echo "$? $((SECONDS - t0))" >"$work/$mode.rc"
}

garbage() { # MODE: the checks for a protocol-breaking agent
    local mode=$1 rc secs res
    read -r rc secs <"$work/$mode.rc"
    res=$work/$mode.res/$mode/result.json
    check "$mode: crashlab ended by itself (exit $rc after ${secs}s)" test "$rc" -ge 1 -a "$rc" -le 3
    check "$mode: no sanitizer report" bash -c "! grep -qE 'ERROR: AddressSanitizer|runtime error:' '$work/$mode.err'"
    local mb
    mb=$(peak_mb "$work/$mode.time")
    check "$mode: peak RSS ${mb:-?} MiB <= $RSS_CAP_MB MiB" test "${mb:-99999}" -le "$RSS_CAP_MB"
    check "$mode: result recorded" test -f "$res"
    if [[ -f $res ]]; then
        local v r
        v=$(json "$res" 'd["verdict"]')
        r=$(json "$res" 'd["reason"]')
        check "$mode: verdict infra-error (got $v: ${r:0:160})" test "$v" = infra-error
        check "$mode: the reason names the agent" grep -qiE "agent|guest-|reply|json" <<<"$r"
    fi
    check "$mode: no domain left behind" test "$(domains_left "$mode")" = 0
}

# Two guests at a time (2 cores).
# BADAGENT_MODES="a b" runs only those.
read -r -a modes <<<"${BADAGENT_MODES:-oversized invalid-json wrong-id endless silent lie-path lie-size lie-grow}"
sel() { [[ " ${modes[*]} " == *" $1 "* ]]; }
for ((i = 0; i < ${#modes[@]}; i += 2)); do
    one "${modes[i]}" &
    rel_pids+=($!)
    [[ -n ${modes[i + 1]:-} ]] && { one "${modes[i + 1]}" & rel_pids+=($!); }
    wait
done
for m in oversized invalid-json wrong-id endless silent; do
    sel "$m" && garbage "$m"
done

# The lying guest. Nothing the guest names may become a host path: after the runs,
# /etc/passwd is untouched and the results directory holds nothing but run directories.
declare -A refusal=([lie-path]="announced|sha256|checksum|does not match" [lie-size]="more than the" [lie-grow]="grew past")
for m in lie-path lie-size lie-grow; do
    sel "$m" || continue
    read -r rc secs <"$work/$m.rc"
    res=$work/$m.res/$m/result.json
    check "$m: crashlab ended by itself (exit $rc after ${secs}s)" test "$rc" -ge 0 -a "$rc" -le 3
    check "$m: no sanitizer report" bash -c "! grep -qE 'ERROR: AddressSanitizer|runtime error:' '$work/$m.err'"
    mb=$(peak_mb "$work/$m.time")
    check "$m: peak RSS ${mb:-?} MiB <= $RSS_CAP_MB MiB" test "${mb:-99999}" -le "$RSS_CAP_MB"
    check "$m: result recorded" test -f "$res"
    [[ -f $res ]] || continue
    ladder=$(json "$res" '" / ".join(s["step"] + ": " + s["outcome"] for s in d["capture"]["ladder"])')
    check "$m: the lab asked the guest for its dumps ($ladder)" grep -q "collect:" <<<"$ladder"
    err=$(json "$res" '" ".join(f.get("error","") for f in d["capture"].get("guest_dumps",[]))')
    got=$(json "$res" 'len([f for f in d["capture"].get("guest_dumps",[]) if "path" in f])')
    check "$m: the lying dump is refused (${err:0:200})" grep -qiE "${refusal[$m]}" <<<"$err"
    check "$m: nothing kept from it ($got files)" test "$got" = 0
    stray=$(find "$work/$m.res" -mindepth 1 -maxdepth 1 ! -name "$m" | tr '\n' ' ')
    check "$m: nothing outside the run directory ($stray)" test -z "$stray"
    kept=$(find "$work/$m.res/$m" -name '*.partial' -o -name '*.tmp.*' -o -name 'guest-dump-*' -o -name 'passwd' -o -name 'dump.bin' | tr '\n' ' ')
    check "$m: no partial or guest-named file in the run directory ($kept)" test -z "$kept"
    check "$m: no domain left behind" test "$(domains_left "$m")" = 0
done
check "lying guest: /etc/passwd untouched" test "$(sha256sum /etc/passwd)" = "$passwd_sum"
check "lying guest: no file named after a guest path on the host" test -z "$(find "$work" -name passwd -o -name 'dump.bin')"
finish
