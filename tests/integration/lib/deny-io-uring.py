#!/usr/bin/env python3
"""Runs a command under a seccomp filter that answers io_uring_setup with EPERM, as a container's
default seccomp profile (Docker's) does: deny-io-uring.py PROGRAM ARGS..."""
import ctypes
import os
import struct
import sys

PR_SET_NO_NEW_PRIVS = 38
PR_SET_SECCOMP = 22
SECCOMP_MODE_FILTER = 2
SECCOMP_RET_ALLOW = 0x7FFF0000
SECCOMP_RET_ERRNO = 0x00050000
EPERM = 1
NR_IO_URING_SETUP = 425  # the same number on x86_64 and arm64
BPF_LD_W_ABS = 0x20      # BPF_LD | BPF_W | BPF_ABS: load seccomp_data.nr (offset 0)
BPF_JEQ_K = 0x15         # BPF_JMP | BPF_JEQ | BPF_K
BPF_RET_K = 0x06         # BPF_RET | BPF_K


def insn(code, jt, jf, k):
    return struct.pack('HBBI', code, jt, jf, k)


program = b''.join([
    insn(BPF_LD_W_ABS, 0, 0, 0),
    insn(BPF_JEQ_K, 0, 1, NR_IO_URING_SETUP),
    insn(BPF_RET_K, 0, 0, SECCOMP_RET_ERRNO | EPERM),
    insn(BPF_RET_K, 0, 0, SECCOMP_RET_ALLOW),
])
buf = ctypes.create_string_buffer(program)


class SockFprog(ctypes.Structure):
    _fields_ = [('len', ctypes.c_ushort), ('filter', ctypes.c_void_p)]


prog = SockFprog(len(program) // 8, ctypes.addressof(buf))
libc = ctypes.CDLL(None, use_errno=True)
if libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 or \
        libc.prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.byref(prog), 0, 0) != 0:
    sys.exit(f'deny-io-uring: seccomp: {os.strerror(ctypes.get_errno())}')
os.execvp(sys.argv[1], sys.argv[1:])
