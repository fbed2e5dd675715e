# No network in the sandbox (tests/test_sandbox.c): AF_INET is refused by
# seccomp, so is every family but AF_UNIX; unix socket pairs work.
import socket

try:
    socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    print('inet socket')
except PermissionError:
    print('inet refused')
try:
    socket.create_connection(('127.0.0.1', 22), timeout=1)
    print('connected')
except OSError:
    print('connect refused')
for family, kind in ((socket.AF_INET6, socket.SOCK_STREAM), (socket.AF_NETLINK, socket.SOCK_RAW),
                     (socket.AF_PACKET, socket.SOCK_RAW)):
    try:
        socket.socket(family, kind)
        print('opened', family)
    except OSError:
        pass
a, b = socket.socketpair()
a.sendall(b'unix ok')
print(b.recv(16).decode())
