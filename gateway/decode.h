/* Payload decoders (pure): from a routed message to a native reading.
 *
 * Foreign formats are mapped to native metric names (Zigbee2MQTT occupancy ->
 * presence, state -> on, power -> power_w; Tasmota CarbonDioxide -> co2,
 * ENERGY.Power -> power_w; Shelly switch:0.output -> on, apower -> power_w).
 * Numeric keys a format does not name are passed through under their
 * flattened name; keys it names are never passed through twice. */
#ifndef HALLGW_DECODE_H
#define HALLGW_DECODE_H

#include <stddef.h>

#include "json.h"
#include "reading.h"
#include "topic.h"

enum decode_result {
    DECODE_OK = 0,
    DECODE_EMPTY,      /* decoded fine but carries no metric (e.g. Tasmota STATE without POWER) */
    DECODE_BAD_JSON,   /* see json_reject via *why */
    DECODE_BAD_STATUS, /* an availability payload that is neither online nor offline */
    DECODE_BAD_EVENT,  /* event without a valid "type" */
    DECODE_BAD_VALUE,  /* a payload that is JSON but not what the topic carries */
};

/* Decodes payload for route r into out (which is reset first). On
 * DECODE_BAD_JSON *why says which check refused it. */
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

const char *decode_result_name(enum decode_result r);

#endif
