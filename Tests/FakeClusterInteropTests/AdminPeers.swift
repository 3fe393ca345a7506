import FakeCluster
import FakeClusterTCP
import Foundation
import KafkaIO
import KafkaProtocol
import Testing

/// What AdminInteropTests asks an admin client to read back, and the same view built from
/// our KafkaAdmin, in the shape Scripts/admin.py prints for confluent-kafka and
/// kafka-python: JSON values compared as canonical (sorted-key) JSON text.
struct AdminReadSpec {
    /// Topics to describe (an absent one reads as its error's name) and to look for in the topic list.
    var topics: [String] = []
    /// Per topic, the config keys to report as [value, source] (null: not listed).
    var configs: [String: [String]] = [:]
    /// Per broker id, the config keys to report as [value, source].
    var brokerConfigs: [Int32: [String]] = [:]
    /// Groups whose committed offsets and state to fetch, and to look for in the group list.
    var groups: [String] = []
    /// Whether to list every ACL.
    var acls = false
    /// Users whose SCRAM credentials to report (a user without any is left out).
    var users: [String]?
    /// SCRAM logins to try, each reported "ok" or its error under "user MECHANISM".
    var logins: [(user: String, mechanism: ScramMechanism, password: String)] = []

    var json: [String: Any] {
        var j: [String: Any] = [:]
        if !topics.isEmpty { j["topics"] = topics }
        if !configs.isEmpty { j["configs"] = configs }
        if !brokerConfigs.isEmpty { j["brokerConfigs"] = Dictionary(uniqueKeysWithValues: brokerConfigs.map { (String($0.key), $0.value) }) }
        if !groups.isEmpty { j["groups"] = groups }
        if acls { j["acls"] = true }
        if let users { j["users"] = users }
        if !logins.isEmpty { j["logins"] = logins.map { ["user": $0.user, "mechanism": "\($0.mechanism)", "password": $0.password] } }
        return j
    }
}

enum AdminPeers {
    static let clients = ["rdkafka", "kafka-python"]

    /// A committed offset as the views show it: [offset, leader epoch or null, metadata].
    static func committed(_ offset: Int, _ leaderEpoch: Int? = nil, _ metadata: String = "") -> [Any] {
        [offset, leaderEpoch.map { $0 as Any } ?? NSNull(), metadata]
    }

    /// Sorted-key JSON text of a JSON value, to compare views and print them when they differ.
    static func canonical(_ value: Any?) -> String {
        guard let value else { return "(missing)" }
        guard let d = try? JSONSerialization.data(withJSONObject: value, options: [.sortedKeys, .fragmentsAllowed]) else { return "\(value)" }
        return String(decoding: d, as: UTF8.self)
    }

    /// Runs Scripts/admin.py in `mode` with `spec` on stdin; its JSON answer by client.
    static func run(_ mode: String, _ bootstrap: String, _ spec: [String: Any]) async throws -> [String: [String: Any]] {
        let input = String(decoding: try JSONSerialization.data(withJSONObject: spec, options: [.sortedKeys]), as: UTF8.self)
        let r = try await Peers.run(Peers.python, [Peers.scripts.appendingPathComponent("admin.py").path, mode, bootstrap],
                                    stdin: input, timeout: 90)
        try #require(r.status == 0, "admin.py \(mode) exited \(r.status): \(r.stderr.suffix(3000))")
        let obj = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: [String: Any]]
        return try #require(obj, "admin.py \(mode): \(r.stdout)\n\(r.stderr.suffix(2000))")
    }

    /// The same view as admin.py's `read`, from our admin.
    static func ourView(_ admin: KafkaAdmin, _ spec: AdminReadSpec) async throws -> [String: Any] {
        func errorName(_ e: KafkaAdminError) -> String {
            if case .broker(let code, _) = e { return code.name }
            return "\(e)"
        }
        var v: [String: Any] = [:]
        if !spec.topics.isEmpty {
            var topics: [String: Any] = [:]
            for r in try await admin.describeTopics(spec.topics) {
                switch r.result {
                case .success(let d): topics[r.name] = d.partitions.map { $0.replicas.map(Int.init) }
                case .failure(let e): topics[r.name] = errorName(e)
                }
            }
            v["topics"] = topics
            v["listed"] = try await admin.listTopics().map(\.name).filter { spec.topics.contains($0) }.sorted()
        }
        /// {resource name: {key: [value, source]}} for `keys` of each resource.
        func configs(_ resources: [(ConfigResource, name: String, keys: [String])]) async throws -> [String: Any] {
            var out: [String: Any] = [:]
            for (res, r) in zip(resources, try await admin.describeConfigs(resources.map(\.0))) {
                switch r.result {
                case .success(let entries):
                    var kv: [String: Any] = [:]
                    for key in res.keys {
                        kv[key] = entries.first { $0.name == key }.map { [$0.value ?? NSNull(), $0.source.description] as [Any] } ?? NSNull()
                    }
                    out[res.name] = kv
                case .failure(let e): out[res.name] = errorName(e)
                }
            }
            return out
        }
        if !spec.configs.isEmpty {
            v["configs"] = try await configs(spec.configs.keys.sorted().map { (.topic($0), $0, spec.configs[$0]!) })
        }
        if !spec.brokerConfigs.isEmpty {
            v["brokerConfigs"] = try await configs(spec.brokerConfigs.keys.sorted().map { (.broker($0), String($0), spec.brokerConfigs[$0]!) })
        }
        if !spec.groups.isEmpty {
            var offsets: [String: Any] = [:]
            for r in try await admin.fetchOffsets(groups: spec.groups) {
                switch r.result {
                case .success(let committed):
                    offsets[r.name] = Dictionary(uniqueKeysWithValues: committed.map {
                        ($0.topicPartition.description, Self.committed(Int($0.offset), $0.leaderEpoch.map(Int.init), $0.metadata ?? ""))
                    })
                case .failure(let e): offsets[r.name] = errorName(e)
                }
            }
            v["offsets"] = offsets
            v["groups"] = try await admin.listGroups().groups.map(\.groupId).filter { spec.groups.contains($0) }.sorted()
            var states: [String: Any] = [:]
            for r in try await admin.describeGroups(spec.groups) {
                switch r.result {
                case .success(let d): states[r.name] = d.state.uppercased()
                case .failure(let e): states[r.name] = errorName(e)
                }
            }
            v["states"] = states
        }
        if spec.acls {
            v["acls"] = try await admin.describeACLs().map(\.description).sorted()
        }
        if let users = spec.users {
            var scram: [String: Any] = [:]
            for r in try await admin.describeUserScramCredentials() where users.contains(r.name) {
                scram[r.name] = try r.result.get().map { "\($0.mechanism)/\($0.iterations)" }.sorted()
            }
            v["scram"] = scram
        }
        if !spec.logins.isEmpty {
            var logins: [String: Any] = [:]
            for l in spec.logins {
                var c = admin.client.configuration
                c.sasl = .scram(l.mechanism == .sha256 ? .sha256 : .sha512, username: l.user, password: l.password)
                let client = try KafkaClient(configuration: c)
                do {
                    _ = try await KafkaAdmin(client: client).listTopics()
                    logins["\(l.user) \(l.mechanism)"] = "ok"
                } catch {
                    logins["\(l.user) \(l.mechanism)"] = "\(error)"
                }
                await client.close()
            }
            v["logins"] = logins
        }
        return v
    }

    /// Each section of `view` equals `expected`'s (every section `expected` names), with
    /// `who` and the section in the failure.
    static func expectView(_ who: String, _ view: [String: Any]?, _ expected: [String: Any],
                           sourceLocation: SourceLocation = #_sourceLocation) {
        for key in expected.keys.sorted() {
            let got = canonical(view?[key]), want = canonical(expected[key])
            #expect(got == want, "\(who) \(key):\n  got  \(got)\n  want \(want)", sourceLocation: sourceLocation)
        }
    }

    /// Every step of an admin.py `write` answered "ok", for each client.
    static func expectWritesOK(_ out: [String: [String: Any]], steps: [String: [String: Any]],
                               sourceLocation: SourceLocation = #_sourceLocation) {
        for client in clients {
            for step in (steps[client] ?? [:]).keys.sorted() {
                let got = canonical(out[client]?[step])
                #expect(got == "\"ok\"", "\(client) \(step): \(got)", sourceLocation: sourceLocation)
            }
        }
    }

    /// An ACL as admin.py takes it (wire names).
    static func acl(_ b: AclBinding) -> [String: Any] {
        ["resourceType": "\(b.resourceType)", "name": b.resourceName, "pattern": "\(b.patternType)", "principal": b.principal,
         "host": b.host, "operation": "\(b.operation)", "permission": "\(b.permission)"]
    }
}
