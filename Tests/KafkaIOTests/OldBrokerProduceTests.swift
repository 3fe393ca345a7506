import FakeCluster
import FakeClusterTCP
import KafkaIO
import KafkaProtocol
import Testing

/// Producing to brokers before 0.11 (Produce v0-v2 carrying message sets v0/v1) and reading
/// it back, against FakeCluster's TCP listener emulating each release: every codec the
/// release supports, the request versions and message format on the wire, and idempotence
/// (only a default there) turned off or, when demanded, a typed error.
@Suite struct OldBrokerProduceTests {
    static let releases = [KafkaRelease(0, 8, 2), KafkaRelease(0, 9, 0), KafkaRelease(0, 10, 0), KafkaRelease(0, 10, 2), KafkaRelease(0, 11, 0)]
    /// zstd needs message format v2 and Produce v7 (Kafka 2.1): none of these releases.
    static let codecs: [CompressionCodec] = [.none, .gzip, .snappy, .lz4]

    static func server(_ release: KafkaRelease) throws -> FakeClusterServer {
        try FakeClusterServer.start(FakeClusterConfig(brokers: [.init(nodeId: 1, port: 0)], release: release,
                                                      topics: codecs.map { .init(name: "t-\($0)", partitions: 1) }
                                                          + [.init(name: "h", partitions: 1), .init(name: "z", partitions: 1), .init(name: "zg", partitions: 1)],
                                                      recordEvents: true))
    }

    static func configuration(_ server: FakeClusterServer, _ release: KafkaRelease) -> KafkaClientConfiguration {
        var c = ConsumerCancellationTests.configuration(server)
        // Brokers before 0.10 close the connection on ApiVersions: assume the release then.
        if !release.hasApiVersions { c.apiVersionsFallbackRelease = release }
        return c
    }

    static func records(_ topic: String) -> [KafkaRecord] {
        (0 ..< 20).map {
            KafkaRecord(topic: topic, partition: 0, key: Array("k\($0)".utf8), value: Array("value-\($0)".utf8), timestamp: 1_700_000_000_000 + Int64($0))
        }
    }

    @Test(arguments: releases)
    func everyCodecRoundTrips(release: KafkaRelease) async throws {
        let server = try Self.server(release)
        defer { try? server.shutdown() }
        for codec in Self.codecs {
            var c = Self.configuration(server, release)
            c.producer.compression = [codec]
            let client = try KafkaClient(configuration: c, logger: TestEnvironment.logger)
            let topic = "t-\(codec)"
            let sent = await client.produceAndWait(Self.records(topic))
            let offsets = sent.map { r -> Int64 in if case .success(let p) = r { return p.offset } else { return -2 } }
            #expect(offsets == (0 ..< 20).map(Int64.init), "\(release) \(codec): \(sent.first { if case .failure = $0 { true } else { false } } ?? sent[0])")
            client.assign([TopicPartition(topic, 0): .start])
            let got = await ConsumerTests.pollRecords(client, 20)
            #expect(got.map(\.offset) == (0 ..< 20).map(Int64.init), "\(release) \(codec)")
            #expect(got.map { String(decoding: $0.value ?? [], as: UTF8.self) } == (0 ..< 20).map { "value-\($0)" })
            #expect(got.map { String(decoding: $0.key ?? [], as: UTF8.self) } == (0 ..< 20).map { "k\($0)" })
            if release >= KafkaRelease(0, 10, 0) {
                // Message format v1 and later carry the producer's timestamps.
                #expect(got.map(\.timestamp) == (0 ..< 20).map { 1_700_000_000_000 + Int64($0) }, "\(release) \(codec)")
            }
            await client.close()
        }
        // On the wire: Produce at the release's newest version, the matching message format,
        // each topic's batches with its codec.
        let produced = try await server.withCluster { cluster, _ in
            (cluster.events.compactMap { e -> (Int16, String, [UInt8])? in
                guard case .request(let r as ProduceRequest) = e.message, let t = r.topicData.first,
                      let records = t.partitionData.first?.records else { return nil }
                return (e.version, t.name, records)
            }, [])
        }.get()
        let produceMax = release.versions(.produce)!.upperBound
        let magic: UInt8 = release >= KafkaRelease(0, 11, 0) ? 2 : release >= KafkaRelease(0, 10, 0) ? 1 : 0
        #expect(!produced.isEmpty)
        for (version, topic, records) in produced {
            #expect(version == produceMax, "\(release): Produce v\(version)")
            #expect(records.count > 21 && records[16] == magic, "\(release) \(topic): magic \(records.count > 16 ? records[16] : 255)")
            let codec = Self.codecs.first { "t-\($0)" == topic }!
            // The attributes: byte 17 in a legacy message, the low bits of bytes 21-22 in a v2 batch.
            let attributes = magic == 2 ? records[22] : records[17]
            #expect(Int(attributes & 0x07) == Int(codec.rawValue), "\(release) \(topic)")
        }
    }

    /// Idempotence left at its default is turned off on a broker without producer ids; set
    /// explicitly, the producer fails with the typed configuration error.
    @Test(arguments: [KafkaRelease(0, 9, 0), KafkaRelease(0, 10, 2)])
    func demandedIdempotenceIsATypedErrorOnOldBrokers(release: KafkaRelease) async throws {
        let server = try Self.server(release)
        defer { try? server.shutdown() }
        var c = Self.configuration(server, release)
        c.producer.idempotent = true
        let client = try KafkaClient(configuration: c, logger: TestEnvironment.logger)
        let sent = await client.produceAndWait(Self.records("t-none"))
        for r in sent {
            guard case .failure(let e) = r, case .fatal(.invalidConfiguration(.idempotenceUnsupported)) = e else {
                Issue.record("\(release): \(r)")
                break
            }
        }
        await client.close()
        let written = try await server.withCluster { cluster, _ in (cluster.offsets(TopicPartition("t-none", 0))?.highWatermark, []) }.get()
        #expect(written == 0)
    }

    /// Record headers need message format v2: on an older broker the batch fails typed.
    @Test func headersCannotGoToA0_10Broker() async throws {
        let release = KafkaRelease(0, 10, 2)
        let server = try Self.server(release)
        defer { try? server.shutdown() }
        let client = try KafkaClient(configuration: Self.configuration(server, release), logger: TestEnvironment.logger)
        let sent = await client.produceAndWait([KafkaRecord(topic: "h", partition: 0, value: [1], headers: [RecordHeader(key: "a", value: [2])])])
        guard case .failure(.request(.encodingFailed(let e))) = sent.first else {
            Issue.record("\(sent)")
            return
        }
        #expect(e.field == "headers")
        await client.close()
    }

    /// zstd needs Kafka 2.1: preferred on an older broker, the producer takes the next codec
    /// it prefers (none when zstd was the only one), and the records are read back.
    @Test(arguments: [KafkaRelease(0, 9, 0), KafkaRelease(0, 10, 2), KafkaRelease(0, 11, 0)])
    func zstdFallsBackToTheNextCodecBefore2_1(release: KafkaRelease) async throws {
        let server = try Self.server(release)
        defer { try? server.shutdown() }
        for (topic, preference, expected) in [("z", [CompressionCodec.zstd], CompressionCodec.none), ("zg", [.zstd, .gzip], .gzip)] {
            var c = Self.configuration(server, release)
            c.producer.compression = preference
            let client = try KafkaClient(configuration: c, logger: TestEnvironment.logger)
            let sent = await client.produceAndWait(Self.records(topic))
            #expect(sent.allSatisfy { if case .success = $0 { true } else { false } }, "\(release) \(topic): \(sent[0])")
            client.assign([TopicPartition(topic, 0): .start])
            let got = await ConsumerTests.pollRecords(client, 20)
            #expect(got.map { String(decoding: $0.value ?? [], as: UTF8.self) } == (0 ..< 20).map { "value-\($0)" }, "\(release) \(topic)")
            await client.close()
            let attributes = try await server.withCluster { cluster, _ in
                (cluster.events.compactMap { e -> UInt8? in
                    guard case .request(let r as ProduceRequest) = e.message, let t = r.topicData.first, t.name == topic,
                          let records = t.partitionData.first?.records, records.count > 22 else { return nil }
                    return records[16] == 2 ? records[22] : records[17]
                }, [])
            }.get()
            #expect(!attributes.isEmpty && attributes.allSatisfy { Int($0 & 0x07) == Int(expected.rawValue) }, "\(release) \(topic): \(attributes)")
        }
    }
}
