import Testing
@testable import KafkaStateMachines

/// What a metadata answer changed, as the engine reports it for the log
/// (ClientEngine+Decisions.swift): nothing unless `reportDecisions` is on; with it, brokers
/// added and removed, partition counts and leaders that moved, in sorted order.
@Suite struct EngineDecisionTests {
    static let first = metadataResponse(brokers: [2, 1], topics: [("t", [(1, 1), (0, 1)]), ("u", [(0, 2)])])
    static var second: MetadataResponse {
        var m = metadataResponse(brokers: [1, 3], topics: [("t", [(0, 3), (1, 1), (2, 1)])])
        m.topics[0].partitions[0].leaderEpoch = 4
        return m
    }

    @Test func metadataChangesAreNotBuiltUnlessAsked() {
        var h = Harness(Harness.config())
        h.engine.applyMetadata(Self.first, now: .zero)
        h.engine.applyMetadata(Self.second, now: .milliseconds(1))
        #expect(h.engine.takeDecisions().isEmpty)
        #expect(h.engine.metadata.leader(of: TopicPartition("t", 0)) == 3, "applied all the same")
    }

    @Test func brokersPartitionCountsAndLeaderMovesAreReported() {
        var config = Harness.config()
        config.reportDecisions = true
        var h = Harness(config)
        h.engine.applyMetadata(Self.first, now: .zero)
        // The first answer about a topic moves nothing; the brokers are new.
        #expect(h.engine.takeDecisions() == [
            .brokerAdded(node: 1, BrokerAddress(host: "broker1", port: 9092)),
            .brokerAdded(node: 2, BrokerAddress(host: "broker2", port: 9092)),
        ])
        h.engine.applyMetadata(Self.second, now: .milliseconds(1))
        // u is not in the answer: kept, so its partition (led by the removed 2) is not reported.
        #expect(h.engine.takeDecisions() == [
            .brokerAdded(node: 3, BrokerAddress(host: "broker3", port: 9092)),
            .brokerRemoved(node: 2),
            .partitionCountChanged(topic: "t", from: 2, to: 3),
            .leaderMoved(TopicPartition("t", 0), from: 1, to: 3, epoch: 4),
        ])
        h.engine.applyMetadata(Self.second, now: .milliseconds(2))
        #expect(h.engine.takeDecisions().isEmpty, "the same answer again changes nothing")
    }
}
