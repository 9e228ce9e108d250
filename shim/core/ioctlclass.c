/* ioctlclass.c: the class of an ioctl request (see ioctlclass.h). The
 * direction bits are not trusted: some setters are declared _IOR
 * (FS_IOC_SET_ENCRYPTION_POLICY, EXT4_IOC_SHUTDOWN); only where one number
 * serves a getter and a setter (ext4's fs uuid, btrfs features and encoded
 * I/O) does the direction tell them apart. */
#include <asm/ioctl.h>

#include "unionshim/ioctlclass.h"

/* 'f' and 'v': FS_IOC_* and EXT4_IOC_* of linux/fs.h, fscrypt, fsverity. */
static enum us_ioc class_f(unsigned nr, unsigned dir)
{
	switch (nr) {
	case 1:   /* FS_IOC_GETFLAGS (and the 32-bit form) */
	case 3:   /* EXT4_IOC_GETVERSION */
	case 5:   /* EXT4_IOC_GETRSVSZ */
	case 11:  /* FS_IOC_FIEMAP */
	case 18:  /* EXT4_IOC_PRECACHE_EXTENTS */
	case 21:  /* FS_IOC_GET_ENCRYPTION_POLICY */
	case 22:  /* FS_IOC_GET_ENCRYPTION_POLICY_EX */
	case 23:  /* FS_IOC_ADD_ENCRYPTION_KEY (the keyring, not the fs) */
	case 24:  /* FS_IOC_REMOVE_ENCRYPTION_KEY */
	case 25:  /* FS_IOC_REMOVE_ENCRYPTION_KEY_ALL_USERS */
	case 26:  /* FS_IOC_GET_ENCRYPTION_KEY_STATUS */
	case 27:  /* FS_IOC_GET_ENCRYPTION_NONCE */
	case 40:  /* EXT4_IOC_CLEAR_ES_CACHE */
	case 41:  /* EXT4_IOC_GETSTATE */
	case 42:  /* EXT4_IOC_GET_ES_CACHE */
	case 43:  /* EXT4_IOC_CHECKPOINT (the journal, no file changes) */
	case 45:  /* EXT4_IOC_GET_TUNE_SB_PARAM */
	case 134: /* FS_IOC_MEASURE_VERITY */
	case 135: /* FS_IOC_READ_VERITY_METADATA */
		return US_IOC_PASS;
	case 44:  /* EXT4_IOC_GETFSUUID (read) / EXT4_IOC_SETFSUUID (write) */
		return dir == _IOC_READ ? US_IOC_PASS : US_IOC_WRITE;
	case 2:   /* FS_IOC_SETFLAGS (and FS_IOC32_SETFLAGS) */
		return US_IOC_COPYUP;
	default:  /* SETVERSION, SET_ENCRYPTION_POLICY, GET_ENCRYPTION_PWSALT
		     (sets the salt when there is none), ENABLE_VERITY, ext4
		     MIGRATE, ALLOC_DA_BLKS, MOVE_EXT, GROUP_*, RESIZE_FS,
		     SWAP_BOOT, SET_TUNE_SB_PARAM, unknown */
		return US_IOC_WRITE;
	}
}

/* 'X': xfs, and FS_IOC_FS[GS]ETXATTR, FIFREEZE, FITHAW, FITRIM. */
static enum us_ioc class_x(unsigned nr)
{
	switch (nr) {
	case 30: case 31: case 38: case 44: case 45: case 47: case 56:
	case 61: case 62: case 63: /* DIOINFO, FSGETXATTR, GETBMAP*, *GEOMETRY */
	case 100: case 101: case 102: case 103: /* geometry, bulkstat, inumbers */
	case 104: case 105: case 106: case 108: /* handles, readlink by handle */
	case 113: case 115: case 122: case 124: case 126: case 127: case 128:
	case 130: /* XFS_IOC_START_COMMIT: notes the file's state */
	case 119: case 120: case 121: /* FIFREEZE, FITHAW, FITRIM: no file data */
		return US_IOC_PASS;
	case 32: /* FS_IOC_FSSETXATTR */
		return US_IOC_COPYUP;
	default: /* ALLOCSP, FREESP, RESVSP, ZERO_RANGE, SWAPEXT, GROWFS*,
		    GOINGDOWN (also EXT4_IOC_SHUTDOWN), OPEN_BY_HANDLE,
		    ATTRMULTI_BY_HANDLE, EXCHANGE_RANGE, COMMIT_RANGE, scrub,
		    unknown */
		return US_IOC_WRITE;
	}
}

/* 0x94: btrfs, and FICLONE, FICLONERANGE, FIDEDUPERANGE, FS_IOC_[GS]ETFSLABEL. */
static enum us_ioc class_btrfs(unsigned nr, unsigned dir)
{
	switch (nr) {
	case 4: case 5: case 39:  /* device scan/forget/ready (control dev) */
	case 8: case 22: case 24: /* SYNC, WAIT_SYNC, START_SYNC */
	case 17: case 18: case 20: case 25: case 29: case 30: case 31:
	case 34: case 35: case 36: case 38: case 45: case 46: case 49:
	case 52: case 59: case 60: case 61: case 62: case 65:
		return US_IOC_PASS;
	case 57: /* GET_FEATURES, GET_SUPPORTED_FEATURES / SET_FEATURES */
	case 64: /* ENCODED_READ / ENCODED_WRITE */
		return dir == _IOC_READ ? US_IOC_PASS : US_IOC_WRITE;
	case 54: /* FIDEDUPERANGE */
		return US_IOC_DEDUPE;
	default: /* FICLONE (9), FICLONERANGE (13), SETFSLABEL (50), snapshots,
		    subvolumes, defrag, balance, devices, quotas, unknown */
		return US_IOC_WRITE;
	}
}

/* 0xf5: f2fs. */
static enum us_ioc class_f2fs(unsigned nr)
{
	switch (nr) {
	case 12: case 14: case 17: case 21: case 26: /* GET_FEATURES, GET_PIN_FILE,
			GET_COMPRESS_BLOCKS, GET_COMPRESS_OPTION, GET_DEV_ALIAS_FILE */
		return US_IOC_PASS;
	default:
		return US_IOC_WRITE;
	}
}

enum us_ioc us_ioctl_class(unsigned long request)
{
	unsigned type = _IOC_TYPE(request), nr = _IOC_NR(request);
	unsigned dir = _IOC_DIR(request);

	switch (type) {
	case 'f':
		return class_f(nr, dir);
	case 'v': /* FS_IOC_SETVERSION (the family is shared with drivers) */
		return nr == 2 ? US_IOC_WRITE : US_IOC_PASS;
	case 'X':
		return class_x(nr);
	case 0x94:
		return class_btrfs(nr, dir);
	case 0xf5:
		return class_f2fs(nr);
	default:
		return US_IOC_PASS;
	}
}
