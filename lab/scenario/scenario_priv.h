/* scenario_priv.h - shared between the files of lab/scenario (and its tests), nothing else. */
#ifndef CL_SCENARIO_PRIV_H
#define CL_SCENARIO_PRIV_H

#include "scenario/scenario.h"
#include "scenario/yget.h"

extern const char *const cl_verdict_names[CL_VERDICT_LAST];
extern const char *const cl_profile_names[CL_PROFILE_LAST];
extern const char *const cl_dump_format_names[CL_DUMPFMT_LAST];
extern const char *const cl_firmware_names[CL_FIRMWARE_LAST];
extern const char *const cl_step_kind_names[CL_STEP_LAST];

#define CL_SCENARIO_MAX_PATH 4095   /* install paths, images */
#define CL_SCENARIO_MAX_TEXT 4096   /* descriptions, commands, argv entries */

/* Parses "steps:" (seq, introduced by key) into s->steps. Needs s->profile; leaves each
 * step's timeout 0 when not given, for the caller to fill from timeouts.step. */
bool cl_scenario_parse_steps(const yctx *c, const yt_node *key, const yt_node *seq, cl_scenario *s);

/* The value under key, or NULL when it is absent or null (an optional field left unset). */
const yt_node *cl_scenario_opt(const yt_node *map, const char *key, const yt_node **keyp);

#endif
