import FakeCluster
import FakeClusterTCP
import KafkaIO
import KafkaProtocol
import NIOConcurrencyHelpers
import Testing
import Foundation

/// KafkaTransactSession against FakeCluster's TCP listener (three brokers: the group and
/// transaction coordinators and the leaders differ): a copy pipeline from `in` to `out` with
/// members joining and leaving and transactions aborted on purpose is read back exactly once,
/// in order per partition; a rebalance during an open transaction makes it abort; an abort
/// polls the same records again.
@Suite(.serialized) struct TransactSessionTests {
    static let partitions: Int32 = 4
    static let perPartition = 60

    /// `transactionVersion` 2: a 4.0 cluster with KIP-890 part 2 (the offsets go in by
    /// TxnOffsetCommit v5, no AddOffsetsToTxn / AddPartitionsToTxn).
    /// `consumerGroups`: a 4.0 cluster, for members with `groupProtocol = .consumer` (KIP-848).
    static func server(transactionVersion: Int16 = 0, consumerGroups: Bool = false) throws -> FakeClusterServer {
        var config = FakeClusterConfig(brokers: (1 ... 3).map { .init(nodeId: $0, port: 0) },
                                       topics: [.init(name: "in", partitions: partitions), .init(name: "out", partitions: partitions)],
                                       recordEvents: transactionVersion >= 2 || consumerGroups)
        config.transactionVersion = transactionVersion
        if transactionVersion >= 2 || consumerGroups { config.release = .v4_0 }
        config.consumerGroupHeartbeatIntervalMs = 500
        return try FakeClusterServer.start(config)
    }

    static func configuration(_ server: FakeClusterServer, transactionalId: String? = nil) -> KafkaClientConfiguration {
        TransactionalProducerTests.configuration(server, transactionalId: transactionalId)
    }

    /// A member of group "copy" whose polls are small (one batch per fetch), so transactions
    /// are many and rebalances fall inside them.
    static func session(_ server: FakeClusterServer, _ name: String, groupProtocol: GroupProtocol = .classic,
                        onRevoked: (@Sendable ([TopicPartition]) async -> Void)? = nil,
                        onAssigned: (@Sendable ([TopicPartition]) -> Void)? = nil) throws -> KafkaTransactSession {
        var group = GroupConfiguration(groupId: "copy", topics: ["in"])
        group.sessionTimeout = .seconds(6)
        group.heartbeatInterval = .milliseconds(500)
        group.onRevoked = onRevoked
        group.onAssigned = onAssigned
        group.groupProtocol = groupProtocol
        var c = configuration(server, transactionalId: "copy-\(name)")
        // Its own seed: a KIP-848 member draws its member id from it (one seed, one member).
        c.randomSeed = name.utf8.reduce(UInt64(5381)) { ($0 &* 33) &+ UInt64($1) }
        c.consumer.partitionMaxBytes = 1
        c.consumer.maxBytes = 1
        // And no fetching ahead: on a loaded machine a backlog of fetched batches made one
        // poll (one transaction) copy everything before the third member was assigned.
        c.consumer.maxBufferedBytes = 1
        return try KafkaTransactSession(configuration: c, group: group, logger: TestEnvironment.logger)
    }

    /// Writes `perPartition` records "p-i" to every partition of `in`, a few per batch.
    static func fillInput(_ server: FakeClusterServer) async throws {
        let producer = try KafkaClient(configuration: configuration(server), logger: TestEnvironment.logger)
        for i in stride(from: 0, to: perPartition, by: 3) {
            var records: [KafkaRecord] = []
            for j in i ..< min(i + 3, perPartition) {
                for p in 0 ..< partitions { records.append(KafkaRecord(topic: "in", partition: p, value: Array("\(p)-\(j)".utf8))) }
            }
            let results = await producer.produceAndWait(records)
            #expect(results.allSatisfy { if case .success = $0 { return true } else { return false } })
        }
        await producer.close()
    }

    /// Counts committed copies across the members.
    final class Tally: @unchecked Sendable {
        let box = NIOLockedValueBox((committed: 0, aborted: 0, byMember: [String: Int]()))
        var committed: Int { box.withLockedValue { $0.committed } }
    }

    /// One member's copy loop: each non-empty poll is one transaction; every `abortEvery`th
    /// is aborted on purpose and its first record must come back in a later poll.
    static func copy(_ s: KafkaTransactSession, _ name: String = "", tally: Tally, abortEvery: Int, stop: @escaping @Sendable () -> Bool,
                     hold: @escaping @Sendable () -> Bool = { false }) async -> String? {
        var round = 0
        var mustSeeAgain: Set<String> = []
        while !stop() && !Task.isCancelled {
            if hold() {
                try? await Task.sleep(for: .milliseconds(20))
                continue
            }
            let poll = await s.poll(timeout: .milliseconds(200))
            if poll.closed { return nil }
            if poll.isEmpty { continue }
            round += 1
            let values = poll.records.map { String(decoding: $0.value ?? [], as: UTF8.self) }
            if ProcessInfo.processInfo.environment["KGO_TXN_TRACE"] != nil { print("\(ContinuousClock.now) \(name) round \(round + 1): \(values)") }
            mustSeeAgain.subtract(values)
            do {
                try await s.begin()
                for r in poll.records {
                    await s.client.produce(KafkaRecord(topic: "out", partition: r.partition, value: r.value.map(Array.init))) { _ in }
                }
                let commit = round % abortEvery != 1
                let committed = try await s.end(commit: commit)
                if ProcessInfo.processInfo.environment["KGO_TXN_TRACE"] != nil { print("\(ContinuousClock.now) \(name) end(commit: \(commit)) -> \(committed)") }
                tally.box.withLockedValue { t in
                    if committed { t.committed += poll.recordCount; t.byMember[name, default: 0] += poll.recordCount } else { t.aborted += 1 }
                }
                if !commit, let first = values.first { mustSeeAgain.insert(first) }
            } catch {
                return "transaction failed: \(error)"
            }
        }
        return nil
    }

    /// Reads `out` read_committed from the start and checks every input record is there
    /// exactly once, in input order per partition.
    static func checkOutput(_ server: FakeClusterServer) async throws {
        let reader = try KafkaClient(configuration: TransactionalProducerTests.configuration(server), logger: TestEnvironment.logger)
        reader.assign(Dictionary(uniqueKeysWithValues: (0 ..< partitions).map { (TopicPartition("out", $0), StartOffset.start) }))
        var byPartition: [Int32: [String]] = [:]
        let clock = ContinuousClock()
        let deadline = clock.now + .seconds(15)
        let want = Int(partitions) * perPartition
        var settleUntil: ContinuousClock.Instant? = nil
        while clock.now < deadline {
            let n = byPartition.values.reduce(0) { $0 + $1.count }
            if n >= want, settleUntil == nil { settleUntil = clock.now + .milliseconds(600) }
            if let s = settleUntil, clock.now >= s { break }
            let poll = await reader.poll(timeout: .milliseconds(200))
            for p in poll.partitions {
                for r in p.records { byPartition[p.partition, default: []].append(String(decoding: r.value ?? [], as: UTF8.self)) }
            }
        }
        await reader.close()
        for p in 0 ..< partitions {
            let got = byPartition[p] ?? []
            let expected = (0 ..< perPartition).map { "\(p)-\($0)" }
            #expect(got == expected, "out[\(p)]: \(got.count) records, duplicates \(got.count - Set(got).count), first wrong at \(zip(got, expected).enumerated().first { $0.element.0 != $0.element.1 }?.offset ?? min(got.count, expected.count))")
        }
    }

    /// Two members copy while a third joins and the first leaves; every third transaction is
    /// aborted on purpose. The output holds every input record exactly once, in order. Also on
    /// transaction version 2, where no AddOffsetsToTxn or AddPartitionsToTxn may be sent; and
    /// with consumer-protocol members (KIP-848), whose TxnOffsetCommit carries the member epoch
    /// (the coordinator refuses a stale one with ILLEGAL_GENERATION).
    @Test(arguments: [(Int16(0), GroupProtocol.classic), (2, .classic), (0, .consumer), (2, .consumer)])
    func aCopyPipelineIsExactlyOnceThroughRebalancesAndAborts(transactionVersion: Int16, groupProtocol: GroupProtocol) async throws {
        let server = try Self.server(transactionVersion: transactionVersion, consumerGroups: groupProtocol == .consumer)
        defer { try? server.shutdown() }
        try await Self.fillInput(server)
        let tally = Tally()
        let total = Int(Self.partitions) * Self.perPartition
        let clock = ContinuousClock()
        let deadline = clock.now + .seconds(60)
        let done: @Sendable () -> Bool = { tally.committed >= total || clock.now >= deadline }

        // Copying holds at a quarter until the third member has partitions, and at half until
        // the first has left, so both rebalances happen with work left on both sides.
        let steps = NIOLockedValueBox((cAssigned: false, aLeft: false))
        let hold: @Sendable () -> Bool = {
            let s = steps.withLockedValue { $0 }
            return (tally.committed >= total / 4 && !s.cAssigned) || (tally.committed >= total / 2 && !s.aLeft)
        }
        let a = try Self.session(server, "a", groupProtocol: groupProtocol)
        let b = try Self.session(server, "b", groupProtocol: groupProtocol)
        let runA = Task { try await a.run() }
        let runB = Task { try await b.run() }
        let trace = ProcessInfo.processInfo.environment["KGO_TXN_TRACE"] != nil
        if trace {
            Task { for await e in a.consumer.events { print("\(ContinuousClock.now) a event \(e)") } }
            Task { for await e in b.consumer.events { print("\(ContinuousClock.now) b event \(e)") } }
        }
        // The first member stops between transactions, as an application does before it
        // leaves: cancelling its task instead could land inside `end(commit:)`, which then
        // throws `.cancelled` while the commit still completes, and the tally (which stops
        // the run) would never count those records although the output holds them.
        let stopA = NIOLockedValueBox(false)
        let copyA = Task { await Self.copy(a, "a", tally: tally, abortEvery: 3, stop: { done() || stopA.withLockedValue { $0 } }, hold: hold) }
        let copyB = Task { await Self.copy(b, "b", tally: tally, abortEvery: 3, stop: done, hold: hold) }

        while tally.committed < total / 4, clock.now < deadline { try await Task.sleep(for: .milliseconds(20)) }
        let c = try Self.session(server, "c", groupProtocol: groupProtocol, onAssigned: { parts in if !parts.isEmpty { steps.withLockedValue { $0.cAssigned = true } } })
        let runC = Task { try await c.run() }
        if trace { Task { for await e in c.consumer.events { print("\(ContinuousClock.now) c event \(e)") } } }
        let copyC = Task { await Self.copy(c, "c", tally: tally, abortEvery: 3, stop: done, hold: hold) }
        while tally.committed < total / 2, clock.now < deadline { try await Task.sleep(for: .milliseconds(20)) }
        if trace { print("\(ContinuousClock.now) main: half copied, stopping a") }
        stopA.withLockedValue { $0 = true }
        _ = await copyA.value
        if trace { print("\(ContinuousClock.now) main: a's loop ended, leaving") }
        await a.leave()
        let leftAt = tally.committed
        if trace { print("\(ContinuousClock.now) main: a left") }
        steps.withLockedValue { $0.aLeft = true }
        while !done(), clock.now < deadline { try await Task.sleep(for: .milliseconds(50)) }

        for t in [copyB, copyC] {
            let failure = await t.value
            #expect(failure == nil, "\(failure ?? "")")
        }
        #expect(tally.committed == total, "committed \(tally.committed) of \(total) (\(tally.box.withLockedValue { $0.aborted }) aborted)")
        #expect(tally.box.withLockedValue { $0.aborted } > 0)
        let byMember = tally.box.withLockedValue { $0.byMember }
        #expect(steps.withLockedValue { $0.cAssigned }, "the third member was given partitions")
        #expect(leftAt < total, "the first member left with work remaining (\(leftAt) of \(total) copied); by member: \(byMember)")
        await b.leave()
        await c.leave()
        _ = await (try? runA.value, try? runB.value, try? runC.value)
        try await Self.checkOutput(server)
        if transactionVersion >= 2 {
            let seen = try await server.withCluster { cluster, _ in
                (cluster.events.compactMap { e -> String? in
                    if case .request = e.message { return "\(e.apiKey.name) v\(e.version)" } else { return nil }
                }, [])
            }.get()
            #expect(!seen.contains { $0.hasPrefix("AddOffsetsToTxn") || $0.hasPrefix("AddPartitionsToTxn") })
            #expect(seen.contains("TxnOffsetCommit v5") && !seen.contains { $0.hasPrefix("TxnOffsetCommit v") && $0 != "TxnOffsetCommit v5" })
            #expect(seen.contains("EndTxn v5"))
        }
        if groupProtocol == .consumer {
            let snap = try await server.withCluster { c, _ in (c.describeConsumerGroup("copy"), []) }.get()
            #expect(snap != nil && snap?.offsets.count == Int(Self.partitions), "the consumer group's offsets: \(String(describing: snap))")
            // Every TxnOffsetCommit names the member and its member epoch (KIP-848 epochs start at 1).
            let commits = try await server.withCluster { cluster, _ in
                (cluster.events.compactMap { e -> String? in
                    if case .request(let r as TxnOffsetCommitRequest) = e.message { return "\(r.memberId) \(r.generationId)" } else { return nil }
                }, [])
            }.get()
            #expect(!commits.isEmpty && commits.allSatisfy { c in
                let parts = c.split(separator: " ")
                return parts.count == 2 && (Int32(parts[1]) ?? 0) > 0
            }, "TxnOffsetCommit member and epoch: \(Set(commits).sorted().prefix(10))")
        }
    }

    /// A partition revoked while the transaction is open makes it abort: `end(commit: true)`
    /// returns false, and the records come back to whoever owns them next. With classic and
    /// KIP-848 members.
    @Test(arguments: GroupProtocol.allCases)
    func aRevocationDuringTheTransactionAbortsIt(groupProtocol: GroupProtocol) async throws {
        let server = try Self.server(consumerGroups: groupProtocol == .consumer)
        defer { try? server.shutdown() }
        try await Self.fillInput(server)
        let revoking = NIOLockedValueBox(false)
        let a = try Self.session(server, "a", groupProtocol: groupProtocol) { parts in if !parts.isEmpty { revoking.withLockedValue { $0 = true } } }
        let runA = Task { try await a.run() }
        let clock = ContinuousClock()
        let deadline = clock.now + .seconds(30)
        var poll = await a.poll(timeout: .milliseconds(200))
        while poll.isEmpty, clock.now < deadline { poll = await a.poll(timeout: .milliseconds(200)) }
        #expect(!poll.isEmpty)
        try await a.begin()
        for r in poll.records { await a.client.produce(KafkaRecord(topic: "out", partition: r.partition, value: r.value.map(Array.init))) { _ in } }

        // A second member joins: the rebalance (cooperative-sticky, or the coordinator's) revokes half of a's
        // partitions (the revocation starts now and finishes once a is done with what it polled).
        let b = try Self.session(server, "b", groupProtocol: groupProtocol)
        let runB = Task { try await b.run() }
        while !revoking.withLockedValue({ $0 }), clock.now < deadline { try await Task.sleep(for: .milliseconds(20)) }
        #expect(revoking.withLockedValue { $0 })
        let committed = try await a.end(commit: true)
        #expect(committed == false, "the transaction spanning the revocation must abort")

        // Both copy the rest; the output is still exactly once.
        let tally = Tally()
        let total = Int(Self.partitions) * Self.perPartition
        let copyDeadline = clock.now + .seconds(30)
        let done: @Sendable () -> Bool = { tally.committed >= total || clock.now >= copyDeadline }
        let copyA = Task { await Self.copy(a, tally: tally, abortEvery: 1_000, stop: done) }
        let copyB = Task { await Self.copy(b, tally: tally, abortEvery: 1_000, stop: done) }
        while !done() { try await Task.sleep(for: .milliseconds(50)) }
        for t in [copyA, copyB] {
            let failure = await t.value
            #expect(failure == nil, "\(failure ?? "")")
        }
        #expect(tally.committed == total)
        await a.leave()
        await b.leave()
        _ = await (try? runA.value, try? runB.value)
        try await Self.checkOutput(server)
    }

    /// A commit whose caller was cancelled still runs in the engine (it cannot be taken back);
    /// leaving right after must wait for it rather than take the abort's `.endInProgress` as
    /// done: closed under it, the transaction was left open on the coordinator (its records
    /// unacknowledged, no EndTxn sent) until the transaction timeout. The records are held by
    /// delayed Produce answers, so the commit is still waiting for them when cancelled.
    @Test func leavingAfterACancelledCommitLeavesNoTransactionOpen() async throws {
        let server = try Self.server()
        defer { try? server.shutdown() }
        try await Self.fillInput(server)
        let a = try Self.session(server, "a")
        let runA = Task { try await a.run() }
        let clock = ContinuousClock()
        let deadline = clock.now + .seconds(30)
        var poll = await a.poll(timeout: .milliseconds(200))
        while poll.isEmpty, clock.now < deadline { poll = await a.poll(timeout: .milliseconds(200)) }
        try #require(!poll.isEmpty)
        try await a.begin()
        _ = try await server.withCluster { c, _ in (c.delayResponses(.produce, milliseconds: 3_000, count: 100), []) }.get()
        for r in poll.records { await a.client.produce(KafkaRecord(topic: "out", partition: r.partition, value: r.value.map(Array.init))) { _ in } }
        let ending = Task { try await a.end(commit: true) }
        try await Task.sleep(for: .milliseconds(500))
        ending.cancel()
        do {
            let committed = try await ending.value
            Issue.record("the end was not cancelled: it returned \(committed)")
        } catch {
            guard case .cancelled? = error as? TransactionError else {
                Issue.record("the cancelled end threw \(error)")
                return
            }
        }
        await a.leave()
        _ = try? await runA.value
        // EndTxn was sent: the coordinator completes the commit by itself (PrepareCommit, then
        // CompleteCommit once the markers are written), well before the 60 s transaction
        // timeout that would end a transaction left Ongoing.
        var txn = try await server.withCluster { c, _ in (c.describeTransaction("copy-a"), []) }.get()
        let settle = clock.now + .seconds(5)
        while txn?.state != "CompleteCommit", clock.now < settle {
            try await Task.sleep(for: .milliseconds(50))
            txn = try await server.withCluster { c, _ in (c.describeTransaction("copy-a"), []) }.get()
        }
        #expect(txn?.state == "CompleteCommit", "the cancelled commit did not complete: the transaction is \(txn?.state ?? "unknown")")
    }

    /// A session needs a transactional id.
    @Test func aSessionWithoutATransactionalIdIsRefused() throws {
        let server = try Self.server()
        defer { try? server.shutdown() }
        #expect(throws: KafkaConfigurationError.self) {
            _ = try KafkaTransactSession(configuration: Self.configuration(server), group: GroupConfiguration(groupId: "g", topics: ["in"]))
        }
    }
}
