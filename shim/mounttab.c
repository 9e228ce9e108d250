/* mounttab.c: the unions in the system's mount tables. A process in a
 * union that reads /proc/self/mountinfo, /proc/self/mounts, /proc/mounts,
 * /etc/mtab (or /proc/PID/mountinfo and mounts of itself) finds, after the
 * kernel's lines, one line per union target: type "unionshim", the
 * mount's own device number (what stat of any of its objects reports),
 * the options as given. df, findmnt, mountpoint and getmntent then see a
 * mount at each target, as they would on kernel overlayfs. The table is
 * a copy in a memfd, made at open: it does not change while it is read.
 *
 * Only absolute names of those tables, opened for reading, are answered
 * so; a nested call (a signal handler's) reads the kernel's own table. */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "forks.h"
#include "front.h"
#include "guard.h"
#include "mounttab.h"
#include "userptr.h"
#include "state.h"
#include "unionshim/scratch.h"
#include "unionshim/identity.h"

#define ID_BASE 1000000 /* mount ids of the unions: far above the kernel's */

/* TABLE_MOUNTINFO or TABLE_MOUNTS for a name of this process's mount
 * table, else TABLE_NONE. */
static int table_kind(const char *path)
{
	static const char *const self[] = {"/proc/self/", "/proc/thread-self/"};
	const char *rest = NULL;

	if (path[1] != 'p' && path[1] != 'e') /* neither /proc nor /etc */
		return TABLE_NONE;
	if (strcmp(path, "/proc/mounts") == 0 || strcmp(path, "/etc/mtab") == 0)
		return TABLE_MOUNTS;
	for (size_t i = 0; i < sizeof self / sizeof self[0] && !rest; i++)
		if (strncmp(path, self[i], strlen(self[i])) == 0)
			rest = path + strlen(self[i]);
	if (!rest && strncmp(path, "/proc/", 6) == 0) {
		char *end;
		long pid = strtol(path + 6, &end, 10);
		if (end != path + 6 && *end == '/' && pid == us_pid())
			rest = end + 1;
	}
	if (!rest)
		return TABLE_NONE;
	if (strcmp(rest, "mountinfo") == 0)
		return TABLE_MOUNTINFO;
	return strcmp(rest, "mounts") == 0 ? TABLE_MOUNTS : TABLE_NONE;
}

int us_mounttab_kind(const char *path, int flags)
{
	if (!path || !us_user_str_ok(path) || path[0] != '/' || us_nested() ||
	    us_cfg.nmounts == 0)
		return TABLE_NONE; /* (a wild pointer: the open answers EFAULT) */
	if ((flags & O_ACCMODE) != O_RDONLY || (flags & (O_PATH | O_DIRECTORY | O_CREAT)))
		return TABLE_NONE;
	return table_kind(path);
}

/* A growing text in the heap. */
struct text {
	char *buf;
	size_t len, cap;
	bool failed;
};

static void put(struct text *t, const char *s, size_t n)
{
	if (t->failed)
		return;
	if (t->len + n + 1 > t->cap) {
		size_t cap = t->cap ? t->cap : 8192;
		while (cap < t->len + n + 1)
			cap *= 2;
		char *b = realloc(t->buf, cap);
		if (!b) {
			t->failed = true;
			return;
		}
		t->buf = b;
		t->cap = cap;
	}
	memcpy(t->buf + t->len, s, n);
	t->len += n;
	t->buf[t->len] = '\0';
}

static void puts_(struct text *t, const char *s)
{
	put(t, s, strlen(s));
}

/* S as the kernel writes a path in a table: space, tab, newline, backslash
 * and (inside options) comma as \ooo. */
static void put_escaped(struct text *t, const char *s, bool option)
{
	for (; *s; s++) {
		if (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\\' ||
		    (option && *s == ',')) {
			char oct[5];
			snprintf(oct, sizeof oct, "\\%03o", (unsigned char)*s);
			put(t, oct, 4);
		} else {
			put(t, s, 1);
		}
	}
}

/* M's options, as given (overlayfs's names). */
static void put_options(struct text *t, const struct us_mount *m,
			bool relatime)
{
	puts_(t, m->has_upper ? "rw," : "ro,");
	puts_(t, relatime ? "relatime,lowerdir=" : "lowerdir=");
	for (int i = m->has_upper; i < m->nlayers; i++) {
		if (i > m->has_upper)
			puts_(t, ":");
		put_escaped(t, m->layers[i].path, true);
	}
	if (m->has_upper) {
		puts_(t, ",upperdir=");
		put_escaped(t, m->layers[0].path, true);
		puts_(t, ",workdir=");
		put_escaped(t, m->work, true);
	}
}

/* Field N (0-based, space-separated) of LINE, unescaped into OUT. */
static bool field(const char *line, int n, char *out, size_t outlen)
{
	while (n-- > 0) {
		line = strchr(line, ' ');
		if (!line)
			return false;
		line++;
	}
	size_t o = 0;
	for (; *line && *line != ' ' && *line != '\n' && o + 1 < outlen; o++) {
		if (line[0] == '\\' && line[1] >= '0' && line[1] <= '3' &&
		    line[2] >= '0' && line[2] <= '7' && line[3] >= '0' && line[3] <= '7') {
			out[o] = (char)((line[1] - '0') * 64 + (line[2] - '0') * 8 + (line[3] - '0'));
			line += 4;
		} else {
			out[o] = *line++;
		}
	}
	out[o] = '\0';
	return true;
}

/* The mount id of the kernel's mount holding TARGET: the last line of
 * mountinfo text REAL whose mount point is TARGET or above it. */
static long parent_id(const char *real, const char *target)
{
	US_SCRATCH_SCOPE;
	char *point = us_scratch_push(PATH_MAX), id[32];
	long best = 1;
	size_t best_len = 0;

	for (const char *line = real; point && line && *line;) {
		if (field(line, 4, point, PATH_MAX) && field(line, 0, id, sizeof id)) {
			size_t n = strlen(point);
			bool above = strcmp(point, "/") == 0 ||
				     (strncmp(target, point, n) == 0 &&
				      (target[n] == '/' || target[n] == '\0'));
			if (above && (n >= best_len || strcmp(point, "/") == 0)) {
				best = strtol(id, NULL, 10);
				best_len = strcmp(point, "/") == 0 ? 1 : n;
			}
		}
		line = strchr(line, '\n');
		line = line ? line + 1 : NULL;
	}
	return best;
}

static void put_lines(struct text *t, int kind, const char *real)
{
	char num[64];

	for (int i = 0; i < us_cfg.nmounts; i++) {
		const struct us_mount *m = &us_cfg.mounts[i];
		if (kind == TABLE_MOUNTINFO) {
			dev_t dev = us_mount_dev(m);
			snprintf(num, sizeof num, "%d %ld %u:%u / ", ID_BASE + i,
				 parent_id(real, m->target), major(dev), minor(dev));
			puts_(t, num);
			put_escaped(t, m->target, false);
			puts_(t, m->has_upper ? " rw,relatime - unionshim unionshim "
					      : " ro,relatime - unionshim unionshim ");
		} else {
			puts_(t, "unionshim ");
			put_escaped(t, m->target, false);
			puts_(t, " unionshim ");
		}
		put_options(t, m, kind == TABLE_MOUNTS);
		puts_(t, kind == TABLE_MOUNTS ? " 0 0\n" : "\n");
	}
}

/* The kernel's table at PATH, read whole. */
static int read_real(const char *path, struct text *t)
{
	int fd = US_REAL(open)(path, O_RDONLY | O_CLOEXEC);
	char buf[4096];
	ssize_t n;

	if (fd < 0)
		return -1;
	while ((n = US_REAL(read)(fd, buf, sizeof buf)) > 0)
		put(t, buf, (size_t)n);
	int saved = errno;
	US_REAL(close)(fd);
	errno = saved;
	return n < 0 ? -1 : 0;
}

int us_mounttab_open(const char *path, int kind, int flags)
{
	struct text t = {0};
	int fd = -1;

	if (read_real(path, &t) < 0)
		goto out;
	put(&t, "", 0); /* an empty table is still a string */
	put_lines(&t, kind, t.buf ? t.buf : "");
	if (t.failed) {
		errno = ENOMEM;
		goto out;
	}
	fd = memfd_create(kind == TABLE_MOUNTINFO ? "mountinfo" : "mounts",
			  (flags & O_CLOEXEC) ? MFD_CLOEXEC : 0);
	if (fd < 0)
		goto out;
	for (size_t off = 0; off < t.len;) {
		ssize_t w = write(fd, t.buf + off, t.len - off);
		if (w <= 0) {
			int saved = w < 0 ? errno : EIO;
			US_REAL(close)(fd);
			fd = -1;
			errno = saved;
			goto out;
		}
		off += (size_t)w;
	}
	US_REAL(lseek)(fd, 0, SEEK_SET);
out:
	free(t.buf);
	return fd;
}
