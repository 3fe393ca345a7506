import FakeCluster
import FakeClusterTCP
import Foundation
import Testing

/// Real clients (kcat and confluent-kafka over librdkafka 2.16) against a 3-broker
/// FakeCluster in TCP mode. Serialized: the machine has two cores.
@Suite(.serialized)
struct InteropTests {
    @Test func kcatProducesAndConsumesWithEveryCodec() async throws {
        try await withServer({ $0.topics = [.init(name: "codecs", partitions: 3)] }) { _, bootstrap in
            var expected: [String] = []
            for (i, codec) in ["none", "gzip", "snappy", "lz4", "zstd"].enumerated() {
                let lines = (1 ... 20).map { "\(codec)-\($0)" }
                expected += lines
                let r = try await Peers.run("/usr/bin/kcat", ["-b", bootstrap, "-P", "-t", "codecs", "-p", "1", "-z", codec],
                                      stdin: lines.joined(separator: "\n") + "\n")
                #expect(r.status == 0, "kcat -P -z \(codec) (#\(i)): \(r.stderr)")
            }
            let r = try await Peers.run("/usr/bin/kcat", ["-b", bootstrap, "-C", "-t", "codecs", "-p", "1", "-o", "beginning", "-e", "-q"])
            #expect(r.status == 0, "\(r.stderr)")
            #expect(r.stdout.split(separator: "\n").map(String.init) == expected)
        }
    }

    @Test func idempotentProducerWrites100kRecordsAndConsumerReadsThemInOrder() async throws {
        try await withServer({ $0.topics = [.init(name: "idem", partitions: 6)] }) { server, bootstrap in
            let leaders = try server.withCluster { c, _ in
                ((0 ..< 6).map { c.partitionInfo(.init("idem", $0))!.leader }, [])
            }.wait()
            #expect(Set(leaders) == [1, 2, 3], "the 6 partitions are led by all 3 brokers")
            let start = Date()
            let r = try await Peers.script("idempotent.py", [bootstrap, "idem", "100000", "6"], timeout: 120)
            #expect(r.status == 0 && r.stdout.hasPrefix("OK 100000"), "\(r.stdout)\(r.stderr.suffix(2000))")
            print("idempotent 100k: \(r.stdout.trimmingCharacters(in: .whitespacesAndNewlines)), \(Date().timeIntervalSince(start)) s")
            let hw = try server.withCluster { c, _ in ((0 ..< 6).map { c.offsets(.init("idem", $0))!.highWatermark }, []) }.wait()
            // Record i went to partition i % 6: partitions 0-3 got 16,667, partitions 4-5 got 16,666.
            let expectedHW: [Int64] = [16_667, 16_667, 16_667, 16_667, 16_666, 16_666]
            #expect(hw == expectedHW)
        }
    }

    @Test(arguments: ["range", "cooperative-sticky"])
    func twoConsumersSplitPartitionsAndRebalanceWhenOneLeaves(strategy: String) async throws {
        try await withServer({ $0.topics = [.init(name: "grp", partitions: 6)] }) { _, bootstrap in
            let r = try await Peers.script("group.py", [bootstrap, "grp", "6", strategy])
            #expect(r.status == 0 && r.stdout.hasPrefix("OK"), "\(r.stdout)\(r.stderr.suffix(2000))")
        }
    }

    /// librdkafka 2.16's KIP-848 consumer (group.protocol=consumer) against a 4.0 fake.
    @Test func kip848ConsumersSplitPartitionsAndRebalanceWhenOneLeaves() async throws {
        try await withServer({ $0.release = .v4_0; $0.topics = [.init(name: "grp848", partitions: 6)] }) { _, bootstrap in
            let r = try await Peers.script("group848.py", [bootstrap, "grp848", "6"])
            #expect(r.status == 0 && r.stdout.hasPrefix("OK"), "\(r.stdout)\(r.stderr.suffix(2000))")
        }
    }

    @Test func kip848RegexSubscription() async throws {
        try await withServer({
            $0.release = .v4_0
            $0.topics = [.init(name: "rx-a", partitions: 2), .init(name: "rx-b", partitions: 1), .init(name: "other", partitions: 2)]
        }) { _, bootstrap in
            let r = try await Peers.script("regex848.py", [bootstrap])
            #expect(r.status == 0 && r.stdout.hasPrefix("OK"), "\(r.stdout)\(r.stderr.suffix(2000))")
        }
    }

    @Test func transactionsCommitAndAbortAndReadCommittedSeesOnlyCommitted() async throws {
        try await withServer({ $0.topics = [.init(name: "txn", partitions: 2)] }) { _, bootstrap in
            let r = try await Peers.script("txn.py", [bootstrap, "txn"])
            #expect(r.status == 0 && r.stdout.hasPrefix("OK committed=20 all=30"), "\(r.stdout)\(r.stderr.suffix(2000))")
        }
    }

    @Test func scramSha512LoginWorksAndWrongPasswordFails() async throws {
        try await withServer({ $0.users = [.init(mechanism: .scramSha512, name: "alice", password: "s3cret")] }) { _, bootstrap in
            let r = try await Peers.script("sasl.py", [bootstrap, "SCRAM-SHA-512", "alice", "s3cret"])
            #expect(r.status == 0 && r.stdout.hasPrefix("OK brokers=3"), "\(r.stdout)\(r.stderr.suffix(2000))")
        }
    }

    @Test func badFramesCloseOnlyTheirConnection() async throws {
        try await withServer({ $0.maxFrameSize = 1024 * 1024 }) { server, _ in
            let r = try await Peers.script("badframes.py", [server.brokers[0].host, String(server.brokers[0].port)])
            #expect(r.status == 0 && r.stdout.hasPrefix("OK"), "\(r.stdout)\(r.stderr.suffix(2000))")
            let log = try server.withCluster { c, _ in (c.closeLog, []) }.wait()
            #expect(log.contains { $0.contains("bad frame") }, "\(log)")
            #expect(log.contains { $0.contains("malformed") }, "\(log)")
        }
    }

    @Test func emulating0_10_2LibrdkafkaStillProducesAndConsumes() async throws {
        try await withServer({
            $0.release = KafkaRelease(0, 10, 2)
            $0.topics = [.init(name: "old", partitions: 3)]
            $0.recordEvents = true
        }) { server, bootstrap in
            let r = try await Peers.script("legacy.py", [bootstrap, "old", "500"])
            #expect(r.status == 0 && r.stdout.hasPrefix("OK 1000"), "\(r.stdout)\(r.stderr.suffix(2000))")
            // The client really spoke 0.10.2's versions: Produce v2 (magic 1 sets), Fetch v3.
            let used = try server.withCluster { c, _ in
                (Dictionary(c.events.map { ($0.apiKey.rawValue, $0.version) }, uniquingKeysWith: max), [])
            }.wait()
            #expect(used[ApiKey.produce.rawValue] == 2)
            #expect(used[ApiKey.fetch.rawValue] == 3)
            #expect(used[ApiKey.joinGroup.rawValue] == 1)
        }
    }

    @Test func emulating0_9KcatWithoutApiVersionsProducesAndConsumesMagic0() async throws {
        try await withServer({
            $0.release = KafkaRelease(0, 9)
            $0.topics = [.init(name: "nine", partitions: 1)]
            $0.recordEvents = true
        }) { server, bootstrap in
            let old = ["-X", "api.version.request=false", "-X", "broker.version.fallback=0.9.0"]
            var expected: [String] = []
            for codec in ["none", "gzip", "snappy"] {
                let lines = (1 ... 5).map { "\(codec)-\($0)" }
                expected += lines
                let r = try await Peers.run("/usr/bin/kcat", ["-b", bootstrap, "-P", "-t", "nine", "-z", codec] + old,
                                      stdin: lines.joined(separator: "\n") + "\n")
                #expect(r.status == 0, "\(r.stderr)")
            }
            let c = try await Peers.run("/usr/bin/kcat", ["-b", bootstrap, "-C", "-t", "nine", "-o", "beginning", "-e", "-q"] + old)
            #expect(c.stdout.split(separator: "\n").map(String.init) == expected, "\(c.stderr)")
            let used = try server.withCluster { c, _ in
                (Dictionary(c.events.map { ($0.apiKey.rawValue, $0.version) }, uniquingKeysWith: max), [])
            }.wait()
            #expect(used[ApiKey.apiVersions.rawValue] == nil)
            #expect(used[ApiKey.produce.rawValue] == 1 && used[ApiKey.fetch.rawValue] == 1)
        }
    }

    @Test func emulating0_10_2SaslV0HandshakeWithRawTokens() async throws {
        try await withServer({
            $0.release = KafkaRelease(0, 10, 2)
            $0.topics = [.init(name: "sasl0", partitions: 1)]
            $0.users = [.init(mechanism: .scramSha256, name: "bob", password: "pw"),
                        .init(mechanism: .plain, name: "carol", password: "pw2")]
        }) { server, bootstrap in
            func auth(_ m: String, _ u: String, _ p: String) -> [String] {
                ["-X", "security.protocol=sasl_plaintext", "-X", "sasl.mechanism=\(m)", "-X", "sasl.username=\(u)", "-X", "sasl.password=\(p)"]
            }
            let p1 = try await Peers.run("/usr/bin/kcat", ["-b", bootstrap, "-P", "-t", "sasl0"] + auth("SCRAM-SHA-256", "bob", "pw"), stdin: "scram\n")
            #expect(p1.status == 0, "\(p1.stderr)")
            let p2 = try await Peers.run("/usr/bin/kcat", ["-b", bootstrap, "-P", "-t", "sasl0"] + auth("PLAIN", "carol", "pw2"), stdin: "plain\n")
            #expect(p2.status == 0, "\(p2.stderr)")
            let c = try await Peers.run("/usr/bin/kcat", ["-b", bootstrap, "-C", "-t", "sasl0", "-o", "beginning", "-e", "-q"] + auth("PLAIN", "carol", "pw2"))
            #expect(c.stdout == "scram\nplain\n", "\(c.stderr)")
            let bad = try await Peers.run("/usr/bin/kcat", ["-b", bootstrap, "-L", "-m", "3"] + auth("SCRAM-SHA-256", "bob", "nope"), timeout: 15)
            #expect(bad.status != 0 && bad.stderr.contains("SASL authentication failure"), "\(bad.stderr)")
            let log = try server.withCluster { c, _ in (c.closeLog, []) }.wait()
            #expect(log.contains { $0.contains("raw tokens") })
        }
    }

    @Test func tlsListenersServeKcat() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("kgo-fake-tls-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let cert = dir.appendingPathComponent("cert.pem").path, key = dir.appendingPathComponent("key.pem").path
        let gen = try await Peers.run("/usr/bin/openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert,
                                                     "-days", "1", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"])
        try #require(gen.status == 0, "openssl: \(gen.stderr)")
        try await withServer(tls: FakeClusterTLSFiles(certificateChain: cert, privateKey: key),
                       { $0.topics = [.init(name: "secure", partitions: 1)] }) { _, bootstrap in
            let ssl = ["-X", "security.protocol=ssl", "-X", "ssl.ca.location=\(cert)"]
            let p = try await Peers.run("/usr/bin/kcat", ["-b", bootstrap, "-P", "-t", "secure"] + ssl, stdin: "a\nb\nc\n")
            #expect(p.status == 0, "\(p.stderr)")
            let c = try await Peers.run("/usr/bin/kcat", ["-b", bootstrap, "-C", "-t", "secure", "-o", "beginning", "-e", "-q"] + ssl)
            #expect(c.stdout == "a\nb\nc\n", "\(c.stderr)")
            // A plaintext client cannot talk to the TLS listener.
            let plain = try await Peers.run("/usr/bin/kcat", ["-b", bootstrap, "-L", "-m", "3"], timeout: 10)
            #expect(plain.status != 0)
        }
    }
}
