/* Channels of multi-channel Shelly devices (pure): which metrics of a
 * decoded reading belong to which relay or meter channel, and the reading a
 * device bound to one channel ("shelly:<id>#<n>") gets.
 *
 * The decoders name channel 0 plainly (on, power_w, energy_kwh) and channel
 * n > 0 with "_<n>" (on_1, power_w_1); Gen2 passes other switch fields
 * through as "switch:<n>_<path>". */
#ifndef HALLGW_CHANNELS_H
#define HALLGW_CHANNELS_H

#include <stdbool.h>
#include <stddef.h>

#include "reading.h"

/* The channel of a metric key: n for "<base>_<n>" of a channel metric (on,
 * overpower, power_w, energy_kwh, voltage, current, power_factor,
 * reactive_power_var, returned_energy_kwh, total_kwh, total_returned_kwh)
 * and for "switch:<n>_<path>"; 0 for the plain bases; -1 for the rest,
 * which is the device's own (temperature, ...). plain (cap bytes, may be
 * NULL) receives its name on a channel's device: the base for
 * "<base>_<n>", the key itself otherwise. */
int channels_of_key(const char *key, char *plain, size_t cap);

/* Fills out (reset first, to all's class, status and ts) with what the
 * device bound to channel ch gets of all: for ch > 0 the metrics of channel
 * ch under their plain names; for ch 0 every other metric, except those of
 * the channels in bound[0..n_bound) (which have devices of their own).
 * Returns the number of metrics in out. */
unsigned channels_select(const struct reading *all, int ch, const int *bound, size_t n_bound,
                         struct reading *out);

#endif
