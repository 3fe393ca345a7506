import FakeCluster
import FakeClusterTCP
import Foundation
import Testing

/// Real clients (kcat and confluent-kafka over librdkafka 2.16) against a 3-broker
/// FakeCluster in TCP mode. Serialized: the machine has two cores.
@Suite(.serialized)
struct InteropTests {
    @Test func kcatProducesAndConsumesWithEveryCodec() throws {
        try withServer({ $0.topics = [.init(name: "codecs", partitions: 3)] }) { _, bootstrap in
            var expected: [String] = []
            for (i, codec) in ["none", "gzip", "snappy", "lz4", "zstd"].enumerated() {
                let lines = (1 ... 20).map { "\(codec)-\($0)" }
                expected += lines
                let r = try Peers.run("/usr/bin/kcat", ["-b", bootstrap, "-P", "-t", "codecs", "-p", "1", "-z", codec],
                                      stdin: lines.joined(separator: "\n") + "\n")
                #expect(r.status == 0, "kcat -P -z \(codec) (#\(i)): \(r.stderr)")
            }
            let r = try Peers.run("/usr/bin/kcat", ["-b", bootstrap, "-C", "-t", "codecs", "-p", "1", "-o", "beginning", "-e", "-q"])
            #expect(r.status == 0, "\(r.stderr)")
            #expect(r.stdout.split(separator: "\n").map(String.init) == expected)
        }
    }

    @Test func idempotentProducerWrites100kRecordsAndConsumerReadsThemInOrder() throws {
        try withServer({ $0.topics = [.init(name: "idem", partitions: 6)] }) { server, bootstrap in
            let leaders = try server.withCluster { c, _ in
                ((0 ..< 6).map { c.partitionInfo(.init("idem", $0))!.leader }, [])
            }.wait()
            #expect(Set(leaders) == [1, 2, 3], "the 6 partitions are led by all 3 brokers")
            let start = Date()
            let r = try Peers.script("idempotent.py", [bootstrap, "idem", "100000", "6"], timeout: 120)
            #expect(r.status == 0 && r.stdout.hasPrefix("OK 100000"), "\(r.stdout)\(r.stderr.suffix(2000))")
            print("idempotent 100k: \(r.stdout.trimmingCharacters(in: .whitespacesAndNewlines)), \(Date().timeIntervalSince(start)) s")
            let hw = try server.withCluster { c, _ in ((0 ..< 6).map { c.offsets(.init("idem", $0))!.highWatermark }, []) }.wait()
            // Record i went to partition i % 6: partitions 0-3 got 16,667, partitions 4-5 got 16,666.
            let expectedHW: [Int64] = [16_667, 16_667, 16_667, 16_667, 16_666, 16_666]
            #expect(hw == expectedHW)
        }
    }

    @Test(arguments: ["range", "cooperative-sticky"])
    func twoConsumersSplitPartitionsAndRebalanceWhenOneLeaves(strategy: String) throws {
        try withServer({ $0.topics = [.init(name: "grp", partitions: 6)] }) { _, bootstrap in
            let r = try Peers.script("group.py", [bootstrap, "grp", "6", strategy])
            #expect(r.status == 0 && r.stdout.hasPrefix("OK"), "\(r.stdout)\(r.stderr.suffix(2000))")
        }
    }

    @Test func transactionsCommitAndAbortAndReadCommittedSeesOnlyCommitted() throws {
        try withServer({ $0.topics = [.init(name: "txn", partitions: 2)] }) { _, bootstrap in
            let r = try Peers.script("txn.py", [bootstrap, "txn"])
            #expect(r.status == 0 && r.stdout.hasPrefix("OK committed=20 all=30"), "\(r.stdout)\(r.stderr.suffix(2000))")
        }
    }

    @Test func scramSha512LoginWorksAndWrongPasswordFails() throws {
        try withServer({ $0.users = [.init(mechanism: .scramSha512, name: "alice", password: "s3cret")] }) { _, bootstrap in
            let r = try Peers.script("sasl.py", [bootstrap, "SCRAM-SHA-512", "alice", "s3cret"])
            #expect(r.status == 0 && r.stdout.hasPrefix("OK brokers=3"), "\(r.stdout)\(r.stderr.suffix(2000))")
        }
    }

    @Test func badFramesCloseOnlyTheirConnection() throws {
        try withServer({ $0.maxFrameSize = 1024 * 1024 }) { server, _ in
            let r = try Peers.script("badframes.py", [server.brokers[0].host, String(server.brokers[0].port)])
            #expect(r.status == 0 && r.stdout.hasPrefix("OK"), "\(r.stdout)\(r.stderr.suffix(2000))")
            let log = try server.withCluster { c, _ in (c.closeLog, []) }.wait()
            #expect(log.contains { $0.contains("bad frame") }, "\(log)")
            #expect(log.contains { $0.contains("malformed") }, "\(log)")
        }
    }

    @Test func emulating0_10_2LibrdkafkaStillProducesAndConsumes() throws {
        try withServer({
            $0.release = KafkaRelease(0, 10, 2)
            $0.topics = [.init(name: "old", partitions: 3)]
            $0.recordEvents = true
        }) { server, bootstrap in
            let r = try Peers.script("legacy.py", [bootstrap, "old", "500"])
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
}
