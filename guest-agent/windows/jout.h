/* jout.h - the one JSON object every labagent command prints on stdout.
 *
 * The host parses stdout of guest-exec as a single JSON object, so output is built in
 * memory and written once (jout_print), then flushed: a command that fires a fault
 * afterwards may never get another chance to write.
 */
#ifndef LABAGENT_JOUT_H
#define LABAGENT_JOUT_H

#include <stdbool.h>
#include <stdint.h>

#include "labfault_abi.h"

void jout_begin(const char *command);       /* {"ok":true,"command":... */
void jout_str(const char *key, const char *value);
void jout_u64(const char *key, uint64_t value);
void jout_hex(const char *key, uint64_t value);   /* "0x..." as a string */
void jout_bool(const char *key, bool value);
void jout_obj(const char *key);              /* key may be NULL inside an array */
void jout_obj_end(void);
void jout_arr(const char *key);
void jout_arr_end(void);
void jout_ground_truth(const struct labfault_ground_truth *gt);
void jout_print(void);                       /* closes the object, writes and flushes */

/* Prints {"ok":false,"command":...,"error":...} and returns the exit code to use. */
int jout_fail(const char *command, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* "Windows error 5: Access is denied." for GetLastError() values. */
const char *jout_winerr(unsigned long err);

#endif
