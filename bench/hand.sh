#!/usr/bin/env bash
# The baseline `make bench` compares crashlab with: what a person would script by hand to
# get one crash dump out of the Linux guest, using only `virsh` and qemu-ga commands.
#
#   boot (virsh create) -> wait for qemu-ga (guest-ping) -> upload labfault.ko
#   (guest-file-*) -> labagent install-driver / arm bugcheck / fire (guest-exec)
#   -> wait for the domain to be "crashed" -> virsh dump --format kdump-zlib -> destroy
#
# Same guest (build/guest), same machine type, memory, devices and TCG as `crashlab run`
# of scenarios/linux/panic.yaml, same dump format. It does no verdict, no console
# parsing and no dump inspection: the lab has to pay for those inside its overhead.
#
# usage: bench/hand.sh --root DIR [--out DIR] [--guest DIR] [--module KO] [--memory MB] [--mode M]
#   --root DIR   the embedded libvirt root (kept between calls: created on first use)
#   --out DIR    where console.log and dump.kdump land (default: a temporary directory,
#                removed at exit)
#   --mode M     full (the above, default); save (boot, wait for qemu-ga, `virsh save` to
#                ROOT/saved.img: the raw libvirt way to a warm guest); restore (`virsh
#                restore` ROOT/saved.img, wait until qemu-ga answers, destroy)
# Prints one JSON object with the phase timings on stdout; exit 0 when it all worked.
set -uo pipefail

root= out= guest=build/guest module=build/linux/labfault.ko mem=256 mode=full
while (($#)); do
    case "$1" in
    --root) root=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --guest) guest=$2; shift 2 ;;
    --module) module=$2; shift 2 ;;
    --memory) mem=$2; shift 2 ;;
    --mode) mode=$2; shift 2 ;;
    *) echo "usage: $0 --root DIR [--out DIR] [--guest DIR] [--module KO] [--memory MB] [--mode full|save|restore]" >&2; exit 2 ;;
    esac
done
[[ -n $root ]] || { echo "hand.sh: --root is required" >&2; exit 2; }
die() { echo "hand.sh: $*" >&2; [[ -n ${dom:-} ]] && vs "destroy $dom"; exit 1; }
now() { date +%s.%N; }

guest=$(realpath "$guest") module=$(realpath "$module")
mkdir -p "$root/embed/etc" "$root/s" && chmod 755 "$root" "$root/s"
# Without virtlogd the embedded driver must write QEMU's log itself.
[[ -f $root/embed/etc/qemu.conf ]] || echo 'stdio_handler = "file"' >"$root/embed/etc/qemu.conf"
uri="qemu:///embed?root=$root/embed"
keep=1
if [[ -z $out ]]; then out=$(mktemp -d /tmp/hand.XXXXXX); keep=0; fi
mkdir -p "$out" && chmod 755 "$out"
out=$(realpath "$out")
[[ $keep == 1 ]] || trap 'rm -rf "$out"' EXIT

dom=hand-$$
console=$out/console.log
# A saved guest keeps its name and device paths: they must be the same at restore.
[[ $mode == full ]] || { dom=hand-saved; console=$root/saved-console.log; }
sock=$root/s/$dom.qga
: >"$console"
cat >"$out/domain.xml" <<EOF
<domain type='qemu'>
  <name>$dom</name>
  <memory unit='MiB'>$mem</memory>
  <vcpu>1</vcpu>
  <os>
    <type arch='x86_64' machine='pc'>hvm</type>
    <kernel>$guest/vmlinuz</kernel>
    <initrd>$guest/initrd.img</initrd>
    <cmdline>console=ttyS0,115200 loglevel=7 panic=0</cmdline>
  </os>
  <features><acpi/><apic/><vmcoreinfo state='on'/></features>
  <on_poweroff>destroy</on_poweroff>
  <on_reboot>restart</on_reboot>
  <on_crash>preserve</on_crash>
  <devices>
    <serial type='file'><source path='$console'/><target port='0'/></serial>
    <channel type='unix'>
      <source mode='bind' path='$sock'/>
      <target type='virtio' name='org.qemu.guest_agent.0'/>
    </channel>
    <panic model='isa'><address type='isa' iobase='0x505'/></panic>
    <video><model type='none'/></video>
    <memballoon model='none'/>
  </devices>
</domain>
EOF

# The clock starts before virsh connects: opening the embedded driver (and libvirt's
# capability probe, when its cache is outdated) is part of the job, as it is for crashlab.
t0=$(now)
# One virsh shell for the whole run: the embedded driver only knows that qemu-ga is
# connected if the process that saw the agent come up is still the one asking.
coproc VS { exec stdbuf -oL virsh -c "$uri" 2>&1; }
vin=${VS[1]} vout=${VS[0]}
n=0
OUT=
vs() { # vs COMMAND: what virsh answered (errors included, as "error: ...") lands in $OUT
    n=$((n + 1))
    OUT=
    echo "> ${1:0:300}" >>"$out/virsh.log"
    printf '%s\n__end%d__\n' "$1" "$n" >&"$vin" || { OUT="error: virsh shell went away"; return 1; }
    local line
    while IFS= read -r -t 600 line <&"$vout"; do
        [[ $line == "error: unknown command: '__end${n}__'" ]] && return 0
        [[ $line == "virsh # "* ]] && continue
        OUT+=$line$'\n'
        echo "$line" >>"$out/virsh.log"
    done
    OUT="error: virsh shell went away"
    return 1
}
vs ""   # swallow the welcome banner
ga() { vs "qemu-agent-command $dom $1 '$2'"; }
field() { sed -n "s/.*\"$1\":\\([0-9]*\\).*/\\1/p" <<<"$OUT" | head -1; }
# guest-exec, then poll guest-exec-status; sets RC to the exit code.
gexec() {
    local pid
    RC=
    ga "--timeout 30" "{\"execute\":\"guest-exec\",\"arguments\":{\"path\":\"/usr/bin/labagent\",\"arg\":$1,\"capture-output\":true}}"
    pid=$(field pid)
    [[ -n $pid ]] || return 1
    for _ in $(seq 1 600); do
        ga "--timeout 10" "{\"execute\":\"guest-exec-status\",\"arguments\":{\"pid\":$pid}}"
        if [[ $OUT == *'"exited":true'* ]]; then
            RC=$(field exitcode)
            return 0
        fi
        sleep 0.1
    done
    return 1
}

wait_agent() {
    for _ in $(seq 1 600); do
        ga "--timeout 2" '{"execute":"guest-ping"}'; [[ $OUT == *return* ]] && return 0
        sleep 0.25
    done
    die "qemu-ga never answered: $OUT"
}

rm -f "$sock"
if [[ $mode == restore ]]; then
    vs "restore $root/saved.img"; [[ $OUT == *restored* ]] || die "virsh restore failed: $OUT"
    wait_agent
    t_agent=$(now)
    vs "destroy $dom"
    dom=
    printf 'quit\n' >&"$vin"
    python3 -c 'import json,sys; print(json.dumps({"restore": float(sys.argv[2]) - float(sys.argv[1])}))' "$t0" "$t_agent"
    exit 0
fi
vs "create $out/domain.xml"; [[ $OUT == *created* ]] || die "virsh create failed: $OUT"
t_boot=$(now)
wait_agent
t_agent=$(now)
if [[ $mode == save ]]; then
    vs "save $dom $root/saved.img"; [[ $OUT == *saved* ]] || die "virsh save failed: $OUT"
    dom=
    printf 'quit\n' >&"$vin"
    python3 -c 'import json,sys; print(json.dumps({"boot-to-agent": float(sys.argv[2]) - float(sys.argv[1]), "save": float(sys.argv[3]) - float(sys.argv[2])}))' \
        "$t0" "$t_agent" "$(now)"
    exit 0
fi

# Upload in chunks: one argv string may not exceed 128 KiB.
ga "--timeout 10" '{"execute":"guest-file-open","arguments":{"path":"/tmp/labfault.ko","mode":"w"}}'
h=$(field return)
[[ -n $h ]] || die "guest-file-open failed: $OUT"
chunks=$(mktemp -d)
split -b 49152 "$module" "$chunks/c."
for c in "$chunks"/c.*; do
    ga "--timeout 10" "{\"execute\":\"guest-file-write\",\"arguments\":{\"handle\":$h,\"buf-b64\":\"$(base64 -w0 "$c")\"}}"
    [[ $OUT == *count* ]] || { rm -rf "$chunks"; die "guest-file-write failed: $OUT"; }
done
rm -rf "$chunks"
ga "--timeout 10" "{\"execute\":\"guest-file-close\",\"arguments\":{\"handle\":$h}}"
[[ $OUT == *return* ]] || die "guest-file-close failed: $OUT"
gexec '["install-driver","/tmp/labfault.ko"]' && [[ $RC == 0 ]] || die "install-driver failed: $OUT"
gexec '["arm","bugcheck","message=crashlab demo panic 0x2a"]' && [[ $RC == 0 ]] || die "arm failed: $OUT"
t_armed=$(now)
# The panic may come before qemu-ga can answer: wait for the reply only briefly (virsh's
# --async is refused by the agent's sync handshake), then ask the hypervisor.
ga "--timeout 2" '{"execute":"guest-exec","arguments":{"path":"/usr/bin/labagent","arg":["fire"]}}'
[[ $OUT == *return* || $OUT == *"not responding"* ]] || die "fire failed: $OUT"

for _ in $(seq 1 1200); do
    vs "domstate $dom"; st=$OUT
    [[ $st == crashed* ]] && break
    sleep 0.1
done
[[ $st == crashed* ]] || die "the guest did not crash (state: $st)"
t_crash=$(now)

vs "dump --memory-only --format kdump-zlib $dom $out/dump.kdump"
[[ $OUT == *dumped* ]] || die "virsh dump failed: $OUT"
t_dump=$(now)
vs "destroy $dom"
dom=
printf 'quit\n' >&"$vin"
t_end=$(now)

grep -q "Kernel panic - not syncing: crashlab demo panic 0x2a" "$out/console.log" || echo "hand.sh: no panic line on the console" >&2
bytes=$(stat -c %s "$out/dump.kdump")
python3 - "$t0" "$t_boot" "$t_agent" "$t_armed" "$t_crash" "$t_dump" "$t_end" "$bytes" <<'PY'
import json, sys
t0, boot, agent, armed, crash, dump, end = map(float, sys.argv[1:8])
print(json.dumps({"boot": boot - t0, "agent-up": agent - boot, "steps": armed - agent, "observe": crash - armed,
                  "capture": dump - crash, "teardown": end - dump, "total": end - t0,
                  "dump_bytes": int(sys.argv[8]), "dump_seconds": dump - crash}))
PY
