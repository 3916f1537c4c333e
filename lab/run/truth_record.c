/* truth_record.c - result.json "ground_truth": the fault driver's fired line, read from the
 * kernel log in the dump (what a debugger will see), else from the serial console, else the
 * object labels of ARM's answer (truth.h says why ARM's task is never the label). */
#include <stdio.h>
#include <stdlib.h>

#include "dump/dump.h"
#include "run_priv.h"
#include "truth.h"
#include "util/fileio.h"

#define TRUTH_CONSOLE_MAX (4u << 20)

static json_object *from_text(cl_run_ctx *c, const char *text, size_t len, const char *source)
{
    char line[CL_TRUTH_LINE_MAX], why[160];
    if (!cl_truth_fired_line(text, len, line, sizeof(line)))
        return NULL;
    json_object *gt = cl_truth_parse(line, source, why, sizeof(why));
    if (!gt) {
        char w[256];
        snprintf(w, sizeof(w), "ground truth: %s line ignored: %s", source, why);
        json_object_array_add(c->warnings, json_object_new_string(w));
    }
    return gt;
}

void cl_run_truth(cl_run_ctx *c)
{
    json_object *gt = NULL;
    if (c->dump_path[0] && c->s->profile != CL_PROFILE_WINDOWS) {
        CL_AUTOFREE char *log = NULL;
        size_t len = 0;
        if (cl_dump_linux_log(c->dump_path, &log, &len, NULL))
            gt = from_text(c, log, len, "dump-log");
    }
    if (!gt) {
        CL_AUTOFREE char *text = NULL;
        size_t len = 0;
        if (cl_file_read_tail(c->console, TRUTH_CONSOLE_MAX, &text, &len, NULL))
            gt = from_text(c, text, len, "console");
    }
    /* Both agents arm and fire from two processes (labagent arm, labagent fire): ARM's
     * task or thread is the arming one, so only its object labels are kept. */
    if (!gt)
        gt = cl_truth_from_arm(c->ground_truth, false);
    if (gt)
        json_object_object_add(c->res, "ground_truth", gt);
}
