/* sluice-ctl: the human renderings of the daemon's JSON replies (render.c). */
#ifndef SLUICE_CTL_H
#define SLUICE_CTL_H

#include <stdio.h>

#include <json-c/json.h>

/* Print reply (result ok) of command cmd ("list", "show", ...) as tables to out. */
void ctl_render(const char *cmd, json_object *reply, FILE *out);

#endif
