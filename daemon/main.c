/* sluiced entry point (placeholder until the control server lands): load the
 * configuration and print it. */
#include <stdio.h>

#include "config.h"

int main(int argc, char **argv)
{
	struct config cfg;
	char err[512];

	if (config_load(&cfg, argc, argv, err, sizeof(err))) {
		fprintf(stderr, "sluiced: %s\n", err);
		return 1;
	}
	config_dump(&cfg, stdout);
	return 0;
}
