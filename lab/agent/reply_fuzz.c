/* libFuzzer target: every agent reply goes through these parsers. */
#include <stdint.h>
#include <stdlib.h>

#include "agent/agent.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_object *ret = NULL;
    cl_error *err = NULL;
    if (cl_agent_parse_reply((const char *)data, size, &ret, &err)) {
        cl_agent_exec_status st;
        cl_error *e2 = NULL;
        if (cl_agent_parse_exec_status(ret, 4096, &st, &e2))
            cl_agent_exec_status_clear(&st);
        cl_error_free(e2);
        json_object_put(ret);
    }
    cl_error_free(err);
    return 0;
}
