/* elfneeds.c: what a dynamic program asks of its loader (see
 * us_exec_glibc_only in exectarget.h).
 *
 * A child's loader goes through the union only by the audit module
 * (shim/audit/), which costs every exec a link namespace, five mappings
 * and a dozen page faults. A program that needs nothing but glibc, has no
 * search path of its own and cannot name a library at run time opens only
 * what the system's search gives; the exec decides from this whether the
 * child needs the module (shim/loaderquiet.c). Reads go through one
 * window (elfwindow.h): the dynamic section, the names it needs, and the
 * string table once, a usual program's in two or three reads. */
#include <stdint.h>

#include "elfwindow.h"
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

/* Names that let a program load a library of its choosing. */
static const char *const loader_calls[] = {"dlopen", "dlmopen", "dlsym",
					   "dlvsym"};

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

/* Does the string table TAB (LEN bytes) hold one of loader_calls as a
 * whole string (after a NUL or at its start)? Windows overlap by the
 * longest name, so a name across two is seen. */
static bool names_loader_call(struct window *w, off_t tab, uint64_t len)
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
			for (size_t k = 0; k < COUNT(loader_calls); k++) {
				size_t nl = strlen(loader_calls[k]) + 1;
				if (i + nl <= n &&
				    memcmp(c + i, loader_calls[k], nl) == 0)
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
	return !names_loader_call(&w, tab, strsz);
}
