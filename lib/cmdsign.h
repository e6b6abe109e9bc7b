/* Signed commands (OpenSSL's HMAC and digests are included here only).
 *
 * A command is one JSON object, sent on <prefix>/<hall>/<device>/cmd:
 *
 *   {"id":"c-42","action":"poweroff","issued":1767261600,"expires":1767262200,
 *    "nonce":"6f1d0c2b9a8e7d6c5b4a39281706f5e4","hall":"h1","device":"pc-w01",
 *    "args":{"grace_s":300},"sig":"<64 hex digits>"}
 *
 * sig is the hex HMAC-SHA256, under the key shared by the gateway and the
 * agents, of the canonical string
 *
 *   "v1\n" id "\n" action "\n" hall "\n" device "\n" issued "\n" expires "\n"
 *   nonce "\n" args
 *
 * where issued and expires are decimal integers and args is the arguments as
 * "key=value" lines sorted by key (byte order) and joined by "\n" (no "\n"
 * after the last one; empty without arguments). A value is written as the
 * string itself (UTF-8), an integer in decimal, or true/false. docs/agents.md
 * has a worked example.
 *
 * What a command may hold, so that the canonical string is unambiguous:
 *   id      [A-Za-z0-9_.:-]{1,64}
 *   action  [a-z_]{1,32} (the agent knows poweroff, scan and notify)
 *   hall, device  [A-Za-z0-9_.-]{1,64}
 *   issued, expires  integers, 0 <= issued < expires <= 2^53,
 *                    expires - issued <= CMDSIGN_MAX_LIFETIME_S
 *   nonce   16 to 128 hex digits (build: 32 from RAND_bytes)
 *   args    an optional flat object of at most CMDSIGN_MAX_ARGS members, keys
 *           [a-z0-9_]{1,32}, values strings (UTF-8, no control characters,
 *           at most CMDSIGN_ARG_VALUE_MAX bytes), integers (|v| <= 2^53) or
 *           booleans
 *   sig     64 hex digits (either case)
 * and no other member. Everything but key loading and nonce generation is
 * pure: no I/O, no clock (now is a parameter). */
#ifndef HALLGW_CMDSIGN_H
#define HALLGW_CMDSIGN_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CMDSIGN_KEY_MIN 16       /* bytes of key material */
#define CMDSIGN_KEY_MAX 1024     /* bytes of key material */
#define CMDSIGN_PAYLOAD_MAX 8192 /* a larger command is refused unread */
#define CMDSIGN_ID_MAX 64
#define CMDSIGN_ACTION_MAX 32
#define CMDSIGN_NAME_MAX 64   /* hall and device ids */
#define CMDSIGN_NONCE_MIN 16  /* hex digits */
#define CMDSIGN_NONCE_MAX 128 /* hex digits */
#define CMDSIGN_MAX_ARGS 8
#define CMDSIGN_ARG_KEY_MAX 32
#define CMDSIGN_ARG_VALUE_MAX 1024   /* bytes of a string value */
#define CMDSIGN_MAX_LIFETIME_S 86400 /* expires - issued */
#define CMDSIGN_FUTURE_SKEW_S 60     /* issued may be this far ahead of now */
#define CMDSIGN_SIG_HEX 64

/* Why cmdsign_verify() refused a command (negative errno values). */
#define CMDSIGN_E_MALFORMED (-EBADMSG)    /* not a command: syntax, types, fields */
#define CMDSIGN_E_TOO_LARGE (-EMSGSIZE)   /* over CMDSIGN_PAYLOAD_MAX bytes */
#define CMDSIGN_E_UNSIGNED (-ENOKEY)      /* no sig */
#define CMDSIGN_E_BAD_SIG (-EKEYREJECTED) /* sig is not the HMAC of the command */
#define CMDSIGN_E_EXPIRED (-EKEYEXPIRED)  /* now >= expires */
#define CMDSIGN_E_NOT_YET (-EAGAIN)       /* issued > now + CMDSIGN_FUTURE_SKEW_S */
#define CMDSIGN_E_WRONG_DEVICE (-ENXIO)   /* for another hall or device */

enum cmdsign_arg_type { CMDSIGN_ARG_STR, CMDSIGN_ARG_INT, CMDSIGN_ARG_BOOL };

struct cmdsign_arg {
    char key[CMDSIGN_ARG_KEY_MAX + 1];
    enum cmdsign_arg_type type;
    long long num;                         /* CMDSIGN_ARG_INT; CMDSIGN_ARG_BOOL: 0 or 1 */
    char value[CMDSIGN_ARG_VALUE_MAX + 1]; /* the value as in the canonical string */
};

enum cmdsign_action {
    CMDSIGN_ACTION_OTHER, /* syntactically valid, not one the agent knows */
    CMDSIGN_ACTION_POWEROFF,
    CMDSIGN_ACTION_SCAN,
    CMDSIGN_ACTION_NOTIFY,
};

/* A command, as cmdsign_build() takes it and cmdsign_verify() returns it. */
struct cmdsign_cmd {
    char id[CMDSIGN_ID_MAX + 1];
    char action[CMDSIGN_ACTION_MAX + 1];
    enum cmdsign_action action_code; /* set by cmdsign_verify() */
    char hall[CMDSIGN_NAME_MAX + 1];
    char device[CMDSIGN_NAME_MAX + 1];
    int64_t issued, expires; /* unix seconds */
    char nonce[CMDSIGN_NONCE_MAX + 1];
    struct cmdsign_arg args[CMDSIGN_MAX_ARGS];
    size_t n_args;
};

/* Reads a key file: its content with trailing white space (a final newline)
 * removed. When what remains is an even number (>= 32) of hex digits and
 * nothing else, the key is the bytes they encode; otherwise it is the bytes
 * themselves. Returns 0 and the key in key[0..*len), or -errno from opening
 * or reading, -EINVAL when the key is shorter than CMDSIGN_KEY_MIN bytes,
 * -EFBIG when the file is larger than 2 * CMDSIGN_KEY_MAX bytes. */
int cmdsign_key_load(const char *path, uint8_t key[CMDSIGN_KEY_MAX], size_t *len);

/* The same from an open file descriptor, read to its end (not closed): for
 * a caller that opened and checked the file itself (conf_open_secret()). */
int cmdsign_key_read(int fd, uint8_t key[CMDSIGN_KEY_MAX], size_t *len);

/* Adds an argument to cmd. Returns 0, -EINVAL (bad key or value, duplicate
 * key) or -E2BIG (CMDSIGN_MAX_ARGS reached). */
int cmdsign_arg_int(struct cmdsign_cmd *cmd, const char *key, long long v);
int cmdsign_arg_str(struct cmdsign_cmd *cmd, const char *key, const char *v);
int cmdsign_arg_bool(struct cmdsign_cmd *cmd, const char *key, bool v);

/* The argument named key, or NULL. */
const struct cmdsign_arg *cmdsign_arg_get(const struct cmdsign_cmd *cmd, const char *key);

/* Signs cmd and writes it as JSON. When cmd->nonce is empty it is filled
 * with 32 random hex digits (RAND_bytes) first. Returns 0 and a malloc'd
 * NUL-terminated command in *out (the caller frees it), -EINVAL when a field
 * breaks the rules above (the command would not verify), -EIO when no random
 * nonce could be made, or -ENOMEM. */
int cmdsign_build(const uint8_t *key, size_t key_len, struct cmdsign_cmd *cmd, char **out);

/* Checks a received command: size, syntax and fields (CMDSIGN_E_TOO_LARGE,
 * CMDSIGN_E_MALFORMED), then the signature (CMDSIGN_E_UNSIGNED,
 * CMDSIGN_E_BAD_SIG), then, for a correctly signed command, the target
 * (CMDSIGN_E_WRONG_DEVICE against expected_hall and expected_device) and
 * time (CMDSIGN_E_EXPIRED, CMDSIGN_E_NOT_YET). Returns 0 with the command in
 * *out, or one of the codes above with *why a static English reason. Even
 * on a refusal, out->id holds the command's id when it had a valid one (so
 * the refusal can be answered), else "". Replays are not detected here: see
 * cmdsign_replay_check_and_add(). */
int cmdsign_verify(const uint8_t *key, size_t key_len, const char *payload, size_t len, int64_t now,
                   const char *expected_hall, const char *expected_device, struct cmdsign_cmd *out,
                   const char **why);

/* The canonical string of cmd (what sig signs), malloc'd; NULL on ENOMEM.
 * Args are sorted here; cmd is not changed. */
char *cmdsign_canonical(const struct cmdsign_cmd *cmd);

/* "poweroff", "scan", "notify" to their code, anything else
 * CMDSIGN_ACTION_OTHER. */
enum cmdsign_action cmdsign_action_parse(const char *s);

/* Hex SHA-256 of data into out (64 digits and a NUL). */
void cmdsign_sha256_hex(const void *data, size_t len, char out[2 * 32 + 1]);

/* ---- replay cache ------------------------------------------------------ */

/* The nonces of accepted commands, each kept until its command expires, at
 * most capacity of them. When the cache is full of unexpired nonces the
 * oldest is forgotten; from then on a command whose expires is not later
 * than that of every forgotten nonce is refused with -ENOSPC, since it could
 * be a replay of one (fail closed). Only signed, verified commands should be
 * added, so only the key's holder can fill it. */
struct cmdsign_replay;

struct cmdsign_replay *cmdsign_replay_new(size_t capacity); /* NULL on ENOMEM */
void cmdsign_replay_free(struct cmdsign_replay *rc);        /* NULL does nothing */

/* Forgets expired nonces (expires <= now); then returns -EALREADY when nonce
 * is known, -ENOSPC as above, or 0 after remembering nonce until expires.
 * -EINVAL for a nonce that is not 1 to CMDSIGN_NONCE_MAX bytes. */
int cmdsign_replay_check_and_add(struct cmdsign_replay *rc, const char *nonce, int64_t expires,
                                 int64_t now);

/* Forgets nonce, added by cmdsign_replay_check_and_add() for a command that
 * was then refused after all (its nonce could not be saved): that command
 * never ran. Does nothing when nonce is not remembered. */
void cmdsign_replay_forget(struct cmdsign_replay *rc, const char *nonce);

size_t cmdsign_replay_count(const struct cmdsign_replay *rc);

/* Calls fn for every remembered nonce, oldest first (to save the cache). */
void cmdsign_replay_foreach(const struct cmdsign_replay *rc,
                            void (*fn)(void *ctx, const char *nonce, int64_t expires), void *ctx);

#endif
