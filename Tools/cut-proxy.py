#!/usr/bin/env python3
"""A TCP proxy that resets each connection after a random number of bytes (issue 22).

    Tools/cut-proxy.py LISTEN_PORT UPSTREAM_PORT MIN_BYTES MAX_BYTES [SEED]

Each accepted connection is joined to 127.0.0.1:UPSTREAM_PORT; it carries N bytes, both
directions counted together, N drawn per connection from MIN..MAX with a generator seeded
by SEED (default 1), and is then reset on both sides (SO_LINGER 0: an RST, in-flight bytes
lost). The chunk that crosses N is forwarded only up to N. A manual check of the client on
a real socket against what the simulation's `cut-after-bytes` fault models; the broker
must advertise the proxy's port (Tansu: TANSU_ADVERTISED=tcp://127.0.0.1:LISTEN_PORT), or
clients go around it after the first metadata. Prints one line per connection to stderr
and a summary on SIGINT/SIGTERM.
"""
import random
import select
import signal
import socket
import struct
import sys
import threading

LINGER_RESET = struct.pack("ii", 1, 0)


def reset(*socks):
    for s in socks:
        try:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, LINGER_RESET)
        except OSError:
            pass
        try:
            s.close()
        except OSError:
            pass


def pump(client, upstream, limit, index, stats):
    carried = 0
    peers = {client: upstream, upstream: client}
    cut = False
    try:
        while True:
            readable, _, _ = select.select([client, upstream], [], [])
            for s in readable:
                data = s.recv(65536)
                if not data:
                    raise EOFError
                room = limit - carried
                if len(data) >= room:
                    if room > 0:
                        peers[s].sendall(data[:room])
                    carried = limit
                    cut = True
                    raise EOFError
                peers[s].sendall(data)
                carried += len(data)
    except (EOFError, OSError):
        pass
    reset(client, upstream)
    with stats["lock"]:
        stats["connections"] += 1
        stats["cuts"] += 1 if cut else 0
        stats["bytes"] += carried
    print(f"cut-proxy: connection {index}: {carried} of {limit} bytes, {'cut' if cut else 'closed'}",
          file=sys.stderr, flush=True)


def main():
    if len(sys.argv) < 5:
        sys.exit(__doc__)
    listen_port, upstream_port, lo, hi = (int(a) for a in sys.argv[1:5])
    rng = random.Random(int(sys.argv[5]) if len(sys.argv) > 5 else 1)
    stats = {"lock": threading.Lock(), "connections": 0, "cuts": 0, "bytes": 0}

    def summary(*_):
        print(f"cut-proxy: {stats['connections']} connections, {stats['cuts']} cut, {stats['bytes']} bytes",
              file=sys.stderr, flush=True)
        sys.exit(0)

    signal.signal(signal.SIGTERM, summary)
    signal.signal(signal.SIGINT, summary)
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind(("127.0.0.1", listen_port))
    server.listen(64)
    index = 0
    while True:
        client, _ = server.accept()
        index += 1
        try:
            upstream = socket.create_connection(("127.0.0.1", upstream_port))
        except OSError:
            reset(client)
            continue
        for s in (client, upstream):
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        limit = rng.randint(lo, hi)
        threading.Thread(target=pump, args=(client, upstream, limit, index, stats), daemon=True).start()


if __name__ == "__main__":
    main()
