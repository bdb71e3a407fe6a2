"""An HTTP/1.1 server netdeck did not write, for the HTTP tests.

usage: http_peer.py [CERT KEY]    (with CERT and KEY: HTTPS)

Prints "port N" once listening on 127.0.0.1. Routes are listed in Handler.routes.
"""

import http.server
import ssl
import sys
import time


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def send_body(self, status, body, content_type="text/plain", extra=()):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in extra:
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def redirect(self, status, location):
        self.send_response(status)
        self.send_header("Location", location)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def read_body(self):
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def handle_any(self):
        body = b"" if self.path == "/digest" else self.read_body()
        path = self.path.split("?")[0]
        port = self.server.server_address[1]
        if path == "/target":
            self.send_body(200, b"arrived")
        elif path == "/method":
            self.send_body(200, self.command.encode() + b" " + body)
        elif path == "/client-port":
            self.send_body(200, str(self.client_address[1]).encode())
        elif path == "/chunked":
            self.send_response(200)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for chunk in [b"hello", b" ", b"chunked world"]:
                self.wfile.write(b"%x;ext=1\r\n%s\r\n" % (len(chunk), chunk))
            self.wfile.write(b"0\r\nTrailer: yes\r\n\r\n")
        elif path == "/close-mid-chunk":
            self.send_response(200)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            self.wfile.write(b"5\r\nhello\r\n10\r\nonly")
            self.wfile.flush()
            self.close_connection = True
            self.connection.shutdown(2)
        elif path == "/short":
            self.send_response(200)
            self.send_header("Content-Length", "100")
            self.end_headers()
            self.wfile.write(b"only ten b")
            self.wfile.flush()
            self.close_connection = True
            self.connection.shutdown(2)
        elif path == "/too-long":
            # Lies about its length: five bytes announced, more sent.
            self.wfile.write(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhelloEXTRA")
        elif path == "/early-hints":
            # An interim answer and the real one in a single write.
            self.wfile.write(
                b"HTTP/1.1 103 Early Hints\r\nLink: </style.css>\r\n\r\n"
                b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi"
            )
        elif path == "/korean":
            # Hangul in a header and the body, in UTF-8 as some servers send them.
            body = "안녕하세요".encode()
            self.wfile.write(
                "HTTP/1.1 200 OK\r\nX-Greeting: 안녕\r\nContent-Type: text/plain; charset=utf-8\r\n".encode()
                + b"Content-Length: %d\r\n\r\n" % len(body) + body
            )
        elif path == "/redirect/korean":
            # A Location no URL can be made of, with a Hangul host, in UTF-8.
            self.wfile.write(
                "HTTP/1.1 302 Found\r\nLocation: http://안녕:99999/\r\nContent-Length: 0\r\n\r\n".encode()
            )
        elif path == "/latin1-header":
            self.send_body(200, b"ok", extra=[("X-Name", "caf\u00e9")])
        elif path == "/form":
            if self.command == "POST":
                self.redirect(303, "/form")
            else:
                self.send_body(200, b"form shown")
        elif path == "/redirect/non-ascii":
            # A Location in UTF-8, as some servers send it.
            self.wfile.write(
                "HTTP/1.1 302 Found\r\nLocation: /caf\u00e9\r\nContent-Length: 0\r\n\r\n".encode()
            )
        elif path == "/caf%C3%A9":
            self.send_body(200, "café reached".encode())
        elif path == "/redirect/ftp":
            self.redirect(302, "ftp://127.0.0.1/file")
        elif path == "/redirect/same-origin":
            self.redirect(302, "/authorization")
        elif path == "/redirect/other-origin":
            self.redirect(302, f"http://localhost:{port}/authorization")
        elif path == "/redirect/to-http":
            self.redirect(302, "http://127.0.0.1:1/target")
        elif path == "/authorization":
            self.send_body(200, (self.headers.get("Authorization") or "none").encode())
        elif path == "/close-delimited":
            # HTTP/1.0 style: no length, the end of the connection ends the body.
            self.wfile.write(b"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil close")
            self.wfile.flush()
            self.close_connection = True
        elif path == "/no-content":
            self.send_response(204)
            self.end_headers()
        elif path == "/hang":
            time.sleep(60)
        elif path == "/big":
            size = int(self.path.split("n=")[1])
            self.send_response(200)
            self.send_header("Content-Length", str(size))
            self.end_headers()
            block = b"x" * 65536
            left = size
            while left > 0:
                self.wfile.write(block[: min(left, len(block))])
                left -= len(block)
        elif path == "/binary":
            self.send_body(200, bytes(range(256)), "application/octet-stream")
        elif path == "/latin1":
            self.send_body(200, b"caf\xe9", "text/plain; charset=iso-8859-1")
        elif path == "/json":
            self.send_body(200, b'{"name":"netdeck","list":[1,2]}', "application/json")
        elif path == "/redirect/absolute":
            self.redirect(302, f"http://127.0.0.1:{port}/target")
        elif path == "/redirect/relative":
            self.redirect(301, "../target")
        elif path == "/redirect/see-other":
            self.redirect(303, "/method")
        elif path == "/redirect/temporary":
            self.redirect(307, "/method")
        elif path == "/redirect/loop-a":
            self.redirect(302, "/redirect/loop-b")
        elif path == "/redirect/loop-b":
            self.redirect(302, "/redirect/loop-a")
        elif path.startswith("/redirect/hops/"):
            left = int(path.rsplit("/", 1)[1])
            self.redirect(302, f"/redirect/hops/{left - 1}" if left > 1 else "/target")
        elif path.startswith("/status/"):
            # Any three digits with any reason, as odd servers send them.
            code = path.rsplit("/", 1)[1]
            reason = self.headers.get("X-Reason", "Whatever It Says")
            self.wfile.write(
                f"HTTP/1.1 {code} {reason}\r\nContent-Length: 3\r\n\r\nodd".encode()
            )
        elif path == "/stall":
            # Part of the body, then nothing.
            self.send_response(200)
            self.send_header("Content-Length", "100")
            self.end_headers()
            self.wfile.write(b"only ten b")
            self.wfile.flush()
            time.sleep(60)
        elif path == "/echo":
            # The request as the server read it: method, content type, then the body.
            described = f"{self.command}\n{self.headers.get('Content-Type') or '-'}\n\n".encode()
            self.send_body(200, described + body)
        elif path == "/cookie/set-and-redirect":
            # A login: a cookie set on the redirect, needed by the next hop.
            self.send_response(302)
            self.send_header("Set-Cookie", "token=xyz; Path=/; HttpOnly")
            self.send_header("Set-Cookie", "theme=dark; Path=/cookie")
            self.send_header("Location", "/cookie/show")
            self.send_header("Content-Length", "0")
            self.end_headers()
        elif path == "/cookie/show":
            self.send_body(200, (self.headers.get("Cookie") or "none").encode())
        elif path == "/digest":
            # A large upload, read in blocks: its length and SHA-256.
            import hashlib
            length = int(self.headers.get("Content-Length") or 0)
            digest = hashlib.sha256()
            while length > 0:
                block = self.rfile.read(min(length, 1 << 20))
                if not block:
                    break
                digest.update(block)
                length -= len(block)
            self.send_body(200, f"{int(self.headers.get('Content-Length') or 0) - length} {digest.hexdigest()}".encode())
        elif path == "/headers":
            self.send_body(200, str(self.headers).encode())
        elif path == "/flaky":
            # 503 the first time each key is asked for, then 200.
            key = self.path.split("key=")[1]
            seen = self.server.flaky.setdefault(key, 0)
            self.server.flaky[key] = seen + 1
            if seen == 0:
                self.send_body(503, b"busy", extra=[("Retry-After", "1")])
            else:
                self.send_body(200, b"ready")
        else:
            self.send_body(404, b"no such route")

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = handle_any


def main():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    server.flaky = {}
    if len(sys.argv) == 3:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(sys.argv[1], sys.argv[2])
        server.socket = context.wrap_socket(server.socket, server_side=True)
    print(f"port {server.server_address[1]}", flush=True)
    server.serve_forever()


main()
