# Ordinary Python in the sandbox (tests/test_sandbox.c): the modules
# HumanEval solutions use, hashing, and subprocess (posix_spawn: clone3 is
# ENOSYS there, glibc falls back to the clone the filter checks).
import math, re, itertools, collections, heapq, typing, hashlib, string, functools
import json, fractions, decimal, random, statistics, datetime, bisect, ctypes
import subprocess

assert hashlib.sha256(b'abc').hexdigest().startswith('ba7816bf')
assert hashlib.md5(b'Hello world').hexdigest() == '3e25960a79dbc69b674cd4ec67a72c62'
assert list(itertools.permutations('ab')) == [('a', 'b'), ('b', 'a')]
h = [5, 1, 3]
heapq.heapify(h)
assert heapq.heappop(h) == 1
assert re.findall(r'\d+', 'a1b22') == ['1', '22']
assert math.gcd(12, 18) == 6 and str(fractions.Fraction(1, 3)) == '1/3'
assert collections.Counter('aab').most_common(1) == [('a', 2)]
assert subprocess.run(['/usr/bin/python3', '-c', 'print(7)'], capture_output=True).stdout == b'7\n'
print('hello world')
