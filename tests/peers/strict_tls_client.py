"""A TLS client that tells an orderly end (close_notify) from a cut one, as strict clients do.

usage: strict_tls_client.py PORT MODE
  talk   send "hello\\n", print what comes back ("got ..."), then close with close_notify and
         wait for the server's own
  http   send a GET that asks to close, read the answer to its end
  wait   print "secured" after the handshake, then read until the server ends the connection

Prints "clean end" when the server ended with close_notify; otherwise the error, and exits 1.
"""

import socket
import ssl
import sys


def main():
    port, mode = int(sys.argv[1]), sys.argv[2]
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    raw = socket.create_connection(("127.0.0.1", port))
    # Without suppress_ragged_eofs, an end without close_notify is an SSLEOFError.
    conn = context.wrap_socket(raw, suppress_ragged_eofs=False)
    try:
        if mode == "talk":
            conn.sendall(b"hello\n")
            print(f"got {conn.recv(65536)!r}", flush=True)
            conn.unwrap()
        elif mode == "http":
            conn.sendall(b"GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
            answer = b""
            while chunk := conn.recv(65536):
                answer += chunk
            status = answer.split(b"\r\n")[0]
            print(f"got {status!r}", flush=True)
        elif mode == "wait":
            print("secured", flush=True)
            while conn.recv(65536):
                pass
    except (ssl.SSLError, OSError) as error:
        print(f"{type(error).__name__}: {error}", flush=True)
        sys.exit(1)
    print("clean end", flush=True)


main()
