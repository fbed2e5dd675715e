#!/usr/bin/env python3
"""Emulates a host that keeps reclaiming the page cache (a VM balloon, a
laptop under memory pressure): every INTERVAL seconds, until PID exits, asks
the kernel to page out PID's file-backed mappings of FILE
(process_madvise(MADV_PAGEOUT), Linux 5.10+, needs CAP_SYS_NICE).  Anonymous
memory (--no-mmap, llama.cpp's repacked copy) and locked pages (--mlock) are
not touched: without swap the kernel cannot page them out, which is what the
flags are for.

Usage: bench/evict.py PID FILE [INTERVAL=0.2]   (prints the rounds on exit)
"""
import ctypes
import os
import sys
import time

SYS_PROCESS_MADVISE = 440  # x86-64
MADV_PAGEOUT = 21


class IoVec(ctypes.Structure):
    _fields_ = [("base", ctypes.c_void_p), ("len", ctypes.c_size_t)]


def regions(pid, path):
    out = []
    try:
        with open(f"/proc/{pid}/maps") as f:
            for line in f:
                if line.rstrip().endswith(path):
                    a, b = line.split()[0].split("-")
                    out.append((int(a, 16), int(b, 16) - int(a, 16)))
    except OSError:
        pass
    return out


def main():
    pid, path = int(sys.argv[1]), os.path.realpath(sys.argv[2])
    interval = float(sys.argv[3]) if len(sys.argv) > 3 else 0.2
    libc = ctypes.CDLL(None, use_errno=True)
    try:
        pidfd = os.pidfd_open(pid)
    except OSError as e:
        print(f"evict: cannot open pid {pid}: {e}", file=sys.stderr)
        return 1
    rounds = 0
    while os.path.exists(f"/proc/{pid}"):
        rs = regions(pid, path)
        if rs:
            iov = (IoVec * len(rs))(*[IoVec(a, n) for a, n in rs])
            r = libc.syscall(SYS_PROCESS_MADVISE, pidfd, iov, len(rs), MADV_PAGEOUT, 0)
            if r < 0:
                print(f"evict: process_madvise: {os.strerror(ctypes.get_errno())}", file=sys.stderr)
                return 1
            rounds += 1
        time.sleep(interval)
    print(f"evict: {rounds} rounds", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
