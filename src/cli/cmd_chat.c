/* xuan chat — placeholder until its issue lands; it refuses to pretend. */
#include "cli.h"

int cmd_chat(int argc, char **argv) {
    (void)argc;
    (void)argv;
    return cli_error("'chat' is not built yet in this version of xuan");
}
