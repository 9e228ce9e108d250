/* trace.c: the trace's lines (see trace.h).
 *
 * An event and its backtrace are built in one buffer and written with one
 * write, so that lines of several processes appending to one trace file
 * never interleave. The buffer is mapped per event, not malloc'd, and not
 * on the stack: an event can come from a signal handler's call or a
 * forked child. The backtrace's walk lives in libunionshim-trace.so next
 * to this library, loaded on first use; each frame is named here by its
 * module (the path the loader opened; the program's real path for the
 * program) and its offset from the module's load bias, which is the
 * address `addr2line -e MODULE` expects, in a PIE and a fixed-address
 * program alike. */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <link.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "forks.h"
#include "state.h"
#include "trace.h"
#include "trace/frames.h"
#include "unionshim/event.h"
#include "unionshim/msgline.h"

#define TRACE_BUF (64 * 1024)

char us_trace_path[PATH_MAX];
static char exe_path[PATH_MAX];
static char frames_lib[PATH_MAX]; /* libunionshim-trace.so beside us, or "" */

struct tline {
	char *buf;
	size_t len, cap;
};

static void t_raw(struct tline *t, const char *s)
{
	size_t n = strlen(s);

	if (n > t->cap - t->len)
		n = t->cap - t->len;
	memcpy(t->buf + t->len, s, n);
	t->len += n;
}

static void t_val(struct tline *t, const char *s)
{
	if (t->len < t->cap)
		t->len += us_msg_escape(t->buf + t->len, t->cap - t->len + 1, s);
}

static us_trace_frames_fn load_frames(void)
{
	static us_trace_frames_fn fn;
	static int failed;

	if (fn || failed)
		return fn;
	void *h = frames_lib[0] ? US_REAL(dlopen)(frames_lib, RTLD_NOW | RTLD_LOCAL) : NULL;
	if (h)
		fn = (us_trace_frames_fn)dlsym(h, US_TRACE_FRAMES_SYM);
	if (!fn) {
		struct us_msg m;
		us_msg_start(&m, 2, "unionshim: no backtrace: ");
		us_msg_val(&m, h ? "no " US_TRACE_FRAMES_SYM
			       : frames_lib[0] ? dlerror() : "libunionshim-trace.so not found");
		us_msg_end(&m);
		failed = 1;
	}
	return fn;
}

/* The module holding IP and IP's offset from its load bias. */
static const char *module_of(uintptr_t ip, uintptr_t *off)
{
	Dl_info info;
	struct link_map *lm = NULL;

	*off = ip;
	if (!dladdr1((void *)ip, &info, (void **)&lm, RTLD_DL_LINKMAP) || !lm)
		return "?";
	*off = ip - lm->l_addr;
	if (lm->l_name && lm->l_name[0])
		return lm->l_name;
	return exe_path[0] ? exe_path : "?";
}

static void frame_line(struct tline *t, int depth, const struct us_frame *f)
{
	char num[64];
	uintptr_t off;
	const char *mod = module_of(f->ip, &off);

	snprintf(num, sizeof num, "unionshim:   #%d ", depth);
	t_raw(t, num);
	t_val(t, mod);
	snprintf(num, sizeof num, "+0x%lx", (unsigned long)off);
	t_raw(t, num);
	if (f->name[0]) {
		t_raw(t, " (");
		t_val(t, f->name); /* a symbol name is the program's text */
		snprintf(num, sizeof num, "+0x%lx)", (unsigned long)f->off);
		t_raw(t, num);
	}
	t_raw(t, "\n");
}

/* The frames from the program's call into this library on: the walk's
 * own frames and the library's inner ones are left out, the wrapper the
 * program called (open64, rename...) is kept. */
static void backtrace_lines(struct tline *t, struct us_frame *f, int max)
{
	us_trace_frames_fn fn = load_frames();
	int n = fn ? fn(f, max) : 0, first = 0;
	Dl_info self;

	if (dladdr((void *)us_trace_init, &self))
		for (int i = 0; i < n; i++) {
			Dl_info info;
			if (!dladdr((void *)f[i].ip, &info) ||
			    info.dli_fbase != self.dli_fbase)
				break;
			first = i;
		}
	for (int i = first; i < n; i++)
		frame_line(t, i - first, &f[i]);
}

static void write_out(const struct tline *t)
{
	int fd = 2;

	if (us_trace_path[0])
		fd = US_REAL(open)(us_trace_path,
				   O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
	for (size_t done = 0; fd >= 0 && done < t->len;) {
		ssize_t n = write(fd, t->buf + done, t->len - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		done += (size_t)n;
	}
	if (fd > 2)
		US_REAL(close)(fd);
}

/* One event: "unionshim: [PID PROG] OP PATH TAIL", and the backtrace. */
static void emit(const char *op, const char *path, const char *tail)
{
	int saved = errno;
	char pid[32];
	struct tline t;
	size_t frames = US_TRACE_MAX_FRAMES * sizeof(struct us_frame);

	t.buf = US_REAL(mmap)(NULL, TRACE_BUF, PROT_READ | PROT_WRITE,
			      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (t.buf == MAP_FAILED) {
		errno = saved;
		return;
	}
	t.len = 0;
	t.cap = TRACE_BUF - frames - 2;
	snprintf(pid, sizeof pid, "unionshim: [%d ", (int)us_pid());
	t_raw(&t, pid);
	t_val(&t, program_invocation_short_name);
	t_raw(&t, "] ");
	t_raw(&t, op);
	t_raw(&t, " ");
	t_val(&t, path);
	t_raw(&t, tail);
	t_raw(&t, "\n");
	if (us_trace >= 2)
		backtrace_lines(&t, (struct us_frame *)(t.buf + TRACE_BUF - frames),
				US_TRACE_MAX_FRAMES);
	t.buf[t.len - 1] = '\n'; /* a line cut short still ends */
	write_out(&t);
	munmap(t.buf, TRACE_BUF);
	errno = saved;
}

static void trace_event(const char *op, const char *path, long long size)
{
	char tail[48] = "";

	if (size >= 0)
		snprintf(tail, sizeof tail, " (%lld bytes)", size);
	emit(op, path, tail);
}

void us_trace_denied_slow(const char *what, const char *path)
{
	char op[160], tail[96];

	/* "refused WHAT of PATH: ERROR" */
	snprintf(tail, sizeof tail, ": %s", strerror(errno));
	snprintf(op, sizeof op, "refused %s of", what);
	emit(op, path, tail);
}

void us_trace_init(void)
{
	const char *file = getenv(US_ENV_TRACE_FILE);

	if (file && *file && strlen(file) < PATH_MAX)
		memcpy(us_trace_path, file, strlen(file) + 1);
	if (us_trace) { /* backtraces name the program by it: only when tracing */
		ssize_t n = US_REAL(readlink)("/proc/self/exe", exe_path,
					      sizeof exe_path - 1);
		exe_path[n > 0 ? n : 0] = '\0';
	}
	const char *slash = strrchr(us_self_path, '/');
	if (us_trace >= 2 && slash)
		snprintf(frames_lib, sizeof frames_lib, "%.*s/libunionshim-trace.so",
			 (int)(slash - us_self_path), us_self_path);
	if (us_trace)
		__atomic_store_n(&us_event_hook, trace_event, __ATOMIC_RELAXED);
}
