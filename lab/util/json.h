/* json.h - small json-c accessors that tolerate missing keys and wrong types: for result
 * files, dump reports and daemon messages, whose shape is checked by reading, not assumed. */
#ifndef CL_UTIL_JSON_H
#define CL_UTIL_JSON_H

#include <json-c/json.h>
#include <stdint.h>

/* The member, or NULL when o is not an object or has no such key. */
json_object *cl_json_get(json_object *o, const char *key);
/* The object under key in o, added empty first when o has no such key. */
json_object *cl_json_child(json_object *o, const char *key);
/* The member's value when it has that type, else def. */
const char *cl_json_str(json_object *o, const char *key, const char *def);
int64_t cl_json_int(json_object *o, const char *key, int64_t def);
double cl_json_double(json_object *o, const char *key, double def);

#endif
