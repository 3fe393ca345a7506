import FakeCluster
import FakeClusterTCP
import Foundation
import KafkaIO
import KafkaProtocol
import Testing

/// Our producer and consumer against librdkafka (confluent-kafka 2.16 in .peers) on a
/// FakeCluster emulating 0.8.2, 0.9, 0.10.0, 0.10.2 and 0.11, each configured for that
/// release: librdkafka reads the message sets we wrote in every codec (legacy ones before
/// 0.11), and we read what it wrote.
@Suite(.serialized)
struct OldBrokerInteropTests {
    static let codecs: [CompressionCodec] = [.none, .gzip, .snappy, .lz4]

    @Test(arguments: ["0.8.2", "0.9.0", "0.10.0", "0.10.2", "0.11.0"])
    func weAndLibrdkafkaReadEachOthersMessageSets(release name: String) async throws {
        try Peers.check()
        let release = try #require(KafkaRelease(name))
        let server = try FakeClusterServer.start(FakeClusterConfig(brokers: FakeClusterConfig.brokers(1, firstPort: 0), release: release,
                                                                   topics: [.init(name: "ours", partitions: 1), .init(name: "theirs", partitions: 1)]))
        defer { try? server.shutdown() }
        let bootstrap = server.brokers.map { "\($0.host):\($0.port)" }.joined(separator: ",")
        var c = KafkaClientConfiguration(seedBrokers: server.brokers.map { BrokerAddress(host: $0.host, port: Int($0.port)) })
        // Brokers before 0.10 close the connection on ApiVersions: assume the release then.
        if !release.hasApiVersions { c.apiVersionsFallbackRelease = release }
        c.consumer.maxWait = .milliseconds(100)

        var expected: [String] = []
        for codec in Self.codecs {
            c.producer.compression = [codec]
            let client = try KafkaClient(configuration: c)
            let values = (0 ..< 10).map { "ours-\(codec)-\($0)" }
            let sent = await client.produceAndWait(values.map { KafkaRecord(topic: "ours", partition: 0, value: Array($0.utf8)) })
            #expect(sent.allSatisfy { if case .success = $0 { true } else { false } }, "\(name) \(codec): \(sent[0])")
            await client.close()
            expected += values
        }
        let read = try await Peers.script("oldpeer.py", [bootstrap, name, "consume", "ours", "\(expected.count)"])
        let lines = read.stdout.split(separator: "\n").map(String.init)
        #expect(read.status == 0 && lines.first == "OK \(expected.count)", "\(read.stdout.prefix(500))\(read.stderr.suffix(2000))")
        #expect(Array(lines.dropFirst()) == expected)

        let wrote = try await Peers.script("oldpeer.py", [bootstrap, name, "produce", "theirs", "10"])
        #expect(wrote.status == 0 && wrote.stdout.hasPrefix("OK 40"), "\(wrote.stdout)\(wrote.stderr.suffix(2000))")
        let client = try KafkaClient(configuration: c)
        client.assign([TopicPartition("theirs", 0): .start])
        var got: [String] = []
        let clock = ContinuousClock()
        let start = clock.now
        while got.count < 40 && clock.now - start < .seconds(20) {
            got += await client.poll(timeout: .milliseconds(200)).records.map { String(decoding: $0.value ?? [], as: UTF8.self) }
        }
        await client.close()
        #expect(got == Self.codecs.flatMap { codec in (0 ..< 10).map { "theirs-\(codec)-\($0)" } })
    }
}
