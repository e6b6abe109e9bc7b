/* The daily inspection record as Markdown, HTML or CSV: pure functions of a
 * struct report (local times in the process's zone).
 *
 * Each section is written once, through the writer of report_table.c that
 * knows the three formats. */
#include "report.h"
#include "report_table.h"
#include "silence.h"

#include <errno.h>
#include <math.h>
#include <string.h>
#include <time.h>

static const char *transition_zh(const char *t)
{
    if (strcmp(t, "firing") == 0)
        return "告警";
    if (strcmp(t, "acknowledged") == 0)
        return "已确认";
    if (strcmp(t, "resolved") == 0)
        return "已解除";
    return "";
}

static const char *severity_zh(const char *s)
{
    if (strcmp(s, "info") == 0)
        return "提示";
    if (strcmp(s, "warning") == 0)
        return "警告";
    if (strcmp(s, "major") == 0)
        return "重要";
    if (strcmp(s, "critical") == 0)
        return "严重";
    return "";
}

/* ---- the sections ---------------------------------------------------------------- */

static void write_header(struct report_writer *w)
{
    const struct report *r = w->r;
    char gen[40], until[40], iso_gen[40], iso_until[40];
    time_t g = (time_t)wall_whole(r->generated_at);
    struct tm tm;
    localtime_r(&g, &tm);
    strftime(gen, sizeof(gen), "%Y-%m-%d %H:%M:%S", &tm);
    report_local_time(r, r->until, until, sizeof(until));
    report_iso_time(r->generated_at, iso_gen, sizeof(iso_gen));
    report_iso_time(r->until, iso_until, sizeof(iso_until));

    if (w->f == REPORT_CSV) {
        fputs("section,hall,hall_name,date,gateway,timezone,opening_hours,generated_at,until\r\n",
              w->out);
        for (size_t i = 0; i < r->n_halls; i++) {
            fputs("header,", w->out);
            report_csv_text(w->out, r->halls[i].id);
            fputc(',', w->out);
            report_csv_text(w->out, r->halls[i].name);
            fprintf(w->out, ",%s,", r->date);
            report_csv_text(w->out, r->gateway_id);
            fputc(',', w->out);
            report_csv_text(w->out, r->timezone);
            fputc(',', w->out);
            report_csv_text(w->out, r->opening_hours);
            fprintf(w->out, ",%s,%s\r\n", iso_gen, iso_until);
        }
        fputs("\r\n", w->out);
        return;
    }
    static const char *const wd_zh[] = {"星期日", "星期一", "星期二", "星期三",
                                        "星期四", "星期五", "星期六"};
    time_t d0 = (time_t)wall_whole(r->day_start);
    localtime_r(&d0, &tm);
    char date[64];
    snprintf(date, sizeof(date), "%s %s", r->date, wd_zh[tm.tm_wday % 7]);

    if (w->f == REPORT_MD) {
        fputs("# 服务窗口巡查记录 <small>Daily inspection record</small>\n\n", w->out);
    } else {
        fputs("<header>\n<h1>服务窗口巡查记录 <span class=\"en\">Daily inspection "
              "record</span></h1>\n",
              w->out);
    }
    report_heading(w, 2, "一、基本信息", "General", NULL, false);
    if (w->f == REPORT_HTML)
        fputs("<table class=\"kv\">\n", w->out);
    char halls[1024] = "";
    size_t l = 0;
    for (size_t i = 0; i < r->n_halls && l < sizeof(halls); i++)
        l += (size_t)snprintf(halls + l, sizeof(halls) - l, "%s%s (%s)", i ? "; " : "",
                              r->halls[i].name, r->halls[i].id);
    report_kv(w, "大厅", "Hall", halls);
    report_kv(w, "日期", "Date", date);
    report_kv(w, "开放时间", "Opening hours",
              r->opening_hours[0] ? r->opening_hours : "闭厅 closed");
    report_kv(w, "网关", "Gateway", r->gateway_id);
    report_kv(w, "时区", "Time zone", r->timezone);
    report_kv(w, "生成时间", "Generated at", gen);
    if (r->until < r->day_end) {
        char s[96];
        snprintf(s, sizeof(s), "%s (当日未结束 the day is not over)", until);
        report_kv(w, "统计截至", "Reported up to", s);
    }
    fputs(w->f == REPORT_HTML ? "</table>\n" : "\n", w->out);
    report_section_end(w);
    if (w->f == REPORT_HTML)
        fputs("</header>\n", w->out);
}

/* csv: every section's status, so a program can tell "none" from "unknown". */
static void write_csv_status(struct report_writer *w)
{
    const struct report *r = w->r;
    static const char *const src_name[] = {"ok", "unreadable", "disabled"};
    const struct {
        const char *section, *source;
        const struct report_status *st;
    } v[] = {
        {"alerts", "sqlite", &r->store},
        {"windows", "influxdb", &r->staffing},
        {"environment", "influxdb", &r->environment},
        {"faults", "influxdb", &r->equipment},
        {"poweroff", "influxdb", &r->poweroff},
        {"av", "influxdb", &r->av},
    };
    fputs("section,data,source,status,detail\r\n", w->out);
    for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
        fprintf(w->out, "status,%s,%s,%s,", v[i].section, v[i].source, src_name[v[i].st->src]);
        report_csv_text(w->out, v[i].st->why);
        fputs("\r\n", w->out);
    }
    fputs("\r\n", w->out);
}

/* The remark that the alert history could not be read, where it could not. */
static void history_note(struct report_writer *w)
{
    if (w->r->store.src != REPORT_SRC_OK)
        report_note(w, "告警记录无法读取", "The alert history could not be read", w->r->store.why,
                    true);
}

static const struct report_window *find_window(const struct report *r, const char *hall,
                                               const char *id)
{
    for (size_t i = 0; i < r->n_windows; i++) {
        if (strcmp(r->windows[i].hall, hall) == 0 && strcmp(r->windows[i].id, id) == 0)
            return &r->windows[i];
    }
    return NULL;
}

static void write_staffing(struct report_writer *w)
{
    const struct report *r = w->r;
    report_heading(
        w, 2, "二、窗口在岗情况", "Window staffing",
        "不得擅离岗位；不准擅自离岗、缺岗、串岗 — no leaving the post during opening hours", false);
    report_status_note(w, &r->staffing);
    if (report_table_wanted(w, true, r->n_windows, "未配置窗口", "No service windows configured")) {
        static const struct report_col cols[] = {
            {"窗口", "Window", "window", false, 0},
            {"名称", "Name", "name", false, 0},
            {"应在岗(分)", "Scheduled min", "scheduled_s", true, 0},
            {"开放(分)", "Open min", "open_s", true, 0},
            {"在岗(分)", "Staffed min", "staffed_s", true, 0},
            {"在岗率", "Staffed ratio", "staffed_ratio", true, 0},
            {"离岗次数", "Unstaffed incidents", "unstaffed_incidents", true, 0},
        };
        bool known = r->staffing.src == REPORT_SRC_OK;
        report_table_begin(w, "windows", cols, sizeof(cols) / sizeof(cols[0]));
        for (size_t i = 0; i < r->n_windows; i++) {
            const struct report_window *win = &r->windows[i];
            bool m = known && win->has_seat;
            report_row_begin(w, win->hall);
            report_cell_text(w, win->id);
            report_cell_text(w, win->name);
            report_cell_minutes(w, win->scheduled_s, true);
            report_cell_minutes(w, win->open_s, m);
            report_cell_minutes(w, win->staffed_s, m);
            report_cell_ratio(w, win->staffed_s, win->open_s, m);
            report_cell_count_known(w, win->incidents, r->store.src == REPORT_SRC_OK);
            report_row_end(w);
        }
        report_table_end(w);
        if (w->f != REPORT_CSV)
            report_note(w, "“-”：无座位传感器或无数据；在岗率 = 在岗 ÷ 开放",
                        "\"-\": no seat sensor or no data; staffed ratio = staffed / open", NULL,
                        false);
    }

    report_heading(w, 3, "离岗记录", "Unstaffed incidents", NULL, false);
    history_note(w);
    if (!report_table_wanted(w, r->store.src == REPORT_SRC_OK, r->n_incidents, "无", "None"))
        return;
    static const struct report_col icols[] = {
        {"窗口", "Window", "window", false, 0},   {"开始", "Started", "started", true, 0},
        {"结束", "Ended", "ended", true, 0},      {"时长", "Duration", "duration_s", true, 0},
        {"处理人", "Handled by", "by", false, 0}, {"处理情况", "Note", "note", false, 0},
    };
    report_table_begin(w, "incidents", icols, sizeof(icols) / sizeof(icols[0]));
    for (size_t i = 0; i < r->n_incidents; i++) {
        const struct report_incident *in = &r->incidents[i];
        const struct report_window *win = find_window(r, in->hall, in->window);
        report_row_begin(w, in->hall);
        if (w->f == REPORT_CSV || !win || strcmp(win->name, win->id) == 0) {
            report_cell_text(w, in->window);
        } else {
            char both[REPORT_TEXT_MAX + REPORT_ID_MAX + 4];
            snprintf(both, sizeof(both), "%s %s", in->window, win->name);
            report_cell_text(w, both);
        }
        report_cell_time(w, in->start);
        if (in->end > 0)
            report_cell_time(w, in->end);
        else
            report_cell_label(w, "未恢复", "open");
        double end = in->end > 0 ? in->end : r->until;
        report_cell_duration(w, end - in->start, true);
        report_cell_text(w, in->by);
        report_cell_text(w, in->note);
        report_row_end(w);
    }
    report_table_end(w);
}

static void write_environment(struct report_writer *w)
{
    const struct report *r = w->r;
    report_heading(
        w, 2, "三、环境状况", "Environment",
        "整洁、舒适、安全，通风良好 — clean, comfortable, safe and well ventilated (opening "
        "hours)",
        false);
    report_status_note(w, &r->environment);
    if (!report_table_wanted(w, r->environment.src == REPORT_SRC_OK, r->n_env,
                             "开放时间内无环境数据",
                             "No environment readings during opening hours"))
        return;
    static const struct report_col cols[] = {
        {"设备", "Device", "device", false, 0},
        {"指标", "Metric", "metric", false, 0},
        {"限值", "Limit", "limit", false, 't'},
        {"", "", "above", true, 'c'},
        {"", "", "below", true, 'c'},
        {"超标(分)", "Out of range min", "out_of_range_s", true, 0},
        {"有数据(分)", "Measured min", "measured_s", true, 0},
        {"最高", "Max", "max", true, 0},
        {"最低", "Min", "min", true, 0},
        {"规则", "Rule", "rules", false, 0},
    };
    report_table_begin(w, "environment", cols, sizeof(cols) / sizeof(cols[0]));
    for (size_t i = 0; i < r->n_env; i++) {
        const struct report_env *e = &r->env[i];
        char limit[96] = "";
        if (e->has_below && e->has_above)
            snprintf(limit, sizeof(limit), "< %g or > %g", e->below, e->above);
        else if (e->has_above)
            snprintf(limit, sizeof(limit), "> %g", e->above);
        else if (e->has_below)
            snprintf(limit, sizeof(limit), "< %g", e->below);
        report_row_begin(w, e->hall);
        report_cell_text(w, e->device);
        report_cell_text(w, e->metric);
        report_cell_num(w, limit, limit);
        report_cell_value(w, e->above, e->has_above);
        report_cell_value(w, e->below, e->has_below);
        report_cell_minutes(w, e->out_s, true);
        report_cell_minutes(w, e->covered_s, true);
        report_cell_value(w, e->max, e->has_range);
        report_cell_value(w, e->min, e->has_range);
        report_cell_text(w, e->rules);
        report_row_end(w);
    }
    report_table_end(w);
}

static void alert_rows(struct report_writer *w, const char *section, const struct record_alert *v,
                       size_t n);

/* Periods in which a device's status was not ok. */
static void write_faults(struct report_writer *w)
{
    const struct report *r = w->r;
    report_heading(w, 3, "故障时段", "Fault periods (status not ok)", NULL, false);
    report_status_note(w, &r->equipment);
    if (!report_table_wanted(w, r->equipment.src == REPORT_SRC_OK, r->n_faults, "无故障",
                             "No faults"))
        return;
    static const struct report_col cols[] = {
        {"设备", "Device", "device", false, 0}, {"类型", "Type", "type", false, 0},
        {"状态", "Status", "status", false, 0}, {"开始", "Started", "started", true, 0},
        {"结束", "Ended", "ended", true, 0},    {"时长", "Duration", "duration_s", true, 0},
    };
    report_table_begin(w, "faults", cols, sizeof(cols) / sizeof(cols[0]));
    for (size_t i = 0; i < r->n_faults; i++) {
        const struct report_fault *f = &r->faults[i];
        report_row_begin(w, f->hall);
        report_cell_text(w, f->device);
        report_cell_text(w, f->type);
        report_cell_text(w, f->status);
        report_cell_time(w, f->start);
        if (f->ongoing)
            report_cell_label(w, "持续中", "ongoing");
        else
            report_cell_time(w, f->end);
        report_cell_duration(w, f->end - f->start, true);
        report_row_end(w);
    }
    report_table_end(w);
}

static void write_equipment(struct report_writer *w)
{
    const struct report *r = w->r;
    report_heading(w, 2, "四、设施设备", "Equipment",
                   "设施完好，定期检查保养 — facilities in good order, regularly maintained", true);
    write_faults(w);
    report_heading(w, 3, "设备告警", "Equipment alerts", NULL, false);
    history_note(w);
    if (!report_table_wanted(w, r->store.src == REPORT_SRC_OK, r->n_equipment_alerts, "无", "None"))
        return;
    alert_rows(w, "equipment_alerts", r->equipment_alerts, r->n_equipment_alerts);
}

static void write_poweroff(struct report_writer *w)
{
    const struct report *r = w->r;
    report_heading(w, 2, "五、下班断电", "Power-off after hours",
                   "下班后及时切断计算机外接电源 — cut computers' external power after work",
                   false);
    report_status_note(w, &r->poweroff);
    if (!report_table_wanted(w, r->poweroff.src == REPORT_SRC_OK, r->n_poweroffs, "当日无断电记录",
                             "No power-off records for this day"))
        return;
    static const struct report_col cols[] = {
        {"设备", "Device", "device", false, 0}, {"类型", "Kind", "kind", false, 0},
        {"窗口", "Window", "window", false, 0}, {"记录", "Records", "records", true, 0},
        {"失败", "Failed", "failed", true, 0},  {"最后步骤", "Last step", "last_step", false, 0},
        {"时间", "At", "last_at", true, 0},     {"结果", "Result", "result", false, 0},
    };
    report_table_begin(w, "poweroff", cols, sizeof(cols) / sizeof(cols[0]));
    for (size_t i = 0; i < r->n_poweroffs; i++) {
        const struct report_poweroff *p = &r->poweroffs[i];
        report_row_begin(w, p->hall);
        report_cell_text(w, p->device);
        report_cell_text(w, p->kind);
        report_cell_text(w, p->window);
        report_cell_count(w, p->records);
        report_cell_count(w, p->failures);
        report_cell_text(w, p->last_step);
        report_cell_time(w, p->last_at);
        if (p->records == 0)
            report_cell_label(w, "无记录", "none");
        else if (p->last_ok == 1)
            report_cell_label(w, "成功", "ok");
        else if (p->last_ok == 0)
            report_cell_label(w, "失败", "failed");
        else
            report_cell_label(w, "未知", "unknown");
        report_row_end(w);
    }
    report_table_end(w);
}

static void write_av(struct report_writer *w)
{
    const struct report *r = w->r;
    report_heading(w, 2, "六、病毒防范与数据安全", "Antivirus and USB storage",
                   "定期进行病毒检测；禁止泄露、外借专业数据信息 — regular virus checks; no "
                   "leaking or lending data",
                   false);
    report_status_note(w, &r->av);
    if (!report_table_wanted(w, r->av.src == REPORT_SRC_OK, r->n_pcs, "未配置电脑",
                             "No PCs configured"))
        return;
    static const struct report_col cols[] = {
        {"电脑", "PC", "device", false, 0},
        {"窗口", "Window", "window", false, 0},
        {"最近扫描", "Last scan", "last_scan", true, 0},
        {"距今", "Scan age", "scan_age_s", true, 0},
        {"病毒库更新", "Signatures", "sig_updated", true, 0},
        {"距今", "Signature age", "sig_age_s", true, 0},
        {"威胁", "Threats", "threat_events", true, 0},
        {"", "", "av_threats", true, 'c'},
        {"U盘插入", "USB storage", "usb_events", true, 0},
        {"结论", "Verdict", "verdict", false, 0},
    };
    report_table_begin(w, "av", cols, sizeof(cols) / sizeof(cols[0]));
    for (size_t i = 0; i < r->n_pcs; i++) {
        const struct report_pc *pc = &r->pcs[i];
        report_row_begin(w, pc->hall);
        report_cell_text(w, pc->device);
        report_cell_text(w, pc->window);
        report_cell_time(w, pc->last_scan);
        report_cell_age(w, pc->last_scan, r->until, pc->scan_max_age_s);
        report_cell_time(w, pc->sig_updated);
        report_cell_age(w, pc->sig_updated, r->until, pc->sig_max_age_s);
        report_cell_count(w, pc->threat_events);
        report_cell_value(w, pc->av_threats, pc->av_threats >= 0);
        report_cell_count(w, pc->usb_events);
        bool scan_over = pc->scan_max_age_s > 0 && pc->last_scan > 0 &&
                         r->until - pc->last_scan > pc->scan_max_age_s;
        bool sig_over = pc->sig_max_age_s > 0 && pc->sig_updated > 0 &&
                        r->until - pc->sig_updated > pc->sig_max_age_s;
        if (pc->last_scan <= 0 && pc->sig_updated <= 0)
            report_cell_label(w, "无数据", "no data");
        else if (pc->threat_events > 0 || pc->av_threats > 0)
            report_cell_label(w, "发现威胁", "threats");
        else if (scan_over || sig_over)
            report_cell_label(w, scan_over ? "扫描超期" : "病毒库过期",
                              scan_over ? "scan overdue" : "signatures old");
        else if (pc->usb_events > 0)
            report_cell_label(w, "U盘插入", "usb storage");
        else
            report_cell_label(w, "合规", "ok");
        report_row_end(w);
    }
    report_table_end(w);

    if (r->n_events == 0 && w->f != REPORT_CSV)
        return;
    report_heading(w, 3, "事件", "Events", NULL, false);
    static const struct report_col ecols[] = {
        {"时间", "Time", "time", true, 0},
        {"电脑", "PC", "device", false, 0},
        {"类型", "Type", "type", false, 0},
        {"详情", "Detail", "detail", false, 0},
    };
    report_table_begin(w, "events", ecols, sizeof(ecols) / sizeof(ecols[0]));
    for (size_t i = 0; i < r->n_events; i++) {
        const struct report_event *e = &r->events[i];
        report_row_begin(w, e->hall);
        report_cell_time(w, e->at);
        report_cell_text(w, e->device);
        report_cell_label(w,
                          strcmp(e->type, "usb_storage_inserted") == 0 ? "U盘插入"
                          : strcmp(e->type, "threat_detected") == 0    ? "发现威胁"
                                                                       : "",
                          e->type);
        report_cell_text(w, e->detail);
        report_row_end(w);
    }
    report_table_end(w);
}

static void alert_rows(struct report_writer *w, const char *section, const struct record_alert *v,
                       size_t n)
{
    static const struct report_col cols[] = {
        {"时间", "Time", "time", true, 0},
        {"地点", "Place", "place", false, 0},
        {"告警", "Alert", "alert", false, 0},
        {"级别", "Severity", "severity", false, 0},
        {"状态", "Transition", "transition", false, 0},
        {"发现的问题", "Problem", "summary", false, 0},
        {"处理人", "By", "by", false, 0},
        {"处理情况", "Handling", "note", false, 0},
    };
    report_table_begin(w, section, cols, sizeof(cols) / sizeof(cols[0]));
    for (size_t i = 0; i < n; i++) {
        const struct record_alert *h = &v[i];
        char where[REPORT_TEXT_MAX + 2 * REPORT_ID_MAX + 8];
        size_t l = 0;
        where[0] = '\0';
        if (w->f != REPORT_CSV && !w->show_hall)
            l += (size_t)snprintf(where, sizeof(where), "%s", report_hall_name(w->r, h->hall));
        if (h->window[0])
            l += (size_t)snprintf(where + l, sizeof(where) - l, "%s%s", l ? " / " : "", h->window);
        if (h->device[0] && l < sizeof(where) && strcmp(h->device, h->window) != 0)
            snprintf(where + l, sizeof(where) - l, "%s%s", l ? " / " : "", h->device);
        report_row_begin(w, h->hall);
        report_cell_time(w, h->at);
        report_cell_text(w, where);
        report_cell_text(w, h->alert_id);
        report_cell_label(w, severity_zh(h->severity), h->severity);
        report_cell_label(w, transition_zh(h->transition), h->transition);
        report_cell_text(w, h->summary);
        report_cell_text(w, h->by);
        report_cell_text(w, h->note);
        report_row_end(w);
    }
    report_table_end(w);
}

static void write_alerts(struct report_writer *w)
{
    const struct report *r = w->r;
    report_heading(w, 2, "七、巡查告警记录", "Alert record: problems found and handling",
                   "巡查时间、地点、内容、发现的问题及处理情况 — time, place, problem, handling",
                   true);
    history_note(w);
    if (!report_table_wanted(w, r->store.src == REPORT_SRC_OK, r->n_alerts, "当日无告警",
                             "No alerts this day"))
        return;
    alert_rows(w, "alerts", r->alerts, r->n_alerts);
}

static const char *action_zh(const char *a)
{
    static const char *const map[][2] = {
        {"ack", "确认"},
        {"resolve", "处理完毕"},
        {"approve", "核准"},
        {"override-add", "保持开机"},
        {"override-remove", "取消保持开机"},
        {"silence-add", "静默"},
        {"silence-extend", "延长静默"},
        {"silence-expire", "结束静默"},
        {"account-add", "新增账号"},
        {"account-passwd", "修改密码"},
        {"account-role", "变更角色"},
        {"account-disable", "停用账号"},
        {"account-enable", "启用账号"},
        {"token-add", "新增令牌"},
        {"token-revoke", "吊销令牌"},
    };
    for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
        if (strcmp(a, map[i][0]) == 0)
            return map[i][1];
    return "";
}

static void write_people(struct report_writer *w)
{
    const struct report *r = w->r;
    static const struct report_col actions[] = {
        {"时间", "Time", "time", true, 0},      {"操作人", "By", "by", false, 0},
        {"来源", "From", "from", false, 0},     {"操作", "Action", "action", false, 0},
        {"对象", "Target", "target", false, 0}, {"结果", "Result", "result", false, 0},
        {"说明", "Detail", "detail", false, 0},
    };
    static const struct report_col silences[] = {
        {"开始", "Starts", "starts", true, 0},
        {"结束", "Ends", "ends", true, 0},
        {"范围", "Matches", "matches", false, 0},
        {"原因", "Comment", "comment", false, 0},
        {"维修", "Maintenance", "maintenance", false, 0},
        {"设置人", "By", "by", false, 0},
    };
    report_heading(w, 2, "八、人员操作与静默", "Actions by people, and silences",
                   "每项操作记录到具体账号 — every action by a named account", false);
    history_note(w);
    if (w->f != REPORT_CSV && r->store.src == REPORT_SRC_OK) {
        char line[160];
        snprintf(line, sizeof(line), "%zu / %zu", r->sign_ins, r->sign_ins_failed);
        report_note(w, "登录次数 / 失败次数", "Sign-ins / failed", line, r->sign_ins_failed > 0);
    }
    if (report_table_wanted(w, r->store.src == REPORT_SRC_OK, r->n_actions, "当日无人员操作",
                            "No actions by people this day")) {
        report_table_begin(w, "actions", actions, sizeof(actions) / sizeof(actions[0]));
        for (size_t i = 0; i < r->n_actions; i++) {
            const struct record_audit *a = &r->actions[i];
            report_row_begin(w, "");
            report_cell_time(w, a->at);
            report_cell_text(w, a->account);
            report_cell_text(w, a->addr);
            report_cell_label(w, action_zh(a->action), a->action);
            report_cell_text(w, a->target);
            report_cell_label(w, a->ok ? "完成" : "拒绝", a->ok ? "done" : "refused");
            report_cell_text(w, a->detail);
            report_row_end(w);
        }
        report_table_end(w);
    }
    report_heading(w, 3, "静默", "Silences", NULL, false);
    if (!report_table_wanted(w, r->store.src == REPORT_SRC_OK, r->n_silences, "当日无静默",
                             "No silences this day"))
        return;
    report_table_begin(w, "silences", silences, sizeof(silences) / sizeof(silences[0]));
    for (size_t i = 0; i < r->n_silences; i++) {
        const struct record_silence *x = &r->silences[i];
        char m[400];
        silence_describe(x, m, sizeof(m));
        report_row_begin(w, x->hall);
        report_cell_time(w, x->starts);
        report_cell_time(w, x->ends);
        report_cell_text(w, m);
        report_cell_text(w, x->comment);
        report_cell_label(w, x->maintenance ? "是" : "否", x->maintenance ? "yes" : "no");
        report_cell_text(w, x->created_by);
        report_row_end(w);
    }
    report_table_end(w);
}

static void write_signatures(struct report_writer *w)
{
    if (w->f == REPORT_MD) {
        fputs("---\n\n巡查人 <small>Inspector</small>: ____________　　"
              "负责人 <small>Supervisor</small>: ____________　　"
              "日期 <small>Date</small>: ____________\n",
              w->out);
    } else if (w->f == REPORT_HTML) {
        fputs("<div class=\"sign\"><span>巡查人 <span class=\"en\">Inspector</span></span>"
              "<span>负责人 <span class=\"en\">Supervisor</span></span>"
              "<span>日期 <span class=\"en\">Date</span></span></div>\n",
              w->out);
    }
}

int report_render(const struct report *r, enum report_format f, FILE *out)
{
    struct report_writer w = {.r = r, .f = f, .out = out, .show_hall = r->n_halls > 1};
    report_page_begin(&w, "服务窗口巡查记录", r->date, NULL);
    write_header(&w);
    if (f == REPORT_CSV)
        write_csv_status(&w);
    write_staffing(&w);
    report_section_end(&w);
    write_environment(&w);
    report_section_end(&w);
    write_equipment(&w);
    report_section_end(&w);
    write_poweroff(&w);
    report_section_end(&w);
    write_av(&w);
    report_section_end(&w);
    write_alerts(&w);
    report_section_end(&w);
    write_people(&w);
    write_signatures(&w);
    report_section_end(&w);
    return report_page_end(&w);
}
