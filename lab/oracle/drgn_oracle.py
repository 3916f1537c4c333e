#!/usr/bin/python3
"""drgn_oracle.py - crashlab's built-in drgn oracle for `crashlab corpus verify --oracle drgn`.

Opens one Linux dump of a corpus with drgn (the debug vmlinux, plus the fault module's
.ko that the corpus ships), reads what the manifest entry labels, and prints one JSON
reading on stdout (the contract: lab/serve/README.md, "Oracles"). It reports what it
finds; the lab compares. Every value is read from the dump's memory through the kernel's
own data structures: the task list, per-CPU current tasks, lock words, the timer, the
slab allocator's metadata, the completion's wait queue, the kernel log.

Usage: drgn_oracle.py --dump DUMP --vmlinux VMLINUX --entry ENTRY.json --corpus DIR
Exit 0 whenever a reading was printed (also when the dump would not open: "opened": false).
"""
import argparse
import json
import os
import re
import sys


def hexs(v):
    return "0x%x" % v


class Reading:
    def __init__(self):
        self.r = {"oracle": "drgn", "opened": False, "error": None, "labels": {}}

    def label(self, name, value, detail=""):
        self.r["labels"][name] = {"value": value, "detail": detail}

    def skip(self, name, why):
        self.r["labels"][name] = {"skipped": why}


def num(v):
    if isinstance(v, int):
        return v
    return int(str(v), 0)


def open_program(args, entry, rd):
    import drgn
    prog = drgn.Program()
    prog.set_core_dump(args.dump)
    paths = [args.vmlinux] if args.vmlinux else []
    for m in entry.get("modules") or []:
        p = os.path.join(args.corpus, m.get("file", ""))
        if m.get("file") and os.path.isfile(p):
            paths.append(p)
    try:
        # default=True: the kernel's own modules (pvpanic, virtio...) from Debian's debug
        # package, so that a CPU's stack unwinds through them.
        prog.load_debug_info(paths, default=True)
    except drgn.MissingDebugInfoError as e:
        # Some module without debug info is not fatal: the kernel and ours are what we read.
        rd.r.setdefault("warnings", []).append(str(e)[:500])
    return prog


def tasks_by_address(prog):
    from drgn.helpers.linux.pid import for_each_task
    out = {}
    for t in for_each_task(prog):
        out[t.value_()] = t
    return out


def task_cpu(task):
    for path in ("cpu", "thread_info.cpu"):
        try:
            o = task
            for part in path.split("."):
                o = getattr(o, part)
            return o.value_()
        except AttributeError:
            continue
    return None


def frames_of(trace):
    out = []
    for f in trace:
        name = f.name
        if not name:
            try:
                name = f.symbol().name
            except LookupError:
                name = None
        if name:
            out.append(name)
    return out


def current_on(prog, cpu):
    from drgn.helpers.linux.percpu import per_cpu
    return per_cpu(prog["current_task"], cpu)


def present_cpus(prog):
    # Not the online mask: panic() takes the other CPUs offline (stop_this_cpu) before the dump.
    from drgn.helpers.linux.cpumask import for_each_present_cpu
    return list(for_each_present_cpu(prog))


def read_dmesg(prog):
    from drgn.helpers.linux.printk import get_dmesg
    return get_dmesg(prog).decode("utf-8", "replace")


def check_common(prog, entry, rd, gt, tasks, dmesg):
    from drgn.helpers.linux.pid import find_task
    from drgn.helpers.linux.sched import task_state_to_char
    rd.r["os_release"] = prog["init_uts_ns"].name.release.string_().decode()
    m = re.search(r"Kernel panic - not syncing: (.*)", dmesg)
    rd.r["panic"] = m.group(1).rstrip() if m else None

    stacks = []
    try:
        ct = prog.crashed_thread()
        stacks += frames_of(ct.stack_trace())
    except Exception as e:  # a dump without a crashed CPU (a live hang) has none
        rd.r.setdefault("warnings", []).append("crashed thread: %s" % e)

    # The firing task: found by the labelled pid in the task list, and the task at the
    # labelled address asked for its pid, comm, stack and CPU.
    if "pid" in gt:
        t = find_task(prog, num(gt["pid"]))
        if t:
            rd.label("task", hexs(t.value_()), "pid %d is %s" % (num(gt["pid"]), t.comm.string_().decode()))
        else:
            if entry.get("fault") == "dpc-watchdog-single":
                # The timer fires in softirq context after the task that armed it returned
                # to user space; labagent may have exited by then.
                rd.skip("task", "pid %d exited before its timer fired" % num(gt["pid"]))
            else:
                rd.label("task", None, "no task with pid %d in the task list" % num(gt["pid"]))
    t = tasks.get(num(gt["task"])) if "task" in gt else None
    if "task" in gt:
        exited = "the task at %s is not in the task list (exited)" % gt["task"]
        if t is not None:
            rd.label("pid", t.pid.value_(), "task %s" % gt["task"])
            rd.label("comm", t.comm.string_().decode(), "task %s" % gt["task"])
            rd.label("stack", hexs(t.stack.value_()), "task_struct.stack")
            cpu = task_cpu(t)
            if cpu is not None:
                if entry.get("fault") == "spinlock-deadlock":
                    # The spinners take both CPUs after it fired; the task can be moved to
                    # another runqueue, so task_cpu() need not be the CPU it fired on.
                    rd.skip("cpu", "task_cpu() is %d now; the task may migrate after firing" % cpu)
                else:
                    rd.label("cpu", cpu, "task_cpu()")
            state = task_state_to_char(t)
            rd.label("task_state", state, "%s of %s" % (state, t.comm.string_().decode()))
            try:
                stacks += frames_of(prog.stack_trace(t))
            except Exception:
                pass
        else:
            for k in ("pid", "comm", "stack", "cpu"):
                if k in gt:
                    rd.skip(k, exited)
            rd.label("task_state", "exited", exited)
    # The tasks current on each CPU were interrupted (a soft lockup's spinner, under the
    # watchdog's interrupt): drgn 0.0.22 does not unwind from the IRQ stack back onto theirs,
    # so their stacks are scanned for return addresses, as crash's `bt -t` does.
    for cpu in present_cpus(prog):
        try:
            stacks += scan_stack(prog, current_on(prog, cpu))
        except Exception as e:
            rd.r.setdefault("warnings", []).append("stack scan of CPU %d: %s" % (cpu, e))
    rd.r["stack_functions"] = stacks


def scan_stack(prog, task, size=16384):
    import drgn
    base = task.stack.value_()
    data = prog.read(base, size)
    out = []
    for off in range(0, size, 8):
        word = int.from_bytes(data[off:off + 8], "little")
        if word < 0xffffffff80000000:
            continue
        try:
            s = prog.symbol(word)
        except LookupError:
            continue
        if s.kind == drgn.SymbolKind.FUNC and word != s.address:
            out.append(s.name)
    return out


def check_objects(prog, entry, rd, gt, tasks, dmesg):
    import drgn
    fault = entry.get("fault")

    def obj(type_, addr):
        return drgn.Object(prog, type_, address=num(addr))

    def sym(addr):
        try:
            return prog.symbol(addr).name
        except LookupError:
            return None

    if "wait_object" in gt:
        c = obj("struct completion", gt["wait_object"])
        from drgn.helpers.linux.list import list_for_each_entry
        waiters = [w.task.value_() for w in list_for_each_entry("struct swait_queue", c.wait.task_list.address_of_(), "task_list")]
        rd.label("wait_object", gt["wait_object"] if waiters else None,
                 "completion done=%d, %d waiter(s)" % (c.done.value_(), len(waiters)))
        rd.label("wait_object_waiter", hexs(waiters[0]) if waiters else None,
                 "waiters: %s" % ", ".join("%s (%s)" % (hexs(w), tasks[w].comm.string_().decode() if w in tasks else "?") for w in waiters))

    if fault == "resource-self-deadlock" and "lock" in gt:
        mtx = obj("struct mutex", gt["lock"])
        owner = mtx.owner.counter.value_() & 0xfffffffffffffff8  # a signed long: its top bit set
        rd.label("lock", gt["lock"] if owner else None, "mutex owner word 0x%x" % (mtx.owner.counter.value_() & 0xffffffffffffffff))
        rd.label("lock_owner", hexs(owner) if owner else None, "mutex.owner")

    def spin_locked(addr):
        return obj("spinlock_t", addr).rlock.raw_lock.val.counter.value_()

    for side in ("a", "b"):
        lk, th, pid = "lock_" + side, "thread_" + side, "pid_" + side
        if lk in gt:
            v = spin_locked(gt[lk])
            rd.label(lk, gt[lk] if v else None, "qspinlock val 0x%x" % v)
        if pid in gt:
            from drgn.helpers.linux.pid import find_task
            t = find_task(prog, num(gt[pid]))
            rd.label(th, hexs(t.value_()) if t else None, "task with pid %d" % num(gt[pid]))
        if th in gt:
            t = tasks.get(num(gt[th]))
            rd.label(pid, t.pid.value_() if t is not None else None, "pid of task %s" % gt[th])
    if fault == "spinlock-deadlock":
        # Who holds which lock: each spinner kthread takes the lock it was started with
        # (struct kthread.data) first; a spinner running on a CPU with that lock taken holds it.
        running = {current_on(prog, c).value_() for c in present_cpus(prog)}
        for side in ("a", "b"):
            lk = "lock_" + side
            holder = None
            for addr, t in tasks.items():
                if not t.comm.string_().startswith(b"labfault-spin"):
                    continue
                k = drgn.cast("struct kthread *", t.worker_private)
                if k and k.data.value_() == num(gt[lk]) and addr in running and spin_locked(gt[lk]):
                    holder = addr
            rd.label(lk + "_holder", hexs(holder) if holder else None,
                     "the labfault-spin kthread running on a CPU whose first lock is %s" % gt[lk])

    if "timer" in gt:
        tm = obj("struct timer_list", gt["timer"])
        f = tm.function.value_()
        rd.label("timer", gt["timer"] if f else None, "timer_list.function = %s" % (sym(f) or hexs(f)))
        rd.label("function", hexs(f), "timer_list.function")
        rd.label("timer_function", sym(f), "symbol of timer_list.function")
    if "tasklet" in gt:
        tl = obj("struct tasklet_struct", gt["tasklet"])
        f = tl.func.value_()
        rd.label("tasklet", gt["tasklet"] if f else None, "tasklet_struct.func = %s" % (sym(f) or hexs(f)))
        rd.label("function", hexs(f), "tasklet_struct.func")
        rd.label("tasklet_function", sym(f), "symbol of tasklet_struct.func")

    if "pool_block" in gt:
        from drgn.helpers.linux.slab import slab_object_info
        info = slab_object_info(prog, num(gt["pool_block"]))
        if info is None:
            rd.label("pool_block", None, "not a slab object")
        else:
            name = info.slab_cache.name.string_().decode()
            data = prog.read(info.address, min(16, info.slab_cache.object_size.value_()))
            detail = "%s object, %s, first bytes %s" % (name, "allocated" if info.allocated else "free", data.hex())
            rd.label("pool_block", hexs(info.address), detail)
            rd.label("slab_object_size", info.slab_cache.object_size.value_(), "kmem_cache.object_size of " + name)
            rd.label("slab_cache", name, detail)
        rd.skip("size", "the requested size is not kept by the slab allocator")

    if fault == "high-irql-fault" and "address" in gt:
        rd.skip("address", "sleeping with a spin lock held faults on no address; the oops has none")
    if fault == "null-deref" and "address" in gt:
        m = re.search(r"(?:NULL pointer dereference|unable to handle page fault for address), address: ([0-9a-f]+)", dmesg) or \
            re.search(r"unable to handle page fault for address: ([0-9a-f]+)", dmesg)
        rd.label("address", hexs(int(m.group(1), 16)) if m else None, "faulting address in the oops")
    if fault == "high-irql-fault" and "lock" in gt:
        v = spin_locked(gt["lock"])
        rd.label("lock", gt["lock"] if v else None, "qspinlock val 0x%x" % v)

    if fault == "stack-overflow":
        # The address the double fault handler was given (CR2), from its frame on the
        # crashed CPU; the log line hashes pointers, so it cannot say.
        hit = None
        try:
            for f in prog.crashed_thread().stack_trace():
                if f.name == "handle_stack_overflow":
                    hit = f["fault_address"].value_()
                    break
        except Exception as e:
            rd.r.setdefault("warnings", []).append("guard page: %s" % e)
        t = tasks.get(num(gt["task"])) if "task" in gt else None
        if hit is not None and t is not None:
            base = t.stack.value_()
            page = 4096
            rd.label("guard_page_hit", base - page <= hit < base,
                     "handle_stack_overflow(fault_address=%s); the firing task's stack starts at %s, guard page %s..%s" %
                     (hexs(hit), hexs(base), hexs(base - page), hexs(base)))
        else:
            rd.label("guard_page_hit", None, "no handle_stack_overflow frame on the crashed CPU" if hit is None
                     else "the firing task is not in the task list")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dump", required=True)
    ap.add_argument("--vmlinux", default="")
    ap.add_argument("--entry", required=True)
    ap.add_argument("--corpus", default=".")
    args = ap.parse_args()
    rd = Reading()
    try:
        import drgn
        rd.r["oracle"] = "drgn " + drgn.__version__
    except ImportError as e:
        rd.r["error"] = "drgn is not installed: %s" % e
        print(json.dumps(rd.r))
        return 0
    with open(args.entry) as f:
        entry = json.load(f)
    if not args.vmlinux:
        rd.r["error"] = "no debug vmlinux for release %s (install %s)" % (
            entry.get("os_release"), (entry.get("debug") or {}).get("debug_package") or "the kernel's -dbg package")
        print(json.dumps(rd.r))
        return 0
    try:
        prog = open_program(args, entry, rd)
    except Exception as e:
        rd.r["error"] = "%s: %s" % (type(e).__name__, e)
        print(json.dumps(rd.r))
        return 0
    rd.r["opened"] = True
    gt = entry.get("ground_truth") or {}
    try:
        tasks = tasks_by_address(prog)
        dmesg = read_dmesg(prog)
        rd.r["tasks"] = len(tasks)
        check_common(prog, entry, rd, gt, tasks, dmesg)
        check_objects(prog, entry, rd, gt, tasks, dmesg)
    except Exception as e:
        import traceback
        rd.r.setdefault("warnings", []).append("reading stopped: %s: %s" % (type(e).__name__, e))
        rd.r.setdefault("warnings", []).append(traceback.format_exc()[-800:])
    print(json.dumps(rd.r, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
