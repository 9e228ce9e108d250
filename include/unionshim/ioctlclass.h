/* ioctlclass.h: what an ioctl request does to the file (or filesystem) of
 * its fd, for the union's rule that a lower layer is never written.
 *
 * A switch on the request number: no system call, no state. Only the
 * filesystem families are looked at ('f' and 'v' generic/ext4, 'X' xfs and
 * the generic fileattr/freeze/trim calls, 0x94 btrfs and the generic
 * clone/dedupe/label calls, 0xf5 f2fs); every other request (ttys,
 * sockets, FIONREAD, drivers) is US_IOC_PASS. Within those families a
 * request is a reader only when it is known to be one: an unknown request
 * is treated as a writer. */
#ifndef UNIONSHIM_IOCTLCLASS_H
#define UNIONSHIM_IOCTLCLASS_H

enum us_ioc {
	US_IOC_PASS = 0,   /* reads, or none of the union's business */
	US_IOC_COPYUP,     /* fileattr set (SETFLAGS, FSSETXATTR): overlayfs
			      copies up and applies it to the copy */
	US_IOC_WRITE,      /* writes the fd's file or its filesystem: EROFS
			      when the fd's file lies in a lower layer */
	US_IOC_DEDUPE,     /* FIDEDUPERANGE: the fd and every dest fd */
};

enum us_ioc us_ioctl_class(unsigned long request);

#endif
