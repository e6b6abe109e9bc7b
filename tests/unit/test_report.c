/* report: rendering of the daily inspection record from hand-built reports
 * (escaping, CSV quoting, Chinese text, ratios, empty and unreadable
 * sections), and the local day's bounds. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "duration.h"
#include "report.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* 2026-01-05 (a Monday) in Asia/Shanghai: [2026-01-04T16:00Z, 2026-01-05T16:00Z). */
#define DAY0 1767542400.0
#define AT(h, m) (DAY0 + (h)*3600.0 + (m)*60.0)

static char *render(const struct report *r, enum report_format f)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&buf, &len);
    assert_non_null(out);
    assert_int_equal(report_render(r, f, out), 0);
    fclose(out);
    return buf;
}

static char *escaped(void (*fn)(FILE *, const char *), const char *s)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&buf, &len);
    assert_non_null(out);
    fn(out, s);
    fclose(out);
    return buf;
}

static struct report_hall halls[] = {{"h1", "政务服务大厅一楼"}, {"h2", "二楼 <b>东厅</b>"}};

static struct report_window windows[] = {
    {.hall = "h1",
     .id = "w01",
     .name = "综合受理 1",
     .has_seat = true,
     .scheduled_s = 7 * 3600,
     .open_s = 7 * 3600,
     .staffed_s = 6.5 * 3600,
     .incidents = 1},
    {.hall = "h1", .id = "w02", .name = "<script>alert(1)</script>", .has_seat = false},
};

static struct report_incident incidents[] = {
    {.hall = "h1",
     .window = "w01",
     .alert_id = "unstaffed:w01",
     .start = AT(10, 0),
     .end = AT(10, 25),
     .by = "李师傅",
     .note = "已回岗, \"临时\"\n外出"},
};

static struct report_env envs[] = {
    {.hall = "h1",
     .device = "env-1",
     .metric = "co2",
     .rules = "co2-high",
     .has_above = true,
     .above = 1000,
     .covered_s = 7 * 3600,
     .out_s = 1800,
     .has_range = true,
     .max = 1350,
     .min = 420},
};

static struct record_alert alerts[] = {
    {.alert_id = "co2-high:env-1",
     .rule = "co2-high",
     .subject = "env-1",
     .hall = "h1",
     .device = "env-1",
     .severity = "warning",
     .transition = "firing",
     .at = AT(9, 30),
     .summary = "co2 1350 > 1000 ppm"},
    {.alert_id = "co2-high:env-1",
     .rule = "co2-high",
     .subject = "env-1",
     .hall = "h1",
     .device = "env-1",
     .severity = "warning",
     .transition = "acknowledged",
     .at = AT(9, 35),
     .by = "王工",
     .note = "=HYPERLINK(\"http://x\") 已开窗 | 通风",
     .summary = "co2 1350 > 1000 ppm"},
};

static void full_report(struct report *r)
{
    memset(r, 0, sizeof(*r));
    strcpy(r->gateway_id, "gw-1");
    strcpy(r->timezone, "Asia/Shanghai");
    strcpy(r->date, "2026-01-05");
    r->day_start = DAY0;
    r->day_end = DAY0 + 86400;
    r->until = r->day_end;
    r->generated_at = DAY0 + 86400 + 300;
    strcpy(r->opening_hours, "09:00-12:00, 13:00-17:00");
    r->halls = halls;
    r->n_halls = 1;
    r->windows = windows;
    r->n_windows = ARRAY_SIZE(windows);
    r->incidents = incidents;
    r->n_incidents = ARRAY_SIZE(incidents);
    r->env = envs;
    r->n_env = ARRAY_SIZE(envs);
    r->alerts = alerts;
    r->n_alerts = ARRAY_SIZE(alerts);
}

static void test_html_escapes_names_notes_and_hall_names(void **state)
{
    (void)state;
    struct report r;
    full_report(&r);
    r.n_halls = 2; /* the second hall's name holds markup */
    char *html = render(&r, REPORT_HTML);
    assert_non_null(strstr(html, "&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert_null(strstr(html, "<script"));
    assert_non_null(strstr(html, "二楼 &lt;b&gt;东厅&lt;/b&gt;"));
    assert_null(strstr(html, "<b>"));
    assert_non_null(strstr(html, "=HYPERLINK(&quot;http://x&quot;) 已开窗 | 通风"));
    /* A self-contained page that prints on A4. */
    assert_true(strncmp(html, "<!DOCTYPE html>", 15) == 0);
    assert_non_null(strstr(html, "<meta charset=\"utf-8\">"));
    assert_non_null(strstr(html, "@page { size: A4"));
    assert_non_null(strstr(html, "break-inside: avoid"));
    assert_non_null(strstr(html, "</html>\n"));
    assert_null(strstr(html, "<link"));
    assert_null(strstr(html, "src="));
    free(html);

    char *e = escaped(report_html_escape, "a&b<c>\"d\"'e'");
    assert_string_equal(e, "a&amp;b&lt;c&gt;&quot;d&quot;&#39;e&#39;");
    free(e);
}

static void test_csv_quotes_commas_quotes_newlines_and_guards_formulas(void **state)
{
    (void)state;
    static const struct {
        const char *in, *want;
    } cases[] = {
        {"plain", "plain"},
        {"", ""},
        {"综合受理 1", "综合受理 1"},
        {"a,b", "\"a,b\""},
        {"say \"hi\"", "\"say \"\"hi\"\"\""},
        {"two\nlines", "\"two\nlines\""},
        {"cr\r\nlf", "\"cr\r\nlf\""},
        {" padded ", "\" padded \""},
        {"=1+2", "\"'=1+2\""},
        {"+86 10", "\"'+86 10\""},
        {"-5", "\"'-5\""},
        {"@SUM(A1)", "\"'@SUM(A1)\""},
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        char *e = escaped(report_csv_text, cases[i].in);
        if (strcmp(e, cases[i].want) != 0)
            fail_msg("csv case %zu: got [%s], want [%s]", i, e, cases[i].want);
        free(e);
    }
}

static void test_csv_blocks_have_header_rows_and_crlf_records(void **state)
{
    (void)state;
    struct report r;
    full_report(&r);
    char *csv = render(&r, REPORT_CSV);
    /* Every block starts with its header row, blocks are separated by a blank line. */
    static const char *const headers[] = {
        "section,hall,hall_name,date,gateway,timezone,opening_hours,generated_at,until\r\n",
        "\r\n\r\nsection,data,source,status,detail\r\n",
        "\r\n\r\nsection,hall,window,name,scheduled_s,open_s,staffed_s,staffed_ratio,"
        "unstaffed_incidents\r\n",
        "\r\n\r\nsection,hall,window,started,ended,duration_s,by,note\r\n",
        "\r\n\r\nsection,hall,device,metric,above,below,out_of_range_s,measured_s,max,min,"
        "rules\r\n",
        "\r\n\r\nsection,hall,device,type,status,started,ended,duration_s\r\n",
        "\r\n\r\nsection,hall,device,kind,window,records,failed,last_step,last_at,result\r\n",
        "\r\n\r\nsection,hall,time,device,type,detail\r\n",
    };
    for (size_t i = 0; i < ARRAY_SIZE(headers); i++) {
        if (!strstr(csv, headers[i]))
            fail_msg("no header block %zu: %s", i, headers[i]);
    }
    assert_true(strncmp(csv, headers[0], strlen(headers[0])) == 0);
    assert_non_null(strstr(csv, "header,h1,政务服务大厅一楼,2026-01-05,gw-1,Asia/Shanghai,"
                                "\"09:00-12:00, 13:00-17:00\",2026-01-06T00:05:00+08:00,"
                                "2026-01-06T00:00:00+08:00\r\n"));
    /* Machine values: ratios 0..1, ISO times with the offset, seconds. */
    assert_non_null(strstr(csv, "windows,h1,w01,综合受理 1,25200,25200,23400,0.9286,1\r\n"));
    assert_non_null(strstr(csv, "windows,h1,w02,<script>alert(1)</script>,0,,,,0\r\n"));
    assert_non_null(strstr(csv, "incidents,h1,w01,2026-01-05T10:00:00+08:00,"
                                "2026-01-05T10:25:00+08:00,1500,李师傅,"
                                "\"已回岗, \"\"临时\"\"\n外出\"\r\n"));
    assert_non_null(strstr(csv, "environment,h1,env-1,co2,1000,,1800,25200,1350,420,co2-high\r\n"));
    assert_non_null(strstr(csv, "alerts,h1,2026-01-05T09:35:00+08:00,env-1,co2-high:env-1,"
                                "warning,acknowledged,co2 1350 > 1000 ppm,王工,"
                                "\"'=HYPERLINK(\"\"http://x\"\") 已开窗 | 通风\"\r\n"));
    assert_non_null(strstr(csv, "status,alerts,sqlite,ok,\r\n"));
    /* Outside quotes, no bare LF: every record ends with CRLF. */
    bool quoted = false;
    for (const char *p = csv; *p; p++) {
        if (*p == '"')
            quoted = !quoted;
        else if (*p == '\n' && !quoted && (p == csv || p[-1] != '\r'))
            fail_msg("bare LF at offset %td", p - csv);
    }
    assert_false(quoted);
    free(csv);
}

static void test_markdown_keeps_chinese_and_escapes_table_breakers(void **state)
{
    (void)state;
    struct report r;
    full_report(&r);
    char *md = render(&r, REPORT_MD);
    assert_non_null(strstr(md, "# 服务窗口巡查记录 <small>Daily inspection record</small>"));
    assert_non_null(strstr(md, "## 二、窗口在岗情况 <small>Window staffing</small>"));
    assert_non_null(strstr(md, "## 七、巡查告警记录"));
    assert_non_null(strstr(md, "政务服务大厅一楼 (h1)"));
    assert_non_null(strstr(md, "2026-01-05 星期一"));
    assert_non_null(strstr(md, "| w01 | 综合受理 1 | 420.0 | 420.0 | 390.0 | 92.9% | 1 |\n"));
    /* No seat sensor: nothing measured, shown as "-". */
    assert_non_null(
        strstr(md, "| w02 | &lt;script&gt;alert(1)&lt;/script&gt; | 0.0 | - | - | - | 0 |\n"));
    /* A pipe in a note does not split the cell; a newline does not end the row. */
    assert_non_null(strstr(md, "=HYPERLINK(\"http://x\") 已开窗 \\| 通风 |"));
    assert_non_null(strstr(md, "已回岗, \"临时\"<br>外出"));
    assert_non_null(strstr(md, "| w01 综合受理 1 | 10:00:00 | 10:25:00 | 25m00s | 李师傅 |"));
    assert_non_null(strstr(md, "| 09:35:00 | 政务服务大厅一楼 / env-1 | co2-high:env-1 | 警告 "
                               "warning | 已确认 acknowledged | co2 1350 &gt; 1000 ppm | 王工 |"));
    assert_non_null(
        strstr(md, "| env-1 | co2 | &gt; 1000 | 30.0 | 420.0 | 1350 | 420 | co2-high |"));
    /* One hall: no hall column. */
    assert_null(strstr(md, "大厅 Hall |"));
    free(md);

    char *e = escaped(report_md_escape, "a|b\\c*d*[e](f)`g` <h>&");
    assert_string_equal(e, "a\\|b\\\\c\\*d\\*\\[e\\](f)\\`g\\` &lt;h&gt;&amp;");
    free(e);
}

/* A line break is one <br> in a Markdown cell, whether LF, CR or CRLF; HTML
 * keeps them as they are (they are not markup there). No text: nothing. */
static void test_escapers_turn_line_breaks_into_their_format(void **state)
{
    (void)state;
    static const struct {
        void (*fn)(FILE *, const char *);
        const char *in, *want;
    } cases[] = {
        {report_md_escape, "a\r\nb", "a<br>b"},
        {report_md_escape, "a\rb\nc", "a<br>b<br>c"},
        {report_md_escape, "\r\n\r\n", "<br><br>"},
        {report_md_escape, "end\r", "end<br>"},
        {report_md_escape, "'\"", "'\""},
        {report_html_escape, "a\r\nb\rc", "a\r\nb\rc"},
        {report_html_escape, "|*`[x]\\", "|*`[x]\\"},
        {report_md_escape, NULL, ""},
        {report_html_escape, NULL, ""},
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        char *e = escaped(cases[i].fn, cases[i].in);
        assert_string_equal(e, cases[i].want);
        free(e);
    }
}

static void test_several_halls_get_a_hall_column(void **state)
{
    (void)state;
    struct report r;
    full_report(&r);
    r.n_halls = 2;
    char *md = render(&r, REPORT_MD);
    assert_non_null(strstr(md, "| 大厅 Hall | 窗口 Window |"));
    assert_non_null(strstr(md, "| 政务服务大厅一楼 | w01 | 综合受理 1 |"));
    assert_non_null(strstr(md, "政务服务大厅一楼 (h1); 二楼 &lt;b&gt;东厅&lt;/b&gt; (h2)"));
    free(md);
}

static void test_ratio_minutes_and_duration_formats(void **state)
{
    (void)state;
    static const struct {
        double part, whole;
        const char *want;
    } ratios[] = {
        {1, 3, "33.3%"},    {2, 3, "66.7%"}, {0, 10, "0.0%"}, {10, 10, "100.0%"},
        {11, 10, "100.0%"}, {0, 0, "-"},     {5, 0, "-"},     {7 * 3600 - 30, 7 * 3600, "99.9%"},
    };
    char buf[32];
    for (size_t i = 0; i < ARRAY_SIZE(ratios); i++) {
        report_format_ratio(ratios[i].part, ratios[i].whole, buf, sizeof(buf));
        if (strcmp(buf, ratios[i].want) != 0)
            fail_msg("ratio %zu: got %s, want %s", i, buf, ratios[i].want);
    }
    static const struct {
        double s;
        const char *want;
    } durations[] = {
        {0, "0s"},
        {-5, "0s"},
        {59.4, "59s"},
        {60, "1m00s"},
        {1500, "25m00s"},
        {3599, "59m59s"},
        {3600, "1h00m"},
        {3900, "1h05m"},
        {86399, "23h59m"},
        {86400, "1d00h"},
        {10 * 86400 + 7200, "10d02h"},
    };
    for (size_t i = 0; i < ARRAY_SIZE(durations); i++) {
        report_format_duration(durations[i].s, buf, sizeof(buf));
        if (strcmp(buf, durations[i].want) != 0)
            fail_msg("duration %zu: got %s, want %s", i, buf, durations[i].want);
    }
    report_format_minutes(90, buf, sizeof(buf));
    assert_string_equal(buf, "1.5");
    report_format_minutes(0, buf, sizeof(buf));
    assert_string_equal(buf, "0.0");
}

static void test_empty_sections_say_none(void **state)
{
    (void)state;
    struct report r;
    full_report(&r);
    r.n_windows = r.n_incidents = r.n_env = r.n_alerts = 0;
    char *md = render(&r, REPORT_MD);
    assert_non_null(strstr(md, "未配置窗口 No service windows configured"));
    assert_non_null(
        strstr(md, "开放时间内无环境数据 No environment readings during opening hours"));
    assert_non_null(strstr(md, "无故障 No faults"));
    assert_non_null(strstr(md, "当日无断电记录 No power-off records for this day"));
    assert_non_null(strstr(md, "未配置电脑 No PCs configured"));
    assert_non_null(strstr(md, "当日无告警 No alerts this day"));
    assert_null(strstr(md, "could not be read"));
    free(md);
    char *html = render(&r, REPORT_HTML);
    assert_non_null(strstr(html, "当日无断电记录 <span class=\"en\">No power-off records for this "
                                 "day</span>"));
    free(html);
    /* csv: the blocks are there, with their header rows and no data rows. */
    char *csv = render(&r, REPORT_CSV);
    assert_non_null(strstr(csv, "\r\n\r\nsection,hall,time,place,alert,severity,transition,"
                                "summary,by,note\r\n\r\n"));
    assert_null(strstr(csv, "\r\nalerts,"));
    assert_null(strstr(csv, "\r\nwindows,"));
    free(csv);
}

static void test_a_closed_day_and_a_day_not_over(void **state)
{
    (void)state;
    struct report r;
    full_report(&r);
    r.opening_hours[0] = '\0';
    r.until = AT(15, 30);
    r.generated_at = r.until;
    char *md = render(&r, REPORT_MD);
    assert_non_null(strstr(md, "闭厅 closed"));
    assert_non_null(strstr(md, "15:30:00 (当日未结束 the day is not over)"));
    free(md);
}

static void test_unreadable_sources_are_said_in_each_section(void **state)
{
    (void)state;
    struct report r;
    full_report(&r);
    r.n_incidents = r.n_alerts = 0;
    r.store.src = REPORT_SRC_UNREADABLE;
    strcpy(r.store.why, "cannot open /var/lib/hallgw/hallgw.db: no such file");
    struct report_status *influx[] = {&r.staffing, &r.environment, &r.equipment, &r.poweroff,
                                      &r.av};
    for (size_t i = 0; i < ARRAY_SIZE(influx); i++) {
        influx[i]->src = REPORT_SRC_UNREADABLE;
        strcpy(influx[i]->why, "cannot reach InfluxDB at http://127.0.0.1:1: Connection refused");
    }
    char *md = render(&r, REPORT_MD);
    size_t n = 0;
    for (const char *p = md; (p = strstr(p, "The data could not be read: cannot reach")); p++)
        n++;
    assert_int_equal(n, 5);
    n = 0;
    for (const char *p = md; (p = strstr(p, "The alert history could not be read")); p++)
        n++;
    assert_int_equal(n, 4); /* incidents, equipment alerts, the alert record, actions */
    /* The staffing table is still there, from the config and the schedule. */
    assert_non_null(strstr(md, "| w01 | 综合受理 1 | 420.0 | - | - | - | - |\n"));
    assert_null(strstr(md, "当日无告警"));
    free(md);

    char *csv = render(&r, REPORT_CSV);
    assert_non_null(strstr(csv, "status,windows,influxdb,unreadable,cannot reach InfluxDB at "
                                "http://127.0.0.1:1: Connection refused\r\n"));
    assert_non_null(strstr(csv, "status,alerts,sqlite,unreadable,"));
    free(csv);

    r.staffing.src = REPORT_SRC_DISABLED;
    md = render(&r, REPORT_MD);
    assert_non_null(strstr(md, "未配置 InfluxDB InfluxDB is not configured"));
    free(md);
}

static void test_pc_and_poweroff_rows(void **state)
{
    (void)state;
    struct report r;
    full_report(&r);
    struct report_pc pcs[] = {
        {.hall = "h1",
         .device = "pc-w01",
         .window = "w01",
         .last_scan = r.until - 9 * 86400,
         .sig_updated = r.until - 3600,
         .scan_max_age_s = 7 * 86400,
         .sig_max_age_s = 3 * 86400,
         .av_threats = 0,
         .usb_events = 1},
        {.hall = "h1", .device = "pc-w02", .av_threats = -1},
    };
    struct report_event ev[] = {{.hall = "h1",
                                 .device = "pc-w01",
                                 .type = "usb_storage_inserted",
                                 .at = AT(11, 2),
                                 .detail = "SanDisk, Cruzer, serial 4C53"}};
    struct report_poweroff po[] = {
        {.hall = "h1",
         .device = "pc-w01",
         .window = "w01",
         .kind = "pc",
         .records = 3,
         .last_step = "offline_verified",
         .last_at = AT(17, 36),
         .last_ok = 1},
        {.hall = "h1",
         .device = "plug-w01",
         .kind = "plug",
         .records = 2,
         .failures = 1,
         .last_step = "plug_off",
         .last_at = AT(17, 50),
         .last_ok = 0},
    };
    r.pcs = pcs;
    r.n_pcs = ARRAY_SIZE(pcs);
    r.events = ev;
    r.n_events = ARRAY_SIZE(ev);
    r.poweroffs = po;
    r.n_poweroffs = ARRAY_SIZE(po);
    char *md = render(&r, REPORT_MD);
    assert_non_null(strstr(md, "| pc-w01 | w01 | 2025-12-28 00:00 | 9d00h (超期 overdue) | "
                               "23:00:00 | 1h00m | 0 | 1 | 扫描超期 scan overdue |"));
    assert_non_null(strstr(md, "| pc-w02 | - | - | - | - | - | 0 | 0 | 无数据 no data |"));
    assert_non_null(strstr(md, "| 11:02:00 | pc-w01 | U盘插入 usb_storage_inserted | SanDisk, "
                               "Cruzer, serial 4C53 |"));
    assert_non_null(strstr(md, "| pc-w01 | pc | w01 | 3 | 0 | offline_verified | 17:36:00 | "
                               "成功 ok |"));
    assert_non_null(strstr(md, "| plug-w01 | plug | - | 2 | 1 | plug_off | 17:50:00 | 失败 "
                               "failed |"));
    free(md);
    char *csv = render(&r, REPORT_CSV);
    assert_non_null(strstr(csv, "av,h1,pc-w01,w01,2025-12-28T00:00:00+08:00,777600,"
                                "2026-01-05T23:00:00+08:00,3600,0,0,1,scan overdue\r\n"));
    assert_non_null(strstr(csv, "poweroff,h1,plug-w01,plug,,2,1,plug_off,"
                                "2026-01-05T17:50:00+08:00,failed\r\n"));
    free(csv);
}

static void test_day_bounds_follow_the_zone_and_dst(void **state)
{
    (void)state;
    int32_t day;
    double a, b;
    assert_int_equal(date_parse("2026-01-05", &day), 0);
    report_day_bounds(day, &a, &b);
    assert_true(a == DAY0 && b == DAY0 + 86400);

    setenv("TZ", "America/New_York", 1);
    tzset();
    assert_int_equal(date_parse("2024-03-10", &day), 0); /* spring forward: 23 hours */
    report_day_bounds(day, &a, &b);
    assert_true(a == 1710046800.0);
    assert_true(b - a == 23 * 3600.0);
    assert_int_equal(date_parse("2024-11-03", &day), 0); /* fall back: 25 hours */
    report_day_bounds(day, &a, &b);
    assert_true(b - a == 25 * 3600.0);
    setenv("TZ", "Asia/Shanghai", 1);
    tzset();
}

static void test_format_names_parse(void **state)
{
    (void)state;
    assert_int_equal(report_format_parse("md"), REPORT_MD);
    assert_int_equal(report_format_parse("markdown"), REPORT_MD);
    assert_int_equal(report_format_parse("html"), REPORT_HTML);
    assert_int_equal(report_format_parse("csv"), REPORT_CSV);
    assert_int_equal(report_format_parse("pdf"), -1);
    assert_int_equal(report_format_parse(""), -1);
}

static int setup(void **state)
{
    (void)state;
    setenv("TZ", "Asia/Shanghai", 1);
    tzset();
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_html_escapes_names_notes_and_hall_names),
        cmocka_unit_test(test_csv_quotes_commas_quotes_newlines_and_guards_formulas),
        cmocka_unit_test(test_csv_blocks_have_header_rows_and_crlf_records),
        cmocka_unit_test(test_markdown_keeps_chinese_and_escapes_table_breakers),
        cmocka_unit_test(test_escapers_turn_line_breaks_into_their_format),
        cmocka_unit_test(test_several_halls_get_a_hall_column),
        cmocka_unit_test(test_ratio_minutes_and_duration_formats),
        cmocka_unit_test(test_empty_sections_say_none),
        cmocka_unit_test(test_a_closed_day_and_a_day_not_over),
        cmocka_unit_test(test_unreadable_sources_are_said_in_each_section),
        cmocka_unit_test(test_pc_and_poweroff_rows),
        cmocka_unit_test(test_day_bounds_follow_the_zone_and_dst),
        cmocka_unit_test(test_format_names_parse),
    };
    return cmocka_run_group_tests_name("report", tests, setup, NULL);
}
