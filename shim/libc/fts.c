/* fts.c: fts_open, fts_read, fts_children, fts_set, fts_close (and the
 * fts64_* names), rebuilt on the shim's own opendir/readdir/stat/lstat
 * (US_SELF, names.h: never a program's functions of those names).
 *
 * glibc's fts reads and stats through internal calls no preload library
 * sees. This one keeps the <fts.h> structures and glibc 2.36's visible
 * behaviour (fts_info values, pre- and post-order visits, FTS_DNR after
 * FTS_D for an unreadable dir, cycle detection against the ancestors,
 * FTS_XDEV, FTS_SEEDOT, FTS_NOSTAT via d_type, FTS_COMFOLLOW, fts_set
 * instructions, compar ordering, errno 0 at the end of the walk) and runs
 * as program code: no shim guard is held, so the calls reach our
 * wrappers and the compar callback is the program's.
 *
 * Differences, all allowed by the interface:
 * - The walk always behaves as FTS_NOCHDIR (the option is set in
 *   fts_options): the cwd never changes and fts_accpath == fts_path.
 *   Following ".." and fds of union dirs through chdir would only add
 *   ways to get lost; paths reach the same objects.
 * - Every entry owns its fts_path (glibc's entries share one buffer that
 *   holds only the current path), so paths of fts_children() lists are
 *   usable too.
 * - FTS_NOSTAT trusts d_type only, never the parent's st_nlink: a union
 *   dir's link count says nothing about the subdirs the layers merge.
 * - fts_statp is always allocated; FTS_NSOK entries have it zeroed. */
#include <dirent.h>
#include <errno.h>
#include <fts.h>
#include <limits.h>
#include <stdalign.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../guard.h"
#include "../real.h"

typedef int (*fts_compar_fn)(const FTSENT **, const FTSENT **);

/* How fts_build is called. */
enum build { BUILD_READ, BUILD_CHILD, BUILD_NAMES };

#define ISSET(sp, opt) ((sp)->fts_options & (opt))

static int is_dot(const char *n)
{
	return n[0] == '.' && (!n[1] || (n[1] == '.' && !n[2]));
}

/* One allocation: the entry with its name, then its stat buffer, then its
 * path DIR "/" NAME (just NAME when DIRLEN is 0). NULL with errno. */
static FTSENT *ent_new(const char *name, size_t namelen, const char *dir,
		       size_t dirlen)
{
	int slash = dirlen > 0 && dir[dirlen - 1] != '/';
	size_t pathlen = dirlen + (size_t)slash + namelen;

	if (pathlen >= USHRT_MAX) {
		errno = ENAMETOOLONG; /* fts_pathlen is an unsigned short */
		return NULL;
	}
	size_t st_off = offsetof(FTSENT, fts_name) + namelen + 1;
	st_off = (st_off + alignof(struct stat) - 1) &
		 ~(alignof(struct stat) - 1);
	size_t path_off = st_off + sizeof(struct stat);
	char *mem = calloc(1, path_off + pathlen + 1);
	if (!mem)
		return NULL;

	FTSENT *p = (FTSENT *)(void *)mem;
	char *nm = mem + offsetof(FTSENT, fts_name);
	char *path = mem + path_off;
	memcpy(nm, name, namelen);
	memcpy(path, dir, dirlen);
	if (slash)
		path[dirlen] = '/';
	memcpy(path + dirlen + slash, name, namelen);
	p->fts_statp = (struct stat *)(void *)(mem + st_off);
	p->fts_namelen = (unsigned short)namelen;
	p->fts_path = p->fts_accpath = path;
	p->fts_pathlen = (unsigned short)pathlen;
	p->fts_instr = FTS_NOINSTR;
	p->fts_symfd = -1;
	return p;
}

static void ent_free_list(FTSENT *head)
{
	while (head) {
		FTSENT *next = head->fts_link;
		free(head);
		head = next;
	}
}

static unsigned short ent_stat(FTSENT *p, int logical)
{
	struct stat *sb = p->fts_statp;

	if (logical) {
		if (US_SELF(stat)(p->fts_accpath, sb) < 0) {
			int err = errno;
			if (US_SELF(lstat)(p->fts_accpath, sb) == 0) {
				errno = 0;
				return FTS_SLNONE;
			}
			p->fts_errno = err;
			memset(sb, 0, sizeof *sb);
			return FTS_NS;
		}
	} else if (US_SELF(lstat)(p->fts_accpath, sb) < 0) {
		p->fts_errno = errno;
		memset(sb, 0, sizeof *sb);
		return FTS_NS;
	}
	if (S_ISDIR(sb->st_mode)) {
		p->fts_dev = sb->st_dev;
		p->fts_ino = sb->st_ino;
		p->fts_nlink = sb->st_nlink;
		if (is_dot(p->fts_name))
			return FTS_DOT;
		for (FTSENT *t = p->fts_parent;
		     t && t->fts_level >= FTS_ROOTLEVEL; t = t->fts_parent) {
			if (t->fts_ino == p->fts_ino && t->fts_dev == p->fts_dev) {
				p->fts_cycle = t;
				return FTS_DC;
			}
		}
		return FTS_D;
	}
	if (S_ISLNK(sb->st_mode))
		return FTS_SL;
	return S_ISREG(sb->st_mode) ? FTS_F : FTS_DEFAULT;
}

static unsigned short sp_stat(FTS *sp, FTSENT *p, int follow)
{
	return ent_stat(p, follow || ISSET(sp, FTS_LOGICAL));
}

static int compar_thunk(const void *a, const void *b, void *arg)
{
	fts_compar_fn cmp = (fts_compar_fn)arg;

	return cmp((const FTSENT **)a, (const FTSENT **)b);
}

/* Sort the list HEAD of N entries with the stream's compar. Without
 * memory for the array the list stays as it is, as in glibc. */
static FTSENT *ent_sort(FTS *sp, FTSENT *head, size_t n)
{
	if (n > (size_t)sp->fts_nitems) {
		size_t want = n + 40;
		FTSENT **a = NULL;
		if (want <= INT_MAX)
			a = realloc(sp->fts_array, want * sizeof *a);
		if (!a)
			return head;
		sp->fts_array = a;
		sp->fts_nitems = (int)want;
	}
	FTSENT **a = sp->fts_array;
	size_t i = 0;
	for (FTSENT *p = head; p; p = p->fts_link)
		a[i++] = p;
	qsort_r(a, n, sizeof *a, compar_thunk, (void *)sp->fts_compar);
	for (i = 0; i + 1 < n; i++)
		a[i]->fts_link = a[i + 1];
	a[n - 1]->fts_link = NULL;
	return a[0];
}

static int not_dir_type(unsigned char t)
{
	return t != DT_DIR && t != DT_UNKNOWN;
}

/* The children of the current entry, in directory order or sorted. NULL
 * for none (errno 0), or on failure: with BUILD_READ the entry becomes
 * FTS_DNR (unreadable) or FTS_DP (empty); out of memory stops the walk. */
static FTSENT *fts_build(FTS *sp, enum build type)
{
	FTSENT *cur = sp->fts_cur, *head = NULL, *tail = NULL;
	DIR *dir = US_SELF(opendir)(cur->fts_accpath);
	struct dirent *d;
	size_t n = 0;

	if (!dir) {
		if (type == BUILD_READ) {
			cur->fts_info = FTS_DNR;
			cur->fts_errno = errno;
		}
		return NULL;
	}
	int nostat = ISSET(sp, FTS_NOSTAT) && ISSET(sp, FTS_PHYSICAL);
	while ((d = US_SELF(readdir)(dir)) != NULL) {
		if (!ISSET(sp, FTS_SEEDOT) && is_dot(d->d_name))
			continue;
		FTSENT *p = ent_new(d->d_name, strlen(d->d_name),
				    cur->fts_path, cur->fts_pathlen);
		if (!p) {
			int err = errno;
			ent_free_list(head);
			US_SELF(closedir)(dir);
			cur->fts_info = FTS_ERR;
			sp->fts_options |= FTS_STOP;
			errno = err;
			return NULL;
		}
		p->fts_level = (short)(cur->fts_level + 1);
		p->fts_parent = cur;
		if (type == BUILD_NAMES || (nostat && not_dir_type(d->d_type)))
			p->fts_info = FTS_NSOK;
		else
			p->fts_info = sp_stat(sp, p, 0);
		if (tail)
			tail->fts_link = p;
		else
			head = p;
		tail = p;
		n++;
	}
	US_SELF(closedir)(dir); /* a failed readdir ends the list, as in glibc */
	if (n == 0) {
		if (type == BUILD_READ)
			cur->fts_info = FTS_DP;
		errno = 0;
		return NULL;
	}
	if (sp->fts_compar && n > 1)
		head = ent_sort(sp, head, n);
	return head;
}

static FTS *open_walk(char *const *argv, int options, fts_compar_fn compar)
{
	FTSENT *root = NULL, *tail = NULL, *parent, *p;
	size_t n = 0;
	FTS *sp;

	if (options & ~FTS_OPTIONMASK) {
		errno = EINVAL;
		return NULL;
	}
	if (!(sp = calloc(1, sizeof *sp)))
		return NULL;
	sp->fts_compar = (int (*)(const void *, const void *))compar;
	sp->fts_options = options | FTS_NOCHDIR; /* see the top of the file */
	if (!(parent = ent_new("", 0, "", 0)))
		goto fail;
	parent->fts_level = FTS_ROOTPARENTLEVEL;

	for (; *argv; argv++) {
		size_t len = strlen(*argv);
		if (len == 0) {
			errno = ENOENT;
			goto fail;
		}
		if (!(p = ent_new(*argv, len, "", 0)))
			goto fail;
		p->fts_level = FTS_ROOTLEVEL;
		p->fts_parent = parent;
		p->fts_info = sp_stat(sp, p, ISSET(sp, FTS_COMFOLLOW));
		if (p->fts_info == FTS_DOT) /* "." and ".." given: real dirs */
			p->fts_info = FTS_D;
		if (tail)
			tail->fts_link = p;
		else
			root = p;
		tail = p;
		n++;
	}
	if (compar && n > 1)
		root = ent_sort(sp, root, n);

	/* A dummy current entry whose next one is the first root. */
	if (!(sp->fts_cur = ent_new("", 0, "", 0)))
		goto fail;
	sp->fts_cur->fts_link = root;
	sp->fts_cur->fts_parent = parent;
	sp->fts_cur->fts_info = FTS_INIT;
	return sp;

fail:;
	int err = errno;
	ent_free_list(root);
	free(parent);
	free(sp->fts_array);
	free(sp);
	errno = err;
	return NULL;
}

US_EXPORT FTS *fts_open(char *const *argv, int options, fts_compar_fn compar)
{
	int caller = errno;

	return us_kept_ptr(open_walk(argv, options, compar), caller);
}

/* A root becomes current: its name is now its last component. */
static FTSENT *load_root(FTS *sp, FTSENT *p)
{
	char *slash = strrchr(p->fts_name, '/');

	if (slash && (slash != p->fts_name || slash[1])) {
		size_t len = strlen(slash + 1);
		memmove(p->fts_name, slash + 1, len + 1);
		p->fts_namelen = (unsigned short)len;
	}
	sp->fts_dev = p->fts_dev;
	return p;
}

static FTSENT *current(FTS *sp, FTSENT *p)
{
	sp->fts_cur = p;
	sp->fts_path = p->fts_path;
	return p;
}

static FTSENT *next_entry(FTS *sp)
{
	FTSENT *p, *prev;

	if (!sp->fts_cur || ISSET(sp, FTS_STOP))
		return NULL;
	p = sp->fts_cur;
	int instr = p->fts_instr;
	p->fts_instr = FTS_NOINSTR;

	if (instr == FTS_AGAIN) {
		p->fts_info = sp_stat(sp, p, 0);
		return p;
	}
	if (instr == FTS_FOLLOW &&
	    (p->fts_info == FTS_SL || p->fts_info == FTS_SLNONE)) {
		p->fts_info = sp_stat(sp, p, 1);
		return p;
	}

	if (p->fts_info == FTS_D) {
		/* skipped, or on another device with FTS_XDEV: post-order now */
		if (instr == FTS_SKIP ||
		    (ISSET(sp, FTS_XDEV) && p->fts_dev != sp->fts_dev)) {
			ent_free_list(sp->fts_child);
			sp->fts_child = NULL;
			p->fts_info = FTS_DP;
			return p;
		}
		/* fts_children(FTS_NAMEONLY) read names only: read again */
		if (sp->fts_child && ISSET(sp, FTS_NAMEONLY)) {
			sp->fts_options &= ~FTS_NAMEONLY;
			ent_free_list(sp->fts_child);
			sp->fts_child = NULL;
		}
		if (!sp->fts_child &&
		    !(sp->fts_child = fts_build(sp, BUILD_READ)))
			return ISSET(sp, FTS_STOP) ? NULL : p;
		p = sp->fts_child;
		sp->fts_child = NULL;
		return current(sp, p);
	}

	/* The next sibling, skipping those the program asked to skip. */
	for (;;) {
		prev = p;
		p = p->fts_link;
		if (!p)
			break;
		sp->fts_cur = p;
		free(prev);
		if (p->fts_level == FTS_ROOTLEVEL)
			return current(sp, load_root(sp, p));
		if (p->fts_instr == FTS_SKIP)
			continue;
		if (p->fts_instr == FTS_FOLLOW) {
			p->fts_info = sp_stat(sp, p, 1);
			p->fts_instr = FTS_NOINSTR;
		}
		return current(sp, p);
	}

	/* No more siblings: the parent, in post-order. */
	p = prev->fts_parent;
	free(prev);
	if (p->fts_level == FTS_ROOTPARENTLEVEL) {
		free(p);
		sp->fts_cur = NULL;
		sp->fts_path = NULL;
		errno = 0; /* tells the end from an error */
		return NULL;
	}
	p->fts_info = p->fts_errno ? FTS_ERR : FTS_DP;
	return current(sp, p);
}

/* An entry keeps the caller's errno (its own is fts_errno); NULL says the
 * end with errno 0, as glibc's, or an error. */
US_EXPORT FTSENT *fts_read(FTS *sp)
{
	int caller = errno;

	return us_kept_ptr(next_entry(sp), caller);
}

US_EXPORT FTSENT *fts_children(FTS *sp, int instr)
{
	if (instr != 0 && instr != FTS_NAMEONLY) {
		errno = EINVAL;
		return NULL;
	}
	FTSENT *p = sp->fts_cur;
	errno = 0; /* an empty dir is not an error */
	if (!p || ISSET(sp, FTS_STOP))
		return NULL;
	if (p->fts_info == FTS_INIT)
		return p->fts_link;
	if (p->fts_info != FTS_D)
		return NULL;
	ent_free_list(sp->fts_child);
	sp->fts_child = NULL;
	if (instr == FTS_NAMEONLY)
		sp->fts_options |= FTS_NAMEONLY;
	else
		sp->fts_options &= ~FTS_NAMEONLY;
	sp->fts_child = fts_build(sp, instr == FTS_NAMEONLY ? BUILD_NAMES
							   : BUILD_CHILD);
	return sp->fts_child;
}

US_EXPORT int fts_set(FTS *sp, FTSENT *p, int instr)
{
	(void)sp;
	if (instr != 0 && instr != FTS_AGAIN && instr != FTS_FOLLOW &&
	    instr != FTS_NOINSTR && instr != FTS_SKIP) {
		errno = EINVAL;
		return 1;
	}
	p->fts_instr = (unsigned short)instr;
	return 0;
}

US_EXPORT int fts_close(FTS *sp)
{
	FTSENT *p = sp->fts_cur;

	/* What is left: the current entry, its later siblings, then each
	 * ancestor with its later siblings, up to the root's parent. */
	while (p && p->fts_level >= FTS_ROOTLEVEL) {
		FTSENT *next = p->fts_link ? p->fts_link : p->fts_parent;
		free(p);
		p = next;
	}
	free(p);
	ent_free_list(sp->fts_child);
	free(sp->fts_array);
	free(sp);
	return 0;
}

US_EXPORT FTS64 *fts64_open(char *const *, int,
			    int (*)(const FTSENT64 **, const FTSENT64 **))
	__attribute__((alias("fts_open")));
US_EXPORT FTSENT64 *fts64_read(FTS64 *) __attribute__((alias("fts_read")));
US_EXPORT FTSENT64 *fts64_children(FTS64 *, int)
	__attribute__((alias("fts_children")));
US_EXPORT int fts64_set(FTS64 *, FTSENT64 *, int) __attribute__((alias("fts_set")));
US_EXPORT int fts64_close(FTS64 *) __attribute__((alias("fts_close")));
