import Testing
import KafkaProtocol

@Suite struct FrameSplitterTests {
    @Test func framesSplitAcrossArbitraryPieces() throws {
        var stream: [UInt8] = []
        var expected: [[UInt8]] = []
        var rng = SeededGenerator(seed: 7)
        for n in [0, 1, 5, 300, 70000, 90000, 3, 65536, 70000] {
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
                while var f = try s.nextFrame() {
                    got.append(f)
                    // As the connection does: the storage goes back for the next large frame.
                    if seed % 2 == 0 { s.keep(&f) }
                }
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

    static func framed(_ body: [UInt8]) -> [UInt8] {
        var w = ByteWriter()
        w.writeInt32(Int32(body.count))
        return w.bytes + body
    }

    @Test func aKeptFramesStorageCarriesTheNextLargeFrame() throws {
        var s = FrameSplitter()
        let first = [UInt8](repeating: 1, count: 300_000)
        let second = [UInt8](repeating: 2, count: 200_000)
        s.append(Self.framed(first))
        var frame = try #require(try s.nextFrame())
        #expect(frame == first)
        let storage = frame.withUnsafeBufferPointer { $0.baseAddress }
        let room = frame.capacity
        #expect(s.capacity == 0, "the frame's storage was handed over")
        s.keep(&frame)
        #expect(frame.isEmpty && s.capacity == room)
        // The next frame, in two pieces, arrives in the kept storage and is handed over again.
        let bytes = Self.framed(second)
        s.append(bytes[0 ..< 1000])
        #expect(try s.nextFrame() == nil)
        s.append(bytes[1000...])
        let next = try #require(try s.nextFrame())
        #expect(next == second)
        #expect(next.withUnsafeBufferPointer { $0.baseAddress } == storage)
    }

    @Test func keepingIsBounded() throws {
        var s = FrameSplitter()
        // Past the limit: not kept.
        var huge = [UInt8](repeating: 0, count: 5 * 1024 * 1024)
        s.keep(&huge)
        #expect(huge.isEmpty && s.capacity == 0)
        // Small frames' storage is not worth keeping.
        var small = [UInt8](repeating: 0, count: 100)
        s.keep(&small)
        #expect(s.capacity == 0)
        // A small frame buffered meanwhile is kept apart from it and still comes out whole.
        s.append([0, 0, 0, 9, 1])
        var large = [UInt8](repeating: 0, count: 100_000)
        let room = large.capacity
        s.keep(&large)
        #expect(large.isEmpty && s.bufferedByteCount == 5 && s.capacity >= room)
        s.append([2, 3, 4, 5, 6, 7, 8, 9])
        #expect(try s.nextFrame() == [1, 2, 3, 4, 5, 6, 7, 8, 9])
    }

    @Test func aLargeFrameIsHandedOverWholeWhenTheNextFrameArrivesWithIt() throws {
        var s = FrameSplitter()
        var kept = [UInt8](repeating: 0, count: 300_000)
        let storage = kept.withUnsafeBufferPointer { $0.baseAddress }
        s.keep(&kept)
        let first = (0 ..< 200_000).map { UInt8(truncatingIfNeeded: $0) }
        let bytes = Self.framed(first) + Self.framed([7, 7]) + Self.framed([UInt8](repeating: 3, count: 100_000))
        // The first piece leaves the frame incomplete: the rest of it goes to its own array.
        s.append(bytes[0 ..< 65_000])
        #expect(try s.nextFrame() == nil)
        #expect(s.bufferedByteCount == 65_000)
        // Its end, the next frame and the start of a third, in one piece.
        s.append(bytes[65_000 ..< 250_000])
        let got = try #require(try s.nextFrame())
        #expect(got == first)
        #expect(got.withUnsafeBufferPointer { $0.baseAddress } == storage, "received into the kept storage and handed over, not copied")
        #expect(try s.nextFrame() == [7, 7])
        #expect(try s.nextFrame() == nil)
        s.append(bytes[250_000...])
        #expect(try s.nextFrame() == [UInt8](repeating: 3, count: 100_000))
        #expect(try s.nextFrame() == nil)
        #expect(s.bufferedByteCount == 0)
    }
}
