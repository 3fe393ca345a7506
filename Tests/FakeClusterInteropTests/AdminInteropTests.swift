import FakeCluster
import FakeClusterTCP
import Foundation
import KafkaIO
import KafkaProtocol
import Testing

/// Our KafkaAdmin and two admin clients we did not write, confluent-kafka's AdminClient
/// (librdkafka 2.16) and kafka-python 3.0.12's KafkaAdminClient (Scripts/admin.py, one
/// process per direction with both clients in it), see the same cluster state. Each side's
/// reads are put in one JSON shape (AdminPeers) and compared section by section:
/// - against a 3-broker FakeClusterTCP: what our admin creates, alters and deletes — topics
///   with partitions, replicas and configs, partitions added, a topic deleted; incremental
///   config changes (set and delete) and broker configs answered by their own broker; group
///   offsets set with alterOffsets, one deleted with deleteOffsets, a group deleted, group
///   states; ACLs created and deleted by filter; SCRAM credentials upserted and deleted,
///   and logged in with by every client — each peer reads back the same way; and what each
///   peer does the same way our admin reads back, commits with a leader epoch and metadata
///   included (OffsetDelete by kafka-python only:
///   confluent-kafka 2.16 has no call for it; and confluent-kafka's legacy AlterConfigs,
///   which resets every dynamic config it does not name);
/// - against Tansu (KGO_TEST_BROKER; FAILS when unset), the calls it serves: topics, the
///   configs it describes (values only: Tansu 0.6.0 calls every config DEFAULT_CONFIG and
///   describes only the keys set), group offsets, deleting groups, group states. Tansu has
///   no ACLs, SCRAM users (none can be created), CreatePartitions or OffsetDelete, and it
///   ignores replica assignments.
/// Client quotas are not compared: neither peer has a quota call (confluent-kafka 2.16 and
/// kafka-python 3.0.12 expose no DescribeClientQuotas/AlterClientQuotas); AdminQuotaTests
/// covers ours against FakeCluster.
@Suite(.serialized)
struct AdminInteropTests {
    static func admin(_ bootstrap: String) throws -> KafkaAdmin {
        var c = KafkaClientConfiguration(seedBrokers: [try BrokerAddress(parsing: bootstrap)])
        c.retryTimeout = .seconds(5)
        c.closeTimeout = .seconds(2)
        c.randomSeed = 18
        return KafkaAdmin(client: try KafkaClient(configuration: c))
    }

    /// A committed offset as the views show it.
    static func c(_ offset: Int, _ leaderEpoch: Int? = nil, _ metadata: String = "") -> [Any] {
        AdminPeers.committed(offset, leaderEpoch, metadata)
    }

    static func requireOK<V>(_ results: [AdminResult<V>], sourceLocation: SourceLocation = #_sourceLocation) throws {
        let failed = results.filter { $0.error != nil }.map { "\($0.name): \($0.error!)" }
        try #require(failed.isEmpty, "\(failed)", sourceLocation: sourceLocation)
    }

    // MARK: FakeCluster

    @Test func whatOurAdminDoesBothPeersSeeOnFakeCluster() async throws {
        try await withServer { server, bootstrap in
            let admin = try Self.admin("\(server.brokers[0].host):\(server.brokers[0].port)")
            defer { Task { [client = admin.client] in await client.close() } }

            try Self.requireOK(try await admin.createTopics([
                NewTopic("ours-a", partitions: 3, replicationFactor: 2, configs: ["retention.ms": "1000", "cleanup.policy": "compact"]),
                NewTopic("ours-b", replicaAssignment: [[1, 2], [2, 3]]),
                NewTopic("ours-gone", partitions: 1, replicationFactor: 1),
            ]))
            try Self.requireOK(try await admin.alterConfigs([
                ConfigChange(.topic("ours-a"), [.set("retention.ms", "2000"), .delete("cleanup.policy"), .set("max.message.bytes", "12345")]),
            ]))
            try Self.requireOK(try await admin.createPartitions([PartitionIncrease("ours-a", totalCount: 4)]))
            try Self.requireOK(try await admin.deleteTopics(["ours-gone"]))
            try Self.requireOK(try await admin.alterOffsets(group: "ours-g1", [TopicPartition("ours-a", 0): 5, TopicPartition("ours-a", 2): 7,
                                                                               TopicPartition("ours-a", 3): 9, TopicPartition("ours-b", 1): 3]))
            try Self.requireOK(try await admin.deleteOffsets(group: "ours-g1", [TopicPartition("ours-a", 2)]))
            try Self.requireOK(try await admin.alterOffsets(group: "ours-g2", [TopicPartition("ours-a", 1): 1]))
            try Self.requireOK(try await admin.deleteGroups(["ours-g2"]))
            let kept = [
                AclBinding(.topic, "ours-a", principal: "User:alice", operation: .read),
                AclBinding(.topic, "ours-", patternType: .prefixed, principal: "User:bob", operation: .write),
                AclBinding(.group, "ours-g1", principal: "User:bob", host: "10.0.0.1", operation: .read, permission: .deny),
                AclBinding(.cluster, "kafka-cluster", principal: "User:alice", operation: .alter),
                AclBinding(.transactionalId, "tx-1", principal: "User:carol", operation: .write),
                AclBinding(.topic, "*", principal: "User:*", operation: .describeConfigs),
            ]
            try Self.requireOK(try await admin.createACLs(kept + [AclBinding(.topic, "ours-b", principal: "User:zed", operation: .describe)]))
            try Self.requireOK(try await admin.deleteACLs([AclFilter(principal: "User:zed")]))
            try Self.requireOK(try await admin.upsertScramUsers([
                ScramUpsertion(user: "alice", mechanism: .sha256, password: "a1"),
                ScramUpsertion(user: "alice", mechanism: .sha512, password: "a2", iterations: 8192),
                ScramUpsertion(user: "bob", mechanism: .sha256, password: "b1", iterations: 5000),
                ScramUpsertion(user: "zed", mechanism: .sha512, password: "z1"),
            ]))
            try Self.requireOK([try await admin.deleteScramUser("zed", .sha512)])

            let spec = AdminReadSpec(topics: ["ours-a", "ours-b", "ours-gone"],
                                     configs: ["ours-a": ["retention.ms", "cleanup.policy", "max.message.bytes"]],
                                     brokerConfigs: [2: ["broker.id", "compression.type"], 3: ["broker.id"]],
                                     groups: ["ours-g1", "ours-g2"], acls: true, users: ["alice", "bob", "zed"],
                                     logins: [("alice", .sha256, "a1"), ("alice", .sha512, "a2"), ("bob", .sha256, "b1")])
            let ours = try await AdminPeers.ourView(admin, spec)
            // ours-a's replicas are the cluster's choice: 3 + 1 partitions of 2 distinct brokers.
            let replicasA = try #require((ours["topics"] as? [String: Any])?["ours-a"] as? [[Int]], "\(ours)")
            #expect(replicasA.count == 4 && replicasA.allSatisfy { Set($0).count == 2 && Set($0).isSubset(of: [1, 2, 3]) }, "\(replicasA)")
            let expected: [String: Any] = [
                "topics": ["ours-a": replicasA, "ours-b": [[1, 2], [2, 3]], "ours-gone": "UNKNOWN_TOPIC_OR_PARTITION"],
                "listed": ["ours-a", "ours-b"],
                "configs": ["ours-a": ["retention.ms": ["2000", "DYNAMIC_TOPIC_CONFIG"], "cleanup.policy": ["delete", "DEFAULT_CONFIG"],
                                       "max.message.bytes": ["12345", "DYNAMIC_TOPIC_CONFIG"]]],
                "offsets": ["ours-g1": ["ours-a[0]": Self.c(5), "ours-a[3]": Self.c(9), "ours-b[1]": Self.c(3)], "ours-g2": [String: Any]()],
                "brokerConfigs": ["2": ["broker.id": ["2", "STATIC_BROKER_CONFIG"], "compression.type": ["producer", "DEFAULT_CONFIG"]],
                                  "3": ["broker.id": ["3", "STATIC_BROKER_CONFIG"]]],
                "groups": ["ours-g1"],
                // A group with offsets and no members is Empty; a deleted one Dead.
                "states": ["ours-g1": "EMPTY", "ours-g2": "DEAD"],
                "acls": kept.map(\.description).sorted(),
                "scram": ["alice": ["SCRAM-SHA-256/4096", "SCRAM-SHA-512/8192"], "bob": ["SCRAM-SHA-256/5000"]],
                // The credentials we salted on the client (KIP-554) are ones each client logs in with.
                "logins": ["alice SCRAM-SHA-256": "ok", "alice SCRAM-SHA-512": "ok", "bob SCRAM-SHA-256": "ok"],
            ]
            AdminPeers.expectView("ours", ours, expected)
            let peers = try await AdminPeers.run("read", bootstrap, spec.json)
            for client in AdminPeers.clients { AdminPeers.expectView(client, peers[client], expected) }
        }
    }

    /// What each peer writes, in admin.py's form, named with `prefix`: two topics (one by
    /// count and factor with configs, one by replica assignment) and one deleted; configs
    /// set and deleted incrementally; two groups' offsets, one group deleted. With `full`
    /// (FakeCluster; Tansu serves none of these): p-a grown from 4 to 5 partitions, ACLs
    /// created and one deleted by a principal filter, SCRAM credentials upserted and one
    /// deleted, and (`deletesOffsets`: kafka-python) one committed offset deleted.
    static func peerWrites(_ p: String, full: Bool, deletesOffsets: Bool = false, committedWith: (epoch: Int, metadata: String)? = nil,
                           brokers: [Int]) -> [String: Any] {
        var steps: [String: Any] = [
            "createTopics": [
                ["name": "\(p)-a", "partitions": 4, "replicationFactor": brokers.count,
                 "configs": ["retention.ms": "1000", "cleanup.policy": "compact"]],
                // Tansu ignores a replica assignment (it makes its default partition count): there
                // p-b is made by count.
                brokers.count > 1 ? ["name": "\(p)-b", "assignment": [[brokers[2]], [brokers[0]]]] as [String: Any]
                                  : ["name": "\(p)-b", "partitions": 2, "replicationFactor": 1] as [String: Any],
                ["name": "\(p)-gone", "partitions": 1, "replicationFactor": 1],
            ],
            "alterConfigs": ["\(p)-a": ["set": ["retention.ms": "2000", "max.message.bytes": "23456"], "delete": ["cleanup.policy"]]],
            // p-a[1] with `committedWith`'s leader epoch and metadata, when given.
            "offsets": ["\(p)-g": ["\(p)-a[1]": committedWith.map { [11, $0.epoch, $0.metadata] as Any } ?? (11 as Any), "\(p)-a[3]": 12, "\(p)-b[0]": 13],
                        "\(p)-g2": ["\(p)-a[0]": 1]],
            "deleteGroups": ["\(p)-g2"],
            "deleteTopics": ["\(p)-gone"],
        ]
        if full {
            steps["createPartitions"] = ["\(p)-a": 5]
            steps["createAcls"] = peerAcls(p).map(AdminPeers.acl) + [AdminPeers.acl(AclBinding(.group, "\(p)-g", principal: "User:\(p)-zed",
                                                                                               operation: .describe))]
            steps["deleteAcls"] = [["resourceType": "ANY", "name": NSNull(), "pattern": "ANY", "principal": "User:\(p)-zed",
                                    "host": NSNull(), "operation": "ANY", "permission": "ANY"] as [String: Any]]
            steps["scramUpsert"] = [["user": "\(p)-user", "mechanism": "SCRAM-SHA-256", "password": "pw", "iterations": 4096],
                                    ["user": "\(p)-user", "mechanism": "SCRAM-SHA-512", "password": "pw2", "iterations": 8192],
                                    ["user": "\(p)-zed", "mechanism": "SCRAM-SHA-256", "password": "pw3", "iterations": 4096]]
            steps["scramDelete"] = [["user": "\(p)-zed", "mechanism": "SCRAM-SHA-256"]]
        }
        if deletesOffsets { steps["deleteOffsets"] = ["\(p)-g": ["\(p)-b[0]"]] }
        return steps
    }

    static func peerAcls(_ p: String) -> [AclBinding] {
        [AclBinding(.topic, "\(p)-a", principal: "User:\(p)-reader", operation: .read),
         AclBinding(.topic, "\(p)-", patternType: .prefixed, principal: "User:\(p)-writer", operation: .write),
         AclBinding(.group, "\(p)-g", principal: "User:\(p)-reader", host: "10.0.0.2", operation: .read, permission: .deny)]
    }

    /// The topics, offsets and groups our admin should read after `peerWrites(p)`;
    /// `replicasA`: the cluster's choice for p-a, checked for shape by the caller.
    static func expectedAfterPeerWrites(_ p: String, replicasA: [[Int]], b: [[Int]], deletedOffset: Bool = false,
                                        committedWith: (epoch: Int, metadata: String)? = nil) -> [String: Any] {
        var g: [String: Any] = ["\(p)-a[1]": c(11, committedWith?.epoch, committedWith?.metadata ?? ""), "\(p)-a[3]": c(12)]
        if !deletedOffset { g["\(p)-b[0]"] = c(13) }
        return [
            "topics": ["\(p)-a": replicasA, "\(p)-b": b, "\(p)-gone": "UNKNOWN_TOPIC_OR_PARTITION"],
            "listed": ["\(p)-a", "\(p)-b"],
            "offsets": ["\(p)-g": g, "\(p)-g2": [String: Any]()],
            "groups": ["\(p)-g"],
        ]
    }

    @Test func whatBothPeersDoOurAdminSeesOnFakeCluster() async throws {
        try await withServer { server, bootstrap in
            let admin = try Self.admin("\(server.brokers[0].host):\(server.brokers[0].port)")
            defer { Task { [client = admin.client] in await client.close() } }
            // A leader epoch from both, a metadata string from kafka-python only (librdkafka 2.16
            // sends its metadata with a trailing NUL, which every reader would then see).
            let committedWith = ["rd": (epoch: 0, metadata: ""), "kp": (epoch: 0, metadata: "kp-meta")]
            var rd = Self.peerWrites("rd", full: true, committedWith: committedWith["rd"], brokers: [1, 2, 3])
            // The legacy AlterConfigs (rdkafka's form): every dynamic config it does not name
            // goes back to its default.
            rd["createTopics"] = (rd["createTopics"] as! [[String: Any]]) + [["name": "rd-c", "partitions": 1, "replicationFactor": 1,
                                                                                "configs": ["retention.ms": "1000", "segment.bytes": "2000000"]]]
            rd["replaceConfigs"] = ["rd-c": ["max.message.bytes": "5555"]]
            let steps = [
                "rdkafka": rd,
                "kafka-python": Self.peerWrites("kp", full: true, deletesOffsets: true, committedWith: committedWith["kp"], brokers: [1, 2, 3]),
            ]
            AdminPeers.expectWritesOK(try await AdminPeers.run("write", bootstrap, steps), steps: steps)

            let spec = AdminReadSpec(topics: ["rd-a", "rd-b", "rd-gone", "kp-a", "kp-b", "kp-gone"],
                                     configs: ["rd-a": ["retention.ms", "cleanup.policy", "max.message.bytes"],
                                               "kp-a": ["retention.ms", "cleanup.policy", "max.message.bytes"],
                                               "rd-c": ["retention.ms", "segment.bytes", "max.message.bytes"]],
                                     groups: ["rd-g", "rd-g2", "kp-g", "kp-g2"], acls: true, users: ["rd-user", "rd-zed", "kp-user", "kp-zed"],
                                     logins: ["rd", "kp"].flatMap { [("\($0)-user", .sha256, "pw"), ("\($0)-user", .sha512, "pw2")] })
            let ours = try await AdminPeers.ourView(admin, spec)
            let topics = try #require(ours["topics"] as? [String: Any], "\(ours)")
            var expected: [String: Any] = [:]
            var expectedTopics: [String: Any] = [:], expectedOffsets: [String: Any] = [:], expectedConfigs: [String: Any] = [:]
            for p in ["rd", "kp"] {
                let replicasA = try #require(topics["\(p)-a"] as? [[Int]], "\(p)-a: \(topics)")
                #expect(replicasA.count == 5 && replicasA.allSatisfy { $0.sorted() == [1, 2, 3] }, "\(p)-a: \(replicasA)")
                let e = Self.expectedAfterPeerWrites(p, replicasA: replicasA, b: [[3], [1]], deletedOffset: p == "kp", committedWith: committedWith[p])
                expectedTopics.merge(e["topics"] as! [String: Any]) { a, _ in a }
                expectedOffsets.merge(e["offsets"] as! [String: Any]) { a, _ in a }
                expectedConfigs["\(p)-a"] = ["retention.ms": ["2000", "DYNAMIC_TOPIC_CONFIG"], "cleanup.policy": ["delete", "DEFAULT_CONFIG"],
                                             "max.message.bytes": ["23456", "DYNAMIC_TOPIC_CONFIG"]]
            }
            expectedConfigs["rd-c"] = ["retention.ms": ["604800000", "DEFAULT_CONFIG"], "segment.bytes": ["1073741824", "DEFAULT_CONFIG"],
                                       "max.message.bytes": ["5555", "DYNAMIC_TOPIC_CONFIG"]]
            expected["topics"] = expectedTopics
            expected["listed"] = ["kp-a", "kp-b", "rd-a", "rd-b"]
            expected["configs"] = expectedConfigs
            expected["offsets"] = expectedOffsets
            expected["groups"] = ["kp-g", "rd-g"]
            expected["states"] = ["kp-g": "EMPTY", "kp-g2": "DEAD", "rd-g": "EMPTY", "rd-g2": "DEAD"]
            expected["acls"] = (Self.peerAcls("rd") + Self.peerAcls("kp")).map(\.description).sorted()
            expected["scram"] = ["rd-user": ["SCRAM-SHA-256/4096", "SCRAM-SHA-512/8192"], "kp-user": ["SCRAM-SHA-256/4096", "SCRAM-SHA-512/8192"]]
            // The peers' salted credentials are ones our client logs in with.
            expected["logins"] = ["rd-user SCRAM-SHA-256": "ok", "rd-user SCRAM-SHA-512": "ok", "kp-user SCRAM-SHA-256": "ok", "kp-user SCRAM-SHA-512": "ok"]
            AdminPeers.expectView("ours", ours, expected)
        }
    }

    // MARK: Tansu

    static func tansu() throws -> String {
        guard let b = ProcessInfo.processInfo.environment["KGO_TEST_BROKER"], !b.isEmpty else {
            Issue.record("KGO_TEST_BROKER is not set: run Tools/test.sh, which starts the brokers")
            throw MissingBroker()
        }
        try Peers.check()
        return b
    }

    /// A view as Tansu 0.6.0 lets it be compared: config values without sources (it calls
    /// every config DEFAULT_CONFIG), and without the states of `deletedGroups` (DescribeGroups
    /// still calls a deleted group Empty, though ListGroups and OffsetFetch no longer show it).
    static func tansuView(_ view: [String: Any]?, deletedGroups: [String] = []) -> [String: Any]? {
        guard var v = view else { return view }
        if let configs = v["configs"] as? [String: Any] {
            v["configs"] = configs.mapValues { entries -> Any in
                guard let kv = entries as? [String: Any] else { return entries }
                return kv.mapValues { ($0 as? [Any])?.first ?? $0 }
            }
        }
        if var states = v["states"] as? [String: Any] {
            for g in deletedGroups { states[g] = nil }
            v["states"] = states
        }
        return v
    }

    @Test func whatOurAdminDoesBothPeersSeeOnTansu() async throws {
        let broker = try Self.tansu()
        // Tansu outlives the test (one broker for the whole run): fresh names each time.
        let p = "ours-\(UInt32.random(in: 0 ... .max))"
        let admin = try Self.admin(broker)
        defer { Task { [client = admin.client] in await client.close() } }
        try Self.requireOK(try await admin.createTopics([
            NewTopic("\(p)-a", partitions: 3, replicationFactor: 1, configs: ["retention.ms": "1000", "cleanup.policy": "compact"]),
            NewTopic("\(p)-gone", partitions: 1, replicationFactor: 1),
        ]))
        try Self.requireOK(try await admin.alterConfigs([
            ConfigChange(.topic("\(p)-a"), [.set("retention.ms", "2000"), .delete("cleanup.policy"), .set("max.message.bytes", "12345")]),
        ]))
        try Self.requireOK(try await admin.deleteTopics(["\(p)-gone"]))
        try Self.requireOK(try await admin.alterOffsets(group: "\(p)-g1", [TopicPartition("\(p)-a", 0): 5, TopicPartition("\(p)-a", 2): 7]))
        try Self.requireOK(try await admin.alterOffsets(group: "\(p)-g2", [TopicPartition("\(p)-a", 1): 1]))
        try Self.requireOK(try await admin.deleteGroups(["\(p)-g2"]))

        let spec = AdminReadSpec(topics: ["\(p)-a", "\(p)-gone"], configs: ["\(p)-a": ["retention.ms", "cleanup.policy", "max.message.bytes"]],
                                 groups: ["\(p)-g1", "\(p)-g2"])
        let ours = try await AdminPeers.ourView(admin, spec)
        let node = try #require(((ours["topics"] as? [String: Any])?["\(p)-a"] as? [[Int]])?.first?.first, "\(ours)")
        // Tansu describes only the keys set: the deleted one is not listed.
        let expected: [String: Any] = [
            "topics": ["\(p)-a": [[node], [node], [node]], "\(p)-gone": "UNKNOWN_TOPIC_OR_PARTITION"],
            "listed": ["\(p)-a"],
            "configs": ["\(p)-a": ["retention.ms": "2000", "cleanup.policy": NSNull(), "max.message.bytes": "12345"]],
            "offsets": ["\(p)-g1": ["\(p)-a[0]": Self.c(5), "\(p)-a[2]": Self.c(7)], "\(p)-g2": [String: Any]()],
            "groups": ["\(p)-g1"],
            "states": ["\(p)-g1": "EMPTY"],
        ]
        AdminPeers.expectView("ours", Self.tansuView(ours, deletedGroups: ["\(p)-g2"]), expected)
        let peers = try await AdminPeers.run("read", broker, spec.json)
        AdminPeers.expectView("rdkafka", Self.tansuView(peers["rdkafka"], deletedGroups: ["\(p)-g2"]), expected)
        // kafka-python cannot describe Tansu's groups (it refuses the authorized-operations
        // bit 15 Tansu answers): its states are left out.
        var withoutStates = expected
        withoutStates["states"] = nil
        AdminPeers.expectView("kafka-python", Self.tansuView(peers["kafka-python"]), withoutStates)
    }

    @Test func whatBothPeersDoOurAdminSeesOnTansu() async throws {
        let broker = try Self.tansu()
        let run = UInt32.random(in: 0 ... .max)
        let prefixes = ["rdkafka": "rd-\(run)", "kafka-python": "kp-\(run)"]
        let admin = try Self.admin(broker)
        defer { Task { [client = admin.client] in await client.close() } }
        let node = Int(try await admin.describeCluster().brokers[0].id)
        // Plain offsets: Tansu keeps neither a commit's leader epoch nor its metadata.
        let steps = prefixes.mapValues { Self.peerWrites($0, full: false, brokers: [node]) }
        AdminPeers.expectWritesOK(try await AdminPeers.run("write", broker, steps), steps: steps)

        let ps = prefixes.values.sorted()
        let spec = AdminReadSpec(topics: ps.flatMap { ["\($0)-a", "\($0)-b", "\($0)-gone"] },
                                 configs: Dictionary(uniqueKeysWithValues: ps.map { ("\($0)-a", ["retention.ms", "cleanup.policy", "max.message.bytes"]) }),
                                 groups: ps.flatMap { ["\($0)-g", "\($0)-g2"] })
        let ours = Self.tansuView(try await AdminPeers.ourView(admin, spec), deletedGroups: ps.map { "\($0)-g2" })
        var expected: [String: Any] = ["listed": ps.flatMap { ["\($0)-a", "\($0)-b"] }.sorted(), "groups": ps.map { "\($0)-g" },
                                       "states": Dictionary(uniqueKeysWithValues: ps.map { ("\($0)-g", "EMPTY") })]
        var topics: [String: Any] = [:], offsets: [String: Any] = [:], configs: [String: Any] = [:]
        for p in ps {
            let e = Self.expectedAfterPeerWrites(p, replicasA: Array(repeating: [node], count: 4), b: [[node], [node]])
            topics.merge(e["topics"] as! [String: Any]) { a, _ in a }
            offsets.merge(e["offsets"] as! [String: Any]) { a, _ in a }
            configs["\(p)-a"] = ["retention.ms": "2000", "cleanup.policy": NSNull(), "max.message.bytes": "23456"]
        }
        expected["topics"] = topics
        expected["offsets"] = offsets
        expected["configs"] = configs
        AdminPeers.expectView("ours", ours, expected)
    }
}
