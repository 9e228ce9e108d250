/* exec_dlopen: dlopen a library by path and call its "probe" function,
 * which returns a string; prints it, or the dlerror() message. */
#include <dlfcn.h>
#include <stdio.h>

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: exec_dlopen LIBRARY\n");
		return 2;
	}
	void *h = dlopen(argv[1], RTLD_NOW);
	if (!h) {
		printf("dlerror=%s\n", dlerror());
		return 1;
	}
	const char *(*fn)(void) = (const char *(*)(void))dlsym(h, "probe");
	printf("%s\n", fn ? fn() : "no probe symbol");
	return 0;
}
