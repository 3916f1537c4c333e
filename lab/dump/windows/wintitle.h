/* wintitle.h - the stable one-line title of a Windows bug check (STYLE.md 10). */
#ifndef CL_DUMP_WINTITLE_H
#define CL_DUMP_WINTITLE_H

#include <stddef.h>
#include <stdint.h>

#include "dump/title.h"
#include "dump/windows/bugcheck.h"


/* "0x133 DPC_WATCHDOG_VIOLATION (single DPC) in labfault.sys": code, name, sub-kind, module.
 * Only the code, table strings and the module's name appear: no address, so the same crash
 * always gets the same title. */
void cl_win_title(uint32_t code, const cl_bugcheck_info *info, const char *module, char *buf, size_t len);

#endif
