/* scratch.h: per-thread scratch memory for the big buffers (paths,
 * listings, exec plans) that must not live on the caller's stack.
 *
 * A preload library runs on other people's stacks: a runtime's 32 KiB
 * thread, a signal handler on a 16 KiB sigaltstack. So a buffer of a
 * PATH_MAX or more comes from here: a region mapped per thread on first
 * use (mmap, MAP_NORESERVE: pages cost memory only once touched; never
 * malloc, so a signal handler may use it), used as a LIFO stack. A push is
 * a pointer bump; a scope pops back to where it began, so a signal
 * handler that interrupts code holding scratch just pushes further and
 * leaves it as it found it. A forked child inherits the region with the
 * thread; a thread's region is unmapped when the thread exits.
 *
 * A push that cannot be served (the region cannot be mapped, or is full)
 * gives NULL with errno ENOMEM: the caller fails its call, never crashes. */
#ifndef UNIONSHIM_SCRATCH_H
#define UNIONSHIM_SCRATCH_H

#include <stddef.h>

#define US_SCRATCH_SIZE (4u << 20) /* per thread, header included: the
					 deepest call holds ~0.5 MiB of
					 US_PATH_MAX buffers */
#define US_SCRATCH_ALIGN 16

/* The last bytes of each region are never pushed: an area of the thread
 * a module keeps from call to call (us_scratch_tail; one user: vcwd.c, a
 * vfork child's own cwd). Untouched, it costs no memory. */
#define US_SCRATCH_TAIL (33u << 10)

/* The region's header, at its start. TOP is the offset of the first free
 * byte: the first word, so our vfork can put it back in the parent. */
struct us_scratch {
	size_t top;
	size_t size; /* what may be pushed: the mapping less the tail */
};

#if defined(UNIONSHIM_AUDIT)
/* ld.so holds its load lock around every audit callback: one region. */
extern struct us_scratch *us_scratch_area;
#else
extern __thread struct us_scratch *us_scratch_area
	__attribute__((tls_model("initial-exec")));
#endif

void *us_scratch_push_slow(size_t n);

/* N bytes of scratch (aligned to 16), or NULL with errno ENOMEM. */
static inline void *us_scratch_push(size_t n)
{
	struct us_scratch *s = us_scratch_area;

	n = (n + US_SCRATCH_ALIGN - 1) & ~(size_t)(US_SCRATCH_ALIGN - 1);
	if (__builtin_expect(s != NULL && n <= s->size - s->top, 1)) {
		void *p = (char *)s + s->top;
		s->top += n;
		return p;
	}
	return us_scratch_push_slow(n);
}

/* Where the stack stands now, to pop back to. */
static inline size_t us_scratch_mark(void)
{
	struct us_scratch *s = us_scratch_area;

	return s ? s->top : sizeof(struct us_scratch);
}

/* Free everything pushed since MARK. */
static inline void us_scratch_pop(size_t mark)
{
	struct us_scratch *s = us_scratch_area;

	if (s)
		s->top = mark;
}

static inline void us_scratch_pop_at(const size_t *mark)
{
	us_scratch_pop(*mark);
}

/* Pop, at the end of the enclosing block, what it pushed. Nothing pushed
 * there may be handed out of the block. */
#define US_SCRATCH_SCOPE US_SCRATCH_SCOPE_(__COUNTER__)
#define US_SCRATCH_SCOPE_(n) US_SCRATCH_SCOPE__(n)
#define US_SCRATCH_SCOPE__(n)                                                 \
	size_t us_scratch_mark_##n __attribute__((cleanup(us_scratch_pop_at), \
						  unused)) = us_scratch_mark()

/* This thread's tail (US_SCRATCH_TAIL bytes, zero until written), or
 * NULL when its region is not mapped yet. */
static inline void *us_scratch_tail(void)
{
	struct us_scratch *s = us_scratch_area;
	return s ? (char *)s + US_SCRATCH_SIZE - US_SCRATCH_TAIL : NULL;
}

/* A scratch PATH_MAX buffer, or NULL/ENOMEM. */
#define us_scratch_path() ((char *)us_scratch_push(PATH_MAX))

#endif
