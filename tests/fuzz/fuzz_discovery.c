/* fuzz_discovery: kind byte, then a discovery payload; discovery_parse()
 * with a 64 KiB limit, every device found noted into an unbound list of 4.
 *
 * Oracle: every device found has a NUL-terminated, plain-text (or empty)
 * name, MAC, model and description, and a name for every kind but Tasmota's
 * sensors; no more devices than DISCOVERY_ITEMS_MAX; the result is a count
 * or one of the documented errors. The list never holds more than its bound,
 * and each entry's texts, sample included, are plain text. */
#include "fuzz.h"

#include <errno.h>

#include "discovery.h"
#include "unbound.h"
#include "utf8.h"

struct ctx {
    enum discovery_kind kind;
    struct unbound *u;
    size_t n;
};

static void plain(const char *s, size_t cap, const char *what)
{
    FUZZ_CHECK(memchr(s, '\0', cap) != NULL, "%s not terminated", what);
    FUZZ_CHECK(utf8_plain_text(s, strlen(s)), "%s not plain text", what);
}

static void found(const struct discovery_device *d, void *arg)
{
    struct ctx *c = arg;
    c->n++;
    plain(d->name, sizeof(d->name), "name");
    plain(d->mac, sizeof(d->mac), "mac");
    plain(d->model, sizeof(d->model), "model");
    plain(d->description, sizeof(d->description), "description");
    FUZZ_CHECK(c->kind == DISCOVERY_TASMOTA_SENSORS || d->name[0], "a device without a name");
    struct unbound_seen s = {.format = d->format,
                             .name = d->name[0] ? d->name : "x",
                             .mac = d->mac,
                             .model = d->model,
                             .description = d->description,
                             .sample = d->description,
                             .sample_len = strlen(d->description)};
    unbound_note(c->u, &s, (wall_s)c->n);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_in in = {data, size};
    static const enum discovery_kind kinds[] = {DISCOVERY_Z2M_DEVICES, DISCOVERY_TASMOTA_CONFIG,
                                                DISCOVERY_TASMOTA_SENSORS,
                                                DISCOVERY_SHELLY_ANNOUNCE};
    struct ctx c = {.kind = kinds[fuzz_u8(&in) % 4], .u = unbound_new(4)};
    FUZZ_CHECK(c.u != NULL, "out of memory");
    size_t skipped = 0;
    int r = discovery_parse(c.kind, "A4CF12D32745", (const char *)in.p, in.n, 65536, found, &c,
                            &skipped);
    FUZZ_CHECK(r == -EMSGSIZE || r == -EBADMSG || r == -EPROTO || r == -ENOMEM ||
                   (r >= 0 && (size_t)r == c.n && c.n <= DISCOVERY_ITEMS_MAX),
               "result %d for %zu devices", r, c.n);
    FUZZ_CHECK(unbound_count(c.u) <= 4, "%zu entries in a list of 4", unbound_count(c.u));
    for (size_t i = 0; i < unbound_count(c.u); i++) {
        const struct unbound_device *d = unbound_get(c.u, i);
        plain(d->name, sizeof(d->name), "entry name");
        plain(d->sample, sizeof(d->sample), "entry sample");
        FUZZ_CHECK(strlen(d->sample) <= UNBOUND_SAMPLE_MAX, "sample of %zu bytes",
                   strlen(d->sample));
    }
    char model[UNBOUND_MODEL_MAX + 1];
    discovery_shelly_model((const char *)in.p, in.n, 65536, model, sizeof(model));
    plain(model, sizeof(model), "shelly model");
    unbound_free(c.u);
    return 0;
}
