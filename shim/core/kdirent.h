/* kdirent.h: the kernel's getdents64 record, for code that reads real
 * dirs with the system call (glibc's struct dirent64 has the same layout
 * but is not promised to). */
#ifndef UNIONSHIM_KDIRENT_H
#define UNIONSHIM_KDIRENT_H

#include <stdint.h>

struct linux_dirent64 {
	uint64_t d_ino;
	int64_t d_off;
	unsigned short d_reclen;
	unsigned char d_type;
	char d_name[];
};

#endif
