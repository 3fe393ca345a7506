#!/usr/bin/env python3
"""Recording TCP proxy for the Kafka wire protocol (Python 3 stdlib only).

Listens on a loopback port, forwards every connection to the broker, splits both directions
into Kafka frames (4-byte big-endian size prefix), pairs each response with its request by
correlation id, and appends one JSON line per exchange:

  {"api_key": 0, "api_version": 9, "correlation_id": 7, "client_id": "cap-produce-none",
   "connection": 3, "request": "<hex, frame without the 4-byte size>",
   "response": "<hex, frame without the size, or null when none came (acks=0)>",
   "client": "librdkafka-2.16"}

Output: one file per request-header client_id, OUT_DIR/<client_id>.jsonl (characters other
than [A-Za-z0-9._-] become '_'), so a driver that gives each scenario its own client.id gets
one fixture file per scenario from one proxy and one broker. Exchanges that are identical up
to the correlation id (request and response bytes, correlation ids masked) are written once
per file unless --no-dedupe.

The proxy never rewrites bytes: start the broker so that it advertises the proxy's address
(Tansu: --advertised-listener-url tcp://127.0.0.1:PROXYPORT), otherwise the client follows
Metadata to the broker itself and the rest of the conversation is not recorded.

usage: kafka_capture_proxy.py --listen 127.0.0.1:29092 --upstream 127.0.0.1:19092 \
           --out-dir DIR [--client librdkafka-2.16] [--no-dedupe] [--ready-file PATH]
Stops on SIGINT/SIGTERM after flushing (unanswered requests are written with response null).
"""
import argparse
import asyncio
import json
import os
import re
import signal
import struct
import sys


def log(msg):
    print(f"capture-proxy: {msg}", file=sys.stderr, flush=True)


def parse_request_header(frame):
    """(api_key, api_version, correlation_id, client_id or None) of a request frame (no size)."""
    if len(frame) < 8:
        raise ValueError(f"request frame too short ({len(frame)} bytes)")
    api_key, api_version, corr = struct.unpack_from(">hhi", frame, 0)
    client_id = None
    # Header v0 (only ControlledShutdown v0) has no client_id; v1 and v2 start with a
    # nullable int16-length string client_id (not compact even in flexible versions).
    if not (api_key == 7 and api_version == 0) and len(frame) >= 10:
        (n,) = struct.unpack_from(">h", frame, 8)
        if n >= 0 and 10 + n <= len(frame):
            client_id = frame[10:10 + n].decode("utf-8", "replace")
    return api_key, api_version, corr, client_id


class Recorder:
    def __init__(self, out_dir, client_label, dedupe):
        self.out_dir = out_dir
        self.client_label = client_label
        self.dedupe = dedupe
        self.files = {}      # name -> file object
        self.seen = {}       # name -> set of masked exchanges
        self.written = 0
        self.dropped = 0

    def _file(self, client_id):
        name = re.sub(r"[^A-Za-z0-9._-]", "_", client_id or "no-client-id")
        f = self.files.get(name)
        if f is None:
            path = os.path.join(self.out_dir, name + ".jsonl")
            f = open(path, "a", encoding="utf-8")
            self.files[name] = f
            self.seen[name] = set()
        return name, f

    def record(self, conn_id, req, resp):
        api_key, api_version, corr, client_id = parse_request_header(req)
        name, f = self._file(client_id)
        if self.dedupe:
            masked = (req[:4] + b"\0\0\0\0" + req[8:],
                      None if resp is None else b"\0\0\0\0" + resp[4:])
            if masked in self.seen[name]:
                self.dropped += 1
                return
            self.seen[name].add(masked)
        line = {
            "api_key": api_key,
            "api_version": api_version,
            "correlation_id": corr,
            "client_id": client_id,
            "connection": conn_id,
            "request": req.hex(),
            "response": None if resp is None else resp.hex(),
            "client": self.client_label,
        }
        f.write(json.dumps(line) + "\n")
        f.flush()
        self.written += 1

    def close(self):
        for f in self.files.values():
            f.close()


async def read_frame(reader):
    """One frame without its size prefix, or None at a clean end of stream."""
    try:
        head = await reader.readexactly(4)
    except asyncio.IncompleteReadError as e:
        if e.partial:
            raise ConnectionError(f"stream ended inside a size prefix ({len(e.partial)} bytes)")
        return None
    (size,) = struct.unpack(">i", head)
    if size < 0 or size > 256 * 1024 * 1024:
        raise ConnectionError(f"implausible frame size {size}")
    return await reader.readexactly(size)


class Proxy:
    def __init__(self, upstream, recorder):
        self.upstream = upstream
        self.recorder = recorder
        self.next_conn = 0
        self.tasks = set()
        self.pending_all = {}   # conn_id -> dict corr -> request (for the final flush)

    async def handle(self, c_reader, c_writer):
        self.next_conn += 1
        conn_id = self.next_conn
        host, port = self.upstream
        try:
            b_reader, b_writer = await asyncio.open_connection(host, port)
        except OSError as e:
            log(f"conn {conn_id}: cannot reach upstream {host}:{port}: {e}")
            c_writer.close()
            return
        pending = {}
        self.pending_all[conn_id] = pending

        async def client_to_broker():
            while True:
                frame = await read_frame(c_reader)
                if frame is None:
                    break
                _, _, corr, _ = parse_request_header(frame)
                if corr in pending:
                    log(f"conn {conn_id}: correlation id {corr} reused while in flight")
                    self.recorder.record(conn_id, pending.pop(corr), None)
                pending[corr] = frame
                b_writer.write(struct.pack(">i", len(frame)) + frame)
                await b_writer.drain()

        async def broker_to_client():
            while True:
                frame = await read_frame(b_reader)
                if frame is None:
                    break
                (corr,) = struct.unpack_from(">i", frame, 0)
                req = pending.pop(corr, None)
                if req is None:
                    log(f"conn {conn_id}: response with unknown correlation id {corr} (not recorded)")
                else:
                    self.recorder.record(conn_id, req, frame)
                c_writer.write(struct.pack(">i", len(frame)) + frame)
                await c_writer.drain()

        t1 = asyncio.ensure_future(client_to_broker())
        t2 = asyncio.ensure_future(broker_to_client())
        try:
            done, _ = await asyncio.wait({t1, t2}, return_when=asyncio.FIRST_COMPLETED)
            for t in done:
                exc = t.exception()
                if exc is not None and not isinstance(exc, (ConnectionError, asyncio.IncompleteReadError)):
                    log(f"conn {conn_id}: {type(exc).__name__}: {exc}")
            # Give the other direction a moment to deliver responses already in flight.
            if t1 in done and not t2.done():
                b_writer.write_eof() if b_writer.can_write_eof() else None
                await asyncio.wait({t2}, timeout=2)
        finally:
            for t in (t1, t2):
                if not t.done():
                    t.cancel()
            await asyncio.gather(t1, t2, return_exceptions=True)   # retrieve every exception
            for w in (c_writer, b_writer):
                try:
                    w.close()
                except Exception:
                    pass
            self.flush_conn(conn_id)

    def flush_conn(self, conn_id):
        pending = self.pending_all.pop(conn_id, {})
        for corr in sorted(pending):
            self.recorder.record(conn_id, pending[corr], None)

    def flush_all(self):
        for conn_id in list(self.pending_all):
            self.flush_conn(conn_id)


def hostport(s):
    host, _, port = s.rpartition(":")
    return host or "127.0.0.1", int(port)


async def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--listen", required=True, type=hostport, help="HOST:PORT to listen on (loopback)")
    ap.add_argument("--upstream", required=True, type=hostport, help="broker HOST:PORT")
    ap.add_argument("--out-dir", required=True)
    ap.add_argument("--client", default="librdkafka-2.16", help='value of the "client" field')
    ap.add_argument("--no-dedupe", action="store_true")
    ap.add_argument("--ready-file", help="written (with the port) once listening")
    args = ap.parse_args()

    os.makedirs(args.out_dir, exist_ok=True)
    rec = Recorder(args.out_dir, args.client, not args.no_dedupe)
    proxy = Proxy(args.upstream, rec)

    def on_conn(r, w):
        t = asyncio.ensure_future(proxy.handle(r, w))
        proxy.tasks.add(t)
        t.add_done_callback(proxy.tasks.discard)

    host, port = args.listen
    server = await asyncio.start_server(on_conn, host, port)
    log(f"listening on {host}:{port} -> {args.upstream[0]}:{args.upstream[1]}, writing {args.out_dir}/*.jsonl")
    if args.ready_file:
        with open(args.ready_file, "w") as f:
            f.write(f"{port}\n")

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    server.close()
    for t in list(proxy.tasks):
        t.cancel()
    await asyncio.gather(*proxy.tasks, return_exceptions=True)
    proxy.flush_all()
    rec.close()
    log(f"stopped: {rec.written} exchanges written, {rec.dropped} duplicates dropped")


if __name__ == "__main__":
    asyncio.run(main())
