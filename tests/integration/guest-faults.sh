#!/usr/bin/env bash
# Every Linux fault whose catalogue outcome is "crash", fired for real on the crashlab guest
# under plain QEMU (TCG), no libvirt: boot build/guest with the fault's kernel command line
# from the catalogue and crashlab.selftest=FAULT, and check the console for
#   - the guest's ready line and the module's ground-truth line,
#   - the catalogue's Linux pattern for the fault,
#   - a kernel panic that reached QEMU through pvpanic (QEMU exits 1 with panic=exit-failure),
#     before the per-fault timeout. The "Kernel panic - not syncing" line itself is not
#     required: panic() notifies pvpanic before it flushes the console, and from a double
#     fault (stack overflow) the line never makes it out.
# and that the guest files still match build/guest/manifest.json afterwards.
# Two guests run at a time. FAULTS="a b" runs only those; KEEP=1 keeps the console logs.
set -u
. "$(dirname "$0")/lib.sh"
cd "$ROOT"

GUEST=build/guest
AGENT=build/linux/labagent
PER_FAULT_TIMEOUT=${PER_FAULT_TIMEOUT:-90}
JOBS=${JOBS:-2}
QEMU=${QEMU:-qemu-system-x86_64}


for f in "$GUEST/vmlinuz" "$GUEST/initrd.img" "$AGENT"; do
    if [[ ! -r $f ]]; then
        not_ok "guest-faults: $f missing (run make guest)"
        exit 1
    fi
done
if ! command -v "$QEMU" >/dev/null || ! command -v jq >/dev/null; then
    not_ok "guest-faults: $QEMU and jq are needed"
    exit 1
fi

logdir=$(mktemp -d "${TMPDIR:-/tmp}/crashlab-guest-faults.XXXXXX")
[[ ${KEEP:-0} == 1 ]] || trap 'rm -rf "$logdir"' EXIT

all_ids=$(sed -n 's/^LABFAULT([A-Z_]*, *[0-9]*, *"\([a-z-]*\)").*/\1/p' drivers/catalogue/faults.def)
ids=${FAULTS:-$all_ids}

# Boots one guest for one fault; leaves $logdir/$id.{console,rc,secs}.
run_fault() {
    local id=$1 cmdline=$2 vcpus=$3
    local start=$SECONDS
    timeout -k 5 "$PER_FAULT_TIMEOUT" "$QEMU" -accel tcg -m 256 -smp "$vcpus" -nographic \
        -no-reboot -nodefaults -serial stdio -device pvpanic -action panic=exit-failure \
        -kernel "$GUEST/vmlinuz" -initrd "$GUEST/initrd.img" \
        -append "console=ttyS0 $cmdline crashlab.selftest=$id" \
        </dev/null >"$logdir/$id.console" 2>&1
    echo $? >"$logdir/$id.rc"
    echo $((SECONDS - start)) >"$logdir/$id.secs"
}

# Checks one finished guest against the catalogue.
check_fault() {
    local id=$1 pattern=$2 kind=$3
    local log=$logdir/$id.console rc secs
    rc=$(cat "$logdir/$id.rc")
    secs=$(cat "$logdir/$id.secs")
    local why=()
    grep -q 'crashlab-guest: ready' "$log" || why+=("no ready line")
    grep -q "labfault: ground-truth {\"fault\":\"$id\"" "$log" || why+=("no ground-truth line")
    grep -qE -- "$pattern" "$log" || why+=("console does not match /$pattern/")
    case $rc in
    1) ;;
    124 | 137) why+=("no panic within ${PER_FAULT_TIMEOUT}s") ;;
    *) why+=("qemu exited $rc, not through pvpanic") ;;
    esac
    if ((${#why[@]} == 0)); then
        ok "guest-faults: $id ($kind) panics, matches the catalogue pattern, ${secs}s"
    else
        local IFS=';'
        not_ok "guest-faults: $id ($kind): ${why[*]} (${secs}s)"
        echo "# last console lines of $id:"
        grep -v '^\s*$' "$log" | tail -n 25 | sed 's/^/#   /'
    fi
}

declare -a run_ids=() patterns=() kinds=()
running=0
for id in $ids; do
    exp=$("$AGENT" expect "$id") || { not_ok "guest-faults: labagent expect $id failed: $exp"; continue; }
    [[ $(jq -r .outcome <<<"$exp") == crash ]] || continue
    cmdline=$(jq -r .cmdline <<<"$exp")
    vcpus=$(jq -r .min_vcpus <<<"$exp")
    ((vcpus < 1)) && vcpus=1
    run_ids+=("$id")
    patterns+=("$(jq -r .pattern <<<"$exp")")
    kinds+=("$(jq -r .kind <<<"$exp")")
    if ((running >= JOBS)); then
        wait -n
        running=$((running - 1))
    fi
    run_fault "$id" "$cmdline" "$vcpus" &
    running=$((running + 1))
done
wait

if ((${#run_ids[@]} == 0)); then
    not_ok "guest-faults: no crash fault in the catalogue matched '${ids//$'\n'/ }'"
fi
for i in "${!run_ids[@]}"; do
    check_fault "${run_ids[$i]}" "${patterns[$i]}" "${kinds[$i]}"
done
# Runs only read the guest files.
if jq -e . "$GUEST/manifest.json" >/dev/null 2>&1; then
    changed=()
    for f in vmlinuz initrd.img; do
        want=$(jq -r ".files[\"$f\"].sha256" "$GUEST/manifest.json")
        [[ $(sha256sum <"$GUEST/$f" | cut -d' ' -f1) == "$want" ]] || changed+=("$f")
    done
    if ((${#changed[@]} == 0)); then
        ok "guest-faults: guest files match manifest.json after the runs"
    else
        not_ok "guest-faults: ${changed[*]} changed (sha256 differs from manifest.json)"
    fi
else
    not_ok "guest-faults: $GUEST/manifest.json missing or not JSON"
fi
[[ ${KEEP:-0} == 1 ]] && echo "# console logs kept in $logdir"
finish
