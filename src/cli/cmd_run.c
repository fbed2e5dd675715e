/* xuan run — placeholder until its issue lands; it refuses to pretend. */
#include "cli.h"

int cmd_run(int argc, char **argv) {
    (void)argc;
    (void)argv;
    return cli_error("'run' is not built yet in this version of xuan");
}
