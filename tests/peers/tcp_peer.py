"""A TCP peer netdeck did not write, for the client tests.

usage: tcp_peer.py MODE [CERT KEY]
  echo       send back everything received
  bye        send "bye" and close each connection
  silent     accept and never answer
  half-close close the sending side at once, then count what arrives ("received N")
  tls-echo   like echo, inside TLS with CERT and KEY (PEM files)
  one-client like echo for the first connection only, as a device that takes one client:
             stops listening once it is accepted ("client PORT"), and says what arrives
             ("received HEX") before echoing it
  who        on IPv4 and IPv6 at once: reads each connection to its end, then says who sent
             what ("from ADDR PORT: TEXT")

Prints "port N" once listening on 127.0.0.1 (on every address for who), and "sni NAME" for each TLS handshake.
"""

import socket
import ssl
import sys
import threading


def serve(conn, mode):
    with conn:
        if mode == "bye":
            conn.sendall(b"bye")
            return
        if mode == "half-close":
            conn.shutdown(socket.SHUT_WR)
            total = 0
            while True:
                data = conn.recv(65536)
                if not data:
                    break
                total += len(data)
            print(f"received {total}", flush=True)
            return
        if mode == "who":
            received = b""
            while True:
                data = conn.recv(65536)
                if not data:
                    break
                received += data
            address, port = conn.getpeername()[:2]
            print(f"from {address} {port}: {received.decode(errors='replace')}", flush=True)
            return
        if mode == "silent":
            while conn.recv(65536):
                pass
            return
        while True:
            data = conn.recv(65536)
            if not data:
                return
            conn.sendall(data)


def one_client(listener):
    conn, (_, port) = listener.accept()
    listener.close()
    print(f"client {port}", flush=True)
    with conn:
        while True:
            data = conn.recv(65536)
            if not data:
                return
            print(f"received {data.hex()}", flush=True)
            conn.sendall(data)


def main():
    mode = sys.argv[1]
    context = None
    if mode == "tls-echo":
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(sys.argv[2], sys.argv[3])

        def remember_sni(_sock, name, _ctx):
            print(f"sni {name}", flush=True)

        context.sni_callback = remember_sni
    if mode == "who":
        listener = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
        listener.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        listener.bind(("::", 0))
    else:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    print(f"port {listener.getsockname()[1]}", flush=True)
    if mode == "one-client":
        one_client(listener)
        return
    while True:
        conn, _ = listener.accept()
        if context is not None:
            try:
                conn = context.wrap_socket(conn, server_side=True)
            except (ssl.SSLError, OSError):
                conn.close()
                continue
        threading.Thread(target=serve, args=(conn, "echo" if context else mode), daemon=True).start()


main()
