/* userptr.c: is a string the program passed in mapped memory? (see
 * userptr.h)
 *
 * A page is asked of the kernel with mincore(2) (ENOMEM: part of the
 * range is in no mapping) the first time this thread meets it, with the
 * 64 KiB around it: the last few pages or such chunks found mapped are
 * remembered per thread, so a program's path buffers (its stack, the heap
 * a tree walker's names move through) cost no system call after the
 * first. A page unmapped after it was remembered (or after its chunk
 * was), or mapped PROT_NONE, is still read (and faults, as every use did
 * before this check). Addresses below 64 KiB are never mapped
 * (vm.mmap_min_addr). */
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "real.h"
#include "userptr.h"

#define KNOWN 8
#define LOW_LIMIT 65536
#define CHUNK 65536 /* asked at once (a power of two) */
#define CHUNK_MARK 1u /* a known[] entry for a whole chunk */

static __thread uintptr_t known[KNOWN] __attribute__((tls_model("initial-exec")));
static __thread unsigned known_next __attribute__((tls_model("initial-exec")));
static size_t page_size;

/* Is [START, START + LEN) all in mappings? */
static bool mapped(uintptr_t start, size_t len)
{
	unsigned char v[CHUNK / 4096];
	int saved = errno;
	/* through the real syscall() (real.h): libc's mincore would be bound
	 * lazily in the first thread that asks, on its stack (prebind.c) */
	bool unmapped = US_REAL(syscall)(SYS_mincore, start, len, v) < 0 &&
			errno == ENOMEM;

	errno = saved;
	return !unmapped;
}

/* PS: the page size (CHUNK / PS bytes of mincore's answer fit V above
 * for pages of 4 KiB and more). */
static bool page_ok(uintptr_t page, size_t ps)
{
	uintptr_t chunk = page & ~(uintptr_t)(CHUNK - 1);

	for (int i = 0; i < KNOWN; i++)
		if (known[i] == page || known[i] == (chunk | CHUNK_MARK))
			return true;
	if (ps <= CHUNK && ps >= 4096 && chunk >= LOW_LIMIT && mapped(chunk, CHUNK)) {
		known[known_next++ % KNOWN] = chunk | CHUNK_MARK;
		return true;
	}
	if (!mapped(page, 1))
		return false;
	known[known_next++ % KNOWN] = page;
	return true;
}

static size_t page_size_now(void)
{
	size_t ps = __atomic_load_n(&page_size, __ATOMIC_RELAXED);

	if (!ps) {
		unsigned long v = getauxval(AT_PAGESZ);
		ps = v ? (size_t)v : 4096;
		__atomic_store_n(&page_size, ps, __ATOMIC_RELAXED);
	}
	return ps;
}

bool us_user_mem_ok(const void *s, size_t len)
{
	uintptr_t p = (uintptr_t)s, ps = page_size_now();

	if (p < LOW_LIMIT || p + len < p)
		return false;
	for (uintptr_t page = p & ~(ps - 1); page < p + len; page += ps)
		if (!page_ok(page, ps))
			return false;
	return true;
}

bool us_user_str_ok(const char *s)
{
	uintptr_t p = (uintptr_t)s;
	size_t ps = page_size_now();

	if (p < LOW_LIMIT)
		return false;
	for (size_t seen = 0; seen <= PATH_MAX;) {
		uintptr_t page = p & ~(uintptr_t)(ps - 1);
		if (!page_ok(page, ps))
			return false;
		size_t room = page + ps - p;
		if (memchr((const void *)p, '\0', room))
			return true;
		seen += room;
		p = page + ps;
	}
	return true; /* longer than any path: the length check answers */
}
