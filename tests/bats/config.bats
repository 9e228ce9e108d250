#!/usr/bin/env bats
# Configuration through UNIONSHIM_MOUNTS: the overlayfs-style grammar,
# several mounts, and bad configuration stopping the process before main
# with one "unionshim:" line and status 125.

load ../lib/common

setup() {
	make_layers
	echo lower > "$LOWER/f"
	MARKER=$(probe main_marker)
}

teardown() {
	local m
	for m in "$ROOT/t2" "$TARGET"; do
		! mountpoint -q "$m" || umount "$m"
	done
}

# Run the marker under SPEC; sets status/output/lines.
with_spec() {
	run env LD_PRELOAD="$SHIM_LIB" UNIONSHIM_MOUNTS="$1" "$MARKER" "${@:2}"
}

expect_refused() {
	with_spec "$1"
	[ "$status" -eq 125 ]
	[ "${#lines[@]}" -eq 1 ]
	[[ "${lines[0]}" == "unionshim: "* ]]
	[[ "${lines[0]}" == *"$2"* ]]
}

@test "a good configuration runs main and shows the union" {
	with_spec "$(mounts_spec)" "$TARGET/f"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "main ran" ]
	[ "${lines[1]}" = lower ]
}

@test "no configuration: the library does nothing" {
	run env LD_PRELOAD="$SHIM_LIB" "$MARKER" "$TARGET/f"
	[ "$status" -eq 1 ]
	[[ "$output" == *"No such file or directory"* ]]
}

@test "bad configuration stops the process before main, status 125, one line" {
	expect_refused "target=$TARGET,lowerdir=$ROOT/missing" "lowerdir $ROOT/missing: No such file or directory"
	expect_refused "target=$TARGET,lowerdir=$LOWER,bogus=1" "unknown option 'bogus'"
	expect_refused "target=$TARGET,lowerdir=$LOWER,upperdir=$UPPER" "upperdir needs workdir"
	expect_refused "target=$TARGET,lowerdir=$LOWER,workdir=$WORK" "workdir needs upperdir"
	expect_refused "lowerdir=$LOWER" "needs target="
	expect_refused "target=$TARGET" "needs lowerdir="
	expect_refused "target=/,lowerdir=$LOWER" "target may not be /"
	mkdir -p "$LOWER/up"
	expect_refused "target=$TARGET,lowerdir=$LOWER,upperdir=$LOWER/up,workdir=$WORK" "is inside lowerdir"
	mkdir -p "$UPPER/w"
	expect_refused "target=$TARGET,lowerdir=$LOWER,upperdir=$UPPER,workdir=$UPPER/w" "overlap"
	mkdir -p "$TARGET/x"
	expect_refused "target=$TARGET,lowerdir=$LOWER;target=$TARGET/x,lowerdir=$LOWER2" "is inside target"
	expect_refused "target=$TARGET,lowerdir=$LOWER/f" "not a directory"
}

@test "two mounts sharing or nesting upper and work dirs are refused (overlayfs: EBUSY)" {
	t2=$ROOT/t2
	mkdir -p "$t2" "$ROOT/u2" "$ROOT/w2" "$UPPER/sub" "$WORK/sub"
	one="target=$TARGET,lowerdir=$LOWER,upperdir=$UPPER,workdir=$WORK"
	bad=("upperdir=$UPPER,workdir=$ROOT/w2" "upperdir=$ROOT/u2,workdir=$WORK"
		"upperdir=$UPPER/sub,workdir=$ROOT/w2" "upperdir=$WORK/sub,workdir=$ROOT/w2"
		"upperdir=$ROOT/u2,workdir=$UPPER/sub")
	for b in "${bad[@]}"; do
		expect_refused "$one;target=$t2,lowerdir=$LOWER2,$b" "overlap"
	done
	expect_refused "$one;target=$t2,lowerdir=$UPPER" "overlap"
	# sharing a lower is fine
	with_spec "$one;target=$t2,lowerdir=$LOWER,upperdir=$ROOT/u2,workdir=$ROOT/w2" "$t2/f"
	[ "$status" -eq 0 ]
	[ "${lines[1]}" = lower ]
	# the kernel refuses the same second mounts while the first is mounted
	can_mount_overlay || skip "kernel overlayfs cannot be mounted here"
	mount -t overlay overlay -o "lowerdir=$LOWER,upperdir=$UPPER,workdir=$WORK,index=on" "$TARGET"
	for b in "${bad[@]}"; do
		run mount -t overlay overlay -o "lowerdir=$LOWER2,$b,index=on" "$t2"
		[ "$status" -ne 0 ]
	done
}

@test "a message stays one line when a value holds a newline or other control bytes" {
	nl=$ROOT/$'a\nunionshim - forged'
	expect_refused "target=$TARGET,lowerdir=$nl" "lowerdir $ROOT/a\\nunionshim - forged: No such file or directory"
	opt=$'x\r\t\x1b\\\\y'
	expect_refused "target=$TARGET,lowerdir=$LOWER,$opt=1" "unknown option 'x\\r\\t\\x1b\\\\\\\\y'"
	# the trace names the path the same way
	p=$TARGET/$'new\nx'
	run env LD_PRELOAD="$SHIM_LIB" UNIONSHIM_MOUNTS="target=$TARGET,lowerdir=$LOWER" UNIONSHIM_TRACE=1 \
		sh -c 'echo x > "$1"' sh "$p"
	[ "$status" -ne 0 ]
	[ "$(grep -c '^unionshim:' <<<"$output")" -eq 1 ]
	[[ "$output" == *"unionshim: ["*"] refused create of $TARGET/new\\nx: Read-only file system"* ]]
}

@test "a work dir on another filesystem than the upper is refused" {
	[ -d /dev/shm ] && [ "$(stat -c %d /dev/shm)" != "$(stat -c %d "$UPPER")" ] ||
		skip "no second filesystem at /dev/shm"
	w=$(mktemp -d /dev/shm/us-work.XXXXXX)
	expect_refused "target=$TARGET,lowerdir=$LOWER,upperdir=$UPPER,workdir=$w" "not on the filesystem of upperdir"
	rmdir "$w"
}

@test "several mounts, each at its target; escapes in paths" {
	odd=$ROOT/odd,dir:x
	mkdir -p "$odd" "$ROOT/t2"
	echo odd > "$odd/g"
	esc=${odd//,/\\,}
	esc=${esc//:/\\:}
	with_spec "target=$TARGET,lowerdir=$LOWER;target=$ROOT/t2,lowerdir=$esc" "$ROOT/t2/g"
	[ "$status" -eq 0 ]
	[ "${lines[1]}" = odd ]
	with_spec "target=$TARGET,lowerdir=$LOWER;target=$ROOT/t2,lowerdir=$esc" "$TARGET/f"
	[ "${lines[1]}" = lower ]
}

@test "overlayfs options that match our behaviour are accepted" {
	with_spec "$(mounts_spec index=on,xino=on,userxattr)" "$TARGET/f"
	[ "$status" -eq 0 ]
	[ "${lines[1]}" = lower ]
}

@test "trace mode reports a refused write, with a backtrace at level 2" {
	run env LD_PRELOAD="$SHIM_LIB" UNIONSHIM_MOUNTS="target=$TARGET,lowerdir=$LOWER" UNIONSHIM_TRACE=2 \
		sh -c "echo x > '$TARGET/new'"
	[ "$status" -ne 0 ]
	[[ "$output" == *"unionshim: ["*"] refused create of $TARGET/new: Read-only file system"* ]]
	[[ "$output" == *"unionshim:   #"* ]]
}

@test "relative dirs from a deep cwd: a spec that grows when made canonical still starts, and a child sees the union" {
	local deep=$ROOT/deep i
	for i in $(seq 1 16); do deep+=/$(printf 'd%.0s' $(seq 1 100)); done
	mkdir -p "$deep"/{t,l1,l2,l3,u,w}
	echo deep > "$deep/l3/f"
	cd "$deep"
	# six canonical dirs of ~1.6 KiB each: far more than the spec given
	run env LD_PRELOAD="$SHIM_LIB" \
		UNIONSHIM_MOUNTS="target=t,lowerdir=l1:l2:l3,upperdir=u,workdir=w" \
		sh -c 'cat t/f && echo new > t/g && cat t/g'
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = deep ]
	[ "${lines[1]}" = new ]
	[ "$(cat "$deep/u/g")" = new ]
}
