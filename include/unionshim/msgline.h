/* msgline.h: one line of a diagnostic ("unionshim: ...", "unionrun: ...")
 * on an fd. Values (paths, names, option text) go through us_msg_val,
 * which escapes control characters and the backslash, so that a value
 * holding a newline can neither split the line nor forge another one.
 * No allocation: a message may be written in a vfork child. */
#ifndef UNIONSHIM_MSGLINE_H
#define UNIONSHIM_MSGLINE_H

#include <stddef.h>

struct us_msg {
	int fd;
	size_t len;
	char buf[512]; /* flushed when full: a long line takes several writes */
};

/* Start a line on FD with PREFIX written as is ("unionshim: "). */
void us_msg_start(struct us_msg *m, int fd, const char *prefix);

/* Append literal text (the message's own words, never a value). */
void us_msg_raw(struct us_msg *m, const char *s);

/* Append a value: '\n' '\r' '\t' and '\\' as C escapes, other control
 * bytes (0x01-0x1f, 0x7f) as \xHH; every other byte (UTF-8 too) as is. */
void us_msg_val(struct us_msg *m, const char *s);

/* End the line with '\n' and write what is left. errno is kept. */
void us_msg_end(struct us_msg *m);

/* Escape S as us_msg_val does into OUT (OUTLEN > 0, always NUL-ended;
 * cut short, never mid-escape, when it does not fit). The length. */
size_t us_msg_escape(char *out, size_t outlen, const char *s);

#endif
