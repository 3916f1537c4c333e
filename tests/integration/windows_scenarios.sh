#!/usr/bin/env bash
# The shipped Windows scenarios: one per catalogue fault, each triggering the fault it is
# named after, valid for `crashlab validate`, and turned into a domain by
# `crashlab run --print-xml` (nothing is started; no Windows image is needed for that).
set -u
. "$(dirname "$0")/lib.sh"
cd "$ROOT"

CL=build/crashlab
[ -x "$CL" ] || { not_ok "build/crashlab exists # run make first"; exit 1; }
T=$PWD/$(mktemp -d build/winscen.tmp.XXXXXX)
trap '[ -n "${KEEP:-}" ] || rm -rf "$T"' EXIT

faults=$(sed -n 's/^LABFAULT([A-Z_]*, *[0-9]*, *"\([a-z-]*\)")$/\1/p' drivers/catalogue/faults.def)
for f in $faults; do
    y=scenarios/windows/$f.yaml
    check "scenario for $f exists" test -f "$y"
    check "$f.yaml triggers $f" grep -Eq "^  - trigger: (\{fault: )?$f\b" "$y"
done
check "no Windows scenario without a catalogue fault" \
    test "$(ls scenarios/windows/*.yaml | wc -l)" = "$(echo "$faults" | wc -w)"

"$CL" validate scenarios/windows/*.yaml >"$T/v" 2>&1
rc=$?
check "crashlab validate scenarios/windows/*.yaml exits 0" test "$rc" = 0
check "validate reports every file ok" test "$(grep -c ': ok$' "$T/v")" = "$(echo "$faults" | wc -w)"

# The same files with a typo must fail: the check above can fail.
sed 's/fault: bugcheck/fault: bugchek/' scenarios/windows/bugcheck.yaml >"$T/bad.yaml"
"$CL" validate "$T/bad.yaml" >"$T/vb" 2>&1
rc=$?
check "a misspelt fault id is refused with file:line:column" \
    bash -c "test $rc = 1 && grep -Eq 'bad.yaml:[0-9]+:[0-9]+: .*unknown fault' '$T/vb'"

# --print-xml is slow to start (libvirt), so the files run in parallel, each with its own
# state directory (runs sharing one serialize on it).
pxml() {
    local n; n=$(basename "$1" .yaml)
    timeout 120 "$CL" run "$1" --print-xml --accel tcg --quiet --state "$T/state-$n" \
        --results "$T/results-$n" >"$T/$n.xml" 2>"$T/$n.err"
    echo $? >"$T/$n.rc"
}
for y in scenarios/windows/*.yaml; do pxml "$y" & done
wait
for f in $faults; do
    x=$T/$f.xml
    good=false
    if [ "$(cat "$T/$f.rc" 2>/dev/null)" = 0 ] && xmllint --noout "$x" 2>/dev/null &&
        grep -q "<memory unit='MiB'>4096</memory>" "$x" && grep -q '<vcpu>2</vcpu>' "$x" &&
        grep -q 'OVMF' "$x" && grep -q "type='qcow2'" "$x"; then
        good=true
    fi
    check "crashlab run --print-xml $f.yaml: UEFI domain, 4096 MiB, 2 vCPUs, a qcow2 disk" $good
done
# Issue 18.5: the DPC watchdog faults get no relaxed timing (it tells Windows to disable
# watchdog timeouts); every other scenario keeps it.
for f in $faults; do
    case $f in dpc-watchdog-*) want=0 ;; *) want=1 ;; esac
    check "$f: <relaxed/> $([ $want = 0 ] && echo absent || echo present) in its domain" \
        test "$(grep -c "<relaxed state='on'/>" "$T/$f.xml")" = $want
done

finish
