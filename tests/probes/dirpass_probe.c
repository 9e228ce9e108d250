/* dirpass_probe: read a directory through a DIR stream the way programs
 * do: readdir (each entry as "NAME INO"), telldir after the second entry
 * and a seekdir back there once the end was read ("seek NAME": the third
 * entry again), readdir_r to the end after a rewinddir ("again N").
 * With CMD, it runs between the opendir and the first readdir (system). */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv)
{
	if (argc != 2 && argc != 3) {
		fprintf(stderr, "usage: dirpass_probe DIR [CMD]\n");
		return 2;
	}
	DIR *d = opendir(argv[1]);
	if (!d) {
		perror(argv[1]);
		return 1;
	}
	if (argc == 3 && system(argv[2]) != 0) {
		fprintf(stderr, "%s: failed\n", argv[2]);
		return 1;
	}
	struct dirent *e;
	long mark = -1;
	int n = 0;
	while ((e = readdir(d)) != NULL) {
		if (++n == 2)
			mark = telldir(d);
		printf("%s %llu\n", e->d_name, (unsigned long long)e->d_ino);
	}
	if (mark >= 0) {
		seekdir(d, mark);
		e = readdir(d);
		printf("seek %s\n", e ? e->d_name : "(end)");
	}
	rewinddir(d);
	struct dirent ent, *res;
	int again = 0;
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
	while (readdir_r(d, &ent, &res) == 0 && res)
		again++;
	printf("again %d\n", again);
	closedir(d);
	return 0;
}
