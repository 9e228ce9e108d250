/* uclayers.c: the layer options of unionctl's commands, checked by the
 * core's own configuration code, and the messages they print. The mount
 * is built as the shim builds it (layer 0 the upper, then the lowers,
 * topmost first): the link index names lower layers by that number. */
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
#include "unionshim/path.h"
#include "unionshim/msgline.h"

void uc_say(const char *cmd, const char *what, const char *value,
	    const char *rest)
{
	struct us_msg m;

	us_msg_start(&m, 2, "unionctl ");
	us_msg_raw(&m, cmd);
	us_msg_raw(&m, ": ");
	us_msg_raw(&m, what);
	if (value)
		us_msg_val(&m, value);
	if (rest)
		us_msg_raw(&m, rest);
	us_msg_end(&m);
}

int uc_layers_option(struct uc_layers *l, const char *cmd, int opt,
		     const char *arg)
{
	const char **slot = opt == 'u' ? &l->upper : opt == 'w' ? &l->work : NULL;

	if (slot && *slot) {
		uc_say(cmd, opt == 'u' ? "--upper given twice" : "--work given twice",
		       NULL, NULL);
		return -1;
	}
	if (slot) {
		*slot = arg;
		return 0;
	}
	if (l->nlower == US_MAX_LAYERS - 1) {
		uc_say(cmd, "too many --lower dirs", NULL, NULL);
		return -1;
	}
	l->lower[l->nlower++] = arg;
	return 0;
}

/* S into the spec at *P, with the spec's separators escaped. */
static void put_escaped(char **p, const char *s)
{
	for (; *s; s++) {
		if (strchr(",:;\\", *s))
			*(*p)++ = '\\';
		*(*p)++ = *s;
	}
}

static char *build_spec(const struct uc_layers *l, bool full)
{
	size_t n = 64 + 2 * (strlen(l->upper) * 2 + (l->work ? strlen(l->work) : 0));
	for (int i = 0; i < l->nlower; i++)
		n += 2 * strlen(l->lower[i]) + 1;
	char *spec = malloc(n), *p = spec;

	if (!spec)
		return NULL;
	p += sprintf(p, "target=");
	put_escaped(&p, full ? l->lower[0] : l->upper);
	p += sprintf(p, ",lowerdir=");
	if (!full) {
		put_escaped(&p, l->upper);
		if (l->nlower)
			*p++ = ':';
	}
	for (int i = 0; i < l->nlower; i++) {
		if (i)
			*p++ = ':';
		put_escaped(&p, l->lower[i]);
	}
	if (full) {
		p += sprintf(p, ",upperdir=");
		put_escaped(&p, l->upper);
		p += sprintf(p, ",workdir=");
		put_escaped(&p, l->work);
	}
	*p = '\0';
	return spec;
}

/* Without a lower the core cannot check the work dir: the same rules by
 * hand (a dir, on the upper's filesystem, apart from it). */
static int check_work(const struct uc_layers *l, const char *cmd)
{
	struct stat ws, us;
	char *w = realpath(l->work, NULL), *u = realpath(l->upper, NULL);
	int rc = -1;

	if (!w || stat(w, &ws) < 0 || !S_ISDIR(ws.st_mode))
		uc_say(cmd, "workdir ", l->work, " is not a directory");
	else if (!u || stat(u, &us) < 0)
		uc_say(cmd, "upperdir ", l->upper, " is not a directory");
	else if (ws.st_dev != us.st_dev)
		uc_say(cmd, "workdir ", l->work, " is not on the upper's filesystem");
	else if (strcmp(w, u) == 0 ||
		 (strncmp(w, u, strlen(u)) == 0 && w[strlen(u)] == '/') ||
		 (strncmp(u, w, strlen(w)) == 0 && u[strlen(w)] == '/'))
		uc_say(cmd, "upperdir and workdir overlap: ", l->work, NULL);
	else
		rc = 0;
	free(w);
	free(u);
	return rc;
}

/* The read-only form of the mount lists the upper as a lower, which the
 * core lets a lower share with another: refuse an upper nested with a
 * lower here (overlayfs and the shim refuse it too). */
static bool nested_layers(const struct us_mount *m, const char *cmd)
{
	const struct us_layer *u = &m->layers[0];

	for (int i = 1; i < m->nlayers; i++) {
		const struct us_layer *w = &m->layers[i];
		if (us_path_under(u->path, w->path, w->len) ||
		    us_path_under(w->path, u->path, u->len)) {
			uc_say(cmd, "upperdir and a lowerdir nest: ", w->path, NULL);
			return true;
		}
	}
	return false;
}

int uc_layers_open(struct uc_layers *l, const char *cmd)
{
	char err[512];

	if (!l->upper) {
		uc_say(cmd, "--upper DIR is required", NULL, NULL);
		return -1;
	}
	bool full = l->work && l->nlower > 0;
	if (l->work && !full && check_work(l, cmd) < 0)
		return -1;
	char *spec = build_spec(l, full);
	if (!spec || us_config_parse(spec, &l->cfg, err, sizeof err) < 0 ||
	    us_config_validate(&l->cfg, err, sizeof err) < 0) {
		free(spec);
		uc_say(cmd, spec ? err : "out of memory", NULL, NULL);
		return -1;
	}
	free(spec);
	l->m = &l->cfg.mounts[0];
	if (!full && nested_layers(l->m, cmd)) {
		us_config_free(&l->cfg);
		return -1;
	}
	l->work_real = l->work ? realpath(l->work, NULL) : NULL;
	return 0;
}

void uc_layers_close(struct uc_layers *l)
{
	us_config_free(&l->cfg);
	free(l->work_real);
}

char *uc_union_path(const struct uc_layers *l, const char *relpath)
{
	char *p = malloc(l->m->target_len + strlen(relpath) + 2);

	if (p)
		sprintf(p, "%s%s%s", l->m->target, *relpath ? "/" : "", relpath);
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
