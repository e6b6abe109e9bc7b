#include "report_delivery.h"

#include <errno.h>

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "schedule.h"
#include "utf8.h"

wall_s report_delivery_at(const struct config_report_daily *d, const struct config_schedule *s,
                          int32_t day)
{
    wall_s start, end, at;
    report_day_bounds(day, &start, &end);
    if (!d->after_close) {
        at = schedule_at(start, d->at_s);
    } else {
        /* The working day of the date, by an instant safely inside it. */
        if (!schedule_is_workday(s, start + (end - start) / 2))
            return 0;
        at = schedule_at(start, s->close_s) + (wall_s)(d->after_ms / 1000);
    }
    if (at < start)
        at = start;
    return at < end ? at : end - 1;
}

void report_delivery_halls(const struct config *cfg, char *out, size_t size)
{
    size_t len = 0;
    out[0] = '\0';
    for (size_t i = 0; i < cfg->n_halls; i++) {
        const char *id = cfg->halls[i].id;
        size_t need = strlen(id) + (i ? 1 : 0);
        if (len + need + 4 > size) {
            if (len + 4 <= size)
                snprintf(out + len, size - len, "...");
            return;
        }
        len += (size_t)snprintf(out + len, size - len, "%s%s", i ? "," : "", id);
    }
}

void report_delivery_link(const char *public_url, const char *date, char *out, size_t size)
{
    if (!public_url || !*public_url) {
        out[0] = '\0';
        return;
    }
    size_t n = strlen(public_url);
    while (n > 0 && public_url[n - 1] == '/')
        n--;
    snprintf(out, size, "%.*s/api/v1/reports/daily?date=%s&format=html", (int)n, public_url, date);
}

/* Text from the config or a device on one line: control characters become
 * spaces, Markdown's link and emphasis characters are left out. */
static void put_plain(struct buf *b, const char *s)
{
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c < 0x20 || c == 0x7f)
            buf_putc(b, ' ');
        else if (!strchr("*_[]`<>", c))
            buf_putc(b, (char)c);
    }
}

static void put_halls(struct buf *b, const struct report *r)
{
    for (size_t i = 0; i < r->n_halls; i++) {
        if (i)
            buf_puts(b, ", ");
        put_plain(b, r->halls[i].name[0] ? r->halls[i].name : r->halls[i].id);
    }
}

void report_delivery_subject(const struct report *r, struct buf *b)
{
    buf_puts(b, "巡查记录 Daily inspection record: ");
    put_halls(b, r);
    buf_printf(b, " %s", r->date);
}

static void put_windows(struct buf *b, const struct report *r)
{
    size_t incidents = 0, windows_with = 0, measured = 0;
    double open = 0, staffed = 0;
    for (size_t i = 0; i < r->n_windows; i++) {
        const struct report_window *w = &r->windows[i];
        incidents += w->incidents;
        windows_with += w->incidents > 0;
        if (w->has_seat && w->open_s > 0) {
            open += w->open_s;
            staffed += w->staffed_s;
            measured++;
        }
    }
    buf_printf(b, "- 窗口在岗 Windows: %zu", r->n_windows);
    if (r->store.src != REPORT_SRC_OK)
        buf_puts(b, ", 离岗记录无法读取 the unstaffed incidents could not be read");
    else if (incidents == 0)
        buf_puts(b, ", 无离岗 none left unstaffed");
    else
        buf_printf(b, ", 离岗 %zu 次 unstaffed %zu times at %zu windows:", incidents, incidents,
                   windows_with);
    for (size_t i = 0, shown = 0; r->store.src == REPORT_SRC_OK && i < r->n_windows; i++) {
        const struct report_window *w = &r->windows[i];
        if (!w->incidents)
            continue;
        if (shown++ == 8) {
            buf_puts(b, " ...");
            break;
        }
        buf_puts(b, " ");
        put_plain(b, w->name[0] ? w->name : w->id);
        buf_printf(b, " (%zu)", w->incidents);
    }
    if (r->staffing.src == REPORT_SRC_OK && measured > 0) {
        char ratio[16];
        report_format_ratio(staffed, open, ratio, sizeof(ratio));
        buf_printf(b, "; 在岗率 staffed %s", ratio);
    }
    buf_puts(b, "\n");
}

/* The day's alerts: how many fired, and how many of those are not resolved
 * at the end of the record. */
static void put_alerts(struct buf *b, const struct report *r)
{
    size_t fired = 0, open = 0;
    if (r->store.src != REPORT_SRC_OK) {
        buf_puts(b, "- 告警 Alerts: 告警记录无法读取 the alert history could not be read\n");
        return;
    }
    for (size_t i = 0; i < r->n_alerts; i++) {
        const struct record_alert *a = &r->alerts[i];
        if (strcmp(a->transition, "firing") != 0)
            continue;
        fired++;
        bool resolved = false;
        for (size_t j = i + 1; j < r->n_alerts && !resolved; j++)
            resolved = strcmp(r->alerts[j].alert_id, a->alert_id) == 0 &&
                       strcmp(r->alerts[j].transition, "resolved") == 0;
        open += !resolved;
    }
    buf_printf(b, "- 告警 Alerts: %zu 条 fired, %zu 条未恢复 still open\n", fired, open);
}

static void put_poweroff(struct buf *b, const struct report *r)
{
    buf_puts(b, "- 下班断电 Power-off: ");
    if (r->poweroff.src != REPORT_SRC_OK) {
        buf_puts(b, "数据无法读取 the data could not be read\n");
        return;
    }
    size_t devices = 0, failed = 0;
    for (size_t i = 0; i < r->n_poweroffs; i++) {
        const struct report_poweroff *p = &r->poweroffs[i];
        if (!p->records)
            continue;
        devices++;
        failed += p->last_ok == 0;
    }
    if (devices == 0) {
        buf_puts(b, "当日无断电记录 no power-off records for this day\n");
        return;
    }
    if (failed == 0) {
        buf_printf(b, "%zu 台均已断电 %zu devices, all off\n", devices, devices);
        return;
    }
    buf_printf(b, "%zu 台中 %zu 台失败 %zu of %zu devices failed:", devices, failed, failed,
               devices);
    for (size_t i = 0, shown = 0; i < r->n_poweroffs; i++) {
        const struct report_poweroff *p = &r->poweroffs[i];
        if (!p->records || p->last_ok != 0)
            continue;
        if (shown++ == 8) {
            buf_puts(b, " ...");
            break;
        }
        buf_puts(b, " ");
        put_plain(b, p->device);
    }
    buf_puts(b, "\n");
}

void report_delivery_summary(const struct report *r, const char *link, struct buf *b)
{
    buf_puts(b, "**巡查记录 Daily inspection record**\n");
    buf_puts(b, "> ");
    put_halls(b, r);
    buf_printf(b, " %s%s\n\n", r->date, r->opening_hours[0] ? "" : " 闭厅 closed");
    put_windows(b, r);
    put_alerts(b, r);
    put_poweroff(b, r);
    if (link && *link)
        buf_printf(b, "\n[查看巡查记录 Open the record](%s)\n", link);
}

void report_delivery_summary_fit(const struct report *r, const char *link, size_t max,
                                 struct buf *b)
{
    static const char cut_mark[] = "\n……\n";
    struct buf text, tail;
    buf_init(&text, 0);
    buf_init(&tail, 0);
    report_delivery_summary(r, "", &text);
    if (link && *link)
        buf_printf(&tail, "\n[查看巡查记录 Open the record](%s)\n", link);
    if (text.err || tail.err) {
        b->err = b->err ? b->err : -ENOMEM;
    } else if (text.len + tail.len <= max) {
        buf_put(b, text.data, text.len);
        buf_put(b, tail.data, tail.len);
    } else {
        size_t keep = tail.len + strlen(cut_mark);
        size_t room = max > keep ? max - keep : 0;
        buf_put(b, text.data, utf8_cut(text.data, text.len, room));
        buf_puts(b, cut_mark);
        buf_put(b, tail.data, tail.len);
    }
    buf_free(&text);
    buf_free(&tail);
}
