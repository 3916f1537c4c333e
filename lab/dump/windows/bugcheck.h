/* bugcheck.h - Windows bug check names and the documented meaning of their parameters. */
#ifndef CL_DUMP_BUGCHECK_H
#define CL_DUMP_BUGCHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Writes the name of code into buf ("SYSTEM_THREAD_EXCEPTION_NOT_HANDLED_M" for 0x1000007E)
 * and returns buf, or returns NULL when the code is not in the table. */
const char *cl_bugcheck_name(uint32_t code, char *buf, size_t len);

typedef struct {
    const char *subkind;       /* "single DPC", "write", ...; NULL when none applies */
    char param[4][200];        /* meaning of each parameter, "" when undocumented */
    bool have_fault_address;   /* a parameter is the address of the faulting code */
    uint64_t fault_address;
    int fault_param;           /* its index, 0-3 */
} cl_bugcheck_info;

/* Explains p[0..3] for the codes whose parameters are documented. */
void cl_bugcheck_describe(uint32_t code, const uint64_t p[4], cl_bugcheck_info *out);

/* Name of an NTSTATUS exception code ("STATUS_ACCESS_VIOLATION"), or NULL. */
const char *cl_ntstatus_name(uint32_t status);

#endif
