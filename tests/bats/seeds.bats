#!/usr/bin/env bats
# Promise (README "Performance", issue 10): a walker that lists a dir and
# then stats each entry pays, per entry, the one stat of the layer that
# holds it: the merged listing left a seed per name in the lookup cache
# (lcache.h: the first layer that has it), so the layers above are not
# asked again. A seed is never stale: a change made by another process of
# the union after the listing (create, unlink, rename, mkdir, copy-up) is
# seen by the walker's next stat, and names whited out or below an opaque
# dir stay hidden. Shim, and kernel overlayfs as the oracle.

bats_require_minimum_version 1.5.0

load ../lib/common
load ../lib/oracle
load ../lib/asker

N=20

setup() {
	make_layers
	# c: merged from all three layers; c2: from the two lowers only
	mkdir -p "$UPPER/c" "$LOWER/c" "$LOWER2/c" "$LOWER/c2" "$LOWER2/c2"
	for i in $(seq 1 $N); do
		echo "u $i" >"$UPPER/c/u$i"
		echo "l $i" >"$LOWER/c/l$i"
		echo "g $i" >"$LOWER2/c/g$i"
		echo "l $i" >"$LOWER/c2/l$i"
		echo "g $i" >"$LOWER2/c2/g$i"
	done
	# m: the dir another process changes while the walker walks it
	mkdir -p "$UPPER/m/op" "$LOWER/m/op" "$LOWER/m/od" "$LOWER2/m/od"
	echo up >"$UPPER/m/u1"
	echo lower >"$LOWER/m/l1"
	echo lower2-hidden >"$LOWER2/m/l1"
	echo l2 >"$LOWER/m/l2"
	echo w >"$LOWER/m/w1"
	mknod "$UPPER/m/w1" c 0 0
	echo g1 >"$LOWER2/m/g1"
	echo g2 >"$LOWER2/m/g2"
	echo g3 >"$LOWER2/m/g3"
	echo x >"$LOWER/m/od/x"
	echo y >"$LOWER2/m/od/y"
	echo vis >"$UPPER/m/op/vis"
	echo hid >"$LOWER/m/op/hid"
	setfattr -n trusted.overlay.opaque -v y "$UPPER/m/op"
}

teardown() {
	asker_kill
	unmount_union
}

need_strace() {
	command -v strace >/dev/null || skip "no strace"
}

@test "a walk of a merged dir and of a lower-only dir: one stat per entry" {
	need_strace
	for cmd in "find $TARGET/c $TARGET/c2 -printf %p_%s\n" \
		"du -a $TARGET/c $TARGET/c2" "ls -l $TARGET/c $TARGET/c2"; do
		# shellcheck disable=SC2086
		in_union strace -f -qq -o "$ROOT/trace" \
			-e trace=stat,lstat,newfstatat,statx $cmd >/dev/null
		# the calls for an entry: its stats and its whiteout checks
		# (by whole path, or by name relative to a dir fd)
		n=$(grep -cE '"'"$ROOT"'/(lower|lower2|upper)/c2?/(\.wh\.)?[ulg][0-9]+"|\([0-9]+, "(\.wh\.)?[ulg][0-9]+"' \
			"$ROOT/trace" || true)
		echo "$cmd: $n stat calls for $((5 * N)) names"
		[ "$n" -eq $((5 * N)) ]
	done
}

# Process A (one python, one lookup cache): "l REL" lists a dir (its
# names, sorted), "s REL" lstats a name (type and size, or none), "r REL"
# reads a file's first line; one answer line each, until "q".
start_a() {
	asker_fifos
	"${RUN[@]}" python3 -c '
import os, stat, sys
cmd, res = open(sys.argv[1]), open(sys.argv[2], "w")
for line in cmd:
    op, _, p = line.strip().partition(" ")
    if op == "q":
        break
    try:
        if op == "l":
            a = " ".join(sorted(os.listdir(p)))
        elif op == "s":
            s = os.lstat(p)
            a = "%s %d" % ("dir" if stat.S_ISDIR(s.st_mode) else "file",
                           0 if stat.S_ISDIR(s.st_mode) else s.st_size)
        else:
            a = open(p).readline().strip()
    except OSError as e:
        a = "none"
    res.write("%s %s: %s\n" % (op, os.path.relpath(p, sys.argv[3]), a))
    res.flush()
' "$ROOT/cmd" "$ROOT/res" "$U" &
	asker_started
}

ask() {
	local q ans
	for q in "$@"; do
		echo "${q%% *} $U/${q#* }" >&5
		read -t 30 -r ans <&6 || ans="no answer"
		echo "$ans"
	done
}


seeds_scenario() {
	use_union "$1"
	start_a
	local got
	got=$(
		ask "l m" "s m/l1" "r m/l1" "s m/w1" "l m/op" "s m/op/hid" \
			"s m/op/vis" "l m/od" "s m/od/x" "s m/od/y"
		ask "l m"
		b 'echo more >>"$1/m/g1"'
		ask "s m/g1" "r m/g1"
		ask "l m"
		b 'rm "$1/m/g2"'
		ask "s m/g2"
		ask "l m"
		b 'mv "$1/m/g3" "$1/m/g3b"'
		ask "s m/g3" "s m/g3b"
		ask "l m"
		b 'echo new >"$1/m/new"; mkdir "$1/m/nd"'
		ask "s m/new" "s m/nd"
		ask "l m"
		b 'rm "$1/m/l2"; echo again-longer >"$1/m/l2"'
		ask "s m/l2" "r m/l2"
		ask "l m"
		b 'echo w-back >"$1/m/w1"; rm "$1/m/l1"'
		ask "s m/w1" "r m/w1" "s m/l1" "l m"
	)
	asker_stop
	expect "a walker's stat after its listing is fresh ($1)" \
		"l m: g1 g2 g3 l1 l2 od op u1
s m/l1: file 6
r m/l1: lower
s m/w1: none
l m/op: vis
s m/op/hid: none
s m/op/vis: file 4
l m/od: x y
s m/od/x: file 2
s m/od/y: file 2
l m: g1 g2 g3 l1 l2 od op u1
s m/g1: file 8
r m/g1: g1
l m: g1 g2 g3 l1 l2 od op u1
s m/g2: none
l m: g1 g3 l1 l2 od op u1
s m/g3: none
s m/g3b: file 3
l m: g1 g3b l1 l2 od op u1
s m/new: file 4
s m/nd: dir 0
l m: g1 g3b l1 l2 nd new od op u1
s m/l2: file 13
r m/l2: again-longer
l m: g1 g3b l1 l2 nd new od op u1
s m/w1: file 7
r m/w1: w-back
s m/l1: none
l m: g1 g3b l2 nd new od op u1 w1" "$got"
}

@test "seeds are never stale: another process's changes after a listing are seen (shim)" {
	seeds_scenario shim
	verdict
}

@test "seeds are never stale: another process's changes after a listing are seen (overlayfs oracle)" {
	seeds_scenario overlayfs
	verdict
}
