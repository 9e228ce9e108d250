/* fdexec.c: the fd map across exec. Before an exec the entries the new
 * image cannot rebuild by itself (fds on a lower file, which must keep
 * watching for a copy-up, and fds with a lock proxy) are written into
 * UNIONSHIM_FDMAP as "fd:group:proxy:gen;" (fds of one group share an open
 * file description); fds that close on exec are left out, and a proxy
 * whose open file description survives is made inheritable so the locks
 * on it survive like real ones. The new image reads the list back at
 * startup, checking each fd against the kernel's view. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fdmap.h"
#include "state.h"

#define MAX_HANDED 64

static int handed[MAX_HANDED]; /* proxies made inheritable for an exec */
static int nhanded;

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

static void hand_over(int proxy)
{
	for (int i = 0; i < nhanded; i++)
		if (handed[i] == proxy)
			return;
	if (nhanded < MAX_HANDED &&
	    US_REAL(fcntl)(proxy, F_SETFD, 0) == 0)
		handed[nhanded++] = proxy;
}

void us_fdmap_export(char *buf, size_t len)
{
	size_t used = 0;

	buf[0] = '\0';
	nhanded = 0;
	us_fdmap_lock();
	for (int f = 0; f <= us_fdmap_top; f++) {
		struct us_fdent *e = us_fdent_peek(f);
		if (!e || e->kind != US_FD_UNION)
			continue;
		int proxy = e->ofd ? e->ofd->proxy : -1;
		if (!e->watch && proxy < 0)
			continue;
		int cl = US_REAL(fcntl)(f, F_GETFD);
		if (cl < 0 || (cl & FD_CLOEXEC))
			continue;
		int n = snprintf(buf + used, len - used, "%d:%d:%d:%u;", f,
				 group_of(f, e), proxy, e->watch ? e->gen : 0);
		if (n < 0 || (size_t)n >= len - used) {
			buf[used] = '\0'; /* full: the rest is rebuilt lazily */
			break;
		}
		used += (size_t)n;
		if (proxy >= 0)
			hand_over(proxy);
	}
	us_fdmap_unlock();
}

void us_fdmap_exec_failed(void)
{
	for (int i = 0; i < nhanded; i++)
		US_REAL(fcntl)(handed[i], F_SETFD, FD_CLOEXEC);
	nhanded = 0;
}

/* Make the entry of inherited FD from the kernel's view of it. */
static struct us_fdent *rebuild(int fd)
{
	char proc[40], real[PATH_MAX], upath[PATH_MAX];
	const struct us_mount *m;
	struct stat st;

	snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
	ssize_t n = US_REAL(readlink)(proc, real, sizeof real - 1);
	if (n <= 0 || US_REAL(fstat)(fd, &st) < 0 || !S_ISREG(st.st_mode))
		return NULL;
	real[n] = '\0';
	if (us_revmap(&us_cfg, real, upath, sizeof upath, &m) != 1)
		return NULL;
	int layer = us_layer_of(m, real);
	int fl = US_REAL(fcntl)(fd, F_GETFL);
	struct us_fdent *e = us_fdmap_slot(fd);
	if (layer < 0 || fl < 0 || !e)
		return NULL;
	us_fdmap_fill(e, m, layer, fl & O_ACCMODE, st.st_dev, st.st_ino, false);
	return e;
}

void us_fdmap_import(void)
{
	const char *s = getenv(US_ENV_FDMAP);
	struct {
		int group;
		struct us_ofd *ofd;
	} groups[MAX_HANDED];
	int ngroups = 0;

	if (!s || !*s)
		return;
	us_fdmap_lock();
	for (; *s; s = strchr(s, ';') ? strchr(s, ';') + 1 : s + strlen(s)) {
		int fd, group, proxy;
		unsigned gen;
		if (sscanf(s, "%d:%d:%d:%u", &fd, &group, &proxy, &gen) != 4)
			break;
		struct us_fdent *e = rebuild(fd);
		if (!e)
			continue;
		if (e->watch)
			e->gen = gen; /* a copy-up since then is seen */
		int g = 0;
		while (g < ngroups && groups[g].group != group)
			g++;
		if (g < ngroups) {
			e->ofd = groups[g].ofd;
			e->ofd->refs++;
		} else if (g < MAX_HANDED && us_fdmap_ofd(e)) {
			groups[ngroups].group = group;
			groups[ngroups++].ofd = e->ofd;
		}
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
