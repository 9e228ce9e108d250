/* loaderdirs.c: does a union meet the dirs the system's dynamic loader
 * searches? (see loaderdirs.h) */
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "kdirent.h"

#include "sys.h"
#include "unionshim/loaderdirs.h"
#include "unionshim/path.h"
#include "unionshim/scratch.h"

#define LDSO_CONF "/etc/ld.so.conf"
#define CONF_MAX 8192 /* bytes of one conf file read */

static const char *const system_dirs[] = {
	"/lib",	    "/lib32",	 "/lib64",	"/libx32",
	"/usr/lib", "/usr/lib32", "/usr/lib64", "/usr/libx32",
	"/usr/local/lib", "/etc",
};

/* Is one of A and B (canonical paths) the other or below it? */
static bool meet(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	size_t n = la < lb ? la : lb;

	if (la == 1 || lb == 1) /* "/" */
		return true;
	return strncmp(a, b, n) == 0 && (a[n] == '\0' || a[n] == '/') &&
	       (b[n] == '\0' || b[n] == '/');
}

/* Does a union's target or layer meet DIR? */
static bool union_meets(const struct us_config *cfg, const char *dir)
{
	for (int k = 0; k < cfg->nmounts; k++) {
		const struct us_mount *m = &cfg->mounts[k];
		if (meet(m->target, dir))
			return true;
		for (int i = 0; i < m->nlayers; i++)
			if (meet(m->layers[i].path, dir))
				return true;
	}
	return false;
}

bool us_loader_dir_meets(const struct us_config *cfg, const char *dir)
{
	return union_meets(cfg, dir);
}

static bool read_conf(const struct us_config *cfg, const char *path,
		      int depth);

/* An include of PATTERN, "DIR" "/" "*.conf": each such file of DIR. */
static bool read_include(const struct us_config *cfg, const char *pattern,
			 int depth)
{
	US_SCRATCH_SCOPE;
	struct {
		char dir[PATH_MAX], file[PATH_MAX];
		char ents[2048] __attribute__((aligned(8)));
	} *sb = us_scratch_push(sizeof *sb);
	const char *star = strrchr(pattern, '/');

	if (!sb || pattern[0] != '/' || !star || strcmp(star, "/*.conf") != 0 ||
	    (size_t)(star - pattern) >= sizeof sb->dir || depth > 1)
		return false;
	char *dir = sb->dir, *file = sb->file;
	memcpy(dir, pattern, (size_t)(star - pattern));
	dir[star - pattern] = '\0';
	int fd = SYS(open)(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return true; /* nothing to include */
	bool ok = true;
	long n = 0;
	while (ok && (n = SYS(syscall)(SYS_getdents64, fd, sb->ents,
				       sizeof sb->ents)) > 0) {
		for (long off = 0; ok && off < n;) {
			const struct linux_dirent64 *e = (void *)(sb->ents + off);
			size_t len = strlen(e->d_name);
			off += e->d_reclen;
			if (len < 6 || strcmp(e->d_name + len - 5, ".conf") != 0 ||
			    us_path_join(file, sizeof sb->file, dir, e->d_name) < 0)
				continue;
			ok = read_conf(cfg, file, depth + 1);
		}
	}
	if (n < 0)
		ok = false;
	SYS(close)(fd);
	return ok;
}

/* Each line of the conf file PATH: an absolute dir (checked), an include
 * (followed), a comment or blank. False for anything else, or a near
 * dir: the module then stays. */
static bool read_conf(const struct us_config *cfg, const char *path,
		      int depth)
{
	US_SCRATCH_SCOPE;
	char *buf = us_scratch_push(CONF_MAX + 1);
	int fd = SYS(open)(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return true; /* no such file: nothing listed */
	ssize_t n = buf ? SYS(read)(fd, buf, CONF_MAX + 1) : -1;
	SYS(close)(fd);
	if (n < 0 || n > CONF_MAX)
		return false;
	buf[n] = '\0';
	for (char *line = buf, *next; line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		line[strcspn(line, "#")] = '\0';
		line += strspn(line, " \t");
		size_t len = strlen(line);
		while (len && (line[len - 1] == ' ' || line[len - 1] == '\t'))
			line[--len] = '\0';
		if (!len)
			continue;
		if (strncmp(line, "include", 7) == 0 &&
		    (line[7] == ' ' || line[7] == '\t')) {
			if (!read_include(cfg, line + 8 + strspn(line + 8, " \t"),
					  depth))
				return false;
		} else if (line[0] != '/' || union_meets(cfg, line)) {
			return false;
		}
	}
	return true;
}

bool us_loader_dirs_meet(const struct us_config *cfg)
{
	for (size_t i = 0; i < sizeof system_dirs / sizeof system_dirs[0]; i++)
		if (union_meets(cfg, system_dirs[i]))
			return true;
	return !read_conf(cfg, LDSO_CONF, 0);
}
