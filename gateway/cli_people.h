/* The subcommands that manage people: hallgw user (accounts and roles),
 * hallgw token (API tokens) and hallgw audit (the log of what people did).
 * They write the state store directly; the running gateway reads accounts
 * from it on every request, so a change takes effect at once. */
#ifndef HALLGW_CLI_PEOPLE_H
#define HALLGW_CLI_PEOPLE_H

/* Return the process exit code. argv[0] is the subcommand's name. */
int cli_user(int argc, char **argv, const char *default_config);
int cli_token(int argc, char **argv, const char *default_config);
int cli_audit(int argc, char **argv, const char *default_config);

#endif
