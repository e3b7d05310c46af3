/* SIGHUP handling: log reopen and log level re-read (log_reload.h). */
#include "log_reload.h"

#include <stdlib.h>

#include "config.h"
#include "daemon.h"
#include "sluice/log.h"

void log_reload(struct daemon *d)
{
	struct config *cfg = malloc(sizeof(*cfg));    /* ~30 KiB: not on the stack */
	char err[256];
	int old;

	log_reopen();
	if (!cfg) {
		ilog(LOG_WARNING, "SIGHUP: out of memory, log level unchanged");
		return;
	}
	if (config_load_warn(cfg, d->argc, d->argv, NULL, err, sizeof(err))) {
		ilog(LOG_WARNING, "SIGHUP: configuration not read (%s), log level unchanged "
		     "(%d)", err, log_get_level());
		free(cfg);
		return;
	}
	old = log_set_level(cfg->log_level);
	ilog(LOG_NOTICE, "SIGHUP: log reopened, log level %d -> %d%s%s", old, cfg->log_level,
	     cfg->config_file[0] ? " from " : "", cfg->config_file);
	free(cfg);
}
