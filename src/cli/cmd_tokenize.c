/* xuan tokenize — placeholder until its issue lands; it refuses to pretend. */
#include "cli.h"

int cmd_tokenize(int argc, char **argv) {
    (void)argc;
    (void)argv;
    return cli_error("'tokenize' is not built yet in this version of xuan");
}
