#!/usr/bin/env bats
# Promise (semantics.md "Copy-up": "Concurrent copy-ups of one file by many
# processes yield one copy, whole"): 8 processes released at one instant
# (copyup_race waits on a barrier file) each copy up one lower file and
# write to it; the upper ends with one whole copy holding every write, no
# update lost, no temp left behind, and the lower unchanged. Metadata
# changes make one metacopy (metacopy.h); writes to a metacopy fill it
# once.

bats_require_minimum_version 1.5.0

load ../lib/common
load ../lib/itest
load ../lib/copyup

N=8
ROUNDS=3

setup() {
	make_layers
	mkdir -p "$LOWER/d"
	head -c 8M /dev/urandom >"$LOWER/d/shared" # copy-ups long enough to overlap
	chmod 644 "$LOWER/d/shared"
	touch -d @1500000000 "$LOWER/d/shared"
	LOWER_BEFORE=$(lower_state)
	SPEC=$(mounts_spec)
}

# Start N racers on d/shared, racer i doing "$($plan i)" (OP ARG), release
# them together, wait for all; each must succeed.
race() {
	local plan=$1 i pids=() fail=0
	local barrier=$BATS_TEST_TMPDIR/go.$RANDOM$RANDOM
	for i in $(seq 1 $N); do
		set -- $($plan "$i")
		LD_PRELOAD=$SHIM_LIB UNIONSHIM_MOUNTS=$SPEC \
			"$(probe copyup_race)" "$barrier" "$1" "$TARGET/d/shared" "${*:2}" &
		pids+=($!)
	done
	sleep 0.3 # all of them started and polling
	: >"$barrier"
	for i in "${pids[@]}"; do
		wait "$i" || fail=1
	done
	return $fail
}

line_arg() { echo "line from racer $1 round $ROUND"; }
append_plan() { echo "append $(line_arg "$1")"; }
# odd racers chmod (modes 610, 630, ...), even racers touch (mtime 1e9 + i)
meta_plan() {
	if (($1 % 2)); then echo "chmod 6${1}0"; else echo "utime $((1000000000 + $1))"; fi
}

one_copy() {
	same "./d
./d/shared" "$(upper_names)"
	same "" "$(cd "$WORK" && find . -name '#us.*')"
}

@test "8 processes append a line at once: one copy with the data and all 8 lines" {
	local sz
	sz=$(stat -c %s "$LOWER/d/shared")
	for ROUND in $(seq 1 $ROUNDS); do
		rm -rf "$UPPER/d"
		race append_plan
		one_copy
		cmp -n "$sz" "$UPPER/d/shared" "$LOWER/d/shared"
		same "$(for i in $(seq 1 $N); do line_arg "$i"; done | sort)" \
			"$(tail -c +$((sz + 1)) "$UPPER/d/shared" | sort)"
		same "$(stat -c %s "$UPPER/d/shared")" "$(in_union stat -c %s "$TARGET/d/shared")"
	done
	lower_unchanged
}

# A metadata-only copy-up (metacopy.h): the record, no data blocks, the
# lower's bytes read through the union.
one_metacopy() {
	getfattr -n user.unionshim.metacopy "$UPPER/d/shared" >/dev/null
	(($(stat -c %b "$UPPER/d/shared") * 512 < 65536))
	in_union cat "$TARGET/d/shared" | cmp - "$LOWER/d/shared"
}

@test "8 processes chmod or touch one file at once: one whole metacopy, no change lost" {
	local mode mtime
	for ROUND in $(seq 1 $ROUNDS); do
		rm -rf "$UPPER/d"
		race meta_plan
		one_copy
		one_metacopy
		# a copy that replaced an updated one would bring back the lower's
		# mode or mtime
		mode=$(stat -c %a "$UPPER/d/shared")
		mtime=$(stat -c %Y "$UPPER/d/shared")
		[[ " 610 630 650 670 " == *" $mode "* ]] || { echo "round $ROUND: mode $mode is none of the chmods"; false; }
		((mtime > 1000000000 && mtime <= 1000000000 + N)) ||
			{ echo "round $ROUND: mtime $mtime is none of the touches"; false; }
	done
	lower_unchanged
}

@test "8 processes append a line at once to a metacopy: one copy with its data, its mode and all 8 lines" {
	local sz
	sz=$(stat -c %s "$LOWER/d/shared")
	for ROUND in $(seq 1 $ROUNDS); do
		rm -rf "$UPPER/d"
		in_union chmod 604 "$TARGET/d/shared"
		one_metacopy
		race append_plan
		one_copy
		run getfattr -n user.unionshim.metacopy "$UPPER/d/shared"
		[ "$status" -ne 0 ]
		cmp -n "$sz" "$UPPER/d/shared" "$LOWER/d/shared"
		same "$(for i in $(seq 1 $N); do line_arg "$i"; done | sort)" \
			"$(tail -c +$((sz + 1)) "$UPPER/d/shared" | sort)"
		same 604 "$(stat -c %a "$UPPER/d/shared")"
	done
	lower_unchanged
}
