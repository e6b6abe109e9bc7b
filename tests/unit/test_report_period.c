/* report_period: the periodic assessment (考核) added up from hand-made daily
 * records — sums, shares, a closed day (holiday) left out of the open days,
 * power-off nights, alert response times — the time-weighted waiting
 * quantile, the period's bounds, and what the CSV and HTML show. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "duration.h"
#include "report_period.h"
#include "testconf.h"

static const char conf_text[] =
    "gateway = { id = \"gw-unit\"; timezone = \"Asia/Shanghai\"; };\n"
    "mqtt = { uri = \"tcp://127.0.0.1:1883\"; };\n"
    "halls = ( { id = \"h1\"; name = \"政务服务大厅\"; windows = (\n"
    "  { id = \"w01\"; name = \"综合受理 1\"; seat = \"seat-w01\"; pc = \"pc-w01\"; },\n"
    "  { id = \"w02\"; name = \"综合受理 2\"; seat = \"seat-w02\"; } ); } );\n"
    "devices = (\n"
    "  { id = \"seat-w01\"; hall = \"h1\"; kind = \"seat\"; },\n"
    "  { id = \"seat-w02\"; hall = \"h1\"; kind = \"seat\"; },\n"
    "  { id = \"pc-w01\"; hall = \"h1\"; kind = \"pc\"; },\n"
    "  { id = \"env-1\"; hall = \"h1\"; kind = \"env\"; },\n"
    "  { id = \"queue\"; hall = \"h1\"; kind = \"queue\"; } );\n";

static struct config *load_config(void)
{
    return testconf_load(conf_text);
}

static int32_t day_of(const char *s)
{
    int32_t d;
    assert_int_equal(date_parse(s, &d), 0);
    return d;
}

static void test_weeks_start_on_monday_and_months_are_calendar_months(void **state)
{
    (void)state;
    int32_t first, n;
    report_period_bounds(PERIOD_WEEK, day_of("2026-11-18"), &first, &n); /* a Wednesday */
    assert_int_equal(first, day_of("2026-11-16"));
    assert_int_equal(n, 7);
    report_period_bounds(PERIOD_WEEK, day_of("2026-11-22"), &first, &n); /* a Sunday */
    assert_int_equal(first, day_of("2026-11-16"));
    report_period_bounds(PERIOD_WEEK, day_of("2026-11-23"), &first, &n); /* the next Monday */
    assert_int_equal(first, day_of("2026-11-23"));
    report_period_bounds(PERIOD_MONTH, day_of("2026-11-30"), &first, &n);
    assert_int_equal(first, day_of("2026-11-01"));
    assert_int_equal(n, 30);
    report_period_bounds(PERIOD_MONTH, day_of("2028-02-10"), &first, &n);
    assert_int_equal(n, 29);
    assert_int_equal(report_period_kind_parse("week"), PERIOD_WEEK);
    assert_int_equal(report_period_kind_parse("month"), PERIOD_MONTH);
    assert_int_equal(report_period_kind_parse("year"), -1);
}

static void test_waiting_quantile_is_weighted_by_time(void **state)
{
    (void)state;
    struct period_wait w = {0};
    /* [0, 100): 5 in effect at the start, then 1 at 10, 100 at 20, 2 at 30 */
    struct period_reading r[] = {{10, 1}, {20, 100}, {30, 2}};
    assert_int_equal(period_wait_add(&w, 0, 100, true, 5, r, 3), 0);
    assert_float_equal(w.covered_s, 100, 1e-9);
    assert_float_equal(w.sum / w.covered_s, (50 + 10 + 1000 + 140) / 100.0, 1e-9);
    assert_float_equal(w.max, 100, 1e-9);
    double q;
    /* sorted: 1 for 10 s, 2 for 70 s, 5 for 10 s, 100 for 10 s: 90% is reached at 5 */
    assert_true(period_wait_quantile(&w, 0.9, &q));
    assert_float_equal(q, 5, 1e-9);
    assert_true(period_wait_quantile(&w, 0.5, &q));
    assert_float_equal(q, 2, 1e-9);
    /* a second stretch with nothing before: covered from its first reading */
    struct period_reading r2[] = {{250, 7}};
    assert_int_equal(period_wait_add(&w, 200, 300, false, 0, r2, 1), 0);
    assert_float_equal(w.covered_s, 150, 1e-9);
    period_wait_free(&w);
    /* nothing covered: no quantile */
    assert_false(period_wait_quantile(&w, 0.9, &q));
}

/* A day's record as report_gather() would make it, by hand. */
static void day_report(struct report *r, const struct config *cfg, const char *date, bool open,
                       double open_s, double staffed_s, size_t incidents)
{
    int32_t d = day_of(date);
    assert_int_equal(report_begin(r, cfg, NULL, d, 4e9), 0);
    if (!open)
        r->opening_hours[0] = '\0';
    r->windows[0].open_s = open_s;
    r->windows[0].staffed_s = staffed_s;
    r->windows[0].incidents = incidents;
}

static struct report_env env_row(double covered, double out, double hi)
{
    return (struct report_env){.hall = "h1",
                               .device = "env-1",
                               .metric = "co2",
                               .has_above = true,
                               .above = 1000,
                               .covered_s = covered,
                               .out_s = out,
                               .has_range = true,
                               .max = hi,
                               .min = 500};
}

static char *render(struct period *p, enum report_format f)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&buf, &len);
    assert_non_null(out);
    assert_int_equal(report_period_render(p, f, out), 0);
    fclose(out);
    return buf;
}

static void test_days_add_up_and_a_holiday_is_no_open_day(void **state)
{
    (void)state;
    setenv("TZ", "Asia/Shanghai", 1);
    tzset();
    struct config *cfg = load_config();
    struct period p;
    /* the week of Monday 2026-11-16, long over */
    assert_int_equal(report_period_begin(&p, cfg, NULL, PERIOD_WEEK, day_of("2026-11-18"), 4e9), 0);
    assert_false(p.current);
    assert_string_equal(p.label, "2026-W47");

    struct report r;
    /* Monday: open 100 min, staffed 90, CO2 out 10 of 100 min, power-off ok */
    day_report(&r, cfg, "2026-11-16", true, 6000, 5400, 1);
    struct report_env e1 = env_row(6000, 600, 1200);
    r.env = &e1;
    r.n_env = 1;
    struct report_poweroff po1 = {.hall = "h1", .window = "w01", .records = 2, .failures = 0};
    r.poweroffs = &po1;
    r.n_poweroffs = 1;
    struct record_alert alerts[] = {
        {.alert_id = "a1",
         .hall = "h1",
         .severity = "warning",
         .transition = "firing",
         .rule = "co2-high",
         .at = 1000},
        {.alert_id = "a1",
         .hall = "h1",
         .severity = "warning",
         .transition = "acknowledged",
         .at = 1060},
        {.alert_id = "a1",
         .hall = "h1",
         .severity = "warning",
         .transition = "resolved",
         .at = 1300},
        {.alert_id = "a2", .hall = "h1", .severity = "major", .transition = "firing", .at = 2000},
    };
    r.alerts = alerts;
    r.n_alerts = 4;
    assert_int_equal(report_period_add_day(&p, cfg, &r), 0);
    r.env = NULL, r.poweroffs = NULL, r.alerts = NULL;
    r.n_env = r.n_poweroffs = r.n_alerts = 0;
    report_free(&r);

    /* Tuesday: a holiday, closed: nothing measured, no open day */
    day_report(&r, cfg, "2026-11-17", false, 0, 0, 0);
    assert_int_equal(report_period_add_day(&p, cfg, &r), 0);
    report_free(&r);

    /* Wednesday: open 200 min, staffed 150; CO2 in range; a failed power-off step */
    day_report(&r, cfg, "2026-11-18", true, 12000, 9000, 2);
    struct report_env e3 = env_row(12000, 0, 900);
    r.env = &e3;
    r.n_env = 1;
    struct report_poweroff po3 = {.hall = "h1", .window = "w01", .records = 3, .failures = 1};
    r.poweroffs = &po3;
    r.n_poweroffs = 1;
    assert_int_equal(report_period_add_day(&p, cfg, &r), 0);
    r.env = NULL, r.poweroffs = NULL;
    r.n_env = r.n_poweroffs = 0;
    report_free(&r);
    assert_int_equal(report_period_finish(&p, cfg), 0);

    assert_int_equal(p.days_done, 3);
    assert_int_equal(p.open_days, 2);
    assert_true(p.day_open[0]);
    assert_false(p.day_open[1]);
    const struct period_window *w = &p.windows[0];
    assert_string_equal(w->id, "w01");
    assert_float_equal(w->open_s, 18000, 1e-9);
    assert_float_equal(w->staffed_s, 14400, 1e-9);
    assert_int_equal(w->incidents, 3);
    assert_float_equal(w->day_staffed_s[2], 9000, 1e-9);
    assert_int_equal(w->nights, 2);
    assert_int_equal(w->nights_ok, 1);
    assert_int_equal(p.n_env, 1);
    assert_float_equal(p.env[0].covered_s, 18000, 1e-9);
    assert_float_equal(p.env[0].out_s, 600, 1e-9);
    assert_float_equal(p.env[0].max, 1200, 1e-9);
    assert_int_equal(p.n_alerts, 2); /* major first, then warning */
    assert_string_equal(p.alerts[0].severity, "major");
    assert_int_equal(p.alerts[0].fired, 1);
    assert_int_equal(p.alerts[0].acked, 0);
    assert_string_equal(p.alerts[1].severity, "warning");
    assert_int_equal(p.alerts[1].acked, 1);
    assert_float_equal(p.alerts[1].ack_sum_s, 60, 1e-9);
    assert_float_equal(p.alerts[1].resolve_sum_s, 300, 1e-9);

    char *csv = render(&p, REPORT_CSV);
    /* 14400 / 18000 = 0.8; unstaffed 3600 s */
    assert_non_null(strstr(csv, "staffing,h1,w01,综合受理 1,"));
    assert_non_null(strstr(csv, ",18000,14400,0.8000,3600,3\r\n"));
    assert_non_null(strstr(csv, "environment,h1,co2,1000,,18000,600,0.9667,1200,500\r\n"));
    assert_non_null(strstr(csv, "poweroff,h1,w01,2,1,0.5000\r\n"));
    assert_non_null(strstr(csv, "alerts,h1,warning,1,1,60,1,300\r\n"));
    assert_non_null(strstr(csv, "days,h1,w01,2026-11-17,false,0,0,\r\n"));
    assert_non_null(strstr(csv, "period,h1,政务服务大厅,2026-W47,2026-11-16,2026-11-22,2,"));
    free(csv);
    char *html = render(&p, REPORT_HTML);
    assert_non_null(strstr(html, "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"bars\""));
    assert_non_null(strstr(html, "class=\"strips\""));
    assert_non_null(strstr(html, "<title>90.0%</title>"));
    assert_non_null(strstr(html, "<title>75.0%</title>"));
    assert_non_null(strstr(html, ">80.0%</text>")); /* the bar of the period */
    assert_non_null(strstr(html, "<title>closed</title>"));
    assert_null(strstr(html, "<script"));
    free(html);
    report_period_free(&p);
    config_free(cfg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_weeks_start_on_monday_and_months_are_calendar_months),
        cmocka_unit_test(test_waiting_quantile_is_weighted_by_time),
        cmocka_unit_test(test_days_add_up_and_a_holiday_is_no_open_day),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
