#include "id.h"

#include <string.h>

const char *const id_topic_levels[] = {
    "hall",     "cmnd",          "tele",        "stat",   "tasmota", "tasmotas",
    "shellies", "homeassistant", "zigbee2mqtt", "hallgw", NULL,
};

static bool id_char_ok(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '.' || c == '-';
}

bool id_valid(const char *s, size_t len)
{
    if (!s || len == 0 || len > ID_MAX)
        return false;
    for (size_t i = 0; i < len; i++) {
        if (!id_char_ok((unsigned char)s[i]))
            return false;
    }
    return true;
}

bool id_is_topic_level(const char *s)
{
    for (size_t i = 0; s && id_topic_levels[i]; i++) {
        if (strcmp(s, id_topic_levels[i]) == 0)
            return true;
    }
    return false;
}
