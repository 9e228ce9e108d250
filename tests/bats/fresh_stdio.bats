#!/usr/bin/env bats
# fresh_stdio.bats: "Fresh data" for a buffered stdio stream in another
# process. The stream read the lower file into its buffer before another
# process copied the file up and rewrote it; its next read goes on at the
# same offset in the copy, and a rewind reads the copy. Kernel overlayfs
# cannot do this (the stream serves its buffer), so there is no oracle
# half: the shim goes past it here.

load ../lib/common

setup() {
	make_layers
	printf 'old data here\n' >"$LOWER/f"
	LOWER_SUM=$(snapshot "$LOWER")
}

@test "a buffered stdio stream opened before another process's copy-up reads the copy from its offset on, and after a rewind" {
	local in=$BATS_TEST_TMPDIR/in out=$BATS_TEST_TMPDIR/out first rest
	mkfifo "$in" "$out"
	in_union "$(probe stdio_fresh)" "$TARGET/f" <"$in" >"$out" &
	local pid=$!
	exec 7>"$in" 8<"$out"
	read -r first <&8 # the probe has read through its stream
	in_union sh -c 'printf "NEW DATA HERE\n" 1<>"$1"' _ "$TARGET/f"
	echo go >&7
	exec 7>&-
	rest=$(cat <&8)
	exec 8<&-
	wait "$pid"
	output="$first
$rest"
	[ "$output" = "first: old
next:  DATA HERE
|
rewound: NEW DATA HERE
|" ] || { echo "BROKEN PROMISE: Fresh data: a stdio stream's next read after another process's copy-up reads the copy"; echo "$output"; false; }
	[ "$(snapshot "$LOWER")" = "$LOWER_SUM" ]
}
