import FakeCluster
import FakeClusterTCP
import Foundation
import KafkaIO
import KafkaProtocol
import Testing

/// Consumer groups mixing our members (KafkaGroupConsumer) and librdkafka 2.16's
/// (confluent-kafka, Scripts/group_member.py), with range and cooperative-sticky, against a
/// 3-broker FakeClusterTCP and against Tansu; and KIP-848 consumer groups of both kinds
/// against a 4.0 FakeClusterTCP (KGO_TEST_BROKER: these FAIL when it is unset).
/// Each test uses a fresh topic and group id (Tansu keeps an emptied group's last protocol).
/// Tansu completes a JoinGroup only after half the session timeout, so its members use 2 s.
@Suite(.serialized)
struct GroupInteropTests {
    enum Cluster: String, CustomStringConvertible, Sendable, CaseIterable {
        case fakeCluster, tansu
        var description: String { rawValue }
    }

    struct MixedCase: CustomStringConvertible, Sendable {
        var cluster: Cluster
        var strategy: String
        var oursLead: Bool
        var description: String { "\(cluster) \(strategy), \(oursLead ? "our" : "librdkafka's") member leads" }
    }

    static let mixedCases: [MixedCase] = Cluster.allCases.flatMap { c in
        ["range", "cooperative-sticky"].flatMap { s in [true, false].map { MixedCase(cluster: c, strategy: s, oursLead: $0) } }
    }

    /// A started cluster: where our members and librdkafka's connect, an admin client, the
    /// session timeout its members use.
    struct Env {
        var ours: String
        var rdkafka: String
        var admin: KafkaClient
        var session: Duration
        /// The in-process cluster (nil on Tansu).
        var server: FakeClusterServer?
        var sessionMs: Int { Int(session.components.seconds * 1000) }

        func topic(partitions: Int32) async throws -> String {
            let name = "mixed-\(UInt32.random(in: 0 ... .max))"
            var t = CreateTopicsRequest.CreatableTopic()
            t.name = name
            t.numPartitions = partitions
            t.replicationFactor = 1
            var create = CreateTopicsRequest()
            create.topics = [t]
            create.timeoutMs = 5000
            let created = try await admin.request(create)
            try #require(created.topics.map(\.errorCode) == [0], "CreateTopics \(name): \(created.topics.map(\.errorCode))")
            return name
        }

        /// `count` records to each partition, values "p<partition>-<offset>".
        func produce(_ topic: String, partitions: Int32, from: Int, count: Int) async throws {
            let records = (0 ..< partitions).flatMap { p in
                (from ..< from + count).map { KafkaRecord(topic: topic, partition: p, value: Array("p\(p)-\($0)".utf8)) }
            }
            let results = await admin.produceAndWait(records)
            let failed = results.compactMap { r -> String? in if case .failure(let e) = r { return "\(e)" }; return nil }
            try #require(failed.isEmpty, "produce: \(failed.prefix(3))")
        }
    }

    /// `kip848`: FakeCluster emulates 4.0 (the KIP-848 coordinator), heartbeats every 200 ms.
    static func withCluster(_ cluster: Cluster, kip848: Bool = false, _ body: (Env) async throws -> Void) async throws {
        try Peers.check()
        let server: FakeClusterServer?
        let ours: String, rdkafka: String, session: Duration
        switch cluster {
        case .fakeCluster:
            var config = FakeClusterConfig(brokers: FakeClusterConfig.brokers(3, firstPort: 0))
            if kip848 {
                config.release = .v4_0
                config.consumerGroupHeartbeatIntervalMs = 200
            }
            let s = try FakeClusterServer.start(config)
            server = s
            ours = "\(s.brokers[0].host):\(s.brokers[0].port)"
            rdkafka = s.brokers.map { "\($0.host):\($0.port)" }.joined(separator: ",")
            session = .seconds(6)
        case .tansu:
            guard let b = ProcessInfo.processInfo.environment["KGO_TEST_BROKER"], !b.isEmpty else {
                Issue.record("KGO_TEST_BROKER is not set: run Tools/test.sh, which starts the brokers")
                throw MissingBroker()
            }
            server = nil
            (ours, rdkafka, session) = (b, b, .seconds(2))
        }
        defer { try? server?.shutdown() }
        var c = KafkaClientConfiguration(seedBrokers: [try BrokerAddress(parsing: ours)])
        c.retryTimeout = .seconds(5)
        c.closeTimeout = .seconds(2)
        let admin = try KafkaClient(configuration: c)
        do {
            try await body(Env(ours: ours, rdkafka: rdkafka, admin: admin, session: session, server: server))
        } catch {
            await admin.close()
            throw error
        }
        await admin.close()
        if let server {
            let internalErrors = try await server.withCluster { c, _ in (c.closeLog.filter { $0.contains("internal error") }, []) }.get()
            #expect(internalErrors.isEmpty, "\(internalErrors)")
        }
    }

    static func member(ours: Bool, _ name: String, _ env: Env, group: String, topic: String, strategy: String,
                       tally: GroupTally) throws -> any GroupTestMember {
        ours ? try OurMember(name: name, bootstrap: env.ours, group: group, topic: topic, strategy: strategy,
                             sessionTimeout: env.session, tally: tally)
             : try RdkafkaMember(name: name, bootstrap: env.rdkafka, group: group, topic: topic, strategy: strategy,
                                 sessionTimeoutMs: env.sessionMs, tally: tally)
    }

    /// Every one of `members` owns `each` partitions, none twice, all `partitions` covered.
    static func split(_ tally: GroupTally, _ members: [String], each: Int, partitions: Int32) -> Bool {
        let a = tally.assignment
        let sets = members.map { a[$0] ?? [] }
        let others = a.filter { !members.contains($0.key) }.values.allSatisfy(\.isEmpty)
        return others && sets.allSatisfy { $0.count == each } && Set(sets.flatMap { $0 }) == Set(0 ..< partitions)
    }

    /// A (the leader's kind) consumes alone; B (the other kind) and C (A's kind) join: the six
    /// partitions split two each across both kinds, with the leader of A's kind (so its balancer
    /// reads the other kind's subscription). Then B leaves: only B's partitions move
    /// (cooperative-sticky; range reassigns by member order), A and C read on from B's commits,
    /// and every record produced is read, none twice.
    @Test(arguments: mixedCases)
    func mixedGroupSplitsAndALeaverMovesOnlyItsPartitions(_ t: MixedCase) async throws {
        try await Self.withCluster(t.cluster) { env in
            let partitions: Int32 = 6
            let topic = try await env.topic(partitions: partitions)
            try await env.produce(topic, partitions: partitions, from: 0, count: 20)
            let group = "mixed-\(t.strategy)-\(UInt32.random(in: 0 ... .max))"
            let tally = GroupTally()
            var members: [any GroupTestMember] = []
            do {
                let a = try Self.member(ours: t.oursLead, "A", env, group: group, topic: topic, strategy: t.strategy, tally: tally)
                members.append(a)
                try await waitUntil("A to own all partitions", tally) { Self.split(tally, ["A"], each: 6, partitions: partitions) }
                members.append(try Self.member(ours: !t.oursLead, "B", env, group: group, topic: topic, strategy: t.strategy, tally: tally))
                members.append(try Self.member(ours: t.oursLead, "C", env, group: group, topic: topic, strategy: t.strategy, tally: tally))
                try await waitUntil("A, B and C to own two partitions each", tally) {
                    Self.split(tally, ["A", "B", "C"], each: 2, partitions: partitions)
                }
                if t.oursLead {
                    #expect(tally.isLeader("A") == true || tally.isLeader("C") == true, "our members did not lead:\n\(tally.events)")
                } else {
                    #expect(tally.isLeader("B") == false, "our member led, not librdkafka's:\n\(tally.events)")
                }
                if let server = env.server {   // member ids start with the client id, the member's name
                    let leader = try await server.withCluster { c, _ in (c.describeGroup(group)?.leaderId, []) }.get() ?? ""
                    #expect(leader.hasPrefix("A-") || leader.hasPrefix("C-"), "the group's leader is \(leader), not of A's kind")
                }
                try await env.produce(topic, partitions: partitions, from: 20, count: 20)
                try await waitUntil("every record of the first two rounds read", tally) { tally.missing(partitions: partitions, perPartition: 40).isEmpty }
                let before = tally.assignment
                try await members[1].leave()
                try await waitUntil("A and C to own three partitions each after B left", tally) {
                    Self.split(tally, ["A", "C"], each: 3, partitions: partitions)
                }
                let after = tally.assignment
                if t.strategy == "cooperative-sticky" {
                    #expect(after["A"]!.isSuperset(of: before["A"]!) && after["C"]!.isSuperset(of: before["C"]!),
                            "partitions other than B's moved: before \(before), after \(after)")
                }
                try await env.produce(topic, partitions: partitions, from: 40, count: 20)
                try await waitUntil("every record read after B left", tally) { tally.missing(partitions: partitions, perPartition: 60).isEmpty }
                try await members[0].leave()
                try await members[2].leave()
                let dups = tally.duplicates
                print("mixed group \(t): \(tally.readCount) records read, \(dups.count) read twice; split \(before), after B left \(after)")
                #expect(dups.isEmpty, "read twice (partition/offset): \(dups.prefix(20))\n\(tally.events)")
            } catch {
                for m in members { m.kill() }
                throw error
            }
        }
    }

    /// KIP-848 (group.protocol=consumer) with both kinds in one group on a 4.0 FakeClusterTCP:
    /// A (one kind) consumes alone; B (the other kind) and C (A's kind) join and the
    /// coordinator's uniform assignor splits the six partitions two each; B leaves (epoch -1)
    /// and only B's partitions move. `oursFirst`: A and C are ours and librdkafka's member
    /// leaves; otherwise ours leaves. Every record produced is read, none twice.
    @Test(arguments: [true, false])
    func mixedConsumerProtocolGroupSplitsAndALeaverMovesOnlyItsPartitions(oursFirst: Bool) async throws {
        try await Self.withCluster(.fakeCluster, kip848: true) { env in
            let partitions: Int32 = 6
            let topic = try await env.topic(partitions: partitions)
            try await env.produce(topic, partitions: partitions, from: 0, count: 20)
            let group = "mixed848-\(UInt32.random(in: 0 ... .max))"
            let tally = GroupTally()
            var members: [any GroupTestMember] = []
            do {
                members.append(try Self.member(ours: oursFirst, "A", env, group: group, topic: topic, strategy: "consumer", tally: tally))
                try await waitUntil("A to own all partitions", tally) { Self.split(tally, ["A"], each: 6, partitions: partitions) }
                members.append(try Self.member(ours: !oursFirst, "B", env, group: group, topic: topic, strategy: "consumer", tally: tally))
                members.append(try Self.member(ours: oursFirst, "C", env, group: group, topic: topic, strategy: "consumer", tally: tally))
                try await waitUntil("A, B and C to own two partitions each", tally) {
                    Self.split(tally, ["A", "B", "C"], each: 2, partitions: partitions)
                }
                let snap = try await env.server!.withCluster { c, _ in (c.describeConsumerGroup(group), []) }.get()
                #expect(snap?.members.count == 3 && snap?.assignor == "uniform", "\(String(describing: snap))")
                try await env.produce(topic, partitions: partitions, from: 20, count: 20)
                try await waitUntil("every record of the first two rounds read", tally) { tally.missing(partitions: partitions, perPartition: 40).isEmpty }
                let before = tally.assignment
                try await members[1].leave()
                try await waitUntil("A and C to own three partitions each after B left", tally) {
                    Self.split(tally, ["A", "C"], each: 3, partitions: partitions)
                }
                let after = tally.assignment
                #expect(after["A"]!.isSuperset(of: before["A"]!) && after["C"]!.isSuperset(of: before["C"]!),
                        "partitions other than B's moved: before \(before), after \(after)")
                try await env.produce(topic, partitions: partitions, from: 40, count: 20)
                try await waitUntil("every record read after B left", tally) { tally.missing(partitions: partitions, perPartition: 60).isEmpty }
                try await members[0].leave()
                try await members[2].leave()
                let dups = tally.duplicates
                print("mixed KIP-848 group, \(oursFirst ? "librdkafka's" : "our") member leaving: \(tally.readCount) records read, \(dups.count) read twice; split \(before), after B left \(after)")
                #expect(dups.isEmpty, "read twice (partition/offset): \(dups.prefix(20))\n\(tally.events)")
                let left = try await env.server!.withCluster { c, _ in (c.describeConsumerGroup(group), []) }.get()
                #expect(left?.offsets.map(\.offset) == Array(repeating: 60, count: 6), "committed: \(String(describing: left?.offsets))")
            } catch {
                for m in members { m.kill() }
                throw error
            }
        }
    }

    /// The group's committed offsets and leader epochs of `topic`, by partition (OffsetFetch v7).
    static func committed(_ group: String, _ topic: String, _ admin: KafkaClient) async throws -> [Int32: (offset: Int64, epoch: Int32)] {
        var f = OffsetFetchRequest()
        f.groupId = group
        var t = OffsetFetchRequest.OffsetFetchRequestTopic()
        t.name = topic
        t.partitionIndexes = [0, 1]
        f.topics = [t]
        let r = try await admin.request(f, to: .groupCoordinator(group), pin: 7 ... 7)
        try #require(r.errorCode == 0, "OffsetFetch: \(KafkaErrorCode(r.errorCode))")
        var out: [Int32: (offset: Int64, epoch: Int32)] = [:]
        for rt in r.topics where rt.name == topic {
            for p in rt.partitions { out[p.partitionIndex] = (p.committedOffset, p.committedLeaderEpoch) }
        }
        return out
    }

    struct HandOverCase: CustomStringConvertible, Sendable {
        var cluster: Cluster
        var oursFirst: Bool
        var description: String { "\(cluster): \(oursFirst ? "ours then librdkafka" : "librdkafka then ours")" }
    }

    static let handOverCases: [HandOverCase] = Cluster.allCases.flatMap { c in [true, false].map { HandOverCase(cluster: c, oursFirst: $0) } }

    /// One kind of member reads two partitions, commits (with the leader epoch) and leaves;
    /// a member of the other kind joining the group starts at those commits: it reads only
    /// what was produced after.
    @Test(arguments: handOverCases)
    func committedOffsetsCarryOverToTheOtherKind(_ t: HandOverCase) async throws {
        try await Self.withCluster(t.cluster) { env in
            let partitions: Int32 = 2
            let topic = try await env.topic(partitions: partitions)
            try await env.produce(topic, partitions: partitions, from: 0, count: 20)
            let group = "handover-\(UInt32.random(in: 0 ... .max))"
            let tally = GroupTally()
            var members: [any GroupTestMember] = []
            do {
                let first = try Self.member(ours: t.oursFirst, "first", env, group: group, topic: topic, strategy: "range", tally: tally)
                members.append(first)
                try await waitUntil("the first member to read 20 records per partition", tally) {
                    tally.missing(partitions: partitions, perPartition: 20).isEmpty
                }
                if let ours = first as? OurMember {
                    let committed = try await ours.consumer.commit()
                    #expect(committed.mapValues(\.offset) == [TopicPartition(topic, 0): 20, TopicPartition(topic, 1): 20])
                } else if let rd = first as? RdkafkaMember {
                    rd.commit()
                    try await waitUntil("librdkafka's commit", tally) { rd.output.contains { $0.contains("\"committed\"") } }
                    let line = rd.output.first { $0.contains("\"committed\"") } ?? ""
                    #expect(line.contains("[0, 20,") && line.contains("[1, 20,") && line.contains("\"error\": null"), "\(line)")
                }
                try await first.leave()
                let stored = try await Self.committed(group, topic, env.admin)
                #expect(stored.mapValues(\.offset) == [0: 20, 1: 20], "committed: \(stored)")
                if t.cluster == .fakeCluster {   // Tansu drops committed leader epochs
                    #expect(stored.values.allSatisfy { $0.epoch >= 0 }, "committed without the leader epoch: \(stored)")
                }
                try await env.produce(topic, partitions: partitions, from: 20, count: 10)
                let second = try Self.member(ours: !t.oursFirst, "second", env, group: group, topic: topic, strategy: "range", tally: tally)
                members.append(second)
                try await waitUntil("the second member to read the 10 new records per partition", tally) {
                    tally.missing(partitions: partitions, perPartition: 30).isEmpty
                }
                let read = tally.offsets(readBy: "second")
                let expected = (0 ..< partitions).flatMap { p in (20 ..< 30).map { "\(p)/\($0)" } }.sorted()
                #expect(read == expected, "the second member did not start at the commits: read \(read.count) records")
                try await second.leave()
            } catch {
                for m in members { m.kill() }
                throw error
            }
        }
    }
}

struct MissingBroker: Error {}
