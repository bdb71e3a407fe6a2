"""Chaos against netdeck: misbehaving TCP clients against `netdeck serve`, and hostile HTTP
servers against `netdeck http`. Used by tests/soak.rs (a few seconds) and bench/soak.sh (60 s
per mode).

usage:
  chaos.py serve NETDECK [--modes manual,echo,reply,http] [--clients N] [--duration S]
                 [--warmup S] [--seed N] [--rss-ratio R | --rss-max-mib M] [--json FILE]
  chaos.py hostile NETDECK [--timeout S] [--cases NAME,...] [--check-deadline] [--json FILE]

serve: for each mode, starts `NETDECK serve --port 0 --hex` (with --echo, --reply or --http)
and runs CLIENTS clients for DURATION seconds, one asyncio task each, on one thread. A client
connects (each connection from a new source address in 127.0.0.0/8, so that the server's peer
address names one connection for the whole run), does a few things at random (sends random
bytes, floods, pauses; in HTTP mode also partial, malformed, pipelined and oversized
requests), then ends by half-closing (shutdown of its sending side, then reading until the
server closes), resetting (SO_LINGER 0, then close) or disconnecting, and starts over. Then:

  still accepts  a new client is accepted and answered (echo, reply, HTTP 200; in manual mode
                 its bytes are printed), and its end is printed with the right counts
  0 clients      every "connected" line has its "disconnected" line
  bytes counted  the byte totals of the "disconnected" lines equal the bytes of the data
                 lines (`>` received, `<` sent), per connection and in sum
  graceful       for each client that ended without a reset and that the server saw close:
                 the bytes it sent are the bytes the server counted (and, after a half-close,
                 the bytes it received are the bytes the server sent)
  memory         VmRSS at the end of the load and once the clients have left (the probe's
                 end printed), each at most --rss-ratio times the level after the warm-up; or,
                 with --rss-max-mib, both below that
  no hang        every wait ended within 60 s, and SIGTERM stopped the server
  no panic       exit status 0 and nothing on stderr

hostile: runs `NETDECK http URL --timeout S` against servers that trickle, send an endless
header, lie about Content-Length or close in the middle of a chunk, and checks the error line,
the exit code and that the process ended (a process still running after 60 s is killed and
fails). --check-deadline also requires each to end within the timeout (plus 0.5 s to start).

Prints "seed N" first: the same seed makes every client make the same choices again (the
interleaving still depends on scheduling). Exit status 0 when every check passed, 1 if not.
"""

import argparse
import asyncio
import fcntl
import json
import logging
import os
import re
import signal
import socket
import struct
import subprocess
import sys
import termios
import threading
import time
from collections import Counter
from random import Random

# Any single wait longer than this is a hang.
HANG = 60.0
CONNECT_TIMEOUT = 20.0
REPLY_TEXT = r"OK\r\n"
REPLY_BYTES = b"OK\r\n"
MODE_FLAGS = {
    "manual": [],
    "echo": ["--echo"],
    "reply": ["--reply", REPLY_TEXT],
    "http": ["--http"],
}
DISCONNECTED = re.compile(rb"^- (\S+) disconnected(?:, (.*))? \((\d+) bytes in, (\d+) out\)$")
DATA_LINE = re.compile(rb"^(\S+) ([<>]) (\d+) bytes?$")
HEX_ROW = re.compile(rb"^  [0-9a-f]{8}  ")
# What a client's send buffer may hold: a small backlog per client keeps the end of a run short.
CLIENT_SNDBUF = 64 * 1024


def log(text):
    print(text, flush=True)


# --- The server's output ----------------------------------------------------------------


class Closed:
    __slots__ = ("reason", "bytes_in", "bytes_out")

    def __init__(self, reason, bytes_in, bytes_out):
        self.reason, self.bytes_in, self.bytes_out = reason, bytes_in, bytes_out


class ServerLog:
    """What `netdeck serve --hex` printed, parsed as it arrives."""

    def __init__(self):
        self.open = {}  # peer -> [bytes in data lines, bytes out data lines]
        self.closed = {}  # peer -> Closed
        self.connects = 0
        self.data_in = self.data_out = 0
        self.total_in = self.total_out = 0
        self.reasons = Counter()
        self.instance_mismatches = 0
        self.problems = []
        self.problem_count = 0
        self.notices = []  # "!" lines
        self.listening = None
        self.stopped = False
        self.after_stop = 0
        self.eof = False
        self.changed = asyncio.Condition()

    def problem(self, text):
        self.problem_count += 1
        if len(self.problems) < 10:
            self.problems.append(text)

    def feed(self, line):
        if self.stopped:
            self.after_stop += 1
            self.problem(f"after `stopped`: {line[:120]!r}")
            return
        first = line[:1]
        if first == b"+":
            parts = line.split(b" ")
            if len(parts) != 3 or parts[2] != b"connected":
                self.problem(f"unexpected line {line[:120]!r}")
                return
            peer = parts[1]
            if peer in self.open or peer in self.closed:
                self.problem(f"{peer.decode()} connected twice")
            self.open[peer] = [0, 0]
            self.connects += 1
        elif first == b"-":
            match = DISCONNECTED.match(line)
            if not match:
                self.problem(f"unexpected line {line[:120]!r}")
                return
            peer, reason = match.group(1), match.group(2)
            bytes_in, bytes_out = int(match.group(3)), int(match.group(4))
            data = self.open.pop(peer, None)
            if data is None:
                self.problem(f"{peer.decode()} disconnected without connecting")
                data = [0, 0]
            if data != [bytes_in, bytes_out]:
                self.instance_mismatches += 1
                self.problem(
                    f"{peer.decode()}: totals {bytes_in} in, {bytes_out} out; data lines "
                    f"{data[0]} in, {data[1]} out"
                )
            self.closed[peer] = Closed(reason, bytes_in, bytes_out)
            self.total_in += bytes_in
            self.total_out += bytes_out
            self.reasons[(reason or b"closed by peer").decode()] += 1
        elif first == b"!":
            self.notices.append(line.decode(errors="replace"))
        elif line.startswith(b"listening on "):
            self.listening = line[len(b"listening on ") :].decode()
        elif line == b"stopped":
            self.stopped = True
        elif line.startswith(b"  "):
            # A row of the hex dump under a data line: "  00000010  48 65 ...  |He...|".
            if not HEX_ROW.match(line):
                self.problem(f"unexpected line {line[:120]!r}")
        else:
            # "PEER > 3 bytes" or "PEER < 1 byte", its dump below.
            match = DATA_LINE.match(line)
            data = self.open.get(match.group(1)) if match else None
            if data is None:
                self.problem(f"unexpected line {line[:120]!r}")
                return
            direction = match.group(2) + b" "
            n = int(match.group(3))
            if direction == b"> ":
                data[0] += n
                self.data_in += n
            else:
                data[1] += n
                self.data_out += n

    async def read(self, stream):
        rest = b""
        while True:
            chunk = await stream.read(1 << 20)
            if not chunk:
                break
            lines = (rest + chunk).split(b"\n")
            rest = lines.pop()
            for line in lines:
                self.feed(line)
            async with self.changed:
                self.changed.notify_all()
        if rest:
            self.problem(f"output ended inside a line: {rest[:120]!r}")
        self.eof = True
        async with self.changed:
            self.changed.notify_all()

    async def wait(self, condition, limit=HANG):
        """True once `condition()` holds, False if it did not within `limit` seconds."""
        try:
            async with self.changed:
                await asyncio.wait_for(
                    self.changed.wait_for(lambda: condition() or self.eof), limit
                )
        except asyncio.TimeoutError:
            return False
        return condition()


def rss_kib(pid):
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


# --- Clients ----------------------------------------------------------------------------


class Addresses:
    """A new loopback source address for every connection of the run."""

    def __init__(self):
        self.n = 0

    def next(self):
        while True:
            self.n += 1
            high, mid, low = (self.n >> 16) & 0xFF, (self.n >> 8) & 0xFF, self.n & 0xFF
            if low not in (0, 255):
                return f"127.{2 + high}.{mid}.{low}"


class Conn:
    __slots__ = ("peer", "sent", "received", "end", "broken", "hung", "writes")

    def __init__(self, peer):
        self.peer = peer
        self.sent = self.received = 0
        self.end = None
        self.broken = False  # the connection failed under us (the server closed or reset it)
        self.hung = None  # what we waited for in vain
        self.writes = []  # the size of each write, for the report of a mismatch

    @property
    def graceful(self):
        return self.end in ("half-close", "disconnect") and not self.broken and not self.hung


def http_request(rng, body_pool):
    """One HTTP request, valid or not, as bytes."""
    path = "/" + "".join(rng.choice("abcdefgh/") for _ in range(rng.randint(0, 20)))
    kind = rng.choices(
        [
            "get",
            "post",
            "chunked",
            "head",
            "close",
            "http10",
            "partial",
            "garbage",
            "bad-version",
            "bad-length",
            "bad-chunk",
            "huge-head",
            "many-headers",
        ],
        weights=[20, 12, 8, 4, 3, 3, 6, 4, 2, 2, 2, 1, 1],
    )[0]
    host = b"Host: soak\r\n"
    if kind == "get":
        extra = b"".join(b"X-%d: %d\r\n" % (i, rng.randrange(1 << 30)) for i in range(rng.randint(0, 8)))
        return b"GET %s HTTP/1.1\r\n%s%s\r\n" % (path.encode(), host, extra)
    if kind == "post":
        body = body_pool(rng.randint(0, 20000))
        return b"POST %s HTTP/1.1\r\n%sContent-Length: %d\r\n\r\n%s" % (path.encode(), host, len(body), body)
    if kind == "chunked":
        chunks = b"".join(
            b"%x\r\n%s\r\n" % (len(c), c) for c in (body_pool(rng.randint(1, 3000)) for _ in range(rng.randint(1, 5)))
        )
        trailer = b"X-Trailer: yes\r\n" if rng.random() < 0.3 else b""
        return b"PUT %s HTTP/1.1\r\n%sTransfer-Encoding: chunked\r\n\r\n%s0\r\n%s\r\n" % (
            path.encode(),
            host,
            chunks,
            trailer,
        )
    if kind == "head":
        return b"HEAD %s HTTP/1.1\r\n%s\r\n" % (path.encode(), host)
    if kind == "close":
        return b"GET %s HTTP/1.1\r\n%sConnection: close\r\n\r\n" % (path.encode(), host)
    if kind == "http10":
        return b"GET %s HTTP/1.0\r\n\r\n" % path.encode()
    if kind == "partial":
        whole = b"POST %s HTTP/1.1\r\n%sContent-Length: 100\r\n\r\n%s" % (path.encode(), host, body_pool(100))
        return whole[: rng.randint(1, len(whole) - 1)]
    if kind == "garbage":
        return body_pool(rng.randint(1, 2000))
    if kind == "bad-version":
        return b"GET %s HTTP/9.9\r\n%s\r\n" % (path.encode(), host)
    if kind == "bad-length":
        return b"POST %s HTTP/1.1\r\n%sContent-Length: 12x\r\n\r\nhello" % (path.encode(), host)
    if kind == "bad-chunk":
        return b"POST %s HTTP/1.1\r\n%sTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n" % (path.encode(), host)
    if kind == "huge-head":
        return b"GET %s HTTP/1.1\r\n%sX-Big: %s\r\n\r\n" % (path.encode(), host, b"a" * 70_000)
    return b"GET %s HTTP/1.1\r\n%s%s\r\n" % (
        path.encode(),
        host,
        b"".join(b"X-H%d: v\r\n" % i for i in range(150)),
    )


class Soak:
    """One mode: the server, its clients, and the checks."""

    def __init__(self, netdeck, mode, options, seed, addresses):
        self.netdeck, self.mode, self.options = netdeck, mode, options
        self.seed, self.addresses = seed, addresses
        self.log = ServerLog()
        self.conns = []
        self.failed_ips = set()
        self.connect_failures = 0
        self.notes = []
        self.driver_errors = []
        self.rss = []  # (seconds since start, KiB)
        self.proc = None
        pool_rng = Random(f"{seed}/{mode}/pool")
        self.pool = pool_rng.randbytes(1 << 20)

    def note(self, text):
        if len(self.notes) < 10:
            self.notes.append(text)

    def random_bytes(self, rng, n):
        start = rng.randrange(len(self.pool) - n) if n < len(self.pool) else 0
        return self.pool[start : start + n]

    async def run(self):
        try:
            return await self.soak()
        finally:
            if self.proc is not None and self.proc.returncode is None:
                self.proc.kill()
                await self.proc.wait()

    async def soak(self):
        options = self.options
        self.proc = await asyncio.create_subprocess_exec(
            self.netdeck,
            "serve",
            "--port",
            "0",
            "--hex",
            *MODE_FLAGS[self.mode],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        reading = asyncio.create_task(self.log.read(self.proc.stdout))
        stderr = asyncio.create_task(self.proc.stderr.read())
        if not await self.log.wait(lambda: self.log.listening is not None):
            raise SystemExit(f"netdeck serve did not start: {(await stderr).decode()}")
        self.port = int(self.log.listening.rsplit(":", 1)[1])
        loop = asyncio.get_running_loop()
        self.started = loop.time()
        self.end = self.started + options.duration
        sampling = asyncio.create_task(self.sample_rss())
        clients = [asyncio.create_task(self.client(i)) for i in range(options.clients)]
        await asyncio.gather(*clients)
        self.clients_done = loop.time() - self.started
        await sampling
        # Connections still in the accept queue are taken before the probe's, so once the
        # probe's end is printed, every earlier connection has been seen.
        expected = [c.peer for c in self.conns if c.graceful]
        self.drained = await self.log.wait(
            lambda: not self.log.open and all(p in self.log.closed for p in expected)
        )
        self.probe_result = await self.probe()
        self.zero_after_probe = await self.log.wait(lambda: not self.log.open)
        self.rss_idle = rss_kib(self.proc.pid)
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.exit_code = await asyncio.wait_for(self.proc.wait(), HANG)
            self.stop_hung = False
        except asyncio.TimeoutError:
            self.proc.kill()
            self.exit_code = await self.proc.wait()
            self.stop_hung = True
        await reading
        self.stderr = (await stderr).decode(errors="replace")
        return self.report()

    async def sample_rss(self):
        loop = asyncio.get_running_loop()
        while loop.time() < self.end:
            kib = rss_kib(self.proc.pid)
            if kib is not None:
                self.rss.append((loop.time() - self.started, kib))
            await asyncio.sleep(0.2)
        kib = rss_kib(self.proc.pid)
        if kib is not None:
            self.rss.append((loop.time() - self.started, kib))

    async def client(self, index):
        rng = Random(f"{self.seed}/{self.mode}/{index}")
        loop = asyncio.get_running_loop()
        # Clients start spread over the first 100 ms rather than all at once.
        await asyncio.sleep(rng.uniform(0, 0.1))
        try:
            while loop.time() < self.end:
                await self.connection(rng)
        except Exception as error:  # a bug of this driver: report it, and stop this client
            self.driver_errors.append(f"client {index}: {error!r}")
            logging.getLogger("chaos").exception("client %d", index)

    async def connection(self, rng):
        ip = self.addresses.next()
        try:
            reader, writer = await asyncio.wait_for(
                asyncio.open_connection("127.0.0.1", self.port, local_addr=(ip, 0)),
                CONNECT_TIMEOUT,
            )
        except (OSError, asyncio.TimeoutError) as error:
            self.failed_ips.add(ip.encode())
            self.connect_failures += 1
            self.note(f"connecting from {ip} failed: {error!r}")
            await asyncio.sleep(0.1)
            return
        sock = writer.get_extra_info("socket")
        host, port = writer.get_extra_info("sockname")[:2]
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, CLIENT_SNDBUF)
        except OSError:
            pass  # reset by the server already
        conn = Conn(f"{host}:{port}".encode())
        self.conns.append(conn)
        receiving = asyncio.create_task(self.receive(reader, conn))
        try:
            await asyncio.wait_for(self.play(rng, writer, receiving, conn), HANG)
        except asyncio.TimeoutError:
            conn.hung = f"sending ({self.stuck(conn, reader, writer, sock)})"
        except OSError:
            conn.broken = True
        if receiving.done() or writer.is_closing():
            conn.broken = True
        conn.end = rng.choices(["half-close", "reset", "disconnect"], weights=[4, 3, 3])[0]
        if conn.hung:
            conn.end = "reset"
        if conn.end == "reset":
            try:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            except OSError:
                pass  # already closed under us
            writer.transport.abort()
        elif conn.end == "half-close":
            try:
                if not writer.is_closing():
                    writer.write_eof()
            except OSError:
                conn.broken = True  # reset by the server meanwhile
            try:
                await asyncio.wait_for(asyncio.shield(receiving), HANG)
            except asyncio.TimeoutError:
                conn.hung = (
                    f"the server's end after a half-close ({self.stuck(conn, reader, writer, sock)})"
                )
                writer.transport.abort()
            writer.close()
        else:
            writer.close()
        try:
            await asyncio.wait_for(writer.wait_closed(), HANG)
        except asyncio.TimeoutError:
            conn.hung = conn.hung or "closing"
            writer.transport.abort()
        except OSError:
            pass
        receiving.cancel()
        if conn.hung:
            self.note(f"{conn.peer.decode()} waited in vain for {conn.hung}")

    def stuck(self, conn, reader, writer, sock):
        """Where a connection stands, for the report of a wait in vain."""
        seen = self.log.open.get(conn.peer)
        server = "not accepted or already ended"
        if seen is not None:
            server = f"the server printed {seen[0]} bytes in, {seen[1]} out"
        try:
            unread = struct.unpack("i", fcntl.ioctl(sock.fileno(), termios.FIONREAD, b"\0" * 4))[0]
            unsent = struct.unpack("i", fcntl.ioctl(sock.fileno(), termios.TIOCOUTQ, b"\0" * 4))[0]
            kernel = f"{unread} bytes unread and {unsent} unsent in the kernel"
        except OSError as error:
            kernel = f"socket: {error}"
        return (
            f"sent {conn.sent}, received {conn.received}, "
            f"{writer.transport.get_write_buffer_size()} bytes waiting to be sent, "
            f"{len(reader._buffer)} read but not taken, reading "
            f"{'on' if writer.transport.is_reading() else 'paused'}, {kernel}; {server}"
        )

    async def receive(self, reader, conn):
        try:
            while True:
                data = await reader.read(1 << 16)
                if not data:
                    return
                conn.received += len(data)
        except OSError:
            conn.broken = True

    async def write(self, writer, receiving, conn, data):
        if receiving.done() or writer.is_closing():
            raise ConnectionResetError("closed by the server")
        writer.write(data)
        conn.sent += len(data)
        conn.writes.append(len(data))
        await writer.drain()

    async def play(self, rng, writer, receiving, conn):
        loop = asyncio.get_running_loop()
        for _ in range(rng.randint(0, 6)):
            action = rng.choices(["send", "flood", "pause"], weights=[5, 2, 2])[0]
            if action == "send":
                if self.mode == "http":
                    data = b"".join(
                        http_request(rng, lambda n: self.random_bytes(rng, n))
                        for _ in range(rng.choice([1, 1, 1, 2, 5, 20]))
                    )
                else:
                    data = self.random_bytes(rng, rng.randint(1, 4096))
                # In pieces, so that heads and bodies arrive split at random places.
                cuts = sorted(rng.randint(0, len(data)) for _ in range(rng.randint(0, 3)))
                for start, stop in zip([0] + cuts, cuts + [len(data)]):
                    if stop > start:
                        await self.write(writer, receiving, conn, data[start:stop])
                        if rng.random() < 0.3:
                            await asyncio.sleep(rng.uniform(0, 0.02))
            elif action == "flood":
                until = loop.time() + rng.uniform(0.05, 0.5)
                cap = rng.randint(1 << 16, 4 << 20)
                flooded = 0
                if self.mode == "http" and rng.random() < 0.7:
                    # A body the server counts and mostly does not keep.
                    await self.write(
                        writer,
                        receiving,
                        conn,
                        b"POST /flood HTTP/1.1\r\nHost: soak\r\nContent-Length: 1000000000\r\n\r\n",
                    )
                while loop.time() < until and flooded < cap:
                    chunk = self.random_bytes(rng, rng.randint(1, 1 << 16))
                    await self.write(writer, receiving, conn, chunk)
                    flooded += len(chunk)
            else:
                await asyncio.sleep(rng.uniform(0, 0.3))

    async def probe(self):
        """A new client after the chaos: accepted, answered, counted."""
        result = {"ok": False, "detail": ""}
        try:
            reader, writer = await asyncio.wait_for(
                asyncio.open_connection("127.0.0.1", self.port), HANG
            )
        except (OSError, asyncio.TimeoutError) as error:
            result["detail"] = f"not accepted: {error!r}"
            return result
        host, port = writer.get_extra_info("sockname")[:2]
        peer = f"{host}:{port}".encode()
        try:
            if self.mode == "http":
                sent = b"GET /probe HTTP/1.1\r\nHost: probe\r\nConnection: close\r\n\r\n"
                writer.write(sent)
                answer = await asyncio.wait_for(reader.read(), HANG)
                answered = answer.startswith(b"HTTP/1.1 200 OK\r\n") and b'"path": "/probe"' in answer
                expected = (b"closed after the answer", len(sent), len(answer))
                shown = answer.split(b"\r\n", 1)[0]
            else:
                sent = b"probe\n"
                writer.write(sent)
                if self.mode == "manual":
                    answered = await self.log.wait(lambda: self.log.open.get(peer, [0])[0] == len(sent))
                    answer = b""
                    shown = b"its bytes printed" if answered else b"nothing printed"
                else:
                    want = sent if self.mode == "echo" else REPLY_BYTES
                    answer = await asyncio.wait_for(reader.readexactly(len(want)), HANG)
                    answered = answer == want
                    shown = answer
                expected = (None, len(sent), len(answer))
            writer.close()
            await asyncio.wait_for(writer.wait_closed(), HANG)
        except (OSError, asyncio.TimeoutError, asyncio.IncompleteReadError) as error:
            result["detail"] = f"no answer: {error!r}"
            return result
        if not await self.log.wait(lambda: peer in self.log.closed):
            result["detail"] = f"answered {shown!r}, but its end was not printed"
            return result
        closed = self.log.closed[peer]
        counted = (closed.reason, closed.bytes_in, closed.bytes_out)
        result["ok"] = answered and counted == expected
        result["detail"] = f"answered {shown.decode(errors='replace')!r}; counted {counted[1]} in, {counted[2]} out"
        if counted != expected:
            result["detail"] += f" (expected {expected[1]} in, {expected[2]} out, reason {expected[0]!r}, got {counted[0]!r})"
        return result

    def report(self):
        log_ = self.log
        ends = Counter(c.end for c in self.conns)
        peers = {c.peer for c in self.conns}
        graceful = checked = 0
        mismatches = []
        unmatched_graceful = 0
        mismatch_count = 0
        server_over = 0
        reason_problems = []
        for conn in self.conns:
            closed = log_.closed.get(conn.peer)
            if conn.graceful:
                graceful += 1
            if closed is None:
                if conn.graceful:
                    unmatched_graceful += 1
                    mismatch_count += 1
                    if len(mismatches) < 10:
                        mismatches.append(
                            f"{conn.peer.decode()} ({conn.end}, {conn.sent} bytes sent): ended "
                            "gracefully, never printed"
                        )
                continue
            if closed.bytes_in > conn.sent:
                server_over += 1
                mismatch_count += 1
                if len(mismatches) < 10:
                    mismatches.append(f"{conn.peer.decode()}: sent {conn.sent}, server counted {closed.bytes_in}")
            must_be_by_peer = conn.graceful and (
                self.mode == "manual" or (conn.end == "half-close" and self.mode != "http")
            )
            if must_be_by_peer and closed.reason is not None:
                if len(reason_problems) < 10:
                    reason_problems.append(f"{conn.peer.decode()} ({conn.end}): {closed.reason.decode()}")
            if conn.graceful and closed.reason is None:
                checked += 1
                expect_out = conn.end == "half-close"
                if closed.bytes_in != conn.sent or (expect_out and closed.bytes_out != conn.received):
                    mismatch_count += 1
                    if len(mismatches) < 10:
                        mismatches.append(
                            f"{conn.peer.decode()} ({conn.end}): sent {conn.sent} (writes "
                            f"{conn.writes[:12]}), received {conn.received}; server counted "
                            f"{closed.bytes_in} in, {closed.bytes_out} out"
                        )
        unknown = [
            p.decode()
            for p in log_.closed
            if p not in peers and p.rsplit(b":", 1)[0] not in self.failed_ips and not p.startswith(b"127.0.0.1:")
        ]
        warm_window = [k for t, k in self.rss if self.options.warmup - 1 < t <= self.options.warmup]
        end_window = [k for t, k in self.rss if t > self.options.duration - 1]
        warm = max(warm_window) if warm_window else None
        end = max(end_window) if end_window else None
        idle = self.rss_idle
        ratio = round(idle / warm, 3) if warm and idle else None
        load_ratio = round(end / warm, 3) if warm and end else None
        if self.options.rss_max_mib is not None:
            memory_ok = end is not None and idle is not None
            memory_ok = memory_ok and max(end, idle) < self.options.rss_max_mib * 1024
            memory_rule = f"RSS below {self.options.rss_max_mib:g} MiB at the end of the load and after"
        else:
            memory_ok = None not in (ratio, load_ratio)
            memory_ok = memory_ok and max(ratio, load_ratio) <= self.options.rss_ratio
            memory_rule = (
                f"at the end of the load and after the clients left, at most "
                f"{self.options.rss_ratio:g} times the level after the warm-up"
            )
        # One sample every 5 s (the highest of each 5 s), to see the trend.
        series = {}
        for t, k in self.rss:
            slot = int(t // 5) * 5
            series[slot] = max(series.get(slot, 0), k)
        hung = [c for c in self.conns if c.hung]
        checks = {
            "still accepts": self.probe_result["ok"],
            "0 clients": self.drained and self.zero_after_probe and not log_.open,
            "bytes counted": log_.total_in == log_.data_in
            and log_.total_out == log_.data_out
            and log_.instance_mismatches == 0
            and log_.problem_count == 0,
            "graceful clients match": not mismatches and not reason_problems and not unknown,
            "memory": memory_ok,
            "no hang": not hung and not self.stop_hung,
            "no panic": self.exit_code == 0 and self.stderr == "",
            "driver ran cleanly": not self.driver_errors,
        }
        return {
            "mode": self.mode,
            "seed": self.seed,
            "clients": self.options.clients,
            "duration_s": self.options.duration,
            "clients_done_s": round(self.clients_done, 1),
            "connections": len(self.conns),
            "connect_failures": self.connect_failures,
            "ends": dict(ends),
            "client_bytes_sent": sum(c.sent for c in self.conns),
            "client_bytes_received": sum(c.received for c in self.conns),
            "broken": sum(c.broken for c in self.conns),
            "server": {
                "connections": log_.connects,
                "disconnections": len(log_.closed),
                "reasons": dict(log_.reasons),
                "open_at_end": len(log_.open),
                "bytes_in_totals": log_.total_in,
                "bytes_in_data_lines": log_.data_in,
                "bytes_out_totals": log_.total_out,
                "bytes_out_data_lines": log_.data_out,
                "instance_mismatches": log_.instance_mismatches,
                "output_problems": log_.problems,
                "notices": log_.notices[:10],
            },
            "graceful_clients": graceful,
            "graceful_checked": checked,
            "graceful_mismatches": mismatches,
            "graceful_mismatch_count": mismatch_count,
            "graceful_unmatched": unmatched_graceful,
            "server_counted_more_than_sent": server_over,
            "reason_problems": reason_problems,
            "unknown_server_peers": unknown[:10],
            "hung": len(hung),
            "notes": self.notes,
            "driver_errors": self.driver_errors[:10],
            "probe": self.probe_result,
            "exit_code": self.exit_code,
            "stderr": self.stderr[-2000:],
            "rss_kib": {
                "warm": warm,
                "end": end,
                "idle": idle,
                "ratio": ratio,
                "load_ratio": load_ratio,
                "min": min((k for _, k in self.rss), default=None),
                "max": max((k for _, k in self.rss), default=None),
                "every_5_s": [series[slot] for slot in sorted(series)],
                "rule": memory_rule,
            },
            "checks": checks,
            "ok": all(checks.values()),
        }


def print_mode(r):
    mib = lambda kib: f"{kib / 1024:.1f} MiB" if kib is not None else "?"
    s = r["server"]
    log(
        f"mode {r['mode']}: {r['connections']} connections ({r['connect_failures']} failed to "
        f"connect), clients sent {r['client_bytes_sent']} bytes, server counted "
        f"{s['bytes_in_totals']} in / {s['bytes_out_totals']} out; client ends {r['ends']}"
    )
    log(f"  server reasons: {s['reasons']}")
    rss = r["rss_kib"]
    log(
        f"  RSS {mib(rss['warm'])} after the warm-up, {mib(rss['end'])} at the end of the load "
        f"({rss['load_ratio']}), {mib(rss['idle'])} after the clients left ({rss['ratio']}); "
        f"rule: {rss['rule']}"
    )
    log(f"  RSS every 5 s (MiB): {' '.join(mib(k).split()[0] for k in rss['every_5_s'])}")
    log(f"  probe: {r['probe']['detail']}")
    log(
        f"  graceful clients: {r['graceful_clients']}, checked against the server's counts: "
        f"{r['graceful_checked']}"
    )
    for key in ("graceful_mismatches", "reason_problems", "unknown_server_peers", "notes", "driver_errors"):
        for item in r[key]:
            log(f"  {key}: {item}")
    for item in s["output_problems"]:
        log(f"  output problem: {item}")
    for item in s["notices"]:
        log(f"  server notice: {item}")
    if r["stderr"]:
        log(f"  stderr: {r['stderr']!r}")
    for name, ok in r["checks"].items():
        log(f"  check {name}: {'pass' if ok else 'FAIL'}")


async def soak_all(options):
    addresses = Addresses()
    results = []
    for mode in options.modes:
        log(f"mode {mode}: {options.clients} clients for {options.duration} s")
        result = await Soak(options.netdeck, mode, options, options.seed, addresses).run()
        print_mode(result)
        results.append(result)
    return results


def serve_command(options):
    logging.getLogger("asyncio").setLevel(logging.CRITICAL)
    results = asyncio.run(soak_all(options))
    return {"seed": options.seed, "modes": results, "ok": all(r["ok"] for r in results)}


# --- Hostile HTTP servers ---------------------------------------------------------------

GIB = 1 << 30
GNU_TIME = "/usr/bin/time"


def read_head(conn):
    data = b""
    while b"\r\n\r\n" not in data and len(data) < 65536:
        chunk = conn.recv(65536)
        if not chunk:
            break
        data += chunk
    return data


def send_endless(conn, first, block, stats):
    """Sends `first`, then `block` again and again, up to 1 GiB in all or until the client
    is gone. Never more than one block in memory."""
    try:
        conn.sendall(first)
        stats["sent"] = len(first)
        while stats["sent"] < GIB:
            conn.sendall(block)
            stats["sent"] += len(block)
    except OSError:
        pass


def trickle(conn, data, stats):
    try:
        for i in range(len(data)):
            conn.sendall(data[i : i + 1])
            stats["sent"] = i + 1
            time.sleep(1)
    except OSError:
        pass


def close_after(conn, data, stats):
    conn.sendall(data)
    stats["sent"] = len(data)
    conn.shutdown(socket.SHUT_RDWR)


HEAD_200 = b"HTTP/1.1 200 OK\r\n"
# name: (what the server does, expected exit code, expected start of the error line or None,
# expected stdout, or a test of it). What arrived before a failure has been written out.
CASES = {
    "ok": (
        lambda c, s: close_after(c, HEAD_200 + b"Content-Length: 2\r\n\r\nok", s),
        0,
        None,
        b"ok",
    ),
    "trickle-head": (
        lambda c, s: trickle(c, HEAD_200 + b"Content-Length: 2\r\n\r\nok", s),
        28,
        "netdeck: GET {url} timed out after {timeout}",
        b"",
    ),
    "trickle-body": (
        lambda c, s: (c.sendall(HEAD_200 + b"Content-Length: 100\r\n\r\n"), trickle(c, b"x" * 100, s)),
        28,
        "netdeck: GET {url} timed out after {timeout}",
        lambda out: out == b"x" * len(out) and len(out) < 100,
    ),
    "endless-header": (
        lambda c, s: send_endless(c, HEAD_200 + b"X-Endless: ", b"a" * 65536, s),
        8,
        "netdeck: bad answer from 127.0.0.1: the head is larger than 64 KiB",
        b"",
    ),
    "endless-header-lines": (
        lambda c, s: send_endless(c, HEAD_200, b"X-Line: a\r\n" * 6000, s),
        8,
        "netdeck: bad answer from 127.0.0.1: more than 100 headers",
        b"",
    ),
    "length-more": (
        lambda c, s: close_after(c, HEAD_200 + b"Content-Length: 1000\r\n\r\nonly ten b", s),
        18,
        "netdeck: incomplete answer from 127.0.0.1: the body ended after 10 of 1000 bytes",
        b"only ten b",
    ),
    "length-less": (
        lambda c, s: send_endless(c, HEAD_200 + b"Content-Length: 5\r\n\r\nhello", b"EXTRA" * 13107, s),
        0,
        None,
        b"hello",
    ),
    "mid-chunk": (
        lambda c, s: close_after(
            c, HEAD_200 + b"Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n10\r\nonly", s
        ),
        18,
        "netdeck: incomplete answer from 127.0.0.1: the connection closed in the middle of a chunked body",
        b"hello",
    ),
}


def seconds_text(seconds):
    """How netdeck writes a duration: `500 ms`, `2 s`, `1.5 s`."""
    if seconds < 1:
        return f"{round(seconds * 1000)} ms"
    if seconds == int(seconds):
        return f"{int(seconds)} s"
    return f"{seconds:.1f} s"


def hostile_case(netdeck, name, timeout, scratch):
    behave, want_code, want_line, want_stdout = CASES[name]
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    url = f"http://127.0.0.1:{listener.getsockname()[1]}/{name}"
    stats = {"sent": 0, "requests": 0}

    def serve():
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            stats["requests"] += 1
            with conn:
                read_head(conn)
                try:
                    behave(conn, stats)
                except OSError:
                    pass

    threading.Thread(target=serve, daemon=True).start()
    out_path, err_path = os.path.join(scratch, "out"), os.path.join(scratch, "err")
    rss_path = os.path.join(scratch, "rss")
    command = [netdeck, "http", url, "--timeout", str(timeout)]
    # The peak resident memory of a child counts what it had before exec too: a child forked
    # from this Python process would start at Python's size. GNU time is small, so its child's
    # peak is netdeck's own.
    measured = os.path.exists(GNU_TIME)
    if measured:
        command = [GNU_TIME, "-f", "%M", "-o", rss_path] + command
    with open(out_path, "wb") as out, open(err_path, "wb") as err:
        started = time.monotonic()
        child = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=err,
            start_new_session=True,
        )
        killed = threading.Event()
        reaped = threading.Event()

        def watchdog():
            if not reaped.wait(HANG):
                killed.set()
                os.killpg(child.pid, signal.SIGKILL)

        threading.Thread(target=watchdog, daemon=True).start()
        _, status, usage = os.wait4(child.pid, 0)
        reaped.set()
        elapsed = time.monotonic() - started
    child.returncode = os.waitstatus_to_exitcode(status)
    peak_rss = usage.ru_maxrss
    if measured:
        with open(rss_path) as rss:
            lines = rss.read().split()
        peak_rss = int(lines[-1]) if lines and lines[-1].isdigit() else None
    listener.close()
    with open(out_path, "rb") as out:
        stdout = out.read()
    with open(err_path, "rb") as err:
        stderr = err.read().decode(errors="replace")
    code = None if killed.is_set() else child.returncode
    first_line = stderr.split("\n", 1)[0]
    expected_line = (
        want_line.format(url=url, timeout=seconds_text(timeout)) if want_line else None
    )
    checks = {
        "ended": not killed.is_set(),
        "exit code": code == want_code,
        "error line": first_line.startswith(expected_line) if expected_line else stderr == "",
        "output": want_stdout(stdout) if callable(want_stdout) else stdout == want_stdout,
    }
    return {
        "case": name,
        "url": url,
        "timeout_s": timeout,
        "elapsed_s": round(elapsed, 3),
        "exit_code": code,
        "expected_exit_code": want_code,
        "error_line": first_line,
        "expected_error_line": expected_line,
        "stdout": stdout[:200].decode(errors="replace"),
        "peak_rss_kib": peak_rss,
        "peak_rss_measured_alone": measured,
        "server_sent_bytes": stats["sent"],
        "requests": stats["requests"],
        "checks": checks,
    }


def hostile_command(options):
    import tempfile

    results = []
    with tempfile.TemporaryDirectory() as scratch:
        for name in options.cases:
            result = hostile_case(options.netdeck, name, options.timeout, scratch)
            if options.check_deadline:
                result["checks"]["within deadline"] = result["elapsed_s"] <= options.timeout + 0.5
            result["ok"] = all(result["checks"].values())
            failed = [k for k, ok in result["checks"].items() if not ok]
            log(
                f"{name}: exit {result['exit_code']} after {result['elapsed_s']:.2f} s (deadline "
                f"{options.timeout} s), peak RSS {result['peak_rss_kib']} KiB, server sent "
                f"{result['server_sent_bytes']} bytes: {result['error_line'] or '(no error)'}"
                + (f" -- FAIL: {', '.join(failed)}" if failed else "")
            )
            if failed:
                log(f"  expected exit {result['expected_exit_code']}: {result['expected_error_line']}")
            results.append(result)
    return {"timeout_s": options.timeout, "cases": results, "ok": all(r["ok"] for r in results)}


# --- Command line -----------------------------------------------------------------------


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve")
    serve.add_argument("netdeck")
    serve.add_argument("--modes", default="manual,echo,reply,http", type=lambda t: t.split(","))
    serve.add_argument("--clients", type=int, default=500)
    serve.add_argument("--duration", type=float, default=60)
    serve.add_argument("--warmup", type=float, default=10)
    serve.add_argument("--seed", type=int, default=None)
    memory = serve.add_mutually_exclusive_group()
    memory.add_argument("--rss-ratio", type=float, default=1.10)
    memory.add_argument("--rss-max-mib", type=float, default=None)
    serve.add_argument("--json")
    hostile = commands.add_parser("hostile")
    hostile.add_argument("netdeck")
    hostile.add_argument("--timeout", type=float, default=5)
    hostile.add_argument("--cases", default=",".join(CASES), type=lambda t: t.split(","))
    hostile.add_argument("--check-deadline", action="store_true")
    hostile.add_argument("--json")
    options = parser.parse_args()

    if options.command == "serve":
        for mode in options.modes:
            if mode not in MODE_FLAGS:
                parser.error(f"unknown mode {mode}")
        if options.seed is None:
            options.seed = int.from_bytes(os.urandom(4), "big")
        log(f"seed {options.seed}")
        result = serve_command(options)
    else:
        for name in options.cases:
            if name not in CASES:
                parser.error(f"unknown case {name}")
        result = hostile_command(options)
    if options.json:
        with open(options.json, "w") as out:
            json.dump(result, out, indent=1)
    log("all checks passed" if result["ok"] else "SOME CHECKS FAILED")
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
