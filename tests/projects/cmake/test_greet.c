#include <stdio.h>
#include <string.h>
#include "greet.h"

int main(void)
{
	const char *got = greet_version();

	printf("test_greet: built %s, library says %s\n", GREET_VERSION, got);
	return strcmp(got, GREET_VERSION) == 0 ? 0 : 1;
}
