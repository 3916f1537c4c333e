# Shared helpers of the reliability scripts (sourced). Builds on tests/integration/lib.sh
# (ok/not_ok/check/json/finish, $CRASHLAB: the ASan build when it exists).
. "$(dirname "${BASH_SOURCE[0]}")/../integration/lib.sh"
cd "$ROOT"
KO=$ROOT/build/linux/labfault.ko

# A work directory QEMU (libvirt-qemu) can enter; removed at exit with what ran in it.
mkwork() {
    work=$(mktemp -d "/tmp/cl-rel-$1.XXXXXX")
    chmod 755 "$work"
    trap 'rel_cleanup' EXIT
}
rel_pids=()
rel_cleanup() {
    local p
    for p in "${rel_pids[@]}"; do kill -9 "$p" 2>/dev/null; done
    # QEMU processes of this work directory only (their command line names it).
    for p in $(pgrep -f "qemu-system.*$work/" 2>/dev/null); do kill -9 "$p" 2>/dev/null; done
    wait 2>/dev/null
    mountpoint -q "$work/tmpfs" 2>/dev/null && umount "$work/tmpfs"
    rm -rf "$work"
}

# scenario FILE [memory_mb] [kernel_args] [observe]: the panic fault, as scenarios/linux/panic.yaml.
scenario() {
    cat >"$1" <<Y
name: reliability
guest: {profile: linux, memory_mb: ${2:-256}${3:+, kernel_args: "$3"}}
steps:
  - install: $KO
  - trigger: {fault: bugcheck, message: "reliability panic"}
expect: {verdict: expected-crash, kind: panic}
timeouts: {boot: ${5:-120}, step: 60, observe: ${4:-60}, run: 400}
capture: {dump_format: kdump-zlib}
Y
}

# start_run NAME SCENARIO [crashlab args...]: runs in the background (TCG asked for: KVM
# does not work here and a fresh state directory would pay a 6 s probe) with its own state
# directory $work/NAME.st and results $work/NAME.res (unless --results is given);
# progress lines land in $work/NAME.err. Sets RUN_PID.
start_run() {
    local name=$1 scen=$2
    shift 2
    mkdir -p "$work/$name.st" && chmod 755 "$work/$name.st"
    local res=(--results "$work/$name.res")
    [[ " $* " == *" --results "* ]] && res=()
    "$CRASHLAB" run "$scen" --accel tcg --state "$work/$name.st" "${res[@]}" --run-id "$name" "$@" \
        >"$work/$name.out" 2>"$work/$name.err" &
    RUN_PID=$!
    rel_pids+=("$RUN_PID")
}

# wait_for FILE REGEX SECONDS: true once the file has a matching line.
wait_for() {
    local i
    for i in $(seq 1 $(($3 * 5))); do
        grep -qE "$2" "$1" 2>/dev/null && return 0
        sleep 0.2
    done
    return 1
}

qemu_of() { pgrep -f "qemu-system.*$work/$1.st" | head -1; }

# domains_left NAME: how many domains the run's embedded root still knows.
domains_left() {
    virsh -c "qemu:///embed?root=$work/$1.st/embed" list --all --name 2>/dev/null | grep -c .
}

# Peak RSS in MiB from a /usr/bin/time -v report.
peak_mb() { awk -F: '/Maximum resident set size/{printf "%d", $2 / 1024}' "$1"; }
