#!/usr/bin/python3
"""crash_oracle.py - crashlab's built-in crash(8) oracle for `crashlab corpus verify --oracle crash`.

Runs crash once per dump in batch mode (`crash -s VMLINUX DUMP -i COMMANDS`): `sys` for the
release and the PANIC line, `mod -s` for the fault module's symbols, `bt`/`bt -T` for the
crash's stack, `list task_struct.tasks` from init_task for the task list (crash 8.0.2 finds
only the active tasks through the PID hash on these dumps), `kmem` for slab objects and gdb
expressions (`p/x`) for lock words, owners, timer and tasklet functions, completion waiters
and each CPU's current task. Prints one JSON reading (lab/serve/README.md, "Oracles").

Usage: crash_oracle.py --dump DUMP --vmlinux VMLINUX --entry ENTRY.json --corpus DIR
"""
import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

MAX_CPUS = 8
# TASK_* bits of task_struct.__state, as drgn's task_state_to_char and ps(1) name them.
STATES = {0: "R", 1: "S", 2: "D", 4: "T", 8: "t", 0x10: "X", 0x20: "Z", 0x80: "X", 0x402: "I"}


def num(v):
    return v if isinstance(v, int) else int(str(v), 0)


def hexs(v):
    return "0x%x" % v


class Session:
    """One batch of crash commands, each one's output redirected to a file of its own
    (crash's `cmd > file`): crash and gdb print on two streams, so markers in one output
    would not keep the order."""

    def __init__(self, tmp):
        self.tmp = tmp
        self.cmds = []
        self.keys = []

    def add(self, key, cmd):
        self.keys.append(key)
        self.cmds.append("%s > %s/%s.out" % (cmd, self.tmp, key))

    def run(self, vmlinux, dump, timeout, opts=()):
        script = os.path.join(self.tmp, "commands")
        with open(script, "w") as f:
            f.write("\n".join(self.cmds + ["quit"]) + "\n")
        p = subprocess.run(["crash", "-s", "--no_scroll", *opts, vmlinux, dump, "-i", script], stdin=subprocess.DEVNULL,
                           capture_output=True, text=True, errors="replace", timeout=timeout)
        out = {}
        for k in self.keys:
            try:
                with open(os.path.join(self.tmp, k + ".out"), errors="replace") as f:
                    out[k] = f.read()
            except OSError:
                pass
        out["_head"] = p.stdout
        return out, p.stdout, p.stderr


def px(s):
    """The last hex number of a `p/x` answer ("$3 = 0xffff..." or "(type) 0x... <sym>")."""
    m = re.findall(r"= (?:\([^)]*\) )?(0x[0-9a-f]+)", s)
    return int(m[-1], 16) if m else None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dump", required=True)
    ap.add_argument("--vmlinux", default="")
    ap.add_argument("--entry", required=True)
    ap.add_argument("--corpus", default=".")
    ap.add_argument("--timeout", type=float, default=500)
    args = ap.parse_args()
    r = {"oracle": "crash", "opened": False, "error": None, "labels": {}}

    def label(name, value, detail=""):
        r["labels"][name] = {"value": value, "detail": detail}

    def skip(name, why):
        r["labels"][name] = {"skipped": why}

    try:
        v = subprocess.run(["crash", "--version"], capture_output=True, text=True, timeout=60).stdout
        m = re.search(r"crash (\d[\w.\-+]*)", v)
        r["oracle"] = "crash " + (m.group(1) if m else "?")
    except (OSError, subprocess.SubprocessError) as e:
        r["error"] = "crash is not installed: %s" % e
        print(json.dumps(r))
        return 0
    with open(args.entry) as f:
        entry = json.load(f)
    if not args.vmlinux:
        r["error"] = "no debug vmlinux for release %s" % entry.get("os_release")
        print(json.dumps(r))
        return 0
    gt = entry.get("ground_truth") or {}
    fault = entry.get("fault")

    tmp = tempfile.mkdtemp(prefix="crashlab-crash-oracle.")
    s = Session(tmp)
    s.add("sys", "sys")
    for m in entry.get("modules") or []:
        path = os.path.join(args.corpus, m.get("file") or "")
        if m.get("file") and os.path.isfile(path) and m.get("name", "").endswith(".ko"):
            s.add("mod", "mod -s %s %s" % (m["name"][:-3].replace("-", "_"), path))
    s.add("bt", "bt")
    s.add("log", "log")
    s.add("bt_all", "bt -a")
    # The whole task list, walked from init_task (not through the PID hash).
    # (addresses only: printing members costs crash one gdb call per task)
    s.add("tasks", "list task_struct.tasks -h init_task")
    if "task" in gt:
        s.add("task", "struct task_struct.pid,comm,stack,__state,thread_info %s" % gt["task"])
        s.add("bt_task", "bt -T %s" % gt["task"])
    for side in ("a", "b"):
        if "thread_" + side in gt:
            t = gt["thread_" + side]
            s.add("bt_thread_" + side, "bt -T %s" % t)
            s.add("kdata_" + side, "p/x ((struct kthread *)((struct task_struct *)%s)->worker_private)->data" % t)
            s.add("thread_" + side, "struct task_struct.pid,comm %s" % t)
        if "lock_" + side in gt:
            s.add("lock_" + side, "p/x ((spinlock_t *)%s)->rlock.raw_lock.val.counter" % gt["lock_" + side])
    if "wait_object" in gt:
        w = gt["wait_object"]
        s.add("done", "p ((struct completion *)%s)->done" % w)
        s.add("waiter", "p/x ((struct swait_queue *)((char *)((struct completion *)%s)->wait.task_list.next - "
                        "(unsigned long)&((struct swait_queue *)0)->task_list))->task" % w)
        s.add("wait_head", "p/x &((struct completion *)%s)->wait.task_list" % w)
        s.add("wait_next", "p/x ((struct completion *)%s)->wait.task_list.next" % w)
    if fault == "resource-self-deadlock" and "lock" in gt:
        s.add("mutex_owner", "p/x ((struct mutex *)%s)->owner.counter" % gt["lock"])
    if fault == "high-irql-fault" and "lock" in gt:
        s.add("lock", "p/x ((spinlock_t *)%s)->rlock.raw_lock.val.counter" % gt["lock"])
    if "timer" in gt:
        s.add("timer_fn", "p ((struct timer_list *)%s)->function" % gt["timer"])
    if "tasklet" in gt:
        s.add("tasklet_fn", "p ((struct tasklet_struct *)%s)->func" % gt["tasklet"])
    if "pool_block" in gt:
        s.add("kmem", "kmem %s" % gt["pool_block"])

    try:
        out, raw, err = s.run(args.vmlinux, args.dump, args.timeout)
        if not re.search(r"RELEASE: (\S+)", out.get("sys", "")) and "invalid structure member offset" in raw + err:
            # crash 8.0.2 dies "determining panic task" on some 6.1 dumps (mm_struct_mmap: the
            # maple tree, learnt in 8.0.3); --no_panic skips that step and opens the file.
            first = (err.strip() or raw.strip())[-300:]
            out, raw, err = s.run(args.vmlinux, args.dump, args.timeout, ("--no_panic",))
            r.setdefault("warnings_open", []).append("opened with --no_panic after: " + first)
    except subprocess.TimeoutExpired:
        r["error"] = "crash did not finish within %.0f s" % args.timeout
        print(json.dumps(r))
        return 0
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    sysout = out.get("sys", "")
    rel = re.search(r"RELEASE: (\S+)", sysout)
    if not rel:
        r["error"] = "crash did not open the dump: %s" % (err.strip() or raw.strip())[-600:]
        print(json.dumps(r))
        return 0
    r["opened"] = True
    r["warnings"] = [l.strip() for l in (out.get("_head", "") + err).splitlines() if "WARNING" in l or "crash:" in l][:20]
    r["os_release"] = rel.group(1)
    pm = re.search(r'PANIC: "(?:Kernel panic - not syncing: )?(.*)"', sysout.replace("\n", " "))
    r["panic"] = pm.group(1) if pm else None
    # The PANIC line names the oops for an oops=panic crash; the log's panic line is the
    # message the label (and drgn) give.
    lm = re.search(r"Kernel panic - not syncing: (.*)", out.get("log", ""))
    if lm:
        r["panic"] = lm.group(1).rstrip()
    m = re.search(r"TASKS: (\d+)", sysout)
    r["crash_tasks"] = int(m.group(1)) if m else None

    def frames(text):
        return re.findall(r"#\d+ \[[0-9a-f]+\] (\S+) at ", text) + re.findall(r"^\s*\[[0-9a-f]+\] (\S+?)(?:\+0x[0-9a-f]+)?(?: at| \[)", text, re.M)
    stacks = frames(out.get("bt", ""))
    for k in ("bt_task", "bt_thread_a", "bt_thread_b"):
        stacks += frames(out.get(k, ""))

    # The task list: one address per line.
    tasks = {int(a, 16) for a in re.findall(r"^([0-9a-f]{16})\s*$", out.get("tasks", ""), re.M)}
    r["tasks"] = len(tasks)

    def member(text, name):
        m = re.search(r"\b%s = (\"(?:[^\"\\]|\\.)*\"|0x[0-9a-f]+|-?\d+)" % name, text)
        if not m:
            return None
        v = m.group(1)
        return v[1:-1].split("\\000")[0] if v.startswith('"') else int(v, 0)

    # Each CPU's active task, from `bt -a`'s headers.
    current = {}
    for m in re.finditer(r"PID: (\d+)\s+TASK: ([0-9a-f]+)\s+CPU: (\d+)\s+COMMAND: \"([^\"]*)\"", out.get("bt_all", "")):
        current[int(m.group(3))] = (int(m.group(2), 16), int(m.group(1)), m.group(4))
    r["cpus"] = [{"cpu": c, "task": hexs(t[0]), "pid": t[1], "comm": t[2]} for c, t in sorted(current.items())]
    stacks += frames(out.get("bt_all", ""))

    if "task" in gt:
        ts = out.get("task", "")
        on_list = num(gt["task"]) in tasks
        pid, comm, stack, state = (member(ts, k) for k in ("pid", "comm", "stack", "__state"))
        cpu = member(ts, "cpu")
        if not on_list:
            why = "the task at %s is not on the task list from init_task (exited)" % gt["task"]
            for k in ("task", "pid", "comm", "stack", "cpu"):
                if k in gt:
                    skip(k, why)
            label("task_state", "exited", why)
        else:
            # crash 8.0.2 cannot look pids up here (its PID hash misses them): the labelled
            # task is found on the list walked from init_task, then asked for its pid.
            label("task", gt["task"] if pid == num(gt.get("pid", -1)) else None,
                  "on the task list from init_task, pid %s" % pid)
            label("pid", pid, "task_struct.pid")
            label("comm", comm, "task_struct.comm")
            label("stack", hexs(stack) if stack is not None else None, "task_struct.stack")
            if cpu is not None:
                if fault == "spinlock-deadlock":
                    skip("cpu", "thread_info.cpu is %s now; the task may migrate after firing" % cpu)
                else:
                    label("cpu", cpu, "task_struct.thread_info.cpu")
            label("task_state", STATES.get(state, "?%s" % state), "__state %s" % state)

    running = {t[0] for t in current.values()}
    for side in ("a", "b"):
        lk, th, pid = "lock_" + side, "thread_" + side, "pid_" + side
        val = px(out.get(lk, "")) if lk in gt else None
        if lk in gt:
            label(lk, gt[lk] if val else None, "qspinlock val %s" % (hexs(val) if val is not None else "unreadable"))
        if th in gt:
            tp = member(out.get(th, ""), "pid")
            on = num(gt[th]) in tasks
            label(pid, tp if on else None, "pid of task %s%s" % (gt[th], "" if on else " (not on the task list)"))
            if pid in gt:
                label(th, gt[th] if on and tp == num(gt[pid]) else None, "on the task list, pid %s" % tp)
        if fault == "spinlock-deadlock" and th in gt and lk in gt:
            data = px(out.get("kdata_" + side, ""))
            holds = data == num(gt[lk]) and num(gt[th]) in running and val
            # The spinner whose first lock (struct kthread.data) this is, running on a CPU.
            holder = None
            for other in ("a", "b"):
                if "thread_" + other in gt and px(out.get("kdata_" + other, "")) == num(gt[lk]) and \
                        num(gt["thread_" + other]) in running and val:
                    holder = num(gt["thread_" + other])
            label(lk + "_holder", hexs(holder) if holder else None,
                  "kthread.data %s, on a CPU: %s" % (hexs(data) if data else "?", bool(holds)))

    if "wait_object" in gt:
        head, nxt = px(out.get("wait_head", "")), px(out.get("wait_next", ""))
        waiter = px(out.get("waiter", "")) if head and nxt and head != nxt else None
        label("wait_object", gt["wait_object"] if waiter else None,
              "completion %s, wait list %s" % (out.get("done", "").strip(), "empty" if not waiter else "has a waiter"))
        label("wait_object_waiter", hexs(waiter) if waiter else None, "first swait_queue.task on the completion")
    if "mutex_owner" in out:
        w = px(out["mutex_owner"]) or 0
        label("lock", gt["lock"] if w else None, "mutex owner word %s" % hexs(w))
        label("lock_owner", hexs(w & ~7) if w else None, "mutex.owner")
    if fault == "high-irql-fault" and "lock" in gt:
        val = px(out.get("lock", ""))
        label("lock", gt["lock"] if val else None, "qspinlock val %s" % val)

    for key, lab, fname in (("timer_fn", "timer", "timer_function"), ("tasklet_fn", "tasklet", "tasklet_function")):
        if key in out:
            m = re.search(r"\) (0x[0-9a-f]+)(?: <([^>+]+)(?:\+\d+)?>)?", out[key])
            f = int(m.group(1), 16) if m else 0
            label(lab, gt[lab] if f else None, out[key].strip()[:200])
            label("function", hexs(f) if f else None, "%s function pointer" % lab)
            label(fname, m.group(2) if m and m.group(2) else None, "crash's symbol for it")

    if "kmem" in out:
        k = out["kmem"]
        m = re.search(r"^\s*([0-9a-f]{16})\s+(\d+)\s+\d+\s+\d+\s+\d+\s+\d+k?\s+(\S+)", k, re.M)
        obj = re.search(r"^\s*\[?([0-9a-f]{16})\]?\s*$", k.split("FREE / [ALLOCATED]")[-1], re.M) if "FREE / [ALLOCATED]" in k else None
        if m:
            label("slab_cache", m.group(3), "kmem: cache %s, object size %s" % (m.group(3), m.group(2)))
            label("slab_object_size", int(m.group(2)), "kmem OBJSIZE")
        else:
            label("slab_cache", None, "kmem found no slab cache: " + k.strip()[-200:])
        at = int(obj.group(1), 16) if obj else None
        want = num(gt["pool_block"])
        if at is not None and m and at < want < at + int(m.group(2)) + 64:
            # With slub_debug's red zones crash names the slot's start, the left red zone
            # (red_left_pad, 64 bytes here) before the object kmalloc() returned.
            label("pool_block", hexs(want), "inside the slab slot kmem found at %s (left red zone)" % hexs(at))
        else:
            label("pool_block", hexs(at) if at is not None else None, "kmem object address")
        skip("size", "the requested size is not kept by the slab allocator")

    log = out.get("log", "")
    if fault == "high-irql-fault" and "address" in gt:
        skip("address", "sleeping with a spin lock held faults on no address; the oops has none")
    if fault == "null-deref" and "address" in gt:
        m = re.search(r"(?:NULL pointer dereference|unable to handle page fault for address), address: ([0-9a-f]+)", log) or \
            re.search(r"unable to handle page fault for address: ([0-9a-f]+)", log)
        label("address", hexs(int(m.group(1), 16)) if m else None, "faulting address in the log")
    if fault == "stack-overflow":
        skip("guard_page_hit", "crash shows no handle_stack_overflow argument and the log hashes the address")
    want = entry.get("crash_function") if isinstance(entry, dict) else None
    if want and stacks and not any(f.split("+")[0] == want for f in stacks):
        # crash 8.0.2's bt shows no inline frames: a function inlined into its caller
        # (lf_fire into lf_ioctl) is not on its stacks, so crash cannot confirm it.
        r.setdefault("warnings", []).append("crash shows no inline frames; %s not among %d frames" % (want, len(stacks)))
    else:
        r["stack_functions"] = stacks
    print(json.dumps(r))
    return 0


if __name__ == "__main__":
    sys.exit(main())
