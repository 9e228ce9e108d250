#include "greet.h"

const char *greet_version(void)
{
	return GREET_VERSION;
}
