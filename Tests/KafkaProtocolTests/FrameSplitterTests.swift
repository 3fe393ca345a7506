import Testing
import KafkaProtocol

@Suite struct FrameSplitterTests {
    @Test func framesSplitAcrossArbitraryPieces() throws {
        var stream: [UInt8] = []
        var expected: [[UInt8]] = []
        var rng = SeededGenerator(seed: 7)
        for n in [0, 1, 5, 300, 70000] {
            let body = (0 ..< n).map { _ in UInt8.random(in: 0 ... 255, using: &rng) }
            expected.append(body)
            var w = ByteWriter()
            w.writeInt32(Int32(n))
            stream += w.bytes + body
        }
        for seed in 0 ..< 20 {
            var r = SeededGenerator(seed: UInt64(seed))
            var s = FrameSplitter()
            var got: [[UInt8]] = []
            var i = 0
            while i < stream.count {
                let k = min(stream.count - i, Int.random(in: 1 ... 9000, using: &r))
                s.append(stream[i ..< i + k])
                i += k
                while let f = try s.nextFrame() { got.append(f) }
            }
            #expect(got == expected)
            #expect(s.bufferedByteCount == 0)
        }
    }

    @Test func oversizedAndNegativeFramesAreRejected() {
        var s = FrameSplitter(maxFrameSize: 1000)
        s.append([0x00, 0x00, 0x03, 0xE9, 1, 2, 3])
        #expect(throws: FrameSplitter.Failure.frameSizeOutOfRange(size: 1001, max: 1000)) { try s.nextFrame() }
        // It stays failed: the connection must be closed.
        #expect(throws: FrameSplitter.Failure.frameSizeOutOfRange(size: 1001, max: 1000)) { try s.nextFrame() }
        var n = FrameSplitter()
        n.append([0xFF, 0xFF, 0xFF, 0xFE])
        #expect(throws: FrameSplitter.Failure.frameSizeOutOfRange(size: -2, max: 100 * 1024 * 1024)) { try n.nextFrame() }
    }
}
