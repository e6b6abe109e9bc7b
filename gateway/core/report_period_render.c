/* The periodic assessment (考核) in Markdown, HTML (A4, inline SVG charts, no
 * scripts) or CSV, written with the daily record's table writer. Pure. */
#include "report_period.h"

#include <errno.h>
#include <math.h>
#include <string.h>
#include <time.h>

#include "report_table.h"

static void date_of(int32_t day, char *buf, size_t size)
{
    time_t t = (time_t)day * 86400;
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(buf, size, "%Y-%m-%d", &tm);
}

static void write_header(struct report_writer *w, const struct period *p)
{
    char first[16], last[16], gen[40], until[40], iso_gen[40], iso_until[40];
    date_of(p->first_day, first, sizeof(first));
    date_of(p->first_day + p->n_days - 1, last, sizeof(last));
    report_iso_time(p->head.generated_at, iso_gen, sizeof(iso_gen));
    report_iso_time(p->until, iso_until, sizeof(iso_until));
    if (w->f == REPORT_CSV) {
        fputs("section,hall,hall_name,period,first_day,last_day,open_days,gateway,timezone,"
              "generated_at,until,complete\r\n",
              w->out);
        for (size_t i = 0; i < p->head.n_halls; i++) {
            fputs("period,", w->out);
            report_csv_text(w->out, p->head.halls[i].id);
            fputc(',', w->out);
            report_csv_text(w->out, p->head.halls[i].name);
            fprintf(w->out, ",%s,%s,%s,%zu,", p->label, first, last, p->open_days);
            report_csv_text(w->out, p->head.gateway_id);
            fputc(',', w->out);
            report_csv_text(w->out, p->head.timezone);
            fprintf(w->out, ",%s,%s,%s\r\n", iso_gen, iso_until, p->current ? "false" : "true");
        }
        fputs("\r\n", w->out);
        return;
    }
    time_t g = (time_t)wall_whole(p->head.generated_at);
    struct tm tm;
    localtime_r(&g, &tm);
    strftime(gen, sizeof(gen), "%Y-%m-%d %H:%M:%S", &tm);
    time_t u = (time_t)wall_whole(p->until);
    localtime_r(&u, &tm);
    strftime(until, sizeof(until), "%Y-%m-%d %H:%M", &tm);
    const char *zh = p->kind == PERIOD_WEEK ? "服务窗口周考核" : "服务窗口月度考核";
    const char *en = p->kind == PERIOD_WEEK ? "Weekly assessment" : "Monthly assessment";
    if (w->f == REPORT_MD)
        fprintf(w->out, "# %s <small>%s</small>\n\n", zh, en);
    else
        fprintf(w->out, "<header>\n<h1>%s <span class=\"en\">%s</span></h1>\n", zh, en);
    report_heading(w, 2, "一、基本信息", "General", NULL, false);
    if (w->f == REPORT_HTML)
        fputs("<table class=\"kv\">\n", w->out);
    char halls[1024] = "", s[160];
    size_t l = 0;
    for (size_t i = 0; i < p->head.n_halls && l < sizeof(halls); i++)
        l += (size_t)snprintf(halls + l, sizeof(halls) - l, "%s%s (%s)", i ? "; " : "",
                              p->head.halls[i].name, p->head.halls[i].id);
    report_kv(w, "大厅", "Hall", halls);
    snprintf(s, sizeof(s), "%s (%s — %s)", p->label, first, last);
    report_kv(w, "考核期", "Period", s);
    snprintf(s, sizeof(s), "%zu", p->open_days);
    report_kv(w, "开放日数", "Open days", s);
    report_kv(w, "网关", "Gateway", p->head.gateway_id);
    report_kv(w, "时区", "Time zone", p->head.timezone);
    report_kv(w, "生成时间", "Generated at", gen);
    if (p->current) {
        snprintf(s, sizeof(s), "%s (考核期未结束 the period is not over)", until);
        report_kv(w, "统计截至", "Reported up to", s);
    }
    fputs(w->f == REPORT_HTML ? "</table>\n" : "\n", w->out);
    report_section_end(w);
    if (w->f == REPORT_HTML)
        fputs("</header>\n", w->out);
}

/* ---- charts (html only) ----------------------------------------------------------------- */

static double share(double part, double whole)
{
    return whole > 0 ? fmin(1.0, part / whole) : 0;
}

/* A bar per window of its staffed share. */
static void svg_bars(struct report_writer *w, const struct period *p)
{
    const double row = 14, label = 150, bar = 420;
    double h = row * (double)p->n_windows + 20;
    fprintf(w->out,
            "<figure class=\"chart\"><svg xmlns=\"http://www.w3.org/2000/svg\" "
            "class=\"bars\" width=\"%.0f\" height=\"%.0f\" viewBox=\"0 0 %.0f %.0f\" "
            "role=\"img\" aria-label=\"staffed share by window\">\n",
            label + bar + 60, h, label + bar + 60, h);
    for (size_t i = 0; i < p->n_windows; i++) {
        const struct period_window *pw = &p->windows[i];
        double y = row * (double)i + 2;
        fprintf(w->out, "<text x=\"%.0f\" y=\"%.1f\" text-anchor=\"end\" font-size=\"9\">",
                label - 4, y + 9);
        report_html_escape(w->out, pw->id);
        fputs(" ", w->out);
        report_html_escape(w->out, pw->name);
        fputs("</text>\n", w->out);
        fprintf(w->out,
                "<rect x=\"%.0f\" y=\"%.1f\" width=\"%.0f\" height=\"%.0f\" fill=\"#eee\"/>\n",
                label, y, bar, row - 4);
        if (!pw->has_seat || pw->open_s <= 0)
            continue;
        double r = share(pw->staffed_s, pw->open_s);
        fprintf(w->out,
                "<rect class=\"staffed\" x=\"%.0f\" y=\"%.1f\" width=\"%.1f\" height=\"%.0f\" "
                "fill=\"%s\"/>\n",
                label, y, bar * r, row - 4,
                r >= 0.9    ? "#2a7"
                : r >= 0.75 ? "#da3"
                            : "#c33");
        fprintf(w->out, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"9\">%.1f%%</text>\n",
                label + bar + 4, y + 9, 100 * r);
    }
    fprintf(w->out,
            "<line x1=\"%.1f\" y1=\"0\" x2=\"%.1f\" y2=\"%.0f\" stroke=\"#333\" "
            "stroke-dasharray=\"2,2\"/>\n",
            label + bar * 0.9, label + bar * 0.9, h - 18);
    fprintf(w->out,
            "<text x=\"%.1f\" y=\"%.0f\" font-size=\"8\" text-anchor=\"middle\">90%%</text>\n",
            label + bar * 0.9, h - 8);
    fputs("</svg><figcaption>在岗率 <span class=\"en\">Staffed share of open time</span>"
          "</figcaption></figure>\n",
          w->out);
}

/* A strip per window: one cell per day, coloured by the day's staffed share
 * (grey: closed; white: no data). */
static void svg_strips(struct report_writer *w, const struct period *p)
{
    const double cell = 14, label = 70;
    double width = label + cell * p->n_days + 4, h = cell * (double)p->n_windows + 16;
    fprintf(w->out,
            "<figure class=\"chart\"><svg xmlns=\"http://www.w3.org/2000/svg\" "
            "class=\"strips\" width=\"%.0f\" height=\"%.0f\" viewBox=\"0 0 %.0f %.0f\" "
            "role=\"img\" aria-label=\"staffed share by day\">\n",
            width, h, width, h);
    for (int32_t d = 0; d < p->n_days; d++) {
        char date[16];
        date_of(p->first_day + d, date, sizeof(date));
        fprintf(w->out,
                "<text x=\"%.1f\" y=\"10\" font-size=\"7\" text-anchor=\"middle\">%s</text>\n",
                label + cell * d + cell / 2, date + 8);
    }
    for (size_t i = 0; i < p->n_windows; i++) {
        const struct period_window *pw = &p->windows[i];
        double y = 14 + cell * (double)i;
        fprintf(w->out, "<text x=\"%.0f\" y=\"%.1f\" text-anchor=\"end\" font-size=\"9\">",
                label - 4, y + 10);
        report_html_escape(w->out, pw->id);
        fputs("</text>\n", w->out);
        for (int32_t d = 0; d < p->n_days && d < PERIOD_DAYS_MAX; d++) {
            const char *fill = "#fff";
            char title[64] = "";
            if ((size_t)d < p->days_done && !p->day_open[d]) {
                fill = "#bbb";
                snprintf(title, sizeof(title), "closed");
            } else if (pw->day_known[d] && pw->day_open_s[d] > 0) {
                double r = share(pw->day_staffed_s[d], pw->day_open_s[d]);
                fill = r >= 0.9 ? "#2a7" : r >= 0.75 ? "#da3" : "#c33";
                snprintf(title, sizeof(title), "%.1f%%", 100 * r);
            }
            fprintf(w->out,
                    "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.0f\" height=\"%.0f\" fill=\"%s\" "
                    "stroke=\"#999\" stroke-width=\"0.5\"><title>%s</title></rect>\n",
                    label + cell * d, y, cell - 1, cell - 1, fill, title[0] ? title : "-");
        }
    }
    fputs("</svg><figcaption>每日在岗率 <span class=\"en\">Staffed share by day: green ≥ 90%, "
          "amber ≥ 75%, red below; grey closed</span></figcaption></figure>\n",
          w->out);
}

/* ---- sections ---------------------------------------------------------------------------- */

static void write_staffing(struct report_writer *w, const struct period *p)
{
    report_heading(w, 2, "二、窗口在岗", "Window staffing",
                   "工作纪律：不得擅离岗位 — staffed share of open time, unstaffed time", false);
    report_status_note(w, &p->staffing);
    static const struct report_col cols[] = {
        {"窗口", "Window", "window", false, 0},
        {"名称", "Name", "name", false, 0},
        {"应在岗(分)", "Scheduled min", "scheduled_s", true, 0},
        {"开放(分)", "Open min", "open_s", true, 0},
        {"在岗(分)", "Staffed min", "staffed_s", true, 0},
        {"在岗率", "Staffed share", "staffed_share", true, 0},
        {"离岗(分)", "Unstaffed min", "unstaffed_s", true, 0},
        {"离岗次数", "Unstaffed incidents", "unstaffed_incidents", true, 0},
    };
    if (!report_table_wanted(w, true, p->n_windows, "未配置窗口", "No service windows configured"))
        return;
    bool known = p->staffing.src == REPORT_SRC_OK;
    report_table_begin(w, "staffing", cols, sizeof(cols) / sizeof(cols[0]));
    for (size_t i = 0; i < p->n_windows; i++) {
        const struct period_window *pw = &p->windows[i];
        bool m = known && pw->has_seat;
        report_row_begin(w, pw->hall);
        report_cell_text(w, pw->id);
        report_cell_text(w, pw->name);
        report_cell_minutes(w, pw->scheduled_s, true);
        report_cell_minutes(w, pw->open_s, m);
        report_cell_minutes(w, pw->staffed_s, m);
        report_cell_ratio(w, pw->staffed_s, pw->open_s, m);
        report_cell_minutes(w, pw->open_s - pw->staffed_s, m);
        report_cell_count_known(w, pw->incidents, p->store.src == REPORT_SRC_OK);
        report_row_end(w);
    }
    report_table_end(w);
    if (w->f == REPORT_HTML) {
        svg_bars(w, p);
        svg_strips(w, p);
    }
    if (w->f != REPORT_CSV)
        report_note(w, "在岗率 = 在岗 ÷ 开放；离岗 = 开放 − 在岗",
                    "staffed share = staffed / open; unstaffed = open - staffed", NULL, false);
}

static void wait_row(struct report_writer *w, const char *hall, const char *window,
                     struct period_wait *pw)
{
    char mean[32] = "", p90s[32] = "", max[32] = "";
    double q = 0;
    bool has = pw->covered_s > 0 && period_wait_quantile(pw, 0.9, &q);
    if (has) {
        snprintf(mean, sizeof(mean), "%.1f", pw->sum / pw->covered_s);
        snprintf(p90s, sizeof(p90s), "%g", q);
        snprintf(max, sizeof(max), "%g", pw->max);
    }
    report_row_begin(w, hall);
    report_cell_text(w, window);
    report_cell_minutes(w, pw->covered_s, true);
    report_cell_num(w, has ? mean : "-", mean);
    report_cell_num(w, has ? p90s : "-", p90s);
    report_cell_num(w, has ? max : "-", max);
    report_row_end(w);
}

static void write_waiting(struct report_writer *w, struct period *p)
{
    report_heading(w, 2, "三、等候时间", "Waiting time",
                   "工作效率 — the queue system's longest current wait (longest_wait_s) "
                   "over open hours",
                   false);
    report_status_note(w, &p->waiting);
    size_t n = 0;
    for (size_t i = 0; i < p->n_halls; i++)
        n += p->halls[i].has_queue;
    for (size_t i = 0; i < p->n_windows; i++)
        n += p->windows[i].queue[0] != '\0';
    if (!report_table_wanted(w, p->waiting.src == REPORT_SRC_OK, n, "无排队系统",
                             "No queue system"))
        return;
    static const struct report_col cols[] = {
        {"窗口", "Window", "window", false, 0},
        {"有数据(分)", "Measured min", "measured_s", true, 0},
        {"平均(秒)", "Mean s", "mean_s", true, 0},
        {"P90(秒)", "P90 s", "p90_s", true, 0},
        {"最长(秒)", "Max s", "max_s", true, 0},
    };
    report_table_begin(w, "waiting", cols, sizeof(cols) / sizeof(cols[0]));
    for (size_t i = 0; i < p->n_halls; i++) {
        if (p->halls[i].has_queue)
            wait_row(w, p->halls[i].id, w->f == REPORT_CSV ? "" : "全厅 hall", &p->halls[i].wait);
    }
    for (size_t i = 0; i < p->n_windows; i++) {
        if (p->windows[i].queue[0])
            wait_row(w, p->windows[i].hall, p->windows[i].id, &p->windows[i].wait);
    }
    report_table_end(w);
}

static void write_environment(struct report_writer *w, const struct period *p)
{
    report_heading(w, 2, "四、环境达标", "Environment compliance",
                   "整洁、舒适、安全，通风良好 — share of open time within the rules' limits",
                   false);
    report_status_note(w, &p->environment);
    if (!report_table_wanted(w, p->environment.src == REPORT_SRC_OK, p->n_env, "无环境规则数据",
                             "No environment readings under a rule"))
        return;
    static const struct report_col cols[] = {
        {"指标", "Metric", "metric", false, 0},
        {"上限", "Above", "above", true, 0},
        {"下限", "Below", "below", true, 0},
        {"有数据(分)", "Measured min", "measured_s", true, 0},
        {"超标(分)", "Out of range min", "out_of_range_s", true, 0},
        {"达标率", "Compliance", "compliance", true, 0},
        {"最高", "Max", "max", true, 0},
        {"最低", "Min", "min", true, 0},
    };
    report_table_begin(w, "environment", cols, sizeof(cols) / sizeof(cols[0]));
    for (size_t i = 0; i < p->n_env; i++) {
        const struct period_env *e = &p->env[i];
        report_row_begin(w, e->hall);
        report_cell_text(w, e->metric);
        report_cell_value(w, e->above, e->has_above);
        report_cell_value(w, e->below, e->has_below);
        report_cell_minutes(w, e->covered_s, true);
        report_cell_minutes(w, e->out_s, true);
        report_cell_ratio(w, e->covered_s - e->out_s, e->covered_s, true);
        report_cell_value(w, e->max, e->has_range);
        report_cell_value(w, e->min, e->has_range);
        report_row_end(w);
    }
    report_table_end(w);
}

static void write_pc(struct report_writer *w, const struct period *p)
{
    report_heading(w, 2, "五、计算机合规", "PC compliance",
                   "定期进行病毒检测；网络变更须经审批 — at the end of each day", true);
    report_status_note(w, &p->av);
    size_t n = 0;
    for (size_t i = 0; i < p->n_windows; i++)
        n += p->windows[i].pc[0] != '\0';
    if (!report_table_wanted(w, p->av.src == REPORT_SRC_OK, n, "无计算机", "No PCs"))
        return;
    static const struct report_col cols[] = {
        {"窗口", "Window", "window", false, 0},
        {"计算机", "PC", "pc", false, 0},
        {"天数", "Days", "days", true, 0},
        {"合规天数", "Days compliant", "days_compliant", true, 0},
        {"合规率", "Compliance", "compliance", true, 0},
        {"扫描超期天数", "Scan overdue days", "scan_overdue_days", true, 0},
        {"病毒库过期天数", "Signatures old days", "signatures_old_days", true, 0},
        {"威胁", "Threats", "threat_events", true, 0},
        {"U盘", "USB storage", "usb_events", true, 0},
        {"网络变更已批", "Net changes approved", "net_changes_approved", true, 0},
        {"网络变更未批", "Net changes unapproved", "net_changes_unapproved", true, 0},
    };
    report_table_begin(w, "pc", cols, sizeof(cols) / sizeof(cols[0]));
    for (size_t i = 0; i < p->n_windows; i++) {
        const struct period_window *pw = &p->windows[i];
        if (!pw->pc[0])
            continue;
        report_row_begin(w, pw->hall);
        report_cell_text(w, pw->id);
        report_cell_text(w, pw->pc);
        report_cell_count(w, pw->pc_days);
        report_cell_count(w, pw->pc_days_ok);
        report_cell_ratio(w, (double)pw->pc_days_ok, (double)pw->pc_days, true);
        report_cell_count(w, pw->scan_overdue_days);
        report_cell_count(w, pw->sig_old_days);
        report_cell_count(w, pw->threat_events);
        report_cell_count(w, pw->usb_events);
        report_cell_count(w, pw->net_approved);
        report_cell_count(w, pw->net_changes - pw->net_approved);
        report_row_end(w);
    }
    report_table_end(w);
}

static void write_poweroff(struct report_writer *w, const struct period *p)
{
    report_heading(w, 2, "六、下班断电", "Nightly power-off",
                   "下班后及时切断计算机外接电源 — nights without a failed step / nights", false);
    report_status_note(w, &p->poweroff);
    if (!report_table_wanted(w, p->poweroff.src == REPORT_SRC_OK, p->n_windows, "无", "None"))
        return;
    static const struct report_col cols[] = {
        {"窗口", "Window", "window", false, 0},
        {"断电夜数", "Nights", "nights", true, 0},
        {"成功", "Succeeded", "succeeded", true, 0},
        {"成功率", "Success", "success", true, 0},
    };
    report_table_begin(w, "poweroff", cols, sizeof(cols) / sizeof(cols[0]));
    for (size_t i = 0; i < p->n_windows; i++) {
        const struct period_window *pw = &p->windows[i];
        report_row_begin(w, pw->hall);
        report_cell_text(w, pw->id);
        report_cell_count(w, pw->nights);
        report_cell_count(w, pw->nights_ok);
        report_cell_ratio(w, (double)pw->nights_ok, (double)pw->nights, true);
        report_row_end(w);
    }
    report_table_end(w);
}

static void write_alerts(struct report_writer *w, const struct period *p)
{
    report_heading(w, 2, "七、告警处置", "Alerts and response",
                   "alerts that fired in the period, by severity; mean time to acknowledge "
                   "and to resolve",
                   false);
    report_status_note(w, &p->store);
    if (!report_table_wanted(w, p->store.src == REPORT_SRC_OK, p->n_alerts, "无告警", "No alerts"))
        return;
    static const struct report_col cols[] = {
        {"级别", "Severity", "severity", false, 0},
        {"告警数", "Fired", "fired", true, 0},
        {"已确认", "Acknowledged", "acknowledged", true, 0},
        {"平均确认用时", "Mean time to ack", "mean_ack_s", true, 0},
        {"已恢复", "Resolved", "resolved", true, 0},
        {"平均恢复用时", "Mean time to resolve", "mean_resolve_s", true, 0},
    };
    report_table_begin(w, "alerts", cols, sizeof(cols) / sizeof(cols[0]));
    for (size_t i = 0; i < p->n_alerts; i++) {
        const struct period_alerts *a = &p->alerts[i];
        report_row_begin(w, a->hall);
        report_cell_text(w, a->severity);
        report_cell_count(w, a->fired);
        report_cell_count(w, a->acked);
        report_cell_duration(w, a->acked ? a->ack_sum_s / (double)a->acked : 0, a->acked > 0);
        report_cell_count(w, a->resolved);
        report_cell_duration(w, a->resolved ? a->resolve_sum_s / (double)a->resolved : 0,
                             a->resolved > 0);
        report_row_end(w);
    }
    report_table_end(w);
}

/* csv: the day-by-day figures behind the strips. */
static void write_days(struct report_writer *w, const struct period *p)
{
    if (w->f != REPORT_CSV)
        return;
    static const struct report_col cols[] = {
        {"", "", "window", false, 0},   {"", "", "date", false, 0},
        {"", "", "open_day", false, 0}, {"", "", "open_s", true, 0},
        {"", "", "staffed_s", true, 0}, {"", "", "staffed_share", true, 0},
    };
    report_table_begin(w, "days", cols, sizeof(cols) / sizeof(cols[0]));
    for (size_t i = 0; i < p->n_windows; i++) {
        const struct period_window *pw = &p->windows[i];
        for (size_t d = 0; d < p->days_done && d < PERIOD_DAYS_MAX; d++) {
            char date[16];
            date_of(p->first_day + (int32_t)d, date, sizeof(date));
            report_row_begin(w, pw->hall);
            report_cell_text(w, pw->id);
            report_cell_num(w, date, date);
            report_cell_num(w, "", p->day_open[d] ? "true" : "false");
            bool m = pw->day_known[d];
            report_cell_minutes(w, pw->day_open_s[d], m);
            report_cell_minutes(w, pw->day_staffed_s[d], m);
            report_cell_ratio(w, pw->day_staffed_s[d], pw->day_open_s[d], m);
            report_row_end(w);
        }
    }
    report_table_end(w);
}

static void write_signatures(struct report_writer *w)
{
    if (w->f == REPORT_MD)
        fputs("\n考核人 <small>Assessor</small>: ____________　　"
              "负责人 <small>Supervisor</small>: ____________　　"
              "日期 <small>Date</small>: ____________\n",
              w->out);
    else if (w->f == REPORT_HTML)
        fputs("<div class=\"sign\"><span>考核人 <span class=\"en\">Assessor</span></span>"
              "<span>负责人 <span class=\"en\">Supervisor</span></span>"
              "<span>日期 <span class=\"en\">Date</span></span></div>\n",
              w->out);
}

int report_period_render(struct period *p, enum report_format f, FILE *out)
{
    struct report_writer w = {.r = &p->head, .f = f, .out = out, .show_hall = p->head.n_halls > 1};
    report_page_begin(&w, "服务窗口考核", p->label,
                      "<style>\nfigure.chart { margin: 1mm 0 3mm; break-inside: avoid; "
                      "page-break-inside: avoid; }\nfigure.chart svg { max-width: 100%; height: "
                      "auto; }\nfigcaption { font-size: 9pt; color: #444; }\n</style>\n");
    write_header(&w, p);
    write_staffing(&w, p);
    report_section_end(&w);
    write_waiting(&w, p);
    report_section_end(&w);
    write_environment(&w, p);
    report_section_end(&w);
    write_pc(&w, p);
    report_section_end(&w);
    write_poweroff(&w, p);
    report_section_end(&w);
    write_alerts(&w, p);
    write_days(&w, p);
    write_signatures(&w);
    report_section_end(&w);
    return report_page_end(&w);
}
