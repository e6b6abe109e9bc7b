#include "roles.h"

#include <string.h>

static const char *const names[] = {
    [ROLE_NONE] = "none", [ROLE_VIEWER] = "viewer", [ROLE_OPERATOR] = "operator",
    [ROLE_IT] = "it",     [ROLE_ADMIN] = "admin",
};

const char *role_name(enum role r)
{
    return r >= ROLE_NONE && r <= ROLE_ADMIN ? names[r] : names[ROLE_NONE];
}

enum role role_parse(const char *name)
{
    for (int r = ROLE_VIEWER; r <= ROLE_ADMIN; r++)
        if (name && strcmp(name, names[r]) == 0)
            return (enum role)r;
    return ROLE_NONE;
}

bool roles_may(enum role r, enum role_action a)
{
    if (r == ROLE_ADMIN)
        return true;
    switch (a) {
    case ACTION_READ:
        return r != ROLE_NONE;
    case ACTION_HANDLE_ALERT:
    case ACTION_OVERRIDE:
    case ACTION_SILENCE:
        return r == ROLE_OPERATOR || r == ROLE_IT;
    case ACTION_APPROVE:
        return r == ROLE_IT;
    case ACTION_ACCOUNTS:
    case ACTION_AUDIT:
        return false;
    }
    return false;
}

bool roles_may_handle(enum role r, enum device_kind kind)
{
    if (r == ROLE_ADMIN)
        return true;
    bool it_kind = kind == KIND_PC || kind == KIND_PLUG || kind == KIND_EQUIPMENT;
    return it_kind ? r == ROLE_IT : r == ROLE_OPERATOR;
}
