#include "bridges.h"

#include <errno.h>
#include <string.h>

const struct bridge *bridges_find(const struct bridges *b, const char *base)
{
    for (size_t i = 0; b && base && i < b->n; i++) {
        if (strcmp(b->v[i].base, base) == 0)
            return &b->v[i];
    }
    return NULL;
}

bool bridges_offline(const struct bridges *b, const char *base)
{
    const struct bridge *br = bridges_find(b, base);
    return br && br->avail == AVAIL_OFFLINE;
}

int bridges_set(struct bridges *b, const char *base, enum availability a, mono_ms now, wall_s wall)
{
    struct bridge *br = (struct bridge *)bridges_find(b, base);
    if (!br) {
        if (b->n >= CONFIG_BASES_MAX || strlen(base) > CONFIG_BASE_MAX)
            return -ENOSPC;
        br = &b->v[b->n++];
        memset(br, 0, sizeof(*br));
        strcpy(br->base, base);
    }
    if (br->avail != a) {
        br->avail = a;
        br->since = now;
        br->since_wall = wall;
        br->alerted = false;
    }
    return 0;
}

void bridges_remove(struct bridges *b, size_t i)
{
    if (i >= b->n)
        return;
    memmove(&b->v[i], &b->v[i + 1], (b->n - i - 1) * sizeof(b->v[0]));
    b->n--;
}
