/* windows_fuzz.c - libFuzzer target: the Windows dump reader, the inspect object built from
 * it, physical page reads and the SMBIOS/driver fingerprint. */
#include <stddef.h>
#include <stdint.h>

#include "dump/fingerprint.h"
#include "dump/inspect_priv.h"
#include "dump/windows/windump.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    cl_reader *r = cl_reader_open_mem(data, size, NULL);
    if (!r)
        return 0;
    json_object *o = NULL;
    cl_error *err = NULL;
    cl_inspect_windows(r, &o, &err);
    json_object_put(o);
    cl_error_free(err);
    err = NULL;
    o = NULL;
    if (cl_dump_fingerprint_reader(r, &o, &err))
        json_object_put(o);
    cl_error_free(err);
    cl_windump *d = cl_windump_open(r, NULL);
    if (d) {
        unsigned char page[4096];
        for (uint64_t pfn = 0; pfn < 64; pfn++)
            cl_windump_read_page(d, pfn * 7, page, NULL);
        cl_windump_free(d);
    }
    cl_reader_free(r);
    return 0;
}
