#!/usr/bin/env bats
# Promise (semantics.md: one namespace for every process of the union;
# README "Performance"): each process keeps a cache of lookups, and a
# change of the namespace made by another process of the same union is
# seen by the very next call. Process A (one bash, so one cache) stats and
# reads paths on request, caching them, positive and negative; process B
# (new processes of the same union) renames, unlinks, mkdirs, copies up,
# whites out, moves dirs with cached entries below, removes a dir and
# makes it again opaque; A asks again at once. Run under the shim and, as
# the oracle, on kernel overlayfs over the same layers.

bats_require_minimum_version 1.5.0

load ../lib/common
load ../lib/oracle
load ../lib/asker

setup() {
	make_layers
	echo low >"$LOWER/gone"
	echo old >"$LOWER/cu"
	mkdir -p "$LOWER/a/b/c" "$LOWER/ld" "$LOWER/od" "$LOWER2/od"
	echo deep >"$LOWER/a/b/c/f"
	echo r >"$LOWER/rn"
	echo l >"$LOWER/ld/x"
	echo o >"$LOWER/od/x"
	echo o2 >"$LOWER2/od/y"
}

teardown() {
	[ -z "${A_PID:-}" ] || kill "$A_PID" 2>/dev/null || true
	unmount_union
}

# Process A: answers "e PATH" (exists?), "d PATH" (a dir?) and "f PATH"
# (its first line) on the FIFOs, one line each, until "q".
start_a() {
	mkfifo "$ROOT/cmd" "$ROOT/res"
	"${RUN[@]}" bash -c '
		exec 3<"$1" 4>"$2"
		while read -r op p <&3; do
			case $op in
			e) if [ -e "$p" ]; then echo "$p yes"; else echo "$p no"; fi ;;
			d) if [ -d "$p" ]; then echo "$p dir"; else echo "$p nodir"; fi ;;
			f) if [ -f "$p" ] && read -r l <"$p"; then echo "$p: $l"; else echo "$p: none"; fi ;;
			q) exit 0 ;;
			esac >&4
		done' _ "$ROOT/cmd" "$ROOT/res" &
	A_PID=$!
	exec 5>"$ROOT/cmd" 6<"$ROOT/res"
}

stop_a() {
	echo q >&5
	wait "$A_PID"
	A_PID=
	exec 5>&- 6<&-
}

# ask OP REL...: A's answers, the union dir's name made "U"
ask() {
	local rel ans
	for rel in "$@"; do
		[ "$rel" = "${rel#[edf] }" ] && rel="e $rel"
		echo "${rel%% *} $U/${rel#* }" >&5
		read -r ans <&6
		echo "${ans//$U/U}"
	done
}


changes_seen() {
	use_union "$1"
	start_a
	local got
	got=$(
		ask "e new" "e new/x"
		b 'echo x >"$1/new"'
		ask "f new"
		ask "f gone"
		b 'rm "$1/gone"'
		ask "f gone" "e gone"
		ask "f cu" "f a/b/c/f"
		b 'echo new >"$1/cu"; echo deeper >"$1/a/b/c/f"'
		ask "f cu" "f a/b/c/f"
		ask "f rn" "e rn2"
		b 'mv "$1/rn" "$1/rn2"'
		ask "e rn" "f rn2"
		ask "d nd" "e nd/x"
		b 'mkdir "$1/nd" && echo y >"$1/nd/x"'
		ask "d nd" "f nd/x"
		b 'mkdir -p "$1/ud/in" && echo z >"$1/ud/in/f"'
		ask "f ud/in/f" "e ud2/in/f" "d ud2"
		b 'mv "$1/ud" "$1/ud2"'
		ask "e ud/in/f" "d ud" "f ud2/in/f"
		ask "f ld/x" "e ld2/x"
		b 'mv "$1/ld" "$1/ld2"'
		ask "e ld/x" "f ld2/x"
		ask "f od/x" "f od/y"
		b 'rm -r "$1/od" && mkdir "$1/od"'
		ask "d od" "e od/x" "e od/y"
		b 'ln -s cu "$1/sl"'
		ask "f sl"
		b 'rm "$1/sl" && ln -s rn2 "$1/sl"'
		ask "f sl"
		b 'rm "$1/a/b/c/f" && mkdir "$1/a/b/c/f" && echo in >"$1/a/b/c/f/g"'
		ask "d a/b/c/f" "f a/b/c/f/g"
	)
	stop_a
	expect "A process sees at once what another process of the union changed ($1)" \
		"U/new no
U/new/x no
U/new: x
U/gone: low
U/gone: none
U/gone no
U/cu: old
U/a/b/c/f: deep
U/cu: new
U/a/b/c/f: deeper
U/rn: r
U/rn2 no
U/rn no
U/rn2: r
U/nd nodir
U/nd/x no
U/nd dir
U/nd/x: y
U/ud/in/f: z
U/ud2/in/f no
U/ud2 nodir
U/ud/in/f no
U/ud nodir
U/ud2/in/f: z
U/ld/x: l
U/ld2/x no
U/ld/x no
U/ld2/x: l
U/od/x: o
U/od/y: o2
U/od dir
U/od/x no
U/od/y no
U/sl: new
U/sl: r
U/a/b/c/f dir
U/a/b/c/f/g: in" "$got"
	verdict
}

@test "another process's rename, unlink, mkdir, copy-up, whiteout and dir moves are seen at once (shim)" {
	changes_seen shim
}

@test "another process's rename, unlink, mkdir, copy-up, whiteout and dir moves are seen at once (overlayfs oracle)" {
	changes_seen overlayfs
}

@test "a process sees its own changes and its children's at once" {
	run in_union bash -c '
		U=$1
		[ -e "$U/n" ] || echo "n missing"
		echo 1 >"$U/n"; read -r l <"$U/n"; echo "n: $l"
		read -r l <"$U/cu"; echo "cu: $l"
		echo 2 >"$U/cu"; read -r l <"$U/cu"; echo "cu: $l"
		mv "$U/n" "$U/m"; [ -e "$U/n" ] || echo "n gone"
		mkdir "$U/dd"; [ -d "$U/dd" ] && echo "dd dir"
		rmdir "$U/dd"; [ -e "$U/dd" ] || echo "dd gone"' _ "$TARGET"
	[ "$status" -eq 0 ]
	[ "$output" = "n missing
n: 1
cu: old
cu: 2
n gone
dd dir
dd gone" ]
}

# posix_spawn's open actions run in the child, past every wrapper: a name
# they create is seen by the spawning process, which had it cached missing.
spawn_created() {
	use_union "$1"
	local got
	got=$(cd "$ROOT" && "${RUN[@]}" "$(probe spawn_actions)" "seen:$U/made" \
		"append:3:$U/made" -- /bin/true 2>&1)
	expect "A name a spawn's open action made is seen by the spawner ($1)" \
		"spawn: OK, exit=0
seen $U/made: no, then yes" "$got"
	verdict
}

@test "a name made by a posix_spawn open action is seen by the spawner (shim)" {
	spawn_created shim
}

@test "a name made by a posix_spawn open action is seen by the spawner (overlayfs oracle)" {
	spawn_created overlayfs
}

# A dir fd's union path is remembered (no readlink of /proc/self/fd per
# *at() call), and follows the dir when another process renames a dir
# above it, as the kernel's fd follows the object.
dirfd_follows() {
	use_union "$1"
	b 'mkdir -p "$1/p/d" && echo v >"$1/p/d/x"'
	mkfifo "$ROOT/go" "$ROOT/ready"
	local got
	got=$("${RUN[@]}" python3 -c '
import os, sys
fd = os.open(sys.argv[1] + "/p/d", os.O_RDONLY | os.O_DIRECTORY)
def has(n):
    try:
        os.stat(n, dir_fd=fd)
        return "yes"
    except FileNotFoundError:
        return "no"
print("x", has("x"), flush=True)
open(sys.argv[3], "w").write("ready")
open(sys.argv[2]).read()
print("x", has("x"), "z", has("z"))
os.close(os.open("y", os.O_WRONLY | os.O_CREAT, 0o644, dir_fd=fd))
' "$U" "$ROOT/go" "$ROOT/ready" &
	cat "$ROOT/ready" >/dev/null
	b 'mv "$1/p" "$1/q" && echo w >"$1/q/d/z"'
	echo go >"$ROOT/go"
	wait)
	got+=$'\n'$(b 'ls "$1/q/d"; [ -e "$1/p" ] || echo "p gone"')
	expect "A dir fd follows its dir renamed by another process ($1)" \
		"x yes
x yes z yes
x
y
z
p gone" "$got"
	verdict
}

@test "a dir fd follows its dir when another process renames a dir above it (shim)" {
	dirfd_follows shim
}

@test "a dir fd follows its dir when another process renames a dir above it (overlayfs oracle)" {
	dirfd_follows overlayfs
}

@test "*at() calls on a union dir fd do not readlink /proc/self/fd each time" {
	command -v strace >/dev/null || skip "no strace"
	mkdir -p "$LOWER/a/b"
	echo f >"$LOWER/a/b/f"
	fd=$(in_union strace -f -qq -e trace=readlink,readlinkat -o "$ROOT/trace" python3 -c '
import os, sys
fd = os.open(sys.argv[1], os.O_RDONLY | os.O_DIRECTORY)
print(fd)
for i in range(200):
    os.stat("b/f", dir_fd=fd)
    os.close(os.open("b/f", os.O_RDONLY, dir_fd=fd))
' "$TARGET/a")
	n=$(grep -c "\"/proc/self/fd/$fd\"" "$ROOT/trace" || true)
	echo "readlinks of /proc/self/fd/$fd: $n"
	[ "$n" -le 2 ]
}
