/* xuan inspect — placeholder until its issue lands; it refuses to pretend. */
#include "cli.h"

int cmd_inspect(int argc, char **argv) {
    (void)argc;
    (void)argv;
    return cli_error("'inspect' is not built yet in this version of xuan");
}
