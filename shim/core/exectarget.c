/* exectarget.c: classify a file about to be executed (see exectarget.h).
 *
 * The "#!" parsing follows Linux's fs/binfmt_script.c: one buffer of 256
 * bytes, the line ends at '\n' or at the buffer's end (then the name must
 * be followed by a blank or NUL inside it, or the name would be cut),
 * trailing blanks are dropped, the rest after the name is one argument. */
#include <elf.h>
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "unionshim/exectarget.h"

static int blank(char c)
{
	return c == ' ' || c == '\t';
}

int us_shebang_parse(const char *head, size_t len, struct us_shebang *sb)
{
	char *buf = sb->line, *last = sb->line + US_SHEBANG_BUF - 1;

	if (len < 2 || head[0] != '#' || head[1] != '!')
		return 0;
	memset(sb->line, 0, sizeof sb->line);
	memcpy(sb->line, head, len < US_SHEBANG_BUF ? len : US_SHEBANG_BUF);
	char *end = memchr(buf, '\n', US_SHEBANG_BUF);
	if (!end) {
		char *p = buf + 2;
		while (p < last && blank(*p))
			p++;
		while (p < last && *p && !blank(*p))
			p++;
		if (p >= last)
			return -1; /* the interpreter's name is cut */
		end = last;
	}
	while (end > buf + 2 && blank(end[-1]))
		end--;
	*end = '\0';
	char *name = buf + 2;
	while (blank(*name))
		name++;
	if (!*name)
		return -1;
	char *cp = name;
	while (*cp && !blank(*cp))
		cp++;
	while (blank(*cp))
		*cp++ = '\0';
	sb->interp = name;
	sb->arg = *cp ? cp : NULL;
	return 1;
}

/* Does the x86-64 ELF program on FD ask for a program interpreter? The
 * headers are read in chunks on the stack: this may run in a vfork child,
 * where memory taken from malloc would stay behind in the parent. */
static int elf64_kind(int fd, const Elf64_Ehdr *eh)
{
	Elf64_Phdr ph[16];

	if (eh->e_phentsize != sizeof(Elf64_Phdr) || eh->e_phnum == 0)
		return US_EXEC_OTHER; /* the kernel refuses it: ENOEXEC */
	for (size_t i = 0; i < eh->e_phnum; i += 16) {
		size_t k = eh->e_phnum - i < 16 ? eh->e_phnum - i : 16;
		off_t at = (off_t)(eh->e_phoff + i * sizeof *ph);
		if (pread(fd, ph, k * sizeof *ph, at) != (ssize_t)(k * sizeof *ph))
			return US_EXEC_OTHER;
		for (size_t j = 0; j < k; j++)
			if (ph[j].p_type == PT_INTERP)
				return US_EXEC_DYNAMIC;
	}
	return US_EXEC_STATIC;
}

int us_exec_inspect(int fd, const char *head, size_t len,
		    struct us_shebang *sb)
{
	Elf64_Ehdr eh;

	switch (us_shebang_parse(head, len, sb)) {
	case 1:
		return US_EXEC_SCRIPT;
	case -1:
		errno = ENOEXEC;
		return -1;
	}
	if (len < EI_NIDENT || memcmp(head, ELFMAG, SELFMAG) != 0)
		return US_EXEC_OTHER;
	/* e_type and e_machine sit at the same offsets in both classes */
	if (len < 20)
		return US_EXEC_OTHER;
	uint16_t type, machine;
	memcpy(&type, head + 16, sizeof type);
	memcpy(&machine, head + 18, sizeof machine);
	if (type != ET_EXEC && type != ET_DYN)
		return US_EXEC_OTHER;
	if (head[EI_CLASS] != ELFCLASS64 || head[EI_DATA] != ELFDATA2LSB ||
	    machine != EM_X86_64 || len < sizeof eh)
		return US_EXEC_FOREIGN;
	memcpy(&eh, head, sizeof eh);
	return elf64_kind(fd, &eh);
}

const char *us_exec_unfollowable(int kind, const struct stat *st, uid_t euid,
				 gid_t egid, int setid_ignored)
{
	if (kind == US_EXEC_STATIC)
		return "statically linked";
	if (kind == US_EXEC_FOREIGN)
		return "not an x86-64 program";
	if (kind != US_EXEC_DYNAMIC || setid_ignored)
		return NULL;
	/* the loader runs in secure mode and drops LD_PRELOAD */
	if ((st->st_mode & S_ISUID) && st->st_uid != euid)
		return "setuid";
	/* S_ISGID without group exec is mandatory locking, not setgid */
	if ((st->st_mode & (S_ISGID | S_IXGRP)) == (S_ISGID | S_IXGRP) &&
	    st->st_gid != egid)
		return "setgid";
	return NULL;
}
