import FakeCluster
import FakeClusterTCP
import Foundation
import KafkaIO
import KafkaProtocol
import Testing

/// KafkaGroupConsumer with `groupProtocol = .consumer` (KIP-848) end to end over real sockets,
/// against FakeClusterTCP emulating Kafka 4.0 (its coordinator assigns; the members only
/// heartbeat): partitions split, a joiner takes some, a leaver's partitions move and nothing
/// else does, churn while the coordinator moves, a static member's -2 leave and rejoin, the
/// range assignor, a regex subscription, and fencing by session and by rebalance timeout.
/// Where partitions move by revocation (commit on revoke, commit on leave), every record
/// produced is read exactly once.
@Suite(.serialized) struct ConsumerProtocolGroupTests {
    /// A 4.0 cluster whose coordinator tells members to heartbeat every 200 ms.
    static func server(brokers: Int32 = 3, topics: [FakeClusterConfig.Topic] = [.init(name: "t", partitions: 6)],
                       sessionTimeoutMs: Int32 = 45_000, recordEvents: Bool = false) throws -> FakeClusterServer {
        var config = FakeClusterConfig(brokers: (1 ... brokers).map { .init(nodeId: $0, port: 0) }, release: .v4_0, topics: topics,
                                       recordEvents: recordEvents)
        config.consumerGroupHeartbeatIntervalMs = 200
        config.consumerGroupSessionTimeoutMs = sessionTimeoutMs
        return try FakeClusterServer.start(config)
    }

    /// Each client its own seed (a KIP-848 member draws its member id from it: two clients
    /// with one seed would join as the same member), fixed by its name.
    static func configuration(_ server: FakeClusterServer, clientId: String) -> KafkaClientConfiguration {
        var c = ConsumerCancellationTests.configuration(server)
        c.clientId = clientId
        c.randomSeed = clientId.utf8.reduce(UInt64(5381)) { ($0 &* 33) &+ UInt64($1) }
        return c
    }

    /// Runs `body` with the server and a tally, then makes every member still in the group
    /// leave (also when `body` failed: a member left running would retry against the stopped
    /// server for ever), then stops the server.
    static func run(_ server: FakeClusterServer, _ body: (FakeClusterServer, Tally) async throws -> Void) async throws {
        defer { try? server.shutdown() }
        let tally = Tally()
        do {
            try await body(server, tally)
        } catch {
            await tally.leaveAll()
            throw error
        }
        await tally.leaveAll()
    }

    /// What the members saw: current partitions by member, records read by topic/partition/offset.
    final class Tally: @unchecked Sendable {
        private let lock = NSLock()
        private var owned: [String: Set<TopicPartition>] = [:]
        private var reads: [String: Int] = [:]
        private var log: [String] = []
        private var members: [Member] = []

        func add(_ m: Member) { locked { members.append(m) } }
        /// Every registered member that has not left leaves.
        func leaveAll() async {
            for m in locked({ members }) { await m.leave() }
        }

        func locked<T>(_ body: () -> T) -> T { lock.lock(); defer { lock.unlock() }; return body() }
        func event(_ member: String, _ e: GroupConsumerEvent) {
            locked {
                switch e {
                case .assigned(let ps): owned[member, default: []].formUnion(ps)
                case .revoked(let ps), .lost(let ps): owned[member, default: []].subtract(ps)
                default: break
                }
                log.append("\(member) \(e)")
            }
        }
        func read(_ r: ConsumerRecord) { locked { reads["\(r.topic)/\(r.partition)/\(r.offset)", default: 0] += 1 } }
        func owned(_ member: String) -> Set<TopicPartition> { locked { owned[member] ?? [] } }
        var duplicates: [String] { locked { reads.filter { $0.value > 1 }.keys.sorted() } }
        var events: String { locked { log.suffix(80).joined(separator: "\n") } }
        func saw(_ member: String, _ prefix: String) -> Bool { locked { log.contains { $0.hasPrefix("\(member) \(prefix)") } } }
        /// Records of `topic` not read: `perPartition` per partition expected.
        func missing(_ topic: String, partitions: Int32, perPartition: Int) -> Int {
            locked { (0 ..< partitions).reduce(0) { n, p in n + (0 ..< perPartition).filter { reads["\(topic)/\(p)/\($0)"] == nil }.count } }
        }
        /// Every member in `members` owns `each` partitions of `total`, none twice, nobody else any.
        func split(_ members: [String], each: Int, total: Int) -> Bool {
            locked {
                let sets = members.map { owned[$0] ?? [] }
                let others = owned.filter { !members.contains($0.key) }.values.allSatisfy(\.isEmpty)
                return others && sets.allSatisfy { $0.count == each } && Set(sets.flatMap { $0 }).count == total
            }
        }
    }

    /// One member: polled in a task (each poll's records tallied), its events tallied.
    final class Member: @unchecked Sendable {
        let name: String
        let consumer: KafkaGroupConsumer
        private let run: Task<Void, any Error>
        private let polling: Task<Void, Never>
        private let watching: Task<Void, Never>

        init(_ name: String, _ server: FakeClusterServer, tally: Tally, groupId: String = "g", topics: [String] = ["t"],
             configure: (inout GroupConfiguration) -> Void = { _ in }) throws {
            self.name = name
            var g = GroupConfiguration(groupId: groupId, topics: topics)
            g.groupProtocol = .consumer
            g.rebalanceTimeout = .seconds(10)
            g.autocommitInterval = .seconds(1)
            configure(&g)
            let consumer = try KafkaGroupConsumer(configuration: ConsumerProtocolGroupTests.configuration(server, clientId: name),
                                                  group: g, logger: TestEnvironment.logger)
            self.consumer = consumer
            let holder = NSLockedString()
            idHolder = holder
            watching = Task {
                for await e in consumer.events {
                    if case .joined(let m, _, _, _) = e { holder.set(m) }
                    tally.event(name, e)
                }
            }
            left = NSLockedString()
            run = Task { try await consumer.run() }
            polling = Task {
                while !Task.isCancelled {
                    let poll = await consumer.poll(timeout: .milliseconds(100))
                    for r in poll.records { tally.read(r) }
                    if poll.closed { return }
                }
            }
            tally.add(self)
        }

        private let idHolder: NSLockedString
        private let left: NSLockedString
        /// The member id of its last join.
        var memberId: String? { idHolder.get() }

        /// Commits what was consumed and leaves (a static member: epoch -2, keeping its partitions).
        func leave() async {
            guard left.get() == nil else { return }
            left.set("left")
            await consumer.leave()
            _ = try? await run.value
            await polling.value
            await watching.value
        }
    }

    final class NSLockedString: @unchecked Sendable {
        private let lock = NSLock()
        private var value: String?
        func set(_ v: String) { lock.lock(); value = v; lock.unlock() }
        func get() -> String? { lock.lock(); defer { lock.unlock() }; return value }
    }

    /// `count` records to each partition of `topic`, values "p-offset".
    static func produce(_ server: FakeClusterServer, _ topic: String = "t", partitions: Int32 = 6, count: Int) async throws {
        let producer = try KafkaClient(configuration: configuration(server, clientId: "producer"), logger: TestEnvironment.logger)
        let records = (0 ..< partitions).flatMap { p in (0 ..< count).map { KafkaRecord(topic: topic, partition: p, value: Array("\(p)-\($0)".utf8)) } }
        let results = await producer.produceAndWait(records)
        await producer.close()
        let failed = results.filter { if case .failure = $0 { return true } else { return false } }.count
        try #require(failed == 0, "\(failed) records not produced")
    }

    /// Waits (every 50 ms) until `condition` holds; past `timeout` records an issue with the
    /// recent events and throws.
    static func waitUntil(_ what: String, _ tally: Tally, timeout: Duration = .seconds(30), _ condition: () async -> Bool) async throws {
        let clock = ContinuousClock()
        let start = clock.now
        while !(await condition()) {
            if clock.now - start > timeout {
                Issue.record("timed out after \(timeout) waiting for \(what); recent events:\n\(tally.events)")
                throw WaitTimeout()
            }
            try await Task.sleep(for: .milliseconds(50))
        }
    }

    struct WaitTimeout: Error {}

    static func snapshot(_ server: FakeClusterServer, _ group: String = "g") async throws -> FakeConsumerGroupSnapshot? {
        try await server.withCluster { c, _ in (c.describeConsumerGroup(group), []) }.get()
    }

    static func tp(_ p: Int32, _ topic: String = "t") -> TopicPartition { TopicPartition(topic, p) }

    // MARK: -

    /// A alone owns all six; B and C join and take two each (uniform); B leaves and only B's
    /// partitions move; every record is read once, the member epochs commit.
    @Test func partitionsSplitAJoinerTakesSomeAndALeaverMovesOnlyItsOwn() async throws {
        try await Self.run(try Self.server()) { server, tally in
            try await Self.produce(server, count: 20)
            let a = try Member("A", server, tally: tally)
            try await Self.waitUntil("A to own all six", tally) { tally.split(["A"], each: 6, total: 6) }
            let b = try Member("B", server, tally: tally)
            let c = try Member("C", server, tally: tally)
            try await Self.waitUntil("A, B and C to own two each", tally) { tally.split(["A", "B", "C"], each: 2, total: 6) }
            let snap = try #require(try await Self.snapshot(server))
            #expect(snap.assignor == "uniform" && snap.members.count == 3 && snap.members.allSatisfy { $0.state == "Stable" && $0.assigned.count == 2 },
                    "\(snap)")
            try await Self.produce(server, count: 20)
            try await Self.waitUntil("the first 40 records per partition read", tally) { tally.missing("t", partitions: 6, perPartition: 40) == 0 }

            let before = (a: tally.owned("A"), c: tally.owned("C"))
            await b.leave()
            try await Self.waitUntil("A and C to own three each after B left", tally) { tally.split(["A", "C"], each: 3, total: 6) }
            #expect(tally.owned("A").isSuperset(of: before.a) && tally.owned("C").isSuperset(of: before.c),
                    "partitions other than B's moved:\n\(tally.events)")
            try await Self.produce(server, count: 20)
            try await Self.waitUntil("every record read", tally) { tally.missing("t", partitions: 6, perPartition: 60) == 0 }
            await a.leave()
            await c.leave()
            #expect(tally.duplicates.isEmpty, "read twice: \(tally.duplicates.prefix(20))\n\(tally.events)")
            let left = try await Self.snapshot(server)
            #expect(left?.members.isEmpty == true && left?.state == "Empty", "\(String(describing: left))")
            #expect(left?.offsets.map(\.offset) == Array(repeating: 60, count: 6), "committed: \(String(describing: left?.offsets))")
        }
    }

    /// Members join and leave while the group's coordinator moves between the three brokers
    /// (each move: NOT_COORDINATOR, find the new one, heartbeat there with the same epoch).
    /// Every record is read exactly once and the group ends with every partition owned once.
    @Test func churnWhileTheCoordinatorMoves() async throws {
        try await Self.run(try Self.server(recordEvents: true)) { server, tally in
            var members = [try Member("m0", server, tally: tally), try Member("m1", server, tally: tally)]
            var produced = 0
            for round in 1 ... 6 {
                try await Self.produce(server, count: 10)
                produced += 10
                let from = try await server.withCluster { c, _ in (c.coordinator("g", .group) ?? 1, []) }.get()
                let to = from % 3 + 1
                _ = try await server.withCluster { c, now in ((), c.moveCoordinator("g", .group, to: to, now: now)) }.get()
                if round % 2 == 1 {
                    members.append(try Member("m\(round + 1)", server, tally: tally))
                } else {
                    await members.removeFirst().leave()
                }
                let want = produced
                try await Self.waitUntil("round \(round): every record read", tally) { tally.missing("t", partitions: 6, perPartition: want) == 0 }
            }
            let names = members.map(\.name)
            try await Self.waitUntil("the last members to split the partitions", tally) {
                tally.split(names, each: 6 / names.count, total: 6)
            }
            for m in members { await m.leave() }
            #expect(tally.duplicates.isEmpty, "read twice: \(tally.duplicates.prefix(20))\n\(tally.events)")
            // The members followed the coordinator: told NOT_COORDINATOR, then heard on every broker.
            let answers = try await server.withCluster { c, _ in
                (c.events.compactMap { e -> [Int32]? in
                    if case .response(let r as ConsumerGroupHeartbeatResponse) = e.message { return [e.broker, Int32(r.errorCode)] }
                    return nil
                }, [])
            }.get()
            #expect(Set(answers.filter { $0[1] == 0 }.map { $0[0] }) == [1, 2, 3], "heartbeats answered by \(Set(answers.map { $0[0] }))")
            #expect(answers.contains { $0[1] == Int32(KafkaErrorCode.notCoordinator.rawValue) })
        }
    }

    /// A static member leaves with epoch -2: the coordinator keeps its partitions (nobody else
    /// is given them) until it rejoins with the same instance id, and gets them back; what was
    /// produced meanwhile is read once, by it.
    @Test func aStaticMemberLeavesAndRejoinsKeepingItsAssignment() async throws {
        try await Self.run(try Self.server()) { server, tally in
            try await Self.produce(server, count: 10)
            let a = try Member("A", server, tally: tally) { $0.instanceId = "a" }
            let b = try Member("B", server, tally: tally) { $0.instanceId = "b" }
            try await Self.waitUntil("A and B to own three each", tally) { tally.split(["A", "B"], each: 3, total: 6) }
            try await Self.waitUntil("the first records read", tally) { tally.missing("t", partitions: 6, perPartition: 10) == 0 }
            let ownedByA = tally.owned("A"), ownedByB = tally.owned("B")
            await a.leave()
            let kept = try #require(try await Self.snapshot(server)?.members.first { $0.instanceId == "a" }, "the static member was removed")
            #expect(kept.memberEpoch == -2 && Set(kept.assigned) == ownedByA, "\(kept)")
            try await Self.produce(server, count: 10)
            try await Task.sleep(for: .seconds(1))   // B heartbeats several times meanwhile
            #expect(tally.owned("B") == ownedByB, "B was given the static member's partitions:\n\(tally.events)")
            #expect(tally.missing("t", partitions: 6, perPartition: 20) == ownedByA.count * 10)

            let again = try Member("A2", server, tally: tally) { $0.instanceId = "a" }
            try await Self.waitUntil("the rejoined member to own A's partitions", tally) { tally.owned("A2") == ownedByA }
            try await Self.waitUntil("every record read", tally) { tally.missing("t", partitions: 6, perPartition: 20) == 0 }
            #expect(tally.owned("B") == ownedByB)
            await again.leave()
            await b.leave()
            #expect(tally.duplicates.isEmpty, "read twice: \(tally.duplicates.prefix(20))\n\(tally.events)")
        }
    }

    /// `serverAssignor = "range"`: two members over two topics of three partitions get the
    /// same partition numbers of both (co-partitioned), 4 and 2; the group reports range.
    @Test func theRangeAssignorCoPartitions() async throws {
        try await Self.run(try Self.server(topics: [.init(name: "x", partitions: 3), .init(name: "y", partitions: 3)])) { server, tally in
            let members = try ["A", "B"].map { try Member($0, server, tally: tally, topics: ["x", "y"]) { $0.serverAssignor = "range" } }
            try await Self.waitUntil("both members to own their ranges", tally) {
                tally.owned("A").count + tally.owned("B").count == 6 && !tally.owned("A").isEmpty && !tally.owned("B").isEmpty
            }
            try await Task.sleep(for: .milliseconds(500))
            for name in ["A", "B"] {
                let o = tally.owned(name)
                let x = Set(o.filter { $0.topic == "x" }.map(\.partition)), y = Set(o.filter { $0.topic == "y" }.map(\.partition))
                #expect(x == y, "\(name) is not co-partitioned: \(o.sorted())")
            }
            #expect([tally.owned("A").count, tally.owned("B").count].sorted() == [2, 4], "\(tally.events)")
            let snap = try await Self.snapshot(server)
            #expect(snap?.assignor == "range", "\(String(describing: snap))")
            for m in members { await m.leave() }
        }
    }

    /// A regex subscription (SubscribedTopicRegex): the matching topics are assigned, others
    /// not; a matching topic created later joins.
    @Test func aRegexSubscriptionFollowsMatchingTopics() async throws {
        try await Self.run(try Self.server(topics: [.init(name: "rx-a", partitions: 2), .init(name: "rx-b", partitions: 2), .init(name: "other", partitions: 2)])) { server, tally in
            let m = try Member("A", server, tally: tally, topics: []) { $0.patterns = ["rx-.*"] }
            let first: Set<TopicPartition> = [Self.tp(0, "rx-a"), Self.tp(1, "rx-a"), Self.tp(0, "rx-b"), Self.tp(1, "rx-b")]
            try await Self.waitUntil("rx-a and rx-b assigned", tally) { tally.owned("A") == first }
            let snap = try await Self.snapshot(server)
            #expect(snap?.members.first?.subscribedTopicRegex == "rx-.*", "\(String(describing: snap))")
            let created = try await server.withCluster { c, _ in (c.createTopic("rx-c", partitions: 1), []) }.get()
            #expect(created == .noError)
            try await Self.waitUntil("rx-c assigned too", tally) { tally.owned("A") == first.union([Self.tp(0, "rx-c")]) }
            await m.leave()
        }
    }

    /// A member whose heartbeats stop for longer than the session timeout is fenced: its
    /// partitions go to the other member; its late heartbeat is refused, it gives its
    /// partitions up as lost and rejoins at epoch 0, and the two split again.
    @Test func aSilentMemberIsFencedBySessionTimeout() async throws {
        try await Self.run(try Self.server(sessionTimeoutMs: 2_000)) { server, tally in
            let a = try Member("A", server, tally: tally)
            let b = try Member("B", server, tally: tally)
            try await Self.waitUntil("A and B to own three each", tally) { tally.split(["A", "B"], each: 3, total: 6) }
            let idA = try #require(a.memberId)
            _ = try await server.withCluster { c, now in (c.stallHeartbeats("g", .memberId(idA), until: now.adding(milliseconds: 4_000)), []) }.get()
            try await Self.waitUntil("B to own all six after A's session expired", tally) { tally.owned("B").count == 6 }
            try await Self.waitUntil("A to lose its partitions", tally) { tally.saw("A", "lost") }
            try await Self.waitUntil("A and B to split again", tally) { tally.split(["A", "B"], each: 3, total: 6) }
            let rejoined = try await Self.snapshot(server)?.members.map(\.memberId) ?? []
            #expect(rejoined.count == 2, "\(rejoined)")
            await a.leave()
            await b.leave()
        }
    }

    /// A member that does not finish revoking within its rebalance timeout (its onRevoked
    /// blocks) is fenced by the coordinator: the partitions it was asked to give up go to the
    /// joiner without waiting for it; it loses the rest and rejoins.
    @Test func aMemberThatDoesNotRevokeInTimeIsFenced() async throws {
        try await Self.run(try Self.server()) { server, tally in
            let unblock = NSLockedString()
            let a = try Member("A", server, tally: tally) { g in
                g.rebalanceTimeout = .seconds(2)
                g.revocationTimeout = .seconds(30)
                g.onRevoked = { _ in
                    // The first revocation blocks for 8 s (four times the rebalance timeout).
                    if unblock.get() == nil {
                        unblock.set("blocked")
                        try? await Task.sleep(for: .seconds(8))
                    }
                }
            }
            try await Self.waitUntil("A to own all six", tally) { tally.split(["A"], each: 6, total: 6) }
            let clock = ContinuousClock()
            let b = try Member("B", server, tally: tally)
            let joinedAt = clock.now
            try await Self.waitUntil("A to be asked to revoke", tally, timeout: .seconds(10)) { unblock.get() != nil }
            try await Self.waitUntil("B to be given partitions", tally) { !tally.owned("B").isEmpty }
            #expect(clock.now - joinedAt < .seconds(8), "B waited for A's revocation rather than A being fenced")
            try await Self.waitUntil("A to lose its partitions", tally) { tally.saw("A", "lost") }
            try await Self.waitUntil("A and B to split again", tally) { tally.split(["A", "B"], each: 3, total: 6) }
            await a.leave()
            await b.leave()
        }
    }
}
