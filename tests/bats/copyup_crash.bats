#!/usr/bin/env bats
# Promise (semantics.md "Copy-up": atomic; "Lower layers stay untouched"):
# a copier killed with SIGKILL at any instant of a copy-up leaves the union
# showing either the lower file or a whole copy, never a partial one; the
# lower stays bit-for-bit the same; the next process under the shim starts
# and clears the dead copier's temps (#us.PID.N) from the work dir.

bats_require_minimum_version 1.5.0

load ../lib/common
load ../lib/itest
load ../lib/copyup

KILLS=30     # copiers killed in mid-flight, at least
MAX_RUNS=150 # attempts (a copier that finished before its kill does not count)

setup() {
	make_layers
	head -c 64M /dev/urandom >"$LOWER/big"
	chmod 644 "$LOWER/big"
	SUM=$(sha256sum <"$LOWER/big")
	LSTAT=$(stat -c '%s %i %Y %Z %a' "$LOWER/big")
	SPEC=$(mounts_spec)
	BIG_INO=$(in_union stat -c %i "$TARGET/big")
}

# Run copier number I and SIGKILL it after DELAY microseconds (none: let
# it finish); print its exit status and its run time in microseconds. A
# plain bash runs the timing: bats traps every command of a test body,
# which would blur the delays. I % 3: 0 an O_RDWR open (a copy-up of the
# data), 1 a chmod (a metadata-only copy-up: metacopy.h), 2 an O_RDWR
# open of the metacopy a chmod made first (its data copy-up).
copier() {
	local cmd=(chmod 600 "$TARGET/big")
	(($1 % 3 == 1)) || cmd=("$(probe copyup_open)" "$TARGET/big" rdwr)
	((${1} % 3 != 2)) || in_union chmod 600 "$TARGET/big"
	bash -c '
		delay=$1; shift
		t0=$EPOCHREALTIME
		"$@" & pid=$!
		if [ -n "$delay" ]; then
			sleep "$(printf "%d.%06d" $((delay / 1000000)) $((delay % 1000000)))"
			kill -KILL $pid 2>/dev/null
		fi
		wait $pid 2>/dev/null
		st=$?
		t1=$EPOCHREALTIME
		echo "$st $((${t1/./} - ${t0/./}))"
	' _ "${2:-}" env LD_PRELOAD="$SHIM_LIB" UNIONSHIM_MOUNTS="$SPEC" "${cmd[@]}"
}

# The union shows the lower file, a metacopy or a whole copy: it reports
# the file's one identity (size and inode number never change with a
# copy-up); an upper copy, the object a lookup finds first, is byte for
# byte the lower file, or a metacopy (its record, no data blocks) through
# which the union reads the lower's bytes.
whole() {
	local seen
	seen=$(in_union stat -c '%s %i' "$TARGET/big")
	same "67108864 $BIG_INO" "$seen" || { echo "run $1: the union's size or inode number changed"; return 1; }
	[ -e "$UPPER/big" ] || return 0
	if getfattr -n user.unionshim.metacopy "$UPPER/big" >/dev/null 2>&1; then
		(($(stat -c %b "$UPPER/big") < 128)) || { echo "run $1: a metacopy with data"; return 1; }
		same "$SUM" "$(in_union cat "$TARGET/big" | sha256sum)" ||
			{ echo "run $1: the metacopy reads otherwise"; return 1; }
		METACOPIES=$((METACOPIES + 1))
	else
		cmp "$UPPER/big" "$LOWER/big" || { echo "run $1: the upper copy differs"; return 1; }
	fi
}

@test "SIGKILL at random moments of a 64 MiB copy-up never shows a partial file" {
	# how long one data copy-up takes, start to exit: the fastest of three
	local i out span=999999999
	METACOPIES=0
	for i in 3 5 6 1; do # the data copiers (a chmod is quicker: it sets no span)
		rm -f "$UPPER/big"
		out=$(copier "$i")
		[ "${out% *}" = 0 ]
		whole "$i"
		((i == 1 || ${out#* } >= span)) || span=${out#* }
	done
	echo "one copy-up: $span us"

	local run=0 kills=0 done_=0 delay st
	while ((kills < KILLS && run < MAX_RUNS)); do
		run=$((run + 1))
		rm -f "$UPPER/big" # a fresh copy-up each time
		# within the fastest copy-up seen, so most copiers die mid-flight
		delay=$((RANDOM * RANDOM % (span * 8 / 10 + 1)))
		out=$(copier "$run" "$delay")
		st=${out% *}
		echo "run $run: killed after $delay us: status $st, upper: $(ls "$UPPER"), work: $(ls "$WORK" | tr '\n' ' ')"
		if ((st == 137)); then kills=$((kills + 1)); else done_=$((done_ + 1)); fi
		whole "$run"
		[ "$(stat -c '%s %i %Y %Z %a' "$LOWER/big")" = "$LSTAT" ]
		# that check started fresh processes: no dead copier's temps remain
		same "" "$(leftovers)"
	done
	echo "runs $run, killed $kills, finished $done_, metacopies seen $METACOPIES"
	((METACOPIES > 0))
	((kills >= KILLS))
	same "$SUM" "$(sha256sum <"$LOWER/big")"
	run in_union true
	[ "$status" -eq 0 ]
	same "" "$(leftovers)"
}
