#!/usr/bin/env bash
# `make bench`: crashlab measured side by side with its baselines on this machine, in one
# run. Prints a table and writes build/bench.json. See bench/README.md for what each row
# measures and proves.
#
# Exit status: 0 every row whose feature exists was measured; 1 a row could not be
# measured although its feature exists (a missed goal is never a failure: the table says
# so). A feature that does not exist yet (no `run --warm`, no `serve`) gives a
# "not measured: <why>" row.
#
# Environment: BENCH_ACCEL (default tcg), BENCH_REPS (guest runs per side, default 3), BENCH_FAST_REPS (inspect,
# default 5), BENCH_SCENARIO (default scenarios/linux/panic.yaml, which bench/hand.sh
# mirrors), CRASHLAB (default build/crashlab), BENCH_OUT (default build/bench.json),
# BENCH_KEEP=1 (keep the work directory under /tmp), BENCH_COLD_SLOTS=1 (also 2 cold slots).
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
CRASHLAB=${CRASHLAB:-$ROOT/build/crashlab}
REPS=${BENCH_REPS:-3}
FAST_REPS=${BENCH_FAST_REPS:-5}
SCEN=${BENCH_SCENARIO:-scenarios/linux/panic.yaml}
# KVM does not work here; the hand script asks for TCG directly, so crashlab is told too
# (otherwise its first run in a state directory pays a one-time 6 s KVM probe).
ACCEL=${BENCH_ACCEL:-tcg}
OUTJSON=${BENCH_OUT:-$ROOT/build/bench.json}
TRIAGE=$ROOT/../shared/testdata/windows-dumps/triage_x64.dmp
TIME=/usr/bin/time

for f in "$CRASHLAB" build/guest/vmlinuz build/guest/initrd.img build/linux/labfault.ko; do
    [[ -e $f ]] || { echo "bench: $f is missing (make all guest)" >&2; exit 1; }
done
[[ -x $TIME ]] || { echo "bench: $TIME is missing (apt-get install time)" >&2; exit 1; }

work=$(mktemp -d /tmp/clbench.XXXXXX)
chmod 755 "$work"
kids=()
cleanup() {
    for p in "${kids[@]}"; do kill "$p" 2>/dev/null; done
    wait 2>/dev/null
    # --spare runs keep a paused guest per state directory: give the memory back.
    for s in "$work"/st*; do [[ -d $s ]] && "$CRASHLAB" spare drop --state "$s" >/dev/null 2>&1; done
    if [[ ${BENCH_KEEP:-0} == 1 ]]; then echo "bench: kept $work" >&2; else rm -rf "$work"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM
rows=$work/rows.jsonl
: >"$rows"
failed=0
note() { echo "bench: $*" >&2; }

# row METRIC CRASHLAB BASELINE UNIT GOAL DIRECTION [NOTE]
#   DIRECTION "lower": ratio = crashlab/baseline, goal "<= G"; "higher": ratio =
#   crashlab/baseline, goal ">= G"; "abs": no baseline, goal applies to the figure.
row() {
    python3 - "$@" >>"$rows" <<'PY'
import json, sys
metric, cl, base, unit, goal, direction = sys.argv[1:7]
note = sys.argv[7] if len(sys.argv) > 7 else ""
def num(s):
    try:
        return float(s)
    except ValueError:
        return None
c, b, g = num(cl), num(base), num(goal)
ratio = c / b if c is not None and b not in (None, 0.0) and not direction.startswith("abs") else None
met = None
if g is not None:
    x = c if direction.startswith("abs") else ratio
    if x is not None:
        met = x <= g if direction in ("lower", "abs-max") else x >= g
print(json.dumps({"metric": metric, "crashlab": c, "baseline": b, "unit": unit, "ratio": ratio,
                  "goal": ("<= " if direction in ("lower", "abs-max") else ">= ") + goal if g is not None else "",
                  "goal_met": met, "note": note}))
PY
}
# A row whose feature is missing, or that could not be measured.
unmeasured() { # METRIC UNIT GOAL WHY
    python3 -c 'import json,sys; print(json.dumps({"metric":sys.argv[1],"crashlab":None,"baseline":None,"unit":sys.argv[2],"ratio":None,"goal":sys.argv[3],"goal_met":None,"note":"not measured: "+sys.argv[4]}))' \
        "$1" "$2" "$3" "$4" >>"$rows"
}
median() { python3 -c 'import statistics,sys; v=[float(x) for x in sys.argv[1:] if x]; print(statistics.median(v) if v else "")' "$@"; }
jget() { python3 -c 'import json,sys
d=json.load(open(sys.argv[1]))
for k in sys.argv[2].split("."):
    d=d.get(k) if isinstance(d,dict) else None
print("" if d is None else d)' "$1" "$2" 2>/dev/null; }
now() { date +%s.%N; }
elapsed() { python3 -c 'import sys; print(float(sys.argv[2]) - float(sys.argv[1]))' "$1" "$2"; }

has_warm=0; "$CRASHLAB" run --help 2>&1 | grep -q -- '--warm' && has_warm=1
has_serve=0; "$CRASHLAB" --help 2>&1 | grep -qE '^ +serve ' && has_serve=1

# --- setup: every side gets its own embedded root, primed once (libvirt's capability
# probe and crashlab's accelerator probe are per-root, one-time costs, not per-run ones).
note "machine: $(nproc) cores, $(awk '/MemTotal/{printf "%.0f GiB", $2/1048576}' /proc/meminfo), load $(cut -d' ' -f1-3 /proc/loadavg)"
for s in 1 2; do
    mkdir -p "$work/st$s" && chmod 755 "$work/st$s"
    "$CRASHLAB" run "$SCEN" --accel "$ACCEL" --state "$work/st$s" --results "$work/prime" --print-xml >/dev/null 2>"$work/prime$s.err" \
        || { note "priming crashlab state $s failed: $(tail -1 "$work/prime$s.err")"; }
done
mkdir -p "$work/hand/embed/etc" && chmod 755 "$work/hand"
echo 'stdio_handler = "file"' >"$work/hand/embed/etc/qemu.conf"
virsh -c "qemu:///embed?root=$work/hand/embed" domcapabilities --virttype qemu >/dev/null 2>&1

# --- cold runs, crashlab and the hand script interleaved so that load drifts hit both.
cl_total=() cl_start=() cl_dump_s=() cl_dump_b=() hand_total=() hand_start=() hand_dump_s=()
cold_run() { # ST RESULTS ID -> wall seconds on stdout, result.json under RESULTS/ID
    local t0 t1 rc
    t0=$(now)
    "$CRASHLAB" run "$SCEN" --accel "$ACCEL" --state "$1" --results "$2" --run-id "$3" --quiet >"$work/$3.out" 2>"$work/$3.err"
    rc=$?
    t1=$(now)
    [[ $rc == 0 ]] || { note "crashlab run $3 exited $rc: $(tail -2 "$work/$3.err" | tr '\n' ' ')"; return 1; }
    elapsed "$t0" "$t1"
}
for i in $(seq 1 "$REPS"); do
    note "cold run $i/$REPS: crashlab"
    if w=$(cold_run "$work/st1" "$work/res" "cold$i"); then
        r=$work/res/cold$i/result.json
        cl_total+=("$w")
        cl_start+=("$(python3 -c 'import json,sys; t=json.load(open(sys.argv[1]))["timings"]; print(sum(t.get(k,0) for k in ("define","restore","boot","agent-up")))' "$r")")
        cl_dump_s+=("$(jget "$r" dump.seconds)")
        cl_dump_b+=("$(jget "$r" dump.bytes)")
        note "  crashlab: ${w%.*} s (timings $(jget "$r" timings))"
    fi
    note "cold run $i/$REPS: bench/hand.sh"
    t0=$(now)
    if bash bench/hand.sh --root "$work/hand" --out "$work/hand-out$i" >"$work/hand$i.json" 2>"$work/hand$i.err"; then
        t1=$(now)
        hand_total+=("$(elapsed "$t0" "$t1")")
        hand_start+=("$(python3 -c 'import json,sys; t=json.load(open(sys.argv[1])); print(t["boot"]+t["agent-up"])' "$work/hand$i.json")")
        hand_dump_s+=("$(jget "$work/hand$i.json" dump_seconds)")
        note "  hand.sh: $(elapsed "$t0" "$t1" | cut -d. -f1) s ($(cat "$work/hand$i.json"))"
    else
        note "  hand.sh failed: $(tail -2 "$work/hand$i.err" | tr '\n' ' ')"
    fi
    rm -rf "$work/hand-out$i"/dump.kdump
done
m_cl=$(median "${cl_total[@]}") m_hand=$(median "${hand_total[@]}")
if [[ -n $m_cl && -n $m_hand ]]; then
    row "scenario turnaround, cold (vs bench/hand.sh)" "$m_cl" "$m_hand" s 1.15 lower \
        "median of ${#cl_total[@]}/${#hand_total[@]} runs, wall clock of the whole command"
else
    unmeasured "scenario turnaround, cold (vs bench/hand.sh)" s "<= 1.15" "runs failed (crashlab ${#cl_total[@]}/$REPS, hand ${#hand_total[@]}/$REPS ok)"
    failed=1
fi

# --- the cost of recording (issue 17): the same scenario with --record, right after the cold
# runs above, against their median. A recorded run fires the fault from the kernel command
# line (no agent traffic), so the difference is recording minus the agent's share, as a user
# of --record sees it; the log size per run goes in the note.
rec_total=() rec_log=()
has_record=0; "$CRASHLAB" run --help 2>&1 | grep -q -- '--record' && has_record=1
if [[ $has_record == 1 && $ACCEL == tcg ]]; then
    for i in $(seq 1 "$REPS"); do
        t0=$(now)
        if "$CRASHLAB" run "$SCEN" --accel tcg --record --state "$work/st1" --results "$work/res" --run-id "rec$i" --quiet \
            >"$work/rec$i.out" 2>"$work/rec$i.err"; then
            t1=$(now)
            rec_total+=("$(elapsed "$t0" "$t1")")
            rec_log+=("$(jget "$work/res/rec$i/result.json" replay.log.bytes)")
            note "  recorded $i: $(elapsed "$t0" "$t1" | cut -d. -f1) s, log $(jget "$work/res/rec$i/result.json" replay.log.bytes) bytes, icount $(jget "$work/res/rec$i/result.json" replay.icount)"
        else
            note "  recorded run $i failed: $(tail -2 "$work/rec$i.err" | tr '\n' ' ')"
        fi
        rm -f "$work/res/rec$i"/dump.* "$work/res/rec$i/replay.bin"
    done
    m_rec=$(median "${rec_total[@]}") m_log=$(median "${rec_log[@]}")
    if [[ -n $m_rec && -n $m_cl ]]; then
        row "scenario turnaround, --record (vs the cold runs above)" "$m_rec" "$m_cl" s "" lower \
            "median of ${#rec_total[@]} recorded runs; replay.bin median $(python3 -c "print(round(float('$m_log')/1e6,1))") MB"
    else
        unmeasured "scenario turnaround, --record (vs the cold runs above)" s "" "recorded runs failed (${#rec_total[@]}/$REPS ok)"
        failed=1
    fi
else
    unmeasured "scenario turnaround, --record (vs the cold runs above)" s "" "needs run --record and TCG (BENCH_ACCEL=$ACCEL)"
fi

# --- warm path
cold_start=$(median "${cl_start[@]}")
if [[ $has_warm == 1 ]]; then
    warm_total=() warm_start=()
    # The saved guest is made once per state directory (one cold boot and a save): both
    # slots' images are prepared side by side, not counted.
    note "warm: preparing the saved guests of both slots (not counted)"
    for s in 1 2; do
        "$CRASHLAB" run "$SCEN" --accel "$ACCEL" --warm --state "$work/st$s" --results "$work/res" --run-id "warm0-$s" --quiet \
            >"$work/warm0-$s.out" 2>"$work/warm0-$s.err" &
        kids+=($!)
    done
    # Meanwhile the raw libvirt way to a warm guest: boot, wait for qemu-ga, virsh save.
    bash bench/hand.sh --root "$work/hand" --mode save >"$work/hsave.json" 2>"$work/hsave.err" &
    hsave=$!
    for p in "${kids[@]}"; do wait "$p" || note "a warm priming run failed: $(tail -q -n 2 "$work"/warm0-*.err | tr '\n' ' ')"; done
    kids=()
    wait "$hsave" || note "hand.sh --mode save failed: $(tail -2 "$work/hsave.err" | tr '\n' ' ')"
    for i in $(seq 1 "$REPS"); do
        t0=$(now)
        if "$CRASHLAB" run "$SCEN" --accel "$ACCEL" --warm --state "$work/st1" --results "$work/res" --run-id "warm$i" --quiet \
            >"$work/warm$i.out" 2>"$work/warm$i.err"; then
            t1=$(now)
            warm_total+=("$(elapsed "$t0" "$t1")")
            warm_start+=("$(python3 -c 'import json,sys; t=json.load(open(sys.argv[1]))["timings"]; print(sum(t.get(k,0) for k in ("define","restore","boot","agent-up")))' "$work/res/warm$i/result.json")")
            note "  warm $i: $(elapsed "$t0" "$t1" | cut -d. -f1) s ($(jget "$work/res/warm$i/result.json" timings))"
        else
            note "  warm run $i failed: $(tail -2 "$work/warm$i.err" | tr '\n' ' ')"
        fi
    done
    raw=()
    if [[ -f $work/hand/saved.img ]]; then
        for i in $(seq 1 "$REPS"); do
            bash bench/hand.sh --root "$work/hand" --mode restore >"$work/hrest$i.json" 2>"$work/hrest$i.err" \
                && raw+=("$(jget "$work/hrest$i.json" restore)")
        done
    fi
    # run --spare: each run restores the next run's guest, paused, while it works; the next
    # one resumes it. The first run makes the second saved variant and the first spare.
    spare_total=() spare_start=()
    has_spare=0; "$CRASHLAB" run --help 2>&1 | grep -q -- '--spare' && has_spare=1
    if [[ $has_spare == 1 ]]; then
        note "warm --spare: one run to make the spare (not counted)"
        "$CRASHLAB" run "$SCEN" --accel "$ACCEL" --spare --state "$work/st1" --results "$work/res" --run-id spare0 --quiet \
            >"$work/spare0.out" 2>"$work/spare0.err" || note "the priming --spare run failed: $(tail -2 "$work/spare0.err" | tr '\n' ' ')"
        for i in $(seq 1 "$REPS"); do
            t0=$(now)
            if "$CRASHLAB" run "$SCEN" --accel "$ACCEL" --spare --state "$work/st1" --results "$work/res" --run-id "spare$i" --quiet \
                >"$work/spare$i.out" 2>"$work/spare$i.err"; then
                t1=$(now)
                spare_total+=("$(elapsed "$t0" "$t1")")
                spare_start+=("$(python3 -c 'import json,sys; t=json.load(open(sys.argv[1]))["timings"]; print(sum(t.get(k,0) for k in ("define","restore","boot","agent-up")))' "$work/res/spare$i/result.json")")
                note "  spare $i: $(elapsed "$t0" "$t1") s, from $(jget "$work/res/spare$i/result.json" warm.started_from)"
            else
                note "  spare run $i failed: $(tail -2 "$work/spare$i.err" | tr '\n' ' ')"
            fi
        done
    fi
    m_warm=$(median "${warm_total[@]}") m_wstart=$(median "${warm_start[@]}") m_raw=$(median "${raw[@]}")
    m_spare=$(median "${spare_total[@]}") m_sstart=$(median "${spare_start[@]}")
    if [[ -n $m_warm && -n $m_hand ]]; then
        row "scenario turnaround, warm (vs bench/hand.sh cold)" "$m_warm" "$m_hand" s 0.25 lower "median of ${#warm_total[@]} runs"
    else
        unmeasured "scenario turnaround, warm (vs bench/hand.sh cold)" s "<= 0.25" "warm runs failed"; failed=1
    fi
    # Issue 12's absolute goals, beside the ratios: a warm crash run end to end and a restore
    # to agent-ready, on the 256 MiB guest.
    [[ -n $m_warm ]] && row "warm crash run end to end, 256 MiB (absolute)" "$m_warm" "" s 1.8 abs-max \
        "issue 12 goal; median of ${#warm_total[@]} runs, boot + fault + dump + result"
    [[ -n $m_wstart ]] && row "run start: restore to agent-ready (absolute)" "$m_wstart" "" s 0.5 abs-max \
        "issue 12 goal; define+restore+boot+agent-up timings of result.json"
    if [[ -n $m_spare ]]; then
        row "warm crash run end to end, 256 MiB, --spare (absolute)" "$m_spare" "" s 1.8 abs-max \
            "issue 12 goal; median of ${#spare_total[@]} runs that resumed the spare the run before left (and each left one)"
        row "run start: resume a spare to agent-ready (absolute)" "$m_sstart" "" s 0.5 abs-max \
            "issue 12 goal; define+restore+boot+agent-up timings of result.json, --spare"
        [[ -n $cold_start ]] && row "run start: resume a spare (vs cold boot to agent-up)" "$m_sstart" "$cold_start" s 0.08 lower \
            "define+restore+boot+agent-up timings of result.json"
        [[ -n $m_warm ]] && row "warm crash run: --spare (vs --warm restore)" "$m_spare" "$m_warm" s 1 lower \
            "same scenario, same state directory, one after the other"
    elif [[ $has_spare == 1 ]]; then
        unmeasured "warm crash run end to end, 256 MiB, --spare (absolute)" s "<= 1.8" "--spare runs failed"; failed=1
    fi
    if [[ -n $m_wstart && -n $cold_start ]]; then
        row "run start: restore (vs cold boot to agent-up)" "$m_wstart" "$cold_start" s 0.08 lower \
            "define+restore+boot+agent-up timings of result.json"
    else
        unmeasured "run start: restore (vs cold boot to agent-up)" s "<= 0.08" "warm or cold runs failed"; failed=1
    fi
    if [[ -n $m_wstart && -n $m_raw ]]; then
        row "run start: restore (vs raw virsh restore to agent-up)" "$m_wstart" "$m_raw" s 1 lower \
            "virsh restore of a saved agent-ready guest + guest-ping loop (bench/hand.sh --mode restore)"
    else
        unmeasured "run start: restore (vs raw virsh restore to agent-up)" s "<= 1" "warm runs or virsh save/restore failed"; failed=1
    fi
else
    unmeasured "scenario turnaround, warm (vs bench/hand.sh cold)" s "<= 0.25" "crashlab run has no --warm yet"
    unmeasured "run start: restore (vs cold boot to agent-up)" s "<= 0.08" "crashlab run has no --warm yet"
fi
m_hstart=$(median "${hand_start[@]}")
if [[ -n $cold_start && -n $m_hstart ]]; then
    row "run start: cold boot to agent-up (vs bench/hand.sh)" "$cold_start" "$m_hstart" s 1.15 lower \
        "define+boot+agent-up vs virsh create + guest-ping loop"
fi

# --- dump collection: throughput of crashlab's dump vs cp of a file of the same size on
# the same file system (the results directory).
m_ds=$(median "${cl_dump_s[@]}") m_db=$(median "${cl_dump_b[@]}")
if [[ -n $m_ds && -n $m_db ]]; then
    bytes=${m_db%.*}
    head -c "$bytes" /dev/urandom >"$work/res/cpsrc"
    sync "$work/res/cpsrc"
    cps=()
    for i in $(seq 1 "$FAST_REPS"); do
        t0=$(now); cp "$work/res/cpsrc" "$work/res/cpdst"; t1=$(now)
        cps+=("$(elapsed "$t0" "$t1")"); rm -f "$work/res/cpdst"
    done
    m_cp=$(median "${cps[@]}")
    mbs() { python3 -c 'import sys; print(float(sys.argv[1]) / float(sys.argv[2]) / 1e6)' "$1" "$2"; }
    row "dump collection throughput (vs cp of a same-size file)" "$(mbs "$bytes" "$m_ds")" "$(mbs "$bytes" "$m_cp")" MB/s 0.8 higher \
        "kdump-zlib, $((bytes / 1000000)) MB written; cp of $((bytes / 1000000)) MB page cache to page cache"
    m_hds=$(median "${hand_dump_s[@]}")
    [[ -n $m_hds ]] && row "dump collection time (vs virsh dump in hand.sh)" "$m_ds" "$m_hds" s 1.15 lower "same format, same guest"
else
    unmeasured "dump collection throughput (vs cp of a same-size file)" MB/s ">= 0.8" "no crashlab run wrote a dump"
    failed=1
fi

# --- crash runs per hour: two runs at once, each with its own state directory (what the
# daemon's slots do), against one run at a time.
slots() { # MODE(cold|warm) -> wall seconds for two concurrent runs
    local t0 t1 a b ok=0 flag=
    [[ $1 == warm ]] && flag=--warm
    [[ $1 == spare ]] && flag=--spare
    t0=$(now)
    "$CRASHLAB" run "$SCEN" --accel "$ACCEL" $flag --state "$work/st1" --results "$work/res" --run-id "$1-s1-$(date +%s%N)" --quiet >/dev/null 2>"$work/$1-s1.err" &
    a=$!
    "$CRASHLAB" run "$SCEN" --accel "$ACCEL" $flag --state "$work/st2" --results "$work/res" --run-id "$1-s2-$(date +%s%N)" --quiet >/dev/null 2>"$work/$1-s2.err" &
    b=$!
    kids=("$a" "$b")
    wait "$a" || ok=1
    wait "$b" || ok=1
    kids=()
    t1=$(now)
    [[ $ok == 0 ]] || { note "a concurrent $1 run failed: $(tail -1 "$work/$1-s1.err") $(tail -1 "$work/$1-s2.err")"; return 1; }
    elapsed "$t0" "$t1"
}
perhour() { python3 -c 'import sys; print(float(sys.argv[1]) * 3600 / float(sys.argv[2]))' "$1" "$2"; }
if [[ $has_warm == 1 && -n ${m_warm:-} ]]; then
    if w2=$(slots warm); then
        row "crash runs/hour, warm, 2 slots (vs 1 slot)" "$(perhour 2 "$w2")" "$(perhour 1 "$m_warm")" runs/h 1.7 higher \
            "goal also: >= 1000 runs/h with 2 slots"
        row "crash runs/hour, warm, 2 slots (absolute)" "$(perhour 2 "$w2")" "" runs/h 2500 abs-min \
            "issue 12 goal (issue 8's was 1000)"
    else
        unmeasured "crash runs/hour, warm, 2 slots (vs 1 slot)" runs/h ">= 1.7" "concurrent warm runs failed"; failed=1
    fi
else
    unmeasured "crash runs/hour, warm, 2 slots (vs 1 slot)" runs/h ">= 1.7" \
        "$([[ $has_warm == 1 ]] && echo "warm runs failed" || echo "crashlab run has no --warm yet")"
    [[ $has_warm == 1 ]] && failed=1
fi
if [[ -n ${m_spare:-} ]]; then
    # Steady state: slot 2 gets its own spare first (slot 1 has one from the runs above).
    "$CRASHLAB" run "$SCEN" --accel "$ACCEL" --spare --state "$work/st2" --results "$work/res" --run-id spare0-s2 --quiet \
        >/dev/null 2>"$work/spare0-s2.err" || note "priming slot 2's spare failed"
    if w2=$(slots spare) && w2b=$(slots spare); then
        m2=$(median "$w2" "$w2b")
        row "crash runs/hour, --spare, 2 slots (absolute)" "$(perhour 2 "$m2")" "" runs/h 2500 abs-min \
            "issue 12 goal; two pairs of concurrent runs, each resuming its slot's spare and leaving the next"
        row "crash runs/hour, --spare, 2 slots (vs 1 slot)" "$(perhour 2 "$m2")" "$(perhour 1 "$m_spare")" runs/h 1.7 higher ""
    else
        unmeasured "crash runs/hour, --spare, 2 slots (absolute)" runs/h ">= 2500" "concurrent --spare runs failed"; failed=1
    fi
    for s in 1 2; do "$CRASHLAB" spare drop --state "$work/st$s" >/dev/null 2>&1; done
fi
if [[ -n $m_cl && ${BENCH_COLD_SLOTS:-0} == 1 ]]; then
    note "2 slots, cold"
    if w2=$(slots cold); then
        row "crash runs/hour, cold, 2 slots (vs 1 slot)" "$(perhour 2 "$w2")" "$(perhour 1 "$m_cl")" runs/h 1.7 higher \
            "two crashlab runs at once, separate state directories"
    else
        unmeasured "crash runs/hour, cold, 2 slots (vs 1 slot)" runs/h ">= 1.7" "concurrent cold runs failed"; failed=1
    fi
fi

# --- inspect of the real triage dump vs sha256sum of the same file.
if [[ -r $TRIAGE ]]; then
    it=() ir=() st=() sr=()
    tv() { # CMD... -> "seconds maxrss_kb" of one run
        $TIME -f '%e %M' -o "$work/tv" "$@" >/dev/null 2>&1 || { echo "fail"; return; }
        tail -1 "$work/tv"
    }
    # /usr/bin/time's %e has 10 ms resolution: time several back-to-back calls.
    loop() { local n=$1; shift; for _ in $(seq 1 "$n"); do "$@" >/dev/null || return 1; done; }
    for i in $(seq 1 "$FAST_REPS"); do
        read -r t r < <(tv "$CRASHLAB" inspect "$TRIAGE"); it+=("$t"); ir+=("$r")
        read -r t r < <(tv sha256sum "$TRIAGE"); st+=("$t"); sr+=("$r")
        t0=$(now); loop 20 "$CRASHLAB" inspect "$TRIAGE"; t1=$(now); it[-1]=$(python3 -c "print(($t1-$t0)/20)")
        t0=$(now); loop 20 sha256sum "$TRIAGE"; t1=$(now); st[-1]=$(python3 -c "print(($t1-$t0)/20)")
    done
    if [[ " ${it[*]} ${ir[*]} " != *fail* ]] && "$CRASHLAB" inspect "$TRIAGE" >/dev/null 2>&1; then
        row "inspect triage_x64.dmp: time (vs sha256sum)" "$(median "${it[@]}")" "$(median "${st[@]}")" s "" lower \
            "median of $FAST_REPS x 20 calls; goal: none in the issue"
        row "inspect triage_x64.dmp: peak RSS (vs sha256sum)" "$(python3 -c "print($(median "${ir[@]}")/1024)")" \
            "$(python3 -c "print($(median "${sr[@]}")/1024)")" MB "" lower "/usr/bin/time -v maximum resident set size"
    else
        unmeasured "inspect triage_x64.dmp: time (vs sha256sum)" s "" "crashlab inspect failed on it"
        failed=1
    fi
else
    unmeasured "inspect triage_x64.dmp: time (vs sha256sum)" s "" "$TRIAGE not found"
fi

# --- daemon idle RSS
if [[ $has_serve == 1 ]]; then
    ds=$work/serve && mkdir -p "$ds" && chmod 755 "$ds"
    "$CRASHLAB" serve --state "$ds" --slots 2 --quiet >"$work/serve.out" 2>"$work/serve.err" &
    sp=$!
    kids=("$sp")
    for _ in $(seq 1 50); do [[ -S $ds/serve.sock ]] && break; sleep 0.2; done
    sleep 3
    rss=$(awk '/^VmRSS/{print $2}' "/proc/$sp/status" 2>/dev/null)
    up=0; [[ -S $ds/serve.sock ]] && kill -0 "$sp" 2>/dev/null && up=1
    kill -TERM "$sp" 2>/dev/null; wait "$sp" 2>/dev/null; kids=()
    if [[ -n $rss && $up == 1 ]]; then
        row "daemon idle RSS (crashlab serve --slots 2)" "$(python3 -c "print($rss/1024)")" "" MB "" abs \
            "VmRSS 3 s after its socket appeared, no jobs"
    else
        unmeasured "daemon idle RSS (crashlab serve --slots 2)" MB "" "serve did not stay up: $(tail -1 "$work/serve.err")"
        failed=1
    fi
else
    unmeasured "daemon idle RSS (crashlab serve --slots 2)" MB "" "crashlab has no serve command yet"
fi

# --- the lab's own dump writer against QEMU's, and its scaling curve (bench/dumpwriter.sh)
source bench/dumpwriter.sh
bench_dump_writer

# --- the table and build/bench.json
mkdir -p "$(dirname "$OUTJSON")"
python3 - "$rows" "$OUTJSON" "$REPS" <<'PY'
import json, os, platform, sys, time
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
doc = {"date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
       "machine": f"{platform.node()}: {os.cpu_count()} cores ({cpu}), "
                  f"{round(os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 2**30)} GiB, "
                  f"{platform.system()} {platform.release()}, TCG (no KVM)",
       "load_at_end": open("/proc/loadavg").read().split()[:3], "reps": int(sys.argv[3]), "metrics": rows}
tmp = sys.argv[2] + ".tmp"
with open(tmp, "w") as f:
    json.dump(doc, f, indent=1)
os.replace(tmp, sys.argv[2])
def f(x):
    return "-" if x is None else (f"{x:.3g}" if abs(x) < 100 else f"{x:.0f}")
print(f"\ncrashlab bench, {doc['date']}, {doc['machine']}\n")
print("| metric | crashlab | baseline | unit | ratio | goal | met |")
print("|---|---|---|---|---|---|---|")
for r in rows:
    met = {True: "yes", False: "NO", None: "-"}[r["goal_met"]]
    print(f"| {r['metric']} | {f(r['crashlab'])} | {f(r['baseline'])} | {r['unit']} | {f(r['ratio'])} | {r['goal'] or '-'} | {met} |")
notes = [r for r in rows if r.get("note")]
if notes:
    print()
    for r in notes:
        print(f"- {r['metric']}: {r['note']}")
print(f"\nwritten: {sys.argv[2]}")
PY
exit "$failed"
