/* oracle_expect.c - what a debugger must also find in a dump, beyond the driver's labels:
 * facts that follow from the fault's code (drivers/linux/labfault.c), written into each
 * manifest entry as "oracle_expect" so that every oracle checks the same thing. */
#include <stdio.h>
#include <string.h>

#include "corpus.h"
#include "util/json.h"

static json_object *copy_of(json_object *gt, const char *key)
{
    json_object *v = cl_json_get(gt, key);
    return v ? json_object_get(v) : NULL;
}

json_object *cl_corpus_oracle_expect(const char *fault, json_object *gt)
{
    /* The firing task's state in the dump. A task that crashed in its own context, or
     * spins there, is running (R); one that waits forever is in D, and so is high-irql-fault's:
     * msleep() set TASK_UNINTERRUPTIBLE before schedule() found the spin lock held and the
     * BUG (panic_on_warn) panicked there (crash and drgn both read D). dpc-watchdog-single is
     * left out: labagent may still be runnable or may have exited before the timer fired. */
    static const struct {
        const char *fault, *state;
    } states[] = {
        { "bugcheck", "R" },        { "null-deref", "R" },        { "stack-trash", "R" },
        { "use-after-free", "R" },  { "double-free", "R" },       { "pool-overrun", "R" },
        { "high-irql-fault", "D" }, { "stack-overflow", "R" },    { "dpc-watchdog-cumulative", "R" },
        { "spinlock-deadlock", "R" }, /* preempted by the spinner bound to its CPU, never resumed */
        { "hang-irp", "D" },        { "resource-self-deadlock", "D" },
    };
    if (!fault || !gt || !json_object_is_type(gt, json_type_object))
        return NULL;
    json_object *e = json_object_new_object();
    for (size_t i = 0; i < sizeof(states) / sizeof(states[0]); i++)
        if (!strcmp(fault, states[i].fault) && cl_json_get(gt, "task"))
            json_object_object_add(e, "task_state", json_object_new_string(states[i].state));
    if (!strcmp(fault, "hang-irp") && cl_json_get(gt, "task"))
        json_object_object_add(e, "wait_object_waiter", copy_of(gt, "task"));
    if (!strcmp(fault, "resource-self-deadlock") && cl_json_get(gt, "task"))
        json_object_object_add(e, "lock_owner", copy_of(gt, "task"));
    if (!strcmp(fault, "spinlock-deadlock")) {
        if (cl_json_get(gt, "thread_a"))
            json_object_object_add(e, "lock_a_holder", copy_of(gt, "thread_a"));
        if (cl_json_get(gt, "thread_b"))
            json_object_object_add(e, "lock_b_holder", copy_of(gt, "thread_b"));
    }
    if (!strcmp(fault, "dpc-watchdog-single"))
        json_object_object_add(e, "timer_function", json_object_new_string("lf_timer_fn"));
    if (!strcmp(fault, "dpc-watchdog-cumulative"))
        json_object_object_add(e, "tasklet_function", json_object_new_string("lf_storm_fn"));
    if ((!strcmp(fault, "pool-overrun") || !strcmp(fault, "double-free") || !strcmp(fault, "use-after-free"))) {
        /* kmalloc() of n bytes comes from the kmalloc-<ksize(n)> cache. */
        const char *sz = cl_json_str(gt, "slab_object_size", NULL);
        unsigned long long n = 0;
        if (sz && sscanf(sz, "%llx", &n) == 1 && n) {
            char name[40];
            snprintf(name, sizeof(name), "kmalloc-%llu", n);
            json_object_object_add(e, "slab_cache", json_object_new_string(name));
        }
    }
    if (!strcmp(fault, "stack-overflow"))
        json_object_object_add(e, "guard_page_hit", json_object_new_boolean(1));
    return e;
}
