/* whiteout.c: the upper layer's bookkeeping: whiteouts, opaque new dirs,
 * emptying an upper dir of its hidden entries before removal, and
 * cleaning the work dir after crashes.
 *
 * Whiteouts are written in OCI form (.wh.NAME, beside the name) when that
 * name fits in NAME_MAX and PATH_MAX; a longer name (252-255 bytes) gets
 * overlayfs's form, a char device 0/0 in the name's own place (any user
 * may make one since Linux 5.8). That whiteout occupies the name, so an
 * object takes its place the way overlayfs does it: built in the work dir
 * and renamed over it (RENAME_EXCHANGE for a dir), and an upper object
 * leaves one behind with RENAME_WHITEOUT; nothing below ever shows in
 * between. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "kdirent.h"
#include "layer.h"
#include "sys.h"
#include "unionshim/event.h"
#include "unionshim/copyup.h"
#include "unionshim/lcache.h"
#include "unionshim/path.h"
#include "unionshim/scratch.h"

/* Upper path of the whiteout standing for UPATH's last component. */
static int whiteout_path(const struct us_mount *m, const char *upath,
			 char *out, size_t len)
{
	US_SCRATCH_SCOPE;
	struct {
		char up[US_PATH_MAX];
	} *sb = us_scratch_push(sizeof *sb);
	if (!sb)
		return -1;

	if (us_layer_path(m, 0, upath, sb->up, sizeof sb->up) < 0)
		return -1;
	const char *slash = strrchr(sb->up, '/');
	int n = snprintf(out, len, "%.*s/" US_WH_PREFIX "%s",
			 (int)(slash - sb->up), sb->up, slash + 1);
	if (n < 0 || (size_t)n >= len ||
	    strlen(slash + 1) + US_WH_PREFIX_LEN > NAME_MAX) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

bool us_exists_below(const struct us_mount *m, const char *upath,
		     const struct us_node *dir, const char *name)
{
	struct us_node below = *dir, child;

	below.dirs &= ~(us_layermask)1;
	return below.dirs && us_lookup_child(m, upath, &below, name, &child) == 0;
}

bool us_whiteout_oci(const struct us_mount *m, const char *upath)
{
	US_SCRATCH_SCOPE;
	struct {
		char wh[US_PATH_MAX];
	} *lp = us_scratch_push(sizeof *lp);
	if (!lp)
		return false;
	int saved = errno;
	bool fits = whiteout_path(m, upath, lp->wh, sizeof lp->wh) == 0;

	errno = saved;
	return fits;
}

bool us_whiteout_inplace(const struct us_mount *m, const char *upath)
{
	US_SCRATCH_SCOPE;
	struct {
		char up[US_PATH_MAX];
	} *lp = us_scratch_push(sizeof *lp);
	if (!lp)
		return false;
	struct stat st;
	int saved = errno;
	bool is = us_layer_path(m, 0, upath, lp->up, sizeof lp->up) == 0 &&
		  SYS(lstat)(lp->up, &st) == 0 && us_stat_is_whiteout(&st);

	errno = saved;
	return is;
}

/* A new temp name in the work dir, KIND telling its use. */
static int work_temp(const struct us_mount *m, char kind, char *out,
		     size_t len)
{
	static unsigned long counter;
	int n = snprintf(out, len, "%s/#us.%d.%c%lu", m->work, (int)us_temp_pid(),
			 kind, __atomic_add_fetch(&counter, 1, __ATOMIC_RELAXED));

	if (n < 0 || (size_t)n >= len) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

int us_whiteout_temp(const struct us_mount *m, char *out, size_t len)
{
	return work_temp(m, 'c', out, len);
}

/* The whiteout of a name too long for the OCI form: a 0/0 char device
 * in its place (the name is free in the upper layer). */
static int whiteout_inplace(const struct us_mount *m, const char *upath)
{
	US_SCRATCH_SCOPE;
	struct {
		char up[US_PATH_MAX];
	} *sb = us_scratch_push(sizeof *sb);
	if (!sb)
		return -1;

	if (us_layer_path(m, 0, upath, sb->up, sizeof sb->up) < 0)
		return -1;
	return SYS(mknod)(sb->up, S_IFCHR | 0000, makedev(0, 0));
}

int us_whiteout_replace(const struct us_mount *m, const char *upath,
			const char *tmp, bool dir)
{
	US_SCRATCH_SCOPE;
	struct {
		char up[US_PATH_MAX];
	} *sb = us_scratch_push(sizeof *sb);
	if (!sb)
		return -1;

	if (us_layer_path(m, 0, upath, sb->up, sizeof sb->up) < 0)
		return -1;
	/* a non-dir replaces the char device; a dir cannot: swap them,
	 * then drop the whiteout, now in the work dir */
	if (SYS(renameat2)(AT_FDCWD, tmp, AT_FDCWD, sb->up,
			   dir ? RENAME_EXCHANGE : 0) < 0)
		return -1;
	if (dir)
		SYS(unlink)(tmp);
	us_lcache_name_changed(m, upath);
	return 0;
}

int us_upper_remove_whiteout(const struct us_mount *m, const char *upath,
			     bool dir)
{
	char *up = malloc(2 * US_PATH_MAX), *tmp = up + US_PATH_MAX;

	if (!up)
		return -1;
	if (us_layer_path(m, 0, upath, up, US_PATH_MAX) < 0 ||
	    work_temp(m, 'r', tmp, US_PATH_MAX) < 0 ||
	    SYS(renameat2)(AT_FDCWD, up, AT_FDCWD, tmp, RENAME_WHITEOUT) < 0) {
		int saved = errno;
		free(up);
		errno = saved;
		return -1;
	}
	int rc = dir ? us_real_dir_clear(tmp) : 0;
	if (rc == 0)
		rc = dir ? SYS(rmdir)(tmp) : SYS(unlink)(tmp);
	if (rc < 0) { /* put it back: something real was in it */
		int saved = errno;
		if (SYS(renameat2)(AT_FDCWD, tmp, AT_FDCWD, up, RENAME_EXCHANGE) == 0)
			SYS(unlink)(tmp);
		errno = saved;
	}
	us_lcache_name_changed(m, upath);
	int saved = errno;
	free(up);
	errno = saved;
	return rc;
}

int us_make_marker(const char *path, bool excl)
{
	struct stat st;
	int saved = errno;

	if (SYS(mknod)(path, S_IFREG | 0600, 0) == 0)
		return 0;
	if (errno == EEXIST && !excl && SYS(lstat)(path, &st) == 0 && S_ISREG(st.st_mode)) {
		errno = saved;
		return 0;
	}
	if (errno == EEXIST || (errno != EPERM && errno != ENOSYS && errno != EOPNOTSUPP))
		return -1;
	/* a filesystem that makes no regular file by mknod: by open */
	int fd = SYS(open)(path, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW | (excl ? O_EXCL : 0), 0600);
	if (fd < 0)
		return -1;
	SYS(close)(fd);
	errno = saved;
	return 0;
}

/* Every whiteout made or dropped here tells lookup caches (lcache.h). */
int us_whiteout_create(const struct us_mount *m, const char *upath)
{
	US_SCRATCH_SCOPE;
	struct {
		char wh[US_PATH_MAX];
	} *sb = us_scratch_push(sizeof *sb);
	if (!sb)
		return -1;
	int rc;

	if (whiteout_path(m, upath, sb->wh, sizeof sb->wh) < 0)
		rc = errno == ENAMETOOLONG ? whiteout_inplace(m, upath) : -1;
	else
		rc = us_make_marker(sb->wh, false);
	us_lcache_name_changed(m, upath);
	return rc;
}

int us_whiteout_normalize(const struct us_mount *m, const char *upath)
{
	US_SCRATCH_SCOPE;
	struct {
		char up[US_PATH_MAX];
	} *sb = us_scratch_push(sizeof *sb);
	if (!sb)
		return -1;
	struct stat st;

	if (us_layer_path(m, 0, upath, sb->up, sizeof sb->up) < 0 ||
	    SYS(lstat)(sb->up, &st) < 0 || !us_stat_is_whiteout(&st) ||
	    !us_whiteout_oci(m, upath))
		return 0; /* a long name's stays: us_whiteout_replace */
	/* the OCI whiteout first, so nothing below shows in between */
	if (us_whiteout_create(m, upath) < 0 || SYS(unlink)(sb->up) < 0)
		return -1;
	return 0;
}

bool us_whiteout_present(const struct us_mount *m, const char *upath)
{
	US_SCRATCH_SCOPE;
	struct {
		char wh[US_PATH_MAX];
	} *lp = us_scratch_push(sizeof *lp);
	if (!lp)
		return false;
	struct stat st;

	return whiteout_path(m, upath, lp->wh, sizeof lp->wh) == 0 &&
	       SYS(lstat)(lp->wh, &st) == 0;
}

void us_whiteout_clear(const struct us_mount *m, const char *upath)
{
	US_SCRATCH_SCOPE;
	struct {
		char wh[US_PATH_MAX];
	} *sb = us_scratch_push(sizeof *sb);
	if (!sb)
		return;
	int saved = errno;

	if (whiteout_path(m, upath, sb->wh, sizeof sb->wh) == 0)
		SYS(unlink)(sb->wh);
	us_lcache_name_changed(m, upath);
	errno = saved;
}

/* A new dir standing where a whiteout hid something below must be opaque
 * from its first instant: build it in the work dir with its marker, then
 * rename it into place; only then drop the whiteout. */
static int mkdir_opaque(const struct us_mount *m, const char *upath,
			const char *up, bool inplace, mode_t mode);

/* Lookup caches learn of the new dir (lcache.h); an opaque one stands
 * where a dir of that name was: every entry of the mount goes. */
int us_mkdir_upper(const struct us_mount *m, const char *upath, mode_t mode)
{
	US_SCRATCH_SCOPE;
	struct {
		char up[US_PATH_MAX];
	} *sb = us_scratch_push(sizeof *sb);
	if (!sb)
		return -1;

	if (us_layer_path(m, 0, upath, sb->up, sizeof sb->up) < 0 ||
	    us_whiteout_normalize(m, upath) < 0)
		return -1;
	bool inplace = us_whiteout_inplace(m, upath);
	bool opaque = inplace || us_whiteout_present(m, upath);
	/* an opaque dir hides what the names below it showed: nothing of the
	 * mount is answered from a cache while it is made */
	bool begun = us_lcache_change_begin(m, upath, opaque);
	int rc = opaque ? mkdir_opaque(m, upath, sb->up, inplace, mode)
			: SYS(mkdir)(sb->up, mode);
	us_lcache_change_end(m, upath, opaque, begun);
	return rc;
}

static int mkdir_opaque(const struct us_mount *m, const char *upath,
			const char *up, bool inplace, mode_t mode)
{
	US_SCRATCH_SCOPE;
	struct {
		char tmp[US_PATH_MAX];
		char marker[US_PATH_MAX];
	} *sb = us_scratch_push(sizeof *sb);
	if (!sb)
		return -1;

	if (work_temp(m, 'd', sb->tmp, sizeof sb->tmp) < 0 || SYS(mkdir)(sb->tmp, mode) < 0)
		return -1;
	if (us_path_join(sb->marker, sizeof sb->marker, sb->tmp, US_WH_OPAQUE) < 0)
		goto fail;
	if (us_make_marker(sb->marker, true) < 0)
		goto fail;
	if (inplace ? us_whiteout_replace(m, upath, sb->tmp, true) < 0
		    : SYS(renameat2)(AT_FDCWD, sb->tmp, AT_FDCWD, up, RENAME_NOREPLACE) < 0)
		goto fail_marker;
	us_whiteout_clear(m, upath);
	us_event("opaque", upath, -1);
	return 0;
fail_marker:;
	int saved = errno;
	SYS(unlink)(sb->marker);
	errno = saved;
fail:
	saved = errno;
	SYS(rmdir)(sb->tmp);
	errno = saved;
	return -1;
}

/* Call FN(dirpath, name, type, arg) for each entry of real dir DIRPATH
 * except "." and "..". Stops at the first nonzero return. */
static int each_entry(const char *dirpath,
		      int (*fn)(const char *, const char *, unsigned char, void *),
		      void *arg)
{
	US_SCRATCH_SCOPE;
	struct {
		char buf[16384];
	} *sb = us_scratch_push(sizeof *sb);
	if (!sb)
		return -1;
	int rc = 0, fd = SYS(open)(dirpath, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0)
		return -1;
	for (;;) {
		long n = SYS(syscall)(SYS_getdents64, fd, sb->buf, sizeof sb->buf);
		if (n <= 0) {
			if (n < 0)
				rc = -1;
			break;
		}
		for (long off = 0; off < n && rc == 0;) {
			struct linux_dirent64 *d = (void *)(sb->buf + off);
			off += d->d_reclen;
			if (strcmp(d->d_name, ".") && strcmp(d->d_name, ".."))
				rc = fn(dirpath, d->d_name, d->d_type, arg);
		}
		if (rc)
			break;
	}
	int saved = errno;
	SYS(close)(fd);
	errno = saved;
	return rc;
}

static int drop_hidden(const char *dir, const char *name, unsigned char type,
		       void *arg)
{
	US_SCRATCH_SCOPE;
	struct {
		char p[US_PATH_MAX];
	} *sb = us_scratch_push(sizeof *sb);
	if (!sb)
		return -1;
	struct stat st;

	(void)arg;
	if (us_path_join(sb->p, sizeof sb->p, dir, name) < 0)
		return -1;
	bool hidden = us_is_reserved_name(name) ||
		      ((type == DT_CHR || type == DT_UNKNOWN) &&
		       SYS(lstat)(sb->p, &st) == 0 && us_stat_is_whiteout(&st));
	if (!hidden) {
		errno = ENOTEMPTY;
		return -1;
	}
	return SYS(unlink)(sb->p) < 0 && errno != ENOENT ? -1 : 0;
}

int us_real_dir_clear(const char *dir)
{
	return each_entry(dir, drop_hidden, NULL) ? -1 : 0;
}

int us_upper_dir_clear(const struct us_mount *m, const char *upath)
{
	US_SCRATCH_SCOPE;
	struct {
		char up[US_PATH_MAX];
	} *sb = us_scratch_push(sizeof *sb);
	if (!sb)
		return -1;

	if (us_layer_path(m, 0, upath, sb->up, sizeof sb->up) < 0)
		return -1;
	return us_real_dir_clear(sb->up);
}

/* Remove everything below real path P (a leftover temp). */
static int remove_tree(const char *p);

static int remove_entry(const char *dir, const char *name, unsigned char type,
			void *arg)
{
	US_SCRATCH_SCOPE;
	struct {
		char p[US_PATH_MAX];
	} *sb = us_scratch_push(sizeof *sb);
	if (!sb)
		return -1;

	(void)type;
	(void)arg;
	if (us_path_join(sb->p, sizeof sb->p, dir, name) == 0)
		remove_tree(sb->p);
	return 0;
}

static int remove_tree(const char *p)
{
	struct stat st;

	if (SYS(lstat)(p, &st) < 0)
		return -1;
	if (!S_ISDIR(st.st_mode))
		return SYS(unlink)(p);
	each_entry(p, remove_entry, NULL);
	return SYS(rmdir)(p);
}

static int clean_leftover(const char *dir, const char *name,
			  unsigned char type, void *arg)
{
	US_SCRATCH_SCOPE;
	struct {
		char p[US_PATH_MAX];
	} *sb = us_scratch_push(sizeof *sb);
	if (!sb)
		return -1;

	(void)type;
	(void)arg;
	if (strncmp(name, "#us.", 4) != 0)
		return 0;
	long pid = strtol(name + 4, NULL, 10);
	if (pid <= 0 || (kill((pid_t)pid, 0) < 0 && errno == ESRCH)) {
		if (us_path_join(sb->p, sizeof sb->p, dir, name) == 0)
			remove_tree(sb->p);
	}
	return 0;
}

/* The mounts this process has cleaned (a fork's child inherits them:
 * its parent's scan counts for it too). Two threads may both scan: the
 * second finds nothing of the dead left, or loses each unlink harmlessly. */
static const struct us_mount *cleaned[US_MAX_MOUNTS];

static bool first_clean(const struct us_mount *m)
{
	for (int i = 0; i < US_MAX_MOUNTS; i++) {
		const struct us_mount *c = NULL;
		if (__atomic_compare_exchange_n(&cleaned[i], &c, m, false,
						__ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
			return true;
		if (c == m)
			return false;
	}
	return true; /* no room to remember: scan again */
}

void us_workdir_clean(const struct us_mount *m)
{
	int saved = errno;

	if (m->work && first_clean(m))
		each_entry(m->work, clean_leftover, NULL);
	errno = saved;
}
