#include "id.h"

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
