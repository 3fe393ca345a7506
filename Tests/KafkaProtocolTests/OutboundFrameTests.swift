import KafkaProtocol
import Testing

@Suite struct OutboundFrameTests {
    /// A produce request over three partitions: two batches long enough to splice, one not.
    private func request() -> ProduceRequest {
        var req = ProduceRequest()
        req.acks = -1
        req.timeoutMs = 30_000
        var t = ProduceRequest.TopicProduceData()
        t.name = "orders"
        t.partitionData = [(0, 5000), (1, 100), (2, 4096)].map { (index, size) in
            var p = ProduceRequest.PartitionProduceData()
            p.index = Int32(index)
            p.records = (0 ..< size).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ index) }
            return p
        }
        req.topicData = [t]
        return req
    }

    /// Spliced or not, a frame is the same bytes: whole, run by run and byte by byte, at
    /// a flexible version (compact lengths) and an older one.
    @Test(arguments: [Int16(3), 9])
    func aSplicedFrameIsTheSameBytes(version: Int16) throws {
        let plain = try encodeRequestFrame(request(), version: version, correlationId: 9, clientId: "kgo")
        let frame = try encodeRequestFrame(request(), version: version, correlationId: 9, clientId: "kgo", splicingFrom: 4096)
        #expect(frame.splices.map(\.bytes.count) == [5000, 4096], "the 100-byte batch is copied into the head")
        #expect(frame.head.count == plain.count - 9096)
        #expect(frame.count == plain.count)
        #expect(frame.bytes == plain)
        var runs: [UInt8] = []
        var runCount = 0
        frame.forEachRun { runs.append(contentsOf: $0); runCount += 1 }
        #expect(runs == plain)
        // head, batch 0, head (batch 1 inline, then partition 2's index and length), batch 2, head (the rest).
        #expect(runCount == (version >= 9 ? 5 : 4))
        // The size prefix counts the spliced bytes.
        #expect(Int(frame.head[3]) | Int(frame.head[2]) << 8 | Int(frame.head[1]) << 16 == plain.count - 4)
    }

    @Test func aFrameWithoutSplicesIsItsHead() {
        let frame = OutboundFrame([1, 2, 3])
        #expect(frame.splices.isEmpty && frame.bytes == [1, 2, 3] && frame.count == 3)
    }
}
