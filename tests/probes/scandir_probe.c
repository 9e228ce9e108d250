/* scandir_probe: prints what scandir/scandirat list, one "name type" line
 * per entry (sorted by alphasort, "." and ".." dropped by a filter), or
 * "-1 ERRNO" when the call fails.
 *   scandir_probe scandir DIR
 *   scandir_probe scandirat PARENT NAME   (NAME relative to an fd of PARENT) */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int no_dots(const struct dirent *d)
{
	const char *n = d->d_name;

	return !(n[0] == '.' && (!n[1] || (n[1] == '.' && !n[2])));
}

static char type_char(unsigned char t)
{
	switch (t) {
	case DT_REG: return 'f';
	case DT_DIR: return 'd';
	case DT_LNK: return 'l';
	case DT_CHR: return 'c';
	case DT_BLK: return 'b';
	case DT_FIFO: return 'p';
	case DT_SOCK: return 's';
	default: return '?';
	}
}

int main(int argc, char **argv)
{
	struct dirent **list;
	int n;

	if (argc == 3 && strcmp(argv[1], "scandir") == 0) {
		n = scandir(argv[2], &list, no_dots, alphasort);
	} else if (argc == 4 && strcmp(argv[1], "scandirat") == 0) {
		int fd = open(argv[2], O_RDONLY | O_DIRECTORY);
		if (fd < 0) {
			printf("open -1 %s\n", strerrorname_np(errno));
			return 1;
		}
		n = scandirat(fd, argv[3], &list, no_dots, alphasort);
	} else {
		fprintf(stderr, "usage: scandir_probe scandir DIR | scandirat PARENT NAME\n");
		return 2;
	}
	if (n < 0) {
		printf("-1 %s\n", strerrorname_np(errno));
		return 1;
	}
	for (int i = 0; i < n; i++) {
		printf("%s %c\n", list[i]->d_name, type_char(list[i]->d_type));
		free(list[i]);
	}
	free(list);
	return 0;
}
