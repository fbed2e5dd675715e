#!/usr/bin/env python3
"""A local HTTP server for `xuan pull` tests (127.0.0.1 only, stops by itself).

    python3 tests/pull_server.py PORTFILE [SIZE] [LIFETIME_S]

Serves SIZE bytes (default 3 MiB) of deterministic content at any path, with
HEAD and Range support.  The first path segment picks a behaviour:
  /good/...    X-Linked-Etag carries the true sha256 (like Hugging Face LFS)
  /plain/...   no checksum header
  /drop/...    a GET that starts at byte 0 sends a third of the file, then
               drops the connection (a resume with Range gets the rest)
  /badsum/...  X-Linked-Etag carries a wrong sha256
  /missing/... 404
Writes the chosen port to PORTFILE, logs requests to PORTFILE.log.
"""
import hashlib
import http.server
import sys
import threading

PORTFILE = sys.argv[1]
SIZE = int(sys.argv[2]) if len(sys.argv) > 2 else 3 << 20
LIFETIME = float(sys.argv[3]) if len(sys.argv) > 3 else 60.0
DATA = bytes((i * 7 + (i >> 10)) % 251 for i in range(SIZE))
SHA = hashlib.sha256(DATA).hexdigest()
LOG = open(PORTFILE + ".log", "a", buffering=1)


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        LOG.write("%s %s range=%s\n" % (self.command, self.path, self.headers.get("Range")))

    def mode(self):
        return self.path.strip("/").split("/")[0]

    def start(self, head):
        mode = self.mode()
        if mode == "missing":
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return None
        first, status = 0, 200
        rng = self.headers.get("Range")
        if rng and rng.startswith("bytes="):
            first = int(rng[6:].split("-")[0])
            if first >= SIZE:
                self.send_response(416)
                self.send_header("Content-Range", "bytes */%d" % SIZE)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return None
            status = 206
        self.send_response(status)
        self.send_header("Content-Length", str(SIZE - first))
        self.send_header("Accept-Ranges", "bytes")
        if status == 206:
            self.send_header("Content-Range", "bytes %d-%d/%d" % (first, SIZE - 1, SIZE))
        if mode == "good" or mode == "drop":
            self.send_header("X-Linked-Etag", '"%s"' % SHA)
        elif mode == "badsum":
            self.send_header("X-Linked-Etag", '"%s"' % ("0" * 64))
        self.end_headers()
        return first

    def do_HEAD(self):
        self.start(True)

    def do_GET(self):
        first = self.start(False)
        if first is None:
            return
        if self.mode() == "drop" and first == 0:
            self.wfile.write(DATA[: SIZE // 3])
            self.wfile.flush()
            self.close_connection = True
            self.connection.shutdown(2)  # drop mid-body
            return
        self.wfile.write(DATA[first:])


srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
with open(PORTFILE + ".tmp", "w") as f:
    f.write("%d %s\n" % (srv.server_address[1], SHA))
import os
os.rename(PORTFILE + ".tmp", PORTFILE)
threading.Timer(LIFETIME, srv.shutdown).start()
srv.serve_forever()
