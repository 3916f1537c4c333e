#!/usr/bin/env bash
# The guest image as the lab uses it, without libvirt: plain QEMU (TCG) with qemu-ga on a
# virtio-serial port whose chardev is a UNIX socket on the host. Checks that qemu-ga answers
# guest-ping, and drives labagent through guest-exec the way lab/agent does:
# install-driver, check-abi (the module refuses bad requests with EINVAL), the pass-outcome
# faults (pool-leak counts grow in STATUS and /proc/slabinfo; hang-irp-cancel's caller is
# killed cleanly and no hung-task panic follows), arm + fire, collect, remove-driver.
set -u
cd "$(dirname "$0")/../.."

GUEST=build/guest
QEMU=${QEMU:-qemu-system-x86_64}
PY=/usr/bin/python3
[[ -x $PY ]] || PY=python3

if [[ ! -r $GUEST/vmlinuz || ! -r $GUEST/initrd.img ]] || ! command -v "$QEMU" >/dev/null; then
    echo "not ok - guest-agent: $GUEST and $QEMU are needed (run make guest)"
    exit 1
fi
dir=$(mktemp -d "${TMPDIR:-/tmp}/crashlab-ga.XXXXXX")
qpid=
cleanup() {
    [[ -n $qpid ]] && kill "$qpid" 2>/dev/null && wait "$qpid" 2>/dev/null
    [[ ${KEEP:-0} == 1 ]] && echo "# kept $dir" || rm -rf "$dir"
}
trap cleanup EXIT

# The catalogue's command line for hang-irp-cancel: it must survive hung_task_panic.
cmdline=$(build/linux/labagent expect hang-irp-cancel | jq -r .cmdline)
start=$SECONDS
"$QEMU" -accel tcg -m 256 -smp 1 -nographic -no-reboot -nodefaults \
    -serial "file:$dir/console.log" -device pvpanic -action panic=exit-failure \
    -chardev "socket,id=qga0,path=$dir/qga.sock,server=on,wait=off" \
    -device virtio-serial-pci -device virtserialport,chardev=qga0,name=org.qemu.guest_agent.0 \
    -kernel "$GUEST/vmlinuz" -initrd "$GUEST/initrd.img" -append "console=ttyS0 $cmdline" \
    </dev/null >"$dir/qemu.log" 2>&1 &
qpid=$!

"$PY" - "$dir/qga.sock" "$dir/console.log" <<'EOF'
import base64, json, os, socket, sys, time

sock_path, console = sys.argv[1], sys.argv[2]
fails = 0
t0 = time.monotonic()

def ok(cond, name, detail=""):
    global fails
    print(("ok - " if cond else "not ok - ") + "guest-agent: " + name + ("" if cond else "  # " + detail))
    if not cond:
        fails += 1
    sys.stdout.flush()
    return cond

class Agent:
    def __init__(self, path):
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.s.connect(path)
        self.buf = b""

    def call(self, cmd, args=None, timeout=10.0):
        msg = {"execute": cmd}
        if args is not None:
            msg["arguments"] = args
        self.s.sendall(json.dumps(msg).encode() + b"\n")
        return self.reply(timeout)

    def reply(self, timeout):
        end = time.monotonic() + timeout
        while True:
            nl = self.buf.find(b"\n")
            if nl >= 0:
                line, self.buf = self.buf[:nl].strip(), self.buf[nl + 1:]
                line = line.lstrip(b"\xff")
                if line:
                    return json.loads(line)
                continue
            left = end - time.monotonic()
            if left <= 0:
                raise TimeoutError("no reply")
            self.s.settimeout(left)
            data = self.s.recv(65536)
            if not data:
                raise ConnectionError("EOF from qemu-ga channel")
            if len(self.buf) + len(data) > 1 << 20:
                raise ValueError("reply larger than 1 MiB")
            self.buf += data

    def sync(self, timeout):
        # guest-sync-delimited flushes whatever an earlier, unanswered call left behind.
        tok = int(time.time() * 1000) % 1000000
        self.s.sendall(b"\xff" + json.dumps({"execute": "guest-sync-delimited", "arguments": {"id": tok}}).encode() + b"\n")
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            r = self.reply(end - time.monotonic())
            if r.get("return") == tok:
                return True
        return False

    def run(self, argv, wait=True, timeout=30.0):
        r = self.call("guest-exec", {"path": argv[0], "arg": argv[1:], "capture-output": True})
        pid = r["return"]["pid"]
        if not wait:
            return pid
        return self.status(pid, timeout)

    def status(self, pid, timeout=30.0, want_exit=True):
        end = time.monotonic() + timeout
        while True:
            st = self.call("guest-exec-status", {"pid": pid})["return"]
            if st.get("exited") or not want_exit or time.monotonic() > end:
                st["stdout"] = base64.b64decode(st.get("out-data", "")).decode(errors="replace")
                st["stderr"] = base64.b64decode(st.get("err-data", "")).decode(errors="replace")
                return st
            time.sleep(0.2)

    def labagent(self, *args, timeout=30.0):
        st = self.run(["/usr/bin/labagent", *args], timeout=timeout)
        try:
            obj = json.loads(st["stdout"])
        except ValueError:
            obj = {"ok": False, "error": "no JSON on stdout: %r" % st["stdout"][:200]}
        return st, obj

# Boot: the socket exists as soon as QEMU runs; qemu-ga answers once /init started it.
agent = None
deadline = time.monotonic() + 90
while time.monotonic() < deadline:
    try:
        if agent is None:
            agent = Agent(sock_path)
        if agent.sync(2.0):
            break
    except (OSError, TimeoutError, ConnectionError, ValueError):
        agent = None
        time.sleep(0.5)
else:
    ok(False, "qemu-ga answers guest-sync-delimited", "no answer within 90 s")
    sys.exit(1)
boot = time.monotonic() - t0
ping = agent.call("guest-ping")
ok(ping == {"return": {}}, "qemu-ga answers guest-ping %.1f s after QEMU started" % boot, repr(ping))
info = agent.call("guest-info")["return"]
ok(any(c["name"] == "guest-exec" and c["enabled"] for c in info["supported_commands"]),
   "qemu-ga %s offers guest-exec" % info.get("version"), "guest-exec missing")
with open(console, errors="replace") as f:
    ok("crashlab-guest: ready kernel=" in f.read(), "console shows the ready line", "no ready line")

st, o = agent.labagent("install-driver", "/lib/crashlab/labfault.ko")
ok(st["exitcode"] == 0 and o.get("ok") and o.get("device") == "/dev/labfault", "install-driver", st["stdout"] + st["stderr"])
st, o = agent.labagent("install-driver", "/lib/crashlab/labfault.ko")
ok(st["exitcode"] == 0 and o.get("already_loaded") is True, "install-driver twice says already_loaded", st["stdout"])

st, o = agent.labagent("check-abi")
ok(st["exitcode"] == 0 and o.get("ok") and all(v == "Invalid argument" for v in o["rejected"].values()),
   "module refuses bad abi_version, unknown fault, bad params and wrong buffer sizes with EINVAL", st["stdout"])

st, o = agent.labagent("arm", "pool-leak", "size=bogus")
ok(st["exitcode"] == 1 and o.get("ok") is False and "size" in o.get("error", ""),
   "labagent rejects a bad parameter with ok:false and exit 1", st["stdout"])
st, o = agent.labagent("frobnicate")
ok(st["exitcode"] == 2 and o.get("ok") is False, "labagent exits 2 on bad usage", st["stdout"])

# pool-leak: counts visible while it runs, and exactly rate x duration at the end.
def poll_status(pred, timeout):
    end = time.monotonic() + timeout
    while True:
        st, o = agent.labagent("status")
        if pred(o) or time.monotonic() > end:
            return o
        time.sleep(0.3)

def count(o, name):
    return int(o.get("ground_truth", {}).get(name, "0x0"), 16)

pid = agent.run(["/usr/bin/labagent", "trigger", "pool-leak", "tag=Lk42", "size=2048", "rate=400", "duration_ms=4000"], wait=False)
mid = poll_status(lambda o: o.get("state") != "armed" and count(o, "allocations") > 0, 20)
slab = agent.run(["/bin/sh", "-c", "grep '^labfault_Lk42 ' /proc/slabinfo"])
leak = agent.status(pid, 60)
st, end = agent.labagent("status")
n_mid, n_end = count(mid, "allocations"), count(end, "allocations")
first = json.loads(leak["stdout"] or "{}")
ok(leak.get("exitcode") == 0 and first.get("ok") and first.get("fault") == "pool-leak"
   and "cache" in first.get("ground_truth", {}), "pool-leak trigger prints its ground truth and returns", leak["stdout"] + leak["stderr"])
ok(mid.get("state") == "fired" and 0 < n_mid < n_end, "pool-leak: STATUS shows allocations growing (%d then %d)" % (n_mid, n_end), json.dumps(mid))
ok(end.get("state") == "done" and n_end == 1600 and count(end, "bytes") == 2048 * 1600 and count(end, "capped") == 0,
   "pool-leak: done, 1600 blocks of 2048 bytes (400/s for 4 s)", json.dumps(end))
ok(slab.get("exitcode") == 0 and slab["stdout"].startswith("labfault_Lk42 "),
   "pool-leak: /proc/slabinfo has the tagged cache labfault_Lk42", slab["stdout"] + slab["stderr"])

# arm + fire as two commands (a hang that completes by itself after 300 ms).
st, o = agent.labagent("arm", "hang-irp", "timeout_ms=300")
ok(st["exitcode"] == 0 and o.get("state") == "armed" and "wait_object" in o.get("ground_truth", {}), "arm hang-irp timeout_ms=300", st["stdout"])
st, o = agent.labagent("fire")
st2, o2 = agent.labagent("status")
ok(st["exitcode"] == 0 and o.get("fault") == "hang-irp" and o2.get("state") == "done", "fire returns after the timeout, status says done", st["stdout"] + st2["stdout"])
st, o = agent.labagent("fire")
ok(st["exitcode"] == 1 and o.get("ok") is False, "fire with nothing armed is an error", st["stdout"])

# hang-irp-cancel: a killable wait. khungtaskd must not see it (hung_task_panic=1, 5 s),
# and SIGKILL must end it.
pid = agent.run(["/usr/bin/labagent", "trigger", "hang-irp-cancel"], wait=False)
o = poll_status(lambda o: o.get("fault") == "hang-irp-cancel" and o.get("state") == "fired", 20)
st = {"stdout": json.dumps(o)}
task_pid = int(o.get("ground_truth", {}).get("pid", "0x0"), 16)
ok(o.get("state") == "fired" and task_pid > 0, "hang-irp-cancel: the caller waits in the module (pid %d)" % task_pid, st["stdout"])
st, o = agent.labagent("arm", "null-deref")
ok(st["exitcode"] == 1 and "busy" in o.get("error", ""), "arm while a fired fault still runs is EBUSY", st["stdout"])
time.sleep(11.0)  # two khungtaskd periods
still = agent.status(pid, want_exit=False)
ok(not still.get("exited"), "hang-irp-cancel: still waiting after 12 s, no hung-task panic", repr(still))
agent.run(["/bin/kill", "-9", str(task_pid)])
gone = agent.status(pid, 10)
st, o = agent.labagent("status")
ok(gone.get("exited") and gone.get("signal") == 9, "hang-irp-cancel: SIGKILL ends the caller", repr(gone))
ok(o.get("state") == "done" and o.get("ground_truth", {}).get("cancelled") == "0x1", "hang-irp-cancel: status done, cancelled", st["stdout"])

st, o = agent.labagent("collect")
ok(st["exitcode"] == 0 and o.get("ok") and o.get("dumps") == [], "collect lists no dumps while /var/crash is empty", st["stdout"])
# Armed but never fired: re-arming and unloading must undo kthreads, vmalloc and kmalloc.
armed = []
for args in (["high-irql-fault"], ["double-free", "size=128"], ["spinlock-deadlock"]):
    st, o = agent.labagent("arm", *args)
    armed.append(st["exitcode"] == 0 and o.get("state") == "armed")
ok(all(armed), "re-arming replaces the armed fault (high-irql-fault, double-free, spinlock-deadlock)", repr(armed))
st, o = agent.labagent("remove-driver")
ok(st["exitcode"] == 0 and o.get("was_loaded") is True, "remove-driver unloads the module with spinlock-deadlock armed", st["stdout"] + st["stderr"])
threads = agent.run(["/bin/sh", "-c", "grep -l labfault-spin /proc/[0-9]*/comm | wc -l"])
ok(threads["stdout"].strip() == "0", "no labfault-spin kthread is left", threads["stdout"])
lsmod = agent.run(["/bin/sh", "-c", "grep -c '^labfault ' /proc/modules"])
ok(lsmod["stdout"].strip() == "0", "labfault is gone from /proc/modules", lsmod["stdout"])
ok(agent.call("guest-ping") == {"return": {}}, "qemu-ga still answers at the end (%.1f s in all)" % (time.monotonic() - t0))
sys.exit(1 if fails else 0)
EOF
rc=$?
echo "# guest-agent: ${SECONDS}s wall (started $start)"
if [[ $rc -ne 0 ]]; then
    echo "# console tail:"
    tail -n 30 "$dir/console.log" | sed 's/^/#   /'
fi
exit $rc
