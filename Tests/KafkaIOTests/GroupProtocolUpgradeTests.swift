import FakeCluster
import FakeClusterTCP
import KafkaIO
import KafkaProtocol
import NIOConcurrencyHelpers
import Testing

/// Rolling upgrades of a consuming group between the classic protocol and the consumer
/// group protocol (KIP-848 online migration) against an emulated Kafka 4.0 FakeClusterTCP:
/// three of our members consume while they are restarted one at a time with the other
/// protocol. Every record is consumed, no partition is handed to a member while another
/// still holds it (as the members' assigned / revoked / lost callbacks show), and the group
/// ends as the other type.
@Suite(.serialized) struct GroupProtocolUpgradeTests {
    static let topic = "rolling"
    static let partitions: Int32 = 6
    static let groupId = "upgrading"

    /// What the members report: who holds each partition (assigned until revoked or lost),
    /// every overlap seen, and every record consumed.
    final class Ledger: Sendable {
        struct State {
            var owner: [Int32: String] = [:]
            var overlaps: [String] = []
            var seen: Set<String> = []
            /// Every callback in order, for the failure messages.
            var log: [String] = []
        }

        let state = NIOLockedValueBox(State())

        func assigned(_ who: String, _ tps: [TopicPartition]) {
            state.withLockedValue { s in
                s.log.append("\(who) +\(tps.map(\.partition))")
                for tp in tps {
                    if let o = s.owner[tp.partition], o != who { s.overlaps.append("\(tp) assigned to \(who) while \(o) holds it") }
                    s.owner[tp.partition] = who
                }
            }
        }

        func released(_ who: String, _ tps: [TopicPartition], lost: Bool = false) {
            state.withLockedValue { s in
                s.log.append("\(who) \(lost ? "lost" : "-")\(tps.map(\.partition))")
                for tp in tps where s.owner[tp.partition] == who { s.owner[tp.partition] = nil }
            }
        }

        func consumed(_ records: [ConsumerRecord]) {
            state.withLockedValue { s in for r in records { s.seen.insert("\(r.partition)/\(r.offset)") } }
        }

        var snapshot: State { state.withLockedValue { $0 } }
    }

    /// One member: its consumer and the task polling it.
    struct Member {
        var name: String
        var consumer: KafkaGroupConsumer
        var polling: Task<Void, Never>
        let stop: NIOLockedValueBox<Bool>

        func leave() async {
            stop.withLockedValue { $0 = true }
            await polling.value
            await consumer.leave()
        }
    }

    enum Kind { case cooperative, eager, consumer }

    static func start(_ name: String, _ kind: Kind, seed: UInt64, server: FakeClusterServer, ledger: Ledger) throws -> Member {
        var group = GroupConfiguration(groupId: groupId, topics: [topic])
        switch kind {
        case .cooperative: group.balancers = [CooperativeStickyBalancer()]
        case .eager: group.balancers = [RangeBalancer()]
        case .consumer: group.groupProtocol = .consumer
        }
        group.sessionTimeout = .seconds(6)
        group.rebalanceTimeout = .seconds(10)
        group.heartbeatInterval = .milliseconds(300)
        group.autocommitInterval = .milliseconds(300)
        group.onAssigned = { ledger.assigned(name, $0) }
        group.onRevoked = { ledger.released(name, $0) }
        group.onLost = { ledger.released(name, $0, lost: true) }
        // Each member its own seed: a KIP-848 member names itself from it (KIP-1082), and
        // TestEnvironment's fixed seed would give every member the same id.
        var configuration = ConsumerCancellationTests.configuration(server)
        configuration.randomSeed = seed
        let consumer = try KafkaGroupConsumer(configuration: configuration, group: group, logger: TestEnvironment.logger)
        consumer.join()
        let stop = NIOLockedValueBox(false)
        let polling = Task {
            while !stop.withLockedValue({ $0 }) {
                let p = await consumer.poll(timeout: .milliseconds(100))
                ledger.consumed(p.records)
                if p.closed { return }
            }
        }
        return Member(name: name, consumer: consumer, polling: polling, stop: stop)
    }

    static func server() throws -> FakeClusterServer {
        var config = FakeClusterConfig(brokers: [.init(nodeId: 1, port: 0)], release: .v4_0,
                                       topics: [.init(name: topic, partitions: partitions)])
        config.consumerGroupHeartbeatIntervalMs = 300
        config.minSessionTimeoutMs = 1_000
        return try FakeClusterServer.start(config)
    }

    /// Produces `n` records round robin over the partitions; returns the "partition/offset"
    /// keys they got.
    static func produce(_ n: Int, from start: Int, producer: KafkaClient) async -> Set<String> {
        let results = await producer.produceAndWait((start ..< start + n).map {
            KafkaRecord(topic: topic, partition: Int32($0) % partitions, value: Array("v\($0)".utf8))
        })
        var keys = Set<String>()
        for case .success(let m) in results { keys.insert("\(m.partition)/\(m.offset)") }
        #expect(keys.count == n)
        return keys
    }

    static func eventually(within limit: Duration = .seconds(30), _ condition: () async -> Bool) async -> Bool {
        let clock = ContinuousClock()
        let end = clock.now + limit
        while clock.now < end {
            if await condition() { return true }
            try? await Task.sleep(for: .milliseconds(100))
        }
        return await condition()
    }

    struct GroupView: Sendable {
        var type: String
        var state: String
        var members: Int
        var classicMembers: Int
    }

    static func view(_ server: FakeClusterServer) async -> GroupView? {
        try? await server.withCluster { cluster, _ in
            if let g = cluster.describeConsumerGroup(groupId) {
                return (GroupView(type: "consumer", state: g.state, members: g.members.count,
                                  classicMembers: g.members.filter(\.usesClassicProtocol).count), [])
            }
            if let g = cluster.describeGroup(groupId) {
                return (GroupView(type: "classic", state: g.state, members: g.members.count, classicMembers: g.members.count), [])
            }
            return (nil, [])
        }.get()
    }

    /// Every partition held by someone and the group settled with three members.
    static func settled(_ server: FakeClusterServer, _ ledger: Ledger) async -> Bool {
        guard let v = await view(server), v.members == 3, v.state == "Stable" else { return false }
        return ledger.snapshot.owner.count == Int(partitions)
    }

    func roll(from: Kind, to: Kind, endsAs type: String) async throws {
        let server = try Self.server()
        defer { try? server.shutdown() }
        let ledger = Ledger()
        let producer = try KafkaClient(configuration: ConsumerCancellationTests.configuration(server), logger: TestEnvironment.logger)
        var expected = await Self.produce(60, from: 0, producer: producer)
        var members = try (0 ..< 3).map { try Self.start("m\($0)", from, seed: UInt64(100 + $0), server: server, ledger: ledger) }
        let first = await Self.eventually { await Self.settled(server, ledger) }
        let firstView = await Self.view(server)
        #expect(first, "the first group never settled: \(String(describing: firstView))")

        for i in 0 ..< 3 {
            await members[i].leave()
            members[i] = try Self.start("m\(i)'", to, seed: UInt64(200 + i), server: server, ledger: ledger)
            expected.formUnion(await Self.produce(30, from: 60 + 30 * i, producer: producer))
            let ok = await Self.eventually { await Self.settled(server, ledger) }
            let stepView = await Self.view(server)
            #expect(ok, "step \(i): not settled: \(String(describing: stepView)), owners \(ledger.snapshot.owner.sorted { $0.key < $1.key })")
        }
        let all = await Self.eventually { ledger.snapshot.seen.isSuperset(of: expected) }
        let missing = expected.subtracting(ledger.snapshot.seen)
        #expect(all, "\(missing.count) records never consumed, e.g. \(missing.sorted().prefix(5))")
        #expect(ledger.snapshot.overlaps == [], "callbacks: \(ledger.snapshot.log)")
        let final = await Self.view(server)
        #expect(final?.type == type && final?.members == 3 && final?.state == "Stable", "\(String(describing: final))")
        if type == "consumer" { #expect(final?.classicMembers == 0) }
        for m in members { await m.leave() }
        await producer.close()
    }

    @Test func cooperativeClassicMembersUpgradeToTheConsumerProtocol() async throws {
        try await roll(from: .cooperative, to: .consumer, endsAs: "consumer")
    }

    @Test func eagerClassicMembersUpgradeToTheConsumerProtocol() async throws {
        try await roll(from: .eager, to: .consumer, endsAs: "consumer")
    }

    @Test func consumerMembersDowngradeToTheClassicProtocol() async throws {
        try await roll(from: .consumer, to: .cooperative, endsAs: "classic")
    }
}
