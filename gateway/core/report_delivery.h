/* The daily record sent by itself (pure): when a day's record is due under
 * reports.daily, and the texts that go with it — the e-mail subject, the
 * short Markdown summary for chat robots and WeCom, the link to the record
 * on the page. The process's zone must be the gateway's (as for report.h). */
#ifndef HALLGW_REPORT_DELIVERY_H
#define HALLGW_REPORT_DELIVERY_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "clock.h"
#include "config.h"
#include "report.h"

/* The instant at which the record of local day `day` is due, or 0 when no
 * record is sent that day:
 * - at = "HH:MM": that time of day, every day, the hall open or not (on a
 *   daylight-saving gap, the first instant after it);
 * - at = "after close + D": the day's close plus D on a working day of the
 *   schedule; no record on a day the hall is closed (a weekend, a holiday).
 * Never later than the last second of the day: the record is that day's. */
wall_s report_delivery_at(const struct config_report_daily *d, const struct config_schedule *s,
                          int32_t day);

/* The halls of cfg as the key of a delivery: their ids, "," between (at
 * most size - 1 bytes; a longer list is cut and ends with "..."). */
void report_delivery_halls(const struct config *cfg, char *out, size_t size);

/* The link to the day's record on the page: <public_url>/api/v1/reports/
 * daily?date=<date>&format=html, or "" when public_url is NULL. */
void report_delivery_link(const char *public_url, const char *date, char *out, size_t size);

/* "巡查记录 Daily inspection record: <hall names> <date>" (one line). */
void report_delivery_subject(const struct report *r, struct buf *b);

/* The summary for chat robots, in Markdown: the halls and date, the windows
 * left unstaffed (incidents and the staffed ratio), the alerts of the day
 * and those still open, the night's power-off result, and the link (when
 * link is not ""). Sections whose data could not be read say so. */
void report_delivery_summary(const struct report *r, const char *link, struct buf *b);

/* The summary in at most max bytes (with a link of less than max): when it
 * does not fit, its text is cut at a character and marked "……", and the link
 * is kept at its end. */
void report_delivery_summary_fit(const struct report *r, const char *link, size_t max,
                                 struct buf *b);

#endif
