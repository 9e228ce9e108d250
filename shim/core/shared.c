/* shared.c: the generation table in the work dir (see shared.h). Mapped
 * on first use, once per mount and process; the fd is closed at once, so
 * the mapping costs the program no descriptor. A fork shares it; an exec
 * maps it again. */
#include <errno.h>
#include <limits.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sys.h"
#include "unionshim/shared.h"

#define STATE_NAME "#state"
#define STATE_SIZE (US_SHARED_SLOTS * sizeof(uint32_t))

void (*us_copied_hook)(const struct us_mount *m, uint64_t ino);

static struct {
	const struct us_mount *m;
	uint32_t *slots; /* MAP_FAILED: tried and failed */
} maps[US_MAX_MOUNTS];
static pthread_mutex_t map_lock = PTHREAD_MUTEX_INITIALIZER;

static uint32_t *map_state(const struct us_mount *m)
{
	char p[PATH_MAX];
	struct stat st;
	void *mem = MAP_FAILED;

	if (snprintf(p, sizeof p, "%s/" STATE_NAME, m->work) >= (int)sizeof p)
		return MAP_FAILED;
	int fd = SYS(open)(p, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return MAP_FAILED;
	/* two processes may both grow it: to the same size, harmlessly */
	if (SYS(fstat)(fd, &st) == 0 &&
	    (st.st_size >= (off_t)STATE_SIZE || SYS(ftruncate)(fd, STATE_SIZE) == 0))
		mem = SYS(mmap)(NULL, STATE_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED,
			   fd, 0);
	int saved = errno;
	SYS(close)(fd);
	errno = saved;
	return mem;
}

static uint32_t *slots_of(const struct us_mount *m)
{
	uint32_t *s = NULL;

	if (!m->work)
		return NULL;
	pthread_mutex_lock(&map_lock);
	for (int i = 0; i < US_MAX_MOUNTS; i++) {
		if (maps[i].m == m) {
			s = maps[i].slots;
			break;
		}
		if (!maps[i].m) {
			maps[i].m = m;
			s = maps[i].slots = map_state(m);
			break;
		}
	}
	pthread_mutex_unlock(&map_lock);
	return s == MAP_FAILED ? NULL : s;
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
	uint32_t *s = slots_of(m);

	if (s)
		__atomic_add_fetch(&s[slot_index(ino)], 1, __ATOMIC_RELEASE);
	if (us_copied_hook)
		us_copied_hook(m, ino);
}
