/* fdmap/exec.c: the fd map across exec. Before an exec the entries the new
 * image cannot rebuild by itself (fds on a lower file, which must keep
 * watching for a copy-up, with the generation they saw, and fds with a lock
 * proxy) are written into UNIONSHIM_FDMAP as "fd:group:proxy:gen;" (fds of
 * one group share an open file description); fds that close on exec are
 * left out, and a proxy whose open file description survives is made
 * inheritable so the locks on it survive like real ones. The new image
 * reads the list back at startup, checking each fd against the kernel's
 * view. What a child did to its fds where the map cannot follow (a vfork
 * child's dups, opens and closes; posix_spawn file actions) is replayed
 * on the map when the list is made; an fd opened there is listed with
 * generation 0, and the new image moves it to an upper copy at once if
 * one exists. An fd opened by a layer's own path from outside the union
 * crosses as "fd:-1:-1:0;": the new image keeps it that path instead of
 * reading it back as the union object there. Fds the program never opened
 * through the shim are left alone. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "unionshim/fdmaptext.h"
#define US_FDMAP_INSIDE
#include "fdmap_priv.h"
#include "../forks.h"
#include "../state.h"
#include "unionshim/scratch.h"

#define MAX_GROUPS 2048 /* more than a full UNIONSHIM_FDMAP can name */

/* The lowest fd sharing E's open file description (locked). */
static int group_of(int fd, const struct us_fdent *e)
{
	for (int f = 0; e->ofd && f < fd; f++) {
		struct us_fdent *o = us_fdent_peek(f);
		if (o && o->kind == US_FD_UNION && o->ofd == e->ofd)
			return f;
	}
	return fd;
}

/* Does LIST (an UNIONSHIM_FDMAP value) name PROXY before UPTO? */
static bool listed(const char *list, const char *upto, int proxy)
{
	int fd, group, p;
	unsigned gen;

	for (const char *s = list; s < upto && *s; s = strchr(s, ';') + 1) {
		if (sscanf(s, "%d:%d:%d:%u", &fd, &group, &p, &gen) == 4 && p == proxy)
			return true;
		if (!strchr(s, ';'))
			break;
	}
	return false;
}

/* Proxy PROXY of OFD crosses an exec: inheritable while any exec or spawn
 * of this process that lists it is under way (counted: two threads may
 * hand one proxy at once). A vfork child's fd table is its own but its
 * memory is not: it changes only the fd (locked). */
static void hand_over(struct us_ofd *ofd, int proxy, bool child)
{
	if (child || ofd->handed++ == 0)
		US_REAL(fcntl)(proxy, F_SETFD, 0);
}

/* Is the child's fd F, of fate FATE after the ops (fdops.h), still open
 * in the new image? A vfork child asks the kernel about its own fd; a
 * spawn's parent asks about its fd the child inherits, when no op set
 * the flag. */
static bool survives(int f, struct us_fdfate fate, bool child)
{
	int cl = 0;

	if (child || (fate.cloexec < 0 && fate.from >= 0)) {
		cl = US_REAL(fcntl)(child ? f : fate.from, F_GETFD);
		if (cl < 0)
			return false;
		if (child)
			return !(cl & FD_CLOEXEC);
	}
	return us_fdops_survives(fate, cl & FD_CLOEXEC);
}

/* Is FD open on a real path inside some layer? */
static bool in_layer(int fd)
{
	US_SCRATCH_SCOPE;
	char proc[40], *real = us_scratch_push(PATH_MAX);

	if (!real)
		return false;
	snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
	ssize_t n = US_REAL(readlink)(proc, real, PATH_MAX - 1);
	if (n <= 0 || real[0] != '/')
		return false;
	real[n] = '\0';
	for (int k = 0; k < us_cfg.nmounts; k++)
		if (us_layer_of(&us_cfg.mounts[k], real) >= 0)
			return true;
	return false;
}

/* One entry into BUF at *USED; false when it is full (the rest keep what
 * they read). */
static bool put(char *buf, size_t len, size_t *used, int fd, int group,
		int proxy, unsigned gen)
{
	struct us_fdmap_rec r = {fd, group, proxy, gen};

	return us_fdmaptext_put(buf, len, used, &r);
}

void us_fdmap_export(char *buf, size_t len, const struct us_fdop *ops,
		     int nops)
{
	size_t used = 0;
	bool child = false;

	buf[0] = '\0';
	if (!ops && (ops = us_fdmap_vfork_ops(&nops)))
		child = true; /* what this vfork child did since */
	int top = us_fdops_top(ops, nops, us_fdmap_top);
	if (!us_fdmap_lock())
		return; /* a nested call: nothing crosses (fdmap.h) */
	for (int f = 0; f <= top; f++) {
		struct us_fdfate fate = us_fdops_fate(ops, nops, f);
		int o = fate.from;
		if (o == US_FDFATE_OPENED) { /* the new image finds out what it is */
			if (survives(f, fate, child) &&
			    !put(buf, len, &used, f, f, -1, 0))
				break;
			continue;
		}
		struct us_fdent *e = o >= 0 ? us_fdent_peek(o) : NULL;
		if (e && e->kind == US_FD_OUTSIDE) {
			if (survives(f, fate, child) &&
			    in_layer(child ? f : o) &&
			    !put(buf, len, &used, f, US_FDMAP_OUTSIDE, -1, 0))
				break;
			continue;
		}
		if (!e || e->kind != US_FD_UNION)
			continue;
		int proxy = e->ofd ? e->ofd->proxy : -1;
		if (!e->watch && proxy < 0)
			continue;
		if (!survives(f, fate, child))
			continue;
		size_t at = used;
		if (!put(buf, len, &used, f, group_of(o, e), proxy,
			 e->watch ? e->gen : 0))
			break;
		if (proxy >= 0 && !listed(buf, buf + at, proxy))
			hand_over(e->ofd, proxy, child);
	}
	us_fdmap_unlock();
}

void us_fdmap_exec_failed(const char *list)
{
	int fd, group, proxy;
	unsigned gen;
	bool child = us_fdmap_in_vfork_child();

	if (!us_fdmap_lock())
		return;
	for (const char *s = list; *s; s = strchr(s, ';') + 1) {
		if (sscanf(s, "%d:%d:%d:%u", &fd, &group, &proxy, &gen) != 4)
			break;
		struct us_fdent *p = proxy >= 0 ? us_fdent_peek(proxy) : NULL;
		if (p && p->kind == US_FD_SHIM && p->ofd && !listed(list, s, proxy) &&
		    (child || (p->ofd->handed > 0 && --p->ofd->handed == 0)))
			US_REAL(fcntl)(proxy, F_SETFD, FD_CLOEXEC);
		if (!strchr(s, ';'))
			break;
	}
	us_fdmap_unlock();
}

/* Make the entry of inherited FD (locked) from the kernel's view of it:
 * an fd on a regular file of a union layer; NULL for anything else. */
static struct us_fdent *rebuild(int fd)
{
	US_SCRATCH_SCOPE;
	struct {
		char proc[40];
		char real[US_PATH_MAX];
		char upath[US_PATH_MAX];
	} *sb = us_scratch_push(sizeof *sb);
	if (!sb)
		return NULL;
	const struct us_mount *m;
	struct stat st;

	snprintf(sb->proc, sizeof sb->proc, "/proc/self/fd/%d", fd);
	ssize_t n = US_REAL(readlink)(sb->proc, sb->real, sizeof sb->real - 1);
	if (n <= 0 || sb->real[0] != '/')
		return NULL;
	sb->real[n] = '\0';
	if (us_revmap(&us_cfg, sb->real, sb->upath, sizeof sb->upath, &m) != 1 ||
	    US_REAL(fstat)(fd, &st) < 0 || !S_ISREG(st.st_mode))
		return NULL;
	int layer = us_layer_of(m, sb->real);
	int fl = US_REAL(fcntl)(fd, F_GETFL);
	struct us_fdent *e = us_fdmap_slot(fd);
	if (layer < 0 || fl < 0 || !e)
		return NULL;
	us_fdmap_fill(e, m, layer, fl & O_ACCMODE, st.st_dev, st.st_ino, false);
	return e;
}

void us_fdmap_import(void)
{
	static struct {
		int group;
		struct us_ofd *ofd;
	} groups[MAX_GROUPS];
	int ngroups = 0;
	const char *s = getenv(US_ENV_FDMAP);
	struct us_fdmap_rec r;

	if (!us_fdmap_lock())
		return; /* not at startup: never */
	while (s && us_fdmaptext_next(&s, &r) == 1) {
		int fd = r.fd, group = r.group, proxy = r.proxy;
		unsigned gen = r.gen;
		if (group == US_FDMAP_OUTSIDE) {
			struct us_fdent *o = US_REAL(fcntl)(fd, F_GETFD) >= 0
						     ? us_fdmap_slot(fd)
						     : NULL;
			if (o)
				__atomic_store_n(&o->kind, US_FD_OUTSIDE,
						 __ATOMIC_RELEASE);
			continue;
		}
		struct us_fdent *e = rebuild(fd);
		if (!e)
			continue;
		if (e->watch && gen != 0)
			US_FDENT_SET(e, gen, gen); /* a copy-up since then is seen */
		int g = 0;
		while (g < ngroups && groups[g].group != group)
			g++;
		if (g < ngroups) {
			e->ofd = groups[g].ofd;
			e->ofd->refs++;
		} else if (g < MAX_GROUPS && us_fdmap_ofd(e)) {
			groups[ngroups].group = group;
			groups[ngroups++].ofd = e->ofd;
		}
		if (e->watch && gen == 0) /* opened by the child: copied up? */
			us_fdmap_move_to_copy(fd, e);
		struct us_fdent *p = proxy >= 0 ? us_fdmap_slot(proxy) : NULL;
		if (p && e->ofd && e->ofd->proxy < 0 &&
		    US_REAL(fcntl)(proxy, F_SETFD, FD_CLOEXEC) == 0) {
			p->kind = US_FD_SHIM;
			p->ofd = e->ofd;
			e->ofd->proxy = proxy;
			us_fdmap_proxies++;
		}
	}
	us_fdmap_unlock();
}
