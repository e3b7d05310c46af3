/* Call statistics in rtpengine's reply shape (query and delete replies). */
#ifndef SLUICE_CALL_STATS_H
#define SLUICE_CALL_STATS_H

#include "call.h"
#include "sluice/bencode.h"

struct daemon;

/* Add "created", "created_us", "last signal", "tags" and "totals" to dict. Takes the
 * call lock. 0 or -ENOMEM. */
int call_stats_add(struct daemon *d, struct call *c, struct arena *a, struct bval *dict);

#endif
