import ArgumentParser
import FakeCluster
import FakeClusterTCP
import Foundation
import KafkaIO
import KafkaProtocol
import Logging
import NIOConcurrencyHelpers

/// `kgo play`: the first thing to run. An embedded three-broker FakeCluster on loopback, the
/// real client producing and then consuming through it while a partition leader moves and a
/// broker restarts, and the invariants checked at the end. Nothing to install.
struct PlayCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "play",
        abstract: "Produce and consume through an embedded 3-broker fake cluster while a leader moves and a broker restarts.")

    @Option(help: "Records to produce and read back.") var records: Int = 100_000
    @Option(help: "Partitions of the topic.") var partitions: Int32 = 6
    @Option(help: "Bytes per record value.") var size: Int = 100
    @Flag(name: .shortAndLong, help: "Log the client's connections and retries to standard error.") var verbose = false
    @Flag(help: "Run an exactly-once copy pipeline instead: two transact-session members copy play-in to play-out while leaders move, a broker restarts and a member is replaced; the output is checked exactly once.")
    var eos = false

    func validate() throws {
        guard records >= 10 else { throw ValidationError("--records must be at least 10") }
        guard (1 ... 64).contains(partitions) else { throw ValidationError("--partitions must be 1…64") }
        guard (16 ... 1_000_000).contains(size) else { throw ValidationError("--size must be 16…1000000") }
    }

    func run() async throws {
        if eos { return try await runExactlyOnce() }
        let topic = "play"
        // Port 0: each broker binds a free port, and metadata advertises the bound ones.
        var config = FakeClusterConfig(brokers: (1 ... 3).map { FakeClusterConfig.Broker(nodeId: Int32($0), port: 0) }, seed: 1)
        config.topics = [.init(name: topic, partitions: partitions, replicationFactor: 3)]
        let server = try FakeClusterServer.start(config)
        defer { try? server.shutdown() }
        let addresses = server.brokers.map { "\($0.host):\($0.port)" }
        say("cluster  3 brokers in this process at \(addresses.joined(separator: ", ")); topic \(topic): \(partitions) partitions, replication 3")

        var logger = Logger(label: "kgo-play") { StreamLogHandler.standardError(label: $0) }
        logger.logLevel = verbose ? .debug : .error
        var clientConfig = try KafkaClientConfiguration(seedBrokers: addresses)
        clientConfig.clientId = "kgo-play"
        clientConfig.metadataMinAge = .milliseconds(500)
        let client = try KafkaClient(configuration: clientConfig, logger: logger)

        // Produce: keyed records, so each key's records keep their order in one partition.
        let acks = Acks(records)
        let clock = ContinuousClock()
        let start = clock.now
        var payload = [UInt8](repeating: UInt8(ascii: "x"), count: size)
        let moves = NIOLockedValueBox<[String]>([])
        var restart: Task<Void, any Error>?
        for i in 0 ..< records {
            let stamp = Array(String(i).utf8)
            payload.replaceSubrange(0 ..< stamp.count, with: stamp)
            payload[stamp.count] = UInt8(ascii: " ")
            let record = KafkaRecord(topic: topic, key: Array("key-\(i % 1_000)".utf8), value: payload)
            await client.produce(record) { result in acks.record(i, result) }
            if i == records / 3 {
                let m = try await moveLeader(server, topic, 0)
                moves.withLockedValue { $0.append(m) }
            }
            if i == records / 2 {
                let m = try await stopBroker(server, 2)
                moves.withLockedValue { $0.append(m) }
                // The broker comes back a moment later, while records are still in flight.
                restart = Task {
                    try await Task.sleep(for: .milliseconds(300))
                    let m = try await restartBroker(server, 2)
                    moves.withLockedValue { $0.append(m) }
                }
            }
        }
        await client.flush()
        try await restart?.value
        let produceSeconds = seconds(clock.now - start)
        let (acked, failed, firstError) = acks.summary()
        say(String(format: "produce  %d records of %d B: %d acknowledged, %d failed in %.2fs (%.0f records/s)",
                   records, size, acked, failed, produceSeconds, Double(acked) / produceSeconds))
        for m in moves.withLockedValue({ $0 }) { say("fault    \(m)") }
        if let firstError { say("         first failure: \(firstError)") }

        // Consume every partition from the start until every acknowledged record is back.
        let consumeStart = clock.now
        var assignment: [TopicPartition: StartOffset] = [:]
        for p in 0 ..< partitions { assignment[TopicPartition(topic, p)] = .start }
        client.assign(assignment)
        var seen = [Bool](repeating: false, count: records)
        var duplicates = 0, outOfOrder = 0, readBack = 0, foreign = 0
        var lastIndex: [Int32: Int] = [:]
        var lastOffset: [Int32: Int64] = [:]
        var partitionErrors: [String] = []
        let deadline = clock.now + .seconds(60)
        while readBack + duplicates < acked, clock.now < deadline {
            let poll = await client.poll(timeout: .seconds(1))
            if poll.closed { break }
            for (tp, error) in poll.errors { partitionErrors.append("\(tp): \(error)") }
            for part in poll.partitions {
                for r in part.records {
                    guard let value = r.value, let space = value.firstIndex(of: UInt8(ascii: " ")),
                          let i = Int(String(decoding: value[value.startIndex ..< space], as: UTF8.self)), i < records else {
                        foreign += 1
                        continue
                    }
                    if seen[i] { duplicates += 1 } else { seen[i] = true; readBack += 1 }
                    // Within a partition, records of increasing offset were produced in increasing order.
                    if let last = lastIndex[part.partition], i < last { outOfOrder += 1 }
                    if let last = lastOffset[part.partition], r.offset <= last { outOfOrder += 1 }
                    lastIndex[part.partition] = i
                    lastOffset[part.partition] = r.offset
                }
            }
        }
        let consumeSeconds = seconds(clock.now - consumeStart)
        say(String(format: "consume  %d records read back from %d partitions in %.2fs (%.0f records/s)",
                   readBack, partitions, consumeSeconds, Double(readBack) / consumeSeconds))
        await client.close()

        let missing = acks.acknowledged().filter { !seen[$0] }.count
        let checks: [(String, Bool, String)] = [
            ("every record was acknowledged", failed == 0 && acked == records, "\(failed) failed"),
            ("every acknowledged record was read back", missing == 0, "\(missing) missing"),
            ("no record was read twice", duplicates == 0, "\(duplicates) duplicates"),
            ("each partition kept produce order", outOfOrder == 0, "\(outOfOrder) out of order"),
            ("no partition reported an error", partitionErrors.isEmpty, partitionErrors.prefix(3).joined(separator: "; ")),
            ("nothing unexpected in the topic", foreign == 0, "\(foreign) foreign records"),
        ]
        for (name, ok, detail) in checks { say("check    \(name): \(ok ? "ok" : "FAILED (\(detail))")") }
        guard checks.allSatisfy(\.1) else { throw ExitCode.failure }
        say("ok")
    }

    func moveLeader(_ server: FakeClusterServer, _ topic: String, _ partition: Int32, during: String = "producing") async throws -> String {
        try await server.withCluster { cluster, now in
            let p = TopicPartition(topic, partition)
            let before = cluster.partitionInfo(p)
            let out = cluster.moveLeader(p, now: now)
            let after = cluster.partitionInfo(p)
            return ("moved the leader of \(topic)/\(partition) from broker \(before?.leader ?? -1) to \(after?.leader ?? -1) (leader epoch \(before?.epoch ?? -1) -> \(after?.epoch ?? -1)) while \(during)", out)
        }.get()
    }

    func stopBroker(_ server: FakeClusterServer, _ id: Int32, during: String = "producing") async throws -> String {
        try await server.withCluster { cluster, now in
            let out = cluster.stopBroker(id, now: now)
            return ("stopped broker \(id) (its connections reset, its partitions' leadership moved) while \(during)", out)
        }.get()
    }

    func restartBroker(_ server: FakeClusterServer, _ id: Int32) async throws -> String {
        try await server.withCluster { cluster, now in
            ("restarted broker \(id) with its data", cluster.restartBroker(id, now: now))
        }.get()
    }

    func seconds(_ d: Duration) -> Double {
        max(Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18, 1e-9)
    }

    func say(_ line: String) {
        print(line)
        fflush(nil)
    }
}

/// Produce outcomes by record index, written from the client's event loop.
private final class Acks: Sendable {
    private struct State {
        var acked: [Bool]
        var ackedCount = 0
        var failed = 0
        var firstError: String?
    }
    private let state: NIOLockedValueBox<State>

    init(_ n: Int) { state = NIOLockedValueBox(State(acked: [Bool](repeating: false, count: n))) }

    func record(_ i: Int, _ result: Result<ProducedRecord, ProduceError>) {
        state.withLockedValue { s in
            switch result {
            case .success:
                s.acked[i] = true
                s.ackedCount += 1
            case .failure(let e):
                s.failed += 1
                if s.firstError == nil { s.firstError = "\(e)" }
            }
        }
    }

    func summary() -> (acked: Int, failed: Int, firstError: String?) {
        state.withLockedValue { ($0.ackedCount, $0.failed, $0.firstError) }
    }

    func acknowledged() -> [Int] {
        state.withLockedValue { s in s.acked.indices.filter { s.acked[$0] } }
    }
}
