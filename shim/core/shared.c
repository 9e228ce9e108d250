/* shared.c: the generation table in the work dir (see shared.h). Mapped
 * at startup (us_shared_open) by a process that resolved its
 * configuration itself, else (a child that adopted its parent's record,
 * whose #state the parent made) on first use, once per mount and process; the fd is closed at once, so the mapping costs the program no
 * descriptor. A fork shares it; an exec maps it again.
 *
 * The file is allocated whole before it is mapped: a page of a shared
 * mapping with no block under it faults in a block when touched, and on a
 * full filesystem that fault is SIGBUS for whoever touched it, any process
 * of the union. A #state made sparse (by an older version, or grown by a
 * process that died before allocating it) is allocated by the next one. */
#include <errno.h>
#include <limits.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <sys/mman.h>
#include <string.h>
#include <sys/stat.h>
#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "layer.h"
#include "sys.h"
#include "unionshim/pathmax.h"
#include "unionshim/redirect.h"
#include "upperscan.h"
#include "unionshim/shared.h"
#include "unionshim/scratch.h"
#include "unionshim/startdata.h"

#define STATE_NAME "#state"
#define ORIGINS_WORD US_SHARED_SLOTS /* after the slots: not 0 while origin
					     records may be in any upper dir
					     (0 with MARKED_WORD set: in
					     marked ones) */
#define ORIGINS_ANYWHERE 1u /* (an earlier version's copy-up, a mark lost) */
#define ORIGINS_UNSCANNED 2u /* the upper was not empty: until its scan */
/* (US_SHARED_SLOTS + 1: the moves word of the first form, unused) */
#define REDIRECTS_WORD (US_SHARED_SLOTS + 4) /* bit 0: a rename may have
						written a redirect record;
						bit 1: the upper is being
						scanned for records */
#define REDIRECTS_WRITTEN 1u
#define REDIRECTS_SCANNING 2u
/* The dirs' generations and the moves word in the form that counts
 * changes under way in the low byte (shared.h) live after those of the
 * first form (SLOTS + 16 on, counted by ones, left unused): a #state of
 * the first form is grown, and its new words start at 0. */
#define FORM2_BASE (US_SHARED_SLOTS + 16 + US_SHARED_DIRSLOTS)
#define MOVES_WORD FORM2_BASE /* bumped when a subtree moves */
#define DIRGEN_BASE (FORM2_BASE + 16) /* own cache lines */
/* The third form adds, in words no earlier form had: a word that says
 * origin records were written since, each in an upper dir marked in the
 * bitmap that follows it (a page of its own, one bit per hash of a dir's
 * inode): shared.h us_shared_origins_in. */
#define FORM3_BASE (DIRGEN_BASE + US_SHARED_DIRSLOTS)
#define MARKED_WORD FORM3_BASE
#define ORIGDIRS_BASE (((FORM3_BASE + 16) + 1023) / 1024 * 1024)
#define ORIGDIRS_BITS (US_SHARED_ORIGDIR_WORDS * 32)
#define STATE_WORDS (ORIGDIRS_BASE + US_SHARED_ORIGDIR_WORDS)
/* what us_shared_settle reads: the words of the second form */
#define SETTLE_SIZE (FORM3_BASE * sizeof(uint32_t))
#define STATE_SIZE (STATE_WORDS * sizeof(uint32_t))

US_START_DATA void (*us_copied_hook)(const struct us_mount *m, uint64_t ino);

static struct {
	const struct us_mount *m;
	uint32_t *slots; /* MAP_FAILED: tried and failed */
	bool readonly;   /* mapped for reading only (another uid's #state) */
} maps[US_MAX_MOUNTS];
pthread_mutex_t us_shared_lock = PTHREAD_MUTEX_INITIALIZER;

/* Give every byte of the open #state FD a block. fallocate keeps what the
 * file holds (other processes may be counting in it); a filesystem without
 * it gets each page written back as read (a bump made by another process
 * between the read and the write of its page is lost: a stale fd then
 * reads on in the lower file). 0, or -1 with errno (ENOSPC, EDQUOT). */
static int allocate(int fd)
{
	char page[512];

	if (fallocate(fd, 0, 0, STATE_SIZE) == 0)
		return 0;
	if (errno != EOPNOTSUPP)
		return -1;
	if (SYS(ftruncate)(fd, STATE_SIZE) < 0)
		return -1;
	for (off_t off = 0; off < (off_t)STATE_SIZE; off += sizeof page) {
		size_t n = STATE_SIZE - (size_t)off < sizeof page
				   ? STATE_SIZE - (size_t)off
				   : sizeof page;
		ssize_t got = SYS(pread)(fd, page, n, off);
		if (got < 0)
			return -1;
		memset(page + got, 0, n - (size_t)got);
		if (pwrite(fd, page, n, off) != (ssize_t)n)
			return -1;
	}
	return 0;
}

/* Open the #state at P for reading and writing, made if missing: every
 * uid that can reach the work dir may write it (a build that drops to
 * another user keeps one state), whatever the umask. */
static int open_state(const char *p)
{
	int fd = SYS(open)(p, O_RDWR | O_CLOEXEC);

	if (fd >= 0 || errno != ENOENT)
		return fd;
	fd = SYS(open)(p, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
	if (fd >= 0) {
		SYS(fchmod)(fd, 0666);
		return fd;
	}
	return errno == EEXIST ? SYS(open)(p, O_RDWR | O_CLOEXEC) : -1;
}

/* A state another uid made and this one may only read: mapped for
 * reading (this process learns of others' changes, announces none). */
static uint32_t *map_readonly(const char *p, bool *readonly)
{
	int fd = SYS(open)(p, O_RDONLY | O_CLOEXEC);
	struct stat st;
	uint32_t *mem = MAP_FAILED;

	if (fd < 0)
		return MAP_FAILED;
	if (SYS(fstat)(fd, &st) == 0 && st.st_size >= (off_t)STATE_SIZE)
		mem = SYS(mmap)(NULL, STATE_SIZE, PROT_READ, MAP_SHARED, fd, 0);
	else
		errno = EACCES;
	int saved = errno;
	SYS(close)(fd);
	errno = saved;
	*readonly = mem != MAP_FAILED;
	return mem;
}

static uint32_t *map_state(const struct us_mount *m, bool *readonly,
			   bool *scan)
{
	US_SCRATCH_SCOPE;
	char *p = us_scratch_path();
	struct stat st;
	uint32_t *mem = MAP_FAILED;

	*readonly = false;
	if (!p)
		return MAP_FAILED;
	if (snprintf(p, PATH_MAX, "%s/" STATE_NAME, m->work) >= PATH_MAX) {
		errno = ENAMETOOLONG;
		return MAP_FAILED;
	}
	int fd = open_state(p);
	if (fd < 0)
		return errno == EACCES || errno == EPERM || errno == EROFS
			       ? map_readonly(p, readonly)
			       : MAP_FAILED;
	/* two processes may both grow it: to the same size, harmlessly */
	bool grown = false;
	if (SYS(fstat)(fd, &st) == 0) {
		grown = st.st_size < (off_t)STATE_SIZE;
		bool sparse = grown || st.st_blocks * 512 < (blkcnt_t)STATE_SIZE;
		if (!sparse || allocate(fd) == 0)
			mem = SYS(mmap)(NULL, STATE_SIZE, PROT_READ | PROT_WRITE,
					MAP_SHARED, fd, 0);
	}
	int saved = errno;
	SYS(close)(fd);
	/* a new state knows of no origin or redirect record; an upper that
	 * is not empty may hold some from an earlier work dir: assume it holds
	 * origins, and that it holds redirects until a scan (state_of, once
	 * the state is published) finds none */
	if (mem != MAP_FAILED && grown && us_real_dir_any(m->layers[0].path) != 0) {
		/* (what an earlier form knew is found again by the scan) */
		__atomic_store_n(&mem[ORIGINS_WORD], ORIGINS_UNSCANNED,
				 __ATOMIC_RELEASE);
		__atomic_store_n(&mem[REDIRECTS_WORD], REDIRECTS_SCANNING,
				 __ATOMIC_RELEASE);
		*scan = true;
	}
	errno = saved;
	return mem;
}

static bool kernel_op(uint32_t *w, int op, int arg);

/* The upper of M (whose state S was just made over it) is read for
 * redirect records and for the dirs that hold origin records
 * (upperscan.h); until it is done, every process takes both as anywhere
 * (REDIRECTS_SCANNING, ORIGINS_UNSCANNED). A redirect found sets
 * REDIRECTS_WRITTEN, as a rename does meanwhile; each dir found holding
 * origins is marked, as every dir a copy or a rename puts an object in
 * meanwhile is (us_shared_origins_mode: SCANNING). The scan then clears
 * only its own bits. One cut short by a kill leaves them: records then
 * stay "anywhere" for the life of the work dir. */
static void scan_upper(const struct us_mount *m, uint32_t *s)
{
	struct us_upper_scan found;

	us_upper_scan(m, &found);
	if (found.redirects) {
		kernel_op(&s[REDIRECTS_WORD], FUTEX_OP_OR, REDIRECTS_WRITTEN);
		us_redirects_mark(m->layers[0].path); /* for a later stack */
	}
	kernel_op(&s[REDIRECTS_WORD], FUTEX_OP_ANDN, REDIRECTS_SCANNING);
	if (found.origins_unsure) /* a dir holding some may be unmarked */
		kernel_op(&s[ORIGINS_WORD], FUTEX_OP_OR, ORIGINS_ANYWHERE);
	kernel_op(&s[ORIGINS_WORD], FUTEX_OP_ANDN, ORIGINS_UNSCANNED);
}

/* M's state, mapped on first use; NULL when it cannot be (or, with
 * WRITE, cannot be written). The first mount's, mapped, is answered
 * inline (every lookup asks a few times); the rest here. */
static uint32_t *state_of_any(const struct us_mount *m, bool write)
{
	uint32_t *s = MAP_FAILED;
	bool ro = false, scan = false;

	if (!m->work)
		return NULL;
	for (int i = 0; i < US_MAX_MOUNTS; i++) {
		const struct us_mount *mm =
			__atomic_load_n(&maps[i].m, __ATOMIC_ACQUIRE);
		if (mm == m)
			return maps[i].slots == MAP_FAILED || (write && maps[i].readonly)
				       ? NULL
				       : maps[i].slots;
		if (!mm)
			break;
	}
	int saved = errno; /* only the first use of a mount calls anything */
	US_CORE_HOLD();
	pthread_mutex_lock(&us_shared_lock);
	for (int i = 0; i < US_MAX_MOUNTS; i++) {
		if (maps[i].m == m) {
			s = maps[i].slots;
			ro = maps[i].readonly;
			break;
		}
		if (!maps[i].m) {
			s = maps[i].slots =
				map_state(m, &maps[i].readonly, &scan);
			ro = maps[i].readonly;
			__atomic_store_n(&maps[i].m, m, __ATOMIC_RELEASE);
			break;
		}
	}
	pthread_mutex_unlock(&us_shared_lock);
	US_CORE_RELEASE();
	if (scan)
		scan_upper(m, s);
	if (s == MAP_FAILED || (write && ro))
		return NULL;
	errno = saved;
	return s;
}

static inline uint32_t *state_of(const struct us_mount *m, bool write)
{
	if (__atomic_load_n(&maps[0].m, __ATOMIC_ACQUIRE) == m && m->work) {
		uint32_t *s = maps[0].slots;
		return s == MAP_FAILED || (write && maps[0].readonly) ? NULL : s;
	}
	return state_of_any(m, write);
}

static uint32_t *slots_of(const struct us_mount *m)
{
	return state_of(m, false);
}

/* A state this uid may not open (another user's work dir) is no reason
 * not to run: the process then learns of no change by others and
 * announces none of its own (README, "Known limits"). Only a state that
 * cannot get its blocks stops it. */
int us_shared_open(const struct us_mount *m)
{
	if (m->work && !slots_of(m) && errno != EACCES && errno != EPERM &&
	    errno != EROFS)
		return -1;
	return 0;
}

bool us_shared_writable(const struct us_mount *m)
{
	return state_of(m, true) != NULL;
}

/* Add one to W (or set it to 1: OP) in the kernel (futex FUTEX_WAKE_OP,
 * waking nobody), every write into #state: a
 * page of #state the filesystem cannot take a write into just now (btrfs
 * with the upper's quota spent reserves space at the first write to a
 * clean page) then fails the call with EFAULT where a store would kill
 * the process with SIGBUS. Such a bump is lost: other processes' caches
 * may miss that change (README: Known limits). */
/* FUTEX_OP(OP, ARG, FUTEX_OP_CMP_EQ, 0), in unsigned arithmetic: the
 * header's macro shifts an int, which overflows for OP with
 * FUTEX_OP_OPARG_SHIFT. */
static int op_word(int op, int arg)
{
	uint32_t v = ((uint32_t)op & 0xfu) << 28 |
		     (uint32_t)FUTEX_OP_CMP_EQ << 24 | ((uint32_t)arg & 0xfffu) << 12;

	return (int)v;
}

static bool kernel_op(uint32_t *w, int op, int arg)
{
	int saved = errno;
	bool done = true;

	if (SYS(syscall)(SYS_futex, w, FUTEX_WAKE_OP, 0, NULL, w,
			 op_word(op, arg)) < 0) {
		if (errno != ENOSYS)
			done = false;
		else if (op == FUTEX_OP_ADD)
			__atomic_add_fetch(w, (uint32_t)arg, __ATOMIC_SEQ_CST);
		else if (op == FUTEX_OP_OR)
			__atomic_or_fetch(w, (uint32_t)arg, __ATOMIC_SEQ_CST);
		else if (op == (FUTEX_OP_OR | FUTEX_OP_OPARG_SHIFT))
			__atomic_or_fetch(w, UINT32_C(1) << arg, __ATOMIC_SEQ_CST);
		else if (op == FUTEX_OP_ANDN)
			__atomic_and_fetch(w, ~(uint32_t)arg, __ATOMIC_SEQ_CST);
		else
			__atomic_store_n(w, (uint32_t)arg, __ATOMIC_SEQ_CST);
	}
	errno = saved;
	return done;
}

static bool bump(uint32_t *w)
{
	return kernel_op(w, FUTEX_OP_ADD, 1);
}

bool us_shared_origins_maybe(const struct us_mount *m)
{
	uint32_t *s = slots_of(m);

	return !s || __atomic_load_n(&s[ORIGINS_WORD], __ATOMIC_ACQUIRE) ||
	       __atomic_load_n(&s[MARKED_WORD], __ATOMIC_ACQUIRE);
}

enum us_origins_mode us_shared_origins_mode(const struct us_mount *m)
{
	uint32_t *s = slots_of(m);
	if (!s)
		return US_ORIGINS_ANYWHERE;
	uint32_t w = __atomic_load_n(&s[ORIGINS_WORD], __ATOMIC_ACQUIRE);

	if (w & ORIGINS_ANYWHERE)
		return US_ORIGINS_ANYWHERE;
	if (w & ORIGINS_UNSCANNED)
		return US_ORIGINS_SCANNING;
	return __atomic_load_n(&s[MARKED_WORD], __ATOMIC_ACQUIRE)
		       ? US_ORIGINS_MARKED
		       : US_ORIGINS_NONE;
}

/* The bit of upper dir (DEV, INO) in the marked dirs' bitmap. */
static unsigned origdir_bit(dev_t dev, uint64_t ino)
{
	uint64_t h = ino ^ ((uint64_t)dev * UINT64_C(0x9e3779b97f4a7c15));

	h ^= h >> 31;
	h *= UINT64_C(0xbf58476d1ce4e5b9);
	h ^= h >> 29;
	return (unsigned)(h % ORIGDIRS_BITS);
}

bool us_shared_origins_in(const struct us_mount *m, dev_t dev, uint64_t ino)
{
	uint32_t *s = slots_of(m);

	if (!s || __atomic_load_n(&s[ORIGINS_WORD], __ATOMIC_ACQUIRE))
		return true;
	if (!__atomic_load_n(&s[MARKED_WORD], __ATOMIC_ACQUIRE))
		return false;
	if (ino == 0)
		return true;
	unsigned b = origdir_bit(dev, ino);
	return __atomic_load_n(&s[ORIGDIRS_BASE + b / 32], __ATOMIC_ACQUIRE) &
	       (UINT32_C(1) << (b % 32));
}

bool us_shared_origins_enter(const struct us_mount *m, dev_t dev,
			     uint64_t ino)
{
	uint32_t *s = state_of(m, true);

	if (!s || ino == 0)
		return false;
	if (__atomic_load_n(&s[ORIGINS_WORD], __ATOMIC_ACQUIRE) & ORIGINS_ANYWHERE)
		return true; /* read everywhere for good */
	unsigned b = origdir_bit(dev, ino);
	uint32_t *w = &s[ORIGDIRS_BASE + b / 32];
	if (!(__atomic_load_n(w, __ATOMIC_ACQUIRE) & (UINT32_C(1) << (b % 32))) &&
	    !kernel_op(w, FUTEX_OP_OR | FUTEX_OP_OPARG_SHIFT, (int)(b % 32)))
		return false;
	return __atomic_load_n(&s[MARKED_WORD], __ATOMIC_ACQUIRE) ||
	       kernel_op(&s[MARKED_WORD], FUTEX_OP_SET, 1);
}

void us_shared_origins_enter_real(const struct us_mount *m, const char *dir,
				  const struct stat *st)
{
	struct stat own;

	if (!st && dir && SYS(stat)(dir, &own) == 0)
		st = &own;
	if (!st || !us_shared_origins_enter(m, st->st_dev, st->st_ino))
		us_shared_origins_set(m);
}

void us_shared_origins_set(const struct us_mount *m)
{
	uint32_t *s = state_of(m, true);

	if (s && !(__atomic_load_n(&s[ORIGINS_WORD], __ATOMIC_RELAXED) &
		   ORIGINS_ANYWHERE))
		kernel_op(&s[ORIGINS_WORD], FUTEX_OP_OR, ORIGINS_ANYWHERE);
}

bool us_shared_redirects_maybe(const struct us_mount *m)
{
	uint32_t *s = slots_of(m);

	return !s || __atomic_load_n(&s[REDIRECTS_WORD], __ATOMIC_ACQUIRE);
}

void us_shared_redirects_set(const struct us_mount *m)
{
	uint32_t *s = state_of(m, true);

	if (s && !(__atomic_load_n(&s[REDIRECTS_WORD], __ATOMIC_RELAXED) &
		   REDIRECTS_WRITTEN))
		kernel_op(&s[REDIRECTS_WORD], FUTEX_OP_OR, REDIRECTS_WRITTEN);
}

static unsigned slot_index(uint64_t ino)
{
	ino ^= ino >> 29;
	ino *= UINT64_C(0xbf58476d1ce4e5b9);
	ino ^= ino >> 32;
	return (unsigned)(ino % US_SHARED_SLOTS);
}

const uint32_t *us_shared_slot(const struct us_mount *m, uint64_t ino)
{
	uint32_t *s = slots_of(m);

	return s ? &s[slot_index(ino)] : NULL;
}

void us_shared_bump(const struct us_mount *m, uint64_t ino)
{
	uint32_t *s = state_of(m, true);

	if (s)
		bump(&s[slot_index(ino)]);
	if (us_copied_hook)
		us_copied_hook(m, ino);
}

/* The lookup cache's words (lcache.h). The dir slot is the hash's low
 * bits: the cache spreads its sets by the high ones. */
const uint32_t *us_shared_dirgen(const struct us_mount *m, uint64_t hash,
				 const uint32_t **moves)
{
	uint32_t *s = slots_of(m);

	if (!s)
		return NULL;
	*moves = &s[MOVES_WORD];
	return &s[DIRGEN_BASE + (hash % US_SHARED_DIRSLOTS)];
}

/* A state this process may not write (another uid's) announces nothing:
 * false, as for a bump lost. */
/* A dir word: (changes << 8) | changes under way (shared.h). */
#define DIRGEN_ONE (US_DIRGEN_BUSY + 1)

static uint32_t *dir_word(const struct us_mount *m, uint64_t hash)
{
	uint32_t *s = state_of(m, true);

	return s ? &s[DIRGEN_BASE + (hash % US_SHARED_DIRSLOTS)] : NULL;
}

bool us_shared_dir_bump(const struct us_mount *m, uint64_t hash)
{
	uint32_t *w = dir_word(m, hash);

	return w && kernel_op(w, FUTEX_OP_ADD, DIRGEN_ONE);
}

bool us_shared_dir_begin(const struct us_mount *m, uint64_t hash)
{
	uint32_t *w = dir_word(m, hash);

	return w && kernel_op(w, FUTEX_OP_ADD, 1);
}

/* One add ends it: a change more, one under way less. */
void us_shared_dir_end(const struct us_mount *m, uint64_t hash)
{
	uint32_t *w = dir_word(m, hash);

	if (w)
		kernel_op(w, FUTEX_OP_ADD, DIRGEN_ONE - 1);
}

/* Close a word's changes under way: one change more, none under way. */
static unsigned settle_word(uint32_t *w, bool repair)
{
	if (!(*w & US_DIRGEN_BUSY))
		return 0;
	if (repair)
		*w = (*w & ~(uint32_t)US_DIRGEN_BUSY) + DIRGEN_ONE;
	return 1;
}

int us_shared_settle(const char *work, bool repair, unsigned *busy,
		     unsigned *scan)
{
	US_SCRATCH_SCOPE;
	char *p = us_scratch_push(US_PATH_MAX);
	struct stat st;

	*busy = *scan = 0;
	if (!p)
		return -1;
	if ((size_t)snprintf(p, US_PATH_MAX, "%s/%s", work, STATE_NAME) >= US_PATH_MAX) {
		errno = ENAMETOOLONG;
		return -1;
	}
	int fd = SYS(open)(p, (repair ? O_RDWR : O_RDONLY) | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? 1 : -1;
	uint32_t *s = MAP_FAILED;
	bool small = false;
	if (SYS(fstat)(fd, &st) == 0) {
		small = st.st_size < (off_t)SETTLE_SIZE;
		if (!small)
			s = SYS(mmap)(NULL, SETTLE_SIZE,
				      PROT_READ | (repair ? PROT_WRITE : 0),
				      MAP_SHARED, fd, 0);
	}
	int saved = errno;
	SYS(close)(fd);
	if (s == MAP_FAILED) {
		/* a first form's #state (smaller): no word counts changes */
		errno = saved;
		return small ? 0 : -1;
	}
	*busy += settle_word(&s[MOVES_WORD], repair);
	for (unsigned i = 0; i < US_SHARED_DIRSLOTS; i++)
		*busy += settle_word(&s[DIRGEN_BASE + i], repair);
	if (s[REDIRECTS_WORD] & REDIRECTS_SCANNING) {
		*scan = 1;
		if (repair)
			s[REDIRECTS_WORD] = (s[REDIRECTS_WORD] & ~REDIRECTS_SCANNING) |
					    REDIRECTS_WRITTEN;
	}
	if (s[ORIGINS_WORD] & ORIGINS_UNSCANNED) {
		*scan = 1;
		if (repair)
			s[ORIGINS_WORD] = (s[ORIGINS_WORD] & ~ORIGINS_UNSCANNED) |
					  ORIGINS_ANYWHERE;
	}
	munmap(s, SETTLE_SIZE);
	return 0;
}

bool us_shared_moves_bump(const struct us_mount *m)
{
	uint32_t *s = state_of(m, true);

	return s && kernel_op(&s[MOVES_WORD], FUTEX_OP_ADD, DIRGEN_ONE);
}

bool us_shared_moves_begin(const struct us_mount *m)
{
	uint32_t *s = state_of(m, true);

	return s && kernel_op(&s[MOVES_WORD], FUTEX_OP_ADD, 1);
}

void us_shared_moves_end(const struct us_mount *m)
{
	uint32_t *s = state_of(m, true);

	if (s)
		kernel_op(&s[MOVES_WORD], FUTEX_OP_ADD, DIRGEN_ONE - 1);
}
