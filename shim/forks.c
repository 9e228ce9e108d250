/* forks.c: what a fork does to the library (see forks.h): every mutex of
 * the library and the one handler that takes them across fork, the pid
 * cache, and the detection of children made without atfork handlers and of
 * vfork children.
 *
 * The pid lives in a page the kernel zeroes in the child of any fork that
 * copies the memory (MADV_WIPEONFORK: fork, _Fork, a raw fork or clone
 * syscall), so such a child finds 0 there and takes the library over on
 * its first call (a child of fork() already did, in the atfork handler).
 * A vfork child shares the page and the calling thread's TLS with its
 * parent: our vfork marks it in that TLS and the parent clears the mark
 * when it resumes; its pid then comes from the kernel (it is about to exec
 * or _exit: rare calls). Without MADV_WIPEONFORK (Linux < 4.14) the page
 * is ordinary memory and only fork() is followed. */
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <unistd.h>

#include "coreguard.h"
#include "forks.h"
#include "state.h"
#include "unionshim/copyup.h"
#include "unionshim/origincache.h"
#include "unionshim/scratch.h"
#include "unionshim/lcache.h"
#include "unionshim/listcache.h"
#include "unionshim/pcache.h"
#include "unionshim/shared.h"
#include "unionshim/startdata.h"

pthread_mutex_t us_locks[US_NLOCKS] = {
	[0 ... US_NLOCKS - 1] = PTHREAD_MUTEX_INITIALIZER,
};

US_START_DATA static pid_t pid_static;
pid_t *us_pid_word = &pid_static;
__thread int us_vforked __attribute__((tls_model("initial-exec")));
__thread unsigned us_vfork_gen __attribute__((tls_model("initial-exec")));
US_START_DATA static bool ready;

/* The forking thread's signal mask, while it holds every lock: a signal
 * handler using the shim then would wait for them forever. */
static __thread sigset_t fork_mask;

static void take_all(void)
{
	sigset_t all;

	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &fork_mask);
	for (int i = 0; i < US_NLOCKS; i++)
		pthread_mutex_lock(&us_locks[i]);
	pthread_mutex_lock(&us_shared_lock);
	pthread_mutex_lock(&us_origincache_lock);
}

static void release_all(void)
{
	pthread_mutex_unlock(&us_origincache_lock);
	pthread_mutex_unlock(&us_shared_lock);
	for (int i = US_NLOCKS - 1; i >= 0; i--)
		pthread_mutex_unlock(&us_locks[i]);
	pthread_sigmask(SIG_SETMASK, &fork_mask, NULL);
}

/* In a new child, the only thread: every lock free, the pid its own. A
 * lock held by a thread of the parent (a fork without our handler) is
 * made anew; the cwd may be half-written then, and is read back. The
 * locks are made anew by assignment, not pthread_mutex_init: no parent
 * ever calls that, so each child would bind it lazily (a symbol lookup
 * in ld.so, a dozen page faults per fork). */
static void child_reset(bool handled)
{
	static const pthread_mutex_t fresh = PTHREAD_MUTEX_INITIALIZER;

	us_held = 0;
	for (int i = 0; i < US_NLOCKS; i++)
		us_locks[i] = fresh;
	us_shared_lock = fresh;
	us_origincache_lock = fresh;
	__atomic_store_n(us_pid_word, getpid(), __ATOMIC_RELAXED);
	us_lcache_after_fork();
	us_pcache_after_fork();
	us_listcache_after_fork();
	us_core_forked();
	if (!handled)
		us_cwd_forked();
}

static void atfork_child(void)
{
	child_reset(true);
	pthread_sigmask(SIG_SETMASK, &fork_mask, NULL);
}

void us_fork_adopt(void)
{
	if (!ready || us_vforked)
		return;
	child_reset(false);
}

pid_t us_pid_slow(void)
{
	if (!ready || us_vforked)
		return getpid();
	us_fork_adopt();
	return *us_pid_word;
}

/* For the core's temp names (copyup.h). */
static pid_t pid_now(void)
{
	return us_pid();
}

void us_forks_init(void)
{
	size_t len = (size_t)getauxval(AT_PAGESZ); /* (no sysconf pages) */
	void *page = US_REAL(mmap)(NULL, len, PROT_READ | PROT_WRITE,
				   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (page != MAP_FAILED && madvise(page, len, MADV_WIPEONFORK) == 0)
		us_pid_word = page;
	*us_pid_word = getpid();
	pthread_atfork(take_all, release_all, atfork_child);
	ready = true;
	__atomic_store_n(&us_pid_hook, pid_now, __ATOMIC_RELAXED);
}

/* vfork: the child returns first, on the stack its parent will return on,
 * so nothing may be kept there: the return address is held in a register
 * across the system call (as libc's own vfork does). The child also runs
 * on its parent's scratch region (scratch.h) and may exec or _exit with
 * scratch pushed: the parent, resumed, puts the region's top back where it
 * stood (held in r8/r9, which the system call keeps). */
US_HIDDEN long us_vfork_failed(long neg);
long us_vfork_failed(long neg)
{
	errno = (int)-neg;
	return -1;
}

__asm__(".text\n"
	".globl vfork\n"
	".type vfork, @function\n"
	"vfork:\n"
	"	popq %rsi\n"
	"	movq us_scratch_area@gottpoff(%rip), %r8\n"
	"	movq %fs:(%r8), %r8\n" /* this thread's scratch region */
	"	xorl %r9d, %r9d\n"
	"	testq %r8, %r8\n"
	"	jz 0f\n"
	"	movq (%r8), %r9\n" /* its top */
	"0:	movl $58, %eax\n" /* SYS_vfork */
	"	syscall\n"
	"	pushq %rsi\n"
	"	cmpq $-4095, %rax\n"
	"	jae 2f\n"
	"	movq us_vforked@gottpoff(%rip), %rcx\n"
	"	testq %rax, %rax\n"
	"	jnz 1f\n"
	"	movl $1, %fs:(%rcx)\n" /* the child */
	"	movq us_vfork_gen@gottpoff(%rip), %rdx\n"
	"	incl %fs:(%rdx)\n"
	"	ret\n"
	"1:	movl $0, %fs:(%rcx)\n" /* the parent, resumed */
	"	testq %r8, %r8\n"
	"	jz 3f\n"
	"	movq %r9, (%r8)\n" /* pop what the child pushed */
	"3:	ret\n"
	"2:	movq %rax, %rdi\n"
	"	jmp us_vfork_failed\n"
	".size vfork, .-vfork\n"
	".globl __vfork\n"
	".set __vfork, vfork\n");
