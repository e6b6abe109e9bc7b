/* The configuration: good files load with every value right, broken files
 * report every problem as FILE:LINE: key: message. Data: tests/unit/data/config. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "buf.h"
#include "config.h"
#include "testconf.h"

#define DATA HALLGW_TEST_DATA_DIR "/config/"
#define MQTT_LINE "mqtt = { uri = \"tcp://h:1\"; };\n"

struct want {
    int line;
    const char *key;
    const char *msg;  /* a part of the message */
    const char *file; /* base name when not the loaded file */
};

static const char *base_name(const char *path)
{
    const char *s = strrchr(path, '/');

    return s ? s + 1 : path;
}

static void print_errors(const struct conf_errors *e)
{
    conf_errors_print(e, stderr);
}

/* Loads DATA name, which must fail with exactly the errors in w, in order. */
static void expect_errors(const char *name, const struct want *w, size_t n)
{
    char path[1024];
    struct config *c = (struct config *)1;
    struct conf_errors e;
    int rc;

    (void)snprintf(path, sizeof(path), "%s%s", DATA, name);
    rc = config_load(path, &c, &e);
    if (rc != -EINVAL || c != NULL || e.n != n) {
        print_errors(&e);
        fail_msg("%s: rc %d, %zu errors, want -EINVAL and %zu", name, rc, e.n, n);
    }
    for (size_t i = 0; i < n; i++) {
        const struct conf_error *g = &e.v[i];
        const char *file = w[i].file ? w[i].file : name;

        if (g->line != w[i].line || strcmp(g->key, w[i].key) != 0 || !strstr(g->msg, w[i].msg) ||
            strcmp(base_name(g->file), file) != 0 || g->file[0] != '/') {
            print_errors(&e);
            fail_msg("%s error %zu: got %s:%d: %s: %s, want %s:%d: %s: ...%s...", name, i, g->file,
                     g->line, g->key, g->msg, file, w[i].line, w[i].key, w[i].msg);
        }
    }
    conf_errors_free(&e);
    assert_int_equal(e.n, 0);
}

#define W(line, key, msg)                                                                          \
    {                                                                                              \
        line, key, msg, NULL                                                                       \
    }

#define EXPECT(name, ...)                                                                          \
    do {                                                                                           \
        static const struct want w_[] = {__VA_ARGS__};                                             \
        expect_errors(name, w_, sizeof(w_) / sizeof(w_[0]));                                       \
    } while (0)

static struct config *load_ok(const char *name)
{
    char path[1024];
    struct config *c = NULL;
    struct conf_errors e;
    int rc;

    (void)snprintf(path, sizeof(path), "%s%s", DATA, name);
    rc = config_load(path, &c, &e);
    if (rc != 0 || !c || e.n != 0) {
        print_errors(&e);
        fail_msg("%s: rc %d, want 0", name, rc);
    }
    conf_errors_free(&e);
    return c;
}

static void test_good_config_loads_every_value(void **state)
{
    struct config *c = load_ok("good.conf");
    const struct config_hall *h;
    const struct config_window *w;
    const struct config_device *d;
    (void)state;

    assert_string_equal(base_name(c->path), "good.conf");
    assert_string_equal(c->gateway.id, "gw-7");
    assert_string_equal(c->gateway.timezone, "Asia/Shanghai");
    assert_string_equal(c->gateway.state_dir, "/tmp/hallgw-test-state");
    assert_int_equal(c->gateway.stats_interval_ms, 15000);

    assert_string_equal(c->mqtt.uri, "ssl://broker.example:8883"); /* mqtts:// normalised */
    assert_string_equal(c->mqtt.client_id, "hallgw-test");
    assert_string_equal(c->mqtt.username, "hallgw");
    assert_string_equal(c->mqtt.password, "mqtt-pass"); /* trailing newline stripped */
    assert_string_equal(c->mqtt.prefix, "site1");
    assert_int_equal(c->mqtt.qos, 0);
    assert_int_equal(c->mqtt.keepalive_s, 60);
    assert_string_equal(c->mqtt.command_key_file, DATA "secrets/command.key");
    assert_string_equal(c->mqtt.tls.ca_file, DATA "secrets/ca.pem");
    assert_string_equal(c->mqtt.tls.cert_file, DATA "secrets/client.pem");
    assert_string_equal(c->mqtt.tls.key_file, DATA "secrets/client.key");
    assert_false(c->mqtt.tls.verify);

    assert_true(c->influx.enabled);
    assert_string_equal(c->influx.url, "https://influx.example:8086");
    assert_int_equal(c->influx.api, INFLUX_V1);
    assert_string_equal(c->influx.database, "halls");
    assert_string_equal(c->influx.retention_policy, "one_year");
    assert_string_equal(c->influx.username, "writer");
    assert_string_equal(c->influx.password, "influx-pass"); /* "\r\n" stripped */
    assert_false(c->influx.create_database);
    assert_null(c->influx.org);
    assert_null(c->influx.bucket);
    assert_null(c->influx.token);
    assert_int_equal(c->influx.batch_size, 2000);
    assert_int_equal(c->influx.flush_interval_ms, 500);
    assert_int_equal(c->influx.timeout_ms, 5000);
    assert_false(c->influx.gzip);
    assert_string_equal(c->influx.spool_dir, "/tmp/hallgw-test-spool");
    assert_int_equal(c->influx.spool_max_bytes, 64ull * 1024 * 1024);

    assert_int_equal(c->limits.payload_max_bytes, 32768);
    assert_int_equal(c->limits.json_max_depth, 6);
    assert_int_equal(c->limits.max_devices, 100);
    assert_int_equal(c->limits.queue_capacity, 1024);
    assert_int_equal(c->limits.queue_wait_ms, 1500);
    assert_int_equal(c->unknown_devices, UNKNOWN_IGNORE);

    assert_int_equal(c->n_halls, 2);
    h = &c->halls[0];
    assert_string_equal(h->id, "h1");
    assert_string_equal(h->name, "政务服务大厅一楼");
    assert_int_equal(h->n_windows, 2);
    w = &h->windows[0];
    assert_string_equal(w->id, "w01");
    assert_string_equal(w->name, "综合受理 1");
    assert_string_equal(w->seat, "seat-w01");
    assert_string_equal(w->pc, "pc-w01");
    assert_string_equal(w->plug, "plug-w01");
    assert_string_equal(w->queue, "queue-w01");
    assert_true(w->lunch_duty);
    w = &h->windows[1];
    assert_string_equal(w->id, "w02");
    assert_string_equal(w->name, "w02"); /* defaults to the id */
    assert_string_equal(w->seat, "people-w02");
    assert_null(w->pc);
    assert_null(w->plug);
    assert_null(w->queue);
    assert_false(w->lunch_duty);
    assert_string_equal(c->halls[1].id, "h2");
    assert_string_equal(c->halls[1].name, "h2");
    assert_int_equal(c->halls[1].n_windows, 0);

    assert_int_equal(c->n_devices, 7);
    d = &c->devices[0];
    assert_string_equal(d->id, "seat-w01");
    assert_string_equal(d->hall, "h1");
    assert_string_equal(d->window, "w01"); /* from the window that names it */
    assert_int_equal(d->kind, KIND_SEAT);
    assert_int_equal(d->format, FORMAT_ZIGBEE2MQTT);
    assert_string_equal(d->source_name, "hall 1/seat w01");
    assert_null(d->type);
    assert_int_equal(d->service_interval_ms, 0);
    assert_int_equal(d->last_service_days, -1);
    assert_int_equal(d->line, 45);
    d = &c->devices[1];
    assert_string_equal(d->window, "w02"); /* its own key, and the window agrees */
    assert_int_equal(d->kind, KIND_PEOPLE);
    assert_int_equal(d->format, FORMAT_NATIVE);
    assert_null(d->source_name);
    d = &c->devices[2];
    assert_string_equal(d->id, "pc-w01");
    assert_int_equal(d->kind, KIND_PC);
    assert_int_equal(d->format, FORMAT_NATIVE); /* source = "native" */
    assert_null(d->source_name);
    assert_string_equal(d->window, "w01");
    d = &c->devices[3];
    assert_int_equal(d->kind, KIND_PLUG);
    assert_int_equal(d->format, FORMAT_SHELLY);
    assert_string_equal(d->source_name, "shellyplusplugs-a8032ab1");
    assert_string_equal(d->window, "w01");
    d = &c->devices[4];
    assert_int_equal(d->kind, KIND_QUEUE);
    assert_string_equal(d->window, "w01");
    d = &c->devices[5];
    assert_int_equal(d->kind, KIND_ENV);
    assert_int_equal(d->format, FORMAT_TASMOTA);
    assert_string_equal(d->source_name, "air_1");
    assert_null(d->window);
    d = &c->devices[6];
    assert_string_equal(d->id, "printer-1");
    assert_string_equal(d->hall, "h2");
    assert_int_equal(d->kind, KIND_EQUIPMENT);
    assert_string_equal(d->type, "printer");
    assert_int_equal(d->service_interval_ms, 90ll * 86400 * 1000);
    assert_int_equal(d->last_service_days, 20697); /* 2026-09-01 */
    assert_int_equal(d->line, 51);

    config_free(c);
}

static void test_lookups_find_devices_sources_and_halls(void **state)
{
    struct config *c = load_ok("good.conf");
    (void)state;

    assert_ptr_equal(config_find_device(c, "printer-1"), &c->devices[6]);
    assert_ptr_equal(config_find_device(c, "seat-w01"), &c->devices[0]);
    assert_null(config_find_device(c, "printer-2"));
    assert_null(config_find_device(c, ""));
    assert_ptr_equal(config_find_source(c, FORMAT_ZIGBEE2MQTT, "hall 1/seat w01"), &c->devices[0]);
    assert_ptr_equal(config_find_source(c, FORMAT_TASMOTA, "air_1"), &c->devices[5]);
    assert_ptr_equal(config_find_source(c, FORMAT_SHELLY, "shellyplusplugs-a8032ab1"),
                     &c->devices[3]);
    assert_null(config_find_source(c, FORMAT_SHELLY, "air_1")); /* format matters */
    assert_null(config_find_source(c, FORMAT_ZIGBEE2MQTT, "hall 1/seat"));
    /* Native devices are bound by their id; a foreign device is not native. */
    assert_ptr_equal(config_find_source(c, FORMAT_NATIVE, "pc-w01"), &c->devices[2]);
    assert_null(config_find_source(c, FORMAT_NATIVE, "seat-w01"));
    assert_ptr_equal(config_find_hall(c, "h2"), &c->halls[1]);
    assert_ptr_equal(config_find_hall(c, "h1"), &c->halls[0]);
    assert_null(config_find_hall(c, "h3"));
    assert_null(config_find_device(NULL, "x"));
    config_free(c);
    config_free(NULL);
}

static void test_minimal_config_gets_every_default(void **state)
{
    struct config *c = load_ok("minimal.conf");
    (void)state;

    assert_string_equal(c->gateway.id, "gw-1");
    assert_string_equal(c->gateway.timezone, "UTC");
    assert_string_equal(c->gateway.state_dir, "/var/lib/hallgw");
    assert_int_equal(c->gateway.stats_interval_ms, 10000);
    assert_string_equal(c->mqtt.uri, "tcp://127.0.0.1:1883");
    assert_string_equal(c->mqtt.client_id, "hallgw-gw-1");
    assert_null(c->mqtt.username);
    assert_null(c->mqtt.password);
    assert_string_equal(c->mqtt.prefix, "hall");
    assert_int_equal(c->mqtt.qos, 1);
    assert_int_equal(c->mqtt.keepalive_s, 30);
    assert_null(c->mqtt.command_key_file);
    assert_null(c->mqtt.tls.ca_file);
    assert_true(c->mqtt.tls.verify);
    assert_false(c->influx.enabled); /* no influx block */
    assert_string_equal(c->influx.url, "http://127.0.0.1:8086");
    assert_int_equal(c->influx.api, INFLUX_V1);
    assert_string_equal(c->influx.database, "hallgw");
    assert_null(c->influx.retention_policy);
    assert_true(c->influx.create_database);
    assert_int_equal(c->influx.batch_size, 5000);
    assert_int_equal(c->influx.flush_interval_ms, 1000);
    assert_int_equal(c->influx.timeout_ms, 10000);
    assert_true(c->influx.gzip);
    assert_string_equal(c->influx.spool_dir, "/var/lib/hallgw/spool");
    assert_int_equal(c->influx.spool_max_bytes, 512ull * 1024 * 1024);
    assert_int_equal(c->http.max_connections_per_address, 16);
    assert_int_equal(c->limits.payload_max_bytes, 65536);
    assert_int_equal(c->limits.json_max_depth, 8);
    assert_int_equal(c->limits.max_devices, 20000);
    assert_int_equal(c->limits.queue_capacity, 8192);
    assert_int_equal(c->limits.queue_wait_ms, 2000);
    assert_int_equal(c->unknown_devices, UNKNOWN_IGNORE);
    assert_int_equal(c->n_halls, 0);
    assert_int_equal(c->n_devices, 0);
    assert_null(config_find_device(c, "x"));
    assert_null(config_find_source(c, FORMAT_TASMOTA, "x"));
    assert_null(config_find_hall(c, "x"));
    config_free(c);
}

static void test_influx_v2_reads_token_and_spool_follows_state_dir(void **state)
{
    struct config *c = load_ok("influx_v2.conf");
    (void)state;

    assert_string_equal(c->mqtt.uri, "tcp://localhost:1883"); /* mqtt:// normalised */
    assert_true(c->influx.enabled);                           /* the block is there */
    assert_int_equal(c->influx.api, INFLUX_V2);
    assert_string_equal(c->influx.url, "http://127.0.0.1:8086/");
    assert_string_equal(c->influx.org, "hall-ops");
    assert_string_equal(c->influx.bucket, "hallgw/autogen");
    assert_string_equal(c->influx.token, "influx-token-abc");
    assert_null(c->influx.database);
    assert_null(c->influx.password);
    assert_string_equal(c->influx.spool_dir, "/srv/hallgw/spool");
    config_free(c);
}

static void test_bad_qos_prints_file_line_key_message(void **state)
{
    char path[1024], want[1200], got[1200] = "";
    struct config *c;
    struct conf_errors e;
    FILE *f = tmpfile();
    (void)state;

    EXPECT("bad_qos.conf", W(7, "mqtt.qos", "must be between 0 and 1, not 2"));
    (void)snprintf(path, sizeof(path), "%sbad_qos.conf", DATA);
    assert_int_equal(config_load(path, &c, &e), -EINVAL);
    assert_non_null(f);
    conf_errors_print(&e, f);
    rewind(f);
    assert_int_equal(fread(got, 1, sizeof(got) - 1, f) > 0, 1);
    (void)fclose(f);
    (void)snprintf(want, sizeof(want), "%s:7: mqtt.qos: must be between 0 and 1, not 2\n", path);
    assert_string_equal(got, want);
    conf_errors_free(&e);
}

static void test_every_wrong_type_is_reported_in_one_go(void **state)
{
    (void)state;
    EXPECT("bad_types.conf", W(1, "gateway", "expected a group { ... }"),
           W(4, "mqtt.qos", "expected an integer"),
           W(5, "mqtt.keepalive", "expected a duration string such as \"30s\""),
           W(6, "mqtt.tls.verify", "expected true or false"),
           W(6, "mqtt.tls", "needs an ssl:// or mqtts:// uri"),
           W(8, "influx.batch_size", "expected an integer"),
           W(8, "influx.gzip", "expected true or false"), W(8, "influx.url", "expected a string"),
           W(9, "limits.json_max_depth", "must be between 1 and 64, not 99999999999"),
           W(10, "halls", "expected a list ( { ... }, ... )"),
           W(11, "devices[0]", "expected a group { ... }"),
           W(11, "devices[1].last_service", "expected a date string \"YYYY-MM-DD\""));
}

static void test_bad_values_are_all_reported(void **state)
{
    (void)state;
    EXPECT("bad_values.conf", W(1, "gateway.id", "\"gw 1\" is not a valid id"),
           W(1, "gateway.timezone", "unknown time zone \"Mars/Olympus_Mons\""),
           W(2, "mqtt.uri", "must start with tcp://, ssl://, mqtt:// or mqtts://"),
           W(2, "mqtt.prefix", "\"a/b\" is not a valid prefix"),
           W(3, "influx.url", "must start with http:// or https://"),
           W(3, "influx.api", "\"v3\" is not one of \"v1\", \"v2\""),
           W(4, "unknown_devices", "\"drop\" is not one of \"accept\", \"ignore\""),
           W(5, "halls[0].id", "\"_gateway\" is reserved"),
           W(7, "devices[0].id", "\"alerts\" is reserved"),
           W(8, "devices[1].kind", "\"lamp\" is not one of \"seat\""),
           W(9, "devices[2].kind", "\"unknown\" is not one of"),
           W(10, "devices[3].window", "\"w 1\" is not a valid id"));
    EXPECT("bad_timezone.conf",
           W(1, "gateway.timezone", "\"../../etc/passwd\" is not a time zone name"));
    EXPECT("bad_uris.conf", W(2, "mqtt.uri", "\"tcp://127.0.0.1\" has no host:port"),
           W(3, "mqtt.password_file", "needs mqtt.username"),
           W(6, "influx.url", "\"http://:8086\" has no host:port"));
}

static void test_unknown_keys_are_errors_at_every_level(void **state)
{
    (void)state;
    EXPECT("unknown_key.conf", W(3, "mqtt.host", "unknown key"), W(4, "mqtt.tls.ca", "unknown key"),
           W(4, "mqtt.tls", "needs an ssl:// or mqtts:// uri"),
           W(6, "influx.spool.size", "unknown key"), W(7, "scheduel", "unknown key"),
           W(8, "halls[0].floor", "unknown key"), W(8, "halls[0].windows[0].desk", "unknown key"),
           W(11, "devices[1].location", "unknown key"));
}

static void test_missing_required_keys_use_the_block_line(void **state)
{
    (void)state;
    EXPECT("missing.conf", W(0, "mqtt", "missing required key"),
           W(3, "halls[0].windows[0].id", "missing required key"),
           W(3, "halls[0].id", "missing required key"),
           W(6, "devices[0].id", "missing required key"),
           W(6, "devices[0].hall", "no hall \"h1\" in halls"),
           W(7, "devices[1].hall", "missing required key"));
    EXPECT("missing_uri.conf", W(2, "mqtt.uri", "missing required key"));
}

static void test_duplicate_ids_name_both_lines(void **state)
{
    (void)state;
    EXPECT("dups.conf",
           W(3, "halls[0].windows[2].id", "duplicate window id \"w01\" (first at line 3)"),
           W(5, "halls[2].id", "duplicate hall id \"h1\" (first at line 3)"),
           W(10, "devices[2].id", "duplicate device id \"env-1\" (first at line 8)"),
           W(11, "devices[3].source",
             "\"zigbee2mqtt:air/1\" is already the source of device \"env-1\" (line 8)"),
           W(13, "devices[5].source",
             "\"zigbee2mqtt:air/1\" is already the source of device \"env-1\" (line 8)"));
}

static void test_bad_durations_and_ranges(void **state)
{
    (void)state;
    EXPECT("bad_durations.conf", W(1, "gateway.stats_interval", "\"5\" is not a duration"),
           W(4, "mqtt.keepalive", "\"1m1h\" is not a duration"),
           W(7, "influx.flush_interval", "must not be empty"),
           W(8, "influx.timeout", "\"-1s\" is not a duration"),
           W(10, "limits.queue_wait", "\"99999999999d\" is too long"),
           W(13, "devices[0].service_interval", "\"m5\" is not a duration"),
           W(14, "devices[1].service_interval", "\" 5s\" is not a duration"),
           W(14, "devices[1].last_service", "\"2026-02-30\" is not a date"));
    EXPECT("bad_ranges.conf",
           W(1, "gateway.stats_interval", "must be between 1s and 1d, not \"500ms\""),
           W(2, "mqtt.keepalive", "must be whole seconds, not \"1500ms\""),
           W(3, "influx.batch_size", "must be between 1 and 100000, not 0"),
           W(3, "influx.spool.max_size_mb", "must be between 1 and 1048576, not 2000000"),
           W(4, "limits.queue_wait", "must be between 0s and 1m, not \"2m\""),
           W(4, "limits.json_max_depth", "must be between 1 and 64, not 0"),
           W(4, "limits.payload_max_bytes", "must be between 256 and 268435456, not 100"));
}

static void test_unreadable_or_empty_secret_files(void **state)
{
    (void)state;
    EXPECT("bad_secrets.conf",
           W(4, "mqtt.password_file", "/config/secrets/missing.secret: No such file or directory"),
           W(5, "mqtt.command_key_file", "/config/secrets is not a regular file"),
           W(6, "mqtt.tls.ca_file", "cannot read /nonexistent/ca.pem: No such file or directory"),
           W(12, "influx.token_file", "/config/secrets/newline_only.secret is empty"));
    EXPECT("empty_secret.conf", W(1, "mqtt.password_file", "secrets/empty.secret is empty"));
}

/* Every secret file, whatever its key: 0600 loads; a mode that lets group or
 * others in is refused at the key's line, naming the file, its mode and the
 * fix. A certificate (cert_file, ca_file) is not a secret: 0644 loads. */
static const struct {
    const char *key;
    int line;         /* of the key */
    const char *text; /* @S is the secret's path, @C a certificate's */
} secret_keys[] = {
    {"mqtt.password_file", 2,
     "mqtt = { uri = \"tcp://h:1\"; username = \"u\";\n"
     "  password_file = \"@S\"; };\n"},
    {"mqtt.command_key_file", 2,
     "mqtt = { uri = \"tcp://h:1\";\n"
     "  command_key_file = \"@S\"; };\n"},
    {"mqtt.tls.key_file", 2,
     "mqtt = { uri = \"ssl://h:1\"; tls = { ca_file = \"@C\";\n"
     "  cert_file = \"@C\"; key_file = \"@S\"; }; };\n"},
    {"influx.password_file", 3,
     MQTT_LINE "influx = { api = \"v1\"; username = \"u\";\n"
               "  password_file = \"@S\"; };\n"},
    {"influx.token_file", 3,
     MQTT_LINE "influx = { api = \"v2\"; org = \"o\"; bucket = \"b\";\n"
               "  token_file = \"@S\"; };\n"},
    {"http.token_file", 3, MQTT_LINE "http = {\n  token_file = \"@S\"; };\n"},
    {"http.key_file", 3, MQTT_LINE "http = { cert_file = \"@C\";\n  key_file = \"@S\"; };\n"},
    {"notify[0].password_file", 3,
     MQTT_LINE
     "notify = ( { name = \"m\"; type = \"email\"; smtp_url = \"smtp://mail.example:587\";"
     " from = \"gw@example.org\"; to = [\"it@example.org\"]; username = \"u\";\n"
     "  password_file = \"@S\"; } );\n"},
};

/* text with @S replaced by secret and @C by cert, into out. */
static void fill(const char *text, const char *secret, const char *cert, char *out, size_t size)
{
    struct buf b;

    buf_init_fixed(&b, out, size);
    for (const char *p = text; *p; p++) {
        if (p[0] == '@' && (p[1] == 'S' || p[1] == 'C'))
            assert_int_equal(buf_puts(&b, *++p == 'S' ? secret : cert), 0);
        else
            assert_int_equal(buf_putc(&b, *p), 0);
    }
    assert_int_equal(buf_putc(&b, '\0'), 0);
}

/* Writes dir/name with mode. */
static void put_mode(const char *dir, const char *name, const char *text, mode_t mode, char *path,
                     size_t size)
{
    FILE *f;

    (void)snprintf(path, size, "%s/%s", dir, name);
    f = fopen(path, "w");
    assert_non_null(f);
    assert_true(fputs(text, f) >= 0);
    assert_int_equal(fclose(f), 0);
    assert_int_equal(chmod(path, mode), 0);
}

static void test_secret_files_must_keep_group_and_others_out(void **state)
{
    static const mode_t refused[] = {0640, 0604, 0660, 0644, 0602, 0620};
    const char *tmp = getenv("TMPDIR");
    char dir[256], secret[512], cert[512], conf[512], text[2048], want[1200];
    (void)state;

    (void)snprintf(dir, sizeof(dir), "%s/hallgw-test-secrets-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    assert_non_null(mkdtemp(dir));
    put_mode(dir, "cert.pem", "-----BEGIN CERTIFICATE-----\n", 0644, cert, sizeof(cert));
    for (size_t i = 0; i < sizeof(secret_keys) / sizeof(secret_keys[0]); i++) {
        struct config *c = NULL;
        struct conf_errors e;

        put_mode(dir, "secret",
                 "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\n", 0600, secret,
                 sizeof(secret));
        fill(secret_keys[i].text, secret, cert, text, sizeof(text));
        put_mode(dir, "hallgw.conf", text, 0644, conf, sizeof(conf));
        if (config_load(conf, &c, &e) != 0) {
            print_errors(&e);
            fail_msg("%s: a 0600 secret file is refused", secret_keys[i].key);
        }
        config_free(c);

        for (size_t m = 0; m < sizeof(refused) / sizeof(refused[0]); m++) {
            assert_int_equal(chmod(secret, refused[m]), 0);
            c = (struct config *)1;
            assert_int_equal(config_load(conf, &c, &e), -EINVAL);
            assert_null(c);
            (void)snprintf(want, sizeof(want),
                           "%s has mode %04o: a secret file must not be accessible by group or "
                           "others (chmod 600 %s)",
                           secret, (unsigned)refused[m], secret);
            if (e.n != 1 || strcmp(e.v[0].file, conf) != 0 || e.v[0].line != secret_keys[i].line ||
                strcmp(e.v[0].key, secret_keys[i].key) != 0 || strcmp(e.v[0].msg, want) != 0) {
                print_errors(&e);
                fail_msg("%s, mode %04o: want one error %s:%d: %s: %s", secret_keys[i].key,
                         (unsigned)refused[m], conf, secret_keys[i].line, secret_keys[i].key, want);
            }
            conf_errors_free(&e);
        }
        unlink(secret);
    }
    unlink(cert);
    unlink(conf);
    rmdir(dir);
}

static void test_secret_never_appears_in_errors(void **state)
{
    struct config *c;
    struct conf_errors e;
    (void)state;

    /* A good secret next to a bad key: the error list must not carry the secret. */
    assert_int_equal(testconf_load_text("mqtt = { uri = \"tcp://h:1\"; username = \"u\";\n"
                                        "  password_file = \"" DATA
                                        "secrets/mqtt.secret\"; qos = 3; };\n",
                                        &c, &e),
                     -EINVAL);
    assert_int_equal(e.n, 1);
    assert_null(strstr(e.v[0].msg, "mqtt-pass"));
    conf_errors_free(&e);
}

#define MQTT "mqtt = { uri = \"tcp://h:1\"; };\n"

static void test_web_dir_is_built_in_unless_an_existing_directory_is_named(void **state)
{
    struct config *c = NULL;
    struct conf_errors e;
    (void)state;

    /* Absent: the built-in page. */
    assert_int_equal(testconf_load_text(MQTT "http = { listen = \"127.0.0.1:8080\"; };\n", &c, &e),
                     0);
    assert_null(c->http.web_dir);
    config_free(c);

    assert_int_equal(testconf_load_text(MQTT "http = { web_dir = \"" DATA "\"; };\n", &c, &e), 0);
    assert_string_equal(c->http.web_dir, DATA);
    config_free(c);

    /* Missing, or not a directory: an error naming the file, line and key. */
    assert_int_equal(testconf_load_text(MQTT "http = {\n  listen = \"127.0.0.1:8080\";\n"
                                             "  web_dir = \"/nonexistent/web\";\n};\n",
                                        &c, &e),
                     -EINVAL);
    assert_int_equal(e.n, 1);
    assert_int_equal(e.v[0].line, 4);
    assert_string_equal(e.v[0].key, "http.web_dir");
    assert_string_equal(e.v[0].msg, "cannot use /nonexistent/web: No such file or directory");
    assert_non_null(strstr(e.v[0].file, "hallgw-test-config-"));
    conf_errors_free(&e);

    assert_int_equal(
        testconf_load_text(MQTT "http = { web_dir = \"" DATA "minimal.conf\"; };\n", &c, &e),
        -EINVAL);
    assert_int_equal(e.n, 1);
    assert_string_equal(e.v[0].key, "http.web_dir");
    assert_non_null(strstr(e.v[0].msg, "minimal.conf is not a directory"));
    conf_errors_free(&e);
}

#undef MQTT

static void test_influx_api_keys_must_match_the_api(void **state)
{
    (void)state;
    EXPECT("bad_influx_v2.conf", W(2, "influx.org", "required with api = \"v2\""),
           W(2, "influx.bucket", "required with api = \"v2\""),
           W(2, "influx.token_file", "required with api = \"v2\""),
           W(4, "influx.database", "only for api = \"v1\""),
           W(5, "influx.username", "only for api = \"v1\""));
    EXPECT("bad_influx_v1.conf", W(3, "influx.org", "only for api = \"v2\""),
           W(4, "influx.password_file", "needs influx.username"));
}

static void test_bad_sources(void **state)
{
    (void)state;
    EXPECT("bad_sources.conf",
           W(4, "devices[0].source", "\"native:pc-1\": a native device has no name"),
           W(5, "devices[1].source", "\"zigbee:air\": unknown format"),
           W(6, "devices[2].source", "\"tasmota\": expected \"tasmota:<name>\""),
           W(7, "devices[3].source", "\"tasmota:air/1\" has a name that is not one topic level"),
           W(8, "devices[4].source", "\"zigbee2mqtt:\" has an empty name"),
           W(9, "devices[5].source", "has '+', '#' or a control character"),
           W(10, "devices[6].source", "names Zigbee2MQTT's own bridge topics"),
           W(11, "devices[7].source", "\"shelly:plug 1\" has a name that is not one topic level"),
           W(12, "devices[8].source", "ending in /availability, /set or /get"),
           W(13, "devices[9].source", "expected a string"),
           W(14, "devices[10].source", "has an empty topic level"));
}

/* A native device's id is also its broker account, which the ACL lets publish
 * under <id>/online and <id>/status/...: the first level of another topic tree,
 * or the prefix, would let it write there. */
static void test_native_device_ids_that_are_topic_trees_are_refused(void **state)
{
    const char *text = "mqtt = { uri = \"tcp://127.0.0.1:1883\"; };\n"
                       "halls = ( { id = \"h1\"; } );\n"
                       "devices = (\n"
                       "  { id = \"tele\"; hall = \"h1\"; kind = \"env\"; "
                       "source = \"tasmota:air_1\"; },\n"
                       "  { id = \"zigbee2mqtt\"; hall = \"h1\"; kind = \"seat\"; "
                       "source = \"zigbee2mqtt:seat_1\"; },\n"
                       "  { id = \"shellies\"; hall = \"h1\"; kind = \"plug\"; "
                       "source = \"shelly:plug_1\"; }\n"
                       ");\n";
    struct config *c = NULL;
    struct conf_errors e;
    (void)state;

    EXPECT("reserved_ids.conf", W(4, "devices[0].id", "\"hall\" is reserved: hall/ is another"),
           W(5, "devices[1].id", "\"cmnd\" is reserved: cmnd/ is another topic tree"),
           W(6, "devices[2].id", "\"tele\" is reserved"),
           W(7, "devices[3].id", "\"stat\" is reserved"),
           W(8, "devices[4].id", "\"tasmota\" is reserved"),
           W(9, "devices[5].id", "\"tasmotas\" is reserved"),
           W(10, "devices[6].id", "\"shellies\" is reserved"),
           W(11, "devices[7].id", "\"homeassistant\" is reserved"),
           W(12, "devices[8].id", "\"zigbee2mqtt\" is reserved"),
           W(13, "devices[9].id", "\"hallgw\" is reserved"),
           W(14, "devices[10].id",
             "\"site1\" is reserved: site1/ is another topic tree, "
             "and a native device's id is also its broker account"));
    /* A foreign device's id names no topic and no account. */
    assert_int_equal(testconf_load_text(text, &c, &e), 0);
    assert_int_equal(e.n, 0);
    assert_non_null(config_find_device(c, "tele"));
    config_free(c);
    conf_errors_free(&e);
}

static void test_window_references_resolve_in_the_same_hall(void **state)
{
    (void)state;
    EXPECT(
        "bad_windows.conf", W(4, "halls[0].windows[0].seat", "no device \"seat-9\" in devices"),
        W(4, "halls[0].windows[0].plug", "device \"pc-1\" is of kind \"pc\", expected plug"),
        W(5, "halls[0].windows[1].pc", "device \"pc-2\" is in hall \"h2\", not \"h1\""),
        W(6, "halls[0].windows[2].seat", "device \"seat-1\" is already in window \"w02\" (line 5)"),
        W(6, "halls[0].windows[2].queue",
          "device \"queue-1\" is already in window \"w01\" (line 14)"),
        W(15, "devices[4].window", "no window \"w09\" in hall \"h1\""),
        W(16, "devices[5].hall", "no hall \"h3\" in halls"));
    EXPECT("max_devices.conf", W(4, "devices", "3 devices, more than limits.max_devices (2)"));
}

static void test_include_reads_a_file_beside_the_config(void **state)
{
    struct config *c = load_ok("include.conf");
    (void)state;

    assert_int_equal(c->n_devices, 2);
    assert_string_equal(c->devices[0].id, "seat-w01");
    assert_string_equal(c->devices[0].window, "w01");
    assert_int_equal(c->devices[0].line, 3); /* in inc/devices.inc */
    assert_string_equal(c->devices[1].id, "env-1");
    config_free(c);
    /* Errors in an included file name that file. */
    EXPECT(
        "include_bad.conf", {3, "devices[1].hall", "no hall \"h9\" in halls", "bad_devices.inc"},
        {4, "devices[2].id", "duplicate device id \"env-1\" (first at line 2)", "bad_devices.inc"});
    EXPECT("include_missing.conf", W(2, "(syntax)", "cannot open include file"));
}

static void test_syntax_error_names_file_and_line(void **state)
{
    (void)state;
    EXPECT("syntax.conf", W(4, "(syntax)", "syntax error"));
}

static void test_missing_file_is_an_error_without_a_line(void **state)
{
    struct config *c = (struct config *)1;
    struct conf_errors e;
    char got[512] = "";
    FILE *f = tmpfile();
    (void)state;

    assert_int_equal(config_load(DATA "nonexistent.conf", &c, &e), -ENOENT);
    assert_null(c);
    assert_int_equal(e.n, 1);
    assert_int_equal(e.v[0].line, 0);
    assert_string_equal(e.v[0].key, "(file)");
    assert_non_null(f);
    conf_errors_print(&e, f);
    rewind(f);
    assert_true(fread(got, 1, sizeof(got) - 1, f) > 0);
    (void)fclose(f);
    assert_string_equal(got,
                        DATA "nonexistent.conf: (file): cannot open: No such file or directory\n");
    conf_errors_free(&e);
}

static void test_uri_and_url_forms(void **state)
{
    static const struct {
        const char *uri;
        const char *want; /* stored form, or NULL when it must be refused */
    } mqtt[] = {
        {"tcp://127.0.0.1:1883", "tcp://127.0.0.1:1883"},
        {"ssl://broker:8883", "ssl://broker:8883"},
        {"mqtt://broker:1883", "tcp://broker:1883"},
        {"mqtts://broker:8883", "ssl://broker:8883"},
        {"tcp://[::1]:1883", "tcp://[::1]:1883"},
        {"tcp://broker", NULL},
        {"tcp://broker:", NULL},
        {"tcp://:1883", NULL},
        {"tcp://broker:0", NULL},
        {"tcp://broker:65536", NULL},
        {"tcp://broker:+1883", NULL},
        {"tcp://broker:1883/", NULL},
        {"tcp://my broker:1883", NULL},
        {"tcp://[::1:1883", NULL},
        {"ws://broker:80", NULL},
        {"TCP://broker:1883", NULL},
    };
    static const struct {
        const char *url;
        bool ok;
    } http[] = {
        {"http://127.0.0.1:8086", true}, {"https://influx.example", true},
        {"http://[::1]:8086/", true},    {"http://influx:8086/api", false},
        {"http://influx:99999", false},  {"influx:8086", false},
    };
    char text[512];
    struct config *c;
    struct conf_errors e;
    (void)state;

    for (size_t i = 0; i < sizeof(mqtt) / sizeof(mqtt[0]); i++) {
        (void)snprintf(text, sizeof(text), "mqtt = { uri = \"%s\"; };\n", mqtt[i].uri);
        int rc = testconf_load_text(text, &c, &e);

        if (mqtt[i].want && (rc != 0 || strcmp(c->mqtt.uri, mqtt[i].want) != 0))
            fail_msg("%s: rc %d", mqtt[i].uri, rc);
        if (!mqtt[i].want && (rc != -EINVAL || e.n != 1 || strcmp(e.v[0].key, "mqtt.uri") != 0))
            fail_msg("%s accepted", mqtt[i].uri);
        config_free(c);
        conf_errors_free(&e);
    }
    for (size_t i = 0; i < sizeof(http) / sizeof(http[0]); i++) {
        (void)snprintf(text, sizeof(text),
                       "mqtt = { uri = \"tcp://h:1\"; };\ninflux = { url = \"%s\"; };\n",
                       http[i].url);
        int rc = testconf_load_text(text, &c, &e);

        if ((rc == 0) != http[i].ok || (!http[i].ok && strcmp(e.v[0].key, "influx.url") != 0))
            fail_msg("%s: rc %d", http[i].url, rc);
        config_free(c);
        conf_errors_free(&e);
    }
}

static void test_timezones_must_exist(void **state)
{
    static const struct {
        const char *tz;
        bool ok;
    } tz[] = {
        {"UTC", true},          {"Asia/Shanghai", true},  {"Europe/Berlin", true},
        {"Asia", false},        {"Asia/Nowhere", false},  {"/etc/localtime", false},
        {"Asia/../UTC", false}, {"Asia Shanghai", false},
    };
    char text[256];
    struct config *c;
    struct conf_errors e;
    (void)state;

    for (size_t i = 0; i < sizeof(tz) / sizeof(tz[0]); i++) {
        (void)snprintf(text, sizeof(text),
                       "gateway = { timezone = \"%s\"; };\nmqtt = { uri = \"tcp://h:1\"; };\n",
                       tz[i].tz);
        int rc = testconf_load_text(text, &c, &e);

        if ((rc == 0) != tz[i].ok || (rc == 0 && strcmp(c->gateway.timezone, tz[i].tz) != 0) ||
            (rc != 0 && strcmp(e.v[0].key, "gateway.timezone") != 0))
            fail_msg("%s: rc %d", tz[i].tz, rc);
        config_free(c);
        conf_errors_free(&e);
    }
}

/* 20,000 devices in 2,000 windows: loads, and every lookup finds its device. */
static void test_twenty_thousand_devices(void **state)
{
    enum { N_WIN = 2000, PER_WIN = 10, N = N_WIN * PER_WIN };
    size_t cap = (size_t)N * 160 + 4096, len = 0;
    char *text = malloc(cap);
    struct config *c;
    struct conf_errors e;
    char id[64], name[64];
    (void)state;

    assert_non_null(text);
    len += (size_t)snprintf(
        text + len, cap - len,
        "mqtt = { uri = \"tcp://h:1\"; };\nhalls = ( { id = \"h1\"; windows = (\n");
    for (int w = 0; w < N_WIN; w++)
        len += (size_t)snprintf(text + len, cap - len,
                                "{ id = \"w%d\"; seat = \"d%d\"; pc = \"d%d\"; }%s\n", w,
                                w * PER_WIN, w * PER_WIN + 1, w + 1 < N_WIN ? "," : "");
    len += (size_t)snprintf(text + len, cap - len, "); } );\ndevices = (\n");
    for (int i = 0; i < N; i++)
        len += (size_t)snprintf(text + len, cap - len,
                                "{ id = \"d%d\"; hall = \"h1\"; kind = \"%s\"; source = "
                                "\"zigbee2mqtt:room/dev %d\"; }%s\n",
                                i,
                                i % PER_WIN == 0   ? "seat"
                                : i % PER_WIN == 1 ? "pc"
                                                   : "env",
                                i, i + 1 < N ? "," : "");
    (void)snprintf(text + len, cap - len, ");\n");
    assert_int_equal(testconf_load_text(text, &c, &e), 0);
    assert_int_equal(c->n_devices, N);
    for (int i = 0; i < N; i++) {
        const struct config_device *d;

        (void)snprintf(id, sizeof(id), "d%d", i);
        (void)snprintf(name, sizeof(name), "room/dev %d", i);
        d = config_find_device(c, id);
        if (d != &c->devices[i] || config_find_source(c, FORMAT_ZIGBEE2MQTT, name) != d)
            fail_msg("device %s not found", id);
        if (i % PER_WIN < 2 && (!d->window || atoi(d->window + 1) != i / PER_WIN))
            fail_msg("device %s not in its window", id);
    }
    config_free(c);

    /* One more device, repeating an id: over limits.max_devices (20,000 by
     * default) and a duplicate, both reported. */
    len = strlen(text) - 3;
    (void)snprintf(text + len, cap - len, ",{ id = \"d77\"; hall = \"h1\"; kind = \"env\"; });\n");
    assert_int_equal(testconf_load_text(text, &c, &e), -EINVAL);
    assert_int_equal(e.n, 2);
    assert_string_equal(e.v[0].key, "devices");
    assert_string_equal(e.v[0].msg, "20001 devices, more than limits.max_devices (20000)");
    assert_string_equal(e.v[1].key, "devices[20000].id");
    conf_errors_free(&e);
    free(text);
}

static void test_kind_names_parse_and_measurements(void **state)
{
    static const struct {
        enum device_kind k;
        const char *name, *measurement;
    } kinds[] = {
        {KIND_SEAT, "seat", "occupancy"},
        {KIND_PEOPLE, "people", "occupancy"},
        {KIND_QUEUE, "queue", "queue"},
        {KIND_ENV, "env", "env"},
        {KIND_EQUIPMENT, "equipment", "equipment"},
        {KIND_PLUG, "plug", "plug"},
        {KIND_PC, "pc", "pc"},
        {KIND_UNKNOWN, "unknown", "unknown"},
    };
    (void)state;

    assert_int_equal(sizeof(kinds) / sizeof(kinds[0]), KIND_COUNT);
    for (size_t i = 0; i < KIND_COUNT; i++) {
        assert_string_equal(config_kind_name(kinds[i].k), kinds[i].name);
        assert_int_equal(config_kind_parse(kinds[i].name), (int)kinds[i].k);
        assert_string_equal(config_kind_measurement(kinds[i].k), kinds[i].measurement);
    }
    assert_int_equal(config_kind_parse("lamp"), -1);
    assert_int_equal(config_kind_parse("Seat"), -1);
    assert_int_equal(config_kind_parse(""), -1);
}

static const char owned_text[] =
    "gateway = { halls = [\"h2\", \"h3\"]; };\n"
    "mqtt = { uri = \"tcp://h:1\"; shared_group = \"hallgw\"; };\n"
    "halls = ( { id = \"h1\"; windows = ( { id = \"w1\"; seat = \"s1\"; } ); },\n"
    "          { id = \"h2\"; windows = ( { id = \"w1\"; seat = \"s2\"; } ); },\n"
    "          { id = \"h3\"; } );\n"
    "devices = ( { id = \"s1\"; hall = \"h1\"; kind = \"seat\"; source = \"zigbee2mqtt:z 1\"; },\n"
    "            { id = \"e1\"; hall = \"h1\"; kind = \"env\"; },\n"
    "            { id = \"s2\"; hall = \"h2\"; kind = \"seat\"; source = \"zigbee2mqtt:z 2\"; },\n"
    "            { id = \"e3\"; hall = \"h3\"; kind = \"env\"; source = \"tasmota:env3\"; },\n"
    "            { id = \"e2\"; hall = \"h2\"; kind = \"env\"; } );\n";

static void test_gateway_halls_keeps_only_the_owned_halls(void **state)
{
    struct config *c;
    struct conf_errors e;
    (void)state;

    if (testconf_load_text(owned_text, &c, &e) != 0) {
        print_errors(&e);
        fail_msg("owned_text refused");
    }
    assert_int_equal(c->gateway.n_halls, 2);
    assert_string_equal(c->gateway.halls[0], "h2");
    assert_string_equal(c->gateway.halls[1], "h3");
    assert_string_equal(c->mqtt.shared_group, "hallgw");
    assert_int_equal(c->n_halls, 2);
    assert_string_equal(c->halls[0].id, "h2");
    assert_string_equal(c->halls[1].id, "h3");
    assert_int_equal(c->n_devices, 3);
    assert_string_equal(c->devices[0].id, "s2");
    assert_string_equal(c->devices[1].id, "e3");
    assert_string_equal(c->devices[2].id, "e2");
    /* The lookups follow: the other halls' devices and bindings are gone. */
    assert_null(config_find_hall(c, "h1"));
    assert_ptr_equal(config_find_hall(c, "h2"), &c->halls[0]);
    assert_ptr_equal(config_find_hall(c, "h3"), &c->halls[1]);
    assert_null(config_find_device(c, "s1"));
    assert_null(config_find_device(c, "e1"));
    assert_ptr_equal(config_find_device(c, "e2"), &c->devices[2]);
    assert_ptr_equal(config_find_device(c, "s2"), &c->devices[0]);
    assert_null(config_find_source(c, FORMAT_ZIGBEE2MQTT, "z 1"));
    assert_ptr_equal(config_find_source(c, FORMAT_ZIGBEE2MQTT, "z 2"), &c->devices[0]);
    assert_ptr_equal(config_find_source(c, FORMAT_TASMOTA, "env3"), &c->devices[1]);
    assert_string_equal(c->devices[0].window, "w1");
    config_free(c);
    conf_errors_free(&e);

    /* Absent: every hall, no shared group. */
    assert_int_equal(testconf_load_text("mqtt = { uri = \"tcp://h:1\"; };\n"
                                        "halls = ( { id = \"h1\"; }, { id = \"h2\"; } );\n",
                                        &c, &e),
                     0);
    assert_int_equal(c->gateway.n_halls, 0);
    assert_null(c->gateway.halls);
    assert_null(c->mqtt.shared_group);
    assert_int_equal(c->n_halls, 2);
    config_free(c);
    conf_errors_free(&e);
}

static void test_gateway_halls_must_name_defined_halls_once(void **state)
{
    struct config *c;
    struct conf_errors e;
    (void)state;

    assert_int_equal(
        testconf_load_text("gateway = { halls = [\"h1\", \"h9\", \"h1\", \"bad id\"]; };\n"
                           "mqtt = { uri = \"tcp://h:1\"; shared_group = \"a/b\"; };\n"
                           "halls = ( { id = \"h1\"; } );\n",
                           &c, &e),
        -EINVAL);
    assert_null(c);
    if (e.n != 4)
        print_errors(&e);
    assert_int_equal(e.n, 4);
    assert_string_equal(e.v[0].key, "gateway.halls[2]");
    assert_non_null(strstr(e.v[0].msg, "\"h1\" is already in the list"));
    assert_string_equal(e.v[1].key, "gateway.halls[3]");
    assert_non_null(strstr(e.v[1].msg, "not a valid id"));
    assert_string_equal(e.v[2].key, "gateway.halls[1]");
    assert_non_null(strstr(e.v[2].msg, "no hall \"h9\" in halls"));
    assert_string_equal(e.v[3].key, "mqtt.shared_group");
    conf_errors_free(&e);

    assert_int_equal(testconf_load_text(
                         "gateway = { halls = []; };\nmqtt = { uri = \"tcp://h:1\"; };\n", &c, &e),
                     -EINVAL);
    assert_int_equal(e.n, 1);
    assert_string_equal(e.v[0].key, "gateway.halls");
    conf_errors_free(&e);
}

/* A reload restarts only what its change touches. */
#define RELOAD_TEXT                                                                                \
    "mqtt = { uri = \"tcp://127.0.0.1:1883\"; %s };\n"                                             \
    "influx = { url = \"http://127.0.0.1:8086\"; %s };\n"                                          \
    "http = { listen = \"127.0.0.1:8080\"; %s };\n"                                                \
    "%s\n"

static void test_reload_changes_name_the_connection_they_touch(void **state)
{
    static const struct {
        const char *mqtt_keys, *influx_keys, *http_keys, *other;
        bool mqtt, influx, http;
    } cases[] = {
        {"", "", "", "", false, false, false},
        {"", "", "", "limits = { queue_capacity = 64; };", false, false, false},
        {"keepalive = \"10s\";", "", "", "", true, false, false},
        {"prefix = \"site2\";", "", "", "", true, false, false},
        {"", "", "", "gateway = { id = \"gw-2\"; };", true, false, false},
        {"", "database = \"other\";", "", "", false, true, false},
        {"", "gzip = false;", "", "", false, true, false},
        {"", "", "open_reads = false;", "", false, false, true},
        {"", "", "max_connections_per_address = 4;", "", false, false, true},
        /* The spool's default directory is in the state directory. */
        {"", "", "", "gateway = { state_dir = \"/tmp/hallgw-test-other\"; };", false, true, true},
    };
    struct config *a = NULL, *b = NULL;
    struct conf_errors e = {0};
    char text[1024];
    (void)state;

    snprintf(text, sizeof(text), RELOAD_TEXT, "", "", "", "");
    assert_int_equal(testconf_load_text(text, &a, &e), 0);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        snprintf(text, sizeof(text), RELOAD_TEXT, cases[i].mqtt_keys, cases[i].influx_keys,
                 cases[i].http_keys, cases[i].other);
        if (testconf_load_text(text, &b, &e) != 0) {
            print_errors(&e);
            fail_msg("case %zu does not load:\n%s", i, text);
        }
        bool m = config_mqtt_changed(a, b), x = config_influx_changed(a, b),
             h = config_http_changed(a, b);
        if (m != cases[i].mqtt || x != cases[i].influx || h != cases[i].http)
            fail_msg("case %zu: mqtt %d influx %d http %d for\n%s", i, m, x, h, text);
        /* Either way round. */
        assert_int_equal(config_mqtt_changed(b, a), m);
        assert_int_equal(config_influx_changed(b, a), x);
        assert_int_equal(config_http_changed(b, a), h);
        config_free(b);
        b = NULL;
    }
    config_free(a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_good_config_loads_every_value),
        cmocka_unit_test(test_lookups_find_devices_sources_and_halls),
        cmocka_unit_test(test_minimal_config_gets_every_default),
        cmocka_unit_test(test_influx_v2_reads_token_and_spool_follows_state_dir),
        cmocka_unit_test(test_bad_qos_prints_file_line_key_message),
        cmocka_unit_test(test_every_wrong_type_is_reported_in_one_go),
        cmocka_unit_test(test_bad_values_are_all_reported),
        cmocka_unit_test(test_native_device_ids_that_are_topic_trees_are_refused),
        cmocka_unit_test(test_unknown_keys_are_errors_at_every_level),
        cmocka_unit_test(test_missing_required_keys_use_the_block_line),
        cmocka_unit_test(test_duplicate_ids_name_both_lines),
        cmocka_unit_test(test_bad_durations_and_ranges),
        cmocka_unit_test(test_unreadable_or_empty_secret_files),
        cmocka_unit_test(test_secret_files_must_keep_group_and_others_out),
        cmocka_unit_test(test_secret_never_appears_in_errors),
        cmocka_unit_test(test_web_dir_is_built_in_unless_an_existing_directory_is_named),
        cmocka_unit_test(test_influx_api_keys_must_match_the_api),
        cmocka_unit_test(test_bad_sources),
        cmocka_unit_test(test_window_references_resolve_in_the_same_hall),
        cmocka_unit_test(test_include_reads_a_file_beside_the_config),
        cmocka_unit_test(test_syntax_error_names_file_and_line),
        cmocka_unit_test(test_missing_file_is_an_error_without_a_line),
        cmocka_unit_test(test_uri_and_url_forms),
        cmocka_unit_test(test_timezones_must_exist),
        cmocka_unit_test(test_twenty_thousand_devices),
        cmocka_unit_test(test_kind_names_parse_and_measurements),
        cmocka_unit_test(test_gateway_halls_keeps_only_the_owned_halls),
        cmocka_unit_test(test_gateway_halls_must_name_defined_halls_once),
        cmocka_unit_test(test_reload_changes_name_the_connection_they_touch),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
