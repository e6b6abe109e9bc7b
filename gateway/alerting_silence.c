/* Part of alerting: the silences. They live in the store, so that the CLI
 * and the API write the same ones and they outlast a restart; the engine
 * keeps those in force now or later, read again every 10 s and at once after
 * a change of its own. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alerting_internal.h"
#include "crypto.h"
#include "silence.h"
#include "store.h"

#define SILENCES_READ_EVERY_S 10.0

bool alerting_silenced(struct alerting *al, struct alert *a, wall_s wall)
{
    const struct record_silence *s = silence_find(al->silences, al->n_silences, a, wall);
    snprintf(a->silenced_by, sizeof(a->silenced_by), "%s", s ? s->id : "");
    return s != NULL;
}

int alerting_silences_reload(struct alerting *al, wall_s wall)
{
    if (!al->io.store)
        return -ENOTSUP;
    struct record_silence *v = NULL;
    size_t n = 0;
    al->silences_read = wall;
    int rc = store_silences(al->io.store, wall, 0, &v, &n);
    if (rc < 0) {
        if (log_ratelimit_ok(&al->rl_store, "alerting: store errors"))
            log_warn("cannot read the silences: %s", store_last_error(al->io.store));
        return rc; /* the ones known stay in force */
    }
    free(al->silences);
    al->silences = v;
    al->n_silences = n;
    return 0;
}

void alerting_silences_tick(struct alerting *al, wall_s wall)
{
    if (al->silences_read == 0 || wall - al->silences_read >= SILENCES_READ_EVERY_S ||
        wall < al->silences_read)
        alerting_silences_reload(al, wall);
}

int alerting_silence_put(struct alerting *al, struct record_silence *s, wall_s wall,
                         const char **why)
{
    *why = "";
    if (!al->io.store) {
        *why = "silences need the state store";
        return -ENOTSUP;
    }
    if (!s->starts || s->starts < wall)
        s->starts = wall;
    const char *bad = silence_check(s, wall, (double)al->cfg->alerts.silence_max_ms / 1000.0);
    if (bad) {
        *why = bad;
        return -EINVAL;
    }
    if (!s->id[0] && crypto_random_hex(8, s->id) < 0)
        return -EIO;
    s->created = wall;
    if (store_silence_put(al->io.store, s) < 0) {
        log_warn("cannot store silence %s: %s", s->id, store_last_error(al->io.store));
        *why = "the silence cannot be stored";
        return -EIO;
    }
    log_notice("silence %s by %s until %.0f: %s", s->id, s->created_by, s->ends, s->comment);
    alerting_silences_reload(al, wall);
    return 0;
}

int alerting_silence_end(struct alerting *al, const char *id, wall_s ends, const char *by,
                         wall_s wall, struct record_silence *out, const char **why)
{
    *why = "";
    if (!al->io.store) {
        *why = "silences need the state store";
        return -ENOTSUP;
    }
    struct record_silence s;
    int rc = store_silence_get(al->io.store, id, &s);
    if (rc == -ENOENT || (rc == 0 && s.ends <= wall)) {
        *why = "no such silence in force";
        return -ENOENT;
    }
    if (rc < 0)
        return -EIO;
    bool expire = ends <= wall;
    if (expire) {
        s.ends = wall;
        snprintf(s.ended_by, sizeof(s.ended_by), "%s", by);
    } else {
        s.ends = ends;
        const char *bad = silence_check(&s, wall, (double)al->cfg->alerts.silence_max_ms / 1000.0);
        if (bad) {
            *why = bad;
            return -EINVAL;
        }
    }
    if (store_silence_put(al->io.store, &s) < 0) {
        log_warn("cannot store silence %s: %s", s.id, store_last_error(al->io.store));
        *why = "the silence cannot be stored";
        return -EIO;
    }
    log_notice("silence %s %s by %s", s.id, expire ? "expired" : "extended", by);
    alerting_silences_reload(al, wall);
    if (out)
        *out = s;
    return 0;
}
