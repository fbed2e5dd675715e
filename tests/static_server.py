#!/usr/bin/env python3
"""Serves a folder over HTTP on 127.0.0.1 for `xuan data pull` tests; stops by itself.

    python3 tests/static_server.py ROOT PORTFILE [LIFETIME_S]

GET and HEAD of ROOT's files (404 otherwise), Content-Length, no Range.
Writes the chosen port to PORTFILE and logs "METHOD PATH" lines to PORTFILE.log.
"""
import functools
import http.server
import sys
import threading

ROOT, PORTFILE = sys.argv[1], sys.argv[2]
LIFETIME = float(sys.argv[3]) if len(sys.argv) > 3 else 60.0
LOG = open(PORTFILE + ".log", "a", buffering=1)


class Handler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, fmt, *args):
        LOG.write("%s %s %s\n" % (self.command, self.path, args[1] if len(args) > 1 else ""))


srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Handler, directory=ROOT))
with open(PORTFILE + ".tmp", "w") as f:
    f.write("%d\n" % srv.server_address[1])
import os
os.rename(PORTFILE + ".tmp", PORTFILE)
threading.Timer(LIFETIME, srv.shutdown).start()
srv.serve_forever()
