/* NG command handlers: fill the reply dictionary for one decoded request. */
#ifndef SLUICE_NG_COMMANDS_H
#define SLUICE_NG_COMMANDS_H

#include "daemon.h"
#include "ng_request.h"
#include "sluice/bencode.h"

/* 0 with reply filled ("result" included), or -errno with a reason in *err. */
int ng_command(struct daemon *d, const struct ng_request *req, struct arena *a,
	       struct bval *reply, const char **err);

#endif
