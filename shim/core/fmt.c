/* fmt.c: the library's own snprintf (see fmt.h): formats into a buffer
 * with a few hundred bytes of stack where glibc's vfprintf takes about
 * two KiB (a thread of PTHREAD_STACK_MIN makes union calls that format a
 * work-dir name), and touches no page of libc's printf in a process.
 * Byte at a time: the strings are short paths and numbers. The formats:
 * %s %c %d %i %u %x %X %o %p %% with the flags '-' and '0', a width, a
 * precision (also '*') and the sizes hh h l ll z j t; nothing else is
 * used. No libc call: the audit module (which links no libc) builds its
 * snprintf on it too. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "unionshim/fmt.h"

/* The output so far: LEN bytes counted, at most CAP - 1 stored. */
struct out {
	char *buf;
	size_t cap, len;
};

static void put(struct out *o, char c)
{
	if (o->len + 1 < o->cap)
		o->buf[o->len] = c;
	o->len++;
}

static void pad(struct out *o, char c, int n)
{
	while (n-- > 0)
		put(o, c);
}

/* One conversion's text S (N bytes), padded to WIDTH. */
static void field(struct out *o, const char *s, int n, int width, int left,
		  char fill)
{
	if (!left && fill == '0' && n && (*s == '-')) {
		put(o, *s++);
		n--;
		width--;
	}
	if (!left)
		pad(o, fill, width - n);
	for (int i = 0; i < n; i++)
		put(o, s[i]);
	if (left)
		pad(o, ' ', width - n);
}

/* V in BASE, at least PREC digits, at the end of BUF (32 bytes). */
static int digits(char *buf, uintmax_t v, unsigned base, int upper, int neg,
		  int prec)
{
	const char *set = upper ? "0123456789ABCDEF" : "0123456789abcdef";
	int n = 0;

	do
		buf[31 - n++] = set[v % base];
	while ((v /= base) && n < 30);
	while (n < prec && n < 30)
		buf[31 - n++] = '0';
	if (neg)
		buf[31 - n++] = '-';
	return n;
}

static uintmax_t arg_u(va_list *ap, int size)
{
	switch (size) {
	case 'H': return (unsigned char)va_arg(*ap, unsigned);
	case 'h': return (unsigned short)va_arg(*ap, unsigned);
	case 'l': return va_arg(*ap, unsigned long);
	case 'q': return va_arg(*ap, unsigned long long);
	case 'z': return va_arg(*ap, size_t);
	case 'j': return va_arg(*ap, uintmax_t);
	case 't': return (uintmax_t)va_arg(*ap, ptrdiff_t);
	default: return va_arg(*ap, unsigned);
	}
}

static intmax_t arg_d(va_list *ap, int size)
{
	switch (size) {
	case 'H': return (signed char)va_arg(*ap, int);
	case 'h': return (short)va_arg(*ap, int);
	case 'l': return va_arg(*ap, long);
	case 'q': return va_arg(*ap, long long);
	case 'z': return (intmax_t)va_arg(*ap, size_t);
	case 'j': return va_arg(*ap, intmax_t);
	case 't': return va_arg(*ap, ptrdiff_t);
	default: return va_arg(*ap, int);
	}
}

static const char *size_of(const char *f, int *size)
{
	*size = 0;
	if (*f == 'h')
		*size = *++f == 'h' ? (f++, 'H') : 'h';
	else if (*f == 'l')
		*size = *++f == 'l' ? (f++, 'q') : 'l';
	else if (*f == 'z' || *f == 'j' || *f == 't')
		*size = *f++;
	return f;
}

/* One conversion at F (past the '%'); returns past it. */
static const char *convert(struct out *o, const char *f, va_list *ap)
{
	int left = 0, width = 0, prec = -1, size, n;
	char fill = ' ', buf[32], c;

	for (; *f == '-' || *f == '0'; f++)
		*f == '-' ? (left = 1) : (fill = '0');
	if (*f == '*')
		width = va_arg(*ap, int), f++;
	for (; *f >= '0' && *f <= '9'; f++)
		width = width * 10 + (*f - '0');
	if (*f == '.') {
		prec = 0;
		if (*++f == '*')
			prec = va_arg(*ap, int), f++;
		for (; *f >= '0' && *f <= '9'; f++)
			prec = prec * 10 + (*f - '0');
	}
	f = size_of(f, &size);
	switch (c = *f) {
	case 's': {
		const char *s = va_arg(*ap, const char *);
		s = s ? s : "(null)";
		for (n = 0; s[n] && (prec < 0 || n < prec); n++)
			;
		field(o, s, n, width, left, ' ');
		break;
	}
	case 'c':
		buf[0] = (char)va_arg(*ap, int);
		field(o, buf, 1, width, left, ' ');
		break;
	case 'd':
	case 'i': {
		intmax_t v = arg_d(ap, size);
		uintmax_t u = v < 0 ? -(uintmax_t)v : (uintmax_t)v;
		n = digits(buf, u, 10, 0, v < 0, prec);
		field(o, buf + 32 - n, n, width, left, prec < 0 ? fill : ' ');
		break;
	}
	case 'u':
	case 'x':
	case 'X':
	case 'o':
	case 'p': {
		uintmax_t v = c == 'p' ? (uintptr_t)va_arg(*ap, void *) : arg_u(ap, size);
		if (c == 'p' && !v) { /* as glibc writes them */
			field(o, "(nil)", 5, width, left, ' ');
			break;
		}
		n = digits(buf, v, c == 'u' ? 10 : c == 'o' ? 8 : 16, c == 'X', 0, prec);
		if (c == 'p') {
			buf[31 - n++] = 'x';
			buf[31 - n++] = '0';
		}
		field(o, buf + 32 - n, n, width, left, prec < 0 ? fill : ' ');
		break;
	}
	case '%':
		put(o, '%');
		break;
	default: /* not a format this library uses: shown as is */
		put(o, '%');
		if (!c)
			return f;
		put(o, c);
	}
	return f + 1;
}

int us_vsnprintf(char *restrict buf, size_t cap, const char *restrict fmt,
		 va_list ap)
{
	struct out o = {buf, cap, 0};
	va_list aq;

	va_copy(aq, ap);
	while (*fmt)
		if (*fmt == '%')
			fmt = convert(&o, fmt + 1, &aq);
		else
			put(&o, *fmt++);
	va_end(aq);
	if (cap)
		buf[o.len < cap ? o.len : cap - 1] = '\0';
	return (int)o.len;
}

int us_snprintf(char *restrict buf, size_t cap, const char *restrict fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	int n = us_vsnprintf(buf, cap, fmt, ap);
	va_end(ap);
	return n;
}

#if defined(UNIONSHIM_AUDIT)
/* The audit module links no libc: these are its snprintf and vsnprintf. */
int vsnprintf(char *restrict buf, size_t cap, const char *restrict fmt, va_list ap)
	__attribute__((alias("us_vsnprintf")));
int snprintf(char *restrict buf, size_t cap, const char *restrict fmt, ...)
	__attribute__((alias("us_snprintf")));
#endif
