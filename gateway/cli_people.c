#include "cli_people.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "auth.h"
#include "cli.h"
#include "config.h"
#include "crypto.h"
#include "duration.h"
#include "id.h"
#include "password.h"
#include "report.h"
#include "roles.h"
#include "store.h"

/* ---- shared ------------------------------------------------------------------ */

/* One line from f without its newline; false at EOF or when too long. */
static bool read_line(FILE *f, char *buf, size_t size)
{
    if (!fgets(buf, (int)size, f))
        return false;
    size_t n = strlen(buf);
    if (n && buf[n - 1] == '\n')
        buf[--n] = '\0';
    else if (!feof(f))
        return false;
    if (n && buf[n - 1] == '\r')
        buf[--n] = '\0';
    return true;
}

/* Asks for a password on the terminal without echo, twice; or reads one
 * line from standard input when it is not a terminal. 0, or 2 (printed). */
static int ask_password(const char *cmd, char *buf, size_t size)
{
    char again[PASSWORD_MAX_LEN + 2];
    bool tty = isatty(STDIN_FILENO);
    struct termios old, quiet;
    if (tty) {
        if (tcgetattr(STDIN_FILENO, &old) < 0)
            tty = false;
        quiet = old;
        quiet.c_lflag &= ~(tcflag_t)ECHO;
    }
    if (tty) {
        fputs("New password: ", stderr);
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
    }
    bool ok = read_line(stdin, buf, size);
    if (tty && ok) {
        fputs("\nAgain: ", stderr);
        ok = read_line(stdin, again, sizeof(again));
        if (ok && strcmp(buf, again) != 0) {
            fprintf(stderr, "\n%s: the two passwords differ\n", cmd);
            crypto_wipe(again, sizeof(again));
            tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
            return 2;
        }
    }
    if (tty) {
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
        fputc('\n', stderr);
    }
    crypto_wipe(again, sizeof(again));
    if (!ok) {
        fprintf(stderr, "%s: no password given (type it, or give it on standard input)\n", cmd);
        return 2;
    }
    const char *why = password_acceptable(buf);
    if (why) {
        fprintf(stderr, "%s: %s\n", cmd, why);
        return 2;
    }
    return 0;
}

/* Parses the common options: -c FILE, --role R, --label TEXT, --from,
 * --to, --limit; the rest stay in argv[optind..]. */
struct people_opts {
    const char *config, *role, *label, *from, *to;
    long limit;
};

static int parse_opts(int argc, char **argv, struct people_opts *o, void (*usage)(FILE *))
{
    static const struct option opts[] = {
        {"config", required_argument, NULL, 'c'}, {"role", required_argument, NULL, 'r'},
        {"label", required_argument, NULL, 'l'},  {"from", required_argument, NULL, 'f'},
        {"to", required_argument, NULL, 't'},     {"limit", required_argument, NULL, 'n'},
        {"help", no_argument, NULL, 'h'},         {NULL, 0, NULL, 0},
    };
    int c;
    char *end;
    optind = 1;
    while ((c = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
        switch (c) {
        case 'c':
            o->config = optarg;
            break;
        case 'r':
            o->role = optarg;
            break;
        case 'l':
            o->label = optarg;
            break;
        case 'f':
            o->from = optarg;
            break;
        case 't':
            o->to = optarg;
            break;
        case 'n':
            o->limit = strtol(optarg, &end, 10);
            if (!*optarg || *end || o->limit < 1 || o->limit > 1000000) {
                fprintf(stderr, "%s: --limit takes a count from 1 to 1000000\n", argv[0]);
                return 2;
            }
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    return -1;
}

/* ---- hallgw user -------------------------------------------------------------- */

static void user_usage(FILE *f)
{
    fputs("Usage: hallgw user add NAME --role ROLE [-c FILE]\n"
          "       hallgw user passwd NAME [-c FILE]\n"
          "       hallgw user role NAME ROLE [-c FILE]\n"
          "       hallgw user disable|enable NAME [-c FILE]\n"
          "       hallgw user list [-c FILE]\n"
          "\n"
          "Manages the accounts people sign in with, on the live page or through the\n"
          "API. Every acknowledgement, approval and override is recorded with the\n"
          "account's name. A password is never given on the command line: it is asked\n"
          "for twice on the terminal, or read as one line from standard input.\n"
          "Changing a password or a role, or disabling an account, ends its sessions.\n"
          "\n"
          "Roles:\n"
          "  viewer    reads the page and the API\n"
          "  operator  facilities: handles the alerts of seats, queues, people counters\n"
          "            and the environment; keeps a window's PC and plug on tonight\n"
          "  it        IT: handles the alerts of PCs, plugs and equipment, approves a\n"
          "            changed network baseline, keeps a PC on tonight\n"
          "  admin     everything, and reads the audit log\n"
          "\n"
          "NAME is 1 to 64 of A-Z a-z 0-9 _ . -; a password has at least 10 characters.\n"
          "\n"
          "  -c, --config FILE  the gateway's configuration (default /etc/hallgw/hallgw.conf)\n"
          "      --role ROLE    add: viewer, operator, it or admin\n"
          "  -h, --help         this help\n"
          "\n"
          "Example: hallgw user add wang --role operator\n"
          "         printf '%s\\n' \"$PASSWORD\" | hallgw user passwd wang\n"
          "\n"
          "Exit status: 0 done, 1 the store cannot be written or read, 2 usage error,\n"
          "unknown account or unacceptable password.\n",
          f);
}

static int user_list(struct store *st)
{
    struct record_account *v = NULL;
    size_t n = 0;
    char t[32];
    if (store_accounts(st, &v, &n) < 0) {
        fprintf(stderr, "hallgw user: cannot read the accounts: %s\n", store_last_error(st));
        return 1;
    }
    printf("%-24s %-9s %-8s %s\n", "NAME", "ROLE", "STATE", "CHANGED");
    for (size_t i = 0; i < n; i++) {
        cli_fmt_time(v[i].changed, t, sizeof(t));
        printf("%-24s %-9s %-8s %s\n", v[i].name, v[i].role, v[i].disabled ? "disabled" : "active",
               t);
    }
    free(v);
    return 0;
}

static int user_add(struct store *st, const char *name, const char *role)
{
    struct record_account a = {.created = clock_wall()};
    a.changed = a.created;
    snprintf(a.name, sizeof(a.name), "%s", name);
    snprintf(a.role, sizeof(a.role), "%s", role);
    struct record_account old;
    if (store_account_get(st, name, &old) == 0) {
        fprintf(stderr, "hallgw user add: %s already exists (hallgw user passwd or role)\n", name);
        return 2;
    }
    char pw[PASSWORD_MAX_LEN + 2];
    int rc = ask_password("hallgw user add", pw, sizeof(pw));
    if (rc == 0 && password_hash(pw, a.hash) < 0) {
        fprintf(stderr, "hallgw user add: the password cannot be hashed\n");
        rc = 1;
    }
    crypto_wipe(pw, sizeof(pw));
    if (rc)
        return rc;
    int r = store_account_add(st, &a);
    if (r < 0) {
        fprintf(stderr, "hallgw user add: %s\n",
                r == -EEXIST ? "the name is taken" : store_last_error(st));
        return r == -EEXIST ? 2 : 1;
    }
    cli_audit_record(st, "account-add", name, role);
    printf("account %s added with the role %s\n", name, role);
    return 0;
}

static int user_change(struct store *st, const char *verb, const char *name, const char *role)
{
    struct record_account a;
    int r = store_account_get(st, name, &a);
    if (r == -ENOENT) {
        fprintf(stderr, "hallgw user %s: no account %s (hallgw user list)\n", verb, name);
        return 2;
    }
    if (r < 0) {
        fprintf(stderr, "hallgw user %s: %s\n", verb, store_last_error(st));
        return 1;
    }
    char detail[64] = "";
    if (strcmp(verb, "passwd") == 0) {
        char pw[PASSWORD_MAX_LEN + 2];
        int rc = ask_password("hallgw user passwd", pw, sizeof(pw));
        if (rc == 0 && password_hash(pw, a.hash) < 0) {
            fprintf(stderr, "hallgw user passwd: the password cannot be hashed\n");
            rc = 1;
        }
        crypto_wipe(pw, sizeof(pw));
        if (rc)
            return rc;
    } else if (strcmp(verb, "role") == 0) {
        snprintf(detail, sizeof(detail), "%s -> %s", a.role, role);
        snprintf(a.role, sizeof(a.role), "%s", role);
    } else {
        a.disabled = strcmp(verb, "disable") == 0;
    }
    a.changed = clock_wall();
    if (store_account_set(st, &a) < 0) {
        fprintf(stderr, "hallgw user %s: %s\n", verb, store_last_error(st));
        return 1;
    }
    char action[32];
    snprintf(action, sizeof(action), "account-%s", verb);
    cli_audit_record(st, action, name, detail);
    printf("account %s: %s done; its sessions are ended\n", name, verb);
    return 0;
}

int cli_user(int argc, char **argv, const char *default_config)
{
    struct people_opts o = {.config = default_config};
    int rc = parse_opts(argc, argv, &o, user_usage);
    if (rc >= 0)
        return rc;
    const char *verb = optind < argc ? argv[optind] : NULL;
    const char *name = optind + 1 < argc ? argv[optind + 1] : NULL;
    static const char *const verbs[] = {"add", "passwd", "role", "disable", "enable", "list", NULL};
    static const int nargs[] = {2, 2, 3, 2, 2, 1};
    int v = cli_verb("user", verb, verbs);
    if (v < 0)
        return 2;
    if (argc - optind != nargs[v]) {
        fprintf(stderr, "hallgw user %s: wrong number of arguments (hallgw user --help)\n", verb);
        return 2;
    }
    if (name && !id_valid(name, strlen(name))) {
        fprintf(stderr, "hallgw user %s: '%s' is not a valid name (1 to 64 of A-Z a-z 0-9 _ . -)\n",
                verb, name);
        return 2;
    }
    const char *role = v == 0 ? o.role : v == 2 ? argv[optind + 2] : NULL;
    if ((v == 0 || v == 2) && role_parse(role) == ROLE_NONE) {
        fprintf(stderr, "hallgw user %s: %s%s; expected viewer, operator, it or admin\n", verb,
                role ? "unknown role " : "--role ROLE is required", role ? role : "");
        return 2;
    }
    if (v != 0 && o.role) {
        fprintf(stderr,
                "hallgw user %s: --role is only for add (use: hallgw user role NAME "
                "ROLE)\n",
                verb);
        return 2;
    }
    struct config *cfg = cli_load_config(o.config);
    if (!cfg)
        return 2;
    struct store *st = cli_open_store(cfg, v == 5);
    rc = 1;
    if (st)
        rc = v == 5   ? user_list(st)
             : v == 0 ? user_add(st, name, role)
                      : user_change(st, verb, name, role);
    store_close(st);
    config_free(cfg);
    return rc;
}

/* ---- hallgw token --------------------------------------------------------------- */

static void token_usage(FILE *f)
{
    fputs("Usage: hallgw token add ACCOUNT [--label TEXT] [-c FILE]\n"
          "       hallgw token list [ACCOUNT] [-c FILE]\n"
          "       hallgw token revoke ID [-c FILE]\n"
          "\n"
          "API tokens act as their account, with its role, for scripts, Prometheus and\n"
          "links: \"Authorization: Bearer hgw_...\". add prints the token once; only its\n"
          "digest is kept, so a lost token is revoked and made again. A disabled\n"
          "account's tokens stop working with it.\n"
          "\n"
          "  -c, --config FILE  the gateway's configuration (default /etc/hallgw/hallgw.conf)\n"
          "      --label TEXT   add: what the token is for (\"prometheus\", \"grafana link\")\n"
          "  -h, --help         this help\n"
          "\n"
          "Exit status: 0 done, 1 the store cannot be written or read, 2 usage error,\n"
          "unknown account or token.\n",
          f);
}

static int token_list(struct store *st, const char *account)
{
    struct record_token *v = NULL;
    size_t n = 0;
    char t1[32], t2[32];
    if (store_tokens(st, account, &v, &n) < 0) {
        fprintf(stderr, "hallgw token: cannot read the tokens: %s\n", store_last_error(st));
        return 1;
    }
    printf("%-16s %-24s %-19s %-19s %s\n", "ID", "ACCOUNT", "CREATED", "LAST USED", "LABEL");
    for (size_t i = 0; i < n; i++) {
        cli_fmt_time(v[i].created, t1, sizeof(t1));
        cli_fmt_time(v[i].last_used, t2, sizeof(t2));
        printf("%-16s %-24s %-19s %-19s %s\n", v[i].id, v[i].account, t1, t2, v[i].label);
    }
    free(v);
    return 0;
}

static int token_add(struct store *st, const char *account, const char *label)
{
    struct record_account a;
    int r = store_account_get(st, account, &a);
    if (r < 0) {
        fprintf(stderr, "hallgw token add: %s\n",
                r == -ENOENT ? "no such account (hallgw user list)" : store_last_error(st));
        return r == -ENOENT ? 2 : 1;
    }
    struct record_token t;
    char text[AUTH_TOKEN_TEXT_MAX];
    if (auth_token_make(account, label, clock_wall(), &t, text) < 0 ||
        store_token_add(st, &t) < 0) {
        fprintf(stderr, "hallgw token add: %s\n", store_last_error(st));
        crypto_wipe(text, sizeof(text));
        return 1;
    }
    cli_audit_record(st, "token-add", account, t.id);
    printf("%s\n", text);
    crypto_wipe(text, sizeof(text));
    fprintf(stderr, "token %s for %s (%s); it is shown only now\n", t.id, account, a.role);
    return 0;
}

int cli_token(int argc, char **argv, const char *default_config)
{
    struct people_opts o = {.config = default_config};
    int rc = parse_opts(argc, argv, &o, token_usage);
    if (rc >= 0)
        return rc;
    const char *verb = optind < argc ? argv[optind] : NULL;
    const char *arg = optind + 1 < argc ? argv[optind + 1] : NULL;
    static const char *const verbs[] = {"add", "list", "revoke", NULL};
    int v = cli_verb("token", verb, verbs);
    if (v < 0)
        return 2;
    bool add = v == 0, list = v == 1;
    if ((!list && argc - optind != 2) || (list && argc - optind > 2) || (!add && o.label)) {
        fprintf(stderr, "hallgw token %s: wrong arguments (hallgw token --help)\n", verb);
        return 2;
    }
    struct config *cfg = cli_load_config(o.config);
    if (!cfg)
        return 2;
    struct store *st = cli_open_store(cfg, list);
    rc = 1;
    if (st && list) {
        rc = token_list(st, arg);
    } else if (st && add) {
        rc = token_add(st, arg, o.label);
    } else if (st) {
        int r = store_token_delete(st, arg);
        if (r == 0) {
            cli_audit_record(st, "token-revoke", arg, "");
            printf("token %s revoked\n", arg);
            rc = 0;
        } else {
            fprintf(stderr, "hallgw token revoke: %s\n",
                    r == -ENOENT ? "no such token (hallgw token list)" : store_last_error(st));
            rc = r == -ENOENT ? 2 : 1;
        }
    }
    store_close(st);
    config_free(cfg);
    return rc;
}

/* ---- hallgw audit ----------------------------------------------------------------- */

static void audit_usage(FILE *f)
{
    fputs("Usage: hallgw audit [--from YYYY-MM-DD] [--to YYYY-MM-DD] [--limit N] [-c FILE]\n"
          "\n"
          "Prints the audit log: every sign-in (and failed one), acknowledgement,\n"
          "resolve, approval, override and account change, with who, when, from where\n"
          "(an address, \"cli\" or \"mqtt\") and what, oldest first. --to is inclusive.\n"
          "Default: today.\n"
          "\n"
          "  -c, --config FILE  the gateway's configuration (default /etc/hallgw/hallgw.conf)\n"
          "      --from DATE    from this day (local time of gateway.timezone)\n"
          "      --to DATE      up to and including this day\n"
          "      --limit N      at most N entries (default 1000)\n"
          "  -h, --help         this help\n"
          "\n"
          "Exit status: 0 done, 1 the store cannot be read, 2 usage error.\n",
          f);
}

int cli_audit(int argc, char **argv, const char *default_config)
{
    struct people_opts o = {.config = default_config, .limit = 1000};
    int rc = parse_opts(argc, argv, &o, audit_usage);
    if (rc >= 0)
        return rc;
    if (optind < argc) {
        fprintf(stderr, "hallgw audit: unexpected argument '%s' (hallgw audit --help)\n",
                argv[optind]);
        return 2;
    }
    struct config *cfg = cli_load_config(o.config);
    if (!cfg)
        return 2;
    setenv("TZ", cfg->gateway.timezone, 1);
    tzset();
    wall_s from = 0, to = 0, ignore;
    int32_t day;
    rc = 2;
    if (o.from && date_parse(o.from, &day) < 0) {
        fprintf(stderr, "hallgw audit: --from %s: expected YYYY-MM-DD\n", o.from);
        goto out_free_config;
    }
    if (o.from)
        report_day_bounds(day, &from, &ignore);
    if (o.to && date_parse(o.to, &day) < 0) {
        fprintf(stderr, "hallgw audit: --to %s: expected YYYY-MM-DD\n", o.to);
        goto out_free_config;
    }
    if (o.to)
        report_day_bounds(day, &ignore, &to);
    if (!o.from && !o.to) {
        time_t now = time(NULL);
        struct tm tm;
        char today[16];
        localtime_r(&now, &tm);
        strftime(today, sizeof(today), "%Y-%m-%d", &tm);
        if (date_parse(today, &day) == 0)
            report_day_bounds(day, &from, &to);
    }
    struct store *st = cli_open_store(cfg, true);
    struct record_audit *v = NULL;
    size_t n = 0;
    rc = 1;
    if (st && store_audit(st, from, to, (size_t)o.limit, &v, &n) < 0)
        fprintf(stderr, "hallgw audit: %s\n", store_last_error(st));
    else if (st)
        rc = 0;
    store_close(st);
    printf("%-19s %-20s %-16s %-16s %-24s %-3s %s\n", "AT", "WHO", "FROM", "ACTION", "TARGET", "OK",
           "DETAIL");
    for (size_t i = 0; i < n; i++) {
        char t[32];
        cli_fmt_time(v[i].at, t, sizeof(t));
        printf("%-19s %-20s %-16s %-16s %-24s %-3s %s\n", t, v[i].account, v[i].addr, v[i].action,
               v[i].target, v[i].ok ? "yes" : "no", v[i].detail);
    }
    free(v);
out_free_config:
    config_free(cfg);
    return rc;
}
