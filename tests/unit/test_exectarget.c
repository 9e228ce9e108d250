/* test_exectarget.c: us_exec_inspect on ELF images written here byte by
 * byte: the program interpreter, Go's build-id note (found in any note
 * segment, across read windows, never looping on a bad size) and Go's
 * section names (found anywhere in the name table, only when a section
 * uses them). */
#include <elf.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "unionshim/exectarget.h"
#include "unit.h"

#define IMG 8192
#define NOTES_AT 0x300
#define STRS_AT 0x800
#define SHDRS_AT 0x1800

struct img {
	unsigned char b[IMG];
	size_t notes;   /* bytes of notes written */
	size_t strsize; /* bytes of the name table */
	int interp;
	uint32_t secname; /* sh_name of the one extra section, or 0 */
};

static void img_init(struct img *im, int interp)
{
	memset(im, 0, sizeof *im);
	im->interp = interp;
	memcpy(im->b + STRS_AT, "\0.shstrtab", 11);
	im->strsize = 11;
}

static void add_note(struct img *im, const char *name, uint32_t namesz,
		     uint32_t descsz, uint32_t type, size_t real_desc)
{
	Elf64_Nhdr nh = {namesz, descsz, type};
	unsigned char *p = im->b + NOTES_AT + im->notes;

	memcpy(p, &nh, sizeof nh);
	memcpy(p + sizeof nh, name, strlen(name));
	im->notes += sizeof nh + ((namesz + 3) & ~3u) + ((real_desc + 3) & ~3u);
}

/* Put NAME into the name table at OFFSET (zero-padded before it). */
static uint32_t add_name(struct img *im, size_t offset, const char *name)
{
	memcpy(im->b + STRS_AT + offset, name, strlen(name) + 1);
	if (offset + strlen(name) + 1 > im->strsize)
		im->strsize = offset + strlen(name) + 1;
	return (uint32_t)offset;
}

/* Write the image to a file, return what us_exec_inspect says. */
static int inspect(struct img *im)
{
	Elf64_Ehdr eh = {0};
	Elf64_Phdr ph[2] = {{0}};
	Elf64_Shdr sh[3] = {{0}};
	struct us_shebang sb;
	int nph = 0;

	memcpy(eh.e_ident, ELFMAG, SELFMAG);
	eh.e_ident[EI_CLASS] = ELFCLASS64;
	eh.e_ident[EI_DATA] = ELFDATA2LSB;
	eh.e_ident[EI_VERSION] = EV_CURRENT;
	eh.e_type = ET_DYN;
	eh.e_machine = EM_X86_64;
	eh.e_phoff = sizeof eh;
	eh.e_phentsize = sizeof(Elf64_Phdr);
	eh.e_shoff = SHDRS_AT;
	eh.e_shentsize = sizeof(Elf64_Shdr);
	eh.e_ehsize = sizeof eh;
	if (im->interp) {
		memcpy(im->b + 0x200, "/lib64/ld-linux-x86-64.so.2", 28);
		ph[nph++] = (Elf64_Phdr){.p_type = PT_INTERP, .p_offset = 0x200,
					 .p_filesz = 28};
	}
	if (im->notes)
		ph[nph++] = (Elf64_Phdr){.p_type = PT_NOTE,
					 .p_offset = NOTES_AT,
					 .p_filesz = im->notes, .p_align = 4};
	eh.e_phnum = (uint16_t)nph;
	sh[1] = (Elf64_Shdr){.sh_name = 1, .sh_type = SHT_STRTAB,
			     .sh_offset = STRS_AT, .sh_size = im->strsize};
	sh[2] = (Elf64_Shdr){.sh_name = im->secname, .sh_type = SHT_PROGBITS};
	eh.e_shnum = 3;
	eh.e_shstrndx = 1;
	memcpy(im->b, &eh, sizeof eh);
	memcpy(im->b + sizeof eh, ph, (size_t)nph * sizeof *ph);
	memcpy(im->b + SHDRS_AT, sh, sizeof sh);

	const char *path = ut_p(ut.root, "prog");
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0755);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, im->b, SHDRS_AT + sizeof sh),
			 (ssize_t)(SHDRS_AT + sizeof sh));
	int kind = us_exec_inspect(fd, (const char *)im->b, US_SHEBANG_BUF, &sb);
	close(fd);
	return kind;
}

START_TEST(plain_dynamic_and_static)
{
	struct img im;

	img_init(&im, 1);
	add_note(&im, "GNU", 4, 16, NT_GNU_BUILD_ID, 16);
	ck_assert_int_eq(inspect(&im), US_EXEC_DYNAMIC);
	img_init(&im, 0);
	add_note(&im, "Go", 4, 8, 4, 8);
	ck_assert_int_eq(inspect(&im), US_EXEC_STATIC); /* refused as such */
}
END_TEST

START_TEST(go_note_found)
{
	struct img im;

	img_init(&im, 1);
	add_note(&im, "GNU", 4, 16, NT_GNU_BUILD_ID, 16);
	add_note(&im, "Go", 4, 83, 4, 83);
	ck_assert_int_eq(inspect(&im), US_EXEC_GO);
	/* another type under Go's name is not the build id */
	img_init(&im, 1);
	add_note(&im, "Go", 4, 8, 1, 8);
	ck_assert_int_eq(inspect(&im), US_EXEC_DYNAMIC);
}
END_TEST

START_TEST(go_note_after_a_long_note)
{
	struct img im;

	/* the Go note starts past the first read window */
	img_init(&im, 1);
	add_note(&im, "XY", 4, 1000, 1, 1000);
	add_note(&im, "Go", 4, 8, 4, 8);
	ck_assert_int_eq(inspect(&im), US_EXEC_GO);
}
END_TEST

START_TEST(bad_note_sizes_end_the_walk)
{
	struct img im;

	img_init(&im, 1);
	add_note(&im, "XY", 4, 0xfffffff0u, 1, 8);
	add_note(&im, "Go", 4, 8, 4, 8);
	ck_assert_int_eq(inspect(&im), US_EXEC_DYNAMIC);
}
END_TEST

START_TEST(go_section_names_anywhere_in_the_table)
{
	static const size_t at[] = {20, 890, 1780, 2000};
	struct img im;

	for (size_t i = 0; i < sizeof at / sizeof at[0]; i++) {
		img_init(&im, 1);
		im.secname = add_name(&im, at[i], i % 2 ? ".note.go.buildid"
						       : ".go.buildinfo");
		ck_assert_msg(inspect(&im) == US_EXEC_GO, "name at %zu", at[i]);
	}
}
END_TEST

START_TEST(go_section_names_only_when_used)
{
	struct img im;

	/* the name is in the table, but no section uses it */
	img_init(&im, 1);
	add_name(&im, 900, ".go.buildinfo");
	im.secname = 1;
	ck_assert_int_eq(inspect(&im), US_EXEC_DYNAMIC);
	/* a longer name ending in it is another section */
	img_init(&im, 1);
	im.secname = add_name(&im, 40, "x.go.buildinfo");
	ck_assert_int_eq(inspect(&im), US_EXEC_DYNAMIC);
	im.secname = add_name(&im, 40, ".go.buildinfox");
	ck_assert_int_eq(inspect(&im), US_EXEC_DYNAMIC);
}
END_TEST

START_TEST(go_is_unfollowable)
{
	struct stat st = {.st_mode = S_IFREG | 0755};

	ck_assert_str_eq(us_exec_unfollowable(US_EXEC_GO, &st, 0, 0, 0),
			 "a Go program");
	ck_assert_ptr_null(us_exec_unfollowable(US_EXEC_DYNAMIC, &st, 0, 0, 0));
}
END_TEST

Suite *exectarget_suite(void)
{
	Suite *s = suite_create("exectarget");
	TCase *tc = tcase_create("elf");

	tcase_add_checked_fixture(tc, ut_tree_setup, ut_tree_teardown);
	tcase_add_test(tc, plain_dynamic_and_static);
	tcase_add_test(tc, go_note_found);
	tcase_add_test(tc, go_note_after_a_long_note);
	tcase_add_test(tc, bad_note_sizes_end_the_walk);
	tcase_add_test(tc, go_section_names_anywhere_in_the_table);
	tcase_add_test(tc, go_section_names_only_when_used);
	tcase_add_test(tc, go_is_unfollowable);
	suite_add_tcase(s, tc);
	return s;
}
