/* execseen.c: the programs this process has already read to be plain
 * dynamic ELF executables (the kind the loader runs us in), and whether
 * one needs glibc alone (us_exec_glibc_only) and what static TLS its
 * libraries take (us_exec_static_tls), so that the next exec of
 * one reads no header again: a shell or make running the same tools over
 * and over pays open, three to five preads and close per exec
 * otherwise.
 *
 * An entry is the file's identity and every stamp a change of its bytes
 * moves: device, inode, size, mtime and ctime (a write moves both; setting
 * mtime back by hand moves ctime). The kernel's clock for those stamps
 * ticks coarsely (a jiffy), so a file changed within a tick of a write
 * could keep its stamps: only a file whose ctime is at least SETTLED
 * seconds old is entered (any later change then gets a newer ctime). A
 * program just built is read at each exec until then. A file with a
 * set-id bit is never entered (its verdict depends on who runs it).
 *
 * The table is written from vfork children too (dash, posix_spawn): their
 * stores land in the parent's memory, which is what makes the next exec
 * cheap. So no lock and no allocation: each entry has a sequence word,
 * claimed odd by compare-and-swap by one writer, even again when done; a
 * reader trusts an entry only if the word was even and unchanged around
 * its reads. A writer that dies mid-entry leaves that entry unusable. */
#include <stdint.h>
#include <time.h>

#include "execseen.h"

#define SEEN 8
#define SETTLED 2 /* seconds */
#define FIELDS 7

static struct {
	unsigned long seq;
	uint64_t f[FIELDS];
	uint64_t glibc_only;
	uint64_t static_tls;
} seen[SEEN];
static unsigned next_slot;

static void key(const struct stat *st, uint64_t k[FIELDS])
{
	k[0] = (uint64_t)st->st_dev;
	k[1] = (uint64_t)st->st_ino;
	k[2] = (uint64_t)st->st_size;
	k[3] = (uint64_t)st->st_mtim.tv_sec;
	k[4] = (uint64_t)st->st_mtim.tv_nsec;
	k[5] = (uint64_t)st->st_ctim.tv_sec;
	k[6] = (uint64_t)st->st_ctim.tv_nsec;
}

static bool setid(const struct stat *st)
{
	return (st->st_mode & (S_ISUID | S_ISGID)) != 0;
}

int us_execseen_dynamic(const struct stat *st, size_t *static_tls)
{
	uint64_t k[FIELDS];

	if (setid(st))
		return 0;
	key(st, k);
	for (int i = 0; i < SEEN; i++) {
		unsigned long s1 = __atomic_load_n(&seen[i].seq, __ATOMIC_ACQUIRE);
		if (s1 == 0 || (s1 & 1))
			continue;
		bool same = true;
		for (int j = 0; j < FIELDS; j++)
			same &= __atomic_load_n(&seen[i].f[j], __ATOMIC_ACQUIRE) == k[j];
		uint64_t g = __atomic_load_n(&seen[i].glibc_only, __ATOMIC_ACQUIRE);
		uint64_t t = __atomic_load_n(&seen[i].static_tls, __ATOMIC_ACQUIRE);
		if (same && __atomic_load_n(&seen[i].seq, __ATOMIC_ACQUIRE) == s1) {
			*static_tls = (size_t)t;
			return g ? US_SEEN_GLIBC_ONLY : US_SEEN_DYNAMIC;
		}
	}
	return 0;
}

void us_execseen_add(const struct stat *st, bool glibc_only,
		     size_t static_tls)
{
	uint64_t k[FIELDS];

	struct timespec now;
	size_t known_tls;

	if (setid(st) || clock_gettime(CLOCK_REALTIME, &now) != 0 ||
	    st->st_ctim.tv_sec > now.tv_sec - SETTLED ||
	    us_execseen_dynamic(st, &known_tls))
		return;
	key(st, k);
	unsigned i = __atomic_fetch_add(&next_slot, 1, __ATOMIC_RELAXED) % SEEN;
	unsigned long s = __atomic_load_n(&seen[i].seq, __ATOMIC_RELAXED);
	if ((s & 1) || !__atomic_compare_exchange_n(&seen[i].seq, &s, s + 1, false,
						     __ATOMIC_ACQ_REL,
						     __ATOMIC_RELAXED))
		return; /* another writer has it: this one is not remembered */
	for (int j = 0; j < FIELDS; j++)
		__atomic_store_n(&seen[i].f[j], k[j], __ATOMIC_RELAXED);
	__atomic_store_n(&seen[i].glibc_only, glibc_only, __ATOMIC_RELAXED);
	__atomic_store_n(&seen[i].static_tls, (uint64_t)static_tls, __ATOMIC_RELAXED);
	__atomic_store_n(&seen[i].seq, s + 2, __ATOMIC_RELEASE);
}
