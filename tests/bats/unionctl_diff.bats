#!/usr/bin/env bats
# Promise (issue 11, `unionctl diff`): after a job in a union, one command
# lists what it changed: A (added), M (changed: contents, mode, owner,
# mtime, xattrs, symlink target differ from what the name hid), D
# (deleted: whiteouts, what an opaque dir hides, all below a removed dir),
# one line per name, sorted, paths relative to the union root, hostile
# names escaped; --summary counts them; --json gives exact names. The
# layers may be written by the shim or by kernel overlayfs: one scenario
# runs both ways and must give the same list. The shim's own records
# (user.unionshim.* xattrs, #index, #origin ...) and overlayfs's
# (trusted.overlay.*, work/index) never show as changes.

bats_require_minimum_version 1.5.0

load ../lib/common
load ../lib/oracle

UNIONCTL=$UNIONSHIM_BUILD/unionctl
L=$(printf 'L%.0s' {1..255})
N=$(printf 'N%.0s' {1..254})

setup() {
	make_layers
	mkdir -p "$LOWER/d" "$LOWER/e/sub" "$LOWER/o" "$LOWER/keep" "$LOWER2/o" "$LOWER2/o2"
	echo a >"$LOWER/a"
	echo b >"$LOWER/d/b"
	echo c >"$LOWER/e/sub/c"
	echo "$L" >"$LOWER/d/$L"
	echo h >"$LOWER/h1"
	ln "$LOWER/h1" "$LOWER/d/h2"
	ln "$LOWER/h1" "$LOWER/keep/h3"
	echo x >"$LOWER/o/x"
	echo x2 >"$LOWER2/o/x2"
	echo y2 >"$LOWER2/o2/y2"
	ln -s a "$LOWER/s"
	echo only2 >"$LOWER2/only2"
	echo same >"$LOWER/same"
	chmod 644 "$LOWER/same"
	echo t >"$LOWER/t"
	echo k >"$LOWER/keep/k"
}

teardown() {
	unmount_union
}

# The job: every kind of change, through the union $U.
job() {
	"${RUN[@]}" env L="$L" N="$N" bash -c '
		set -e
		cd "$1"
		echo new >n; ln n n2
		mkdir -p nd/deep; echo q >nd/deep/q
		echo more >>a
		rm -r e
		rm -r o; mkdir o; echo y >o/y
		echo hh >>h1
		chmod 600 d/b
		ln -sf b s
		rm only2
		chmod 644 same; touch -m -r same same # copied up, unchanged
		setfattr -n user.t -v 1 d
		touch -m -d @1000000000 t
		rm "d/$L"; echo long >"nd/$N"
		echo odd >"$(printf "x\ny")"; echo q >"q\"t"; echo b >"b\\s"
		echo u >"$(printf "u\xc3\xa9")"; echo bad >"$(printf "z\xff")"
		rm -r o2; echo now-a-file >o2
	' _ "$U"
}

# The list both ways must be this.
want() {
	printf '%s\n' 'M a' 'A "b\\s"' 'M d' "D d/$L" 'M d/b' 'M d/h2' \
		'D e' 'D e/sub' 'D e/sub/c' 'M h1' 'M keep/h3' 'A n' 'A n2' 'A nd' \
		"A nd/$N" 'A nd/deep' 'A nd/deep/q' 'D o/x' 'D o/x2' 'A o/y' 'M o2' \
		'D o2/y2' 'D only2' 'A "q\"t"' 'M s' 'M t' "$(printf 'A u\xc3\xa9')" \
		'A "x\ny"' "$(printf 'A z\xff')"
}

diff_layers() {
	"$UNIONCTL" diff --lower "$LOWER" --lower "$LOWER2" --upper "$UPPER" --work "$WORK" "$@"
}

check_diff() {
	local got
	[ -f "$UPPER/same" ] # a copy-up that changes nothing lists nothing
	got=$(diff_layers)
	expect "the change list of layers written by $1" "$(want)" "$got"
	got=$(diff_layers --summary)
	expect "--summary of $1" "12 added, 9 changed, 8 deleted" "$got"
	# --json: exact names, the same changes
	got=$(diff_layers --json | python3 -c '
import json, sys
d = json.load(sys.stdin)
for c in d["changes"]:
    p = bytes.fromhex(c["path_hex"]) if "path_hex" in c else c["path"].encode()
    sys.stdout.buffer.write(c["change"].encode() + b" " + p + b" " + c["type"].encode() + b" " + ",".join(c.get("what", [])).encode() + b"\0")
paths = [bytes.fromhex(c["path_hex"]) if "path_hex" in c else c["path"].encode() for c in d["changes"]]
print()
print(d["added"], d["changed"], d["deleted"], "sorted" if paths == sorted(paths) else "unsorted")' | tr '\0' '|')
	local wantjson
	wantjson=$(printf '%s|' 'M a file data,mtime' 'A b\s file ' 'M d dir xattrs' \
		"D d/$L file " 'M d/b file mode' 'M d/h2 file data,mtime' 'D e dir ' \
		'D e/sub dir ' 'D e/sub/c file ' 'M h1 file data,mtime' \
		'M keep/h3 file data,mtime' 'A n file ' 'A n2 file ' 'A nd dir ' \
		"A nd/$N file " 'A nd/deep dir ' 'A nd/deep/q file ' 'D o/x file ' \
		'D o/x2 file ' 'A o/y file ' 'M o2 file type' 'D o2/y2 file ' \
		'D only2 file ' 'A q"t file ' 'M s symlink mtime,target' \
		'M t file mtime' "$(printf 'A u\xc3\xa9 file ')" "$(printf 'A x\ny file ')" \
		"$(printf 'A z\xff file ')"; printf '\n12 9 8 sorted')
	expect "--json of $1: exact names, types, what differs" "$wantjson" "$got"
}

@test "diff of layers written by the shim" {
	use_union shim
	job
	check_diff shim
	verdict
}

@test "diff of layers written by kernel overlayfs (index=on)" {
	use_union overlayfs
	job
	unmount_union
	check_diff overlayfs
	verdict
}

@test "an upper with no change, or copy-ups that change nothing, lists nothing" {
	use_union shim
	"${RUN[@]}" sh -c 'cd "$1" && chmod 644 same && chmod 755 d && touch -c -m -r same same && echo' _ "$U"
	run diff_layers
	[ "$status" -eq 0 ]
	[ -z "$output" ]
	[ -n "$(getfattr -d -m user.unionshim -h "$UPPER/same" 2>/dev/null)" ] # a record was there
	run diff_layers --summary
	[ "$output" = "0 added, 0 changed, 0 deleted" ]
	run diff_layers --json
	[ "$output" = '{"changes": [], "added": 0, "changed": 0, "deleted": 0}' ]
}

@test "a lower hard link answered by the index shows only with --work" {
	use_union shim
	"${RUN[@]}" sh -c 'echo more >>"$1/h1"' _ "$U"
	run "$UNIONCTL" diff --lower "$LOWER" --lower "$LOWER2" --upper "$UPPER" --work "$WORK"
	[ "$output" = "$(printf 'M d/h2\nM h1\nM keep/h3')" ]
	run "$UNIONCTL" diff --lower "$LOWER" --lower "$LOWER2" --upper "$UPPER"
	[ "$output" = "M h1" ]
}

@test "bad input: one line, exit 2, nothing written" {
	local snap
	snap=$(snapshot "$ROOT")
	run -2 "$UNIONCTL" diff --lower "$LOWER" --upper "$ROOT/missing"
	[ "${#lines[@]}" -eq 1 ]
	[[ "$output" == "unionctl diff: --upper $ROOT/missing: No such file or directory" ]]
	run -2 "$UNIONCTL" diff --lower "$LOWER" --upper "$LOWER"
	[ "$output" = "unionctl diff: --upper and --lower are the same dir $LOWER" ]
	run -2 "$UNIONCTL" diff --lower "$LOWER" --upper "$LOWER/d"
	[ "$output" = "unionctl diff: --upper $LOWER/d is inside --lower $LOWER" ]
	run -2 "$UNIONCTL" diff --lower "$LOWER" --upper "$UPPER" --work "$UPPER"
	[ "$output" = "unionctl diff: --work and --upper are the same dir $UPPER" ]
	run -2 "$UNIONCTL" diff --lower "$LOWER/a" --upper "$UPPER"
	[ "$output" = "unionctl diff: --lower $LOWER/a: not a directory" ]
	run -2 "$UNIONCTL" diff --lower "$LOWER"
	[ "$output" = "unionctl diff: --upper DIR is required (see unionctl diff --help)" ]
	run -2 "$UNIONCTL" diff --upper "$UPPER" --bogus
	[ "$output" = "unionctl diff: bad option '--bogus' (see unionctl diff --help)" ]
	run -2 "$UNIONCTL" diff --upper "$UPPER" "$(printf 'x\ny')"
	[ "${#lines[@]}" -eq 1 ]
	[ "$output" = "unionctl diff: unexpected argument 'x\\ny' (see unionctl diff --help)" ]
	run -2 "$UNIONCTL" frobnicate
	[ "${#lines[@]}" -eq 1 ]
	run -2 "$UNIONCTL"
	[ "$(snapshot "$ROOT")" = "$snap" ]
}

@test "a work dir on another filesystem than the upper is refused" {
	[ -d /dev/shm ] && [ "$(stat -c %d /dev/shm)" != "$(stat -c %d "$UPPER")" ] ||
		skip "no second filesystem at /dev/shm"
	w=$(mktemp -d /dev/shm/uc-work.XXXXXX)
	run -2 "$UNIONCTL" diff --lower "$LOWER" --upper "$UPPER" --work "$w"
	rmdir "$w"
	[ "$output" = "unionctl diff: --work $w is not on the filesystem of --upper $UPPER" ]
}

@test "overlayfs redirect entries are refused, not misread" {
	setfattr -n trusted.overlay.redirect -v /elsewhere "$UPPER" 2>/dev/null ||
		skip "cannot set trusted xattrs here"
	mkdir "$UPPER/r"
	setfattr -n trusted.overlay.redirect -v /elsewhere "$UPPER/r"
	run -1 "$UNIONCTL" diff --lower "$LOWER" --upper "$UPPER"
	[[ "$output" == "unionctl diff: $UPPER/r: an overlayfs redirect or metacopy entry"*"not supported" ]]
}

@test "--help: every option, the escapes, examples" {
	run -0 "$UNIONCTL" diff --help
	for w in --lower --upper --work --summary --json Examples 'C escapes'; do
		[[ "$output" == *"$w"* ]]
	done
	run -0 "$UNIONCTL" --help
	[[ "$output" == *"diff"*"Examples"* ]]
}

@test "a dir renamed in place (redirect record): the new name added with all it shows, the old removed" {
	use_union shim
	"${RUN[@]}" sh -c 'cd "$1" && mv e e2 && mv o o3 && echo z >o3/z && mv e2/sub sub2' _ "$U"
	[ -n "$(getfattr -h -n user.unionshim.redirect "$UPPER/o3" 2>/dev/null)" ] # renamed in place
	run -0 diff_layers
	echo "$output"
	[ "$output" = "$(printf '%s\n' 'D e' 'D e/sub' 'D e/sub/c' 'A e2' 'D o' 'D o/x' \
		'D o/x2' 'A o3' 'A o3/x' 'A o3/x2' 'A o3/z' 'A sub2' 'A sub2/c')" ]
	run -0 diff_layers --summary
	[ "$output" = "7 added, 0 changed, 6 deleted" ]
}

# A dir removed and made again with a subdir the lowers also have (what
# `tar --recursive-unlink`, `rm -rf a && mkdir -p a/b` do): the union shows
# only the upper below the opaque dir, subdirs included, so what the
# lowers hold there is deleted.
nested_opaque_job() {
	mkdir -p "$LOWER/w/b/c"
	echo keep >"$LOWER/w/b/old"
	echo x >"$LOWER/w/b/new"
	echo c >"$LOWER/w/b/c/f"
	"${RUN[@]}" sh -c 'cd "$1" && rm -rf w && mkdir -p w/b/c && echo n >w/b/new' _ "$U"
}

nested_opaque_want() {
	printf '%s\n' 'D w/b/c/f' 'M w/b/new' 'D w/b/old'
}

@test "below an opaque dir, a subdir made again hides what the lowers hold in it (shim's layers)" {
	use_union shim
	nested_opaque_job
	[ -z "$("${RUN[@]}" ls "$U/w/b/c")" ] # the union hides it
	run -0 diff_layers
	echo "$output"
	[ "$output" = "$(nested_opaque_want)" ]
}

@test "below an opaque dir, a subdir made again hides what the lowers hold in it (kernel overlayfs's layers)" {
	use_union overlayfs
	nested_opaque_job
	[ -z "$(ls "$U/w/b/c")" ]
	unmount_union
	run -0 diff_layers
	echo "$output"
	[ "$output" = "$(nested_opaque_want)" ]
}
