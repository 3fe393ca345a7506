import FakeCluster
import FakeClusterTCP
import Foundation
import KafkaIO
import KafkaProtocol
import NIOConcurrencyHelpers
import Testing

/// Transactions between our client and librdkafka 2.16 (confluent-kafka), both ways, against a
/// 3-broker FakeClusterTCP (the transaction coordinator and the partition leaders on
/// different brokers): our transactional producer commits some transactions and aborts
/// others, librdkafka's read_committed consumer (Scripts/txn_read.py) reads exactly the
/// committed records once each in order per partition, its read_uncommitted one reads all;
/// librdkafka's transactional producer (Scripts/txn_produce.py) commits and aborts, our
/// read_committed consumer reads exactly its committed records. And once against Tansu
/// (KGO_TEST_BROKER; the test FAILS when it is unset): a committed transaction of ours read
/// by librdkafka — committed only, since Tansu's read_committed delivers aborted records.
/// And our copy pipeline (two KafkaTransactSession members) copying what librdkafka's
/// transactional producer wrote, read exactly once by both clients.
@Suite(.serialized)
struct TransactionInteropTests {
    static let partitions: Int32 = 3

    /// A (partition, value) in the order one partition holds it.
    struct Entry: Hashable, CustomStringConvertible {
        var partition: Int32
        var value: String
        var description: String { "\(partition):\(value)" }
    }

    static func client(_ bootstrap: String, transactionalId: String? = nil, isolation: IsolationLevel = .readCommitted) throws -> KafkaClient {
        var c = KafkaClientConfiguration(seedBrokers: try bootstrap.split(separator: ",").map { try BrokerAddress(parsing: String($0)) })
        c.retryTimeout = .seconds(10)
        c.closeTimeout = .seconds(2)
        c.producer.transactionalId = transactionalId
        c.producer.linger = .milliseconds(2)
        c.consumer.isolation = isolation
        c.consumer.maxWait = .milliseconds(100)
        return try KafkaClient(configuration: c)
    }

    /// Runs our transactions by `plan` ("c" commit, "a" abort), `per` records each, record i
    /// to partition i % partitions, value "t<transaction>-<i>". An aborted transaction's
    /// records are each acknowledged (written) before the abort. Returns (committed, all) in
    /// produce order.
    static func produceOurs(_ bootstrap: String, topic: String, transactionalId: String, plan: String, per: Int,
                            partitions: Int32 = partitions) async throws -> (committed: [Entry], all: [Entry]) {
        let producer = try client(bootstrap, transactionalId: transactionalId)
        var committed: [Entry] = [], all: [Entry] = []
        do {
            for (t, kind) in plan.enumerated() {
                try await producer.beginTransaction()
                let batch = (0 ..< per).map { Entry(partition: Int32($0) % partitions, value: "t\(t)-\($0)") }
                let records = batch.map { KafkaRecord(topic: topic, partition: $0.partition, value: Array($0.value.utf8)) }
                if kind == "c" {
                    let failures = Failures()
                    for r in records { await producer.produce(r) { if case .failure(let e) = $0 { failures.add(e) } } }
                    try await producer.commitTransaction()
                    try #require(failures.all.isEmpty, "transaction \(t): \(failures.all.prefix(3))")
                    committed += batch
                } else {
                    let results = await producer.produceAndWait(records)
                    let failed = results.compactMap { r -> String? in if case .failure(let e) = r { return "\(e)" }; return nil }
                    try #require(failed.isEmpty, "transaction \(t): \(failed.prefix(3))")
                    try await producer.abortTransaction()
                }
                all += batch
            }
        } catch {
            await producer.close()
            throw error
        }
        await producer.close()
        return (committed, all)
    }

    /// What librdkafka's consumer read at `isolation`, in the order read.
    static func readWithLibrdkafka(_ bootstrap: String, topic: String, isolation: String, want: Int,
                                   partitions: Int32 = partitions) async throws -> [(partition: Int32, offset: Int64, value: String)] {
        let r = try await Peers.script("txn_read.py", [bootstrap, topic, String(partitions), isolation, String(want)], timeout: 60)
        try #require(r.status == 0, "txn_read.py \(isolation): \(r.stderr.suffix(2000))")
        let obj = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any], "\(r.stdout)")
        let rows = try #require(obj["records"] as? [[Any]], "\(r.stdout)")
        #expect(!r.stderr.contains("consume error"), "\(r.stderr.suffix(2000))")
        return rows.map { (Int32($0[0] as! Int), Int64($0[1] as! Int), $0[2] as! String) }
    }

    /// What our consumer read at `isolation` from the start of every partition: polls until
    /// `want` records arrived, then 1.5 s more to see anything extra.
    static func readOurs(_ bootstrap: String, topic: String, isolation: IsolationLevel, want: Int,
                         partitions: Int32 = partitions) async throws -> [(partition: Int32, offset: Int64, value: String)] {
        let reader = try client(bootstrap, isolation: isolation)
        reader.assign(Dictionary(uniqueKeysWithValues: (0 ..< partitions).map { (TopicPartition(topic, $0), StartOffset.start) }))
        var got: [(partition: Int32, offset: Int64, value: String)] = []
        let clock = ContinuousClock()
        let deadline = clock.now + .seconds(30)
        var settleUntil: ContinuousClock.Instant? = nil
        while clock.now < deadline {
            if got.count >= want, settleUntil == nil { settleUntil = clock.now + .milliseconds(1500) }
            if let s = settleUntil, clock.now >= s { break }
            let poll = await reader.poll(timeout: .milliseconds(200))
            for p in poll.partitions {
                #expect(p.error == nil, "\(p.topic)[\(p.partition)]: \(String(describing: p.error))")
                for r in p.records { got.append((p.partition, r.offset, String(decoding: r.value ?? [], as: UTF8.self))) }
            }
        }
        await reader.close()
        return got
    }

    /// `read` holds exactly `expected`, each once, and in `expected`'s order within each
    /// partition (offsets growing).
    static func check(_ read: [(partition: Int32, offset: Int64, value: String)], equals expected: [Entry], _ what: String) {
        let got = read.map { Entry(partition: $0.partition, value: $0.value) }
        #expect(got.count == expected.count, "\(what): read \(got.count), expected \(expected.count)")
        #expect(Set(got).count == got.count, "\(what): duplicates")
        for p in 0 ..< partitions {
            let mine = read.filter { $0.partition == p }
            #expect(mine.map(\.value) == expected.filter { $0.partition == p }.map(\.value), "\(what): partition \(p) order or content")
            #expect(zip(mine, mine.dropFirst()).allSatisfy { $0.offset < $1.offset }, "\(what): partition \(p) offsets")
        }
    }

    static func withFakeCluster(_ topic: String, also: [String] = [], _ body: (String) async throws -> Void) async throws {
        try Peers.check()
        var config = FakeClusterConfig(brokers: FakeClusterConfig.brokers(3, firstPort: 0))
        config.topics = ([topic] + also).map { .init(name: $0, partitions: partitions) }
        let server = try FakeClusterServer.start(config)
        defer { try? server.shutdown() }
        let coordinatorAndLeaders = try await server.withCluster { c, _ in
            ((0 ..< partitions).map { c.partitionInfo(.init(topic, $0))!.leader }, [])
        }.get()
        #expect(Set(coordinatorAndLeaders).count > 1, "the partitions are led by more than one broker")
        try await body(server.brokers.map { "\($0.host):\($0.port)" }.joined(separator: ","))
        let internalErrors = try await server.withCluster { c, _ in (c.closeLog.filter { $0.contains("internal error") }, []) }.get()
        #expect(internalErrors.isEmpty, "\(internalErrors)")
    }

    /// (a) Ours commits three transactions and aborts two (their records written first) on
    /// three partitions; librdkafka read_committed reads exactly the committed records, once
    /// each, in order per partition; read_uncommitted reads every record.
    @Test func ourTransactionsReadByLibrdkafka() async throws {
        try await Self.withFakeCluster("txn-ours") { bootstrap in
            let (committed, all) = try await Self.produceOurs(bootstrap, topic: "txn-ours", transactionalId: "ours-1", plan: "cacac", per: 12)
            #expect(committed.count == 36 && all.count == 60)
            let rc = try await Self.readWithLibrdkafka(bootstrap, topic: "txn-ours", isolation: "read_committed", want: committed.count)
            Self.check(rc, equals: committed, "librdkafka read_committed")
            let ru = try await Self.readWithLibrdkafka(bootstrap, topic: "txn-ours", isolation: "read_uncommitted", want: all.count)
            Self.check(ru, equals: all, "librdkafka read_uncommitted")
        }
    }

    /// (b) librdkafka's transactional producer commits three transactions and aborts two;
    /// our read_committed consumer reads exactly the committed records in order per
    /// partition, nothing aborted; our read_uncommitted one reads every record.
    @Test func librdkafkaTransactionsReadByOurs() async throws {
        try await Self.withFakeCluster("txn-rd") { bootstrap in
            let r = try await Peers.script("txn_produce.py", [bootstrap, "txn-rd", String(Self.partitions), "rd-1", "cacac", "12"], timeout: 90)
            try #require(r.status == 0, "txn_produce.py: \(r.stdout)\(r.stderr.suffix(2000))")
            let obj = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: [[Any]]], "\(r.stdout)")
            func entries(_ key: String) -> [Entry] {
                (obj[key] ?? []).map { Entry(partition: Int32($0[0] as! Int), value: $0[1] as! String) }
            }
            let committed = entries("committed"), all = entries("all")
            #expect(committed.count == 36 && all.count == 60)
            let rc = try await Self.readOurs(bootstrap, topic: "txn-rd", isolation: .readCommitted, want: committed.count)
            Self.check(rc, equals: committed, "our read_committed")
            #expect(!rc.contains { $0.value.hasPrefix("t1-") || $0.value.hasPrefix("t3-") }, "an aborted record was read")
            let ru = try await Self.readOurs(bootstrap, topic: "txn-rd", isolation: .readUncommitted, want: all.count)
            Self.check(ru, equals: all, "our read_uncommitted")
        }
    }

    /// (d) librdkafka's transactional producer writes eos-in (three transactions committed,
    /// three aborted); two of our KafkaTransactSession members copy eos-in to eos-out (same
    /// partition, same value), committing their consumed offsets in each transaction. Our
    /// read_committed consumer and librdkafka's both read exactly librdkafka's committed
    /// records from eos-out, once each, in order per partition; a later member of the group
    /// finds nothing left to consume.
    @Test func ourCopyPipelineCopiesLibrdkafkaTransactions() async throws {
        try await Self.withFakeCluster("eos-in", also: ["eos-out"]) { bootstrap in
            let r = try await Peers.script("txn_produce.py", [bootstrap, "eos-in", String(Self.partitions), "rd-eos", "cacaca", "30"], timeout: 90)
            try #require(r.status == 0, "txn_produce.py: \(r.stdout)\(r.stderr.suffix(2000))")
            let obj = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: [[Any]]], "\(r.stdout)")
            let committed = (obj["committed"] ?? []).map { Entry(partition: Int32($0[0] as! Int), value: $0[1] as! String) }
            #expect(committed.count == 90)

            let copied = NIOLockedValueBox(0)
            var members: [(KafkaTransactSession, Task<Void, Never>, Task<Void, Never>)] = []
            for i in 1 ... 2 {
                var c = KafkaClientConfiguration(seedBrokers: try bootstrap.split(separator: ",").map { try BrokerAddress(parsing: String($0)) })
                c.retryTimeout = .seconds(10)
                c.closeTimeout = .seconds(2)
                c.producer.transactionalId = "eos-copier-\(i)"
                c.producer.linger = .milliseconds(2)
                c.consumer.maxWait = .milliseconds(100)
                var g = GroupConfiguration(groupId: "eos-copy", topics: ["eos-in"])
                g.heartbeatInterval = .milliseconds(300)
                let session = try KafkaTransactSession(configuration: c, group: g)
                let run = Task { _ = try? await session.run() }
                let copy = Task {
                    while !Task.isCancelled {
                        let poll = await session.poll(timeout: .milliseconds(200))
                        if poll.closed { return }
                        if poll.recordCount == 0 { continue }
                        do {
                            try await session.begin()
                            for r in poll.records {
                                await session.client.produce(KafkaRecord(topic: "eos-out", partition: r.partition, value: r.value.map(Array.init))) { _ in }
                            }
                            if try await session.end(commit: true) { copied.withLockedValue { $0 += poll.recordCount } }
                        } catch {
                            Issue.record("copier \(i): \(error)")
                            return
                        }
                    }
                }
                members.append((session, run, copy))
            }
            let clock = ContinuousClock()
            let deadline = clock.now + .seconds(30)
            while copied.withLockedValue({ $0 }) < committed.count, clock.now < deadline {
                try await Task.sleep(for: .milliseconds(50))
            }
            for m in members { m.2.cancel() }
            for m in members { await m.2.value }
            #expect(copied.withLockedValue { $0 } == committed.count, "records copied in committed transactions")

            for m in members { await m.0.leave(); await m.1.value }

            // The group's committed offsets are past everything copied: a new member of the
            // group (read_committed) finds nothing left to consume.
            var c = KafkaClientConfiguration(seedBrokers: try bootstrap.split(separator: ",").map { try BrokerAddress(parsing: String($0)) })
            c.consumer.isolation = .readCommitted
            c.consumer.maxWait = .milliseconds(100)
            var g = GroupConfiguration(groupId: "eos-copy", topics: ["eos-in"])
            g.autocommitInterval = nil
            let late = try KafkaGroupConsumer(configuration: c, group: g)
            let lateRun = Task { _ = try? await late.run() }
            var leftOver = 0
            let lateUntil = clock.now + .seconds(3)
            while clock.now < lateUntil { leftOver += await late.poll(timeout: .milliseconds(200)).recordCount }
            await late.leave()
            await lateRun.value
            #expect(leftOver == 0, "records of eos-in left after the copy's committed offsets")

            let ours = try await Self.readOurs(bootstrap, topic: "eos-out", isolation: .readCommitted, want: committed.count)
            Self.check(ours, equals: committed, "our read_committed of the copy")
            let theirs = try await Self.readWithLibrdkafka(bootstrap, topic: "eos-out", isolation: "read_committed", want: committed.count)
            Self.check(theirs, equals: committed, "librdkafka read_committed of the copy")
        }
    }

    /// (c) Against Tansu: our two committed transactions over two partitions, read by
    /// librdkafka read_committed, exactly and in order. Only commits: Tansu's read_committed
    /// delivers aborted records (../shared/broker/README.md).
    @Test func ourCommittedTransactionsReadByLibrdkafkaOnTansu() async throws {
        try await GroupInteropTests.withCluster(.tansu) { env in
            let topic = try await env.topic(partitions: 2)
            let broker = env.ours
            let (committed, _) = try await Self.produceOurs(broker, topic: topic, transactionalId: "tansu-\(topic)", plan: "cc", per: 10,
                                                            partitions: 2)
            #expect(committed.count == 20)
            let rc = try await Self.readWithLibrdkafka(broker, topic: topic, isolation: "read_committed", want: committed.count, partitions: 2)
            Self.check(rc, equals: committed, "librdkafka read_committed on Tansu")
        }
    }
}

final class Failures: @unchecked Sendable {
    private let lock = NSLock()
    private var errors: [ProduceError] = []
    func add(_ e: ProduceError) { lock.lock(); errors.append(e); lock.unlock() }
    var all: [ProduceError] { lock.lock(); defer { lock.unlock() }; return errors }
}
