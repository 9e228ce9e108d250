/* msgline.c: one-line diagnostics with escaped values (see msgline.h).
 * write() is not wrapped by the shim, so core and tools share this file. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "unionshim/msgline.h"

/* The escaped form of C into E (at most 5 bytes); its length. */
static size_t escape_char(unsigned char c, char e[5])
{
	static const char hex[] = "0123456789abcdef";
	const char *named = c == '\n' ? "\\n" : c == '\r' ? "\\r"
			  : c == '\t' ? "\\t" : c == '\\' ? "\\\\" : NULL;

	if (named) {
		memcpy(e, named, 2);
		return 2;
	}
	if (c >= 0x20 && c != 0x7f) {
		e[0] = (char)c;
		return 1;
	}
	e[0] = '\\', e[1] = 'x', e[2] = hex[c >> 4], e[3] = hex[c & 15];
	return 4;
}

static void flush(struct us_msg *m)
{
	size_t done = 0;

	while (done < m->len) {
		ssize_t n = write(m->fd, m->buf + done, m->len - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break; /* nowhere to report it */
		done += (size_t)n;
	}
	m->len = 0;
}

static void put(struct us_msg *m, const char *s, size_t n)
{
	if (m->len + n > sizeof m->buf)
		flush(m);
	memcpy(m->buf + m->len, s, n);
	m->len += n;
}

void us_msg_start(struct us_msg *m, int fd, const char *prefix)
{
	m->fd = fd;
	m->len = 0;
	us_msg_raw(m, prefix);
}

void us_msg_raw(struct us_msg *m, const char *s)
{
	for (; *s; s++)
		put(m, s, 1);
}

void us_msg_val(struct us_msg *m, const char *s)
{
	char e[5];

	for (; *s; s++)
		put(m, e, escape_char((unsigned char)*s, e));
}

void us_msg_end(struct us_msg *m)
{
	int saved = errno;

	put(m, "\n", 1);
	flush(m);
	errno = saved;
}

size_t us_msg_escape(char *out, size_t outlen, const char *s)
{
	size_t len = 0;
	char e[5];

	for (; *s; s++) {
		size_t n = escape_char((unsigned char)*s, e);
		if (len + n >= outlen)
			break;
		memcpy(out + len, e, n);
		len += n;
	}
	out[len] = '\0';
	return len;
}
