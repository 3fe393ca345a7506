@testable import FakeCluster
import Testing

/// Offsets with the authorizer on, as Kafka checks them. TxnOffsetCommit: WRITE on the
/// transactional id and READ on the group refuse the whole request; a topic the caller may
/// not READ is refused per partition (TOPIC_AUTHORIZATION_FAILED) while the others are
/// committed. OffsetFetch: a named topic the caller may not DESCRIBE is refused per
/// partition; asked for every partition, such topics are left out.
@Suite struct OffsetAuthorizationWireTests {
    static func allow(_ cluster: inout FakeCluster, _ type: Authorizer.ResourceType, _ name: String, _ op: Authorizer.Operation) {
        cluster.state.acls.add(AclStore.Acl(resourceType: type.rawValue, resourceName: name, patternType: AclStore.literal,
                                            principal: "User:alice", host: "*", operation: op.rawValue, permission: Authorizer.allow))
    }

    static func commit(_ c: inout WireClient, _ cluster: inout FakeCluster, pid: Int64, epoch: Int16) throws -> [String] {
        var r = TxnOffsetCommitRequest()
        r.transactionalId = "tx"
        r.groupId = "g"
        r.producerId = pid
        r.producerEpoch = epoch
        r.topics = ["orders", "logs"].map { name in
            var t = TxnOffsetCommitRequest.TxnOffsetCommitRequestTopic()
            t.name = name
            var p = TxnOffsetCommitRequest.TxnOffsetCommitRequestPartition()
            p.partitionIndex = 0
            p.committedOffset = 3
            t.partitions = [p]
            return t
        }
        let resp = try c.call(r, version: 5, on: &cluster)
        return resp.topics.flatMap { t in t.partitions.map { "\(t.name)[\($0.partitionIndex)]: \(KafkaErrorCode($0.errorCode).name)" } }
    }

    @Test func anUnreadableTopicIsRefusedPerPartition() throws {
        var config = FakeClusterConfig(brokers: [.init(nodeId: 1, port: 9092)], users: [.init(mechanism: .plain, name: "alice", password: "pw")],
                                       topics: [.init(name: "orders", partitions: 1), .init(name: "logs", partitions: 1)])
        config.release = .v4_0
        config.transactionVersion = 2
        config.authorization = true
        var cluster = FakeCluster(config)
        Self.allow(&cluster, .transactionalId, "tx", .write)
        var c = try DelegationTokenWireTests.plainLogin(&cluster, "alice")
        var ip = InitProducerIdRequest()
        ip.transactionalId = "tx"
        ip.transactionTimeoutMs = 60_000
        let id = try c.call(ip, version: 4, on: &cluster)
        try #require(id.errorCode == 0)

        // No READ on the group: the whole request.
        #expect(try Self.commit(&c, &cluster, pid: id.producerId, epoch: id.producerEpoch)
            == ["orders[0]: GROUP_AUTHORIZATION_FAILED", "logs[0]: GROUP_AUTHORIZATION_FAILED"])
        Self.allow(&cluster, .group, "g", .read)
        Self.allow(&cluster, .topic, "orders", .read)
        #expect(try Self.commit(&c, &cluster, pid: id.producerId, epoch: id.producerEpoch)
            == ["orders[0]: NONE", "logs[0]: TOPIC_AUTHORIZATION_FAILED"])
        // Only orders joined the transaction's pending offsets.
        let pending = cluster.state.groups.groups["g"]?.pendingTransactionalOffsets[id.producerId] ?? [:]
        #expect(pending.keys.map(\.topic) == ["orders"])
    }

    @Test func offsetFetchRefusesOrLeavesOutUndescribableTopics() throws {
        var config = FakeClusterConfig(brokers: [.init(nodeId: 1, port: 9092)], users: [.init(mechanism: .plain, name: "alice", password: "pw")],
                                       topics: [.init(name: "orders", partitions: 1), .init(name: "logs", partitions: 1)])
        config.authorization = true
        config.superUsers = ["User:admin"]
        var cluster = FakeCluster(config)
        for topic in ["orders", "logs"] {
            _ = cluster.state.groups.commitOffsets(groupId: "g", generationId: -1, memberId: "", groupInstanceId: nil,
                                                   [.init(topicPartition: .init(topic: topic, partition: 0), offset: 7, leaderEpoch: -1, metadata: nil)],
                                                   retentionMs: nil, apiVersion: 8, now: .zero)
        }
        Self.allow(&cluster, .group, "g", .describe)
        Self.allow(&cluster, .topic, "orders", .describe)
        var c = try DelegationTokenWireTests.plainLogin(&cluster, "alice")
        func fetch(_ topics: [String]?) throws -> [String] {
            var g = OffsetFetchRequest.OffsetFetchRequestGroup()
            g.groupId = "g"
            g.topics = topics?.map { var t = OffsetFetchRequest.OffsetFetchRequestTopics(); t.name = $0; t.partitionIndexes = [0]; return t }
            var r = OffsetFetchRequest()
            r.groups = [g]
            let resp = try c.call(r, version: 8, on: &cluster)
            return resp.groups[0].topics.flatMap { t in t.partitions.map { "\(t.name)[\($0.partitionIndex)]: \($0.committedOffset) \(KafkaErrorCode($0.errorCode).name)" } }
        }
        #expect(try fetch(["orders", "logs"]) == ["orders[0]: 7 NONE", "logs[0]: -1 TOPIC_AUTHORIZATION_FAILED"])
        #expect(try fetch(nil) == ["orders[0]: 7 NONE"])
    }
}
