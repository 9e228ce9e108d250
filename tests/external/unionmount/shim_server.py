#!/usr/bin/env python3
# Runs under unionrun.  Executes os.<name>(*args, **kw) requests received as
# pickles on fd 0 and answers on fd 1: ("ok", result) or ("err", exception).
import os, sys, pickle, struct
rd = os.fdopen(0, "rb", buffering=0)
wr = os.fdopen(1, "wb", buffering=0)

def recv():
    hdr = b""
    while len(hdr) < 4:
        c = rd.read(4 - len(hdr))
        if not c:
            return None
        hdr += c
    n = struct.unpack("<I", hdr)[0]
    buf = b""
    while len(buf) < n:
        c = rd.read(n - len(buf))
        if not c:
            return None
        buf += c
    return pickle.loads(buf)

def send(obj):
    b = pickle.dumps(obj)
    wr.write(struct.pack("<I", len(b)) + b)

os.chdir("/")
while True:
    req = recv()
    if req is None:
        break
    name, args, kw = req
    try:
        res = getattr(os, name)(*args, **kw)
        send(("ok", res))
    except OSError as e:
        send(("err", (type(e).__name__, e.errno, e.strerror, e.filename, e.filename2)))
    except Exception as e:
        send(("exc", repr(e)))
