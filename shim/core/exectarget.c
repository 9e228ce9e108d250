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

#include "elfwindow.h"
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

#define MAX_NOTES 4 /* PT_NOTE segments looked at */

/* What the program headers say. */
struct elf_seen {
	int interp;
	int nnotes;
	struct {
		off_t off;
		size_t len, align;
	} notes[MAX_NOTES];
};

static size_t align_up(size_t n, size_t a)
{
	return (n + a - 1) & ~(a - 1);
}

/* Go's linker marks every program with a note named "Go", type 4 (its
 * build id). */
static int go_note(struct window *w, off_t seg, size_t len, size_t align)
{
	Elf64_Nhdr nh;

	for (size_t off = 0; off + sizeof nh + 4 <= len;) {
		const char *p = view(w, seg + (off_t)off, sizeof nh + 4);
		if (!p)
			return 0;
		memcpy(&nh, p, sizeof nh);
		if (nh.n_type == 4 && (nh.n_namesz == 3 || nh.n_namesz == 4) &&
		    memcmp(p + sizeof nh, "Go\0", 3) == 0)
			return 1;
		if (nh.n_namesz > len || nh.n_descsz > len)
			return 0; /* malformed: the kernel ignores notes */
		off += sizeof nh + align_up(nh.n_namesz, align) +
		       align_up(nh.n_descsz, align);
	}
	return 0;
}

static const char *const go_sections[] = {".go.buildinfo",
					  ".note.go.buildid"};
#define NGO (sizeof go_sections / sizeof go_sections[0])
#define MAX_GO_NAMES 4

/* Offsets in the section-name table STRS where a Go section's name
 * starts (a name may also be the tail of a longer one); their count. */
static int go_names(struct window *w, const Elf64_Shdr *strs,
		    uint32_t found[MAX_GO_NAMES])
{
	const size_t keep = sizeof ".note.go.buildid"; /* across windows */
	int n = 0;

	for (size_t at = 0; at < strs->sh_size && n < MAX_GO_NAMES;) {
		size_t len = strs->sh_size - at;
		if (len > sizeof w->buf)
			len = sizeof w->buf;
		const char *c = view(w, (off_t)(strs->sh_offset + at), len);
		if (!c)
			return 0;
		for (size_t i = 0; i < len && n < MAX_GO_NAMES; i++)
			for (size_t k = 0; k < NGO; k++) {
				size_t nl = strlen(go_sections[k]) + 1;
				if (i + nl <= len &&
				    memcmp(c + i, go_sections[k], nl) == 0)
					found[n++] = (uint32_t)(at + i);
			}
		if (at + len >= strs->sh_size)
			break;
		at += len - keep; /* a name seen twice counts twice: harmless */
	}
	return n;
}

/* Does a section carry one of Go's names? Two small reads when the name
 * table holds none (every C program), more only when it does. */
static int go_section(struct window *w, const Elf64_Ehdr *eh)
{
	const size_t shsz = sizeof(Elf64_Shdr), per = sizeof w->buf / shsz;
	uint32_t names[MAX_GO_NAMES];
	Elf64_Shdr sh;

	if (eh->e_shoff == 0 || eh->e_shentsize != shsz ||
	    eh->e_shstrndx == SHN_UNDEF || eh->e_shstrndx >= eh->e_shnum)
		return 0;
	const void *p = view(w, (off_t)(eh->e_shoff + eh->e_shstrndx * shsz),
			     shsz);
	if (!p)
		return 0;
	memcpy(&sh, p, shsz);
	int n = go_names(w, &sh, names);
	for (size_t i = 0; n && i < eh->e_shnum; i += per) {
		size_t k = eh->e_shnum - i < per ? eh->e_shnum - i : per;
		const char *c = view(w, (off_t)(eh->e_shoff + i * shsz),
				     k * shsz);
		if (!c)
			return 0;
		for (size_t j = 0; j < k; j++) {
			memcpy(&sh, c + j * shsz, shsz);
			for (int m = 0; m < n; m++)
				if (sh.sh_name == names[m])
					return 1;
		}
	}
	return 0;
}

/* Read the program headers: a program interpreter, note segments. */
static int read_phdrs(struct window *w, const Elf64_Ehdr *eh,
		      struct elf_seen *seen)
{
	const size_t phsz = sizeof(Elf64_Phdr), per = sizeof w->buf / phsz;
	Elf64_Phdr ph;

	if (eh->e_phentsize != phsz || eh->e_phnum == 0)
		return -1; /* the kernel refuses it: ENOEXEC */
	for (size_t i = 0; i < eh->e_phnum; i += per) {
		size_t k = eh->e_phnum - i < per ? eh->e_phnum - i : per;
		const char *c = view(w, (off_t)(eh->e_phoff + i * phsz),
				     k * phsz);
		if (!c)
			return -1;
		for (size_t j = 0; j < k; j++) {
			memcpy(&ph, c + j * phsz, phsz);
			if (ph.p_type == PT_INTERP)
				seen->interp = 1;
			if (ph.p_type == PT_NOTE && seen->nnotes < MAX_NOTES) {
				int n = seen->nnotes++;
				seen->notes[n].off = (off_t)ph.p_offset;
				seen->notes[n].len = ph.p_filesz;
				seen->notes[n].align = ph.p_align == 8 ? 8 : 4;
			}
		}
	}
	return 0;
}

/* The kind of the x86-64 ELF program on FD. A dynamically linked Go
 * program is not followed: Go makes its system calls itself. */
static int elf64_kind(int fd, const Elf64_Ehdr *eh, const char *head,
		      size_t len)
{
	struct window w;

	window_start(&w, fd, head, len);
	struct elf_seen seen = {0};

	if (read_phdrs(&w, eh, &seen) < 0)
		return US_EXEC_OTHER;
	if (!seen.interp)
		return US_EXEC_STATIC;
	for (int i = 0; i < seen.nnotes; i++)
		if (go_note(&w, seen.notes[i].off, seen.notes[i].len,
			    seen.notes[i].align))
			return US_EXEC_GO;
	return go_section(&w, eh) ? US_EXEC_GO : US_EXEC_DYNAMIC;
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
	return elf64_kind(fd, &eh, head, len);
}

const char *us_exec_unfollowable(int kind, const struct stat *st, uid_t euid,
				 gid_t egid, int setid_ignored)
{
	if (kind == US_EXEC_STATIC)
		return "statically linked";
	if (kind == US_EXEC_FOREIGN)
		return "not an x86-64 program";
	if (kind == US_EXEC_GO)
		return "a Go program";
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
