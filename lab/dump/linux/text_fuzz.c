/* text_fuzz.c - libFuzzer target: the text parsers fed with guest data: crash reports and
 * titles from a kernel log or a serial console, VMCOREINFO lookups, the SMBIOS structure table. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dump/linux/report.h"
#include "dump/linux/vmcoreinfo.h"
#include "dump/smbios.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    if (!s)
        return 0;
    memcpy(s, data, size);
    s[size] = '\0';
    cl_linux_report rep;
    cl_linux_report_parse(s, &rep);
    /* the serial console's path: raw bytes, NULs and CRs included */
    cl_linux_report_parse_n((const char *)data, size, &rep);
    char t[CL_TITLE_MAX + 1], v[64];
    cl_dump_title_from_text(s, t, sizeof(t));
    uint64_t u;
    int64_t i;
    cl_vmci_symbol(s, "prb", &u);
    cl_vmci_offset(s, "prb_desc.state_var", &u);
    cl_vmci_number(s, "phys_base", &i);
    cl_vmci_get(s, "OSRELEASE", v, sizeof(v));
    cl_smbios sm;
    memset(&sm, 0, sizeof(sm));
    cl_smbios_parse_table(data, size, &sm);
    free(s);
    return 0;
}
