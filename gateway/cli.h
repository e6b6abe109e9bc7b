/* The subcommands for people: hallgw alerts, hallgw ack. Each finds the
 * state directory (and the broker, for ack) through the config file. */
#ifndef HALLGW_CLI_H
#define HALLGW_CLI_H

/* Return the process exit code. argv[0] is the subcommand's name. */
int cli_alerts(int argc, char **argv, const char *default_config);
int cli_ack(int argc, char **argv, const char *default_config);

#endif
