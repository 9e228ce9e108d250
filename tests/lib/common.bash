# common.bash: what every bats file loads (`load ../lib/common`).
#
# It finds the build (UNIONSHIM_BUILD, default ./build), makes a fresh
# layer set per test under $BATS_TEST_TMPDIR, and runs commands in a union:
#   make_layers            -> $LOWER $LOWER2 $UPPER $WORK $TARGET (dirs)
#   mounts_spec [opts]     -> the UNIONSHIM_MOUNTS value for those dirs
#   in_union CMD...        -> CMD under LD_PRELOAD with the layers above
#   in_union_ro CMD...     -> the same without an upper (read-only union)
#   snapshot DIR           -> a listing (paths, types, modes, sizes, sums)
#                             that changes when anything in DIR changes
#   need_overlay           -> skip the test where kernel overlayfs cannot mount
#   probe NAME             -> path of a C probe from tests/probes

UNIONSHIM_BUILD=${UNIONSHIM_BUILD:-$(cd "$BATS_TEST_DIRNAME/../.." && pwd)/build}
SHIM_LIB=$UNIONSHIM_BUILD/libunionshim.so
# A sanitizer build of the library (make SANITIZE=1 or TSAN=1) needs its
# runtime preloaded first: SHIM_LIB is then "RUNTIME LIBRARY", an
# LD_PRELOAD value (the only way the tests use it).
SAN_RT=$(ldd "$SHIM_LIB" 2>/dev/null | awk '$1 ~ /^lib[at]san\.so/ { print $3 }')
[ -z "$SAN_RT" ] || SHIM_LIB="$(readlink -f "$SAN_RT") $SHIM_LIB"
UNIONRUN=$UNIONSHIM_BUILD/unionrun

probe() { echo "$UNIONSHIM_BUILD/probes/$1"; }

make_layers() {
	ROOT=$(mktemp -d "$BATS_TEST_TMPDIR/layers.XXXXXX")
	LOWER=$ROOT/lower
	LOWER2=$ROOT/lower2
	UPPER=$ROOT/upper
	WORK=$ROOT/work
	TARGET=$ROOT/target
	mkdir -p "$LOWER" "$LOWER2" "$UPPER" "$WORK" "$TARGET"
}

mounts_spec() {
	local extra=${1:-}
	echo "target=$TARGET,lowerdir=$LOWER:$LOWER2,upperdir=$UPPER,workdir=$WORK${extra:+,$extra}"
}

in_union() {
	LD_PRELOAD=$SHIM_LIB UNIONSHIM_MOUNTS="$(mounts_spec)" "$@"
}

in_union_ro() {
	LD_PRELOAD=$SHIM_LIB UNIONSHIM_MOUNTS="target=$TARGET,lowerdir=$LOWER:$LOWER2" "$@"
}

snapshot() {
	(cd "$1" && find . -printf '%p %y %m %s %l\n' | LC_ALL=C sort &&
		find . -type f -print0 | LC_ALL=C sort -z | xargs -0 -r sha256sum)
}

can_mount_overlay() {
	local d
	d=$(mktemp -d "$BATS_TEST_TMPDIR/ovl-probe.XXXXXX")
	mkdir -p "$d/l" "$d/u" "$d/w" "$d/m"
	if mount -t overlay overlay -o "lowerdir=$d/l,upperdir=$d/u,workdir=$d/w" "$d/m" 2>/dev/null; then
		umount "$d/m"
		return 0
	fi
	return 1
}

need_overlay() {
	can_mount_overlay || skip "kernel overlayfs cannot be mounted here"
}
