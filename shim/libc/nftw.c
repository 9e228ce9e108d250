/* nftw.c: ftw and nftw (and their 64 names), rebuilt on the shim's own
 * wrappers (US_SELF, names.h: never a program's functions of those names).
 *
 * glibc walks with internal opendir/stat calls no preload library sees.
 * This walk behaves as glibc 2.36's (flags, type flags, FTW_ACTIONRETVAL,
 * return values, the order of callbacks and chdirs, silent skipping of a
 * dir met twice in a logical walk or across a mount with FTW_MOUNT) but
 * runs as program code: every opendir/readdir/stat/lstat/chdir below goes
 * through our wrappers, and no shim guard is held while the program's
 * callback runs.
 *
 * One difference: a directory is read to the end and closed before its
 * entries are visited, so the walk holds one directory stream at a time
 * whatever NOPENFD says. With FTW_CHDIR the way back up is therefore not
 * an fd of the parent: we return to the start directory and chdir along
 * the parent's path (relative to it), which also stays right when the
 * parent was reached through a symlink. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <search.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../guard.h"
#include "../real.h"

typedef int (*nftw_fn)(const char *, const struct stat *, int, struct FTW *);
typedef int (*ftw_fn)(const char *, const struct stat *, int);

#define NFTW_FLAGS (FTW_PHYS | FTW_MOUNT | FTW_CHDIR | FTW_DEPTH | FTW_ACTIONRETVAL)

struct walk {
	char *path; /* the object being visited, as the callback sees it */
	size_t cap;
	struct FTW ftw;
	int flags;
	nftw_fn nfn; /* exactly one of NFN and FN is set */
	ftw_fn fn;
	dev_t dev;  /* of the start dir, for FTW_MOUNT */
	void *seen; /* dirs visited by a logical walk (tsearch tree) */
	int cwdfd;  /* FTW_CHDIR: the start directory, or -1 */
	char *cwd;  /* ... or its name when it could not be opened */
};

struct seen_dir {
	dev_t dev;
	ino_t ino;
};

static int seen_cmp(const void *a, const void *b)
{
	const struct seen_dir *x = a, *y = b;

	if (x->ino != y->ino)
		return x->ino < y->ino ? -1 : 1;
	if (x->dev != y->dev)
		return x->dev < y->dev ? -1 : 1;
	return 0;
}

/* 1 if ST was seen before; else remembers it and returns 0; -1 ENOMEM. */
static int seen_before(struct walk *w, const struct stat *st)
{
	struct seen_dir key = { st->st_dev, st->st_ino };

	if (tfind(&key, &w->seen, seen_cmp))
		return 1;
	struct seen_dir *n = malloc(sizeof *n);
	if (!n)
		return -1;
	*n = key;
	if (!tsearch(n, &w->seen, seen_cmp)) {
		free(n);
		errno = ENOMEM;
		return -1;
	}
	return 0;
}

/* ftw() knows fewer type flags than nftw(): map onto its set. */
static int report(struct walk *w, const struct stat *st, int flag)
{
	if (w->nfn)
		return w->nfn(w->path, st, flag, &w->ftw);
	switch (flag) {
	case FTW_SL:
		flag = FTW_F;
		break;
	case FTW_DP:
		flag = FTW_D;
		break;
	case FTW_SLN:
		flag = FTW_NS;
		break;
	}
	return w->fn(w->path, st, flag);
}

/* The name to hand to opendir/stat: relative to the cwd with FTW_CHDIR. */
static const char *access_name(const struct walk *w)
{
	if (!(w->flags & FTW_CHDIR))
		return w->path;
	return w->path[w->ftw.base] ? w->path + w->ftw.base : ".";
}

static int reserve(struct walk *w, size_t need)
{
	if (need <= w->cap)
		return 0;
	size_t ncap = need * 2;
	char *p = realloc(w->path, ncap);
	if (!p)
		return -1;
	w->path = p;
	w->cap = ncap;
	return 0;
}

/* Back to the start directory. */
static int chdir_start(const struct walk *w)
{
	return w->cwdfd >= 0 ? US_SELF(fchdir)(w->cwdfd) : US_SELF(chdir)(w->cwd);
}

/* FTW_CHDIR: make the directory holding the current object (the first
 * LEN bytes of the path, LEN >= 1) the cwd again. */
static int chdir_parent(struct walk *w, size_t len)
{
	if (w->path[0] != '/' && chdir_start(w) < 0)
		return -1;
	if (len == 1)
		return US_SELF(chdir)("/");
	char c = w->path[len - 1];
	w->path[len - 1] = '\0';
	int rc = US_SELF(chdir)(w->path);
	w->path[len - 1] = c;
	return rc;
}

/* A directory's entries: each one a d_type byte then the NUL-ended name,
 * the list ended by an empty name. */
static char *read_entries(DIR *dir)
{
	size_t used = 0, cap = 1024;
	char *buf = malloc(cap);
	struct dirent *d;

	if (!buf)
		return NULL;
	while ((d = US_SELF(readdir)(dir)) != NULL) {
		const char *n = d->d_name;
		if (n[0] == '.' && (!n[1] || (n[1] == '.' && !n[2])))
			continue;
		size_t len = strlen(n);
		/* this entry (type, name, NUL) and the end mark (two bytes) */
		if (used + len + 4 > cap) {
			cap = (used + len + 4) * 2;
			char *nb = realloc(buf, cap);
			if (!nb) {
				free(buf);
				return NULL;
			}
			buf = nb;
		}
		buf[used++] = (char)d->d_type;
		memcpy(buf + used, n, len + 1);
		used += len + 1;
	}
	buf[used] = 0;
	buf[used + 1] = '\0';
	return buf;
}

static int walk_entry(struct walk *w, const char *name, unsigned char d_type);

static int walk_dir(struct walk *w, const struct stat *st, int top)
{
	size_t prev_base = (size_t)w->ftw.base;
	size_t dirlen = strlen(w->path), len = dirlen;
	DIR *dir = US_SELF(opendir)(access_name(w));
	int rc = 0;

	if (!dir)
		return errno == EACCES ? report(w, st, FTW_DNR) : -1;
	if (!(w->flags & FTW_DEPTH))
		rc = report(w, st, FTW_D);
	if (rc == 0 && (w->flags & FTW_CHDIR) && US_SELF(fchdir)(dirfd(dir)) < 0)
		rc = -1;
	char *entries = rc == 0 ? read_entries(dir) : NULL;
	int saved = errno;
	US_SELF(closedir)(dir);
	errno = saved;
	if (rc != 0)
		return rc;
	if (!entries)
		return -1;

	if (reserve(w, len + 2) < 0) {
		free(entries);
		return -1;
	}
	if (w->path[len - 1] != '/')
		w->path[len++] = '/';
	w->path[len] = '\0';
	w->ftw.base = (int)len;
	w->ftw.level++;
	for (const char *e = entries; e[1]; e += strlen(e + 1) + 2) {
		rc = walk_entry(w, e + 1, (unsigned char)e[0]);
		if (rc != 0)
			break;
	}
	saved = errno;
	free(entries);
	errno = saved;
	if ((w->flags & FTW_ACTIONRETVAL) && rc == FTW_SKIP_SIBLINGS)
		rc = 0;
	w->ftw.level--;
	w->ftw.base = (int)prev_base;
	w->path[dirlen] = '\0';

	if (rc == 0 && (w->flags & FTW_DEPTH))
		rc = report(w, st, FTW_DP);
	if (!top && (w->flags & FTW_CHDIR) &&
	    (rc == 0 || ((w->flags & FTW_ACTIONRETVAL) && rc != -1 &&
			 rc != FTW_STOP)) &&
	    chdir_parent(w, prev_base) < 0)
		rc = -1;
	return rc;
}

static int walk_entry(struct walk *w, const char *name, unsigned char d_type)
{
	size_t base = (size_t)w->ftw.base, nlen = strlen(name);
	struct stat st;
	int flag, rc = 0;

	if (reserve(w, base + nlen + 2) < 0)
		return -1;
	memcpy(w->path + base, name, nlen + 1);
	const char *acc = access_name(w);
	memset(&st, 0, sizeof st);
	if (((w->flags & FTW_PHYS) ? US_SELF(lstat)(acc, &st) : US_SELF(stat)(acc, &st)) < 0) {
		if (errno != EACCES && errno != ENOENT)
			return -1;
		if (w->flags & FTW_PHYS)
			flag = FTW_NS;
		else if (US_SELF(lstat)(acc, &st) == 0 && S_ISLNK(st.st_mode))
			flag = FTW_SLN; /* a dangling symlink */
		else if (d_type == DT_LNK)
			flag = FTW_SLN;
		else
			flag = FTW_NS;
	} else if (S_ISDIR(st.st_mode)) {
		flag = FTW_D;
	} else {
		flag = S_ISLNK(st.st_mode) ? FTW_SL : FTW_F;
	}

	if (flag != FTW_NS && (w->flags & FTW_MOUNT) && st.st_dev != w->dev)
		return 0; /* another filesystem: not visited at all */
	if (flag != FTW_D) {
		rc = report(w, &st, flag);
	} else if (w->flags & FTW_PHYS) {
		rc = walk_dir(w, &st, 0);
	} else {
		int seen = seen_before(w, &st);
		rc = seen < 0 ? -1 : seen ? 0 : walk_dir(w, &st, 0);
	}
	if ((w->flags & FTW_ACTIONRETVAL) && rc == FTW_SKIP_SUBTREE)
		rc = 0;
	return rc;
}

/* FTW_CHDIR: remember the start directory and enter the one that holds
 * the start object. */
static int chdir_begin(struct walk *w)
{
	w->cwdfd = US_SELF(open)(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (w->cwdfd < 0) {
		/* a cwd we may search but not read: keep its name instead */
		if (errno != EACCES || !(w->cwd = US_SELF(getcwd)(NULL, 0)))
			return -1;
	}
	if (w->ftw.base == 0)
		return 0;
	return chdir_parent(w, (size_t)w->ftw.base);
}

static int walk_start(struct walk *w)
{
	const char *acc = access_name(w);
	struct stat st;

	memset(&st, 0, sizeof st);
	if (((w->flags & FTW_PHYS) ? US_SELF(lstat)(acc, &st) : US_SELF(stat)(acc, &st)) < 0) {
		if (!(w->flags & FTW_PHYS) && errno == ENOENT &&
		    US_SELF(lstat)(acc, &st) == 0 && S_ISLNK(st.st_mode))
			return report(w, &st, FTW_SLN);
		return -1; /* nothing to say about it: no callback */
	}
	if (!S_ISDIR(st.st_mode))
		return report(w, &st, S_ISLNK(st.st_mode) ? FTW_SL : FTW_F);
	w->dev = st.st_dev;
	if (!(w->flags & FTW_PHYS) && seen_before(w, &st) < 0)
		return -1;
	return walk_dir(w, &st, 1);
}

static int walk(const char *dir, nftw_fn nfn, ftw_fn fn, int flags)
{
	struct walk w = { .nfn = nfn, .fn = fn, .flags = flags, .cwdfd = -1 };
	size_t len = strlen(dir);
	int rc = 0, caller = errno;

	if (len == 0) {
		errno = ENOENT;
		return -1;
	}
	if (reserve(&w, len + 1 > PATH_MAX ? len + 1 : PATH_MAX) < 0)
		return -1;
	memcpy(w.path, dir, len + 1);
	while (len > 1 && w.path[len - 1] == '/')
		w.path[--len] = '\0';
	size_t base = len;
	while (base > 0 && w.path[base - 1] != '/')
		base--;
	w.ftw.base = (int)base;

	if ((flags & FTW_CHDIR) && chdir_begin(&w) < 0)
		rc = -1;
	if (rc == 0) {
		rc = walk_start(&w);
		if ((flags & FTW_ACTIONRETVAL) &&
		    (rc == FTW_SKIP_SUBTREE || rc == FTW_SKIP_SIBLINGS))
			rc = 0;
	}

	int saved = errno;
	if (w.cwdfd >= 0 || w.cwd) {
		(void)chdir_start(&w); /* the walk's result and errno stand */
		if (w.cwdfd >= 0)
			US_SELF(close)(w.cwdfd);
		free(w.cwd);
	}
	tdestroy(w.seen, free);
	free(w.path);
	errno = saved;
	return us_kept(rc, caller); /* a walk done (or stopped) keeps errno */
}

US_EXPORT int nftw(const char *dir, nftw_fn fn, int nopenfd, int flags)
{
	(void)nopenfd; /* one stream at a time: see the top of this file */
	if (flags & ~NFTW_FLAGS) {
		errno = EINVAL;
		return -1;
	}
	return walk(dir, fn, NULL, flags);
}

US_EXPORT int ftw(const char *dir, ftw_fn fn, int nopenfd)
{
	(void)nopenfd;
	return walk(dir, NULL, fn, 0);
}

_Static_assert(sizeof(struct stat) == sizeof(struct stat64),
	       "x86-64: stat64 is stat");

US_EXPORT int nftw64(const char *,
		     int (*)(const char *, const struct stat64 *, int,
			     struct FTW *),
		     int, int) __attribute__((alias("nftw")));
US_EXPORT int ftw64(const char *,
		    int (*)(const char *, const struct stat64 *, int), int)
	__attribute__((alias("ftw")));
