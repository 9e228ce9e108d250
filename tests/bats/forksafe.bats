#!/usr/bin/env bats
# Promise (semantics.md "Robustness"; style.md rule 13): the shim's locks
# and per-process state survive what programs do with threads and forks.
# A child forked while another thread is inside the shim (holding any of
# its locks, or halfway through a chdir) never hangs; execs and spawns
# from several threads at once each pass the lock proxies on; a signal
# handler that uses union paths while its thread is inside the shim
# neither hangs nor disturbs the interrupted call; and the open path makes
# no getpid system call (the pid is cached, refreshed in every child).
# tests/probes/forksafe_probe.c does the work.

bats_require_minimum_version 1.5.0

load ../lib/common

setup() {
	make_layers
	echo data >"$LOWER/f"
	mkdir -p "$LOWER/sub" "$UPPER/sub"
	echo b >"$LOWER/sub/b"
	echo a >"$UPPER/sub/a"
}

@test "fork from a thread: a child forked while another thread is inside the shim (chdir, readdir, getdents, open, spawn, popen) never hangs" {
	run timeout 60 env LD_PRELOAD="$SHIM_LIB" UNIONSHIM_MOUNTS="$(mounts_spec)" \
		"$(probe forksafe_probe)" fork "$TARGET" 3
	[ "$status" -eq 0 ]
	[[ $output =~ ^forks\ ([0-9]+)\ ok\ ([0-9]+)\ hung\ 0\ bad\ 0$ ]]
	[ "${BASH_REMATCH[1]}" = "${BASH_REMATCH[2]}" ]
	[ "${BASH_REMATCH[1]}" -ge 50 ] # enough forks to mean something
}

@test "spawns from several threads at once: every child gets the lock proxy of the fds it inherits" {
	command -v flock >/dev/null
	run timeout 60 env LD_PRELOAD="$SHIM_LIB" UNIONSHIM_MOUNTS="$(mounts_spec)" \
		"$(probe forksafe_probe)" spawnlocks "$TARGET" 3
	[ "$status" -eq 0 ]
	[[ $output =~ ^spawns\ ([0-9]+)\ lost\ 0$ ]]
	[ "${BASH_REMATCH[1]}" -ge 100 ]
}

@test "no getpid system call on the open path (union paths, absolute paths outside, stat, dup, close)" {
	run timeout 60 env LD_PRELOAD="$SHIM_LIB" UNIONSHIM_MOUNTS="$(mounts_spec)" \
		"$(probe forksafe_probe)" opens "$TARGET" 500
	[ "$status" -eq 0 ]
	[ "$output" = "getpid 0 bad 0" ]
}

@test "every mutex of the library is in forks.c's table, which the fork handler takes" {
	cd "$BATS_TEST_DIRNAME/../../shim"
	run grep -r -E 'pthread_(mutex|rwlock|spin)_t\b|PTHREAD_MUTEX_INITIALIZER|pthread_atfork' \
		--include='*.c' --include='*.h' .
	# forks.c/h own them; the core's two locks are taken by forks.c
	[ "$(grep -v -E '^\./forks\.[ch]:' <<<"$output" | sort)" = "./core/origincache.c:pthread_mutex_t us_origincache_lock = PTHREAD_MUTEX_INITIALIZER;
./core/shared.c:pthread_mutex_t us_shared_lock = PTHREAD_MUTEX_INITIALIZER;" ]
	grep -q 'pthread_mutex_lock(&us_shared_lock)' forks.c
	grep -q 'pthread_mutex_lock(&us_origincache_lock)' forks.c
}

@test "a signal handler using union paths (open, read, stat, close) while its thread is inside the shim: right answers, no hang, the interrupted calls undisturbed" {
	run timeout 60 env LD_PRELOAD="$SHIM_LIB" UNIONSHIM_MOUNTS="$(mounts_spec)" \
		"$(probe forksafe_probe)" signal "$TARGET" 3
	[ "$status" -eq 0 ]
	[[ ${lines[0]} =~ ^main\ ([0-9]+)\ bad\ 0\ errno\ 0$ ]]
	[ "${BASH_REMATCH[1]}" -ge 50 ]
	[[ ${lines[1]} =~ ^handler\ ([0-9]+)\ bad\ 0$ ]]
	[ "${BASH_REMATCH[1]}" -ge 1000 ]
}

@test "a signal handler's writes while its thread is inside the shim never reach the lower (in place): made through the union, or EAGAIN" {
	echo w >"$LOWER/w"
	local before
	before=$(snapshot "$LOWER")
	run timeout 60 env LD_PRELOAD="$SHIM_LIB" \
		UNIONSHIM_MOUNTS="target=$LOWER,lowerdir=$LOWER:$LOWER2,upperdir=$UPPER,workdir=$WORK" \
		"$(probe forksafe_probe)" signalwrite "$LOWER" 2
	[ "$status" -eq 0 ]
	[[ $output =~ ^appended\ ([0-9]+)\ again\ ([0-9]+)\ bad\ 0\ main\ bad\ 0$ ]]
	local appended=${BASH_REMATCH[1]} again=${BASH_REMATCH[2]}
	[ $((appended + again)) -ge 100 ]
	[ "$(snapshot "$LOWER")" = "$before" ]
	[ "$(cat "$UPPER/w" | wc -l)" -eq $((appended + 1)) ]
}
