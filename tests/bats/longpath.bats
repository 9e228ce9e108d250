#!/usr/bin/env bats
# Promise (semantics.md, issue 12 "Errno and limit gaps"): every path the
# kernel takes, the union takes. The kernel limits each call's path string
# to PATH_MAX (4095 bytes and a NUL), not the depth of a tree: relative
# steps reach any depth. In the union the real path of an object is longer
# than the path the program gave (the layer dir in front, here ~200 bytes
# long), and a union path reached by relative steps may pass PATH_MAX;
# neither may give ENAMETOOLONG where the kernel would not. One scenario,
# run under the shim and on kernel overlayfs (the oracle) over the same
# layers; the lower layer never changes.

bats_require_minimum_version 1.5.0

load ../lib/common
load ../lib/oracle

N=$(printf 'n%.0s' {1..255})
# Debian's python3 (a pyenv shim is a bash script that cannot cd there)
PY=$(command -v /usr/bin/python3 || command -v python3)
D=$(printf 'd%.0s' {1..255})

setup() {
	make_layers
	# layer dirs with a ~200-byte prefix, so that a union path near
	# PATH_MAX has a real path past it
	local p
	p=$(printf 'p%.0s' {1..60})
	LONG=$ROOT/$p/$p/$p
	LOWER=$LONG/lower UPPER=$LONG/upper WORK=$LONG/work
	mkdir -p "$LOWER" "$UPPER" "$WORK"
	# a lower tree 20 dirs of 255-byte names deep (5,120 bytes), made by
	# relative steps as a program would
	"$PY" -c '
import os, sys
os.chdir(sys.argv[1])
for i in range(20):
    os.mkdir(sys.argv[2]); os.chdir(sys.argv[2])
open("lowfile", "w").write("low\n")
' "$LOWER" "$D"
	LOWER_SNAP=$(deep_snapshot "$LOWER")
}

# snapshot (common.bash) for a tree deeper than PATH_MAX: walked by dir
# fds, which sha256sum and find's -exec cannot do.
deep_snapshot() {
	"$PY" -c '
import hashlib, os, stat, sys
out = []
for top, dirs, files, dfd in os.fwalk(sys.argv[1]):
    for n in dirs + files:
        st = os.lstat(n, dir_fd=dfd)
        line = [top[len(sys.argv[1]):] + "/" + n, oct(st.st_mode), str(st.st_size)]
        if stat.S_ISREG(st.st_mode):
            fd = os.open(n, os.O_RDONLY, dir_fd=dfd)
            line.append(hashlib.sha256(os.read(fd, 1 << 20)).hexdigest())
            os.close(fd)
        out.append(" ".join(line))
print("\n".join(sorted(out)))
' "$1"
}

teardown() {
	unmount_union
}

# Runs of one letter shortened, so that outputs stay readable.
short() {
	sed 's/\(.\)\1\{20,\}/\1*/g'
}

# s STEP CMD: run CMD (a shell line, in $U, with $N $D set) in the union.
s() {
	echo "== $1"
	"${RUN[@]}" env N="$N" D="$D" PY="$PY" sh -c "cd \"\$1\" && $2" _ "$U" 2>&1 | short
}

# A shell line: cd -P 20 levels of $D (or $N) down from the cwd.
deep() {
	echo "i=0; while [ \$i -lt 20 ]; do cd -P \"\$$1\" || exit 1; i=\$((i+1)); done"
}

scenario() {
	# rel: 15 dirs of 255-byte names, then a name that makes 4,095 bytes
	local mk='r=; i=0; while [ $i -lt 15 ]; do r=$r$N/; mkdir -p "$r" || exit 1; i=$((i+1)); done
		f=$(printf "f%.0s" $(seq $((4095 - ${#r})))); rel=$r$f; echo ${#rel}'
	s "a 4,095-byte relative path: create, stat, chmod" "$mk"'
		echo hi >"$rel" && stat -c "%s %a" "$rel" && chmod 600 "$rel" && stat -c "%a" "$rel"'
	s "rename, symlink, readlink, unlink it" "$mk"'
		mv "$rel" "${rel%?}g" && ls "$r" && ln -s tgt "$rel" && readlink "$rel" &&
		rm "$rel" "${rel%?}g" && ls "$r" | wc -l'
	s "a 4,096-byte relative path is too long, as natively" "$mk"'
		touch "${rel}x" 2>&1 | sed "s/.*: //"'
	s "an absolute path past PATH_MAX is too long, as natively" "$mk"'
		stat "$PWD/$rel" 2>&1 | sed "s/.*: //"'
	s "cd 20 levels of 255-byte names into the upper, create, stat, list" \
		"mkdir -p u && cd u && i=0; while [ \$i -lt 20 ]; do mkdir \"\$N\" && cd -P \"\$N\" || exit 1; i=\$((i+1)); done
		echo deep >f && stat -c %s f && ls && pwd | wc -c &&
		\$PY -c 'import os; print(len(os.getcwd()))'"
	s "cd 20 levels into the lower tree: read, copy up, write, list" "$(deep D)"'
		cat lowfile && echo more >>lowfile && cat lowfile && ls && pwd | wc -c'
	s "new dir and file at that depth" "$(deep D)"'
		mkdir sub && echo s >sub/f && ls sub && cat sub/f'
	s "chmod, rename, symlink and unlink of a lower file at that depth" "$(deep D)"'
		chmod 600 lowfile && stat -c %a lowfile && mv lowfile moved && ls &&
		ln -s moved lnk && readlink lnk && cat lnk && rm lnk moved && ls'
	s "rm -rf of the tree" 'rm -rf "$D" && echo removed; ls'
	s "rm -rf of the upper trees" 'rm -rf u "$N" && echo removed; ls | wc -l'
}

expected() {
	cat <<'OUT'
== a 4,095-byte relative path: create, stat, chmod
4095
3 644
600
== rename, symlink, readlink, unlink it
4095
f*g
tgt
0
== a 4,096-byte relative path is too long, as natively
4095
File name too long
== an absolute path past PATH_MAX is too long, as natively
4095
File name too long
== cd 20 levels of 255-byte names into the upper, create, stat, list
5
f
UNIONDEPTH
UNIONDEPTH1
== cd 20 levels into the lower tree: read, copy up, write, list
low
low
more
lowfile
UNIONDEPTH2
== new dir and file at that depth
f
s
== chmod, rename, symlink and unlink of a lower file at that depth
600
moved
sub
moved
low
more
sub
== rm -rf of the tree
removed
n*
u
== rm -rf of the upper trees
removed
0
OUT
}

long_paths() {
	use_union "$1"
	local want t=${#TARGET}
	# pwd: the union path and a newline; getcwd: the union path
	want=$(expected | sed "s/^UNIONDEPTH$/$((t + 2 + 20 * 256 + 1))/;
		s/^UNIONDEPTH1$/$((t + 2 + 20 * 256))/; s/^UNIONDEPTH2$/$((t + 20 * 256 + 1))/")
	expect "Paths the kernel takes work in the union, at any depth" "$want" "$(scenario)"
	expect "Lower layers stay untouched" "$LOWER_SNAP" "$(deep_snapshot "$LOWER")"
	verdict
}

@test "long paths: 4,095-byte relative paths over a long layer prefix, and trees deeper than PATH_MAX (shim)" {
	long_paths shim
}

@test "long paths: 4,095-byte relative paths over a long layer prefix, and trees deeper than PATH_MAX (overlayfs oracle)" {
	long_paths overlayfs
}

# Each call family on a lower file and dir 20 levels deep, by short
# relative paths (tests/lib/longpath_calls.py).
families() {
	"${RUN[@]}" "$PY" "$BATS_TEST_DIRNAME/../lib/longpath_calls.py" "$U"
}

families_expected() {
	cat <<'OUT'
access ok True
utime ok -
stat-mtime ok 2.0
chown ok -
lchown ok -
setxattr ok -
getxattr ok b'1'
listxattr ok ['user.x']
link ok -
nlink ok 2
truncate ok -
read ok lo
mkfifo ok -
listdir ok ['fifo', 'hard', 'lowfile']
script ok -
exec ok b'script ran\n'
getcwd ok 5120
getcwd-4096-bytes ERR 34
rmdir-dot ERR 22
rename-dir ok ['fifo', 'hard', 'lowfile', 's.sh', 'y']
readlink-proc-cwd ERR 36
dirfd-list ok ['fifo', 'hard', 'lowfile', 's.sh', 'y']
openat2 ok b'lo'
std-fds-open ok [True, True, True]
OUT
}

call_families() {
	use_union "$1"
	expect "Every call family works on a lower tree deeper than PATH_MAX" \
		"$(families_expected)" "$(families 2>&1)"
	expect "Lower layers stay untouched" "$LOWER_SNAP" "$(deep_snapshot "$LOWER")"
	verdict
}

@test "long paths: each call family 20 levels of 255-byte names deep in a lower (shim)" {
	call_families shim
}

@test "long paths: each call family 20 levels of 255-byte names deep in a lower (overlayfs oracle)" {
	call_families overlayfs
}

# A union dir fd deeper than a page whose way up nobody can read (a 0711
# dir on the way): its union path cannot be found, and a call through it
# fails with EACCES; it never reaches the layer's dir itself (a mkdir there
# would land in the lower).
@test "long paths: a deep union dir fd whose path cannot be found never reaches the layer's dir (shim)" {
	command -v setpriv >/dev/null || skip "setpriv (util-linux) missing"
	"$PY" -c '
import os, sys
os.chdir(sys.argv[1])
for i in range(20):
    os.chdir(sys.argv[2])
    if i == 2:
        os.chmod(".", 0o711)
os.chmod(".", 0o777)
' "$LOWER" "$D"
	chmod 777 "$UPPER" "$WORK"
	chmod 755 "$ROOT" "$TARGET"
	local d=$LOWER
	while [ "$d" != / ] && [ "$d" != /tmp ]; do
		chmod o+x "$d"
		d=$(dirname "$d")
	done
	local snap
	snap=$(deep_snapshot "$LOWER")
	use_union shim
	local got
	got=$("${RUN[@]}" setpriv --reuid=65534 --regid=65534 --clear-groups "$PY" -c '
import os, sys
os.chdir(sys.argv[1])
for i in range(20):
    os.chdir(sys.argv[2])
fd = os.open(".", os.O_RDONLY)
try:
    os.mkdir("viafd", dir_fd=fd)
    print("mkdir ok")
except OSError as e:
    print("mkdir", e.errno)
' "$U" "$D" 2>&1)
	expect "A call through the fd fails with EACCES" "mkdir 13" "$got"
	expect "Lower layers stay untouched" "$snap" "$(deep_snapshot "$LOWER")"
	verdict
}

# The lower guard past PATH_MAX: writes by the lower's own path, 20 levels
# deep (a real path realpath cannot take), are refused as at any depth,
# in the shell and in its children (mkdir, mv: the cwd they inherit is the
# lower's own path, not the union dir it belongs to).
@test "long paths: writes by a lower's own path deeper than PATH_MAX are refused (shim)" {
	use_union shim
	local got
	got=$("${RUN[@]}" env D="$D" sh -c "cd \"\$1\" && $(deep D)"'
		(echo x >new) 2>&1 | sed "s/.*: //"; mkdir m 2>&1 | sed "s/.*: //"
		mv lowfile moved 2>&1 | sed "s/.*: //"; cat lowfile' _ "$LOWER" 2>&1 | short)
	expect "Writes into the lower at depth fail with EROFS" "Read-only file system
Read-only file system
Read-only file system
low" "$got"
	expect "Lower layers stay untouched" "$LOWER_SNAP" "$(deep_snapshot "$LOWER")"
	verdict
}

# The lower guard when a short path leads, through symlinks outside the
# union, to a lower dir whose canonical path is longer than PATH_MAX
# (realpath cannot canonicalize it; the kernel follows it fine): writes
# through it are refused as at any depth, creates and removals alike.
@test "long paths: writes through symlinks that lead deeper than PATH_MAX into a lower are refused (shim)" {
	local out=$ROOT/out half
	mkdir -p "$out"
	half=$LOWER
	local i
	for i in 1 2 3 4 5 6 7 8 9 10; do half=$half/$D; done
	# s1: half way down (a 2.8 KB target); s2: the rest through s1
	ln -s "$half" "$out/s1"
	ln -s "$out/s1/$(printf "$D/%.0s" {1..10})" "$out/s2"
	use_union shim
	local got
	got=$("${RUN[@]}" sh -c '
		cd "$1"
		(echo x >s2/new) 2>&1 | sed "s/.*: //"
		mkdir s2/m 2>&1 | sed "s/.*: //"
		rm s2/lowfile 2>&1 | sed "s/.*: //"
		ln -s x s2/l 2>&1 | sed "s/.*: //"
		cat s2/lowfile' _ "$out" 2>&1 | short)
	expect "Writes through the symlinks fail with EROFS" "Read-only file system
Read-only file system
Read-only file system
Read-only file system
low" "$got"
	expect "Lower layers stay untouched" "$LOWER_SNAP" "$(deep_snapshot "$LOWER")"
	verdict
}
