# drgn_read.py - what drgn reads from a Linux dump, as one JSON object on stdout.
# Run as `drgn -q -c DUMP -s VMLINUX tests/oracle/drgn_read.py` (scripts/oracle.sh
# oracle_drgn); `prog` is drgn's Program for the dump. Used to judge the lab's dumps.
import json

from drgn.helpers.linux.percpu import per_cpu
from drgn.helpers.linux.pid import for_each_task
from drgn.helpers.linux.printk import get_printk_records

out = {"release": prog["init_uts_ns"].name.release.string_().decode(errors="replace")}
out["tasks"] = sum(1 for _ in for_each_task(prog))
log = [r.text.decode(errors="replace") for r in get_printk_records(prog)]
out["log_lines"] = len(log)
out["panic_lines"] = [l for l in log if l.startswith("Kernel panic - not syncing")][:4]
# The task that panicked: the one current on the CPU that took the panic (panic_cpu), from
# the kernel's run queues. drgn's own crashed_thread() picks the task whose pid is in the
# panic CPU's NT_PRSTATUS note, and QEMU writes the CPU number + 1 there, not a pid
# (README, "What the debuggers read"), so it is recorded beside, not trusted.
try:
    cpu = prog["panic_cpu"].counter.value_()
    task = per_cpu(prog["runqueues"], cpu).curr
    out["panic_task"] = {"pid": int(task.pid), "comm": task.comm.string_().decode(errors="replace"), "cpu": cpu}
except Exception as e:
    out["panic_task_error"] = str(e)
try:
    t = prog.crashed_thread()
    task = t.object
    out["crashed"] = {
        "pid": int(task.pid),
        "comm": task.comm.string_().decode(errors="replace"),
        "cpu": int(task.thread_info.cpu) if hasattr(task, "thread_info") else None,
    }
    out["crashed_stack"] = [str(f.name) for f in t.stack_trace() if f.name][:24]
except Exception as e:  # a dump without registers for the panic CPU
    out["crashed_error"] = str(e)
out["log_tail"] = log[-40:]
print(json.dumps(out))
