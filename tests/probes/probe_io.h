/* probe_io.h: the input and output the probes share: error names, answer
 * lines on stdout, escaped data, command lines from stdin, reads to EOF.
 * Only probes include it; each function is static inline, so a probe
 * that leaves one unused builds without a warning.
 *
 * Rules: an answer line is one write(2) of the whole line, so the test
 * never sees half of one and processes sharing stdout never split one;
 * stdin is read a byte at a time, so nothing past a line is consumed and
 * the next reader (an exec'd image, another process) gets the rest. Data
 * is printed escaped: \n for a newline, \0 for NUL, \\ for a backslash,
 * \xHH for other unprintable bytes. Also: a KiB figure of
 * /proc/self/status (status_kib). */
#ifndef PROBE_IO_H
#define PROBE_IO_H

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

/* FIELD's figure in /proc/self/status ("VmHWM", "VmData": KiB), or -1. */
static inline long status_kib(const char *field)
{
	char line[256];
	long kib = -1;
	size_t n = strlen(field);
	FILE *f = fopen("/proc/self/status", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof line, f))
		if (strncmp(line, field, n) == 0 && line[n] == ':') {
			kib = strtol(line + n + 1, NULL, 10);
			break;
		}
	fclose(f);
	return kib;
}

static inline const char *ename(int e)
{
	const char *n = strerrorname_np(e);

	return n ? n : "?";
}

/* One line on stdout. _exit, not exit, if it cannot be written: a vfork
 * child may be the one writing. */
__attribute__((format(printf, 1, 2))) static inline void say(const char *fmt, ...)
{
	char buf[16384];
	va_list ap;

	va_start(ap, fmt);
	int n = vsnprintf(buf, sizeof buf - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		n = 0;
	if ((size_t)n > sizeof buf - 2)
		n = sizeof buf - 2;
	buf[n++] = '\n';
	if (write(1, buf, (size_t)n) != n)
		_exit(3);
}

/* Results are formatted into a ring of static buffers, so that one say()
 * may print several. */
static inline char *ring(void)
{
	static char bufs[8][4 * 4096 + 64];
	static int k;

	return bufs[k++ % 8];
}

/* LEN bytes of DATA, escaped (cut short past 16 KiB), in a ring buffer. */
static inline const char *esc(const char *data, size_t len)
{
	char *out = ring();
	size_t o = 0;

	for (size_t i = 0; i < len && o + 5 < 4 * 4096; i++) {
		unsigned char c = (unsigned char)data[i];
		if (c == '\n')
			o += (size_t)sprintf(out + o, "\\n");
		else if (c == 0)
			o += (size_t)sprintf(out + o, "\\0");
		else if (c == '\\')
			o += (size_t)sprintf(out + o, "\\\\");
		else if (c < 32 || c > 126)
			o += (size_t)sprintf(out + o, "\\x%02x", c);
		else
			out[o++] = (char)c;
	}
	out[o] = 0;
	return out;
}

/* One line from stdin, without its newline, cut to fit LEN. 0 at EOF. */
static inline int read_line(char *buf, size_t len)
{
	size_t n = 0;
	char c;

	for (;;) {
		ssize_t r = read(0, &c, 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return n > 0;
		if (c == '\n')
			break;
		if (n + 1 < len)
			buf[n++] = c;
	}
	buf[n] = 0;
	return 1;
}

/* Read FD into BUF until LEN bytes or EOF, with read, readv (two iovecs,
 * the first of 5 bytes) or pread (from offset 0). The count, or -1 and
 * errno. */
enum how { BY_READ, BY_READV, BY_PREAD };

static inline ssize_t slurp(int fd, char *buf, size_t len, enum how how)
{
	size_t n = 0;

	while (n < len) {
		ssize_t r;
		if (how == BY_PREAD) {
			r = pread(fd, buf + n, len - n, (off_t)n);
		} else if (how == BY_READV) {
			size_t first = (len - n) > 5 ? 5 : len - n;
			struct iovec iov[2] = {{buf + n, first}, {buf + n + first, len - n - first}};
			r = readv(fd, iov, 2);
		} else {
			r = read(fd, buf + n, len - n);
		}
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -1;
		if (r == 0)
			break;
		n += (size_t)r;
	}
	return (ssize_t)n;
}

#endif
