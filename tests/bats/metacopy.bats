#!/usr/bin/env bats
# Promise (semantics.md "Copy-up": "Metadata only where that is enough";
# issue 12, "Metadata-only copy-up"): chmod, chown, utimes and xattr
# changes of a lower file copy its metadata only; stat shows the change at
# once with the lower's size and blocks and the same st_ino; reads, mmap,
# sendfile, copy_file_range and exec read the lower data; the first open
# for writing (or truncate, rename, link) brings the data up, and fds
# opened before keep reading the right bytes. Each scenario runs under the
# shim and, as the oracle, on kernel overlayfs mounted with
# metacopy=on,redirect_dir=on,index=on.

bats_require_minimum_version 1.5.0

load ../lib/common
load ../lib/itest
load ../lib/oracle
load ../lib/copyup

OVL_OPTS=metacopy=on,redirect_dir=on,index=on,xino=on

setup() {
	make_layers
	local f
	for f in m1 m2 m3 m4 m5; do
		head -c 1M /dev/urandom >"$LOWER/$f"
	done
	chmod 644 "$LOWER"/m*
	# scripts big enough for a metacopy (64 KiB and more)
	{
		echo '#!/bin/sh'
		echo 'echo ran'
		for f in $(seq 3000); do echo "# padding line $f of a big script"; done
	} >"$LOWER/s1"
	cp "$LOWER/s1" "$LOWER/s2"
	chmod 644 "$LOWER/s1"
	chmod 755 "$LOWER/s2"
	LOWER_BEFORE=$(lower_state)
}

teardown() {
	unmount_union
}

sum() { sha256sum | cut -d' ' -f1; }

# "nodata" when the real upper file REL holds no data blocks (a metacopy:
# at most an xattr block), else "data".
upper_kind() {
	local b
	b=$(stat -c %b "$UPPER/$1")
	if ((b * 512 < 65536)); then echo nodata; else echo data; fi
}

# the union's view of REL: mode, owner, size, blocks, inode
ustat() {
	"${RUN[@]}" stat -c '%a %u:%g %s %b %i' "$U/$1"
}

scenario_meta() {
	local f ino=() lb
	lb=$(stat -c %b "$LOWER/m1")
	for f in m1 m2 m3 m4; do ino+=("$("${RUN[@]}" stat -c %i "$U/$f")"); done
	"${RUN[@]}" chmod 600 "$U/m1"
	"${RUN[@]}" chown 1234:2345 "$U/m2"
	"${RUN[@]}" touch -h -d @1000000000 "$U/m3"
	"${RUN[@]}" setfattr -n user.color -v red "$U/m4"
	expect "chmod shows at once, size, blocks and inode kept" \
		"600 0:0 1048576 $lb ${ino[0]}" "$(ustat m1)"
	expect "chown shows at once, size, blocks and inode kept" \
		"644 1234:2345 1048576 $lb ${ino[1]}" "$(ustat m2)"
	expect "utimes shows at once, size, blocks and inode kept" \
		"1000000000 644 1048576 $lb ${ino[2]}" \
		"$("${RUN[@]}" stat -c '%Y %a %s %b %i' "$U/m3")"
	expect "setxattr shows at once, inode kept" "red ${ino[3]}" \
		"$("${RUN[@]}" getfattr -n user.color --only-values "$U/m4") $("${RUN[@]}" stat -c %i "$U/m4")"
	for f in m1 m2 m3 m4; do
		expect "$f: a metadata change copies no data" nodata "$(upper_kind "$f")"
		expect "$f: reads give the lower data" "$(sum <"$LOWER/$f")" \
			"$("${RUN[@]}" cat "$U/$f" | sum)"
	done
	expect "the shim's record is hidden" "" \
		"$("${RUN[@]}" getfattr -d -m - "$U/m1" 2>/dev/null | grep unionshim)"
	expect "the lower is untouched" "$LOWER_BEFORE" "$(lower_state)"
}

@test "chmod, chown, utimes and setxattr of a lower file copy its metadata only (shim)" {
	use_union shim
	scenario_meta
	verdict
}

@test "chmod, chown, utimes and setxattr of a lower file copy its metadata only (overlayfs)" {
	use_union overlayfs
	scenario_meta
	verdict
}

scenario_write() {
	local ino want
	ino=$("${RUN[@]}" stat -c %i "$U/m1")
	"${RUN[@]}" chmod 600 "$U/m1" "$U/m2" "$U/m3"
	expect "before the write: metacopies" "nodata nodata nodata" \
		"$(upper_kind m1) $(upper_kind m2) $(upper_kind m3)"
	"${RUN[@]}" sh -c 'echo tail >>"$1"' _ "$U/m1"
	want=$( (cat "$LOWER/m1"; echo tail) | sum)
	expect "append after chmod: lower data and the write" "$want" "$("${RUN[@]}" cat "$U/m1" | sum)"
	expect "append after chmod: the upper holds the data" "$want" "$(sum <"$UPPER/m1")"
	expect "append after chmod: mode and inode kept" "600 $ino" \
		"$("${RUN[@]}" stat -c '%a %i' "$U/m1")"
	"${RUN[@]}" sh -c 'echo new >"$1"' _ "$U/m2"
	expect "O_TRUNC after chmod: the new data only, mode kept" "new 600" \
		"$("${RUN[@]}" cat "$U/m2") $("${RUN[@]}" stat -c %a "$U/m2")"
	"${RUN[@]}" truncate -s 100000 "$U/m3"
	expect "truncate after chmod: the lower's first bytes" \
		"$(head -c 100000 "$LOWER/m3" | sum) 600" \
		"$("${RUN[@]}" cat "$U/m3" | sum) $("${RUN[@]}" stat -c %a "$U/m3")"
	# a sparse write far out: the file must not be taken for a metacopy
	"${RUN[@]}" chmod 600 "$U/m4"
	"${RUN[@]}" sh -c ': >"$1"' _ "$U/m4"
	"${RUN[@]}" truncate -s 2M "$U/m4"
	expect "a truncated metacopy grown sparse reads zeros" \
		"$(head -c 2M /dev/zero | sum)" "$("${RUN[@]}" cat "$U/m4" | sum)"
	expect "the lower is untouched" "$LOWER_BEFORE" "$(lower_state)"
}

@test "the first write after a metadata change brings the data up (shim)" {
	use_union shim
	scenario_write
	verdict
}

@test "the first write after a metadata change brings the data up (overlayfs)" {
	use_union overlayfs
	scenario_write
	verdict
}

# A program holding fds on m1 across its metacopy and its data copy-up.
FDS_PY='
import os, subprocess, sys
p, low, up = sys.argv[1], open(sys.argv[2], "rb").read(), sys.argv[3]
fd = os.open(p, os.O_RDONLY)
a = os.read(fd, 4)
subprocess.run(["chmod", "640", p], check=True)     # another process
st = os.fstat(fd)
print("fd before, after a chmod elsewhere:", oct(st.st_mode & 0o7777), st.st_size)
os.chmod(p, 0o600)                                   # this process
b = os.read(fd, 4)
st = os.fstat(fd)
print("fd before, after a chmod here:", oct(st.st_mode & 0o7777), st.st_size, a + b == low[:8])
subprocess.run(["setfattr", "-n", "user.color", "-v", "red", p], check=True)
print("xattrs through the fd:", os.getxattr(fd, "user.color"), "user.color" in os.listxattr(fd))
fd2 = os.open(p, os.O_RDONLY)
st = os.fstat(fd2)
print("fd on the metacopy:", oct(st.st_mode & 0o7777), st.st_size, os.pread(fd2, 8, 4) == low[4:12])
print("the upper holds no data yet:", os.stat(up).st_blocks * 512 < 65536)
subprocess.run(["sh", "-c", "echo tail >>\"$0\"", p], check=True)
for f in (fd, fd2):
    st = os.fstat(f)
    print("after the data copy-up:", oct(st.st_mode & 0o7777), st.st_size,
          os.pread(f, 5, st.st_size - 5), os.read(f, 4) == low[8:12] if f == fd else "")
'

scenario_fds() {
	local out
	out=$("${RUN[@]}" python3 -c "$FDS_PY" "$U/m1" "$LOWER/m1" "$UPPER/m1" 2>&1)
	expect "fds opened before and on a metacopy read and stat right" \
		"fd before, after a chmod elsewhere: 0o640 1048576
fd before, after a chmod here: 0o600 1048576 True
xattrs through the fd: b'red' True
fd on the metacopy: 0o600 1048576 True
the upper holds no data yet: True
after the data copy-up: 0o600 1048581 b'tail\n' True
after the data copy-up: 0o600 1048581 b'tail\n' " "$out"
}

@test "fds opened before a metacopy and on it stat and read right across the data copy-up (shim)" {
	use_union shim
	scenario_fds
	verdict
}

@test "fds opened before a metacopy and on it stat and read right across the data copy-up (overlayfs)" {
	use_union overlayfs
	scenario_fds
	verdict
}

READS_PY='
import mmap, os, sys
p, low, out = sys.argv[1], open(sys.argv[2], "rb").read(), sys.argv[3]
fd = os.open(p, os.O_RDONLY)
m = mmap.mmap(fd, 0, prot=mmap.PROT_READ)
print("mmap", m[:] == low)
o = os.open(out + ".sf", os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
n = 0
while n < len(low):
    n += os.sendfile(o, fd, n, len(low) - n)
os.close(o)
print("sendfile", open(out + ".sf", "rb").read() == low)
o = os.open(out + ".cfr", os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
n = 0
while n < len(low):
    n += os.copy_file_range(fd, o, len(low) - n, n, n)
os.close(o)
print("copy_file_range", open(out + ".cfr", "rb").read() == low)
'

scenario_reads() {
	"${RUN[@]}" chmod 600 "$U/m5"
	expect "mmap, sendfile and copy_file_range of a metacopy read the lower data" \
		"mmap True
sendfile True
copy_file_range True" "$("${RUN[@]}" python3 -c "$READS_PY" "$U/m5" "$LOWER/m5" "$U/out" 2>&1)"
	expect "reads copy no data" nodata "$(upper_kind m5)"
	"${RUN[@]}" chmod 755 "$U/s1"
	expect "exec of a script made executable by chmod" ran \
		"$("${RUN[@]}" sh -c '"$1"' _ "$U/s1" 2>&1)"
	"${RUN[@]}" touch -h -d @1000000000 "$U/s2"
	expect "exec of a metacopy runs it" ran "$("${RUN[@]}" sh -c '"$1"' _ "$U/s2" 2>&1)"
	expect "exec of a metacopy with the lower's mode copies no data" nodata "$(upper_kind s2)"
	expect "the lower is untouched" "$LOWER_BEFORE" "$(lower_state)"
}

@test "mmap, sendfile, copy_file_range and exec of a metacopy read the lower data (shim)" {
	use_union shim
	scenario_reads
	verdict
}

@test "mmap, sendfile, copy_file_range and exec of a metacopy read the lower data (overlayfs)" {
	use_union overlayfs
	scenario_reads
	verdict
}

scenario_names() {
	local ino
	ino=$("${RUN[@]}" stat -c %i "$U/m1")
	"${RUN[@]}" chmod 600 "$U/m1" "$U/m2" "$U/m3"
	expect "before: metacopies" "nodata nodata nodata" \
		"$(upper_kind m1) $(upper_kind m2) $(upper_kind m3)"
	"${RUN[@]}" mv "$U/m1" "$U/m1b"
	expect "rename of a metacopy: data, mode and inode go along" \
		"$(sum <"$LOWER/m1") 600 $ino" \
		"$("${RUN[@]}" cat "$U/m1b" | sum) $("${RUN[@]}" stat -c '%a %i' "$U/m1b")"
	"${RUN[@]}" ln "$U/m2" "$U/m2l"
	expect "link of a metacopy: both names read the lower data, one inode" \
		"$(sum <"$LOWER/m2") $(sum <"$LOWER/m2") 2 2 true" \
		"$("${RUN[@]}" cat "$U/m2" | sum) $("${RUN[@]}" cat "$U/m2l" | sum) $("${RUN[@]}" stat -c '%h' "$U/m2") $("${RUN[@]}" stat -c '%h' "$U/m2l") $([ "$("${RUN[@]}" stat -c %i "$U/m2")" = "$("${RUN[@]}" stat -c %i "$U/m2l")" ] && echo true)"
	"${RUN[@]}" sh -c 'echo tail >>"$1"' _ "$U/m2l"
	expect "a write through the link is read through the other name" "tail" \
		"$("${RUN[@]}" tail -c 5 "$U/m2")"
	"${RUN[@]}" rm "$U/m3"
	expect "unlink of a metacopy: gone" "no" \
		"$("${RUN[@]}" sh -c '[ -e "$1" ] && echo yes || echo no' _ "$U/m3")"
	expect "the lower is untouched" "$LOWER_BEFORE" "$(lower_state)"
}

@test "rename, link and unlink of a metacopy (shim)" {
	use_union shim
	scenario_names
	verdict
}

@test "rename, link and unlink of a metacopy (overlayfs)" {
	use_union overlayfs
	scenario_names
	verdict
}

@test "chmod of a lower 64 MiB file reads none of its data (strace)" {
	command -v strace >/dev/null || skip "no strace"
	head -c 64M /dev/urandom >"$LOWER/huge"
	use_union shim
	in_union strace -f -o "$ROOT/trace" chmod 600 "$U/huge"
	# the calls that move data between files, on any fd
	run grep -E 'copy_file_range|sendfile|splice|FICLONE' "$ROOT/trace"
	echo "$output"
	[ "$status" -eq 1 ]
	# no read of any kind on an fd open on the lower file
	run awk '
		/openat\(.*lower\/huge"/ { fd = $NF; open_[fd] = 1; opened++ }
		/close\(/ { c = $0; sub(/.*close\(/, "", c); sub(/\).*/, "", c); open_[c] = 0 }
		/(read|pread64|preadv|preadv2|readv|mmap)\(/ {
			for (fd in open_) if (open_[fd] && ($0 ~ "\\(" fd ", " || $0 ~ ", " fd ", 0)")) print
		}
		END { print "opened", opened + 0 }' "$ROOT/trace"
	echo "$output"
	[ "${#lines[@]}" -eq 1 ] && [[ ${lines[0]} == opened* ]]
	same nodata "$(upper_kind huge)"
	same "600 67108864" "$(in_union stat -c '%a %s' "$U/huge")"
}

scenario_loader() {
	"${RUN[@]}" touch -h -d @1000000000 "$U/lib/libbig.so" "$U/bin/usebig"
	expect "a program and its library made metacopies" "nodata nodata" \
		"$(upper_kind lib/libbig.so) $(upper_kind bin/usebig)"
	expect "the loader maps a metacopy library's data (DT_RUNPATH, LD_LIBRARY_PATH)" \
		"big 7
big 7" "$("${RUN[@]}" sh -c '"$1"/bin/usebig; LD_LIBRARY_PATH="$1"/lib "$1"/bin/usebig' _ "$U" 2>&1)"
	expect "loading copies no data" "nodata nodata" \
		"$(upper_kind lib/libbig.so) $(upper_kind bin/usebig)"
}

# A library and a program of 64 KiB and more (so the shim makes
# metacopies of them too).
build_big_lib() {
	mkdir -p "$LOWER/lib" "$LOWER/bin"
	printf 'char pad[100000] = {1};\nint big(void) { return 7 + pad[99999]; }\n' >"$ROOT/big.c"
	printf '#include <stdio.h>\nint big(void);\nchar pad2[100000] = {1};\nint main(void) { printf("big %%d\\n", big() + pad2[99999]); return 0; }\n' >"$ROOT/usebig.c"
	cc -shared -fPIC -o "$LOWER/lib/libbig.so" "$ROOT/big.c"
	cc -o "$LOWER/bin/usebig" "$ROOT/usebig.c" -L"$LOWER/lib" -lbig \
		-Wl,--enable-new-dtags,-rpath,"$TARGET/lib"
	LOWER_BEFORE=$(lower_state)
}

@test "a library and a program made metacopies load and run from their lower data (shim)" {
	build_big_lib
	use_union shim
	scenario_loader
	verdict
}

@test "a library and a program made metacopies load and run from their lower data (overlayfs)" {
	build_big_lib
	use_union overlayfs
	scenario_loader
	verdict
}
