/* xuan models — placeholder until its issue lands; it refuses to pretend. */
#include "cli.h"

int cmd_models(int argc, char **argv) {
    (void)argc;
    (void)argv;
    return cli_error("'models' is not built yet in this version of xuan");
}
