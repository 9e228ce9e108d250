#!/usr/bin/env bats
# Promise (semantics.md "Processes"): the dynamic loader sees the union.
# A library built in the union is the one loaded, found by
# LD_LIBRARY_PATH (absolute and relative), DT_RUNPATH, DT_RPATH and
# $ORIGIN, as a dlopen'd library's DT_NEEDED too, while an older copy
# waits where the loader would otherwise pick it (a lower layer, a system-
# like dir outside the union); a library the union hides is not loaded
# from the lower. Each scenario runs under the shim, started with
# LD_PRELOAD only (its children get the audit library), and on kernel
# overlayfs, which must agree.

bats_require_minimum_version 1.5.0

load ../lib/common
load ../lib/oracle

setup_file() {
	local d=$BATS_FILE_TMPDIR
	printf 'int foo_version(void) { return VER; }\n' >"$d/foo.c"
	for v in 1 2 3; do
		cc -shared -fPIC -DVER=$v -Wl,-soname,libfoo.so -o "$d/libfoo$v.so" "$d/foo.c"
	done
	cat >"$d/prog.c" <<'EOC'
#include <stdio.h>
int foo_version(void);
int main(void) { printf("foo %d\n", foo_version()); return 0; }
EOC
	cat >"$d/envprog.c" <<'EOC'
#include <stdio.h>
#include <stdlib.h>
int foo_version(void);
int main(void)
{
	const char *names[] = {"LD_AUDIT", "GLIBC_TUNABLES"};
	for (int i = 0; i < 2; i++)
		if (getenv(names[i]))
			printf("%s=%s\n", names[i], getenv(names[i]));
	return foo_version() > 0 ? 0 : 1;
}
EOC
	cat >"$d/bar.c" <<'EOC'
#include <stdio.h>
int foo_version(void);
const char *probe(void)
{
	static char s[32];
	snprintf(s, sizeof s, "bar sees foo %d", foo_version());
	return s;
}
EOC
}

setup() {
	make_layers
	BROKEN=()
	local d=$BATS_FILE_TMPDIR
	SYS=$ROOT/sys # a system-like dir outside the union: the old copy
	# ld.so run as a command moves argv: the audit library reads the
	# environment from the initial stack
	RTLD=$(readelf -l /bin/sh | sed -n 's/.*interpreter: \(.*\)\]$/\1/p')
	mkdir -p "$SYS" "$LOWER/lib" "$LOWER/bin" "$LOWER/build"
	cp "$d/libfoo1.so" "$SYS/libfoo.so"
	cp "$d/libfoo1.so" "$LOWER/lib/libfoo.so"   # an older build in the lower
	cp "$d/libfoo1.so" "$LOWER/build/libfoo.so"
	cp "$d/libfoo2.so" "$ROOT/libfoo-new.so"     # what the job builds
	# programs linked against the old copy, each with its search path
	cc -o "$LOWER/bin/plain" "$d/prog.c" -L"$SYS" -lfoo
	cc -o "$LOWER/bin/runpath" "$d/prog.c" -L"$SYS" -lfoo -Wl,--enable-new-dtags,-rpath,"$TARGET/build:$SYS"
	cc -o "$LOWER/bin/rpath" "$d/prog.c" -L"$SYS" -lfoo -Wl,--disable-new-dtags,-rpath,"$TARGET/build:$SYS"
	cc -o "$LOWER/bin/origin" "$d/prog.c" -L"$SYS" -lfoo -Wl,-rpath,'$ORIGIN/../lib:'"$SYS"
	cc -shared -fPIC -o "$LOWER/lib/libbar.so" "$d/bar.c" -L"$SYS" -lfoo -Wl,-rpath,'$ORIGIN'
	# libm searched first: ld.so's own walk must not write off build/
	cc -o "$LOWER/bin/order" "$d/prog.c" -Wl,--no-as-needed -lm -L"$SYS" -lfoo \
		-Wl,--disable-new-dtags,-rpath,"$TARGET/build"
	cc -o "$LOWER/bin/dl" "$BATS_TEST_DIRNAME/../probes/exec_dlopen.c" -Wl,-rpath,"$TARGET/lib"
	# for ld.so run as a command (it opens the program itself, before any
	# audit library is loaded: the program lies outside the union)
	cc -o "$ROOT/plain" "$d/prog.c" -L"$SYS" -lfoo
	cc -o "$ROOT/runpath" "$d/prog.c" -L"$SYS" -lfoo -Wl,--enable-new-dtags,-rpath,"$TARGET/build:$SYS"
	# what a child's loader was given, by a program with a library of its
	# own found by its search path
	cp "$d/libfoo1.so" "$ROOT/libfoo.so"
	cc -o "$ROOT/envprog-origin" "$d/envprog.c" -L"$SYS" -lfoo -Wl,-rpath,'$ORIGIN'
}

teardown() {
	unmount_union
}

# In the union: the new library lands in build/ and lib/ (upper), over the
# lower's old copies.
install_new() {
	"${RUN[@]}" sh -c "mkdir -p '$U/build' && cp '$ROOT/libfoo-new.so' '$U/build/libfoo.so' &&
		cp '$ROOT/libfoo-new.so' '$U/lib/libfoo.so'"
}

# Every route, as one shell under RUN; one line per route.
routes() {
	"${RUN[@]}" sh -c "
		echo abs \$(LD_LIBRARY_PATH='$U/build:$SYS' '$U/bin/plain')
		cd '$U/bin' && echo rel \$(LD_LIBRARY_PATH='../build:$SYS' ./plain)
		echo runpath \$('$U/bin/runpath')
		echo rpath \$('$U/bin/rpath')
		echo origin \$('$U/bin/origin')
		echo env-i \$(env -i LD_LIBRARY_PATH='$U/build' '$U/bin/plain')
		echo dlopen \$('$(probe exec_dlopen)' '$U/lib/libbar.so')
		echo dlopen-name \$(LD_LIBRARY_PATH='$U/lib:$SYS' '$(probe exec_dlopen)' libbar.so)
		echo dlopen-runpath \$('$U/bin/dl' libbar.so)
		echo order \$('$U/bin/order')
		echo ldso-cmd \$(UNIONSHIM_ALLOW_UNFOLLOWED=1 LD_LIBRARY_PATH='$U/build:$SYS' '$RTLD' --argv0 x '$ROOT/plain' a b c)
		echo ldso-runpath \$(UNIONSHIM_ALLOW_UNFOLLOWED=1 '$RTLD' '$ROOT/runpath')
	" 2>&1
}

want_new="abs foo 2
rel foo 2
runpath foo 2
rpath foo 2
origin foo 2
env-i foo 2
dlopen bar sees foo 2
dlopen-name bar sees foo 2
dlopen-runpath bar sees foo 2
order foo 2
ldso-cmd foo 2
ldso-runpath foo 2"

@test "the loader finds a library built in the union by every search route (shim)" {
	use_union shim
	install_new
	expect "every route loads the new library" "$want_new" "$(routes)"
	verdict
}

@test "the loader finds a library built in the union by every search route (overlayfs)" {
	use_union overlayfs
	install_new
	expect "every route loads the new library" "$want_new" "$(routes)"
	verdict
}

# A removed library stays removed: the next dir of the search path wins
# ($ORIGIN names the real lower dir, which still holds the old copy).
hidden() {
	"${RUN[@]}" sh -c "rm '$U/build/libfoo.so' '$U/lib/libfoo.so'" || return
	cp "$BATS_FILE_TMPDIR/libfoo3.so" "$SYS/libfoo.so"
	"${RUN[@]}" sh -c "
		echo abs \$(LD_LIBRARY_PATH='$U/build:$SYS' '$U/bin/plain')
		echo runpath \$('$U/bin/runpath')
		echo origin \$('$U/bin/origin')
		echo dlopen \$('$(probe exec_dlopen)' '$U/build/libfoo.so' | grep -o 'cannot open shared object file')
	" 2>&1
}

want_hidden="abs foo 3
runpath foo 3
origin foo 3
dlopen cannot open shared object file"

@test "a library the union removed is not loaded from the lower (shim)" {
	use_union shim
	expect "removed libraries stay removed" "$want_hidden" "$(hidden)"
	verdict
}

@test "a library the union removed is not loaded from the lower (overlayfs)" {
	use_union overlayfs
	expect "removed libraries stay removed" "$want_hidden" "$(hidden)"
	verdict
}

@test "the audit library does nothing without a union" {
	run env LD_AUDIT="$UNIONSHIM_BUILD/libunionshim-audit.so" LD_LIBRARY_PATH="$SYS" "$LOWER/bin/plain"
	[ "$status" -eq 0 ]
	[ "$output" = "foo 1" ]
}

@test "unionrun sets LD_AUDIT; the shim carries it into children" {
	# (python3 can dlopen: its loader may meet the union)
	run --separate-stderr "$UNIONRUN" --lower "$LOWER" --upper "$UPPER" --work "$WORK" --at "$TARGET" -- \
		env -i python3 -c 'import os; print(os.environ.get("LD_AUDIT"))'
	[ "$status" -eq 0 ]
	[ "$output" = "$UNIONSHIM_BUILD/libunionshim-audit.so" ]
	run --separate-stderr in_union env LD_AUDIT=/nonexistent/other.so sh -c 'echo "$LD_AUDIT"'
	[ "$output" = "$UNIONSHIM_BUILD/libunionshim-audit.so:/nonexistent/other.so" ]
}

# A child whose loader can open only the system's libraries goes without
# the audit module (loaderquiet.c): its program needs glibc alone, has no
# search path, cannot dlopen, lies outside the union, and nothing in its
# environment (a library path into a union) or the union's place steers
# the loader. Any one of those missing brings the module back.
@test "the audit module is loaded only where the loader may meet the union" {
	audited() { grep -c 'libunionshim-audit\.so' || true; }
	[ "$(in_union sh -c 'cat /proc/self/maps' | audited)" -eq 0 ]
	[ -z "$(in_union sh -c 'env' | grep '^LD_AUDIT=')" ]
	# a program that can dlopen
	[ "$(in_union sh -c "/usr/bin/python3 -c 'print(open(\"/proc/self/maps\").read())'" | audited)" -gt 0 ]
	# a program with a library of its own (grep needs libpcre2), one with a
	# search path of its own
	[ "$(in_union sh -c 'grep -h . /proc/self/maps' | audited)" -gt 0 ]
	[ "$(in_union sh -c "'$ROOT/envprog-origin'" | grep -c '^LD_AUDIT=')" -eq 1 ]
	# a library path into the union (one outside every union is nothing
	# to a program that needs glibc alone)
	[ "$(in_union sh -c "LD_LIBRARY_PATH=/nowhere:$TARGET/lib cat /proc/self/maps" | audited)" -gt 0 ]
	[ "$(in_union sh -c 'LD_LIBRARY_PATH=/nowhere cat /proc/self/maps' | audited)" -eq 0 ]
	# a preload of the program's own
	[ "$(in_union sh -c "LD_PRELOAD=\"\$LD_PRELOAD:$BATS_FILE_TMPDIR/libfoo1.so\" cat /proc/self/maps" | audited)" -gt 0 ]
	# the same glibc-only program, in the union
	cp /bin/cat "$LOWER/bin/cat"
	[ "$(in_union sh -c "'$TARGET/bin/cat' /proc/self/maps" | audited)" -gt 0 ]
	# a union over a dir the system's loader searches (here /etc)
	mkdir "$BATS_TEST_TMPDIR/etc"
	[ "$("$UNIONRUN" -q --lower "$LOWER" --upper "$UPPER" --work "$WORK" --at "$TARGET" \
		--mount "lowerdir=/etc,target=$BATS_TEST_TMPDIR/etc" -- \
		sh -c 'cat /proc/self/maps' | audited)" -gt 0 ]
}

# The audit library is loaded, where it is, into a link namespace of its
# own: it must bring no libc there (a second libc mapped, relocated and
# started per exec was most of an exec's cost).
@test "the audit library maps no second libc into its namespace" {
	use_union shim
	run --separate-stderr in_union env LD_DEBUG=files "$(probe exec_dlopen)" /nonexistent.so
	[ "$status" -eq 1 ]
	grep -q 'libunionshim-audit.so \[1\];  generating link map' <<<"$stderr"
	run grep -E 'file=[^ ]*libc\.so[^ ]* \[1\]' <<<"$stderr"
	[ "$status" -eq 1 ]
}

# With the audit module the loader sets the static TLS out before it maps
# the program's libraries, which must then fit in its reserve (1-2 KiB):
# a library whose code reaches its TLS by the initial-exec model (rustc's
# driver: 24 KiB) did not ("cannot allocate memory in static TLS block").
# A child given the module gets a reserve that holds them
# (GLIBC_TUNABLES); one that needs no module gets neither.
@test "a program whose library takes 32 KiB of static TLS starts in the union with the audit module" {
	local d=$BATS_TEST_TMPDIR/tls
	mkdir -p "$d"
	printf '%s\n' '__thread char big[32768] __attribute__((tls_model("initial-exec")));' \
		'int tls_touch(void) { big[32767] = 7; return big[32767]; }' >"$d/big.c"
	printf '%s\n' '#include <stdio.h>' 'int tls_touch(void);' \
		'int main(void) { printf("tls %d\n", tls_touch()); return 0; }' >"$d/prog.c"
	cc -shared -fPIC -o "$d/libbigtls.so" "$d/big.c"
	readelf -d "$d/libbigtls.so" | grep -q STATIC_TLS
	cc -o "$d/prog" "$d/prog.c" -L"$d" -lbigtls -Wl,-rpath,'$ORIGIN'
	run -0 "$UNIONRUN" -q --lower "$LOWER" --upper "$UPPER" --work "$WORK" --at "$TARGET" -- \
		sh -c "'$d/prog'; LD_LIBRARY_PATH='$TARGET/lib' '$d/prog'; env | grep -c '^GLIBC_TUNABLES=' || true"
	[ "$output" = "$(printf 'tls 7\ntls 7\n0')" ] # (env itself needs no reserve)
	# a reserve the program's own GLIBC_TUNABLES names is kept
	run -0 "$UNIONRUN" -q --lower "$LOWER" --upper "$UPPER" --work "$WORK" --at "$TARGET" -- \
		sh -c "GLIBC_TUNABLES=glibc.rtld.optional_static_tls=65536 LD_LIBRARY_PATH='$TARGET/lib' '$d/prog'"
	[ "$output" = "tls 7" ]
}

# A program with a malloc of its own whose start reads a file (jemalloc
# reads /etc/malloc.conf: rustc), and a library constructor that calls
# malloc before the shim's constructor ran: the shim's start runs inside
# that malloc's start, and must not call malloc again (it waited on the
# allocator's start lock forever).
@test "a program whose own malloc's start calls into the shim before the shim started runs" {
	local d=$BATS_TEST_TMPDIR/mal
	mkdir -p "$d"
	cat >"$d/prog.c" <<'EOC'
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
static pthread_mutex_t init_lock = PTHREAD_MUTEX_INITIALIZER;
static int inited;
static char *arena;
static size_t used;
static void init(void)
{
	pthread_mutex_lock(&init_lock);
	if (!inited) {
		char buf[256];
		if (readlink("/etc/malloc.conf", buf, sizeof buf) < 0)
			buf[0] = 0;
		arena = mmap(0, 64 << 20, PROT_READ | PROT_WRITE,
			     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		inited = 1;
	}
	pthread_mutex_unlock(&init_lock);
}
void *malloc(size_t n)
{
	if (!inited)
		init();
	n = (n + 15) & ~(size_t)15;
	void *p = arena + used + 16;
	*(size_t *)(arena + used) = n;
	used += n + 16;
	return p;
}
void free(void *p) { (void)p; }
void *calloc(size_t a, size_t b)
{
	void *p = malloc(a * b);
	memset(p, 0, a * b);
	return p;
}
void *realloc(void *p, size_t n)
{
	void *q = malloc(n);
	if (p)
		memcpy(q, p, ((size_t *)p)[-2] < n ? ((size_t *)p)[-2] : n);
	return q;
}
int main(void) { puts("main reached"); return 0; }
EOC
	printf '%s\n' '#include <stdlib.h>' \
		'__attribute__((constructor)) static void early(void) { free(malloc(16)); }' >"$d/early.c"
	cc -shared -fPIC -o "$d/libearly.so" "$d/early.c"
	cc -o "$d/prog" "$d/prog.c" -Wl,--no-as-needed -L"$d" -learly -Wl,-rpath,"$d" -lpthread
	run -0 timeout 20 "$UNIONRUN" -q --lower "$LOWER" --upper "$UPPER" --work "$WORK" --at "$TARGET" -- "$d/prog"
	[ "$output" = "main reached" ]
}
