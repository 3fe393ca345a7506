@testable import FakeCluster
import Testing

/// Admin requests and stored batches with absurd numbers in them: the cluster refuses or
/// falls back, and stays responsive (fuzzing found a stall and a trap here).
@Suite struct HostileAdminTests {
    static func createTopics(_ counts: [Int32], validateOnly: Bool = false) -> CreateTopicsRequest {
        var r = CreateTopicsRequest()
        r.validateOnly = validateOnly
        r.topics = counts.enumerated().map { i, n in
            var t = CreateTopicsRequest.CreatableTopic()
            t.name = "new\(i)"
            t.numPartitions = n
            t.replicationFactor = 1
            return t
        }
        return r
    }

    static func createPartitions(_ topic: String, total: Int32) -> CreatePartitionsRequest {
        var t = CreatePartitionsRequest.CreatePartitionsTopic()
        t.name = topic
        t.count = total
        t.assignments = nil
        var r = CreatePartitionsRequest()
        r.topics = [t]
        return r
    }

    /// 2^31-1 partitions in one topic, or 6,000 + 5,000 over two topics: the whole request is
    /// refused with POLICY_VIOLATION and nothing is created; 10,000 in all is still allowed.
    @Test func createTopicsAskingForMoreThan10000PartitionsIsAPolicyViolation() throws {
        var cluster = threeBrokers()
        var c = WireClient(&cluster, broker: 1)
        for counts: [Int32] in [[Int32.max], [6_000, 5_000]] {
            for validateOnly in [false, true] {
                let resp = try c.call(Self.createTopics(counts, validateOnly: validateOnly), version: 5, on: &cluster)
                #expect(resp.topics.count == counts.count)
                #expect(resp.topics.allSatisfy { $0.errorCode == KafkaErrorCode.policyViolation.code })
            }
        }
        #expect(cluster.state.metadata.topic("new0") == nil && cluster.state.metadata.topic("new1") == nil)
        let ok = try c.call(Self.createTopics([6_000, 4_000]), version: 5, on: &cluster)
        #expect(ok.topics.map(\.errorCode) == [0, 0])
        #expect(cluster.state.metadata.topic("new1")?.partitions.count == 4_000)
    }

    /// Growing a 2-partition topic to 10,003 partitions adds 10,001: refused; to 10,002 is not.
    @Test func createPartitionsAddingMoreThan10000IsAPolicyViolation() throws {
        var cluster = threeBrokers { $0.topics = [.init(name: "t", partitions: 2)] }
        var c = WireClient(&cluster, broker: 1)
        for total: Int32 in [Int32.max, 10_003] {
            let resp = try c.call(Self.createPartitions("t", total: total), version: 3, on: &cluster)
            #expect(resp.results.map(\.errorCode) == [KafkaErrorCode.policyViolation.code])
        }
        #expect(cluster.state.metadata.topic("t")?.partitions.count == 2)
        let ok = try c.call(Self.createPartitions("t", total: 10_002), version: 3, on: &cluster)
        #expect(ok.results.map(\.errorCode) == [0])
        #expect(cluster.state.metadata.topic("t")?.partitions.count == 10_002)
    }

    /// A stored batch whose record timestamps overflow Int64 (base Int64.max - 1, delta 10)
    /// is read through its header by ListOffsets instead of trapping.
    @Test func recordScanWithOverflowingTimestampsDoesNotTrap() throws {
        var log = PartitionLog()
        let huge = BatchBuilder.build(baseTimestamp: Int64.max - 1, maxTimestamp: Int64.max,
                                      records: [.init(timestampDelta: 10, key: nil, value: [1])])
        _ = try log.appendAsLeader(huge, leaderEpoch: 0)
        #expect(PartitionLog.records(of: log.batches[0]).isEmpty)
        #expect(log.offset(forTimestamp: 0) == .init(offset: 0, timestamp: Int64.max))
        #expect(log.maxTimestamp() == .init(offset: 0, timestamp: Int64.max))
    }
}
