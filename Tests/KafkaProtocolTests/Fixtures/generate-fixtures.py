# Regenerates codecs/ and records/ (run from the repository root in a virtualenv with
# lz4 zstandard python-snappy xxhash kafka-python). Cross-check vectors from real
# implementations; the tests only read the files it wrote.
import gzip, struct, os, io
import snappy, lz4.frame, zstandard, xxhash
from kafka.record.default_records import DefaultRecordBatchBuilder
from kafka.record.legacy_records import LegacyRecordBatchBuilder

C = 'Tests/KafkaProtocolTests/Fixtures/codecs/'
R = 'Tests/KafkaProtocolTests/Fixtures/records/'
def w(path, data):
    open(path, 'wb').write(data)

# 80 KB plaintext: text-like and compressible, with some noise so copies vary.
import random
rnd = random.Random(7)
words = [b'kafka', b'record', b'batch', b'offset', b'partition', b'leader', b'epoch', b'snappy', b'zstd', b'\x00\x01\x02']
buf = bytearray()
while len(buf) < 80000:
    buf += rnd.choice(words) + bytes([rnd.randrange(256)]) if rnd.random() < 0.2 else rnd.choice(words) + b' '
plain = bytes(buf[:80000])
w(C + 'plain.bin', plain)

w(C + 'plain.snappy-raw', snappy.compress(plain))
# xerial framing as snappy-java writes it: magic, version 1, compat 1, then 32 KiB chunks.
x = bytearray(b'\x82SNAPPY\x00' + struct.pack('>ii', 1, 1))
for i in range(0, len(plain), 32768):
    blk = snappy.compress(plain[i:i+32768])
    x += struct.pack('>i', len(blk)) + blk
w(C + 'plain.snappy-xerial', bytes(x))

w(C + 'plain.gz', gzip.compress(plain))
w(C + 'plain-two-members.gz', gzip.compress(plain[:30000]) + gzip.compress(plain[30000:]))

# lz4: default python frame (content size, linked blocks, content checksum)
f = lz4.frame.compress(plain, content_checksum=True, store_size=True, block_linked=True)
w(C + 'plain.lz4', f)
# legacy (KAFKA-3160) header checksum: xxh32 over magic + descriptor
flg = f[4]
hc = 6 + (8 if flg & 0x08 else 0) + (4 if flg & 0x01 else 0)
bad = bytearray(f)
bad[hc] = (xxhash.xxh32(bytes(f[:hc]), seed=0).intdigest() >> 8) & 0xFF
assert bad[hc] != f[hc]
w(C + 'plain-kafka3160.lz4', bytes(bad))
# XXH32 vectors from the reference implementation
with open(C + 'xxh32.txt', 'w') as t:
    for s in [b'', b'a', b'abc', b'Nobody inspects the spammish repetition', plain[:1000]]:
        t.write('%s %08x\n' % (s.hex(), xxhash.xxh32(s, seed=0).intdigest()))
    t.write('%s %08x seed\n' % (b'abc'.hex(), xxhash.xxh32(b'abc', seed=0x9747b28c).intdigest()))

w(C + 'plain.zst', zstandard.ZstdCompressor(level=3).compress(plain))
# Bombs: 1 GiB of zeros, with and without a declared content size.
def bomb(with_size):
    cctx = zstandard.ZstdCompressor(level=19, write_content_size=with_size)
    out = io.BytesIO()
    chunk = bytes(1 << 20)
    with cctx.stream_writer(out, size=(1 << 30) if with_size else -1, closefd=False) as wr:
        for _ in range(1024):
            wr.write(chunk)
    return out.getvalue()
b1 = bomb(True); b2 = bomb(False)
print('bomb sizes', len(b1), len(b2))
w(C + 'bomb-1gib-sized.zst', b1)
w(C + 'bomb-1gib-unsized.zst', b2)

# Record batches from kafka-python (an independent implementation).
for name, ct in [('none', 0), ('gzip', 1), ('snappy', 2), ('lz4', 3), ('zstd', 4)]:
    b = DefaultRecordBatchBuilder(magic=2, compression_type=ct, is_transactional=False, producer_id=-1, producer_epoch=-1, base_sequence=-1, batch_size=1 << 20)
    for i in range(50):
        key = None if i % 7 == 0 else b'key-%d' % i
        value = None if i % 11 == 0 else (b'value-%d-' % i) * 5
        headers = [] if i % 3 else [('h%d' % i, b'hv'), ('n', None)]
        b.append(i, timestamp=1700000000000 + i * 3, key=key, value=value, headers=headers)
    w(R + 'kafka-python-v2-%s.bin' % name, bytes(b.build()))
for magic in (0, 1):
    for name, ct in [('none', 0), ('gzip', 1), ('snappy', 2), ('lz4', 3)]:
        b = LegacyRecordBatchBuilder(magic=magic, compression_type=ct, batch_size=1 << 20)
        for i in range(20):
            key = None if i % 7 == 0 else b'key-%d' % i
            value = None if i % 11 == 0 else (b'value-%d-' % i) * 5
            b.append(i, timestamp=1700000000000 + i * 3 if magic else None, key=key, value=value)
        w(R + 'kafka-python-magic%d-%s.bin' % (magic, name), bytes(b.build()))
