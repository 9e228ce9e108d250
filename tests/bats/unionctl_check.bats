#!/usr/bin/env bats
# Promise (issue 11): `unionctl check` finds what interrupted or stale
# work leaves in an upper and work dir, one line each, exit 1; `--repair`
# removes what is private to the shim and unused (the work dir only) and
# says so; a union after an ordinary job is clean (exit 0, no line). Each
# failure mode is made for real: a copy-up killed mid-way, records whose
# objects went, the lower changed under a whiteout, names written into the
# upper by hand, layers written by kernel overlayfs.

bats_require_minimum_version 1.5.0

load ../lib/common
load ../lib/itest
load ../lib/oracle

setup() {
	make_layers
	UNIONCTL=$UNIONSHIM_BUILD/unionctl
	CHECK=("$UNIONCTL" check --upper "$UPPER" --work "$WORK" --lower "$LOWER")
}

teardown() {
	unmount_union
	[ -z "${BG:-}" ] || kill "$BG" 2>/dev/null || true
}

fill_lower() {
	mkdir -p "$LOWER/dir/sub" "$LOWER/gone" "$LOWER/opq/inner"
	echo f >"$LOWER/f"
	echo ro >"$LOWER/ro"
	echo g >"$LOWER/gone/g"
	echo i >"$LOWER/opq/inner/i"
	echo kf >"$LOWER/kind_f"
	echo hl >"$LOWER/h1"
	ln "$LOWER/h1" "$LOWER/h2"
	ln "$LOWER/h1" "$LOWER/dir/h3"
	ln -s f "$LOWER/sym"
	echo p >"$LOWER/p1"
	ln "$LOWER/p1" "$LOWER/p2"
	echo q >"$LOWER/q1"
	ln "$LOWER/q1" "$LOWER/q2"
}

# An ordinary job: writes, removals, an opaque dir, a dir over a file,
# hard links written and removed, a symlink's owner, locks.
ordinary_job() {
	in_union bash -c '
		set -e
		cd "$1"
		echo more >>f
		rm -r gone
		rm -r opq && mkdir opq && echo n >opq/n
		rm kind_f && mkdir kind_f
		echo w >>h1
		rm h2
		rm p1              # an index entry only p2 (below) uses
		rm q1 q2           # every name gone: its entry goes too
		chown -h 7:7 sym
		echo new >new
		flock f -c true
		flock new -c true
		flock ro -c true   # a proxy of an object only below
		ln -s new newsym && rm newsym
	' _ "$TARGET"
}

@test "an ordinary job leaves a clean upper and work dir" {
	fill_lower
	ordinary_job
	ls -la "$WORK" "$WORK"/*/ >&2
	run "${CHECK[@]}"
	echo "$output"
	[ "$status" -eq 0 ]
	[ -z "$(grep -v '^unionctl check: 0 problems' <<<"$output")" ]
}

# Kill copy-ups of a big file until one leaves its temp in the work dir.
# repairs_one PROBLEM HOW: check reports PROBLEM (and fails), --repair
# says it did HOW, and check then finds nothing.
repairs_one() {
	run "${CHECK[@]}"
	echo "$output"
	[ "$status" -eq 1 ]
	grep -qxF "problem: $1" <<<"$output"
	run "${CHECK[@]}" --repair
	echo "$output"
	[ "$status" -eq 0 ]
	grep -qxF "repaired: $1 ($2)" <<<"$output"
	run "${CHECK[@]}"
	[ "$status" -eq 0 ]
}

killed_copyup() {
	head -c 64M /dev/urandom >"$LOWER/big"
	local spec tries=0 pid
	spec=$(mounts_spec)
	while ! compgen -G "$WORK/#us.*" >/dev/null; do
		((tries++ < 50)) || return 1
		rm -f "$UPPER/big"
		# a data copy-up (a chmod copies the metadata only: too quick)
		LD_PRELOAD=$SHIM_LIB UNIONSHIM_MOUNTS="$spec" "$(probe copyup_open)" "$TARGET/big" rdwr &
		pid=$!
		# kill it as soon as its temp shows
		for _ in $(seq 2000); do
			compgen -G "$WORK/#us.*" >/dev/null && break
		done
		kill -KILL "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
	echo "temp left after $tries copy-ups: $(ls "$WORK")" >&2
}

@test "a copy-up killed mid-way: its temp is found, --repair removes it, the union is whole" {
	killed_copyup
	local temp
	temp=$(compgen -G "$WORK/#us.*")
	repairs_one "$temp: temp of an interrupted copy-up (its process is gone)" removed
	[ ! -e "$temp" ]
	cmp <(in_union cat "$TARGET/big") "$LOWER/big"
}

@test "an index entry no name uses, a count of a gone entry, an origin record and a lock proxy of removed objects (a note)" {
	fill_lower
	in_union bash -c '
		set -e
		cd "$1"
		echo w >>h1        # indexed: h1, h2, dir/h3 are one copy
		rm h2 dir/h3       # the lower names gone: h1 alone uses it
		chown -h 7:7 sym   # a symlink copy-up: its origin record
		echo n >locked && flock locked -c true  # a lock proxy
	' _ "$TARGET"
	local entry record proxy ino
	entry=$(ls -d "$WORK"/#index/1-* | grep -v gone)
	ino=$(stat -c %i "$UPPER/sym")
	record=$WORK/#origin/$ino
	proxy=$(ls -d "$WORK"/#locks/*)
	[ -L "$record" ] && [ -f "$proxy" ]
	# the objects go by routes that leave the records: by hand in the upper
	# (the entry, once no name uses it: h1 removed there)
	rm "$UPPER/sym" "$UPPER/locked" "$UPPER/h1"
	cp -P "$entry.gone" "$WORK/#index/1-999999999.gone"
	run "${CHECK[@]}"
	echo "$output"
	[ "$status" -eq 1 ]
	grep -qxF "problem: $entry: link-index entry no name uses any more" <<<"$output"
	grep -qxF "problem: $WORK/#index/1-999999999.gone: link-index count of an entry that is gone" <<<"$output"
	grep -qxF "problem: $record: origin record of an object no longer in the upper" <<<"$output"
	# a note (harmless), which --repair removes too
	grep -qxF "info: $proxy: lock proxy of an object no layer has" <<<"$output"
	[ "$(grep -c '^problem:' <<<"$output")" -eq 3 ]
	local view
	view=$(in_union bash -c 'cd "$1" && find . | LC_ALL=C sort && cat f' _ "$TARGET")
	run "${CHECK[@]}" --repair
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(grep -c '^repaired:.*(removed)$' <<<"$output")" -eq 4 ]
	[ ! -e "$entry" ] && [ ! -e "$entry.gone" ] && [ ! -L "$record" ] && [ ! -e "$proxy" ]
	run "${CHECK[@]}"
	[ "$status" -eq 0 ]
	same "$view" "$(in_union bash -c 'cd "$1" && find . | LC_ALL=C sort && cat f' _ "$TARGET")"
}

@test "whiteouts and opaque dirs that hide nothing, .wh. names where they do not belong: reported, never changed" {
	fill_lower
	in_union bash -c 'cd "$1" && rm f && rm -r opq && mkdir opq' _ "$TARGET"
	run "${CHECK[@]}"
	[ "$status" -eq 0 ]
	# the lower changes under them
	rm "$LOWER/f"
	rm -r "$LOWER/opq"
	mkdir "$UPPER/dir" "$UPPER/.wh.x"
	: >"$UPPER/.wh..wh.plnk"
	echo y >"$UPPER/y" && : >"$UPPER/.wh.y"
	echo data >"$UPPER/dir/.wh.sub"
	local before
	before=$(snapshot "$UPPER")
	run "${CHECK[@]}" --repair
	echo "$output"
	[ "$status" -eq 1 ]
	grep -qxF "problem: $UPPER/.wh.f: whiteout that hides nothing in the lowers given" <<<"$output"
	grep -qxF "problem: $UPPER/opq: opaque dir that hides nothing in the lowers given" <<<"$output"
	grep -qxF "problem: $UPPER/.wh.x: whiteout that is not an empty file (read as a whiteout all the same)" <<<"$output"
	grep -qxF "problem: $UPPER/.wh..wh.plnk: unknown .wh..wh. name (reserved by OCI; never shown)" <<<"$output"
	grep -qxF "problem: $UPPER/.wh.y: whiteout beside the name it hides (the name wins: stale)" <<<"$output"
	grep -qxF "problem: $UPPER/dir/.wh.sub: whiteout that is not an empty file (read as a whiteout all the same)" <<<"$output"
	[ "$(grep -c '^problem:' <<<"$output")" -eq 7 ] # .wh.x hides nothing too
	! grep -q '^repaired:' <<<"$output" || false
	same "$before" "$(snapshot "$UPPER")"
	# without lowers, nothing can be said of what they hide
	run "$UNIONCTL" check --upper "$UPPER" --work "$WORK"
	[ "$(grep -c '^problem:' <<<"$output")" -eq 4 ]
}

@test "layers written by kernel overlayfs: char 0/0 whiteouts and its work dir are notes, not problems" {
	fill_lower
	use_union overlayfs
	rm "$TARGET/f"
	rm -r "$TARGET/opq"
	mkdir "$TARGET/opq"
	echo w >>"$TARGET/h1"
	run "${CHECK[@]}" # its layers change under a reader while mounted
	[ "$status" -eq 2 ]
	[[ $output == "unionctl check: the upper is mounted by kernel overlayfs at $TARGET"* ]]
	unmount_union
	[ -c "$UPPER/f" ]
	run "${CHECK[@]}"
	echo "$output"
	[ "$status" -eq 0 ]
	grep -qxF "info: $UPPER/f: whiteout in overlayfs's form (char device 0/0), read as one" <<<"$output"
	grep -qxF "info: $WORK/work: kernel overlayfs's (left alone)" <<<"$output"
	! grep -q '^problem:' <<<"$output" || false
	# the shim's own long-name whiteouts are no note
	local long
	long=$(printf 'L%.0s' {1..253})
	echo l >"$LOWER/$long"
	rm -rf "$UPPER" "$WORK" && mkdir "$UPPER" "$WORK"
	in_union rm "$TARGET/$long"
	[ -c "$UPPER/$long" ]
	run "${CHECK[@]}"
	[ "$status" -eq 0 ]
	! grep -q '^info:' <<<"$output" || false
}

@test "a commit killed mid-way: its journal is a problem --repair leaves to commit, which finishes it" {
	local i pid tries=0
	for i in $(seq 400); do echo "file $i" >"$LOWER/f$i"; done
	in_union bash -c 'cd "$1" && for i in $(seq 400); do echo "new $i" >"f$i"; done' _ "$TARGET"
	while [ ! -d "$WORK/#commit" ]; do
		((tries++ < 20)) || false
		"$UNIONCTL" commit --lower "$LOWER" --upper "$UPPER" --work "$WORK" &
		pid=$!
		for _ in $(seq 2000); do [ -e "$WORK/#commit/plan" ] && break; done
		kill -KILL "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
	run "${CHECK[@]}" --repair
	echo "$output"
	[ "$status" -eq 1 ]
	grep -qxF "problem: $WORK/#commit: journal of an interrupted commit: run unionctl commit again to finish it" <<<"$output"
	[ -d "$WORK/#commit" ]
	"$UNIONCTL" commit --lower "$LOWER" --upper "$UPPER" --work "$WORK"
	[ "$(cat "$LOWER/f400")" = "new 400" ]
	run "${CHECK[@]}"
	[ "$status" -eq 0 ]
}

@test "refused while a commit holds the work dir" {
	local fd
	exec {fd}<"$WORK"
	flock -x "$fd" # the lock unionctl commit holds while it runs
	run "${CHECK[@]}"
	exec {fd}<&-
	[ "$status" -eq 2 ]
	[[ $output == "unionctl check: a commit is running in the work dir $WORK" ]]
	run "${CHECK[@]}"
	[ "$status" -eq 0 ]
}

@test "refused while a union process uses the work dir; usage errors exit 2" {
	local spec
	spec=$(mounts_spec)
	(LD_PRELOAD=$SHIM_LIB UNIONSHIM_MOUNTS=$spec exec sleep 30) &
	BG=$!
	local i
	for i in $(seq 100); do grep -q '#state' "/proc/$BG/maps" 2>/dev/null && break; sleep 0.05; done
	run "${CHECK[@]}" --repair
	[ "$status" -eq 2 ]
	[[ $output == "unionctl check: the work dir is in use by process $BG"* ]]
	kill "$BG"
	wait "$BG" || true
	BG=
	run "${CHECK[@]}"
	[ "$status" -eq 0 ]
	run "$UNIONCTL" check --upper "$UPPER"
	[ "$status" -eq 2 ]
	[[ $output == *"--work DIR is required"* ]]
	run "$UNIONCTL" check --upper "$UPPER" --work "$WORK" --bogus
	[ "$status" -eq 2 ]
}

@test "redirect records of renamed dirs: valid ones pass, bad ones are reported (and left)" {
	fill_lower
	in_union sh -c 'cd "$1" && mv dir dir2 && mv opq/inner inner2' _ "$TARGET"
	run "${CHECK[@]}"
	echo "$output"
	[ "$status" -eq 0 ]
	setfattr -h -n user.unionshim.redirect -v /nowhere "$UPPER/dir2"
	setfattr -h -n user.unionshim.redirect -v ../opq "$UPPER/inner2"
	run "${CHECK[@]}" --repair
	echo "$output"
	[ "$status" -eq 1 ]
	[[ $output == *"problem: $UPPER/dir2: redirect record naming a dir no lower given holds"* ]]
	[[ $output == *"problem: $UPPER/inner2: redirect record that is not an absolute union path (ignored)"* ]]
	[ -n "$(getfattr -h -n user.unionshim.redirect "$UPPER/dir2" 2>/dev/null)" ]
}

@test "a redirect record is checked where the lookup reads the lowers: a stacked former upper's own records move the path" {
	mkdir -p "$LOWER/a/sub"
	echo s >"$LOWER/a/sub/s"
	# a first union renames a -> b: its upper holds b with a record
	local u1=$ROOT/u1 w1=$ROOT/w1 u2=$ROOT/u2 w2=$ROOT/w2
	mkdir -p "$u1" "$w1" "$u2" "$w2"
	LD_PRELOAD=$SHIM_LIB UNIONSHIM_MOUNTS="target=$TARGET,lowerdir=$LOWER,upperdir=$u1,workdir=$w1" \
		sh -c 'cd "$1" && mv a b' _ "$TARGET"
	# that upper stacked as a lower: b/sub (not copied up: below, at a/sub)
	# renamed to c
	LD_PRELOAD=$SHIM_LIB UNIONSHIM_MOUNTS="target=$TARGET,lowerdir=$u1:$LOWER,upperdir=$u2,workdir=$w2" \
		sh -c 'cd "$1" && mv b/sub c && cat c/s' _ "$TARGET"
	[ "$(getfattr -h --only-values -n user.unionshim.redirect "$u2/c" 2>/dev/null)" = /b/sub ]
	[ ! -e "$u1/b/sub" ]
	run "$UNIONCTL" check --upper "$u2" --work "$w2" --lower "$u1" --lower "$LOWER"
	echo "$output"
	[ "$status" -eq 0 ]
	[[ $output != *"problem: "* ]]
}

# layer_stats N NAME: stat union name NAME N times in one process; print
# how many stat calls reached a layer's copy of it
layer_stats() {
	in_union strace -f -qq -o "$ROOT/trace" -e trace=stat,lstat,newfstatat,statx \
		python3 -c '
import os, sys
for _ in range(int(sys.argv[1])):
    os.stat(sys.argv[2])
' "$1" "$TARGET/$2"
	grep -cE '"'"$ROOT"'/(lower|lower2|upper)/'"$2"'"' "$ROOT/trace" || true
}

@test "a process killed between the halves of a change's announcement: the #state word it left under way is a problem, --repair closes it and the caches answer again" {
	command -v strace >/dev/null || skip "no strace"
	mkdir -p "$LOWER/kd"
	echo x >"$LOWER/kd/x"
	in_union stat "$TARGET/kd/x" >/dev/null # makes #state
	cp "$WORK/#state" "$ROOT/state.before"
	in_union mkdir "$TARGET/kd/new" # one plain change of kd: its word moves
	# the dir words that moved (the root's, for kd's copy-up, and kd's:
	# counted by 256): make them say a change is under way, as a process
	# killed between begin and end leaves them
	python3 - "$ROOT/state.before" "$WORK/#state" <<'PY'
import struct, sys
a = open(sys.argv[1], "rb").read()
with open(sys.argv[2], "r+b") as f:
    b = f.read()
    # (the generation words end at 49,280 bytes: the dirs marked as
    # holding copies follow, kd's dir among them)
    moved = [i for i in range(0, min(len(a), len(b), 49280), 4) if a[i:i+4] != b[i:i+4]]
    dirs = [i for i in moved if struct.unpack_from("<I", b, i)[0] % 256 == 0]
    assert len(dirs) == 2, (moved, dirs)
    for i in dirs:
        w, = struct.unpack_from("<I", b, i)
        f.seek(i)
        f.write(struct.pack("<I", w + 1))
PY
	n=$(layer_stats 20 kd/x)
	# (every stat looks the name up in the layers again, then stats it)
	echo "with the word under way: $n layer stats for 20 stats"
	[ "$n" -ge 40 ]
	repairs_one "$WORK/#state: 2 words say a change is under way that no process will end (a process killed mid-change): the lookup caches skip those dirs" reset
	n=$(layer_stats 20 kd/x)
	# (one lookup, then each stat is the program's own call)
	echo "after --repair: $n layer stats for 20 stats"
	[ "$n" -le 22 ]
	[ "$(in_union cat "$TARGET/kd/x")" = x ]
}
