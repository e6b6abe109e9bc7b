/* Who may do what (pure): the roles of the gateway's accounts and the
 * actions each one allows.
 *
 *   viewer    reads the page and the API
 *   operator  facilities staff: acknowledges and resolves the alerts of the
 *             hall's seats, queues, people counters and environment, sets
 *             silences, and keeps a window's PC and plug on tonight
 *             (power-off overrides)
 *   it        IT staff: the same for PCs, plugs and equipment, and approves
 *             a changed network baseline
 *   admin     manages accounts and reads the audit log; may do everything
 *
 * Every role reads. An alert is handled by the role of its device's kind:
 * operator for the hall's own kinds, it for PCs, plugs and equipment. */
#ifndef HALLGW_ROLES_H
#define HALLGW_ROLES_H

#include <stdbool.h>

#include "config.h"

enum role { ROLE_NONE, ROLE_VIEWER, ROLE_OPERATOR, ROLE_IT, ROLE_ADMIN };

enum role_action {
    ACTION_READ,         /* the page, state, alerts, history, overrides */
    ACTION_HANDLE_ALERT, /* acknowledge or resolve (see roles_may_handle) */
    ACTION_OVERRIDE,     /* add or remove a power-off override */
    ACTION_SILENCE,      /* make, extend or expire a silence */
    ACTION_APPROVE,      /* approve a baseline */
    ACTION_ACCOUNTS,     /* accounts and their tokens */
    ACTION_AUDIT,        /* read the audit log */
};

/* "viewer", "operator", "it", "admin"; "none" for ROLE_NONE. */
const char *role_name(enum role r);
/* ROLE_NONE when name is not one of the four. */
enum role role_parse(const char *name);

/* May role r do action a at all? */
bool roles_may(enum role r, enum role_action a);

/* May role r acknowledge or resolve an alert of a device of this kind? */
bool roles_may_handle(enum role r, enum device_kind kind);

#endif
