/* Rule evaluation (pure): given a rule, what the hall model knows and the
 * time, is the rule's condition true now, after how long may it fire, and
 * what should a person read about it.
 *
 * Device rules (threshold, stale, wait_time, max_age, baseline, maintenance,
 * equipment_status) are evaluated per device in the rule's scope; unstaffed
 * per window; event rules when an event of their type arrives. The alert
 * lifecycle (pending, `for`, firing, resolving) is alert.c's. */
#ifndef HALLGW_RULES_H
#define HALLGW_RULES_H

#include <stdbool.h>
#include <time.h>

#include "alert.h"
#include "clock.h"
#include "config.h"
#include "hallmodel.h"
#include "reading.h"

/* A verdict is unknown when the rule can not be judged for lack of data:
 * the value it needs was never received (since the start), or is known only
 * from a retained message. An unknown verdict changes nothing: an active
 * alert stays active, a pending one pending, and nothing new is raised.
 * Rules about absence of data (stale) are unknown only while the device's
 * Zigbee2MQTT bridge is offline (one bridge alert says it). */
struct rule_verdict {
    bool unknown; /* when true, condition is false and means nothing */
    bool condition;
    int64_t for_ms; /* how long the condition must hold before firing */
    bool has_value;
    double value;
    char summary[ALERT_TEXT_MAX]; /* formatted only when condition is true */
};

/* True when the rule's kinds, hall glob and device glob cover the device. */
bool rules_scope_matches(const struct config_rule *r, const struct hm_device *d);

/* True when the rule is in force at t: always, while the hall is open, or
 * while it is closed. */
bool rules_when_matches(const struct config_rule *r, const struct config_schedule *s, wall_s t);

/* True for the types evaluated per device. */
bool rules_is_device_rule(enum rule_type t);

/* Inputs of a device rule besides the device itself. */
struct rules_device_input {
    const struct config_device *cd; /* the device's config, or NULL (unknown device) */
    bool was_active;                /* the rule's alert for this device is active (hysteresis) */
    const char *baseline;           /* approved value for baseline rules, or NULL */
    wall_s wall;
    mono_ms now;
    mono_ms started;     /* when the gateway started: silence is counted from here at most */
    bool bridge_offline; /* stale: the device's Zigbee2MQTT bridge is offline (unknown) */
};

/* Evaluates a device rule (rules_is_device_rule) on d, whose scope the
 * caller has checked. A rule not in force (`when`) has a false condition;
 * one whose value is missing or retained only is unknown. */
void rules_eval_device(const struct config_rule *r, const struct config_schedule *s,
                       const struct hm_device *d, const struct rules_device_input *in,
                       struct rule_verdict *out);

/* Evaluates an unstaffed rule on a window: expected staffed (schedule and
 * lunch duty), the seat's presence (-1 unknown, 0 empty, 1 staffed) and the
 * people waiting for it (-1 unknown). The delay is for_when_waiting while
 * people wait (when the rule has one), else for. An expected staffed window
 * whose presence is unknown gives an unknown verdict. */
void rules_eval_unstaffed(const struct config_rule *r, bool expected_staffed, int presence,
                          double waiting, const char *window_name, struct rule_verdict *out);

/* True when reading rd (an event) triggers event rule r; fills the summary. */
bool rules_event_matches(const struct config_rule *r, const struct reading *rd,
                         struct rule_verdict *out);

#endif
