/* Secrets are wiped before their memory is released: crypto_free_secret()
 * itself, and the modules that keep a copy of a password or a token (the
 * MQTT client, the InfluxDB writer, the notifier).
 *
 * The test is linked with -Wl,--wrap=free (tests/CMakeLists.txt): every
 * free() of this program's own code passes through __wrap_free() below,
 * which looks at the block while it is still allocated and counts those
 * that still hold the secret. Nothing here reads freed memory. */
#include <malloc.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "config.h"
#include "crypto.h"
#include "httpclient.h"
#include "influx.h"
#include "mqtt.h"
#include "notifier.h"

void __real_free(void *p);
void __wrap_free(void *p);

static const char *watched; /* the secret looked for in every freed block */
static int freed_with_secret;

void __wrap_free(void *p)
{
    if (p && watched) {
        size_t n = malloc_usable_size(p);
        if (memmem(p, n, watched, strlen(watched)))
            freed_with_secret++;
    }
    __real_free(p);
}

static void watch(const char *secret)
{
    watched = secret;
    freed_with_secret = 0;
}

static int teardown(void **state)
{
    (void)state;
    watched = NULL;
    return 0;
}

static void test_free_secret_wipes_the_string_before_releasing_it(void **state)
{
    (void)state;
    char *s = strdup("correct-horse-battery-staple");

    assert_non_null(s);
    watch("correct-horse-battery-staple");
    crypto_free_secret(s);
    assert_int_equal(freed_with_secret, 0);

    /* The watch sees a plain free() of the same string. */
    s = strdup("correct-horse-battery-staple");
    assert_non_null(s);
    free(s);
    assert_int_equal(freed_with_secret, 1);
}

static void test_free_secret_of_null_does_nothing(void **state)
{
    (void)state;
    crypto_free_secret(NULL);
}

static void test_mqtt_client_wipes_its_copy_of_the_password(void **state)
{
    (void)state;
    struct mqtt_options o = {.uri = "tcp://127.0.0.1:1",
                             .client_id = "test-secrets",
                             .username = "gw",
                             .password = "mqtt-password-0xC0FFEE",
                             .qos = 1};
    struct mqtt *m = NULL;

    watch(o.password);
    assert_int_equal(mqtt_new(&o, &m), 0);
    mqtt_free(m);
    assert_int_equal(freed_with_secret, 0);
}

static void test_influx_writer_wipes_its_token_header(void **state)
{
    (void)state;
    struct config_influx cfg = {.enabled = true,
                                .url = "http://127.0.0.1:1",
                                .api = INFLUX_V2,
                                .org = "o",
                                .bucket = "b",
                                .token = "influx-token-0xDEADBEEF",
                                .batch_size = 10,
                                .flush_interval_ms = 1000,
                                .timeout_ms = 1000};
    struct influx_writer *w = NULL;

    watch(cfg.token);
    assert_int_equal(influx_writer_start(&cfg, NULL, NULL, &w), 0);
    influx_writer_stop(w, 0);
    assert_int_equal(freed_with_secret, 0);
}

static void test_influx_writer_wipes_its_user_and_password(void **state)
{
    (void)state;
    struct config_influx cfg = {.enabled = true,
                                .url = "http://127.0.0.1:1",
                                .api = INFLUX_V1,
                                .database = "db",
                                .username = "gw",
                                .password = "influx-password-0xFEED",
                                .batch_size = 10,
                                .flush_interval_ms = 1000,
                                .timeout_ms = 1000};
    struct influx_writer *w = NULL;

    watch(cfg.password);
    assert_int_equal(influx_writer_start(&cfg, NULL, NULL, &w), 0);
    influx_writer_stop(w, 0);
    assert_int_equal(freed_with_secret, 0);
}

static void test_notifier_wipes_its_copy_of_the_smtp_password(void **state)
{
    (void)state;
    char *to[] = {"ops@example.org"};
    struct config_notify route = {.name = "mail",
                                  .type = NOTIFY_EMAIL,
                                  .severities = ~0u,
                                  .kinds = ~0u,
                                  .smtp_url = "smtp://127.0.0.1:1",
                                  .from = "hallgw@example.org",
                                  .to = to,
                                  .n_to = 1,
                                  .username = "hallgw",
                                  .password = "smtp-password-0xBADC0DE",
                                  .starttls = true,
                                  .timeout_ms = 1000};
    struct config cfg = {.notify = &route, .n_notify = 1};
    struct notifier *n = NULL;

    watch(route.password);
    assert_int_equal(notifier_start(&cfg, &n), 0);
    notifier_stop(n, 0);
    assert_int_equal(freed_with_secret, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_free_secret_wipes_the_string_before_releasing_it, teardown),
        cmocka_unit_test_teardown(test_free_secret_of_null_does_nothing, teardown),
        cmocka_unit_test_teardown(test_mqtt_client_wipes_its_copy_of_the_password, teardown),
        cmocka_unit_test_teardown(test_influx_writer_wipes_its_token_header, teardown),
        cmocka_unit_test_teardown(test_influx_writer_wipes_its_user_and_password, teardown),
        cmocka_unit_test_teardown(test_notifier_wipes_its_copy_of_the_smtp_password, teardown),
    };

    if (http_global_init() < 0)
        return 1;
    return cmocka_run_group_tests(tests, NULL, NULL);
}
