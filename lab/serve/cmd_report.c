#include <stdio.h>
#include "cmd.h"
int cl_cmd_report(int argc, char **argv) { (void)argc; fprintf(stderr, "crashlab %s: not built yet\n", argv[0]); return 2; }
