/* bencode values (the NG protocol's native encoding) and their JSON mapping.
 *
 * A decoded message is a tree of struct bval nodes allocated in an arena. Strings are
 * byte strings with explicit length (not NUL-terminated in general: they may point into
 * the input buffer, which must outlive the tree). Dictionaries keep wire order and allow
 * lookup by key; lists keep order.
 *
 * JSON mapping (NG-over-JSON): object <-> dict, array <-> list, string <-> string,
 * integer <-> integer, true/false -> integer 1/0, null -> empty string, non-integer
 * numbers -> their decimal text as a string. Encoding a bval to JSON writes strings as
 * JSON strings (bytes that are not valid UTF-8 are escaped as \u00XX of each byte). */
#ifndef SLUICE_BENCODE_H
#define SLUICE_BENCODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sluice/arena.h"
#include "sluice/strbuf.h"

#define BV_MAX_DEPTH 32

enum bval_type { BV_STR, BV_INT, BV_LIST, BV_DICT };

struct bval {
	enum bval_type type;
	struct bval *next;          /* next sibling inside a list or dict */
	const char *key;            /* dict members only: key bytes, key_len long */
	size_t key_len;
	union {
		struct { const char *s; size_t len; } str;
		int64_t i;
		struct { struct bval *first, *last; size_t n; } c;   /* list / dict children */
	};
};

/* Decode exactly one bencode value from buf[0..len). On success *out is the tree and, if
 * consumed is non-NULL, *consumed the bytes used (trailing bytes are allowed only then;
 * with consumed == NULL trailing bytes are an error). Returns 0, -EINVAL (malformed,
 * too deep, bad integer), -EMSGSIZE (truncated) or -ENOMEM. Never reads past len. */
int bv_decode(struct arena *a, const char *buf, size_t len, struct bval **out, size_t *consumed);

/* Append the canonical bencode of v (dict keys in insertion order) to sb. 0 or -ENOMEM. */
int bv_encode(const struct bval *v, struct strbuf *sb);

/* JSON text -> bval tree (json-c underneath). 0, -EINVAL, -ENOMEM. The tree does not
 * point into buf. */
int bv_from_json(struct arena *a, const char *buf, size_t len, struct bval **out);
/* bval tree -> compact JSON text appended to sb. 0 or -ENOMEM. */
int bv_to_json(const struct bval *v, struct strbuf *sb);
/* Same, indented by two spaces per level (for humans; no trailing newline). */
int bv_to_json_pretty(const struct bval *v, struct strbuf *sb);

/* Constructors (NULL on -ENOMEM). Strings passed in are copied into the arena. */
struct bval *bv_new_str(struct arena *a, const char *s, size_t len);
struct bval *bv_new_strz(struct arena *a, const char *s);
struct bval *bv_new_int(struct arena *a, int64_t i);
struct bval *bv_new_list(struct arena *a);
struct bval *bv_new_dict(struct arena *a);
/* Append to a list. Returns child, or NULL if child is NULL (so calls can be chained
 * without checks; the caller tests arena exhaustion once at the end). */
struct bval *bv_list_add(struct bval *list, struct bval *child);
/* Append key -> child to a dict (key copied into the arena). Returns child or NULL. */
struct bval *bv_dict_add(struct arena *a, struct bval *dict, const char *key, struct bval *child);
/* Shorthands. */
struct bval *bv_dict_add_str(struct arena *a, struct bval *dict, const char *key, const char *s);
struct bval *bv_dict_add_int(struct arena *a, struct bval *dict, const char *key, int64_t i);

/* Lookup: first member with that key, or NULL. */
struct bval *bv_dict_get(const struct bval *dict, const char *key);
/* The member as a string (BV_STR) or NULL; *len gets its length. */
const char *bv_dict_get_str(const struct bval *dict, const char *key, size_t *len);
/* Deep equality: same types, bytes, integers, order and (for dicts) keys. */
bool bv_equal(const struct bval *a, const struct bval *b);
/* True if v is BV_STR equal to the NUL-terminated s (case-sensitive). */
bool bv_str_eq(const struct bval *v, const char *s);
/* True if v is BV_STR equal to s ignoring ASCII case. */
bool bv_str_ieq(const struct bval *v, const char *s);

#endif
