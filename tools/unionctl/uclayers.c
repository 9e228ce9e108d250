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

static pid_t work_user(const char *work)
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

static char *overlay_mount(const char *upper)
{
	FILE *f = fopen("/proc/self/mountinfo", "re");
	char *line = NULL, *found = NULL, *want = malloc(strlen(upper) + 10);
	size_t cap = 0;

	if (!f || !want) {
		if (f)
			fclose(f);
		free(want);
		return NULL;
	}
	sprintf(want, "upperdir=%s", upper);
	while (!found && getline(&line, &cap, f) > 0) {
		char mnt[4096], type[64];
		char *sep = strstr(line, " - ");
		if (!sep || sscanf(line, "%*s %*s %*s %*s %4095s", mnt) != 1 ||
		    sscanf(sep + 3, "%63s", type) != 1 || strcmp(type, "overlay"))
			continue;
		line[strcspn(line, "\n")] = '\0';
		for (char *o = strtok(strrchr(line, ' ') + 1, ","); o && !found;
		     o = strtok(NULL, ","))
			if (strcmp(o, want) == 0)
				found = strdup(mnt);
	}
	free(line);
	free(want);
	fclose(f);
	return found;
}

bool uc_layers_busy(const struct uc_layers *l, const char *cmd)
{
	pid_t user = l->cwork ? work_user(l->cwork) : 0;
	char *ovl = user ? NULL : overlay_mount(l->cupper);
	char pid[32];

	snprintf(pid, sizeof pid, "%d", (int)user);
	if (user)
		uc_say(cmd, "the work dir is in use by process ", pid,
		       ": run it when no union process runs");
	else if (ovl)
		uc_say(cmd, "the upper is mounted by kernel overlayfs at ", ovl,
		       ": run it once unmounted");
	free(ovl);
	return user || ovl;
}
