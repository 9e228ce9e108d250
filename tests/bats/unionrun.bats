#!/usr/bin/env bats
# unionrun: options, defaults, exit statuses, finding the library, and the
# README's quick start (a real build reading its tree through a union).

load ../lib/common
bats_require_minimum_version 1.5.0

setup() {
	make_layers
	mkdir -p "$LOWER/sub"
	echo lower > "$LOWER/sub/file"
	echo bottom > "$LOWER2/bottom"
}

@test "the command's exit status is unionrun's" {
	run "$UNIONRUN" --lower "$LOWER" -- sh -c 'exit 7'
	[ "$status" -eq 7 ]
}

@test "--at shows the union at another path; --lower repeats topmost first" {
	echo top > "$LOWER/bottom"
	run "$UNIONRUN" --lower "$LOWER" --lower "$LOWER2" --at "$TARGET" -- cat "$TARGET/bottom" "$TARGET/sub/file"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = top ]
	[ "${lines[1]}" = lower ]
}

@test "--at defaults to the first lower (in place)" {
	echo gone > "$LOWER/hidden"
	: > "$UPPER/.wh.hidden"
	run "$UNIONRUN" --lower "$LOWER" --upper "$UPPER" --work "$WORK" -- ls "$LOWER"
	[ "$status" -eq 0 ]
	[ "$output" = sub ]
}

@test "-o takes overlayfs options and defaults the target to its first lowerdir" {
	echo gone > "$LOWER/hidden"
	: > "$UPPER/.wh.hidden"
	run "$UNIONRUN" -o "lowerdir=$LOWER:$LOWER2,upperdir=$UPPER,workdir=$WORK" -- ls "$LOWER"
	[ "$status" -eq 0 ]
	[ "$output" = "$(printf 'bottom\nsub')" ]
}

@test "-C changes into a union dir that exists only in the union" {
	run "$UNIONRUN" --lower "$LOWER" --at "$TARGET" -C "$TARGET/sub" -- sh -c 'pwd; cat file'
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "$TARGET/sub" ]
	[ "${lines[1]}" = lower ]
}

@test "a command found only in the union runs (PATH search through the union)" {
	mkdir -p "$LOWER/bin"
	printf '#!/bin/sh\necho from-union\n' > "$LOWER/bin/hello"
	chmod +x "$LOWER/bin/hello"
	PATH="$TARGET/bin:$PATH" run "$UNIONRUN" --lower "$LOWER" --at "$TARGET" -- hello
	[ "$status" -eq 0 ]
	[ "$output" = from-union ]
}

@test "exit 127 when the command is not found, 126 when it cannot run" {
	run -127 "$UNIONRUN" --lower "$LOWER" -- no-such-command-here
	[ "$status" -eq 127 ]
	[[ "$output" == "unionrun: no-such-command-here: "* ]]
	run -126 "$UNIONRUN" --lower "$LOWER" -- "$LOWER/sub/file"
	[ "$status" -eq 126 ]
}

@test "bad input: one line, exit 125, nothing created in the layers" {
	before=$(snapshot "$ROOT")
	run "$UNIONRUN" --lower "$ROOT/missing" -- true
	[ "$status" -eq 125 ]
	[ "${#lines[@]}" -eq 1 ]
	[[ "$output" == "unionrun: lowerdir $ROOT/missing: No such file or directory" ]]
	run "$UNIONRUN" --lower "$LOWER" --upper "$LOWER/sub" --work "$WORK" -- true
	[ "$status" -eq 125 ]
	[[ "$output" == *"is inside lowerdir"* ]]
	run "$UNIONRUN" --lower "$LOWER" --upper "$UPPER" -- true
	[ "$status" -eq 125 ]
	run "$UNIONRUN" -o "lowerdir=$LOWER,metacopy=on" -- true
	[ "$status" -eq 125 ]
	[[ "$output" == *"unknown option 'metacopy'"* ]]
	run "$UNIONRUN" --lower "$LOWER"
	[ "$status" -eq 125 ]
	[ "$(snapshot "$ROOT")" = "$before" ]
}

@test "unionrun's messages stay one line when a path holds a newline" {
	run "$UNIONRUN" --lower "$ROOT/"$'no\nsuch' -- true
	[ "$status" -eq 125 ]
	[ "$output" = "unionrun: lowerdir $ROOT/no\\nsuch: No such file or directory" ]
	run -127 "$UNIONRUN" --lower "$LOWER" -- $'no\nsuch'
	[ "$output" = "unionrun: no\\nsuch: No such file or directory" ]
}

@test "a refused configuration creates no --upper or --work dir" {
	before=$(snapshot "$ROOT")
	run "$UNIONRUN" --lower "$LOWER" --upper "$LOWER/newup" --work "$ROOT/newwork" -- true
	[ "$status" -eq 125 ]
	[ "$output" = "unionrun: upperdir $LOWER/newup is inside lowerdir $LOWER" ]
	run "$UNIONRUN" --lower "$LOWER" --upper "$ROOT/newup" --work "$LOWER/sub/newwork" -- true
	[ "$status" -eq 125 ]
	[ "$output" = "unionrun: workdir $LOWER/sub/newwork is inside lowerdir $LOWER" ]
	run "$UNIONRUN" --lower "$LOWER" --upper "$ROOT/newup" --work "$ROOT/newup/w" -- true
	[ "$status" -eq 125 ]
	[ "${#lines[@]}" -eq 1 ]
	run "$UNIONRUN" --lower "$LOWER" --upper "$ROOT/newup" --work "$ROOT/newwork" -o bogus=1 -- true
	[ "$status" -eq 125 ]
	[[ "$output" == *"unknown option 'bogus'"* ]]
	UNIONSHIM_LIBRARY=$ROOT/nolib run "$UNIONRUN" --lower "$LOWER" --upper "$ROOT/newup" --work "$ROOT/newwork" -- true
	[ "$status" -eq 125 ]
	[ "$(snapshot "$ROOT")" = "$before" ]
	if [ -d /dev/shm ] && [ "$(stat -c %d /dev/shm)" != "$(stat -c %d "$ROOT")" ]; then
		w=$(mktemp -d /dev/shm/us-work.XXXXXX)
		run "$UNIONRUN" --lower "$LOWER" --upper "$ROOT/newup" --work "$w/new" -- true
		[ "$status" -eq 125 ]
		[[ "$output" == *"is not on the filesystem of upperdir $ROOT/newup"* ]]
		[ ! -e "$w/new" ]
		rmdir "$w"
	fi
	[ "$(snapshot "$ROOT")" = "$before" ]
	# a good one creates both, at the paths it validated
	run "$UNIONRUN" --lower "$LOWER" --upper "$ROOT/newup/" --work "$ROOT/./newwork" -- sh -c "echo hi > '$LOWER/new'"
	[ "$status" -eq 0 ]
	[ "$(cat "$ROOT/newup/new")" = hi ]
	[ -d "$ROOT/newwork" ]
	[ ! -e "$LOWER/new" ]
}

@test "many long --lower dirs: a configuration past 64 KiB still runs" {
	local deep=$ROOT/deep i args=()
	for i in $(seq 1 16); do deep+=/$(printf 'd%.0s' $(seq 1 100)); done
	for i in $(seq 1 45); do
		mkdir -p "$deep/l$i"
		args+=(--lower "$deep/l$i")
	done
	echo bottom > "$deep/l45/f"
	run "$UNIONRUN" "${args[@]}" --at "$TARGET" -- cat "$TARGET/f"
	[ "$status" -eq 0 ]
	[ "$output" = bottom ]
}

@test "--help shows examples" {
	run "$UNIONRUN" --help
	[ "$status" -eq 0 ]
	[[ "$output" == *"Examples:"* ]]
	[[ "$output" == *"unionrun --lower"* ]]
}

@test "after make install, unionrun finds the installed library" {
	src=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)
	dest=$BATS_TEST_TMPDIR/dest
	make -C "$src" -s install B="$UNIONSHIM_BUILD" DESTDIR="$dest" PREFIX=/opt/us >/dev/null
	[ -x "$dest/opt/us/bin/unionrun" ]
	[ -f "$dest/opt/us/lib/unionshim/libunionshim.so" ]
	run "$dest/opt/us/bin/unionrun" --lower "$LOWER" --at "$TARGET" -- cat "$TARGET/sub/file"
	[ "$status" -eq 0 ]
	[ "$output" = lower ]
}

@test "quick start: a real build isolated in a union; the tree stays pristine" {
	src=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)
	tree=$BATS_TEST_TMPDIR/tree
	mkdir -p "$tree"
	(cd "$src" && git ls-files -z 2>/dev/null | xargs -0 -r cp --parents -t "$tree") ||
		cp -r "$src/Makefile" "$src/include" "$src/shim" "$src/tools" "$tree"
	before=$(snapshot "$tree")
	up=$BATS_TEST_TMPDIR/us-up
	work=$BATS_TEST_TMPDIR/us-work
	run "$UNIONRUN" --lower "$tree" --upper "$up" --work "$work" -C "$tree" -- \
		make -s B=build-isolated build-isolated/unionrun
	[ "$status" -eq 0 ]
	[ -x "$up/build-isolated/unionrun" ]
	[ "$(snapshot "$tree")" = "$before" ]
	# the build's output is seen in place through the union
	run "$UNIONRUN" --lower "$tree" --upper "$up" --work "$work" -- "$tree/build-isolated/unionrun" --help
	[ "$status" -eq 0 ]
	# without an upper, a write into the tree is refused
	run "$UNIONRUN" --lower "$tree" -C "$tree" -- make -s B=build-ro build-ro/unionrun
	[ "$status" -ne 0 ]
	[[ "$output" == *"Read-only file system"* ]]
	[ "$(snapshot "$tree")" = "$before" ]
}
