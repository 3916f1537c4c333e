/* truth.h - the run's ground truth: what the fault driver said when the fault FIRED.
 *
 * The Linux module prints one line, "labfault: ground-truth {...,"state":"fired",...}", from
 * the task that fires, at the moment it fires. ARM's answer (labagent arm) comes from
 * another process (labagent fire is a second one), so its task, pid, cpu and stack name
 * the wrong task: only its object labels (locks, timer, slab block...) are kept, and only
 * when no fired line survived. Guest text: bounded and parsed as hostile.
 */
#ifndef CL_RUN_TRUTH_H
#define CL_RUN_TRUTH_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>

#define CL_TRUTH_LINE_MAX 1100
#define CL_TRUTH_MAX_ITEMS 64

/* Copies the JSON of the last whole "labfault: ground-truth {...}" line of text whose state
 * is "fired" into out (a line cut short by the crash is skipped). False when there is none. */
bool cl_truth_fired_line(const char *text, size_t len, char *out, size_t outlen);

/* The ground truth from a fired line: every item as printed ("0x..." strings, comm), except
 * the numbers a reader compares as numbers, which become decimal integers: pid, cpu and
 * pid_* (pid_a, pid_b). "source" says where it came from. NULL (why set) when the line is
 * not a flat JSON object of short strings. */
json_object *cl_truth_parse(const char *line, const char *source, char *why, size_t whylen);

/* The object labels of ARM's answer: its task, pid, cpu, stack and comm are dropped (they
 * are the arming process's) unless keep_task (a driver that arms and fires in one call). */
json_object *cl_truth_from_arm(json_object *arm, bool keep_task);

#endif
