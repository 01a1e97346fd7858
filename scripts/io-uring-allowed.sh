#!/usr/bin/env bash
# Exits 0 when this kernel lets an unprivileged process set up an io_uring (the system call is
# there, not switched off by kernel.io_uring_disabled, not refused by a seccomp profile such as
# Docker's default); prints why not and exits 1 otherwise.
set -euo pipefail
python3 - <<'PY'
import ctypes, errno, os, sys
libc = ctypes.CDLL(None, use_errno=True)
SYS_io_uring_setup = 425  # the same number on x86_64 and arm64
params = ctypes.create_string_buffer(120)  # struct io_uring_params, zeroed
fd = libc.syscall(SYS_io_uring_setup, 1, params)
if fd < 0:
    e = ctypes.get_errno()
    print(f"io_uring_setup: {os.strerror(e)} ({errno.errorcode.get(e, e)})", file=sys.stderr)
    sys.exit(1)
os.close(fd)
PY
