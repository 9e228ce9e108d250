/* fdmap/dirpath.c: the union paths of dir fds, remembered, so that *at()
 * calls on a union dir fd (and getdents, fchdir, /proc/self/fd/N/x) do
 * not ask the kernel for /proc/self/fd/N every time.
 *
 * A small table indexed by fd number. An entry holds the fd's union path
 * and what the fd map said the fd was open on (real st_dev and st_ino),
 * and the mount's generation of moved subtrees (shared.h) read before the
 * path was: it is valid while the fd map still says the fd is open on
 * that dir and no dir of the mount was renamed or removed since (a dir's
 * path changes no other way through the union). Entries are read and
 * written with atomic loads and stores under a sequence word, odd while
 * written: a reader finding it odd asks the kernel; no lock, no malloc
 * (signal handlers and forked children may be here).
 *
 * An fd open on a lower dir or file below a renamed dir (redirect.h)
 * cannot find its union path from its real one (that names the object's
 * old place): its path is remembered when it is opened (and dup'ed), and
 * after a rename it is kept while it still leads to the object the fd is
 * open on. */
#include <errno.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>

#define US_FDMAP_INSIDE
#include "fdmap_priv.h"
#include "../dirfdpath.h"
#include "../forks.h"
#include "../state.h"
#include "unionshim/redirect.h"
#include "unionshim/scratch.h"
#include "unionshim/shared.h"

#define SLOTS 64
#define PATH_WORDS 32 /* longer paths are asked for each time */

struct slot {
	uint32_t seq;
	uint32_t moves;
	int64_t fd;
	uint64_t rdev, rino, len;
	uint64_t path[PATH_WORDS];
};
static struct slot slots[SLOTS];

/* Acquire loads and release stores (plain moves on x86-64): a reader that
 * sees a field a writer stored sees its sequence word odd after it, with
 * no fence (which ThreadSanitizer cannot follow). */
#define LOAD(p) __atomic_load_n(p, __ATOMIC_ACQUIRE)
#define STORE(p, v) __atomic_store_n(p, v, __ATOMIC_RELEASE)

/* The fd map's entry of FD when it is open on a union dir, else NULL. */
static struct us_fdent *union_dir(int fd)
{
	struct us_fdent *e = us_fdent_peek(fd);

	if (!e || __atomic_load_n(&e->kind, __ATOMIC_ACQUIRE) != US_FD_UNION ||
	    !LOAD(&e->dir) || us_in_vfork_child())
		return NULL;
	return e;
}

static uint32_t moves_now(const struct us_fdent *e)
{
	const uint32_t *moves = NULL;

	if (!us_shared_dirgen(&us_cfg.mounts[e->mount], 0, &moves) || !moves)
		return 0;
	return __atomic_load_n(moves, __ATOMIC_ACQUIRE);
}

void us_dirfd_base(int fd, struct us_base *b)
{
	struct us_fdent *e = union_dir(fd);

	b->fd = fd;
	b->layer = -1;
	b->m = NULL;
	if (!e)
		return;
	b->m = &us_cfg.mounts[e->mount];
	b->dev = (dev_t)__atomic_load_n(&e->rdev, __ATOMIC_RELAXED);
	b->ino = __atomic_load_n(&e->rino, __ATOMIC_RELAXED);
	b->layer = __atomic_load_n(&e->layer, __ATOMIC_ACQUIRE);
}

int us_dirfd_cached(int fd, char *out, size_t len, uint32_t *moves)
{
	struct us_fdent *e = union_dir(fd);

	*moves = 0;
	if (!e)
		return 0;
	*moves = moves_now(e);
	struct slot *s = &slots[fd % SLOTS];
	uint32_t seq = __atomic_load_n(&s->seq, __ATOMIC_ACQUIRE);
	size_t n = LOAD(&s->len);
	if ((seq & 1) || LOAD(&s->fd) != fd || LOAD(&s->moves) != *moves ||
	    LOAD(&s->rdev) != (uint64_t)LOAD(&e->rdev) ||
	    LOAD(&s->rino) != LOAD(&e->rino) || n + 1 > len ||
	    n >= sizeof s->path)
		return 0;
	uint64_t w[PATH_WORDS];
	for (size_t i = 0; i * 8 < n + 1; i++)
		w[i] = LOAD(&s->path[i]);
	if (LOAD(&s->seq) != seq)
		return 0;
	memcpy(out, w, n + 1);
	return 1;
}

uint32_t us_dirfd_moves_all(void)
{
	uint32_t sum = 0;

	for (int k = 0; k < us_cfg.nmounts; k++) {
		const uint32_t *moves = NULL;
		if (us_shared_dirgen(&us_cfg.mounts[k], 0, &moves) && moves)
			sum += __atomic_load_n(moves, __ATOMIC_ACQUIRE);
	}
	return sum;
}

static void store(int fd, const struct us_fdent *e, const char *upath,
		  uint32_t moves)
{
	size_t n = strlen(upath);
	struct slot *s = &slots[fd % SLOTS];
	uint64_t w[PATH_WORDS] = {0};

	if (n >= sizeof s->path)
		return;
	uint32_t seq = __atomic_load_n(&s->seq, __ATOMIC_RELAXED);
	if ((seq & 1) || !__atomic_compare_exchange_n(&s->seq, &seq, seq + 1, false,
						      __ATOMIC_ACQUIRE,
						      __ATOMIC_RELAXED))
		return;
	memcpy(w, upath, n + 1);
	STORE(&s->fd, fd);
	STORE(&s->moves, moves);
	STORE(&s->rdev, (uint64_t)LOAD(&e->rdev));
	STORE(&s->rino, LOAD(&e->rino));
	STORE(&s->len, n);
	for (size_t i = 0; i * 8 < n + 1; i++)
		STORE(&s->path[i], w[i]);
	__atomic_store_n(&s->seq, seq + 2, __ATOMIC_RELEASE);
}

void us_dirfd_remember(int fd, const char *upath, uint32_t moves)
{
	struct us_fdent *e = union_dir(fd);

	if (e)
		store(fd, e, upath, moves);
}

/* The fd map's entry of FD when it is open on a lower dir or file of a
 * mount whose dirs may have been renamed, else NULL. */
static struct us_fdent *lower_fd(int fd)
{
	struct us_fdent *e = us_fdent_peek(fd);

	if (!e || __atomic_load_n(&e->kind, __ATOMIC_ACQUIRE) != US_FD_UNION ||
	    LOAD(&e->layer) == 0 || us_in_vfork_child() ||
	    !us_redirects_maybe(&us_cfg.mounts[e->mount]))
		return NULL;
	return e;
}

/* A union dir fd is remembered when no subtree moved since the lookup
 * began (the mount's own word is read first: a move after it makes the
 * sum differ from BEFORE, or the stored word stale). An fd on a lower
 * dir or file below a renamed dir (its real path names its old place)
 * is kept in any case, stamped one move behind: its first use rechecks
 * it (us_dirfd_recheck) rather than trust or lose it. */
void us_dirfd_opened(int fd, const char *upath, uint32_t before)
{
	struct us_fdent *e = union_dir(fd);

	if (e) {
		uint32_t moves = moves_now(e);
		if (us_dirfd_moves_all() == before) {
			store(fd, e, upath, moves);
			return;
		}
	}
	if ((e = lower_fd(fd)))
		store(fd, e, upath, moves_now(e) - 1);
}

/* The path FD's slot remembers whatever the moves since, when the slot
 * is FD's and the fd is still open on the dir it was. */
static int recall(int fd, const struct us_fdent *e, char *out, size_t len)
{
	struct slot *s = &slots[fd % SLOTS];
	uint32_t seq = __atomic_load_n(&s->seq, __ATOMIC_ACQUIRE);
	size_t n = LOAD(&s->len);
	uint64_t w[PATH_WORDS];

	if ((seq & 1) || LOAD(&s->fd) != fd ||
	    LOAD(&s->rdev) != (uint64_t)LOAD(&e->rdev) ||
	    LOAD(&s->rino) != LOAD(&e->rino) || n + 1 > len ||
	    n >= sizeof s->path)
		return 0;
	for (size_t i = 0; i * 8 < n + 1; i++)
		w[i] = LOAD(&s->path[i]);
	if (LOAD(&s->seq) != seq)
		return 0;
	memcpy(out, w, n + 1);
	return 1;
}

/* Does union path UPATH (still) lead to an object whose copy in LAYER is
 * the real object (DEV, INO)? (A copy-up since may have put one above
 * it.) */
static bool leads_to(const char *upath, int layer, dev_t dev, uint64_t ino)
{
	US_SCRATCH_SCOPE;
	struct {
		struct us_resolved r;
		char real[US_PATH_MAX];
	} *sb = us_scratch_push(sizeof *sb);
	struct stat st;
	int saved = errno;
	bool same = sb && us_resolve(&us_cfg, upath, 0, &sb->r) == 0 &&
		    sb->r.where == US_INSIDE && sb->r.err == 0 &&
		    (!S_ISDIR(sb->r.node.mode) ||
		     (sb->r.node.dirs & ((us_layermask)1 << layer))) &&
		    us_layer_path(sb->r.m, layer, sb->r.path, sb->real,
				  sizeof sb->real) == 0 &&
		    us_long_lstat(sb->real, &st) == 0 && st.st_dev == dev &&
		    st.st_ino == ino;
	errno = saved;
	return same;
}

int us_dirfd_recheck(int fd, char *out, size_t len, uint32_t moves)
{
	struct us_fdent *e = lower_fd(fd);

	if (!e || !recall(fd, e, out, len) ||
	    !leads_to(out, LOAD(&e->layer), (dev_t)LOAD(&e->rdev), LOAD(&e->rino)))
		return 0;
	store(fd, e, out, moves);
	return 1;
}

int us_fd_union_path(int fd, const char *real, char *out, size_t len,
		     const struct us_mount **m)
{
	struct us_fdent *e = lower_fd(fd);

	if (e && us_dirfd_recheck(fd, out, len, moves_now(e))) {
		*m = &us_cfg.mounts[e->mount];
		return 1;
	}
	return us_revmap(&us_cfg, real, out, len, m);
}

void us_dirfd_duped(int from, int to)
{
	struct us_fdent *e = union_dir(from), *n = union_dir(to);
	char path[PATH_WORDS * 8];

	if (!e || !n) {
		e = lower_fd(from);
		n = lower_fd(to);
	}
	if (!e || !n || !recall(from, e, path, sizeof path))
		return;
	store(to, n, path, LOAD(&slots[from % SLOTS].moves));
}
