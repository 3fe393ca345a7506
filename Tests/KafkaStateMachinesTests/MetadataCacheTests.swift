import Testing
@testable import KafkaStateMachines

/// What the metadata cache keeps from answers a broker should never send.
@Suite struct MetadataCacheTests {
    static func answer(indexes: [Int32]) -> MetadataResponse {
        var b = MetadataResponse.MetadataResponseBroker()
        b.nodeId = 1; b.host = "b1"; b.port = 9092
        var t = MetadataResponse.MetadataResponseTopic()
        t.name = "t"
        t.partitions = indexes.map { i in
            var p = MetadataResponse.MetadataResponsePartition()
            p.partitionIndex = i
            p.leaderId = 1
            return p
        }
        var r = MetadataResponse()
        r.brokers = [b]
        r.topics = [t]
        return r
    }

    /// A topic listing 3 partitions with indexes 0, 2^31-1, -1: only 0 is kept, so nothing
    /// downstream sizes itself by the absurd index; the count stays the listed one.
    @Test func partitionIndexesOutsideTheListedCountAreIgnored() {
        var cache = MetadataCache()
        cache.apply(Self.answer(indexes: [0, Int32.max, -1]), now: .zero)
        #expect(cache.partitionCounts["t"] == 3)
        #expect(cache.partitions.keys.sorted { $0.partition < $1.partition } == [TopicPartition("t", 0)])
        #expect(cache.leader(of: TopicPartition("t", Int32.max)) == nil)
        #expect(cache.leader(of: TopicPartition("t", -1)) == nil)
    }

    /// Indexes inside the count are all kept, in whatever order the broker lists them.
    @Test func indexesInsideTheCountAreKept() {
        var cache = MetadataCache()
        cache.apply(Self.answer(indexes: [2, 0, 1]), now: .zero)
        #expect(cache.partitions.count == 3)
        #expect([0, 1, 2].allSatisfy { cache.leader(of: TopicPartition("t", Int32($0))) == 1 })
    }
}
