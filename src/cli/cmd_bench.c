/* xuan bench — placeholder until its issue lands; it refuses to pretend. */
#include "cli.h"

int cmd_bench(int argc, char **argv) {
    (void)argc;
    (void)argv;
    return cli_error("'bench' is not built yet in this version of xuan");
}
