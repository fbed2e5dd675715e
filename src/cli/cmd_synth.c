/* xuan synth — placeholder until its issue lands; it refuses to pretend. */
#include "cli.h"

int cmd_synth(int argc, char **argv) {
    (void)argc;
    (void)argv;
    return cli_error("'synth' is not built yet in this version of xuan");
}
