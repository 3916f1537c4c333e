/* json.c - json-c accessors for documents that may not have the expected shape. */
#include "json.h"

json_object *cl_json_get(json_object *o, const char *key)
{
    json_object *v = NULL;
    if (!o || !json_object_is_type(o, json_type_object) || !json_object_object_get_ex(o, key, &v))
        return NULL;
    return v;
}

json_object *cl_json_child(json_object *o, const char *key)
{
    json_object *v = NULL;
    if (!json_object_object_get_ex(o, key, &v)) {
        v = json_object_new_object();
        json_object_object_add(o, key, v);
    }
    return v;
}

const char *cl_json_str(json_object *o, const char *key, const char *def)
{
    json_object *v = cl_json_get(o, key);
    return v && json_object_is_type(v, json_type_string) ? json_object_get_string(v) : def;
}

int64_t cl_json_int(json_object *o, const char *key, int64_t def)
{
    json_object *v = cl_json_get(o, key);
    return v && (json_object_is_type(v, json_type_int) || json_object_is_type(v, json_type_double)) ? json_object_get_int64(v) : def;
}

double cl_json_double(json_object *o, const char *key, double def)
{
    json_object *v = cl_json_get(o, key);
    return v && (json_object_is_type(v, json_type_int) || json_object_is_type(v, json_type_double)) ? json_object_get_double(v) : def;
}
