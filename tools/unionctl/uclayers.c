/* uclayers.c: helpers export and check share (uclayers.h). The layer
 * set of layerargs.h numbers layers as the shim does (0 the upper, then
 * the lowers, topmost first), so the link index's layer numbers hold. */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "uclayers.h"

void uc_say(const char *cmd, const char *what, const char *value,
	    const char *rest)
{
	uc_err(cmd, "%s%s%s", what, value ? value : "", rest ? rest : "");
}

char *uc_union_path(const char *relpath)
{
	char *p = malloc(strlen(relpath) + 2);

	if (p)
		sprintf(p, "%s%s", *relpath ? "/" : "", relpath);
	return p;
}

/* Does the maps file of process DIR map the inode DEV:INO? */
static bool maps_inode(const char *pid, dev_t dev, ino_t ino)
{
	char path[300], line[4096];
	unsigned maj, min;
	unsigned long long i;

	snprintf(path, sizeof path, "/proc/%s/maps", pid);
	FILE *f = fopen(path, "re");
	bool hit = false;

	if (!f)
		return false;
	while (!hit && fgets(line, sizeof line, f))
		hit = sscanf(line, "%*s %*s %*s %x:%x %llu", &maj, &min, &i) == 3 &&
		      i == (unsigned long long)ino && makedev(maj, min) == dev;
	fclose(f);
	return hit;
}

pid_t uc_work_user(const char *work)
{
	char p[4096];
	struct stat st;

	snprintf(p, sizeof p, "%s/#state", work);
	if (stat(p, &st) < 0)
		return 0;
	DIR *d = opendir("/proc");
	pid_t found = 0, self = getpid();

	if (!d)
		return 0;
	for (struct dirent *e; !found && (e = readdir(d));) {
		if (!isdigit((unsigned char)e->d_name[0]) || atoi(e->d_name) == self)
			continue;
		if (maps_inode(e->d_name, st.st_dev, st.st_ino))
			found = atoi(e->d_name);
	}
	closedir(d);
	return found;
}
