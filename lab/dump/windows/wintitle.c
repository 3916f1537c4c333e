#include "dump/windows/wintitle.h"

#include <inttypes.h>
#include <stdio.h>

#include "dump/title.h"

void cl_win_title(uint32_t code, const cl_bugcheck_info *info, const char *module, char *buf, size_t len)
{
    char name[96], raw[512];
    int n = snprintf(raw, sizeof(raw), "0x%" PRIX32, code);
    if (cl_bugcheck_name(code, name, sizeof(name)))
        n += snprintf(raw + n, sizeof(raw) - (size_t)n, " %s", name);
    if (info->subkind)
        n += snprintf(raw + n, sizeof(raw) - (size_t)n, " (%s)", info->subkind);
    if (module && (size_t)n < sizeof(raw))
        snprintf(raw + n, sizeof(raw) - (size_t)n, " in %s", module);
    cl_dump_title_sanitize(raw, buf, len);
}
