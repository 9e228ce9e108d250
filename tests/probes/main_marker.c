/* main_marker: prints "main ran" and its first argument's contents; used
 * to show that bad configuration stops a process before main. */
#include <stdio.h>

int main(int argc, char **argv)
{
	puts("main ran");
	if (argc > 1) {
		FILE *f = fopen(argv[1], "r");
		int c;
		if (!f) {
			perror(argv[1]);
			return 1;
		}
		while ((c = fgetc(f)) != EOF)
			putchar(c);
		fclose(f);
	}
	return 0;
}
