# oracle.bash: the kernel overlayfs oracle for bats files whose scenarios
# are written once, as functions of a union dir $U and a command prefix
# RUN, and run twice: under the shim and on a kernel overlayfs mount of the
# same layers. Load it after common (`load ../lib/common`, then
# `load ../lib/oracle`); it owns MOUNTED, the overlayfs mount to undo.
#   use_union shim|overlayfs -> U and RUN for that half; overlayfs mounts
#                               the layers at $TARGET (index=on,xino=on,
#                               or the options in OVL_OPTS), or skips the
#                               test where it cannot
#   unmount_union            -> for teardown: undo what use_union mounted
#   expect PROMISE WANT GOT  -> note PROMISE broken when GOT is not WANT
#   verdict                  -> fail the test naming every broken promise

MOUNTED=

# Fill the lower dirs before use_union: overlayfs must not see its layers
# change under it.
use_union() {
	U=$TARGET
	if [ "$1" = shim ]; then
		RUN=(in_union)
		return
	fi
	need_overlay
	mount -t overlay overlay \
		-o "lowerdir=$LOWER:$LOWER2,upperdir=$UPPER,workdir=$WORK,${OVL_OPTS:-index=on,xino=on}" "$TARGET" ||
		skip "kernel overlayfs cannot be mounted with ${OVL_OPTS:-index=on,xino=on} here"
	MOUNTED=$TARGET
	RUN=(env)
}

unmount_union() {
	if [ -n "${MOUNTED:-}" ] && mountpoint -q "$MOUNTED"; then
		umount "$MOUNTED" || umount -l "$MOUNTED"
	fi
}

# expect PROMISE WANT GOT: note a broken promise; verdict fails the test
# with all of them.
expect() {
	[ "$2" = "$3" ] && return 0
	BROKEN+=("$1"$'\n'"  want: ${2//$'\n'/$'\n'        }"$'\n'"  got:  ${3//$'\n'/$'\n'        }")
}

verdict() {
	[ ${#BROKEN[@]} -eq 0 ] && return 0
	printf 'BROKEN PROMISE: %s\n' "${BROKEN[@]}"
	return 1
}
