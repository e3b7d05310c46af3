/* NG command handlers: fill the reply dictionary for one decoded request. */
#ifndef SLUICE_NG_COMMANDS_H
#define SLUICE_NG_COMMANDS_H

#include <stdbool.h>

#include "daemon.h"
#include "ng_request.h"
#include "sluice/bencode.h"

/* 0 with reply filled ("result" included), or -errno with a reason in *err. */
int ng_command(struct daemon *d, const struct ng_request *req, struct arena *a,
	       struct bval *reply, const char **err);

/* Does the command change state (calls, ports, media)? Only the replies of these are
 * cached for retransmissions: the others (ping, query, list, statistics) are answered
 * afresh, which is harmless and keeps monitoring traffic out of the cache. */
bool ng_cmd_has_effects(enum ng_cmd cmd);

#endif
