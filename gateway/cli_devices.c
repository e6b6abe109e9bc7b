#include "cli_devices.h"

#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "cli.h"
#include "config.h"
#include "json.h"
#include "unbound.h"
#include "unbound_feed.h"

#define FILE_MAX_BYTES (16u << 20)

static void usage(FILE *f)
{
    fputs("Usage: hallgw devices --unbound [--json] [-c FILE]\n"
          "\n"
          "Lists the unbound devices: Zigbee2MQTT, Tasmota and Shelly devices the\n"
          "gateway has seen on the broker (on their discovery topics, or publishing on\n"
          "a topic it reads) that no device of the configuration names in its source.\n"
          "The running gateway writes the list to <state_dir>/" UNBOUND_FILE "\n"
          "(within 5 seconds of a device coming or going, a minute when devices are\n"
          "only seen again); this command reads that file, so it shows the list as of\n"
          "the time printed. To bind a device, add it to devices in the\n"
          "configuration with the SOURCE shown and reload the gateway (SIGHUP): the\n"
          "configuration file stays the one source of truth. The live page builds the\n"
          "whole config line.\n"
          "\n"
          "  -c, --config FILE  the gateway's configuration (default\n"
          "                     /etc/hallgw/hallgw.conf)\n"
          "      --unbound      list the unbound devices (required)\n"
          "      --json         print the list as JSON, as GET /api/v1/devices/unbound\n"
          "  -h, --help         this help\n"
          "\n"
          "Exit status: 0 listed, 1 the list cannot be read (is the gateway running?),\n"
          "2 usage or configuration error.\n",
          f);
}

static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "re");
    if (!f)
        return NULL;
    struct stat st;
    char *s = NULL;
    int err = EIO;
    if (fstat(fileno(f), &st) < 0)
        err = errno;
    else if (st.st_size < 0 || (size_t)st.st_size > FILE_MAX_BYTES)
        err = EFBIG;
    else if (!(s = malloc((size_t)st.st_size + 1)))
        err = ENOMEM;
    if (s) {
        *len = fread(s, 1, (size_t)st.st_size, f);
        s[*len] = '\0';
    }
    fclose(f);
    if (!s)
        errno = err; /* for the caller's message */
    return s;
}

static const char *text(const struct json_flat *f, const char *key)
{
    const struct json_field *v = json_flat_get(f, key);
    return v && v->type == JSON_T_STRING && v->str_len ? v->str : "-";
}

static int table(const char *json, size_t len, wall_s written)
{
    struct json_elements e;
    int rc = json_array_elements(json, len, "devices", FILE_MAX_BYTES, UNBOUND_MAX_LIMIT, &e);
    if (rc < 0)
        return rc;
    char t[32], last[32], c1[512], c2[160];
    cli_fmt_time(written, t, sizeof(t));
    printf("# %zu unbound device%s, as of %s\n", e.n, e.n == 1 ? "" : "s", t);
    printf("%s %s %-19s %s\n", cli_pad(c1, sizeof(c1), "SOURCE", 40),
           cli_pad(c2, sizeof(c2), "MODEL", 24), "LAST SEEN", "DESCRIPTION / LAST READING");
    for (size_t i = 0; i < e.n; i++) {
        struct json_flat f;
        if (json_flatten(
                e.text[i], e.len[i],
                &(struct json_limits){.max_bytes = e.len[i], .max_depth = 4, .max_fields = 64},
                &f) != JSON_OK)
            continue;
        const struct json_field *ls = json_flat_get(&f, "last_seen");
        cli_fmt_time(ls && ls->type == JSON_T_NUMBER ? ls->num : 0, last, sizeof(last));
        const char *desc = text(&f, "description"), *sample = text(&f, "sample");
        printf("%s %s %-19s %s%s%s\n", cli_pad(c1, sizeof(c1), text(&f, "source"), 40),
               cli_pad(c2, sizeof(c2), text(&f, "model"), 24), last, desc,
               *sample != '-' ? " / " : "", *sample != '-' ? sample : "");
        json_flat_free(&f);
    }
    json_elements_free(&e);
    return 0;
}

int cli_devices(int argc, char **argv, const char *default_config)
{
    static const struct option opts[] = {
        {"config", required_argument, NULL, 'c'},
        {"unbound", no_argument, NULL, 'u'},
        {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *path = default_config;
    bool unbound = false, as_json = false;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
        switch (c) {
        case 'c':
            path = optarg;
            break;
        case 'u':
            unbound = true;
            break;
        case 'j':
            as_json = true;
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (!unbound || optind != argc) {
        fprintf(stderr, "hallgw devices: give --unbound (hallgw devices --help)\n");
        return 2;
    }
    struct config *cfg = cli_load_config(path);
    if (!cfg)
        return 2;
    setenv("TZ", cfg->gateway.timezone, 1);
    tzset();
    char file[1024];
    snprintf(file, sizeof(file), "%s/%s", cfg->gateway.state_dir, UNBOUND_FILE);
    int rc = 1;
    size_t len = 0;
    struct stat st;
    char *json = stat(file, &st) == 0 ? read_file(file, &len) : NULL;
    if (!json) {
        fprintf(stderr, "hallgw devices: cannot read %s: %s (is the gateway running?)\n", file,
                strerror(errno));
        goto out_free_config;
    }
    if (!cfg->discovery.enabled)
        fprintf(stderr, "hallgw devices: discovery.enabled is false: the list stays empty\n");
    if (as_json) {
        fwrite(json, 1, len, stdout);
        putchar('\n');
        rc = 0;
    } else if (table(json, len, (wall_s)st.st_mtime) < 0) {
        fprintf(stderr, "hallgw devices: %s is not a list of unbound devices\n", file);
    } else {
        rc = 0;
    }
    free(json);
out_free_config:
    config_free(cfg);
    return rc;
}
