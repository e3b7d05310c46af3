/* sluiced entry point (placeholder until the control server lands). */
#include <stdio.h>

#include "config.h"

int main(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fprintf(stderr, "sluiced: not built yet\n");
	return 1;
}
