/* say.c: unionrun's messages (one escaped line each, see msgline.h) and
 * the small allocation helpers every part uses: out of memory is one of
 * unionrun's own errors (status 125). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "unionrun.h"
#include "unionshim/msgline.h"

static void say(const char *fmt, va_list ap)
{
	char *text = NULL;
	struct us_msg m;

	us_msg_start(&m, 2, "unionrun: ");
	if (vasprintf(&text, fmt, ap) < 0)
		us_msg_raw(&m, "out of memory");
	else
		us_msg_val(&m, text);
	us_msg_end(&m);
	free(text);
}

void ur_die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	say(fmt, ap);
	va_end(ap);
	ur_undo();
	exit(125);
}

void ur_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	say(fmt, ap);
	va_end(ap);
}

void *ur_alloc(size_t n)
{
	void *p = calloc(1, n);

	if (!p)
		ur_die("out of memory");
	return p;
}

char *ur_strdup(const char *s)
{
	char *p = strdup(s);

	if (!p)
		ur_die("out of memory");
	return p;
}

void sb_add(struct strbuf *b, const char *s, int escape)
{
	for (; *s; s++) {
		if (b->len + 3 > b->cap) {
			b->cap = b->cap ? b->cap * 2 : 256;
			b->s = realloc(b->s, b->cap);
			if (!b->s)
				ur_die("out of memory");
		}
		if (escape && strchr(",:;\\", *s))
			b->s[b->len++] = '\\';
		b->s[b->len++] = *s;
		b->s[b->len] = '\0';
	}
}
