"""A UDP peer netdeck did not write, for the UDP tests.

usage: udp_peer.py MODE [ARGS]
  echo                    bind 127.0.0.1, send every datagram back to its source
  send HOST PORT TEXT [IF]  send TEXT as one datagram (IF: the multicast interface: an IPv4
                          address, or an interface name for IPv6), then print each reply as
                          "from ADDR PORT: TEXT" until none comes for 5 s
  receive GROUP IF        join the IPv4 GROUP on the interface with address IF, print
                          "port N", then the first datagram as "from ADDR PORT: TEXT"

Prints "port N" once bound (echo).
"""

import socket
import struct
import sys


def echo():
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    print(f"port {sock.getsockname()[1]}", flush=True)
    while True:
        data, source = sock.recvfrom(65536)
        sock.sendto(data, source)


def send(host, port, text, interface=None):
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_DGRAM)
    target = (host, int(port))
    if interface and family == socket.AF_INET:
        sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton(interface))
    if interface and family == socket.AF_INET6:
        index = socket.if_nametoindex(interface)
        sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_IF, struct.pack("@I", index))
        target = (host, int(port), 0, index)
    sock.sendto(text.encode(), target)
    sock.settimeout(5)
    try:
        while True:
            data, source = sock.recvfrom(65536)
            print(f"from {source[0]} {source[1]}: {data.decode(errors='replace')}", flush=True)
    except socket.timeout:
        pass


def receive(group, interface):
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("", 0))
    membership = socket.inet_aton(group) + socket.inet_aton(interface)
    sock.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, membership)
    print(f"port {sock.getsockname()[1]}", flush=True)
    data, source = sock.recvfrom(65536)
    print(f"from {source[0]} {source[1]}: {data.decode(errors='replace')}", flush=True)


if __name__ == "__main__":
    if sys.argv[1] == "echo":
        echo()
    elif sys.argv[1] == "receive":
        receive(*sys.argv[2:])
    else:
        send(*sys.argv[2:])
