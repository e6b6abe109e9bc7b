/* Payload decoders (pure): from a routed message to a native reading.
 *
 * Foreign formats are mapped to native metric names (Zigbee2MQTT occupancy ->
 * presence, state -> on, power -> power_w; Tasmota CarbonDioxide -> co2,
 * ENERGY.Power -> power_w; Shelly switch:0.output -> on, apower -> power_w).
 * Numeric (and boolean) keys a format does not name are passed through under
 * their flattened name; keys it names are never passed through twice.
 *
 * Native: telemetry, event and reply payloads are JSON objects; nested
 *   objects flatten to outer_inner; a top-level "ts" number is reading.ts,
 *   never a metric. Events need a "type" string that is a valid metric key
 *   (reading.event; not a metric). Replies need "id" (string or number) and
 *   "result" in accepted/refused/done/failed, else DECODE_BAD_VALUE. Status
 *   is the plain text "online" or "offline".
 * Foreign formats (decode_foreign.h has the rules they share): a named
 * numeric key also takes a number written as a string ("100.00"), null is no
 * reading, and an array of readings gives <name>_0, <name>_1 ...
 * Zigbee2MQTT: occupancy, presence -> presence; state "ON"/"OFF" -> on
 *   (state_<x> -> on_<x>); power -> power_w; energy -> energy_kwh;
 *   illuminance_lux -> illuminance, and when both are sent the plain
 *   illuminance (raw) -> illuminance_raw; temperature, humidity, co2, pm25,
 *   battery, linkquality as they are; last_seen is never a metric.
 *   Availability: "online"/"offline" or {"state":"online"}.
 * Tasmota: SENSOR leaves of any sensor object: CarbonDioxide -> co2,
 *   Temperature -> temperature (converted from TempUnit "F"), Humidity ->
 *   humidity, Pressure -> pressure, Illuminance -> illuminance, PM2.5 ->
 *   pm25, TVOC -> tvoc; ENERGY.Power -> power_w, ENERGY.Total -> energy_kwh,
 *   Voltage -> voltage, Current -> current; Switch<n> "ON"/"OFF" ->
 *   switch_<n>. The first sensor of a kind wins; later ones and the chip's
 *   own ESP32/ESP8266 temperature pass through (BME280_Temperature).
 *   STATUS8 and STATUS10 (the replies to Status 8 and 10): the same inside
 *   "StatusSNS". STATE: POWER / POWER<n> -> on / on_<n> (POWER1 -> on) and
 *   the health numbers UptimeSec -> uptime_s, LoadAvg -> load_avg,
 *   Wifi.RSSI -> wifi_rssi, Wifi.Signal -> wifi_signal_dbm; the rest is
 *   housekeeping, so STATE with none of them is DECODE_EMPTY. STATUS11: the
 *   same inside "StatusSTS". RESULT: only the relays. stat POWER[<n>]:
 *   plain ON/OFF. LWT: Online/Offline.
 * Shelly: NotifyStatus and NotifyFullStatus params.<type>:<n> and the
 *   status/<type>:<n> object, for switch (output -> on, apower -> power_w,
 *   aenergy.total Wh -> energy_kwh kWh), em1 (act_power -> power_w, voltage,
 *   current), em (total_act_power -> power_w, a/b/c_act_power ->
 *   power_w_a/_b/_c), temperature (tC -> temperature), humidity (rh ->
 *   humidity) and devicepower (battery.percent -> battery); for n > 0 the
 *   names get "_<n>" (on_1). Other numbers of these components pass through
 *   as "<type>:<n>_<path>"; other components are ignored (status/<other>:
 *   DECODE_BAD_VALUE); params.ts -> reading.ts. NotifyEvent and other
 *   methods: DECODE_EMPTY; no "method": DECODE_BAD_VALUE. online: true/false.
 * Shelly Gen1 (one plain value per topic): relay/<n> on/off -> on, and
 *   "overpower" -> on false and overpower true; relay/<n>/power (W) ->
 *   power_w; relay/<n>/energy (Wmin) -> energy_kwh; emeter/<n>/power ->
 *   power_w, reactive_power -> reactive_power_var, voltage, current, pf ->
 *   power_factor, energy and returned_energy (Wmin) -> energy_kwh and
 *   returned_energy_kwh, total and total_returned (Wh) -> total_kwh and
 *   total_returned_kwh; for n > 0 the names get "_<n>". sensor/temperature,
 *   humidity, battery, tilt as they are, lux -> illuminance, state
 *   open/close -> open, flood true/false -> flood, vibration 0/1 ->
 *   vibration; temperature (the device's own) -> device_temperature;
 *   ext_temperature/<n> and ext_temperatures {"<n>":{"tC":..}} ->
 *   ext_temperature_<n>. online: true/false; announce (JSON): online. */
#ifndef HALLGW_DECODE_H
#define HALLGW_DECODE_H

#include <stdbool.h>
#include <stddef.h>

#include "json.h"
#include "reading.h"
#include "topic.h"

enum decode_result {
    DECODE_OK = 0,
    DECODE_EMPTY,      /* decoded fine but carries no metric (Shelly NotifyEvent) */
    DECODE_BAD_JSON,   /* see json_reject via *why */
    DECODE_BAD_STATUS, /* an availability payload that is neither online nor offline */
    DECODE_BAD_EVENT,  /* event without a valid "type" */
    DECODE_BAD_VALUE,  /* a payload that is JSON but not what the topic carries */
};

/* Decodes payload for route r into out (which is reset first, to r->cls).
 * On DECODE_BAD_JSON *why says which check refused it (it is JSON_OK for
 * every other result; why may be NULL). lim may be NULL for the JSON defaults. The reading's
 * content is unspecified unless the result is DECODE_OK or DECODE_EMPTY;
 * out->dropped_keys is meaningful for both.
 *
 * What is dropped and counted in dropped_keys:
 *   native: every key that can not be written: invalid key names, null
 *           values, arrays, strings that are too long, not UTF-8 or hold
 *           control characters, a "ts" that is not a plausible unix time,
 *           metrics past READING_MAX_METRICS.
 *   foreign: only values the gateway meant to write: a named key with an
 *           unusable value (Zigbee2MQTT "state":"TOGGLE", "power":" 7"), a
 *           passed-through number or boolean with an invalid key name,
 *           metrics past READING_MAX_METRICS, and in Tasmota's sensor
 *           readings the items of an array past DECODE_MAX_ITEMS and
 *           arrays or objects inside an array. The strings, nulls
 *           and arrays a foreign format carries for itself (Tasmota "Time",
 *           Zigbee2MQTT "presence_event") are ignored, not counted. */
enum decode_result decode_message(const struct route *r, const char *payload, size_t len,
                                  const struct json_limits *lim, struct reading *out,
                                  enum json_reject *why);

/* Per-format entry points, called by decode_message. */
enum decode_result decode_native(const struct route *r, const char *payload, size_t len,
                                 const struct json_limits *lim, struct reading *out,
                                 enum json_reject *why);
enum decode_result decode_zigbee2mqtt(const struct route *r, const char *payload, size_t len,
                                      const struct json_limits *lim, struct reading *out,
                                      enum json_reject *why);
enum decode_result decode_tasmota(const struct route *r, const char *payload, size_t len,
                                  const struct json_limits *lim, struct reading *out,
                                  enum json_reject *why);
enum decode_result decode_shelly(const struct route *r, const char *payload, size_t len,
                                 const struct json_limits *lim, struct reading *out,
                                 enum json_reject *why);
/* Shelly Gen1 (r->sub "gen1/..."), called by decode_shelly (decode_shelly1.c). */
enum decode_result decode_shelly1(const struct route *r, const char *payload, size_t len,
                                  const struct json_limits *lim, struct reading *out,
                                  enum json_reject *why);

/* The device id of a Gen1 announce ({"id":"shellyplug-s-7C87CE",...}) into
 * id (cap bytes). Returns 0, or -EINVAL when the payload is not JSON or has
 * no valid "id". */
int decode_shelly1_announce_id(const char *payload, size_t len, const struct json_limits *lim,
                               char *id, size_t cap);

/* "ok", "empty", "bad_json", "bad_status", "bad_event", "bad_value". */
const char *decode_result_name(enum decode_result r);

/* Helpers shared by every decoder (decode.c); the foreign formats have
 * more in decode_foreign.h. */

/* Flattens payload into *flat (json_flatten()). Returns DECODE_OK, or
 * DECODE_BAD_JSON with *why set (and nothing to free). */
enum decode_result decode_parse(const char *payload, size_t len, const struct json_limits *lim,
                                struct json_flat *flat, enum json_reject *why);

/* Adds a JSON leaf as a metric under key by its own type; a null value or a
 * refused key or value counts one dropped key. Returns 0 or a negative errno. */
int decode_add_field(struct reading *out, const char *key, const struct json_field *f);

/* True when the payload is exactly word (no surrounding space). */
bool decode_text_is(const char *payload, size_t len, const char *word);

/* An availability payload that is exactly the word online or offline (each
 * format has its own: "online", "Online", "true"): sets out->status and
 * returns DECODE_OK, else DECODE_BAD_STATUS and out is untouched. */
enum decode_result decode_availability(const char *payload, size_t len, const char *online,
                                       const char *offline, struct reading *out);

#endif
