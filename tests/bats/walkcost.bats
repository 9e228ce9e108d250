#!/usr/bin/env bats
# Promise (README "Performance", issue 10): a whole-tree command (find,
# ls -lR, du, tar, git status, make) costs about the system calls it costs
# natively: visiting an entry for the first time is one stat of its real
# object, not a lookup's stat plus the program's own; the answer is as
# fresh as a native stat (another process's chmod, truncate, touch or
# copy-up is seen by the very next call, with the same st_ino).
#
# The counting tests run strace on the shim (they count the shim's own
# calls); the freshness tests run on the shim and, as the oracle, on
# kernel overlayfs over the same layers.

bats_require_minimum_version 1.5.0

load ../lib/common
load ../lib/oracle
load ../lib/asker

N=60

setup() {
	make_layers
	mkdir -p "$LOWER/d"
	for i in $(seq 1 $N); do echo "file $i" >"$LOWER/d/f$i"; done
}

teardown() {
	asker_kill
	unmount_union
}

need_strace() {
	command -v strace >/dev/null || skip "no strace"
}

# stat_calls CMD...: run CMD in the union under strace; print how many
# stat-family calls named a real file d/f<i> of a layer, by its whole
# path or by its name relative to a dir fd
stat_calls() {
	in_union strace -f -qq -o "$ROOT/trace" \
		-e trace=stat,lstat,newfstatat,statx "$@" >/dev/null
	grep -cE '"'"$ROOT"'/(lower|lower2|upper)/d/f[0-9]+"|\([0-9]+, "f[0-9]+"' \
		"$ROOT/trace" || true
}

# whole_path_calls: of the calls stat_calls counted last, those that gave
# the kernel a layer's whole path to walk
whole_path_calls() {
	grep -cE '"'"$ROOT"'/(lower|lower2|upper)/d/f[0-9]+"' "$ROOT/trace" || true
}

@test "stat, lstat and fstatat of a name seen for the first time: one system call each" {
	need_strace
	for call in "os.stat(p)" "os.lstat(p)" "os.stat(os.path.basename(p), dir_fd=fd)" \
		"os.stat(os.path.basename(p), dir_fd=fd, follow_symlinks=False)"; do
		n=$(stat_calls python3 -c '
import os, sys
fd = os.open(sys.argv[1], os.O_RDONLY | os.O_DIRECTORY)
for i in range(1, int(sys.argv[2]) + 1):
    p = sys.argv[1] + "/f%d" % i
    '"$call"'
' "$TARGET/d" $N)
		echo "$call: $n calls for $N names"
		[ "$n" -eq $N ]
	done
}

@test "statx (ls -l, stat) of a name seen for the first time: one system call" {
	need_strace
	n=$(stat_calls ls -l "$TARGET/d")
	echo "ls -l: $n calls for $N names"
	[ "$n" -eq $N ]
	# (the target dir is empty outside the union: no glob)
	n=$(stat_calls stat -c '%s %Y' $(seq -f "$TARGET/d/f%g" 1 $N))
	echo "stat: $n calls for $N names"
	[ "$n" -eq $N ]
}

@test "find and du over a lower dir: one stat per entry" {
	need_strace
	n=$(stat_calls find "$TARGET/d" -printf '%p %s\n')
	echo "find: $n calls for $N names"
	[ "$n" -eq $N ]
	n=$(stat_calls du -a "$TARGET/d")
	echo "du: $n calls for $N names"
	[ "$n" -eq $N ]
}

@test "find, du and python's dir_fd stats over a lower dir: each entry's stat is relative to the walker's own dir fd (the kernel walks one name, not the layer's whole path)" {
	need_strace
	for cmd in "find $TARGET/d -printf %p_%s\n" "du -a $TARGET/d" "ls -lR $TARGET/d"; do
		# shellcheck disable=SC2086
		n=$(stat_calls $cmd)
		whole=$(whole_path_calls)
		echo "$cmd: $n calls for $N names, $whole of them by whole path"
		[ "$n" -eq $N ]
		[ "$whole" -eq 0 ] || [[ $cmd == ls* ]] # ls names its paths itself
	done
	n=$(stat_calls python3 -c '
import os, sys
fd = os.open(sys.argv[1], os.O_RDONLY | os.O_DIRECTORY)
for i in range(1, int(sys.argv[2]) + 1):
    os.stat("f%d" % i, dir_fd=fd, follow_symlinks=False)
    os.stat("f%d" % i, dir_fd=fd)
' "$TARGET/d" $N)
	whole=$(whole_path_calls)
	echo "python dir_fd: $n calls for $N names, $whole by whole path"
	[ "$whole" -eq 0 ]
	[ "$n" -le $((2 * N)) ]
}

@test "statx asking for more than a lookup knows (btime) still asks the kernel" {
	need_strace
	in_union strace -f -qq -o "$ROOT/trace" -e trace=statx \
		stat -c '%W' "$TARGET/d/f1" >/dev/null
	run grep -c 'STATX_BTIME.*"'"$ROOT"'/lower/d/f1"\|"'"$ROOT"'/lower/d/f1".*STATX_BTIME' "$ROOT/trace"
	[ "$output" -ge 1 ]
	# and its answer is the file's own birth time
	want=$(stat -c '%W' "$LOWER/d/f1")
	got=$(in_union stat -c '%W' "$TARGET/d/f1")
	[ "$got" = "$want" ]
}

@test "stat of a lower file, again and again, with an upper that was not empty when the work dir was made: no xattr read per call" {
	need_strace
	mkdir -p "$UPPER/built/obj" && echo o >"$UPPER/built/obj/o" # an earlier run's output
	n=$(in_union strace -f -qq -e signal=none -o "$ROOT/trace" -e trace=lgetxattr,getxattr python3 -c '
import os, sys
for _ in range(200):
    os.stat(sys.argv[1])
' "$TARGET/d/f1" && wc -l <"$ROOT/trace")
	echo "xattr reads for 200 stats: $n"
	[ "$n" -lt 10 ]
	# a later process, over the #state this one made: none either
	n=$(in_union strace -f -qq -e signal=none -o "$ROOT/trace" -e trace=lgetxattr,getxattr,fgetxattr python3 -c '
import os, sys
for _ in range(200):
    os.stat(sys.argv[1])
' "$TARGET/d/f1" && wc -l <"$ROOT/trace")
	echo "xattr reads for 200 stats, state made: $n"
	[ "$n" -lt 10 ]
}

# Process A (one python, so one lookup cache; the FIFOs are opened
# read-write here and read with a timeout, so a python that dies early
# fails the test rather than hangs it): prints "mode size mtime ino"
# of each path it is sent, by stat, lstat, fstatat on a dir fd and statx
# (os.stat/lstat; statx through ctypes), all four having to agree.
start_a() {
	asker_fifos
	"${RUN[@]}" python3 -c '
import ctypes, os, sys
libc = ctypes.CDLL(None, use_errno=True)
class Ts(ctypes.Structure):
    _fields_ = [("sec", ctypes.c_int64), ("nsec", ctypes.c_uint32), ("r", ctypes.c_int32)]
class Stx(ctypes.Structure):
    _fields_ = [("mask", ctypes.c_uint32), ("blksize", ctypes.c_uint32),
                ("attributes", ctypes.c_uint64), ("nlink", ctypes.c_uint32),
                ("uid", ctypes.c_uint32), ("gid", ctypes.c_uint32),
                ("mode", ctypes.c_uint16), ("pad", ctypes.c_uint16),
                ("ino", ctypes.c_uint64), ("size", ctypes.c_uint64),
                ("blocks", ctypes.c_uint64), ("amask", ctypes.c_uint64),
                ("atime", Ts), ("btime", Ts), ("ctime", Ts), ("mtime", Ts),
                ("rest", ctypes.c_uint8 * 160)]
def statx(p):
    x = Stx()
    if libc.statx(-100, p.encode(), 0x100, 0x7ff, ctypes.byref(x)) != 0:
        return "statx failed"
    return "%o %d %d.%09d %d" % (x.mode, x.size, x.mtime.sec, x.mtime.nsec, x.ino)
def st(s):
    return "%o %d %d.%09d %d" % (s.st_mode, s.st_size, s.st_mtime_ns // 10**9,
                                  s.st_mtime_ns % 10**9, s.st_ino)
cmd, res = open(sys.argv[1]), open(sys.argv[2], "w")
for line in cmd:
    p = line.strip()
    if p == "q":
        break
    fd = os.open(os.path.dirname(p), os.O_RDONLY | os.O_DIRECTORY)
    a = [st(os.stat(p)), st(os.lstat(p)),
         st(os.stat(os.path.basename(p), dir_fd=fd)), statx(p)]
    os.close(fd)
    res.write((a[0] if len(set(a)) == 1 else "disagree: %s" % a) + "\n")
    res.flush()
' "$ROOT/cmd" "$ROOT/res" &
	asker_started
}

ask() {
	local ans
	echo "$U/$1" >&5
	read -t 30 -r ans <&6 || ans="no answer"
	echo "$ans"
}


# mode size mtime ino of union path REL, as process A reports it
fresh_scenario() {
	use_union "$1"
	start_a
	local a0 a1 ino0
	a0=$(ask d/f1)
	ino0=${a0##* }
	b 'chmod 600 "$1/d/f1"'
	a1=$(ask d/f1)
	expect "$1: a chmod by another process is seen at once" "600 $ino0" \
		"$(awk '{print substr($1, length($1) - 2), $4}' <<<"$a1")"
	b 'truncate -s 3 "$1/d/f2"'
	a0=$(ask d/f2)
	expect "$1: a truncate (copy-up) by another process is seen at once" "3" \
		"$(awk '{print $2}' <<<"$a0")"
	a0=$(ask d/f3)
	b 'touch -m -d "2001-02-03 04:05:06" "$1/d/f3"'
	a1=$(ask d/f3)
	expect "$1: a touch by another process is seen at once, same st_ino" \
		"$(date -d '2001-02-03 04:05:06' +%s).000000000 ${a0##* }" \
		"$(awk '{print $3, $4}' <<<"$a1")"
	a0=$(ask d/f4)
	b 'echo more >>"$1/d/f4"'
	a1=$(ask d/f4)
	expect "$1: a copy-up by another process: new size, same st_ino" \
		"$(($(awk '{print $2}' <<<"$a0") + 5)) ${a0##* }" \
		"$(awk '{print $2, $4}' <<<"$a1")"
	b 'echo upper >"$1/d/new"'
	a0=$(ask d/new)
	b 'chmod 640 "$1/d/new"; echo again >>"$1/d/new"'
	a1=$(ask d/new)
	expect "$1: an upper file changed by another process is seen at once" \
		"640 12 ${a0##* }" "$(awk '{print substr($1, length($1) - 2), $2, $4}' <<<"$a1")"
	asker_stop
}

@test "a stat right after another process's chmod, truncate, touch or copy-up is fresh (shim)" {
	fresh_scenario shim
	verdict
}

@test "a stat right after another process's chmod, truncate, touch or copy-up is fresh (overlayfs)" {
	fresh_scenario overlayfs
	verdict
}

@test "find and du: the openat, dup and fstatat chain on dir fds reads no /proc/self/fd link" {
	need_strace
	mkdir -p "$LOWER/d/s1/t" "$LOWER/d/s2" "$UPPER/d/s2"
	echo x >"$LOWER/d/s1/t/x"
	echo y >"$UPPER/d/s2/y"
	for cmd in "find $TARGET/d -printf %p%s\n" "du -a $TARGET/d" "ls -lR $TARGET/d"; do
		in_union strace -f -qq -s 4096 -o "$ROOT/trace" -e trace=readlink,readlinkat \
			$cmd >/dev/null
		# (the program's own cwd fd, outside the union, may be read)
		n=$(grep -c '/proc/self/fd/[0-9]*", "'"$ROOT" "$ROOT/trace" || true)
		echo "${cmd%% *}: $n readlinks of /proc/self/fd of a union dir"
		[ "$n" -eq 0 ]
	done
}

# A dir fd opened (and dup'ed) before another process removes its dir and
# makes a new one of that name still names the removed dir: the dir fd's
# remembered path must not lead *at() calls to the new one. (An upper dir:
# a dir fd on a lower dir is followed by its path, a known limit.)
dirfd_scenario() {
	mkdir -p "$UPPER/e"
	echo f >"$UPPER/e/f1"
	use_union "$1"
	got=$("${RUN[@]}" python3 -c '
import os, subprocess, sys
u = sys.argv[1]
fd = os.open(u + "/e", os.O_RDONLY | os.O_DIRECTORY)
fd2 = os.dup(fd)
fd3 = os.open("e", os.O_RDONLY | os.O_DIRECTORY, dir_fd=os.open(u, os.O_RDONLY))
print("before", all(os.stat("f1", dir_fd=f) is not None for f in (fd, fd2, fd3)))
subprocess.run(["sh", "-c", "rm -rf \"$1/e\" && mkdir \"$1/e\" && echo new >\"$1/e/f1\"", "_", u], check=True)
for f in (fd, fd2, fd3):
    try:
        os.stat("f1", dir_fd=f)
        print("f1 found through the old dir fd")
    except FileNotFoundError:
        print("ENOENT")
' "$U")
	expect "$1: a dir fd (and its dup) of a removed dir finds nothing of the new dir" \
		"before True
ENOENT
ENOENT
ENOENT" "$got"
}

@test "a dir fd of a removed and remade dir keeps naming the removed one (shim)" {
	dirfd_scenario shim
	verdict
}

@test "a dir fd of a removed and remade dir keeps naming the removed one (overlayfs)" {
	dirfd_scenario overlayfs
	verdict
}

# A walker's dir fd on a lower-only dir: its names are looked up from the
# dir's cached node and stat'ed through the fd itself while the fd is on
# the dir's top layer. Another process's create (which copies the dir
# up), rename, unlink and write through the union must be seen by the
# very next call through that fd, stat and open alike.
dirfd_changed_scenario() {
	mkdir -p "$LOWER/w/s"
	for f in f1 f2 f3; do echo "lower $f" >"$LOWER/w/$f"; done
	use_union "$1"
	got=$("${RUN[@]}" python3 -c '
import os, subprocess, sys
u = sys.argv[1]
fd = os.open(u + "/w", os.O_RDONLY | os.O_DIRECTORY)
def show(name):
    try:
        st = os.stat(name, dir_fd=fd, follow_symlinks=False)
        f = os.open(name, os.O_RDONLY, dir_fd=fd)
        data = os.read(f, 100).decode().strip() if not os.path.isdir("/proc/self/fd/%d" % f) else "dir"
        os.close(f)
        return "%s %d %s" % (name, st.st_size, data)
    except FileNotFoundError:
        return name + " ENOENT"
ino1 = os.stat("f1", dir_fd=fd).st_ino
print(*(show(n) for n in ("f1", "f2", "f3", "new", "g1", "s")), sep="; ")
subprocess.run(["sh", "-c", "echo upper >\"$1/w/new\" && mv \"$1/w/f1\" \"$1/w/g1\" && rm \"$1/w/f2\" && echo more >>\"$1/w/f3\"", "_", u], check=True)
print(*(show(n) for n in ("f1", "f2", "f3", "new", "g1", "s")), sep="; ")
subprocess.run(["sh", "-c", "rmdir \"$1/w/s\" && echo s >\"$1/w/s\"", "_", u], check=True)
print(show("s"))
print("g1 keeps f1 inode:", os.stat("g1", dir_fd=fd).st_ino == ino1)
' "$U")
	expect "$1: names changed by another process are seen at once through a dir fd" \
		"f1 9 lower f1; f2 9 lower f2; f3 9 lower f3; new ENOENT; g1 ENOENT; s 4096 dir
f1 ENOENT; f2 ENOENT; f3 14 lower f3
more; new 6 upper; g1 9 lower f1; s 4096 dir
s 2 s
g1 keeps f1 inode: True" "$got"
}

@test "a dir fd on a lower dir sees at once the names another process changed (shim)" {
	dirfd_changed_scenario shim
	verdict
}

@test "a dir fd on a lower dir sees at once the names another process changed (overlayfs)" {
	dirfd_changed_scenario overlayfs
	verdict
}

# cwd_trace DIR BODY: in the union, a python with its cwd DIR runs BODY
# (python lines using i) for i in 1..N, its stat calls traced to
# $ROOT/trace
cwd_trace() {
	in_union strace -f -qq -o "$ROOT/trace" -e trace=stat,lstat,newfstatat,statx \
		python3 -c '
import os, sys
os.chdir(sys.argv[1])
for i in range(1, int(sys.argv[2]) + 1):
'"$2" "$1" $N
}

@test "stats of names relative to a cwd in a lower dir (make, git status, a compiler): relative to the kernel's cwd, one stat per name, no whole layer path" {
	need_strace
	mkdir -p "$LOWER/d/sub"
	for i in $(seq 1 $N); do echo "sub $i" >"$LOWER/d/sub/g$i"; done
	cwd_trace "$TARGET/d" '
    os.lstat("f%d" % i)
    os.stat("sub/g%d" % i)'
	whole=$(grep -cE '"'"$ROOT"'/(lower|lower2|upper)/d/(f|sub/g)[0-9]+"' "$ROOT/trace" || true)
	rel=$(grep -cE '\(AT_FDCWD, "(f|sub/g)[0-9]+"' "$ROOT/trace" || true)
	echo "$rel relative stats, $whole by whole path, for $((2 * N)) names"
	[ "$whole" -eq 0 ]
	[ "$rel" -eq $((2 * N)) ]
}

@test "stats of names relative to a cwd at the union's root (unionrun's own place), with ./ and // in them: relative to the kernel's cwd for the root's top layer, the same answers" {
	need_strace
	mkdir -p "$UPPER/ud"
	for i in $(seq 1 $N); do echo "upper $i" >"$UPPER/ud/g$i"; done
	cwd_trace "$TARGET" '
    a = os.lstat("./ud/g%d" % i)
    b = os.stat("ud//g%d" % i)
    c = os.stat("ud/./g%d" % i)
    assert a.st_ino == b.st_ino == c.st_ino and a.st_size == len("upper %d\n" % i), i'
	whole=$(grep -cE '"'"$ROOT"'/(lower|lower2|upper)/ud/g[0-9]+"' "$ROOT/trace" || true)
	rel=$(grep -cE '\(AT_FDCWD, "[./]*ud/+[./]*g[0-9]+"' "$ROOT/trace" || true)
	echo "$rel relative stats, $whole by whole path, for $((3 * N)) calls"
	[ "$whole" -eq 0 ]
	[ "$rel" -eq $((3 * N)) ]
}

# The cwd is a lower dir the kernel's cwd sits in; another process then
# copies it up (a create in it) and renames and removes names in it: a
# stat or open relative to the cwd must see the union as it is now (the
# kernel's cwd, still the lower dir, is no way to the upper's names).
cwd_changed_scenario() {
	mkdir -p "$LOWER/c/s"
	for f in f1 f2; do echo "lower $f" >"$LOWER/c/$f"; done
	echo deep >"$LOWER/c/s/deep"
	use_union "$1"
	got=$("${RUN[@]}" python3 -c '
import os, subprocess, sys
u = sys.argv[1]
os.chdir(u + "/c")
def show(name):
    try:
        st = os.lstat(name)
        with open(name) as f:
            return "%s %d %s" % (name, st.st_size, f.read().strip())
    except FileNotFoundError:
        return name + " ENOENT"
names = ("f1", "f2", "g1", "new", "s/deep", "s/new")
print(*(show(n) for n in names), sep="; ")
subprocess.run(["sh", "-c", "echo upper >new && mv f1 g1 && rm f2 && echo s >s/new && echo more >>s/deep"], check=True)
print(*(show(n) for n in names), sep="; ")
' "$U")
	expect "$1: names below the cwd changed by another process are seen at once" \
		"f1 9 lower f1; f2 9 lower f2; g1 ENOENT; new ENOENT; s/deep 5 deep; s/new ENOENT
f1 ENOENT; f2 ENOENT; g1 9 lower f1; new 6 upper; s/deep 10 deep
more; s/new 2 s" "$got"
}

@test "a cwd in a lower dir sees at once the names another process changed (shim)" {
	cwd_changed_scenario shim
	verdict
}

@test "a cwd in a lower dir sees at once the names another process changed (overlayfs)" {
	cwd_changed_scenario overlayfs
	verdict
}

# A mount whose upper held something when its state was made may hold
# redirect records of renamed dirs (redirect.h): each lower-side path is
# then found by reading the records of the upper dirs along it. A walk
# knows which dirs have none (US_NODE_STRAIGHT): what it reads per entry
# is the entry, not the records of every dir above it again.
@test "find, du, grep -r below dirs no rename touched: no redirect record read per entry" {
	need_strace
	mkdir -p "$UPPER/u" "$LOWER/a/b" "$UPPER/a"
	for i in $(seq 1 $N); do echo "x $i" >"$LOWER/a/b/g$i"; done
	for cmd in "find $TARGET/a -printf %p_%s\n" "du -a $TARGET/a" \
		"grep -r x $TARGET/a"; do
		# shellcheck disable=SC2086
		in_union strace -f -qq -o "$ROOT/trace" -e trace=getxattr,lgetxattr \
			$cmd >/dev/null
		n=$(grep -c user.unionshim.redirect "$ROOT/trace" || true)
		echo "$cmd: $n redirect records read for $N names"
		[ "$n" -le 10 ]
	done
	# and the walk's answers are the layers' own
	[ "$(in_union grep -rh x "$TARGET/a" | wc -l)" -eq $N ]
	in_union find "$TARGET/a" -mindepth 1 -printf '%P %s\n' | sort >"$ROOT/got"
	(cd "$LOWER/a" && find . -mindepth 1 -printf '%P %s\n' | sort) >"$ROOT/want"
	diff "$ROOT/want" "$ROOT/got"
}

@test "find, ls -l, du over upper dirs that hold no copy, in a mount with copy-ups elsewhere: no origin record read per entry, and a copy's st_ino is its origin's" {
	need_strace
	mkdir -p "$UPPER/u/v"
	for i in $(seq 1 $N); do echo "u $i" >"$UPPER/u/v/h$i"; done
	before=$(in_union stat -c %i "$TARGET/d/f1")
	in_union chmod 600 "$TARGET/d/f1" # a copy-up (and the upper's scan)
	[ -f "$UPPER/d/f1" ]
	for cmd in "find $TARGET/u -printf %p_%i_%s\n" "ls -liR $TARGET/u" \
		"du -a $TARGET/u"; do
		# shellcheck disable=SC2086
		in_union strace -f -qq -o "$ROOT/trace" $cmd >/dev/null
		n=$(grep -cE 'unionshim\.origin|getxattrat|syscall_0x1d0' "$ROOT/trace" || true)
		echo "$cmd: $n origin records read for $N names"
		[ "$n" -le 5 ]
	done
	after=$(in_union stat -c %i "$TARGET/d/f1")
	echo "d/f1: st_ino $before before its copy-up, $after after"
	[ "$before" = "$after" ]
}

# A process sits in a dir (an upper copy: it wrote there) that another
# process then renames, or renames a dir above: its cwd follows the dir,
# as overlayfs's does (relative lookups, creates and getcwd).
cwd_renamed_scenario() {
	mkdir -p "$LOWER/p/a/b"
	echo low >"$LOWER/p/a/b/l"
	use_union "$1"
	got=$("${RUN[@]}" python3 -c '
import os, subprocess, sys
u = sys.argv[1]
with open(u + "/p/a/b/f", "w") as f:
    f.write("f\n")
os.chdir(u + "/p/a/b")
def show():
    try:
        return "%s f=%d l=%d" % (os.getcwd().replace(u, "U"), os.stat("f").st_size, os.stat("l").st_size)
    except OSError as e:
        return "errno %d" % e.errno
print(show())
subprocess.run(["mv", u + "/p/a", u + "/p/z"], check=True)
print(show())
with open("g", "w") as f:
    f.write("g\n")
subprocess.run(["mv", u + "/p", u + "/q"], check=True)
print(show())
print(sorted(os.listdir(u + "/q/z/b")), os.path.exists(u + "/p"))
' "$U")
	expect "$1: a cwd follows its dir when another process renames it or a dir above" \
		"U/p/a/b f=2 l=4
U/p/z/b f=2 l=4
U/q/z/b f=2 l=4
['f', 'g', 'l'] False" "$got"
}

@test "a cwd follows its (upper) dir when another process renames it or a dir above (shim)" {
	cwd_renamed_scenario shim
	verdict
}

@test "a cwd follows its (upper) dir when another process renames it or a dir above (overlayfs)" {
	OVL_OPTS=index=on,xino=on,redirect_dir=on cwd_renamed_scenario overlayfs
	verdict
}

# Two unions share the lower dir d (their layer 1) but merge different
# lower dirs under it: a dir fd on one union's d, closed, and the same fd
# number open on the other's d is the same real dir, layer, st_dev and
# st_ino; a walker's next name must come from its own union.
@test "a dir fd number reused on the same real dir of another union: names from the new union, not the last dir's walk" {
	LOWER3=$ROOT/lower3 T2=$ROOT/t2 U2=$ROOT/u2 W2=$ROOT/w2
	mkdir -p "$LOWER2/d" "$LOWER3/d" "$T2" "$U2" "$W2"
	echo one >"$LOWER2/d/only1"
	echo two >"$LOWER3/d/only2"
	got=$(LD_PRELOAD=$SHIM_LIB \
		UNIONSHIM_MOUNTS="$(mounts_spec);target=$T2,lowerdir=$LOWER:$LOWER3,upperdir=$U2,workdir=$W2" \
		python3 -c '
import os, sys
def names(top):
    fd = os.open(top + "/d", os.O_RDONLY | os.O_DIRECTORY)
    seen = []
    for n in ("f1", "f2", "only1", "only2"):
        try:
            os.stat(n, dir_fd=fd, follow_symlinks=False)
            seen.append(n)
        except FileNotFoundError:
            pass
    os.close(fd)
    return fd, seen
fd1, a = names(sys.argv[1])
fd2, b = names(sys.argv[2])
print("same fd:", fd1 == fd2)
print(*a)
print(*b)
' "$TARGET" "$T2")
	echo "$got"
	[ "$got" = "same fd: True
f1 f2 only1
f1 f2 only2" ]
}

# The same path asked again in a row (ls -l: statx, then its xattrs; cp
# -a: stat, open, xattrs) after another process changed it: whited out,
# made again in the upper, copied up by a chmod, its dir renamed away.
repeat_changed_scenario() {
	mkdir -p "$LOWER/d/sub"
	for f in a f g; do echo "lower $f" >"$LOWER/d/sub/$f"; done
	chmod 644 "$LOWER/d/sub/g"
	use_union "$1"
	got=$(cd / && "${RUN[@]}" python3 -c '
import os, subprocess, sys
u = sys.argv[1]
os.chdir(u + "/d")
def show(name):
    try:
        st = os.lstat(name)
        st = os.lstat(name)
        return "%s %d %o" % (name, st.st_size, st.st_mode & 0o777)
    except FileNotFoundError:
        return name + " ENOENT"
def other(cmd):
    subprocess.run(["sh", "-c", cmd, "_", u + "/d/sub"], check=True)
out = [show("sub/a"), show("sub/f")]
other("rm \"$1/f\"")
out.append(show("sub/f"))
other("echo new upper >\"$1/f\"")
out.append(show("sub/f"))
out.append(show("sub/g"))
other("chmod 600 \"$1/g\"")
out.append(show("sub/g"))
other("mv \"$1\" \"$1-moved\"")
out.append(show("sub/g"))
print(*out, sep="; ")
' "$U")
	expect "$1: a path asked again after another process changed it" \
		"sub/a 8 644; sub/f 8 644; sub/f ENOENT; sub/f 10 644; sub/g 8 644; sub/g 8 600; sub/g ENOENT" "$got"
}

@test "a path asked again in a row sees another process's change in between (shim)" {
	repeat_changed_scenario shim
	verdict
}

@test "a path asked again in a row sees another process's change in between (overlayfs)" {
	OVL_OPTS=index=on,redirect_dir=on repeat_changed_scenario overlayfs
	verdict
}
