#!/usr/bin/env bats
# Promise (semantics.md "Removing and renaming", "Lookup"): every name that
# can exist can be removed. A lower name of 252-255 bytes, whose OCI
# whiteout .wh.NAME would not fit in NAME_MAX, is whited out in overlayfs's
# form (a char device 0/0 in its place), and every reader and writer of
# whiteouts handles it as overlayfs does: lookup, listing, creating a file,
# a dir (opaque), a symlink or a hard link over it, renaming a file or a
# dir onto it, renaming a long lower name away, rmdir of the dir holding
# such whiteouts, removing an upper object that hides a long lower name.
# One scenario, run under the shim and on kernel overlayfs (the oracle);
# the lower layer never changes.

bats_require_minimum_version 1.5.0

load ../lib/common
load ../lib/oracle

L=$(printf 'L%.0s' {1..255})
M=$(printf 'M%.0s' {1..252})
N=$(printf 'N%.0s' {1..253})

setup() {
	make_layers
	mkdir -p "$LOWER/d1" "$LOWER/d2" "$LOWER/d3" "$LOWER/d4" "$LOWER/d2/$N"
	echo lowerL >"$LOWER/d1/$L"
	echo lowerM >"$LOWER/d2/$M"
	echo lowerN >"$LOWER/d2/$N/f"
	echo 3 >"$LOWER/d3/$L"
	echo 3 >"$LOWER/d3/$M"
	echo 4 >"$LOWER/d4/$L"
	LOWER_SNAP=$(snapshot "$LOWER")
}

teardown() {
	unmount_union
}

# Runs of one letter shortened, so that outputs stay readable.
short() {
	sed 's/\(.\)\1\{20,\}/\1*/g'
}

# The listing of union dir $U/$1, in one line.
show() {
	"${RUN[@]}" ls -A "$U/$1" | short | tr '\n' ' '
	echo
}

# s STEP CMD: run CMD (a shell line, in $U, with $L $M $N set) in the union.
s() {
	echo "== $1"
	"${RUN[@]}" env L="$L" M="$M" N="$N" sh -c "cd \"\$1\" && $2" _ "$U" 2>&1 | short
}

scenario() {
	s "unlink a long lower file" 'rm -- "d1/$L" && echo ok; cat "d1/$L"'
	show d1
	s "create a file over its whiteout" 'echo new >"d1/$L" && cat "d1/$L"'
	show d1
	s "unlink the upper file that hides the long lower name" 'rm "d1/$L" && echo ok'
	show d1
	s "mkdir over the whiteout: an empty (opaque) dir" 'mkdir "d1/$L" && ls -A "d1/$L" | wc -l'
	show d1
	s "rmdir it" 'rmdir "d1/$L" && echo ok'
	show d1
	s "symlink over the whiteout" 'ln -s tgt "d1/$L" && readlink "d1/$L" && rm "d1/$L"'
	s "hard link over the whiteout" 'echo hl >d1/hsrc && ln d1/hsrc "d1/$L" && cat "d1/$L" && rm "d1/$L" d1/hsrc'
	s "rename a file onto the whiteout" 'echo r >d1/src && mv d1/src "d1/$L" && cat "d1/$L"'
	show d1
	s "rename a dir onto the whiteout" 'rm "d1/$L" && mkdir d1/srcd && echo in >d1/srcd/x && mv d1/srcd "d1/$L" && ls "d1/$L"'
	show d1
	s "remove that dir" 'rm -r "d1/$L" && echo ok'
	show d1
	s "rename a long lower file away" 'mv "d2/$M" d2/short && cat d2/short'
	show d2
	s "mv a long lower dir (renamed in place: a redirect record)" 'mv -T "d2/$N" d2/nd && cat d2/nd/f'
	show d2
	s "rename an upper file onto the long name again" 'echo up >d2/u && mv d2/u "d2/$N" && cat "d2/$N"'
	show d2
	s "rmdir of a dir holding only long whiteouts" 'rm -- "d3/$L" "d3/$M" && rmdir d3 && echo ok'
	show .
}

expected() {
	cat <<'OUT'
== unlink a long lower file
ok
cat: d1/L*: No such file or directory

== create a file over its whiteout
new
L* 
== unlink the upper file that hides the long lower name
ok

== mkdir over the whiteout: an empty (opaque) dir
0
L* 
== rmdir it
ok

== symlink over the whiteout
tgt
== hard link over the whiteout
hl
== rename a file onto the whiteout
r
L* 
== rename a dir onto the whiteout
x
L* 
== remove that dir
ok

== rename a long lower file away
lowerM
N* short 
== mv a long lower dir (renamed in place: a redirect record)
lowerN
nd short 
== rename an upper file onto the long name again
up
N* nd short 
== rmdir of a dir holding only long whiteouts
ok
d1 d2 d4 
OUT
}

long_names() {
	use_union "$1"
	expect "Whiteouts of 252-255-byte names: every step as on overlayfs" "$(expected)" "$(scenario)"
	expect "Lower layers stay untouched" "$LOWER_SNAP" "$(snapshot "$LOWER")"
	local wh
	wh=$(stat -c '%F %t:%T' "$UPPER/d2/$M" "$UPPER/d1/$L" 2>&1 | short)
	expect "The whiteouts of long names are char devices 0/0 in the name's place (overlayfs's form)" \
		"character special file 0:0
character special file 0:0" "$wh"
	if [ "$1" = shim ]; then
		expect "No temp is left in the work dir" "" "$(cd "$WORK" && find . -name '#us.*')"
	fi
	verdict
}

@test "long names: whiteouts of 252-255-byte names in overlayfs form, read and written everywhere (shim)" {
	long_names shim
}

@test "long names: whiteouts of 252-255-byte names in overlayfs form, read and written everywhere (overlayfs oracle)" {
	long_names overlayfs
}
