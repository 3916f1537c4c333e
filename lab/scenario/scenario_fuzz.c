/* scenario_fuzz.c - libFuzzer target for cl_scenario_parse. Besides "no crash, no leak,
 * no UB" it checks the loader's contract: exactly one of scenario / error, an error names
 * FILE:LINE:COLUMN with both >= 1, a scenario is complete (steps, timeouts, defaults).
 * Seeds: tests/data/scenarios/good, tests/data/scenarios/bad, scenarios/linux. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scenario/scenario.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    cl_error *err = NULL;
    cl_scenario *s = cl_scenario_parse("fuzz.yaml", (const char *)data, size, &err);
    if (!s == !err)
        __builtin_trap();
    if (err && err->code == CL_ERR_INVAL) {
        int line = 0, col = 0, n = 0;
        if (sscanf(err->msg, "fuzz.yaml:%d:%d: %n", &line, &col, &n) != 2 || n == 0 || line < 1 || col < 1 ||
            !memchr(err->msg, '\0', sizeof(err->msg)) || strchr(err->msg, '\n'))
            __builtin_trap();
    }
    if (s) {
        if (s->nsteps < 1 || s->nsteps > CL_SCENARIO_MAX_STEPS || !s->name || !s->path ||
            s->t_boot <= 0 || s->t_step <= 0 || s->t_observe <= 0 || s->t_run <= 0 ||
            s->memory_mb < 64 || s->vcpus < 1 || s->expect_verdict >= CL_VERDICT_LAST ||
            strlen(s->sha256) != 64)
            __builtin_trap();
        for (size_t i = 0; i < s->nsteps; i++) {
            const cl_step *st = &s->steps[i];
            if (st->timeout <= 0 || (st->kind == CL_STEP_TRIGGER && !st->fault) ||
                (st->kind == CL_STEP_INSTALL && !st->path) || (st->kind == CL_STEP_EXEC && !st->argv[0]))
                __builtin_trap();
        }
        char *cmdline = cl_scenario_fault_cmdline(s);
        if (!cmdline)
            __builtin_trap();
        free(cmdline);
    }
    cl_scenario_free(s);
    cl_error_free(err);
    return 0;
}
