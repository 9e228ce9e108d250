/* elfneeds.c: what a dynamic program asks of its loader (see
 * us_exec_glibc_only and us_exec_static_tls in exectarget.h).
 *
 * A child's loader goes through the union only by the audit module
 * (shim/audit/), which costs every exec a link namespace, five mappings
 * and a dozen page faults. A program that needs nothing but glibc, has no
 * search path of its own and cannot name a library at run time opens only
 * what the system's search gives; the exec decides from this whether the
 * child needs the module (shim/loaderquiet.c). Reads go through one
 * window (elfwindow.h): the dynamic section, the names it needs, and the
 * string table once, a usual program's in two or three reads. */
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <string.h>

#include "elfwindow.h"
#include "unionshim/path.h"
#include "unionshim/scratch.h"
#include "unionshim/exectarget.h"

#define MAX_LOADS 8    /* PT_LOAD segments kept for address lookups */
#define MAX_NEEDED 16  /* more DT_NEEDED entries: not glibc alone */
#define MAX_STRTAB (1u << 20)

/* glibc's own libraries: the loader finds them where the system keeps
 * them, and none loads a library the program names. */
static const char *const glibc_libs[] = {
	"libc.so.6",	  "libm.so.6",	    "ld-linux-x86-64.so.2",
	"libpthread.so.0", "libdl.so.2",     "librt.so.1",
	"libresolv.so.2", "libutil.so.1",   "libanl.so.1",
	"libmvec.so.1",
};

/* Names that let a program reach a library of its choosing. */
static const char *const loader_calls[] = {"dlopen", "dlmopen", "dlsym",
					   "dlvsym", NULL};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

struct dyn_seen {
	off_t dyn_off;
	size_t dyn_len;
	int nloads;
	struct {
		uint64_t vaddr, off, len;
	} loads[MAX_LOADS];
};

static bool read_phdrs(struct window *w, const Elf64_Ehdr *eh,
		       struct dyn_seen *ds)
{
	const size_t phsz = sizeof(Elf64_Phdr);
	Elf64_Phdr ph;

	if (eh->e_phentsize != phsz || eh->e_phnum == 0)
		return false;
	for (size_t i = 0; i < eh->e_phnum; i++) {
		const void *c = view(w, (off_t)(eh->e_phoff + i * phsz), phsz);
		if (!c)
			return false;
		memcpy(&ph, c, phsz);
		if (ph.p_type == PT_DYNAMIC) {
			ds->dyn_off = (off_t)ph.p_offset;
			ds->dyn_len = ph.p_filesz;
		} else if (ph.p_type == PT_LOAD) {
			if (ds->nloads == MAX_LOADS)
				return false;
			ds->loads[ds->nloads].vaddr = ph.p_vaddr;
			ds->loads[ds->nloads].off = ph.p_offset;
			ds->loads[ds->nloads].len = ph.p_filesz;
			ds->nloads++;
		}
	}
	return ds->dyn_len > 0;
}

/* The file offset of address VADDR, or -1. */
static off_t file_off(const struct dyn_seen *ds, uint64_t vaddr)
{
	for (int i = 0; i < ds->nloads; i++)
		if (vaddr >= ds->loads[i].vaddr &&
		    vaddr - ds->loads[i].vaddr < ds->loads[i].len)
			return (off_t)(ds->loads[i].off +
				       (vaddr - ds->loads[i].vaddr));
	return -1;
}

/* Is the NUL-ended string at OFF (within LEN bytes of the table at TAB)
 * one of glibc's libraries? */
static bool glibc_lib(struct window *w, off_t tab, uint64_t len, uint64_t off)
{
	for (size_t k = 0; k < COUNT(glibc_libs); k++) {
		size_t n = strlen(glibc_libs[k]) + 1;
		if (off + n > len)
			continue;
		const char *c = view(w, tab + (off_t)off, n);
		if (c && memcmp(c, glibc_libs[k], n) == 0)
			return true;
	}
	return false;
}

/* Does the string table TAB (LEN bytes) hold one of CALLS (NULL-ended)
 * as a whole string (after a NUL or at its start)? Windows overlap by the
 * longest name, so a name across two is seen. */
static bool names_call(struct window *w, off_t tab, uint64_t len,
		       const char *const *calls)
{
	const size_t keep = sizeof "dlmopen" + 1;
	const size_t step = sizeof w->buf;

	for (uint64_t at = 0; at < len;) {
		size_t n = len - at < step ? (size_t)(len - at) : step;
		const char *c = view(w, tab + (off_t)at, n);
		if (!c)
			return true; /* cannot tell */
		for (size_t i = 0; i < n; i++) {
			if (i > 0 ? c[i - 1] != '\0' : at != 0)
				continue; /* (a window's first byte: seen
					     as the last of the one before) */
			for (size_t k = 0; calls[k]; k++) {
				size_t nl = strlen(calls[k]) + 1;
				if (i + nl <= n && memcmp(c + i, calls[k], nl) == 0)
					return true;
			}
		}
		if (at + n >= len)
			break;
		at += n - keep;
	}
	return false;
}

bool us_exec_glibc_only(int fd, const char *head, size_t len)
{
	Elf64_Ehdr eh;
	struct window w;
	struct dyn_seen ds = {.nloads = 0};
	uint64_t needed[MAX_NEEDED], strtab = 0, strsz = 0;
	int nneeded = 0;

	if (len < sizeof eh)
		return false;
	memcpy(&eh, head, sizeof eh);
	window_start(&w, fd, head, len);
	if (!read_phdrs(&w, &eh, &ds))
		return false;
	for (size_t i = 0; i + sizeof(Elf64_Dyn) <= ds.dyn_len;
	     i += sizeof(Elf64_Dyn)) {
		Elf64_Dyn d;
		const void *c = view(&w, ds.dyn_off + (off_t)i, sizeof d);
		if (!c)
			return false;
		memcpy(&d, c, sizeof d);
		if (d.d_tag == DT_NULL)
			break;
		switch (d.d_tag) {
		case DT_NEEDED:
			if (nneeded == MAX_NEEDED)
				return false;
			needed[nneeded++] = d.d_un.d_val;
			break;
		case DT_STRTAB:
			strtab = d.d_un.d_ptr;
			break;
		case DT_STRSZ:
			strsz = d.d_un.d_val;
			break;
		case DT_RPATH:
		case DT_RUNPATH:
		case DT_AUDIT:
		case DT_DEPAUDIT:
			return false;
		}
	}
	off_t tab = file_off(&ds, strtab);
	if (tab < 0 || strsz == 0 || strsz > MAX_STRTAB)
		return false;
	for (int i = 0; i < nneeded; i++)
		if (!glibc_lib(&w, tab, strsz, needed[i]))
			return false;
	return !names_call(&w, tab, strsz, loader_calls);
}

/* The NUL-ended string at OFF of the string table TAB (LEN bytes) into
 * OUT (CAP bytes), a byte at a time through the window: false when it
 * cannot be read whole. */
static bool read_string(struct window *w, off_t tab, uint64_t len,
			uint64_t off, char *out, size_t cap)
{
	for (size_t n = 0; n < cap; n++) {
		const char *c = off + n < len ? view(w, tab + (off_t)(off + n), 1) : NULL;
		if (!c)
			return false;
		out[n] = *c;
		if (!*c)
			return true;
	}
	return false;
}

/* The search path entry [P, END) with "$ORIGIN" (or "${ORIGIN}") read as
 * ORIGIN into DIR (CAP bytes): its length, or -1 for another token
 * ($LIB, $PLATFORM: the loader's choice) or no room. */
static long expand_entry(const char *p, const char *end, const char *origin,
			 char *dir, size_t cap)
{
	size_t dl = 0, ol = strlen(origin);

	for (const char *q = p; q < end;) {
		size_t take;
		const char *from;
		if (!strncmp(q, "$ORIGIN", 7) && (q + 7 == end || q[7] == '/')) {
			from = origin, take = ol, q += 7;
		} else if (!strncmp(q, "${ORIGIN}", 9)) {
			from = origin, take = ol, q += 9;
		} else if (*q == '$') {
			return -1;
		} else {
			from = q, take = 1, q++;
		}
		if (dl + take >= cap)
			return -1;
		memcpy(dir + dl, from, take);
		dl += take;
	}
	dir[dl] = '\0';
	return (long)dl;
}

/* The static TLS the library at PATH takes when the loader maps it: its
 * TLS block's size, aligned, when it is marked DF_STATIC_TLS (its code
 * reaches its TLS by the initial-exec model); 0 when none; -1 when there
 * is no such file (the next dir is tried). */
static long lib_static_tls(const char *path)
{
	int fd = SYS(open)(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	char head[sizeof(Elf64_Ehdr)];
	Elf64_Ehdr eh;
	struct window w;
	ssize_t n = SYS(pread)(fd, head, sizeof head, 0);
	uint64_t tls = 0, align = 1;
	bool statictls = false;
	off_t dyn_off = 0;
	size_t dyn_len = 0;

	memcpy(&eh, head, sizeof eh);
	if (n != (ssize_t)sizeof eh || memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0 ||
	    eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_phentsize != sizeof(Elf64_Phdr))
		goto out;
	window_start(&w, fd, head, sizeof head);
	for (size_t i = 0; i < eh.e_phnum; i++) {
		Elf64_Phdr ph;
		const void *c = view(&w, (off_t)(eh.e_phoff + i * sizeof ph), sizeof ph);
		if (!c)
			goto out;
		memcpy(&ph, c, sizeof ph);
		if (ph.p_type == PT_TLS) {
			tls = ph.p_memsz;
			align = ph.p_align ? ph.p_align : 1;
		} else if (ph.p_type == PT_DYNAMIC) {
			dyn_off = (off_t)ph.p_offset;
			dyn_len = ph.p_filesz;
		}
	}
	for (size_t i = 0; tls && i + sizeof(Elf64_Dyn) <= dyn_len;
	     i += sizeof(Elf64_Dyn)) {
		Elf64_Dyn d;
		const void *c = view(&w, dyn_off + (off_t)i, sizeof d);
		if (!c)
			break;
		memcpy(&d, c, sizeof d);
		if (d.d_tag == DT_NULL)
			break;
		if (d.d_tag == DT_FLAGS && (d.d_un.d_val & DF_STATIC_TLS))
			statictls = true;
	}
out:
	SYS(close)(fd);
	return statictls ? (long)((tls + align - 1) / align * align) : 0;
}

/* Where the loader finds a library when the program's own path does not
 * have it (Debian's multiarch dirs first). */
static const char *const system_lib_dirs[] = {
	"/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu", "/lib64",
	"/usr/lib64", "/lib", "/usr/lib", NULL,
};

size_t us_exec_static_tls(int fd, const char *head, size_t len,
			  const char *origin)
{
	US_SCRATCH_SCOPE;
	struct {
		char name[256], path[1024], dir[PATH_MAX], lib[PATH_MAX + 256];
	} *sb = us_scratch_push(sizeof *sb);
	Elf64_Ehdr eh;
	struct window w;
	struct dyn_seen ds = {.nloads = 0};
	uint64_t needed[MAX_NEEDED * 2], rpath = 0, strtab = 0, strsz = 0;
	int nneeded = 0;
	bool has_rpath = false;
	size_t sum = 0;

	if (!sb || len < sizeof eh)
		return 0;
	memcpy(&eh, head, sizeof eh);
	window_start(&w, fd, head, len);
	if (!read_phdrs(&w, &eh, &ds))
		return 0;
	for (size_t i = 0; i + sizeof(Elf64_Dyn) <= ds.dyn_len;
	     i += sizeof(Elf64_Dyn)) {
		Elf64_Dyn d;
		const void *c = view(&w, ds.dyn_off + (off_t)i, sizeof d);
		if (!c)
			return 0;
		memcpy(&d, c, sizeof d);
		if (d.d_tag == DT_NULL)
			break;
		if (d.d_tag == DT_NEEDED && nneeded < MAX_NEEDED * 2)
			needed[nneeded++] = d.d_un.d_val;
		else if (d.d_tag == DT_STRTAB)
			strtab = d.d_un.d_ptr;
		else if (d.d_tag == DT_STRSZ)
			strsz = d.d_un.d_val;
		else if (d.d_tag == DT_RUNPATH || (d.d_tag == DT_RPATH && !has_rpath))
			rpath = d.d_un.d_val, has_rpath = true;
	}
	off_t tab = file_off(&ds, strtab);
	if (tab < 0 || strsz == 0 || strsz > MAX_STRTAB)
		return 0;
	if (!has_rpath || !read_string(&w, tab, strsz, rpath, sb->path, sizeof sb->path))
		sb->path[0] = '\0';
	for (int i = 0; i < nneeded; i++) {
		if (glibc_lib(&w, tab, strsz, needed[i]) ||
		    !read_string(&w, tab, strsz, needed[i], sb->name, sizeof sb->name) ||
		    strchr(sb->name, '/'))
			continue;
		long got = -1;
		for (char *p = sb->path, *end; got < 0 && *p; p = *end ? end + 1 : end) {
			end = strchrnul(p, ':');
			if (expand_entry(p, end, origin, sb->dir, sizeof sb->dir) > 0 &&
			    us_path_join(sb->lib, sizeof sb->lib, sb->dir, sb->name) == 0)
				got = lib_static_tls(sb->lib);
		}
		for (int k = 0; got < 0 && system_lib_dirs[k]; k++)
			if (us_path_join(sb->lib, sizeof sb->lib, system_lib_dirs[k],
					 sb->name) == 0)
				got = lib_static_tls(sb->lib);
		if (got > 0)
			sum += (size_t)got;
	}
	return sum;
}
