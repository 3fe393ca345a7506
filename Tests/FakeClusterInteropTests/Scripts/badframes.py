# Bad input on one connection closes only that connection: an oversized frame, then a
# malformed one; a third connection, open all along, keeps being served.
import socket, struct, sys
host, port = sys.argv[1], int(sys.argv[2])
def api_versions(s, corr):
    body = struct.pack(">hhih", 18, 0, corr, -1)  # ApiVersions v0, null client id
    s.sendall(struct.pack(">i", len(body)) + body)
    size = struct.unpack(">i", s.recv(4, socket.MSG_WAITALL))[0]
    data = s.recv(size, socket.MSG_WAITALL)
    assert struct.unpack(">i", data[:4])[0] == corr and struct.unpack(">h", data[4:6])[0] == 0, data[:8]
def closed(s):
    s.settimeout(5)
    return s.recv(1) == b""
good = socket.create_connection((host, port))
api_versions(good, 1)
big = socket.create_connection((host, port))
big.sendall(struct.pack(">i", 200 * 1024 * 1024))
assert closed(big), "oversized frame did not close the connection"
bad = socket.create_connection((host, port))
body = struct.pack(">hhi", 3, 1, 7) + b"\xff\xff\xff"   # Metadata v1 with a truncated header/body
bad.sendall(struct.pack(">i", len(body)) + body)
assert closed(bad), "malformed frame did not close the connection"
api_versions(good, 2)
print("OK")
