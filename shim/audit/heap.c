/* heap.c: malloc and free of the audit library, which links no libc (see
 * sysraw.c). Blocks of 32 bytes to 64 KiB come in power-of-two classes
 * cut from 256 KiB regions and go back to a free list of their class;
 * larger blocks are mappings of their own. Callbacks never run
 * concurrently (ld.so's load lock), so there is no lock. */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define MIN_SHIFT 5
#define MAX_SHIFT 16
#define REGION (256 * 1024)

/* Before each block: its class, or 0 and the size of its own mapping. */
struct head {
	size_t cls;
	size_t map_len;
};

static void *free_list[MAX_SHIFT + 1];
static char *region_cur, *region_end;
/* The first region lies in our own zero pages: no mapping of its own in
 * every exec (reading the configuration allocates). */
static char first_region[REGION] __attribute__((aligned(64)));

static void *carve(size_t len)
{
	if (!region_end) {
		region_cur = first_region;
		region_end = first_region + REGION;
	}
	if ((size_t)(region_end - region_cur) < len) {
		void *r = mmap(NULL, REGION, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (r == MAP_FAILED)
			return NULL;
		region_cur = r;
		region_end = region_cur + REGION;
	}
	void *p = region_cur;
	region_cur += len;
	return p;
}

void *malloc(size_t n)
{
	size_t need = n + sizeof(struct head);
	unsigned cls = MIN_SHIFT;
	struct head *h;

	while (cls <= MAX_SHIFT && ((size_t)1 << cls) < need)
		cls++;
	if (cls > MAX_SHIFT) {
		size_t len = (need + 4095) & ~(size_t)4095;
		if (len < need)
			return NULL;
		h = mmap(NULL, len, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (h == MAP_FAILED)
			return NULL;
		h->cls = 0;
		h->map_len = len;
		return h + 1;
	}
	h = free_list[cls];
	if (h)
		free_list[cls] = *(void **)(h + 1);
	else if (!(h = carve((size_t)1 << cls)))
		return NULL;
	h->cls = cls;
	return h + 1;
}

void free(void *p)
{
	struct head *h = p ? (struct head *)p - 1 : NULL;

	if (!h)
		return;
	if (!h->cls) {
		int saved = errno;
		munmap(h, h->map_len);
		errno = saved;
		return;
	}
	*(void **)p = free_list[h->cls];
	free_list[h->cls] = h;
}

void *calloc(size_t k, size_t n)
{
	if (n && k > (size_t)-1 / n)
		return NULL;
	void *p = malloc(k * n);
	return p ? memset(p, 0, k * n) : NULL;
}

void *realloc(void *p, size_t n)
{
	struct head *h = p ? (struct head *)p - 1 : NULL;
	size_t had = !h ? 0
		     : h->cls ? ((size_t)1 << h->cls) - sizeof *h
			      : h->map_len - sizeof *h;
	void *q;

	if (h && n <= had)
		return p;
	if (!(q = malloc(n)))
		return NULL;
	if (p)
		memcpy(q, p, had);
	free(p);
	return q;
}
