#!/usr/bin/env bats
# Promise (semantics: names as natively): an AF_UNIX socket bound at a
# union path is a socket at that union path, whatever the length of the
# real path behind it: any name a program could bind natively (sun_path
# holds 108 bytes) binds in the union, and connect, sendto and sendmsg
# reach it, even when the upper dir's own path is longer than sun_path;
# a bind to a name taken is EADDRINUSE, as the kernel says.
# (The real name then goes through /proc/self/fd/N/NAME: a last name of
# more than about 90 bytes behind such a path stays ENAMETOOLONG.)
# Run under the shim and on kernel overlayfs.

bats_require_minimum_version 1.5.0

load ../lib/common
load ../lib/oracle

setup() {
	make_layers
	# an upper whose real path alone is longer than sun_path
	local deep=$ROOT/$(printf 'u%.0s' {1..60})/$(printf 'v%.0s' {1..60})
	mkdir -p "$deep/upper" "$deep/work"
	UPPER=$deep/upper
	WORK=$deep/work
	mkdir -p "$LOWER/run"
	echo f >"$LOWER/run/f"
}

teardown() {
	unmount_union
}

scenario() {
	"${RUN[@]}" python3 - "$U/run" <<'PY'
import os, socket, sys
d = sys.argv[1]
os.chdir(d)
for name in ["s", "x" * 80]:
    for rel in [False, True]:
        path = name if rel else os.path.join(d, name)
        if len(path.encode()) >= 108:
            print(name[:4], rel, "too long natively")
            continue
        srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        srv.bind(path)
        srv.listen(1)
        cli = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        cli.connect(path)
        conn, _ = srv.accept()
        cli.sendall(b"ping")
        got = conn.recv(4)
        dg = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        dgpath = path + "d"
        dg.bind(dgpath)
        socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM).sendto(b"dgram", dgpath)
        print(name[:4], rel, got.decode(), dg.recv(5).decode(),
              os.path.exists(path), oct(os.stat(path).st_mode)[:4])
        for s in (srv, cli, conn, dg):
            s.close()
        os.unlink(path)
        os.unlink(dgpath)
# a name taken (a lower file; written "f/" too), a free name written
# "name/", a missing dir: the kernel's errors for a bind
import errno
for path in ["f", "f/", "new/", "nodir/s"]:
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        s.bind(path)
        print("bind", path, "OK")
    except OSError as e:
        print("bind", path, errno.errorcode[e.errno])
    s.close()
PY
}

@test "sockets: AF_UNIX names bind and connect in the union whatever the real path's length" {
	[ ${#UPPER} -gt 108 ]
	use_union shim
	local shim
	shim=$(scenario 2>&1) || { echo "$shim"; false; }
	use_union overlayfs
	BROKEN=()
	expect "bind, connect, sendto as on overlayfs" "$(scenario 2>&1)" "$shim"
	verdict
	grep -q '^s False ping dgram True 0o14' <<<"$shim"
}
