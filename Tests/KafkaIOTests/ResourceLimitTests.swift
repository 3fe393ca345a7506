import FakeCluster
import FakeClusterTCP
import Foundation
import KafkaIO
import KafkaProtocol
import Testing

/// What a hostile or merely huge counterpart costs the client: a response that never ends,
/// thousands of partitions, many clients in one process. Typed errors, memory bounded by
/// the configured limits, every socket given back.
@Suite struct ResourceLimitTests {
    /// Client sockets to `port` on loopback not yet closed (any TCP state but TIME_WAIT and
    /// CLOSE), from /proc/net/tcp: counted by the server's port, so tests running beside
    /// this one do not move the figure.
    static func openSockets(to port: Int) -> Int {
        // procfs reports a size of 0: read to the end rather than by the size.
        guard let data = FileHandle(forReadingAtPath: "/proc/net/tcp")?.readDataToEndOfFile() else { return -1 }
        let table = String(decoding: data, as: UTF8.self)
        var n = 0
        for line in table.split(separator: "\n").dropFirst() {
            let fields = line.split(separator: " ")
            guard fields.count > 3, let remote = fields[2].split(separator: ":").last, let rport = Int(remote, radix: 16) else { continue }
            let state = fields[3]
            if rport == port && state != "06" && state != "07" { n += 1 }
        }
        return n
    }

    /// A peer that announces a 512 KiB response (inside the limit), sends 1 KiB of it and
    /// then nothing: the request times out; the client never waits for the rest forever.
    @Test func aResponseThatNeverEndsTimesOut() async throws {
        let peer = try await ScriptedPeer(reply: [0x00, 0x08, 0x00, 0x00] + [UInt8](repeating: 0, count: 1024))
        var config = TestEnvironment.configuration([BrokerAddress(host: "127.0.0.1", port: peer.port)])
        config.maxRetries = 0
        let (error, _) = try await BadInputTests.failure(config)
        await peer.stop()
        switch BadInputTests.rootCause(error) {
        case .requestTimeout, .connectTimeout: break
        default: Issue.record("expected a timeout, got \(error)")
        }
    }

    /// A 5,000-partition topic: metadata, produce and fetch at both ends of it.
    @Test func thousandsOfPartitions() async throws {
        let server = try FakeClusterServer.start(FakeClusterConfig(brokers: [.init(nodeId: 1, port: 0)],
                                                                   topics: [.init(name: "wide", partitions: 5_000)]))
        defer { try? server.shutdown() }
        let client = try KafkaClient(configuration: ConsumerCancellationTests.configuration(server), logger: TestEnvironment.logger)
        var everything = MetadataRequest()
        everything.topics = nil
        let metadata = try await client.request(everything)
        #expect(metadata.topics.first { $0.name == "wide" }?.partitions.count == 5_000)
        let first = try await client.produce(KafkaRecord(topic: "wide", partition: 0, value: [0]))
        let last = try await client.produce(KafkaRecord(topic: "wide", partition: 4_999, value: [1]))
        #expect(first.offset == 0 && last.offset == 0)
        try client.consume(topics: ["wide"])
        var seen: Set<Int32> = []
        let clock = ContinuousClock()
        let start = clock.now
        while seen.count < 2, clock.now - start < .seconds(60) {
            for p in await client.poll(timeout: .milliseconds(500)).partitions where !p.records.isEmpty { seen.insert(p.partition) }
        }
        #expect(seen == [0, 4_999])
        await client.close()
    }

    /// 100 clients at once in one process, each connecting and asking for metadata, then
    /// closed: afterwards no socket to the server is left open.
    @Test func aConnectionStormGivesEverySocketBack() async throws {
        let server = try FakeClusterServer.start(FakeClusterConfig(brokers: [.init(nodeId: 1, port: 0)],
                                                                   topics: [.init(name: "t", partitions: 1)]))
        defer { try? server.shutdown() }
        let port = Int(server.brokers[0].port)
        let config = ConsumerCancellationTests.configuration(server)
        let clients = try (0 ..< 100).map { _ in try KafkaClient(configuration: config, logger: TestEnvironment.logger) }
        let answered = try await withThrowingTaskGroup(of: Int.self) { group in
            for client in clients {
                group.addTask { try await client.request(MetadataRequest()).brokers.count }
            }
            return try await group.reduce(0, +)
        }
        #expect(answered == 100)
        let open = Self.openSockets(to: port)
        #expect(open >= 100, "every client holds its connection while open: \(open)")
        for client in clients { await client.close() }
        // Closing finishes on the loop: give it a moment (a hang guard, not a bound).
        let clock = ContinuousClock()
        let start = clock.now
        while Self.openSockets(to: port) > 0, clock.now - start < .seconds(30) { try await Task.sleep(for: .milliseconds(50)) }
        #expect(Self.openSockets(to: port) == 0, "sockets to the server still open after closing 100 clients")
    }
}
