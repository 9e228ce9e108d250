/* openat_probe: the *at() calls relative to a dirfd of a union dir, ".."
 * from a subdir's dirfd, and /proc/self/fd/N/NAME and /dev/fd/N/NAME.
 *
 * Usage: openat_probe UNIONROOT (the stack of tests/lib/itest.bash). Prints
 * one line per step, "step RESULT", RESULT being the data read (first
 * line), a type, "OK" or an errno name. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void fail(const char *step)
{
	printf("%s %s\n", step, strerrorname_np(errno));
}

/* Print the first line of what FD holds, and close it. */
static void show_fd(const char *step, int fd)
{
	char buf[256];
	ssize_t n;

	if (fd < 0) {
		fail(step);
		return;
	}
	n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n < 0) {
		fail(step);
		return;
	}
	buf[n] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	printf("%s %s\n", step, buf);
}

static void show_stat(const char *step, int rc, const struct stat *st)
{
	if (rc < 0) {
		fail(step);
		return;
	}
	printf("%s %s %lld\n", step,
	       S_ISREG(st->st_mode)   ? "file"
	       : S_ISDIR(st->st_mode) ? "dir"
	       : S_ISLNK(st->st_mode) ? "link"
				      : "other",
	       (long long)st->st_size);
}

static void show_rc(const char *step, int rc)
{
	if (rc < 0)
		fail(step);
	else
		printf("%s OK\n", step);
}

static int cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The names of a dir read through fdopendir of a dirfd, sorted. */
static void show_list(const char *step, int fd)
{
	char *names[256];
	size_t n = 0;
	DIR *d = fdopendir(fd);
	struct dirent *e;

	if (!d) {
		fail(step);
		return;
	}
	while ((e = readdir(d)) && n < 256)
		names[n++] = strdup(e->d_name);
	closedir(d);
	qsort(names, n, sizeof *names, cmp);
	printf("%s", step);
	for (size_t i = 0; i < n; i++) {
		printf(" %s", names[i]);
		free(names[i]);
	}
	printf("\n");
}

int main(int argc, char **argv)
{
	struct stat st;
	char buf[4096], p[4096];
	ssize_t n;
	int root, sub;

	if (argc != 2) {
		fprintf(stderr, "usage: openat_probe UNIONROOT\n");
		return 2;
	}
	root = open(argv[1], O_RDONLY | O_DIRECTORY);
	if (root < 0) {
		perror(argv[1]);
		return 1;
	}
	show_fd("openat_upper_wins", openat(root, "both", O_RDONLY));
	show_fd("openat_lower2_only", openat(root, "l2_only", O_RDONLY));
	show_fd("openat_deep", openat(root, "dir/sub/b1", O_RDONLY));
	show_fd("openat_rel_link", openat(root, "rel_link", O_RDONLY));
	show_fd("openat_abs_link", openat(root, "abs_link", O_RDONLY));
	show_fd("openat_whiteout_oci", openat(root, "gone_oci", O_RDONLY));
	show_fd("openat_whiteout_ovl", openat(root, "gone_ovl", O_RDONLY));
	show_fd("openat_opaque_hidden", openat(root, "opq/old1", O_RDONLY));
	show_fd("openat_reserved", openat(root, ".wh.gone_oci", O_RDONLY));
	show_fd("openat_nofollow_link",
		openat(root, "rel_link", O_RDONLY | O_NOFOLLOW));

	show_stat("fstatat_dir", fstatat(root, "dir", &st, 0), &st);
	show_stat("fstatat_kind", fstatat(root, "kind", &st, 0), &st);
	show_stat("fstatat_link_nofollow",
		  fstatat(root, "rel_link", &st, AT_SYMLINK_NOFOLLOW), &st);
	show_stat("fstatat_link_follow", fstatat(root, "rel_link", &st, 0), &st);
	show_stat("fstatat_gonedir", fstatat(root, "gonedir", &st, 0), &st);
	show_stat("fstatat_empty_path", fstatat(root, "", &st, AT_EMPTY_PATH),
		  &st);

	n = readlinkat(root, "rel_link", buf, sizeof buf - 1);
	if (n < 0) {
		fail("readlinkat");
	} else {
		buf[n] = '\0';
		printf("readlinkat %s\n", buf);
	}
	n = readlinkat(root, "both", buf, sizeof buf - 1);
	if (n < 0)
		fail("readlinkat_notlink");
	else
		printf("readlinkat_notlink OK\n");

	show_rc("faccessat_r", faccessat(root, "low_only", R_OK, 0));
	show_rc("faccessat_w", faccessat(root, "low_only", W_OK, 0));
	show_rc("faccessat_f_gone", faccessat(root, "gone_ovl", F_OK, 0));
	show_rc("faccessat_eaccess",
		faccessat(root, "dir/sub/b1", R_OK, AT_EACCESS));

	sub = openat(root, "dir/sub", O_RDONLY | O_DIRECTORY);
	if (sub < 0) {
		fail("openat_subdir");
		return 0;
	}
	show_fd("dotdot_from_sub", openat(sub, "../a", O_RDONLY));
	show_fd("dotdot2_from_sub", openat(sub, "../../up_only", O_RDONLY));
	show_stat("dotdot_fstatat", fstatat(sub, "../../opq2", &st, 0), &st);
	show_fd("sub_lower2_name", openat(sub, "b1", O_RDONLY));
	/* three ".." leave the union: the real lower dir is found there */
	show_fd("dotdot_past_root",
		openat(sub, "../../../lower/low_only", O_RDONLY));

	snprintf(p, sizeof p, "/proc/self/fd/%d/b1", sub);
	show_fd("proc_self_fd_name", open(p, O_RDONLY));
	snprintf(p, sizeof p, "/proc/self/fd/%d/../c", sub);
	show_fd("proc_self_fd_dotdot", open(p, O_RDONLY));
	snprintf(p, sizeof p, "/dev/fd/%d/up_only", root);
	show_stat("dev_fd_stat", stat(p, &st), &st);
	snprintf(p, sizeof p, "/proc/self/fd/%d/gone_oci", root);
	show_stat("proc_self_fd_whiteout", stat(p, &st), &st);

	show_list("fdopendir_sub", dup(sub));
	show_list("fdopendir_root", dup(root));
	close(sub);
	close(root);
	return 0;
}
