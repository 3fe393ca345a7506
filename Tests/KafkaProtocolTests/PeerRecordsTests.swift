import Foundation
import Testing
import KafkaProtocol

/// The record batches real clients wrote (librdkafka 2.16 and kafka-python, every codec,
/// idempotent and transactional) and the batches the broker served back in Fetch responses
/// decode to exactly the records the peer driver produced: keys, values, headers (null and
/// empty values, repeated names) and timestamps, in order. The expectations are
/// Fixtures/peer-captures/expected-records.json, written by the recording driver.
@Suite struct PeerRecordsTests {
    struct Expected: Equatable, CustomStringConvertible {
        var topic: String
        var partition: Int32
        var offset: Int64
        var key: [UInt8]?
        var value: [UInt8]?
        var headers: [RecordHeader]
        var timestamp: Int64
        var description: String { "\(topic)/\(partition)@\(offset)" }
    }

    struct Scenario {
        var name: String
        var codec: CompressionCodec?
        var records: [Expected]
    }

    static let dir = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/peer-captures")

    static func scenarios() throws -> [Scenario] {
        let data = try Data(contentsOf: dir.appendingPathComponent("expected-records.json"))
        let root = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let all = try #require(root["scenarios"] as? [String: Any])
        var out: [Scenario] = []
        for name in all.keys.sorted() {
            let s = try #require(all[name] as? [String: Any])
            let records = try #require(s["records"] as? [[String: Any]])
            if records.isEmpty { continue }
            let codec: CompressionCodec? = switch s["codec"] as? String {
            case "none": CompressionCodec.none
            case "gzip": .gzip
            case "snappy": .snappy
            case "lz4": .lz4
            case "zstd": .zstd
            default: nil
            }
            var expected: [Expected] = []
            for r in records {
                let headers = try #require(r["headers"] as? [[Any]]).map { pair in
                    RecordHeader(key: pair[0] as! String, value: (pair[1] as? String).map { Array($0.utf8) })
                }
                expected.append(Expected(
                    topic: try #require(r["topic"] as? String),
                    partition: Int32(try #require(r["partition"] as? Int)),
                    offset: Int64(try #require(r["offset"] as? Int)),
                    key: (r["key"] as? String).map { Array($0.utf8) },
                    value: (r["value"] as? String).map { Array($0.utf8) },
                    headers: headers,
                    timestamp: Int64(try #require(r["timestamp"] as? Int))))
            }
            out.append(Scenario(name: name, codec: codec, records: expected))
        }
        return out
    }

    static func decoded(_ record: Record, topic: String, partition: Int32) -> Expected {
        Expected(topic: topic, partition: partition, offset: record.offset, key: record.keyBytes,
                 value: record.valueBytes, headers: record.headers, timestamp: record.timestamp)
    }

    @Test func producedBatchesDecodeToWhatThePeerSent() throws {
        let exchanges = try PeerCaptureCodecTests.loadExchanges()
        let scenarios = try Self.scenarios()
        #expect(scenarios.count >= 10)
        let contexts = CompressionContexts()
        for scenario in scenarios {
            var got: [Expected] = []
            var codecs: Set<CompressionCodec> = []
            for ex in exchanges where ex.file == "\(scenario.name).jsonl" && ex.apiKey == ProduceRequest.apiKey {
                let parsed = try parseRequestHeader(ex.request)
                var body = parsed.body
                let request = try ProduceRequest(from: &body, version: ex.version)
                for topic in request.topicData {
                    for partition in topic.partitionData {
                        let bytes = try #require(partition.records)
                        let (batches, tail) = try RecordsReader.decodeAll(bytes, contexts: contexts)
                        #expect(tail == 0, "\(scenario.name): a produced record set has a truncated tail")
                        for batch in batches where !batch.isControl {
                            codecs.insert(batch.codec)
                            got += batch.records.map { Self.decoded($0, topic: topic.name, partition: partition.index) }
                        }
                    }
                }
            }
            // Offsets in a produce request are relative to the batch; the broker assigns
            // the real ones. Compare everything else, in produce order per partition.
            func withoutOffset(_ e: Expected) -> Expected { var e = e; e.offset = 0; return e }
            let expected = scenario.records.sorted { ($0.topic, $0.partition, $0.offset) < ($1.topic, $1.partition, $1.offset) }
            let actual = got.enumerated().sorted { ($0.element.topic, $0.element.partition, $0.offset) < ($1.element.topic, $1.element.partition, $1.offset) }.map(\.element)
            #expect(actual.map(withoutOffset) == expected.map(withoutOffset), "\(scenario.name)")
            if let codec = scenario.codec {
                #expect(codecs == [codec], "\(scenario.name): batches used \(codecs)")
            }
        }
    }

    @Test func fetchedBatchesDecodeToTheProducedRecords() throws {
        let exchanges = try PeerCaptureCodecTests.loadExchanges()
        var byPosition: [String: Expected] = [:]
        for scenario in try Self.scenarios() where scenario.name.hasPrefix("produce-") {
            for r in scenario.records { byPosition[r.description] = r }
        }
        #expect(byPosition.count == 20)
        // Fetch v13+ names topics by id: learn the ids from the captured Metadata responses.
        var names: [KafkaUUID: String] = [:]
        for ex in exchanges where ex.apiKey == MetadataResponse.apiKey {
            guard let frame = ex.response else { continue }
            let (_, metadata) = try parseResponse(for: MetadataResponse.self, version: ex.version, frame: frame)
            for t in metadata.topics { if let name = t.name { names[t.topicId] = name } }
        }
        var seen: Set<String> = []
        var controlBatches = 0
        let contexts = CompressionContexts()
        for ex in exchanges where ex.file == "consume.jsonl" && ex.apiKey == FetchResponse.apiKey {
            let frame = try #require(ex.response)
            let (_, response) = try parseResponse(for: FetchResponse.self, version: ex.version, frame: frame)
            for topic in response.responses {
                let topicName = topic.topic.isEmpty ? (names[topic.topicId] ?? "") : topic.topic
                for partition in topic.partitions {
                    guard let bytes = partition.records, !bytes.isEmpty else { continue }
                    let (batches, _) = try RecordsReader.decodeAll(bytes, contexts: contexts)
                    for batch in batches {
                        if batch.isControl { controlBatches += 1; continue }
                        for record in batch.records {
                            let got = Self.decoded(record, topic: topicName, partition: partition.partitionIndex)
                            guard let want = byPosition[got.description] else { continue }
                            #expect(got == want)
                            seen.insert(got.description)
                        }
                    }
                }
            }
        }
        #expect(seen.count == byPosition.count, "records of every codec come back in the captured fetches")
        #expect(controlBatches > 0, "the consume capture includes transaction markers")
    }
}
