/* A simulated service hall: the devices of a hall of N windows and the
 * messages they would publish, in the formats real halls buy (native,
 * Zigbee2MQTT, Tasmota, Shelly). Pure: time is a parameter, randomness comes
 * from the seed, messages go to a callback.
 *
 * Per window wNN: a seat sensor (odd windows Zigbee2MQTT "<hall>_seat_wNN",
 * even windows native), a PC (native), a smart plug for its peripherals (odd
 * windows Tasmota "<hall>_plug_wNN", even windows Shelly
 * "shellyplusplugs-<hall>-wNN"). Per hall: a queue system and a people counter
 * (native), an air sensor (Tasmota "<hall>_air_1"), a CO2 sensor (Zigbee2MQTT
 * "<hall>/air_2", a friendly name with a '/') and a printer (native). Foreign
 * names carry the hall id so several simulated halls share one broker. */
#ifndef HALLGW_SIMHALL_H
#define HALLGW_SIMHALL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "clock.h"
#include "config.h"

#define SIM_MAX_WINDOWS 99
#define SIM_MAX_HALLS 9
#define SIM_ID_MAX 64

enum sim_kind { SIM_SEAT, SIM_PEOPLE, SIM_QUEUE, SIM_ENV, SIM_EQUIPMENT, SIM_PLUG, SIM_PC };
enum sim_format { SIM_NATIVE, SIM_ZIGBEE2MQTT, SIM_TASMOTA, SIM_SHELLY };

struct sim_device {
    char id[SIM_ID_MAX + 1];
    char source[SIM_ID_MAX * 2]; /* foreign name, "" for native */
    enum sim_kind kind;
    enum sim_format format;
    int window;          /* 1-based window number, 0 for hall devices */
    double interval_s;   /* simulated seconds between reports */
    double next_due;     /* simulated unix time */
    bool state_bool;     /* seat presence, plug on, PC on */
    bool off;            /* powered off by a command: a PC stops reporting, a plug reads off */
    bool refuses;        /* a PC whose user refuses the power-off */
    double absent_until; /* seat: the staff member is away until this simulated time */
    double scanned_at;   /* PC: real time of the last virus scan it was ordered to run */
};

struct sim_hall {
    char hall[SIM_ID_MAX + 1];
    char prefix[SIM_ID_MAX + 1];
    char id_prefix[SIM_ID_MAX + 1]; /* before each device id: "" or "<hall>-" */
    int windows;
    size_t n;
    struct sim_device *devs;
    uint64_t rng;
    double waiting; /* people waiting */
    double longest_wait_s;
    double served;
    double co2, temperature, humidity;
    const struct config_schedule *sched; /* opening hours, in the process's time zone */
    wall_s wall_now; /* the real time, for the "ts" of reports; set by the caller */
    wall_s started;  /* the real time the simulation started */
    bool incidents;  /* play the scripted incidents (see simhall_init) */
    bool threat_sent;
};

/* A message to publish. */
typedef void (*sim_emit_fn)(void *arg, const char *topic, const char *payload, bool retained);

/* sched: the hall's opening hours (the simulated staff follow them). With
 * incidents, these happen in real time from the start: window w07's staff
 * leave for 15 minutes after 1 minute; pc-w03 reports a threat after 2
 * minutes; the printer runs out of paper from 5 to 12 minutes; pc-w05's last
 * virus scan is 9 days old throughout. */
int simhall_init(struct sim_hall *h, const char *prefix, const char *hall, int windows,
                 uint64_t seed, double start, const struct config_schedule *sched, bool incidents);
void simhall_free(struct sim_hall *h);

/* The halls/devices part of a hallgw config for this hall (libconfig). */
void simhall_print_config(const struct sim_hall *h, const char *hall_name, FILE *f);

/* The same for n halls sharing one gateway, names[i] the name of halls[i]. */
void simhall_print_configs(const struct sim_hall *halls, size_t n, const char *const *names,
                           FILE *f);

/* Puts the hall's id and a '-' before each device id ("h2-seat-w01"), so
 * that several simulated halls fit in one config, where device ids are
 * unique across halls. Call right after simhall_init(). */
void simhall_qualify_ids(struct sim_hall *h);

/* Announces every device as online (retained availability messages). */
void simhall_announce(struct sim_hall *h, sim_emit_fn emit, void *arg);

/* Advances the hall to simulated time t, emitting every report that is due. */
void simhall_step(struct sim_hall *h, double t, sim_emit_fn emit, void *arg);

/* The device with this id, or whose foreign name is name; NULL when none. */
struct sim_device *simhall_find(struct sim_hall *h, const char *id);
struct sim_device *simhall_find_source(struct sim_hall *h, enum sim_format f, const char *name);

/* Powers a plug or PC on or off and reports it as the device would: a plug
 * its new relay state, a PC going down its shutdown event and "offline". */
void simhall_set_power(struct sim_hall *h, struct sim_device *d, bool on, sim_emit_fn emit,
                       void *arg);

/* Emits one report of device i at time t, whatever is due (load mode). */
void simhall_report(struct sim_hall *h, size_t i, double t, sim_emit_fn emit, void *arg);

#endif
