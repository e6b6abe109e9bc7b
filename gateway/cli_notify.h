/* hallgw notify test ROUTE: one test message on a notification route. */
#ifndef HALLGW_CLI_NOTIFY_H
#define HALLGW_CLI_NOTIFY_H

/* Returns the process exit code. argv[0] is "notify". */
int cli_notify(int argc, char **argv, const char *default_config);

#endif
