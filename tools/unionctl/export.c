/* export.c: unionctl export, the changes of a union as an OCI image layer
 * tarball (the entries: exportlist.c; the format: tarout.c).
 *
 * The tarball goes to a temp file beside -o FILE, renamed into place once
 * whole: a failed export leaves FILE as it was. Every entry carries mode,
 * numeric owner, mtime (ns) and user.* xattrs except the shim's own;
 * names of one inode become tar hard links to the first of them; no user
 * or group names and no atime, so the same upper gives the same bytes. */
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "exportlist.h"
#include "progress.h"
#include "tarout.h"
#include "unionctl.h"
#include "unionshim/identity.h"

#define CMD "export"

static void usage(FILE *out)
{
	fprintf(out,
"usage: unionctl export --upper DIR [--lower DIR]... [--work DIR]\n"
"                       [-z | --zstd] -o FILE|-\n"
"\n"
"Write what the upper dir changes as an OCI image layer tarball: its\n"
"files, dirs, symlinks, devices and fifos with mode, numeric owner, mtime\n"
"and user.* xattrs; hard links as tar hard links; deletions as .wh.NAME\n"
"whiteouts and opaque dirs as .wh..wh..opq (overlayfs's char device 0/0\n"
"and opaque xattrs are written in that form too). Nothing private to the\n"
"shim goes in: no user.unionshim.* xattrs, nothing of the work dir.\n"
"\n"
"  --upper DIR   the union's upper dir\n"
"  --lower DIR   a lower dir, topmost first (repeat); with --work, a\n"
"                lower hard link copied up by one name is exported by\n"
"                every name the union shows it at\n"
"  --work DIR    the union's work dir: its link index is read (the\n"
"                shim's #index, or overlayfs's index/ with index=on)\n"
"  -o FILE       the tarball (- for stdout); written whole or not at all\n"
"  -z, --gzip    gzip it (media type ...tar+gzip)\n"
"  --zstd        zstd it (media type ...tar+zstd)\n"
"\n"
"Prints the blob's digest, its diff_id (the sha256 of the uncompressed\n"
"tar) and its size, one per line, on stdout (on stderr with -o -):\n"
"  digest sha256:...\n  diff_id sha256:...\n  size N\n"
"It refuses to run while a union process uses the work dir (given with\n"
"--work) or a kernel overlayfs mount uses the upper.\n"
"Exit status: 0 done, 1 failed (one line says why), 2 usage (or in use).\n"
"\n"
"Examples:\n"
"  unionctl export --upper /tmp/up --work /tmp/wk --lower ~/src -z -o layer.tar.gz\n"
"  unionctl export --upper /tmp/up -o - | tar -tvf -\n");
}

/* The user.* xattrs of REAL onto E, the shim's and overlayfs's left out. */
static int add_xattrs(struct archive_entry *e, const char *real)
{
	ssize_t len = llistxattr(real, NULL, 0);

	if (len <= 0)
		return 0;
	char *names = malloc((size_t)len), *val = malloc(XATTR_SIZE_MAX);
	int rc = names && val ? 0 : -1;
	ssize_t n = rc ? -1 : llistxattr(real, names, (size_t)len);
	for (ssize_t i = 0; i < n; i += (ssize_t)strlen(names + i) + 1) {
		const char *name = names + i;
		if (strncmp(name, "user.", 5) || us_is_own_xattr(name) ||
		    !strncmp(name, "user.overlay.", 13))
			continue;
		ssize_t vl = lgetxattr(real, name, val, XATTR_SIZE_MAX);
		if (vl >= 0)
			archive_entry_xattr_add_entry(e, name, val, (size_t)vl);
	}
	free(names);
	free(val);
	return rc;
}

/* Entry I of X, a hard link of entry LINK when LINK >= 0. */
static int put_entry(struct uc_tar *t, const struct uc_xlist *x, size_t i,
		     ssize_t link, char *err, size_t errlen)
{
	const struct uc_xent *xe = &x->v[i];
	struct archive_entry *e = archive_entry_new();
	struct stat st = xe->st;
	int fd = -1, rc = -1;
	char target[PATH_MAX];

	if (!e)
		return snprintf(err, errlen, "out of memory"), -1;
	archive_entry_set_pathname(e, xe->path);
	if (xe->kind == UC_X_MARKER) {
		archive_entry_set_filetype(e, AE_IFREG);
		archive_entry_set_perm(e, 0644);
		archive_entry_set_size(e, 0);
		rc = uc_tar_add(t, e, -1, err, errlen);
		archive_entry_free(e);
		return rc;
	}
	if (S_ISREG(st.st_mode) && link < 0) {
		/* the size and times of what is read, not of the walk; a
		 * metacopy's bytes are its data file's, the rest its own */
		struct stat ds;
		fd = open(xe->data ? xe->data : xe->src, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0 || fstat(fd, &ds) < 0 || (xe->data && lstat(xe->src, &st) < 0))
			goto out_errno;
		if (!xe->data)
			st = ds;
		st.st_size = ds.st_size;
	}
	archive_entry_set_mode(e, st.st_mode);
	archive_entry_set_uid(e, st.st_uid);
	archive_entry_set_gid(e, st.st_gid);
	archive_entry_set_mtime(e, st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
	if (link >= 0) {
		archive_entry_set_hardlink(e, x->v[link].path);
		archive_entry_set_size(e, 0);
	} else if (S_ISREG(st.st_mode)) {
		archive_entry_set_size(e, st.st_size);
	} else if (S_ISLNK(st.st_mode)) {
		ssize_t n = readlink(xe->src, target, sizeof target - 1);
		if (n < 0)
			goto out_errno;
		target[n] = '\0';
		archive_entry_set_symlink(e, target);
	} else if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode)) {
		archive_entry_set_rdev(e, st.st_rdev);
	}
	if (add_xattrs(e, xe->src) < 0) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	rc = uc_tar_add(t, e, fd, err, errlen);
	goto out;
out_errno:
	snprintf(err, errlen, "%s: %s", xe->src, strerror(errno));
out:
	if (fd >= 0)
		close(fd);
	archive_entry_free(e);
	return rc;
}

struct inokey {
	dev_t dev;
	ino_t ino;
	size_t i;
};

static int by_inode(const void *pa, const void *pb)
{
	const struct inokey *a = pa, *b = pb;

	if (a->dev != b->dev)
		return (a->dev > b->dev) - (a->dev < b->dev);
	if (a->ino != b->ino)
		return (a->ino > b->ino) - (a->ino < b->ino);
	return (a->i > b->i) - (a->i < b->i);
}

/* For each entry, the entry it is a hard link of (the first name of its
 * inode in the layer's order), or -1. NULL when out of memory. */
static ssize_t *link_groups(const struct uc_xlist *x)
{
	ssize_t *to = malloc((x->n + 1) * sizeof *to);
	struct inokey *k = malloc((x->n + 1) * sizeof *k);
	size_t nk = 0;

	if (!to || !k) {
		free(to);
		free(k);
		return NULL;
	}
	for (size_t i = 0; i < x->n; i++) {
		const struct uc_xent *e = &x->v[i];
		to[i] = -1;
		if (e->kind == UC_X_OBJECT && !S_ISDIR(e->st.st_mode) && e->st.st_nlink > 1)
			k[nk++] = (struct inokey){e->st.st_dev, e->st.st_ino, i};
	}
	qsort(k, nk, sizeof *k, by_inode);
	for (size_t j = 1; j < nk; j++)
		if (k[j].dev == k[j - 1].dev && k[j].ino == k[j - 1].ino)
			to[k[j].i] = to[k[j - 1].i] >= 0 ? to[k[j - 1].i]
							  : (ssize_t)k[j - 1].i;
	free(k);
	return to;
}

static int write_layer(const struct uc_xlist *x, int fd, enum uc_comp comp,
		       char *digest, char *diff_id, uint64_t *size)
{
	char err[512];
	ssize_t *to = link_groups(x);
	struct uc_tar *t = to ? uc_tar_open(fd, comp, err, sizeof err) : NULL;

	if (!to)
		snprintf(err, sizeof err, "out of memory");
	for (size_t i = 0; t && i < x->n; i++) {
		if (put_entry(t, x, i, to[i], err, sizeof err) < 0) {
			uc_tar_abort(t);
			t = NULL;
			break;
		}
		uc_progress(CMD, i + 1, "entries", uc_tar_written(t));
	}
	free(to);
	uc_progress_end();
	if (!t || uc_tar_close(t, digest, diff_id, size, err, sizeof err) < 0) {
		uc_say(CMD, err, NULL, NULL);
		return -1;
	}
	return 0;
}

/* A temp path beside OUT. */
static char *temp_beside(const char *out)
{
	char *p = malloc(strlen(out) + 32);

	if (p)
		sprintf(p, "%s.partial.%d", out, (int)getpid());
	return p;
}

struct opts {
	struct uc_layers l;
	const char *out;
	enum uc_comp comp;
};

static int parse(int argc, char **argv, struct opts *o)
{
	static const struct option longopts[] = {
		{"upper", required_argument, NULL, 'u'},
		{"lower", required_argument, NULL, 'l'},
		{"work", required_argument, NULL, 'w'},
		{"output", required_argument, NULL, 'o'},
		{"gzip", no_argument, NULL, 'z'},
		{"zstd", no_argument, NULL, 'Z'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0}};
	int c;

	while ((c = getopt_long(argc, argv, "+o:zh", longopts, NULL)) != -1) {
		if (c == 'h')
			return usage(stdout), 1;
		if (c == 'u' || c == 'l' || c == 'w') {
			if (uc_layers_opt(&o->l, CMD, c, optarg) < 0)
				return -1;
		} else if (c == 'o') {
			o->out = optarg;
		} else if (c == 'z' || c == 'Z') {
			o->comp = c == 'z' ? UC_GZIP : UC_ZSTD;
		} else {
			return -1;
		}
	}
	if (optind < argc) {
		uc_say(CMD, "unexpected argument ", argv[optind], NULL);
		return -1;
	}
	if (!o->out) {
		uc_say(CMD, "-o FILE (or -o - for stdout) is required", NULL, NULL);
		return -1;
	}
	return 0;
}

int uc_export(int argc, char **argv)
{
	struct opts o = {.comp = UC_PLAIN};
	struct uc_xlist x = {0};
	char digest[80], diff_id[80];
	uint64_t size = 0;
	int rc = parse(argc, argv, &o);

	if (rc)
		return rc > 0 ? 0 : (fprintf(stderr, "(unionctl export --help)\n"), 2);
	bool to_stdout = strcmp(o.out, "-") == 0;
	if (to_stdout && isatty(1)) {
		uc_say(CMD, "will not write a tarball to a terminal (use -o FILE)", NULL, NULL);
		return 2;
	}
	if (uc_layers_check(&o.l, CMD, false, false) < 0)
		return 2;
	if (uc_layers_busy(&o.l, CMD)) { /* a file written meanwhile would go out cut */
		uc_layers_free(&o.l);
		return 2;
	}
	char *tmp = to_stdout ? NULL : temp_beside(o.out);
	int fd = to_stdout ? 1 : tmp ? open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644) : -1;
	if (fd < 0) {
		uc_say(CMD, "cannot write ", tmp ? tmp : o.out, NULL);
		rc = 1;
	} else if (uc_xlist_build(&o.l, CMD, &x) < 0 ||
		   write_layer(&x, fd, o.comp, digest, diff_id, &size) < 0) {
		rc = 1;
	} else if (!to_stdout && (fsync(fd) < 0 || rename(tmp, o.out) < 0)) {
		uc_say(CMD, "cannot write ", o.out, NULL);
		rc = 1;
	}
	if (fd >= 0 && !to_stdout) {
		close(fd);
		if (rc)
			unlink(tmp);
	}
	if (rc == 0)
		fprintf(to_stdout ? stderr : stdout, "digest %s\ndiff_id %s\nsize %llu\n",
			digest, diff_id, (unsigned long long)size);
	free(tmp);
	uc_xlist_free(&x);
	uc_layers_free(&o.l);
	return rc;
}
