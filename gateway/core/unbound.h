/* The unbound devices (pure): Zigbee2MQTT, Tasmota and Shelly devices seen on
 * the broker that no device of the config names in its "source", kept in a
 * bounded list so that an operator can pick one and bind it (a config edit
 * and SIGHUP: the config stays the one source of truth).
 *
 * The list holds at most max entries. A device already listed is updated in
 * place; a new one takes a free slot, or else the slot of the entry seen
 * longest ago (evicted). So a flood of made-up names can never grow memory
 * past max entries: it only pushes older entries out, and each eviction is
 * reported to the caller, which counts it. Names that could not be pasted
 * into a "source" (config_source_name_problem()) or are not plain text are
 * refused. Texts are plain text (utf8_plain_text()), cut at a character
 * boundary: the sample of the last reading has every byte that is not
 * plain text replaced by '?'.
 *
 * Takes the time as a parameter; does no I/O. Not thread-safe: the core
 * thread owns it, and others see it through a JSON snapshot. */
#ifndef HALLGW_UNBOUND_H
#define HALLGW_UNBOUND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "clock.h"
#include "config.h"

#define UNBOUND_MAX_LIMIT 4096 /* the largest discovery.unbound_max */
#define UNBOUND_MAC_MAX 23     /* "AA:BB:CC:DD:EE:FF", a Zigbee "0x" and 16 hex digits */
#define UNBOUND_MODEL_MAX 63
#define UNBOUND_DESCRIPTION_MAX 127
#define UNBOUND_VIA_MAX 31
#define UNBOUND_SAMPLE_MAX 120 /* bytes of the last reading kept */

struct unbound_device {
    enum source_format format; /* never FORMAT_NATIVE */
    char name[CONFIG_SOURCE_NAME_MAX + 1];
    char mac[UNBOUND_MAC_MAX + 1]; /* "" when unknown */
    char model[UNBOUND_MODEL_MAX + 1];
    char description[UNBOUND_DESCRIPTION_MAX + 1];
    char via[UNBOUND_VIA_MAX + 1]; /* where it was last seen: a discovery topic or "traffic" */
    char sample[UNBOUND_SAMPLE_MAX + 1];
    wall_s first_seen, last_seen;
};

/* What one message says about a device. NULL or "" texts leave what the
 * entry already has (a reading does not wipe the model discovery gave). */
struct unbound_seen {
    enum source_format format;
    const char *name;
    const char *mac;
    const char *model;
    const char *description;
    const char *via;
    const char *sample; /* sample_len bytes, any bytes */
    size_t sample_len;
};

enum unbound_result {
    UNBOUND_ADDED,   /* a new entry in a free slot */
    UNBOUND_UPDATED, /* the entry existed */
    UNBOUND_EVICTED, /* a new entry, in the slot of the one seen longest ago */
    UNBOUND_REFUSED, /* a name that is no source, or no room (max 0) */
};

struct unbound;

/* max: at most this many entries (0 keeps none; at most UNBOUND_MAX_LIMIT).
 * NULL when out of memory. */
struct unbound *unbound_new(size_t max);
void unbound_free(struct unbound *u); /* NULL does nothing */

/* Changes the bound; entries seen longest ago go first. Returns how many
 * were evicted. */
size_t unbound_set_max(struct unbound *u, size_t max);

enum unbound_result unbound_note(struct unbound *u, const struct unbound_seen *s, wall_s now);

/* Removes the entries cfg now binds (config_find_source()). Returns how
 * many. */
size_t unbound_forget_bound(struct unbound *u, const struct config *cfg);

size_t unbound_count(const struct unbound *u);
size_t unbound_max(const struct unbound *u);
/* The i-th entry (i < unbound_count()), in no particular order. */
const struct unbound_device *unbound_get(const struct unbound *u, size_t i);
/* The entry of format with this MAC (Tasmota's discovery names devices by
 * MAC), or NULL. */
const struct unbound_device *unbound_find_mac(const struct unbound *u, enum source_format format,
                                              const char *mac);
/* Grows by one at every change of the list: a snapshot is rebuilt only when
 * it differs. */
uint64_t unbound_version(const struct unbound *u);
/* Grows only when an entry comes or goes (not when one is seen again). */
uint64_t unbound_members_version(const struct unbound *u);

/* The source as a config string literal, quotes included
 * ("zigbee2mqtt:seat \"w13\"" for a name with quotes): what goes after
 * source = . Returns the length written, or -1 when it does not fit. */
int unbound_source_literal(const struct unbound_device *d, char *out, size_t size);

#endif
