/* xuan pull — placeholder until its issue lands; it refuses to pretend. */
#include "cli.h"

int cmd_pull(int argc, char **argv) {
    (void)argc;
    (void)argv;
    return cli_error("'pull' is not built yet in this version of xuan");
}
