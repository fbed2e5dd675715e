/* xuan pick — placeholder until its issue lands; it refuses to pretend. */
#include "cli.h"

int cmd_pick(int argc, char **argv) {
    (void)argc;
    (void)argv;
    return cli_error("'pick' is not built yet in this version of xuan");
}
