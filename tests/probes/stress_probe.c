/* stress_probe: many threads hammer one union at once (and fork now and
 * then), checking what every one of them sees (tests/bats/stress.bats;
 * `make check-sanitize` runs it under ThreadSanitizer).
 *
 *   stress_probe seed DIR            make the files in DIR (a lower, real)
 *   stress_probe run DIR SECS [THREADS]   hammer DIR (the union target)
 *
 * The files are f00..f11 in DIR and in DIR/d, each K whole records (and
 * DIR/keep, a dir no op writes),
 * (header records 0..K-1). Files only ever grow by whole records appended
 * with O_APPEND (each append copies a lower file up), or are replaced
 * whole: a thread writes a new file under a temp name and renames it over
 * an f name. So every f a thread can open or stat holds at least K
 * records, header first: fewer means a half-copied file became visible.
 * Each thread runs open/fstat/read/dup/dup2/close, stat/lstat, openat from
 * a dir fd, appends, replaces, unlinks, listings and cwd moves (the core
 * limit main set must read back unchanged); now and then it forks
 * a child that reads and appends once and exits. Errors other than ENOENT
 * (another thread unlinked the name) are failures. The last line sums up:
 * "stress: N threads, ... 0 failures"; exit status 0 only then.
 *
 * STRESS_KERNEL_OVERLAYFS=1 (the oracle leg of stress.bats) also lets an
 * append's open fail with EEXIST: kernel overlayfs gives it when the copy-up
 * of a name races a rename over that name (the copy-up links its temp file
 * at a name the rename has just filled), a kernel quirk the shim does not
 * have; those are counted ("N overlayfs EEXIST") instead of failed. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define REC 32     /* bytes in a record, newline included */
#define K 8        /* header records in every file */
#define NFILES 12  /* f00..f11 per dir */
#define SLOTS 3    /* dup2 targets each thread owns */
#define SLOT0 400  /* first of them */
#define MAXTHREADS 64

enum { OP_READ, OP_STAT, OP_OPENAT, OP_APPEND, OP_REPLACE, OP_UNLINK,
       OP_LIST, OP_CWD, OP_FORK, NOPS };
static const char *const op_names[NOPS] = {
	"reads", "stats", "openats", "appends", "replaces", "unlinks",
	"listings", "cwd moves", "forks"};

static const char *root;
static rlim_t core_soft; /* the soft core limit main set */
static struct timespec deadline;
static unsigned long counts[NOPS];
static unsigned long failures;
static unsigned long kernel_eexist;  /* tolerated on kernel overlayfs only */
static int on_kernel_overlayfs;
static pthread_mutex_t out_lock = PTHREAD_MUTEX_INITIALIZER;

static void fail(const char *fmt, ...)
{
	va_list ap;

	pthread_mutex_lock(&out_lock);
	failures++;
	if (failures <= 20) {
		va_start(ap, fmt);
		fputs("FAIL ", stdout);
		vprintf(fmt, ap);
		putchar('\n');
		fflush(stdout);
		va_end(ap);
	}
	pthread_mutex_unlock(&out_lock);
}

static void header(char *rec, int i)
{
	char tmp[REC + 1];

	snprintf(tmp, sizeof tmp, "H%05d/%05d:%018d\n", i, K, 0);
	memcpy(rec, tmp, REC);
}

static void appended(char *rec, unsigned tag)
{
	char tmp[REC + 1];

	snprintf(tmp, sizeof tmp, "A%05d/%05d:%018x\n", 99999, K, tag);
	memcpy(rec, tmp, REC);
}

/* BUF (N bytes) read from an f file: K header records, then appended
 * records; the last one may be half written. */
static const char *bad_content(const char *buf, size_t n)
{
	char want[REC];

	if (n < (size_t)K * REC)
		return "fewer than K records (half-copied file visible?)";
	for (int i = 0; i < K; i++) {
		header(want, i);
		if (memcmp(buf + (size_t)i * REC, want, REC) != 0)
			return "header record damaged";
	}
	for (size_t off = (size_t)K * REC; off + REC <= n; off += REC)
		if (buf[off] != 'A' || buf[off + REC - 1] != '\n' ||
		    memcmp(buf + off + 1, "99999/", 6) != 0)
			return "appended record damaged";
	return NULL;
}

static void file_path(char *out, size_t len, unsigned r)
{
	unsigned i = r % (2 * NFILES);

	snprintf(out, len, "%s/%sf%02u", root, i >= NFILES ? "d/" : "",
		 i % NFILES);
}

static int expected_errno(int e)
{
	return e == ENOENT;
}

/* Read FD to the end and check it; returns bytes read or -1. */
static long read_check(int fd, const char *what)
{
	static __thread char buf[1 << 16];
	size_t n = 0;
	ssize_t r = 0;

	while (n < sizeof buf && (r = read(fd, buf + n, sizeof buf - n)) > 0)
		n += (size_t)r;
	if (r < 0 && n < sizeof buf) {
		fail("read %s: %s", what, strerror(errno));
		return -1;
	}
	const char *bad = bad_content(buf, n);
	if (bad)
		fail("%s: %s (%zu bytes)", what, bad, n);
	return (long)n;
}

static void op_read(unsigned r, unsigned tid)
{
	char p[4096];
	struct stat st;

	file_path(p, sizeof p, r);
	int fd = open(p, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		if (!expected_errno(errno))
			fail("open %s: %s", p, strerror(errno));
		return;
	}
	if (fstat(fd, &st) < 0 || st.st_size < K * REC)
		fail("fstat %s: %s size %lld", p, strerror(errno),
		     (long long)st.st_size);
	int d = dup(fd);
	if (d < 0)
		fail("dup %s: %s", p, strerror(errno));
	int slot = SLOT0 + (int)(tid * SLOTS + (r >> 8) % SLOTS);
	if (dup2(d >= 0 ? d : fd, slot) != slot)
		fail("dup2 %s: %s", p, strerror(errno));
	if (d >= 0 && close(d) < 0)
		fail("close dup %s: %s", p, strerror(errno));
	read_check(fd, p);
	if (lseek(slot, 0, SEEK_SET) == 0 && fstat(slot, &st) == 0 &&
	    st.st_size < K * REC)
		fail("fstat of the dup2 copy of %s: size %lld", p,
		     (long long)st.st_size);
	if (close(fd) < 0)
		fail("close %s: %s", p, strerror(errno));
	if (r & 0x10000)
		close(slot); /* else the next dup2 replaces it */
}

static void op_stat(unsigned r)
{
	char p[4096];
	struct stat st;

	file_path(p, sizeof p, r);
	int rc = (r & 0x100) ? lstat(p, &st) : stat(p, &st);
	if (rc < 0) {
		if (!expected_errno(errno))
			fail("stat %s: %s", p, strerror(errno));
		return;
	}
	if (!S_ISREG(st.st_mode) || st.st_size < K * REC)
		fail("stat %s: mode %o size %lld", p, st.st_mode,
		     (long long)st.st_size);
}

static void op_openat(unsigned r)
{
	char p[4096], name[16];

	snprintf(p, sizeof p, "%s%s", root, (r & 1) ? "/d" : "");
	snprintf(name, sizeof name, "f%02u", (r >> 1) % NFILES);
	int dfd = open(p, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0) {
		fail("open dir %s: %s", p, strerror(errno));
		return;
	}
	int fd = openat(dfd, name, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		if (!expected_errno(errno))
			fail("openat %s/%s: %s", p, name, strerror(errno));
	} else {
		read_check(fd, name);
		close(fd);
	}
	close(dfd);
}

/* An append: the first on a lower file copies it up. */
static int append_one(const char *p, unsigned tag)
{
	char rec[REC];

	int fd = open(p, O_WRONLY | O_APPEND | O_CLOEXEC);
	if (fd < 0 && errno == EEXIST && on_kernel_overlayfs) {
		__atomic_add_fetch(&kernel_eexist, 1, __ATOMIC_RELAXED);
		return 0;
	}
	if (fd < 0)
		return expected_errno(errno) ? 0 : -1;
	appended(rec, tag);
	int rc = write(fd, rec, REC) == REC ? 0 : -1;
	int e = errno;
	if (close(fd) < 0 && rc == 0)
		return -1;
	errno = e;
	return rc;
}

static void op_append(unsigned r, unsigned tid)
{
	char p[4096];

	file_path(p, sizeof p, r);
	if (append_one(p, tid << 24 | (r & 0xffffff)) < 0)
		fail("append %s: %s", p, strerror(errno));
}

/* A whole new file under a temp name, renamed over an f name. */
static void op_replace(unsigned r, unsigned tid)
{
	char p[4096], t[4096], buf[K * REC];

	file_path(p, sizeof p, r);
	snprintf(t, sizeof t, "%.*s/t%02u", (int)(strrchr(p, '/') - p), p, tid);
	for (int i = 0; i < K; i++)
		header(buf + i * REC, i);
	int fd = open(t, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 || write(fd, buf, sizeof buf) != (ssize_t)sizeof buf) {
		fail("create %s: %s", t, strerror(errno));
		if (fd >= 0)
			close(fd);
		return;
	}
	if (close(fd) < 0 || rename(t, p) < 0)
		fail("rename %s over %s: %s", t, p, strerror(errno));
}

static void op_unlink(unsigned r)
{
	char p[4096];

	file_path(p, sizeof p, r);
	if (unlink(p) < 0 && !expected_errno(errno))
		fail("unlink %s: %s", p, strerror(errno));
}

/* Names a listing may show: f00.., d, and t<tid> temp files. */
static int listed_ok(const char *n)
{
	return !strcmp(n, ".") || !strcmp(n, "..") || !strcmp(n, "d") ||
	       !strcmp(n, "keep") ||
	       (n[0] == 'f' && strlen(n) == 3) || (n[0] == 't' && strlen(n) == 3);
}

static void op_list(unsigned r)
{
	char p[4096];

	snprintf(p, sizeof p, "%s%s", root, (r & 1) ? "/d" : "");
	DIR *d = opendir(p);
	if (!d) {
		fail("opendir %s: %s", p, strerror(errno));
		return;
	}
	struct dirent *e;
	errno = 0;
	while ((e = readdir(d)))
		if (!listed_ok(e->d_name))
			fail("listing %s shows %s", p, e->d_name);
	if (errno)
		fail("readdir %s: %s", p, strerror(errno));
	closedir(d);
}

/* The cwd moved to the root or to keep (a dir of the lower alone, which
 * no op writes: the shim holds the real core limit at 0 there): the
 * limit main set reads back unchanged whatever the cwd. */
static void op_cwd(unsigned r)
{
	char p[4096];
	struct rlimit rl;

	snprintf(p, sizeof p, "%s%s", root, (r & 1) ? "/keep" : "");
	if (chdir(p) < 0)
		fail("chdir %s: %s", p, strerror(errno));
	else if (getrlimit(RLIMIT_CORE, &rl) < 0 || rl.rlim_cur != core_soft)
		fail("core limit in %s: %llu, set %llu", p,
		     (unsigned long long)rl.rlim_cur, (unsigned long long)core_soft);
}

/* The child reads and appends once; a child that hangs (a lock held by a
 * thread that does not exist in it) is killed after 20 s. */
static void op_fork(unsigned r, unsigned tid)
{
	char p[4096];

	file_path(p, sizeof p, r);
	pid_t pid = fork();
	if (pid < 0) {
		fail("fork: %s", strerror(errno));
		return;
	}
	if (pid == 0) {
		unsigned long before = failures; /* the parent's, copied */
		alarm(20);
		int fd = open(p, O_RDONLY);
		if (fd >= 0) {
			read_check(fd, p);
			close(fd);
		}
		_exit(append_one(p, 0xff000000u | tid) < 0 || failures != before);
	}
	int st;
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		fail("forked child on %s: %s %d", p,
		     WIFEXITED(st) ? "status" : "signal",
		     WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st));
}

static int past(const struct timespec *t)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return now.tv_sec > t->tv_sec ||
	       (now.tv_sec == t->tv_sec && now.tv_nsec >= t->tv_nsec);
}

static void *worker(void *arg)
{
	unsigned tid = (unsigned)(size_t)arg, seed = tid * 2654435761u + 1;
	unsigned long mine[NOPS] = {0};

	while (!past(&deadline)) {
		for (int i = 0; i < 64; i++) {
			unsigned r = (unsigned)rand_r(&seed) ^
				     ((unsigned)rand_r(&seed) << 16);
			unsigned w = r % 1000;
			int op = w < 300   ? OP_READ
				 : w < 500 ? OP_STAT
				 : w < 600 ? OP_OPENAT
				 : w < 800 ? OP_APPEND
				 : w < 860 ? OP_REPLACE
				 : w < 900 ? OP_UNLINK
				 : w < 996 ? OP_LIST
				 : w < 998 ? OP_CWD
					   : OP_FORK;
			r /= 1000;
			switch (op) {
			case OP_READ: op_read(r, tid); break;
			case OP_STAT: op_stat(r); break;
			case OP_OPENAT: op_openat(r); break;
			case OP_APPEND: op_append(r, tid); break;
			case OP_REPLACE: op_replace(r, tid); break;
			case OP_UNLINK: op_unlink(r); break;
			case OP_LIST: op_list(r); break;
			case OP_CWD: op_cwd(r); break;
			default: op_fork(r, tid); break;
			}
			mine[op]++;
		}
	}
	pthread_mutex_lock(&out_lock);
	for (int i = 0; i < NOPS; i++)
		counts[i] += mine[i];
	pthread_mutex_unlock(&out_lock);
	return NULL;
}

static int seed_dir(const char *dir)
{
	char p[4096], buf[K * REC];

	for (int i = 0; i < K; i++)
		header(buf + i * REC, i);
	for (int i = 0; i < 2 * NFILES; i++) {
		snprintf(p, sizeof p, "%s/%sf%02d", dir, i >= NFILES ? "d/" : "",
			 i % NFILES);
		if (i == 0) {
			char d[4096];
			snprintf(d, sizeof d, "%s/d", dir);
			if (mkdir(d, 0755) < 0 && errno != EEXIST) {
				perror(d);
				return 1;
			}
			snprintf(d, sizeof d, "%s/keep", dir);
			if (mkdir(d, 0755) < 0 && errno != EEXIST) {
				perror(d);
				return 1;
			}
		}
		FILE *f = fopen(p, "w");
		if (!f || fwrite(buf, 1, sizeof buf, f) != sizeof buf ||
		    fclose(f) != 0) {
			perror(p);
			return 1;
		}
	}
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "seed") == 0)
		return seed_dir(argv[2]);
	if (argc < 4 || argc > 5 || strcmp(argv[1], "run") != 0) {
		fprintf(stderr, "usage: stress_probe seed DIR | run DIR SECS [THREADS]\n");
		return 2;
	}
	root = argv[2];
	const char *k = getenv("STRESS_KERNEL_OVERLAYFS");
	on_kernel_overlayfs = k && strcmp(k, "1") == 0;
	double secs = strtod(argv[3], NULL);
	int n = argc == 5 ? atoi(argv[4]) : 16;
	if (secs <= 0 || n < 1 || n > MAXTHREADS) {
		fprintf(stderr, "stress_probe: bad SECS or THREADS\n");
		return 2;
	}
	struct rlimit rl;
	if (getrlimit(RLIMIT_CORE, &rl) == 0) {
		if (rl.rlim_max == RLIM_INFINITY || rl.rlim_max >= 4096)
			rl.rlim_cur = 4096;
		if (setrlimit(RLIMIT_CORE, &rl) == 0)
			core_soft = rl.rlim_cur;
		else if (getrlimit(RLIMIT_CORE, &rl) == 0)
			core_soft = rl.rlim_cur;
	}
	alarm((unsigned)secs + 120); /* a deadlock ends the run */
	clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_sec += (time_t)secs;
	deadline.tv_nsec += (long)((secs - (double)(time_t)secs) * 1e9);
	if (deadline.tv_nsec >= 1000000000L) {
		deadline.tv_sec++;
		deadline.tv_nsec -= 1000000000L;
	}
	pthread_t th[MAXTHREADS];
	for (int i = 0; i < n; i++)
		if (pthread_create(&th[i], NULL, worker, (void *)(size_t)i) != 0) {
			fprintf(stderr, "stress_probe: pthread_create failed\n");
			return 2;
		}
	for (int i = 0; i < n; i++)
		pthread_join(th[i], NULL);
	/* What is left: every listed f file whole. */
	for (unsigned i = 0; i < 2 * NFILES; i++) {
		char p[4096];
		file_path(p, sizeof p, i);
		int fd = open(p, O_RDONLY);
		if (fd >= 0) {
			read_check(fd, p);
			close(fd);
		} else if (errno != ENOENT) {
			fail("final open %s: %s", p, strerror(errno));
		}
	}
	unsigned long total = 0;
	if (kernel_eexist)
		printf("stress: %lu appends met kernel overlayfs's copy-up EEXIST\n",
		       kernel_eexist);
	printf("stress: %d threads, %.1f s:", n, secs);
	for (int i = 0; i < NOPS; i++) {
		printf(" %lu %s", counts[i], op_names[i]);
		total += counts[i];
	}
	printf(", %lu ops, %lu failures\n", total, failures);
	return failures || total == 0 ? 1 : 0;
}
