#!/usr/bin/env bash
# crashlab run --record (issue 17, README "Record and replay"): real panic, use-after-free and
# hung-task runs recorded and replayed to bit-identical dumps; the panic run under TCG with
# QEMU record/replay; result.json replay{} must describe the files the run directory really
# holds (sha256 and size recomputed here), the icount QEMU reached at the dump, and the log
# must be the run owner's again. The use-after-free replay stays at the panic (--gdb) and gdb, in batch
# mode, reverse-continues to the store that corrupted the object: memset called from lf_fire.
# --warm with --record is refused with the reason; --print-xml
# shows -icount only when asked. KEEP=1 keeps the work dir.
set -u
. "$(dirname "$0")/lib.sh"
cd "$ROOT"
work=$(mktemp -d /tmp/cl-record.XXXXXX); chmod 711 "$work"
trap '[ "${KEEP:-0}" = 1 ] || rm -rf "$work"' EXIT
sed -e 's/^timeouts: .*/timeouts: {boot: 400, step: 120, observe: 120, run: 900}/' scenarios/linux/panic.yaml >"$work/panic.yaml"

# The XML: -icount and the qemu namespace only with --record.
"$CRASHLAB" run "$work/panic.yaml" --accel tcg --print-xml >"$work/plain.xml" 2>&1
"$CRASHLAB" run "$work/panic.yaml" --accel tcg --print-xml --record >"$work/rec.xml" 2>&1
check "print-xml: no -icount without --record" bash -c "! grep -q -- '-icount' '$work/plain.xml' && grep -q '<domain' '$work/plain.xml'"
check "print-xml: rr=record and panic=pause with --record" \
    bash -c "grep -q 'shift=auto,rr=record,rrfile=.*/replay.bin' '$work/rec.xml' && grep -q 'panic=pause' '$work/rec.xml'"
check "print-xml: a recorded guest has the vapic off (a snapshot of it loads: replay --gdb), the plain one on" \
    bash -c "grep -q 'apic.vapic=off' '$work/rec.xml' && ! grep -q 'vapic' '$work/plain.xml'"
check "print-xml: a recorded guest has no agent channel, the plain one has" \
    bash -c "! grep -q 'org.qemu.guest_agent.0' '$work/rec.xml' && grep -q 'org.qemu.guest_agent.0' '$work/plain.xml'"

# A recorded run.
id=r-panic
"$CRASHLAB" run "$work/panic.yaml" --accel tcg --record --results "$work/results" --state "$work/state" \
    --run-id "$id" --quiet >"$work/$id.run" 2>&1
res=$work/results/$id/result.json

# The use-after-free and hung-task faults recorded too. Their replays start now and run beside
# the panic's below (each in a state directory of its own, since runs on one state directory
# wait for each other); checked at the end by sha256sum.
faults="use-after-free hung-task"
declare -A rpid
gdbport=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
for s in $faults; do
    sed -e 's/^timeouts: .*/timeouts: {boot: 400, step: 120, observe: 120, run: 900}/' "scenarios/linux/$s.yaml" >"$work/$s.yaml"
    "$CRASHLAB" run "$work/$s.yaml" --accel tcg --record --results "$work/results" --state "$work/state-$s" \
        --run-id "r-$s" --quiet >"$work/r-$s.run" 2>&1
    check "$s recorded: expected-crash ($(json "$work/results/r-$s/result.json" 'd["verdict"]+": "+d["reason"][:80]' 2>&1))" \
        test "$(json "$work/results/r-$s/result.json" 'd["verdict"]' 2>/dev/null)" = expected-crash
    # The use-after-free replay stays at the panic for gdb (below).
    gdbopt=(); [ "$s" = use-after-free ] && gdbopt=(--gdb "$gdbport")
    "$CRASHLAB" replay "$work/results/r-$s" --results "$work/replays-$s" --state "$work/state-$s" --timeout 1500 \
        "${gdbopt[@]}" >"$work/replay-$s.out" 2>&1 &
    rpid[$s]=$!
done

# A corpus of the recorded panic run: its entry is replayable and corpus verify --replay makes
# the dump again (beside the other replays); a copy with a changed log fails by name.
"$CRASHLAB" corpus build --from "$work/results/$id" --out "$work/corpus" >"$work/corpus.out" 2>&1
check "corpus: the recorded entry is replayable, its inputs copied into the corpus" \
    python3 -c 'import json,sys,os
d=json.load(open(sys.argv[1]+"/manifest.json"))["dumps"][0]; r=d["replay"]; e=sys.argv[1]+"/"+r["dir"]
sys.exit(not (r["replayable"] and d["fault"] == "bugcheck" and all(os.path.isfile(e+"/"+f) for f in ("replay.bin","domain.xml","result.json"))
              and len(os.listdir(sys.argv[1]+"/inputs")) == 2))' "$work/corpus"
"$CRASHLAB" corpus verify "$work/corpus" --replay --state "$work/state-corpus" >"$work/corpus-replay.out" 2>&1 &
cpid=$!
cp -a "$work/corpus" "$work/corpus-t"
printf 'X' | dd of="$(ls "$work"/corpus-t/replay/*/replay.bin)" bs=1 seek=100 conv=notrunc status=none
"$CRASHLAB" corpus verify "$work/corpus-t" --replay --state "$work/state-corpus-t" >"$work/corpus-t.out" 2>&1; rc=$?
check "corpus verify --replay: a changed log is a mismatch naming it (rc $rc)" \
    bash -c "[ $rc = 1 ] && grep -q '^MISMATCH .*replay: replay: input log (.*replay.bin) changed since the record' '$work/corpus-t.out'"

if [ ! -f "$res" ]; then
    not_ok "recorded run: no result.json ($(tail -c 300 "$work/$id.run"))"
else
    check "recorded run: result.json fits the schema" schema_ok "$res"
    check "recorded run: verdict expected-crash" test "$(json "$res" 'd["verdict"]')" = expected-crash
    check "recorded run: replay.recorded" test "$(json "$res" 'd["replay"]["recorded"]')" = True
    ic=$(json "$res" 'd["replay"].get("icount", 0)')
    check "recorded run: icount at the dump ($ic) is over a billion (a booted guest)" test "$ic" -gt 1000000000
    log=$work/results/$id/replay.bin
    check "recorded run: replay.bin sha256 as recorded" \
        test "$(sha256sum <"$log" | cut -d' ' -f1)" = "$(json "$res" 'd["replay"]["log"]["sha256"]')"
    check "recorded run: replay.bin size as recorded and not empty" \
        bash -c "[ $(stat -c %s "$log") -gt 0 ] && [ $(stat -c %s "$log") = $(json "$res" 'd["replay"]["log"]["bytes"]') ]"
    check "recorded run: domain.xml sha256 as recorded" \
        test "$(sha256sum <"$work/results/$id/domain.xml" | cut -d' ' -f1)" = "$(json "$res" 'd["replay"]["domain_xml"]["sha256"]')"
    check "recorded run: kernel sha256 is the guest's vmlinuz" \
        test "$(sha256sum <build/guest/vmlinuz | cut -d' ' -f1)" = "$(json "$res" 'd["replay"]["kernel"]["sha256"]')"
    check "recorded run: initrd sha256 is the guest's initrd" \
        test "$(sha256sum <build/guest/initrd.img | cut -d' ' -f1)" = "$(json "$res" 'd["replay"]["initrd"]["sha256"]')"
    check "recorded run: the log belongs to the run's owner again" test "$(stat -c %u "$log")" = "$(id -u)"
    check "recorded run: a dump was taken" bash -c "ls '$work/results/$id'/dump.* >/dev/null 2>&1"

    # crashlab replay --check: unchanged inputs pass; a changed one is refused by name.
    check "replay --check: the untouched run passes" "$CRASHLAB" replay --check "$work/results/$id"
    for f in replay.bin domain.xml; do
        cp -a "$work/results/$id" "$work/t-$f"
        printf 'X' | dd of="$work/t-$f/$f" bs=1 seek=100 conv=notrunc status=none
        "$CRASHLAB" replay --check "$work/t-$f" >"$work/t-$f.out" 2>&1; rc=$?
        key=log; [ $f = domain.xml ] && key=domain_xml
        check "replay --check: a changed $f is refused by name (rc $rc)" \
            bash -c "[ $rc = 1 ] && grep -q 'input $key (.*$f) changed since the record' '$work/t-$f.out'"
    done
    cp -a "$work/results/$id" "$work/t-qemu"
    python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); d["host"]["qemu_version"]="6.2.0"; json.dump(d, open(sys.argv[1], "w"))' \
        "$work/t-qemu/result.json"
    "$CRASHLAB" replay --check "$work/t-qemu" >"$work/t-qemu.out" 2>&1; rc=$?
    check "replay --check: another QEMU version is refused (rc $rc)" \
        bash -c "[ $rc = 1 ] && grep -q 'recorded under QEMU 6.2.0, this host has QEMU' '$work/t-qemu.out'"
    # crashlab replay: the recorded guest again under rr=replay, to the same icount and dump; the
    # replayed dump is judged by sha256sum here, not only by the lab's own comparison.
    "$CRASHLAB" replay "$work/results/$id" --results "$work/replays" --state "$work/state" --timeout 1200 \
        >"$work/replay.out" 2>&1; rc=$?
    rj=$(ls "$work/replays"/*/replay.json 2>/dev/null | head -1)
    check "replay: exit 0, replay.json identical (rc $rc: $(tail -c 200 "$work/replay.out" | tr '\n' ' '))" \
        bash -c "[ $rc = 0 ] && [ -f '$rj' ] && [ \"\$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[\"identical\"])' '$rj')\" = True ]"
    check "replay: sha256sum of the replayed dump is the recorded dump's" \
        test "$(sha256sum <"$(dirname "${rj:-/nonexistent/x}")/dump.elf" 2>/dev/null | cut -d' ' -f1)" = "$(sha256sum <"$work/results/$id/dump.elf" | cut -d' ' -f1)"
    # A tampered log: refused by name before QEMU starts, no dump.
    "$CRASHLAB" replay "$work/t-replay.bin" --results "$work/replays-t" --state "$work/state" >"$work/replay-t.out" 2>&1; rc=$?
    check "replay: a tampered replay.bin fails by name, no dump written (rc $rc)" \
        bash -c "[ $rc = 1 ] && grep -q 'input log (.*replay.bin) changed since the record' '$work/replay-t.out' && ! ls '$work/replays-t'/*/dump.* >/dev/null 2>&1"
    mkdir -p "$work/norec"
    python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); d.pop("replay"); json.dump(d, open(sys.argv[2], "w"))' \
        "$res" "$work/norec/result.json"
    "$CRASHLAB" replay --check "$work/norec" >"$work/norec.out" 2>&1; rc=$?
    check "replay --check: a run without --record is refused (rc $rc)" \
        bash -c "[ $rc = 1 ] && grep -q 'was not recorded' '$work/norec.out'"
fi

# The reverse-debugging walk-through of the README, driven by gdb in batch mode over the paused
# replay: symbols from replay.gdb, a watchpoint on the first byte the slab report names as
# overwritten, reverse-continue; the store that hits it must be memset called from lf_fire.
uaf=use-after-free
for _ in $(seq 1500); do
    grep -q 'paused at the panic' "$work/replay-$uaf.out" 2>/dev/null && break
    kill -0 "${rpid[$uaf]}" 2>/dev/null || break
    sleep 1
done
obj=$(grep -m1 -o '0x[0-9a-f]*-0x[0-9a-f]* @offset=[0-9]*\. First byte' "$work/results/r-$uaf/console.log" | cut -d- -f1)
script=$(ls "$work/replays-$uaf"/*/replay.gdb 2>/dev/null | head -1)
check "use-after-free replay --gdb: paused at the panic with replay.gdb written" \
    bash -c "grep -q 'paused at the panic' '$work/replay-$uaf.out' && [ -f '$script' ] && [ -n '$obj' ]"
printf '%s\n' 'echo == at the panic\n' 'bt 12' "watch *(char *)$obj" 'reverse-continue' 'echo == the last write\n' \
    'x/i $pc' 'echo == returns to\n' 'info symbol *(unsigned long *)$sp' 'bt 3' >"$work/walk.gdb"
timeout 900 gdb -batch -nx -x "${script:-/nonexistent}" -x "$work/walk.gdb" >"$work/gdb.out" 2>&1
check "gdb: labfault's symbols loaded from the guest's module list" grep -q '^cl-load-modules: labfault .text at 0x' "$work/gdb.out"
check "gdb: stopped at the panic (the pvpanic notifier under panic())" \
    bash -c "sed -n '/== at the panic/,/== the last write/p' '$work/gdb.out' | grep -q 'pvpanic_panic_notify' &&
             sed -n '/== at the panic/,/== the last write/p' '$work/gdb.out' | grep -q ' in panic '"
check "gdb: reverse-continue to the watched byte stops in memset" \
    bash -c "sed -n '/== the last write/,/== returns to/p' '$work/gdb.out' | grep -q '<memset+'"
check "gdb: the store was called from lf_fire (return address and frame #1)" \
    bash -c "sed -n '/== returns to/,\$p' '$work/gdb.out' | grep -q '^lf_fire + [0-9]* in section .text of .*labfault.ko' &&
             sed -n '/== returns to/,\$p' '$work/gdb.out' | grep -q '^#1 .* in lf_fire () at .*labfault.c:'"
kill -TERM "${rpid[$uaf]}" 2>/dev/null

for s in $faults; do
    wait "${rpid[$s]}"; rc=$?
    rj=$(ls "$work/replays-$s"/*/replay.json 2>/dev/null | head -1)
    check "$s replay: exit 0 at the recorded icount (rc $rc: $(tail -c 160 "$work/replay-$s.out" | tr '\n' ' '))" \
        bash -c "[ $rc = 0 ] && [ -f '$rj' ] && python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); sys.exit(not (d[\"identical\"] and d[\"icount\"] == d[\"recorded_icount\"] > 0))' '$rj'"
    check "$s replay: sha256sum of the replayed dump is the recorded dump's" \
        test "$(sha256sum <"$(dirname "${rj:-/nonexistent/x}")/dump.elf" 2>/dev/null | cut -d' ' -f1)" = "$(sha256sum <"$work/results/r-$s/dump.elf" | cut -d' ' -f1)"
done

wait "$cpid"; rc=$?
check "corpus verify --replay: the panic entry replayed to its recorded icount and dump (rc $rc: $(tail -c 200 "$work/corpus-replay.out" | tr '\n' ' '))" \
    bash -c "[ $rc = 0 ] && grep -q '^ok dumps/.*: replay: icount [0-9]* and dump sha256 .* as recorded' '$work/corpus-replay.out'"
check "use-after-free replay --gdb: Ctrl-C ended it; replay.json lists the snapshots, their file is gone" \
    bash -c "python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); sys.exit(not (len(d[\"snapshots\"]) >= 2 and d[\"gdb\"][\"port\"] == $gdbport))' $work/replays-$uaf/*/replay.json &&
             ! ls $work/replays-$uaf/*/rr-snapshots.qcow2 >/dev/null 2>&1 && ! pgrep -f '[g]uest=cl-r-' >/dev/null"

# --warm cannot be recorded: a replay starts at power-on.
"$CRASHLAB" run "$work/panic.yaml" --accel tcg --record --warm --results "$work/results" --state "$work/state" \
    --run-id w-panic --quiet >"$work/warm.run" 2>&1
wres=$work/results/w-panic/result.json
check "--record --warm: refused, the reason names --warm" \
    bash -c "[ -f '$wres' ] && [ \"\$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[\"reason\"])' '$wres')\" != '' ] && grep -q 'replay starts at power-on; --warm' '$wres'"
finish
