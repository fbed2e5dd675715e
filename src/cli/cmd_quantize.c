/* xuan quantize — placeholder until its issue lands; it refuses to pretend. */
#include "cli.h"

int cmd_quantize(int argc, char **argv) {
    (void)argc;
    (void)argv;
    return cli_error("'quantize' is not built yet in this version of xuan");
}
