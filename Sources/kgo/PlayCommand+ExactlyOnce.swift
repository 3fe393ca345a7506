import ArgumentParser
import FakeCluster
import FakeClusterTCP
import Foundation
import KafkaIO
import KafkaProtocol
import Logging
import NIOConcurrencyHelpers

/// `kgo play --eos`: exactly-once consume-transform-produce on the embedded cluster. Records
/// go to play-in; two KafkaTransactSession members of group play-copy copy them to play-out
/// (same partition, value prefixed "copy "), committing their offsets inside each
/// transaction. Meanwhile a leader moves, a broker stops and comes back, and a member is
/// replaced by a new instance with the same transactional id (the old one is fenced). Then
/// play-out is read read_committed: every input record exactly once, in input order.
extension PlayCommand {
    func runExactlyOnce() async throws {
        let (input, output, group) = ("play-in", "play-out", "play-copy")
        var config = FakeClusterConfig(brokers: (1 ... 3).map { FakeClusterConfig.Broker(nodeId: Int32($0), port: 0) }, seed: 1)
        config.topics = [.init(name: input, partitions: partitions, replicationFactor: 3),
                         .init(name: output, partitions: partitions, replicationFactor: 3)]
        let server = try FakeClusterServer.start(config)
        defer { try? server.shutdown() }
        let addresses = server.brokers.map { "\($0.host):\($0.port)" }
        say("cluster  3 brokers in this process at \(addresses.joined(separator: ", ")); topics \(input) and \(output): \(partitions) partitions each")

        var logger = Logger(label: "kgo-play") { StreamLogHandler.standardError(label: $0) }
        logger.logLevel = verbose ? .debug : .error
        var base = try KafkaClientConfiguration(seedBrokers: addresses)
        base.clientId = "kgo-play"
        base.metadataMinAge = .milliseconds(500)
        base.consumer.maxWait = .milliseconds(100)

        // The input, keyed, acknowledged before copying starts.
        // Small batches: a fetch returns whole batches, so they bound how much one poll holds.
        var inputConfig = base
        inputConfig.producer.maxBatchBytes = 16 * 1024
        let producer = try KafkaClient(configuration: inputConfig, logger: logger)
        let payload = String(repeating: "x", count: max(0, size - 12))
        let results = await producer.produceAndWait((0 ..< records).map { i in
            KafkaRecord(topic: input, key: Array("key-\(i % 1_000)".utf8), value: Array("\(i) \(payload)".utf8))
        })
        await producer.close()
        let failedInput = results.filter { if case .failure = $0 { return true } else { return false } }.count
        say("produce  \(records) records to \(input) (\(failedInput) failed)")
        guard failedInput == 0 else { throw ExitCode.failure }

        // Copying holds at each quarter until that quarter's fault is done, so every fault
        // lands while there is copying left to do (polls are small: many transactions).
        let copied = NIOLockedValueBox((committed: 0, aborted: 0, fenced: 0, stage: 0, replacementReady: false))
        let trace = ProcessInfo.processInfo.environment["KGO_PLAY_TRACE"] != nil
        let clock = ContinuousClock()
        let start = clock.now
        let deadline = start + .seconds(120)
        func member(_ transactionalId: String, replacement: Bool = false) throws -> (KafkaTransactSession, Task<Void, Never>, Task<Void, Never>) {
            var c = base
            c.producer.transactionalId = transactionalId
            c.producer.transactionTimeout = .seconds(10)
            // Small fetches and a small buffer keep polls small: many transactions.
            c.consumer.partitionMaxBytes = 4 * 1024
            c.consumer.maxBytes = 16 * 1024
            c.consumer.maxBufferedBytes = 32 * 1024
            var g = GroupConfiguration(groupId: group, topics: [input])
            g.sessionTimeout = .seconds(6)
            g.heartbeatInterval = .milliseconds(500)
            let session = try KafkaTransactSession(configuration: c, group: g, logger: logger)
            let run = Task { _ = try? await session.run() }
            let copy = Task {
                if replacement {
                    // Register the transactional id at once (InitProducerId through an empty
                    // transaction): that is what fences the old copier-1, whether or not this
                    // member is given partitions before the copy ends.
                    do {
                        try await session.begin()
                        try await session.client.abortTransaction()
                    } catch {
                        if trace { print("\(transactionalId)' init error \(error)") }
                    }
                    if trace { print("\(transactionalId)' registered") }
                    copied.withLockedValue { $0.replacementReady = true }
                }
                while !Task.isCancelled, clock.now < deadline {
                    let (held, done) = copied.withLockedValue { s in
                        (!replacement && s.stage < 3 && s.committed >= records * (s.stage + 1) / 4, s.committed >= records)
                    }
                    if done { return }
                    if held {
                        try? await Task.sleep(for: .milliseconds(5))
                        continue
                    }
                    let poll = await session.poll(timeout: .milliseconds(200))
                    if poll.closed { return }
                    if poll.recordCount == 0 { continue }
                    do {
                        try await session.begin()
                        for r in poll.records {
                            await session.client.produce(KafkaRecord(topic: output, partition: r.partition, key: r.key.map(Array.init),
                                                               value: Array("copy ".utf8) + (r.value.map(Array.init) ?? []))) { _ in }
                        }
                        let ok = try await session.end(commit: true)
                        if trace {
                            let ranges = poll.partitions.map { "\($0.partition):\($0.records.first?.offset ?? -1)-\($0.records.last?.offset ?? -1)" }
                            print("\(transactionalId)\(replacement ? "'" : "") \(poll.recordCount) [\(ranges.joined(separator: " "))] -> \(ok)")
                        }
                        copied.withLockedValue { s in
                            if ok { s.committed += poll.recordCount } else { s.aborted += 1 }
                        }
                    } catch {
                        if trace { print("\(transactionalId)\(replacement ? "'" : "") error \(error)") }
                        if (error as? TransactionError)?.isFenced == true { copied.withLockedValue { $0.fenced += 1 } }
                        // This instance can no longer copy: leave, so its partitions go to
                        // the members that can.
                        await session.leave()
                        return
                    }
                }
            }
            return (session, run, copy)
        }
        func reach(_ quarter: Int) async throws {
            while copied.withLockedValue({ $0.committed }) < records * quarter / 4, clock.now < deadline {
                try await Task.sleep(for: .milliseconds(5))
            }
        }

        var members = [try member("copier-1"), try member("copier-2")]
        say("copy     2 members of group \(group) copying \(input) to \(output) in transactions")
        var faults: [String] = []
        try await reach(1)
        faults.append(try await moveLeader(server, output, 0, during: "copying"))
        faults.append(try await moveLeader(server, input, 0, during: "copying"))
        copied.withLockedValue { $0.stage = 1 }
        try await reach(2)
        faults.append(try await stopBroker(server, 2, during: "copying"))
        try await Task.sleep(for: .milliseconds(300))
        faults.append(try await restartBroker(server, 2))
        copied.withLockedValue { $0.stage = 2 }
        try await reach(3)
        // A new instance with copier-1's transactional id joins the group: registering the
        // id fences the old copier-1, whose next transactional call fails; it then leaves.
        // The holds end first: a held member cannot finish the rebalance the join starts.
        copied.withLockedValue { $0.stage = 3 }
        members.append(try member("copier-1", replacement: true))
        while !copied.withLockedValue({ $0.replacementReady }), clock.now < deadline {
            try await Task.sleep(for: .milliseconds(10))
        }
        faults.append("started a second copier-1 (same transactional id) while copying: the first is fenced")
        while copied.withLockedValue({ $0.committed }) < records, clock.now < deadline {
            try await Task.sleep(for: .milliseconds(20))
        }
        let copySeconds = seconds(clock.now - start)
        for m in members { m.2.cancel() }
        for m in members { await m.2.value }
        // The old copier-1, if it did not try since: a zombie's transaction must fail fenced.
        // Its first attempt may abort before reaching the coordinator (the replacement's join
        // revoked partitions: that transaction is must-abort, its record dropped unsent), so
        // it tries until a record of its reaches the coordinator.
        if copied.withLockedValue({ $0.fenced }) == 0 {
            let zombie = members[0].0
            do {
                for _ in 0 ..< 3 {
                    try await zombie.begin()
                    let sent = await zombie.client.produceAndWait([KafkaRecord(topic: output, partition: 0, value: Array("zombie".utf8))])
                    let ok = try await zombie.end(commit: true)
                    if trace { print("zombie copier-1 produce -> \(sent), end -> \(ok)") }
                    if ok { break }
                }
            } catch {
                if trace { print("zombie copier-1 error \(error)") }
                if error.isFenced { copied.withLockedValue { $0.fenced += 1 } }
            }
        }
        for m in members { await m.0.leave(); await m.1.value }
        let tally = copied.withLockedValue { $0 }
        say(String(format: "copy     %d records committed in %.2fs (%d transactions aborted and retried; the old copier-1 %@)",
                   tally.committed, copySeconds, tally.aborted, tally.fenced > 0 ? "was fenced" : "was NOT fenced"))
        for f in faults { say("fault    \(f)") }

        // Read the output read_committed and check it.
        var readConfig = base
        readConfig.consumer.isolation = .readCommitted
        let reader = try KafkaClient(configuration: readConfig, logger: logger)
        reader.assign(Dictionary(uniqueKeysWithValues: (0 ..< partitions).map { (TopicPartition(output, $0), StartOffset.start) }))
        var seen = [Int](repeating: 0, count: records)
        var outOfOrder = 0, foreign = 0, total = 0
        var last: [Int32: Int] = [:]
        let readDeadline = clock.now + .seconds(30)
        var quietSince: ContinuousClock.Instant? = nil
        while clock.now < readDeadline {
            if total >= records {
                if quietSince == nil { quietSince = clock.now }
                if clock.now - quietSince! > .milliseconds(500) { break }
            }
            let poll = await reader.poll(timeout: .milliseconds(200))
            for part in poll.partitions {
                for r in part.records {
                    total += 1
                    let text = String(decoding: r.value ?? [], as: UTF8.self)
                    guard text.hasPrefix("copy "), let i = Int(text.dropFirst(5).prefix { $0 != " " }), i < records else {
                        foreign += 1
                        continue
                    }
                    seen[i] += 1
                    if let l = last[part.partition], i < l { outOfOrder += 1 }
                    last[part.partition] = i
                }
            }
        }
        await reader.close()
        let missing = seen.filter { $0 == 0 }.count
        let duplicates = seen.reduce(0) { $0 + max(0, $1 - 1) }
        let checks: [(String, Bool, String)] = [
            ("every input record was copied", missing == 0, "\(missing) missing"),
            ("no record was copied twice", duplicates == 0, "\(duplicates) duplicates"),
            ("each partition kept input order", outOfOrder == 0, "\(outOfOrder) out of order"),
            ("nothing else is visible read_committed", foreign == 0, "\(foreign) foreign records"),
            ("the replaced copier-1 was fenced", tally.fenced >= 1, "its transactions still went through"),
        ]
        for (name, ok, detail) in checks { say("check    \(name): \(ok ? "ok" : "FAILED (\(detail))")") }
        guard checks.allSatisfy(\.1) else { throw ExitCode.failure }
        say("ok")
    }
}
