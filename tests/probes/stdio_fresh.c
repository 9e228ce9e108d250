/* stdio_fresh.c: a fully buffered stdio stream on a union file, read
 * across a copy-up made by another process.
 *
 *   stdio_fresh FILE   fopen FILE "r", fread 3 bytes (the stream buffers
 *                      the whole small file), print them, wait for a line
 *                      on stdin (the test copies up and rewrites FILE),
 *                      then fread the rest, rewind, fread all; prints
 *                      "first: ...", "next: ...|", "rewound: ...|". */
#include <stdio.h>
#include <string.h>

int main(int argc, char **argv)
{
	char buf[64], line[16];

	if (argc != 2)
		return 2;
	FILE *f = fopen(argv[1], "r");
	if (!f) {
		perror(argv[1]);
		return 1;
	}
	size_t n = fread(buf, 1, 3, f);
	printf("first: %.*s\n", (int)n, buf);
	fflush(stdout);
	if (!fgets(line, sizeof line, stdin))
		return 2;
	n = fread(buf, 1, sizeof buf, f);
	printf("next: %.*s|\n", (int)n, buf);
	rewind(f);
	n = fread(buf, 1, sizeof buf, f);
	printf("rewound: %.*s|\n", (int)n, buf);
	return fclose(f) == 0 ? 0 : 1;
}
