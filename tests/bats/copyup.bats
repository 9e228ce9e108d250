#!/usr/bin/env bats
# Promise (semantics.md "Copy-up", "No needless copy-up", "Lower layers
# stay untouched"): each copy-up trigger brings a lower object into the
# upper dir, faithfully (data with its holes, mode, owner, atime/mtime,
# user.* xattrs; never security.capability), with its parent dirs and their
# metadata; read-only access (cat, stat, ls, O_RDONLY, any mmap of a
# read-only fd) copies nothing; no lower dir ever changes.

bats_require_minimum_version 1.5.0

load ../lib/common
load ../lib/itest
load ../lib/copyup

T_A=2001-02-03T04:05:06.123456789Z # the lower objects' mtime
T_AT=2035-06-07T08:09:10.5Z        # the lower file's atime: in the future,
                                   # so no read (relatime) ever moves it

# lower: a/ (0750) and a/b/ (0705, owned 1234:2345) exist only below, with
# fixed mtimes; a/b/f is 0640, owned 1234:2345, user.color=blue, fixed
# atime and mtime; lower2 adds a/b/deep only, so a/ and a/b/ are merged.
setup() {
	make_layers
	mkdir -p "$LOWER/a/b" "$LOWER2/a/b"
	for i in $(seq 1 200); do echo "lower line $i"; done >"$LOWER/a/b/f"
	echo deep >"$LOWER2/a/b/deep"
	chown 1234:2345 "$LOWER/a/b/f" "$LOWER/a/b"
	chmod 640 "$LOWER/a/b/f"
	setfattr -n user.color -v blue "$LOWER/a/b/f"
	touch -m -d "$T_A" "$LOWER/a/b/f"
	touch -a -d "$T_AT" "$LOWER/a/b/f"
	chmod 750 "$LOWER/a"
	chmod 705 "$LOWER/a/b"
	touch -d "$T_A" "$LOWER/a/b" "$LOWER/a"
	T=$TARGET
	F_META=$(meta "$LOWER/a/b/f")
	F_TIMES=$(times "$LOWER/a/b/f")
	F_SUM=$(sha256sum <"$LOWER/a/b/f")
	LOWER_BEFORE=$(lower_state)
}

# CMD... must succeed in the union with an upper.
ok() {
	run --separate-stderr in_union "$@"
	if [ "$status" -ne 0 ]; then
		echo "$*: status $status, output: $output, stderr: $stderr"
		return 1
	fi
}

# The parent dirs of a/b/NAME in the upper have the lower's mode, owner and
# mtime; with "created", a/b/ itself got a new name so only its mode and
# owner must match.
parents_kept() {
	local how=${1:-copied}
	same "$(meta "$LOWER/a")" "$(meta "$UPPER/a")"
	if [ "$how" = created ]; then
		same "$(stat -c '%a %u:%g' "$LOWER/a/b")" "$(stat -c '%a %u:%g' "$UPPER/a/b")"
	else
		same "$(meta "$LOWER/a/b")" "$(meta "$UPPER/a/b")"
	fi
}

# upper/a/b/NAME holds the lower file's data.
data_kept() {
	same "$F_SUM" "$(sha256sum <"$UPPER/a/b/${1:-f}")"
	same "$F_SUM" "$(in_union cat "$T/a/b/${1:-f}" | sha256sum)"
}

# upper/a/b/NAME has the lower file's mode, owner, mtime and xattrs.
meta_kept() {
	same "$F_META" "$(meta "$UPPER/a/b/${1:-f}")"
	same "user.color=\"blue\"" "$(user_xattrs "$UPPER/a/b/${1:-f}")"
}

no_leftovers() {
	same "" "$(cd "$WORK" && find . -mindepth 1 -name '#us.*')"
}

# ---- faithful copies ----

@test "a sparse lower file keeps its holes and its data after copy-up" {
	local s=$LOWER/sparse
	truncate -s 64M "$s"
	local off
	for off in 0 1234 10000 16383; do # 4 KiB blocks: start, middle, end
		head -c 4096 /dev/urandom | dd of="$s" bs=4096 seek="$off" conv=notrunc status=none
	done
	local sum lb
	sum=$(sha256sum <"$s")
	lb=$(stat -c %b "$s")
	LOWER_BEFORE=$(lower_state)
	# a write open copies the data (chmod would copy the metadata only:
	# metacopy.bats)
	ok sh -c ': >>"$1"' _ "$T/sparse"
	[ -f "$UPPER/sparse" ]
	same "$sum" "$(sha256sum <"$UPPER/sparse")"
	same "$sum" "$(in_union cat "$T/sparse" | sha256sum)"
	same 67108864 "$(stat -c %s "$UPPER/sparse")"
	local ub
	ub=$(stat -c %b "$UPPER/sparse")
	echo "allocated 512-byte blocks: lower $lb, upper $ub"
	[ "$ub" -le $((lb + 64)) ]
	lower_unchanged
}

@test "mode, owner, atime, mtime and user xattrs are kept; the parents' too" {
	ok chmod 604 "$T/a/b/f" # a trigger that changes none of them but the mode
	same "regular file 604 1234:2345 $(stat -c %y "$LOWER/a/b/f")" "$(meta "$UPPER/a/b/f")"
	same "$F_TIMES" "$(times "$UPPER/a/b/f")"
	same "user.color=\"blue\"" "$(user_xattrs "$UPPER/a/b/f")"
	data_kept
	parents_kept
	lower_unchanged
}

@test "security.capability is not carried over; other xattrs are" {
	local c=$LOWER/capfile
	echo cap >"$c"
	chmod 755 "$c"
	if command -v setcap >/dev/null; then
		setcap cap_net_bind_service+ep "$c"
	else
		setfattr -n security.capability -v 0sAQAAAgAgAAAAAAAAAAAAAAAAAAA= "$c"
	fi
	setfattr -n user.keep -v yes "$c"
	getfattr -n security.capability "$c" >/dev/null # the lower has it
	LOWER_BEFORE=$(lower_state)
	ok touch -d @1000000000 "$T/capfile"
	[ -f "$UPPER/capfile" ]
	run getfattr -h -d -m - --absolute-names "$UPPER/capfile"
	echo "$output"
	[[ "$output" != *security.capability* ]]
	[[ "$output" == *'user.keep="yes"'* ]]
	getfattr -n security.capability "$c" >/dev/null # the lower still has it
	lower_unchanged
}

@test "symlinks, fifos and empty files copy up as what they are" {
	ln -s a/b/f "$LOWER/sym"
	mkfifo -m 620 "$LOWER/fifo"
	: >"$LOWER/empty"
	chown -h 1234:2345 "$LOWER/sym"
	touch -h -d "$T_A" "$LOWER/sym" "$LOWER/fifo" "$LOWER/empty"
	LOWER_BEFORE=$(lower_state)
	ok chown -h 1:1 "$T/sym"
	ok chmod 600 "$T/fifo"
	ok chmod 600 "$T/empty"
	same "symbolic link 777 1:1 $(stat -c %y "$LOWER/sym")" "$(meta "$UPPER/sym")"
	same a/b/f "$(readlink "$UPPER/sym")"
	same "fifo 600 0:0 $(stat -c %y "$LOWER/fifo")" "$(meta "$UPPER/fifo")"
	same "regular empty file 600 0:0 $(stat -c %y "$LOWER/empty")" "$(meta "$UPPER/empty")"
	lower_unchanged
}

# ---- nothing is copied up by reading ----

@test "read-only access copies nothing up" {
	ok cat "$T/a/b/f"
	ok head -c 10 "$T/a/b/f"
	ok stat "$T/a/b/f" "$T/a/b" "$T/a"
	ok ls -laR "$T"
	ok find "$T" -type f
	ok sha256sum "$T/a/b/f" "$T/a/b/deep"
	ok getfattr -d "$T/a/b/f"
	ok env test -r "$T/a/b/f" -a -w "$T/a/b/f" # access(W_OK) answers, copies nothing
	ok cp "$T/a/b/f" "$BATS_TEST_TMPDIR/out"
	ok "$(probe copyup_open)" "$T/a/b/f" rdonly
	ok bash -c 'exec 3<"$1"; read -r line <&3; [ "$line" = "lower line 1" ]' _ "$T/a/b/f"
	ok "$(probe copyup_mmap)" "$T/a/b/f"
	same ok "$output"
	same "" "$(upper_names)"
	no_leftovers
	lower_unchanged
}

# ---- each trigger copies up ----

@test "open O_WRONLY copies up the whole file and its parents" {
	ok "$(probe copyup_open)" "$T/a/b/f" wronly
	data_kept
	meta_kept
	parents_kept
	lower_unchanged
}

@test "open O_RDWR copies up" {
	ok "$(probe copyup_open)" "$T/a/b/f" rdwr
	data_kept
	meta_kept
	parents_kept
	lower_unchanged
}

@test "open O_RDWR and a write in the middle: the rest of the data is kept" {
	ok "$(probe copyup_open)" "$T/a/b/f" rdwr XXXX
	same "$(printf 'XXXX'; tail -c +5 "$LOWER/a/b/f")" "$(cat "$UPPER/a/b/f")"
	same "$(cat "$UPPER/a/b/f")" "$(in_union cat "$T/a/b/f")"
	parents_kept
	lower_unchanged
}

@test "open O_TRUNC (O_RDONLY|O_TRUNC and O_WRONLY|O_TRUNC) copies up an empty file with the metadata" {
	ok "$(probe copyup_open)" "$T/a/b/f" rdonly,trunc
	same 0 "$(stat -c %s "$UPPER/a/b/f")"
	same "640 1234:2345" "$(stat -c '%a %u:%g' "$UPPER/a/b/f")"
	same "user.color=\"blue\"" "$(user_xattrs "$UPPER/a/b/f")"
	cp -a "$LOWER/a/b/f" "$LOWER/a/b/g"
	LOWER_BEFORE=$(lower_state)
	ok bash -c 'echo new > "$1"' _ "$T/a/b/g" # O_WRONLY|O_CREAT|O_TRUNC
	same new "$(cat "$UPPER/a/b/g")"
	same "640 1234:2345" "$(stat -c '%a %u:%g' "$UPPER/a/b/g")"
	same new "$(in_union cat "$T/a/b/g")"
	lower_unchanged
}

@test "open O_APPEND copies up and appends after the lower data" {
	ok "$(probe copyup_open)" "$T/a/b/f" wronly,append "appended"
	same "$({ cat "$LOWER/a/b/f"; printf appended; } | sha256sum)" "$(sha256sum <"$UPPER/a/b/f")"
	ok bash -c 'echo shell >> "$1"' _ "$T/a/b/f"
	same "$({ cat "$LOWER/a/b/f"; echo appendedshell; } | sha256sum)" "$(in_union cat "$T/a/b/f" | sha256sum)"
	parents_kept
	lower_unchanged
}

@test "truncate copies up and cuts the copy" {
	ok truncate -s 13 "$T/a/b/f"
	same "$(head -c 13 "$LOWER/a/b/f")" "$(cat "$UPPER/a/b/f")"
	same "640 1234:2345" "$(stat -c '%a %u:%g' "$UPPER/a/b/f")"
	ok truncate -s 100000 "$T/a/b/deep" # grows a lower2 file
	same 100000 "$(stat -c %s "$UPPER/a/b/deep")"
	same deep "$(head -n 1 "$UPPER/a/b/deep")"
	lower_unchanged
}

@test "chmod copies up" {
	ok chmod 600 "$T/a/b/f"
	same "regular file 600 1234:2345 $(stat -c %y "$LOWER/a/b/f")" "$(meta "$UPPER/a/b/f")"
	data_kept
	parents_kept
	lower_unchanged
}

@test "chmod of a dir that exists only below copies up the dir, not its files" {
	ok chmod 711 "$T/a/b"
	same 711 "$(stat -c %a "$UPPER/a/b")"
	same "$(meta "$LOWER/a")" "$(meta "$UPPER/a")"
	[ ! -e "$UPPER/a/b/f" ]
	same "$F_SUM" "$(in_union cat "$T/a/b/f" | sha256sum)"
	lower_unchanged
}

@test "chown copies up" {
	ok chown 4321:4322 "$T/a/b/f"
	same "regular file 640 4321:4322 $(stat -c %y "$LOWER/a/b/f")" "$(meta "$UPPER/a/b/f")"
	data_kept
	parents_kept
	lower_unchanged
}

@test "touch -d and touch (utimes, utimensat) copy up" {
	ok touch -d @1000000000 "$T/a/b/f"
	same "regular file 640 1234:2345 $(date -d @1000000000 '+%Y-%m-%d %H:%M:%S.000000000 %z')" \
		"$(meta "$UPPER/a/b/f")"
	data_kept
	ok touch "$T/a/b/deep"
	[ -f "$UPPER/a/b/deep" ]
	[ "$(stat -c %Y "$UPPER/a/b/deep")" -ge "$(($(date +%s) - 60))" ]
	parents_kept
	lower_unchanged
}

@test "setfattr and setfattr -x copy up" {
	ok setfattr -n user.new -v 1 "$T/a/b/f"
	same "user.color=\"blue\"
user.new=\"1\"" "$(user_xattrs "$UPPER/a/b/f")"
	data_kept
	ok setfattr -x user.color "$T/a/b/f"
	same "user.new=\"1\"" "$(user_xattrs "$UPPER/a/b/f")"
	cp -a "$LOWER/a/b/f" "$LOWER/a/b/g"
	touch -d "$T_A" "$LOWER/a/b" # as it was when a/b was copied up
	LOWER_BEFORE=$(lower_state)
	ok setfattr -x user.color "$T/a/b/g" # removexattr alone copies up
	same "" "$(user_xattrs "$UPPER/a/b/g")"
	same "$F_SUM" "$(sha256sum <"$UPPER/a/b/g")"
	parents_kept
	lower_unchanged
}

@test "overlayfs's own xattrs (trusted.overlay.*, user.overlay.*) are the union's: a program cannot set them (an opaque mark would hide the lowers), nothing copied up, none shown" {
	mkdir -p "$UPPER/u"
	echo u >"$LOWER2/a/b/u2"
	setfattr -n trusted.overlay.opaque -v n "$UPPER/u" # an upper overlayfs wrote
	setfattr -n user.kept -v 1 "$UPPER/u"
	LOWER_BEFORE=$(lower_state)
	local name out
	for name in trusted.overlay.opaque user.overlay.opaque user.overlay.redirect; do
		run in_union setfattr -n "$name" -v y "$T/a/b"
		[ "$status" -ne 0 ]
		[[ "$output" == *"Operation not supported"* ]]
		run in_union setfattr -x "$name" "$T/u"
		[ "$status" -ne 0 ]
	done
	[ ! -e "$UPPER/a" ] # nothing copied up
	# the dir still shows what both lowers hold
	same "deep
f
u2" "$(in_union ls "$T/a/b")"
	# getfattr does not show overlayfs's names, only the program's
	out=$(in_union getfattr -d -m - "$T/u" 2>&1)
	[[ "$out" == *'user.kept="1"'* && "$out" != *overlay* ]]
	run in_union getfattr -n trusted.overlay.opaque "$T/u"
	[ "$status" -ne 0 ]
	lower_unchanged
}

@test "link copies up its source; both names are one file in the upper" {
	ok ln "$T/a/b/f" "$T/a/b/g"
	data_kept f
	data_kept g
	meta_kept f
	same "$(stat -c '%i %h' "$UPPER/a/b/f")" "$(stat -c '%i %h' "$UPPER/a/b/g")"
	same 2 "$(stat -c %h "$UPPER/a/b/f")"
	[ ! -e "$LOWER/a/b/g" ]
	parents_kept created
	lower_unchanged
}

@test "rename copies up its source and whites out the old name" {
	ok mv "$T/a/b/f" "$T/a/b/g"
	data_kept g
	meta_kept g
	[ ! -e "$UPPER/a/b/f" ]
	[ -f "$UPPER/a/b/.wh.f" ]
	run in_union ls -a "$T/a/b"
	same ". .. deep g" "$(echo $output)"
	run in_union stat "$T/a/b/f"
	[ "$status" -ne 0 ]
	parents_kept created
	lower_unchanged
}

@test "creating a name in a dir that exists only below copies up the parents with their metadata" {
	ok touch "$T/a/b/new"
	[ -f "$UPPER/a/b/new" ]
	[ ! -e "$UPPER/a/b/f" ] # the siblings stay below
	ok mkdir "$T/a/b/newdir"
	[ -d "$UPPER/a/b/newdir" ]
	run in_union ls "$T/a/b"
	same "deep f new newdir" "$(echo $output)"
	parents_kept created
	lower_unchanged
}

@test "removing a name in a dir that exists only below copies up the parents and leaves a whiteout" {
	ok rm "$T/a/b/f"
	[ -f "$UPPER/a/b/.wh.f" ]
	same 0 "$(stat -c %s "$UPPER/a/b/.wh.f")"
	run in_union ls -a "$T/a/b"
	same ". .. deep" "$(echo $output)"
	parents_kept created
	lower_unchanged
}

@test "a second write after copy-up changes the same copy, not the lower" {
	ok chmod 600 "$T/a/b/f"
	local ino
	ino=$(stat -c %i "$UPPER/a/b/f")
	ok "$(probe copyup_open)" "$T/a/b/f" wronly,append "more"
	same "$ino" "$(stat -c %i "$UPPER/a/b/f")"
	same "$({ cat "$LOWER/a/b/f"; printf more; } | sha256sum)" "$(sha256sum <"$UPPER/a/b/f")"
	no_leftovers
	lower_unchanged
}
