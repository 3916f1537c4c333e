// SPDX-License-Identifier: GPL-2.0
/*
 * labfault - crashlab's fault-injection module for Linux guests.
 *
 * The Linux half of the fault catalogue (drivers/catalogue): every fault in
 * faults.def, triggered through the misc device /dev/labfault with the ioctls
 * of labfault_abi.h.  ARM validates the request and sets up what the fault
 * needs, FIRE sets it off in the caller's context, STATUS reports the ground
 * truth (addresses of the task, lock, object...) so that a dump reader can be
 * checked against what really happened.  The ground truth is also printed as
 * one line "labfault: ground-truth {json}" right before a fault fires, because
 * the console usually outlives the guest.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/completion.h>
#include <linux/ctype.h>
#include <linux/delay.h>
#include <linux/fs.h>
#include <linux/interrupt.h>
#include <linux/jiffies.h>
#include <linux/kernel.h>
#include <linux/kthread.h>
#include <linux/list.h>
#include <linux/miscdevice.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/sched.h>
#include <linux/sched/task_stack.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/string.h>
#include <linux/timer.h>
#include <linux/uaccess.h>
#include <linux/vmalloc.h>
#include <asm/unaligned.h>

#include "labfault_abi.h"

static const char *const fault_names[LABFAULT_LAST] = {
	[LABFAULT_NONE] = "none",
#define LABFAULT(e, n, id) [LABFAULT_##e] = id,
#include "faults.def"
#undef LABFAULT
};

static const char *const state_names[] = {
	[LABFAULT_STATE_IDLE] = "idle",
	[LABFAULT_STATE_ARMED] = "armed",
	[LABFAULT_STATE_FIRED] = "fired",
	[LABFAULT_STATE_DONE] = "done",
};

/*
 * Parameter ranges per fault and argument slot.  They repeat
 * drivers/catalogue/catalogue.c on purpose: the module must not trust its
 * caller, and the kernel cannot link the host's catalogue.  A slot with
 * max == 0 must be 0.
 */
struct lf_range {
	u64 min, max;
};

struct lf_spec {
	struct lf_range arg[LABFAULT_MAX_ARGS];
	bool tag;		/* the request carries a 1-4 character tag */
	bool message;		/* the request carries a printable message */
};

#define MS_MAX 3600000ULL

static const struct lf_spec specs[LABFAULT_LAST] = {
	[LABFAULT_HANG_IRP] = { .arg = { { 0, MS_MAX } } },
	[LABFAULT_HANG_IRP_CANCEL] = { .arg = { { 0, MS_MAX } } },
	[LABFAULT_DPC_WATCHDOG_SINGLE] = { .arg = { { 0, MS_MAX } } },
	[LABFAULT_POOL_OVERRUN] = { .arg = { { 16, 65536 }, { 1, 4096 } } },
	[LABFAULT_DOUBLE_FREE] = { .arg = { { 16, 65536 } } },
	[LABFAULT_USE_AFTER_FREE] = { .arg = { { 16, 65536 } } },
	[LABFAULT_POOL_LEAK] = {
		.arg = { { 16, 1048576 }, { 1, 100000 }, { 1, MS_MAX }, { 0, 1 } },
		.tag = true,
	},
	[LABFAULT_BUGCHECK] = {
		.arg = { { 1, 0xffffffffULL }, { 0, U64_MAX }, { 0, U64_MAX },
			 { 0, U64_MAX }, { 0, U64_MAX } },
		.message = true,
	},
};

/* Everything below lf_lock describes the one armed (or last) fault. */
static DEFINE_MUTEX(lf_lock);
static struct labfault_request lf_req;
static struct labfault_ground_truth lf_gt;

/* Objects the faults use; static so that their addresses are stable. */
static DECLARE_COMPLETION(lf_hang_done);
static DEFINE_MUTEX(lf_resource);
static DEFINE_SPINLOCK(lf_spin_a);
static DEFINE_SPINLOCK(lf_spin_b);
static atomic_t lf_spin_holders = ATOMIC_INIT(0);
static struct task_struct *lf_spinner[2];
static struct timer_list lf_timer;
static struct tasklet_struct lf_storm;
static atomic64_t lf_storm_runs = ATOMIC64_INIT(0);
static void *lf_block;		/* kmalloc'd for the slab faults */
static void *lf_vblock;		/* vmalloc'd for the high-IRQL fault */
static struct kmem_cache *lf_leak_cache;
static char lf_leak_cache_name[32];
static LIST_HEAD(lf_leaked);
static atomic64_t lf_leak_count = ATOMIC64_INIT(0);
static atomic64_t lf_leak_bytes = ATOMIC64_INIT(0);
static bool lf_leak_capped;
static bool lf_timer_ready;
static bool lf_storm_ready;

struct lf_leak_block {
	struct list_head node;
};

/* Callers hold lf_lock.  Names longer than the ABI's slot are truncated. */
static void gt_set(const char *name, u64 value)
{
	struct labfault_item *it;
	u32 i;

	for (i = 0; i < lf_gt.count; i++) {
		if (!strncmp(lf_gt.item[i].name, name, sizeof(it->name))) {
			lf_gt.item[i].value = value;
			return;
		}
	}
	if (lf_gt.count >= LABFAULT_MAX_ITEMS) {
		pr_warn("ground truth full, dropping %s\n", name);
		return;
	}
	it = &lf_gt.item[lf_gt.count++];
	strscpy(it->name, name, sizeof(it->name));
	it->value = value;
}

static void gt_ptr(const char *name, const void *p)
{
	gt_set(name, (u64)(unsigned long)p);
}

/*
 * The firing task's name, JSON-safe: a task can rename itself to anything
 * (prctl), and the host parses this line.
 */
static void gt_comm(char *out, size_t len)
{
	char comm[TASK_COMM_LEN];
	size_t i;

	get_task_comm(comm, current);
	for (i = 0; comm[i] && i + 1 < len; i++)
		out[i] = (isalnum(comm[i]) || strchr("._-/:", comm[i])) ? comm[i] : '?';
	out[i] = '\0';
}

/*
 * One console line, so that the host can grep it out of a dying guest.  It is
 * printed when the fault fires, by the task that fires it: the host takes its
 * task, pid, cpu, stack and comm as the ground truth, not ARM's answer (ARM
 * and FIRE are usually two processes).
 */
static void gt_print(void)
{
	char line[900];
	char comm[TASK_COMM_LEN];
	int n;
	u32 i;

	n = scnprintf(line, sizeof(line), "{\"fault\":\"%s\",\"state\":\"%s\"",
		      fault_names[lf_gt.fault], state_names[lf_gt.state]);
	for (i = 0; i < lf_gt.count; i++)
		n += scnprintf(line + n, sizeof(line) - n, ",\"%s\":\"0x%llx\"",
			       lf_gt.item[i].name, lf_gt.item[i].value);
	gt_comm(comm, sizeof(comm));
	n += scnprintf(line + n, sizeof(line) - n, ",\"comm\":\"%s\"", comm);
	scnprintf(line + n, sizeof(line) - n, "}");
	pr_emerg("ground-truth %s\n", line);
}

/* ---- teardown of whatever an earlier ARM left behind ---- */

static void lf_leak_release(void)
{
	struct lf_leak_block *b, *tmp;

	list_for_each_entry_safe(b, tmp, &lf_leaked, node) {
		list_del(&b->node);
		kmem_cache_free(lf_leak_cache, b);
	}
	kmem_cache_destroy(lf_leak_cache);
	lf_leak_cache = NULL;
	atomic64_set(&lf_leak_count, 0);
	atomic64_set(&lf_leak_bytes, 0);
	lf_leak_capped = false;
}

/*
 * Undo an ARM that was never fired.  Fired faults own their objects for
 * good (they were corrupted, freed or are spinning on them), except the
 * leak: its blocks go back here, at the next ARM or when the module goes.
 */
static void lf_disarm(bool unloading)
{
	int i;

	if (lf_gt.state == LABFAULT_STATE_ARMED) {
		for (i = 0; i < 2; i++) {
			if (lf_spinner[i])
				kthread_stop(lf_spinner[i]);
			lf_spinner[i] = NULL;
		}
		kfree(lf_block);
		vfree(lf_vblock);
		lf_block = NULL;
		lf_vblock = NULL;
	}
	if (unloading) {
		if (lf_timer_ready)
			del_timer_sync(&lf_timer);
		if (lf_storm_ready)
			tasklet_kill(&lf_storm);
	}
	lf_leak_release();
	memset(&lf_gt, 0, sizeof(lf_gt));
	memset(&lf_req, 0, sizeof(lf_req));
}

/* ---- validation ---- */

static bool text_ok(const char *s, size_t len, size_t min, size_t max)
{
	size_t n = strnlen(s, len);
	size_t i;

	if (n == len || n < min || n > max)
		return false;
	for (i = 0; i < n; i++)
		if (s[i] < 0x20 || s[i] > 0x7e)
			return false;
	for (i = n; i < len; i++)
		if (s[i])
			return false;
	return true;
}

static int lf_validate(const struct labfault_request *req)
{
	const struct lf_spec *spec;
	int i;

	if (req->abi_version != LABFAULT_ABI_VERSION)
		return -EINVAL;
	if (req->fault <= LABFAULT_NONE || req->fault >= LABFAULT_LAST)
		return -EINVAL;
	spec = &specs[req->fault];
	for (i = 0; i < LABFAULT_MAX_ARGS; i++)
		if (req->arg[i] < spec->arg[i].min || req->arg[i] > spec->arg[i].max)
			return -EINVAL;
	if (spec->tag ? !text_ok(req->tag, sizeof(req->tag), 1, 4) :
			!text_ok(req->tag, sizeof(req->tag), 0, 0))
		return -EINVAL;
	if (spec->message ? !text_ok(req->message, sizeof(req->message), 0, 127) :
			    !text_ok(req->message, sizeof(req->message), 0, 0))
		return -EINVAL;
	return 0;
}

/* ---- the faults ---- */

static int lf_spinner_fn(void *data)
{
	spinlock_t *first = data;
	spinlock_t *second = first == &lf_spin_a ? &lf_spin_b : &lf_spin_a;

	spin_lock(first);
	atomic_inc(&lf_spin_holders);
	/* Wait until the other side holds its first lock: then ABBA is certain. */
	while (atomic_read(&lf_spin_holders) < 2)
		cpu_relax();
	spin_lock(second);
	/* Not reached. */
	spin_unlock(second);
	spin_unlock(first);
	return 0;
}

static void lf_timer_fn(struct timer_list *t)
{
	u64 ms = READ_ONCE(lf_req.arg[0]);
	u64 i;

	/* Softirq context: a busy wait here keeps the CPU from scheduling. */
	for (i = 0; !ms || i < ms; i++)
		mdelay(1);
	WRITE_ONCE(lf_gt.state, LABFAULT_STATE_DONE);
}

static void lf_storm_fn(unsigned long data)
{
	/* Each item is short; the damage is that they never stop coming. */
	udelay(200);
	atomic64_inc(&lf_storm_runs);
	tasklet_schedule(&lf_storm);
}

/* Never set: it only gives the recursion an exit the compiler cannot see through. */
static int lf_recurse_limit;

static noinline int lf_recurse(int depth)
{
	volatile char frame[512];

	if (READ_ONCE(lf_recurse_limit) && depth >= lf_recurse_limit)
		return depth;
	frame[0] = (char)depth;
	frame[sizeof(frame) - 1] = (char)depth;
	/* Using the result after the call keeps it from becoming a loop. */
	return lf_recurse(depth + 1) + frame[0] + frame[sizeof(frame) - 1];
}

/*
 * Overwrites this frame's saved return address, leaving the stack canary alone, so
 * that the return itself goes astray: a non-canonical target, a general protection
 * fault.  __builtin_frame_address() makes GCC give this function a frame pointer,
 * with the return address right above it.
 */
static noinline void lf_trash_stack(void)
{
	unsigned long *frame = __builtin_frame_address(0);

	WRITE_ONCE(frame[1], 0x4141414141414141UL);
	barrier();
}

/* Leaks blocks until *done reaches due; false when the cap or the allocator stops it. */
static bool lf_leak_upto(u64 due, u64 *done, u64 size)
{
	/* Half of RAM is the most a leak may take: the guest must survive it. */
	unsigned long limit = totalram_pages() * PAGE_SIZE / 2;
	struct lf_leak_block *b;

	while (*done < due) {
		if (atomic64_read(&lf_leak_bytes) + size > limit)
			return false;
		b = kmem_cache_alloc(lf_leak_cache, GFP_KERNEL | __GFP_NOWARN);
		if (!b)
			return false;
		mutex_lock(&lf_lock);
		list_add_tail(&b->node, &lf_leaked);
		mutex_unlock(&lf_lock);
		atomic64_inc(&lf_leak_count);
		atomic64_add(size, &lf_leak_bytes);
		(*done)++;
	}
	return true;
}

static int lf_leak(const struct labfault_request *req)
{
	u64 size = req->arg[0], rate = req->arg[1], duration = req->arg[2];
	u64 total = div_u64(rate * duration, 1000);
	unsigned long start = jiffies;
	u64 done = 0, due;
	unsigned long elapsed_ms;

	for (;;) {
		elapsed_ms = jiffies_to_msecs(jiffies - start);
		if (elapsed_ms >= duration)
			break;
		due = min(div_u64(rate * (elapsed_ms + 10), 1000), total);
		if (!lf_leak_upto(due, &done, size))
			goto capped;
		if (msleep_interruptible(10))
			return -EINTR;
	}
	/* A late last wakeup must not cost allocations: the total is rate x duration. */
	if (lf_leak_upto(total, &done, size))
		return 0;
capped:
	lf_leak_capped = true;
	return 0;
}

static void lf_leak_ctor(void *obj)
{
	/* A constructor keeps the cache from being merged: its name stays visible. */
}

/* Sets up the fault; called with lf_lock held, lf_req validated. */
static int lf_arm(void)
{
	const struct labfault_request *req = &lf_req;
	int i, cpu;

	switch (req->fault) {
	case LABFAULT_HANG_IRP:
	case LABFAULT_HANG_IRP_CANCEL:
		reinit_completion(&lf_hang_done);
		gt_ptr("wait_object", &lf_hang_done);
		gt_set("timeout_ms", req->arg[0]);
		break;
	case LABFAULT_SPINLOCK_DEADLOCK:
		atomic_set(&lf_spin_holders, 0);
		for (i = 0; i < 2; i++) {
			lf_spinner[i] = kthread_create(lf_spinner_fn,
						       i ? &lf_spin_b : &lf_spin_a,
						       "labfault-spin%d", i);
			if (IS_ERR(lf_spinner[i])) {
				int err = PTR_ERR(lf_spinner[i]);

				lf_spinner[i] = NULL;
				return err;
			}
			/* Two CPUs when there are two; one CPU still locks up. */
			cpu = cpumask_nth(i % num_online_cpus(), cpu_online_mask);
			kthread_bind(lf_spinner[i], cpu);
		}
		gt_ptr("lock_a", &lf_spin_a);
		gt_ptr("lock_b", &lf_spin_b);
		gt_ptr("thread_a", lf_spinner[0]);
		gt_ptr("thread_b", lf_spinner[1]);
		gt_set("pid_a", task_pid_nr(lf_spinner[0]));
		gt_set("pid_b", task_pid_nr(lf_spinner[1]));
		break;
	case LABFAULT_RESOURCE_SELF_DEADLOCK:
		gt_ptr("lock", &lf_resource);
		break;
	case LABFAULT_DPC_WATCHDOG_SINGLE:
		timer_setup(&lf_timer, lf_timer_fn, 0);
		lf_timer_ready = true;
		gt_ptr("timer", &lf_timer);
		gt_ptr("function", lf_timer_fn);
		gt_set("stall_ms", req->arg[0]);
		break;
	case LABFAULT_DPC_WATCHDOG_CUMULATIVE:
		tasklet_init(&lf_storm, lf_storm_fn, 0);
		lf_storm_ready = true;
		atomic64_set(&lf_storm_runs, 0);
		gt_ptr("tasklet", &lf_storm);
		gt_ptr("function", lf_storm_fn);
		break;
	case LABFAULT_HIGH_IRQL_FAULT:
		lf_vblock = vmalloc(PAGE_SIZE);
		if (!lf_vblock)
			return -ENOMEM;
		gt_ptr("lock", &lf_spin_a);
		gt_ptr("block", lf_vblock);
		/* The guard page after a vmalloc area is never mapped. */
		gt_ptr("address", lf_vblock + PAGE_SIZE);
		break;
	case LABFAULT_POOL_OVERRUN:
	case LABFAULT_DOUBLE_FREE:
	case LABFAULT_USE_AFTER_FREE:
		lf_block = kmalloc(req->arg[0], GFP_KERNEL);
		if (!lf_block)
			return -ENOMEM;
		gt_ptr("pool_block", lf_block);
		gt_set("size", req->arg[0]);
		gt_set("slab_object_size", ksize(lf_block));
		if (req->fault == LABFAULT_POOL_OVERRUN)
			gt_set("overrun", req->arg[1]);
		break;
	case LABFAULT_POOL_LEAK:
		snprintf(lf_leak_cache_name, sizeof(lf_leak_cache_name),
			 "labfault_%s", req->tag);
		lf_leak_cache = kmem_cache_create(lf_leak_cache_name,
						  max_t(u64, req->arg[0], sizeof(struct lf_leak_block)),
						  0, 0, lf_leak_ctor);
		if (!lf_leak_cache)
			return -ENOMEM;
		gt_ptr("cache", lf_leak_cache);
		/* The tag's four characters, first one in the low byte. */
		gt_set("tag", get_unaligned_le32(req->tag));
		gt_set("size", req->arg[0]);
		gt_set("rate", req->arg[1]);
		gt_set("duration_ms", req->arg[2]);
		gt_set("allocations", 0);
		gt_set("bytes", 0);
		break;
	case LABFAULT_BUGCHECK:
		gt_set("code", req->arg[0]);
		gt_set("p1", req->arg[1]);
		gt_set("p2", req->arg[2]);
		gt_set("p3", req->arg[3]);
		gt_set("p4", req->arg[4]);
		break;
	case LABFAULT_STACK_OVERFLOW:
	case LABFAULT_STACK_TRASH:
	case LABFAULT_NULL_DEREF:
		break;
	default:
		return -EINVAL;
	}
	return 0;
}

/* Who fires, on which stack and CPU. */
static void lf_fire_truth(void)
{
	gt_ptr("task", current);
	gt_set("pid", task_pid_nr(current));
	gt_set("cpu", raw_smp_processor_id());
	gt_ptr("stack", task_stack_page(current));
	if (lf_req.fault == LABFAULT_NULL_DEREF)
		gt_set("address", 0);
}

static int lf_fire(void)
{
	struct labfault_request *req = &lf_req;
	volatile int *volatile nowhere = NULL;
	long left;
	int ret = 0;
	int i;

	switch (req->fault) {
	case LABFAULT_HANG_IRP:
		/* TASK_UNINTERRUPTIBLE: not even SIGKILL ends this (the zombie). */
		if (!req->arg[0]) {
			wait_for_completion(&lf_hang_done);
		} else {
			wait_for_completion_timeout(&lf_hang_done,
						    msecs_to_jiffies(req->arg[0]));
			mutex_lock(&lf_lock);
			lf_gt.state = LABFAULT_STATE_DONE;
			mutex_unlock(&lf_lock);
		}
		break;
	case LABFAULT_HANG_IRP_CANCEL:
		/* TASK_KILLABLE: the hung-task detector skips it, SIGKILL ends it. */
		if (!req->arg[0])
			left = wait_for_completion_killable(&lf_hang_done);
		else
			left = wait_for_completion_killable_timeout(&lf_hang_done,
								    msecs_to_jiffies(req->arg[0]));
		mutex_lock(&lf_lock);
		gt_set("cancelled", left < 0);
		lf_gt.state = LABFAULT_STATE_DONE;
		mutex_unlock(&lf_lock);
		ret = left < 0 ? -EINTR : 0;
		break;
	case LABFAULT_SPINLOCK_DEADLOCK:
		for (i = 0; i < 2; i++)
			wake_up_process(lf_spinner[i]);
		break;
	case LABFAULT_RESOURCE_SELF_DEADLOCK:
		mutex_lock(&lf_resource);
		mutex_lock(&lf_resource);
		break;
	case LABFAULT_DPC_WATCHDOG_SINGLE:
		mod_timer(&lf_timer, jiffies + 1);
		break;
	case LABFAULT_DPC_WATCHDOG_CUMULATIVE:
		/*
		 * Preemption off is Linux's DISPATCH_LEVEL: the work items run
		 * back to back from local_bh_enable() and nothing else gets the CPU.
		 */
		preempt_disable();
		for (;;) {
			local_bh_disable();
			tasklet_schedule(&lf_storm);
			local_bh_enable();
		}
		break;
	case LABFAULT_HIGH_IRQL_FAULT:
		/*
		 * Pageable memory at DISPATCH_LEVEL, the Linux way: waiting for
		 * the page is sleeping in atomic context (BUG: scheduling while
		 * atomic), and the page is not there (an oops in atomic context).
		 */
		spin_lock(&lf_spin_a);
		msleep(1);
		*(volatile char *)(lf_vblock + PAGE_SIZE) = 1;
		spin_unlock(&lf_spin_a);
		break;
	case LABFAULT_POOL_OVERRUN:
		for (i = 0; i < req->arg[1]; i++)
			((volatile char *)lf_block)[req->arg[0] + i] = 0x5a;
		kfree(lf_block);
		break;
	case LABFAULT_DOUBLE_FREE:
		kfree(lf_block);
		kfree(lf_block);
		break;
	case LABFAULT_USE_AFTER_FREE: {
		void *again[64];

		kfree(lf_block);
		memset(lf_block, 0x5a, req->arg[0]);
		/*
		 * slub_debug checks the poison when the object is handed out again:
		 * allocate until it comes back.
		 */
		for (i = 0; i < ARRAY_SIZE(again); i++)
			again[i] = kmalloc(req->arg[0], GFP_KERNEL);
		for (i = 0; i < ARRAY_SIZE(again); i++)
			kfree(again[i]);
		break;
	}
	case LABFAULT_STACK_OVERFLOW:
		ret = lf_recurse(0);
		break;
	case LABFAULT_STACK_TRASH:
		lf_trash_stack();
		break;
	case LABFAULT_POOL_LEAK:
		ret = lf_leak(req);
		mutex_lock(&lf_lock);
		gt_set("allocations", atomic64_read(&lf_leak_count));
		gt_set("bytes", atomic64_read(&lf_leak_bytes));
		gt_set("capped", lf_leak_capped);
		lf_gt.state = LABFAULT_STATE_DONE;
		mutex_unlock(&lf_lock);
		break;
	case LABFAULT_BUGCHECK:
		panic("%s", req->message);
		break;
	case LABFAULT_NULL_DEREF:
		*nowhere = 1;
		break;
	default:
		ret = -EINVAL;
	}
	return ret;
}

/* ---- the device ---- */

static long lf_ioctl_arm(void __user *arg)
{
	int ret;

	mutex_lock(&lf_lock);
	/* A fired fault may still be running (a hang, a leak): one at a time. */
	if (lf_gt.state == LABFAULT_STATE_FIRED) {
		ret = -EBUSY;
		goto out;
	}
	lf_disarm(false);
	if (copy_from_user(&lf_req, arg, sizeof(lf_req))) {
		ret = -EFAULT;
		goto out_clear;
	}
	ret = lf_validate(&lf_req);
	if (ret)
		goto out_clear;
	lf_gt.abi_version = LABFAULT_ABI_VERSION;
	lf_gt.fault = lf_req.fault;
	lf_gt.state = LABFAULT_STATE_ARMED;
	ret = lf_arm();
	if (ret)
		goto out_clear;
	/* The arming task usually fires too (labagent trigger); FIRE refreshes it. */
	lf_fire_truth();
	if (copy_to_user(arg, &lf_gt, sizeof(lf_gt))) {
		ret = -EFAULT;
		goto out_clear;
	}
	pr_info("armed %s\n", fault_names[lf_req.fault]);
	goto out;
out_clear:
	lf_disarm(false);
out:
	mutex_unlock(&lf_lock);
	return ret;
}

static long lf_ioctl_fire(void)
{
	mutex_lock(&lf_lock);
	if (lf_gt.state != LABFAULT_STATE_ARMED) {
		mutex_unlock(&lf_lock);
		return -EINVAL;
	}
	lf_gt.state = LABFAULT_STATE_FIRED;
	lf_fire_truth();
	gt_print();
	mutex_unlock(&lf_lock);
	/* Unlocked: STATUS must keep answering while a fault hangs or leaks. */
	return lf_fire();
}

static long lf_ioctl_status(void __user *arg)
{
	struct labfault_ground_truth gt;

	mutex_lock(&lf_lock);
	if (lf_req.fault == LABFAULT_POOL_LEAK) {
		gt_set("allocations", atomic64_read(&lf_leak_count));
		gt_set("bytes", atomic64_read(&lf_leak_bytes));
	}
	if (lf_req.fault == LABFAULT_DPC_WATCHDOG_CUMULATIVE)
		gt_set("work_items", atomic64_read(&lf_storm_runs));
	gt = lf_gt;
	mutex_unlock(&lf_lock);
	gt.abi_version = LABFAULT_ABI_VERSION;
	if (copy_to_user(arg, &gt, sizeof(gt)))
		return -EFAULT;
	return 0;
}

static long lf_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	void __user *uarg = (void __user *)arg;

	switch (cmd) {
	case LABFAULT_IOC_ARM:
		return lf_ioctl_arm(uarg);
	case LABFAULT_IOC_FIRE:
		return lf_ioctl_fire();
	case LABFAULT_IOC_STATUS:
		return lf_ioctl_status(uarg);
	}
	/* Our ioctl with the wrong buffer size is a bad request, not an unknown one. */
	if (_IOC_TYPE(cmd) == LABFAULT_IOC_MAGIC && _IOC_NR(cmd) >= 1 && _IOC_NR(cmd) <= 3)
		return -EINVAL;
	return -ENOTTY;
}

static const struct file_operations lf_fops = {
	.owner = THIS_MODULE,
	.unlocked_ioctl = lf_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
	.llseek = noop_llseek,
};

static struct miscdevice lf_misc = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "labfault",
	.fops = &lf_fops,
	.mode = 0600,
};

static int __init labfault_init(void)
{
	int ret = misc_register(&lf_misc);

	if (ret)
		return ret;
	pr_info("ready: /dev/%s, abi %d, %d faults\n", lf_misc.name,
		LABFAULT_ABI_VERSION, LABFAULT_LAST - 1);
	return 0;
}

static void __exit labfault_exit(void)
{
	misc_deregister(&lf_misc);
	mutex_lock(&lf_lock);
	lf_disarm(true);
	mutex_unlock(&lf_lock);
}

module_init(labfault_init);
module_exit(labfault_exit);

MODULE_LICENSE("GPL");
MODULE_AUTHOR("crashlab");
MODULE_DESCRIPTION("crashlab fault injection: classic driver bugs on demand, with ground truth");
