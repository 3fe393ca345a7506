import FakeCluster
import FakeClusterTCP
import Foundation
import KafkaIO
import KafkaProtocol
import Testing

/// kcat's ways into `kgo` (modes, -X, config files, s@/e@ offsets, -E, produce's -k -c -p -1,
/// files and -l, auto topic creation, metadata -J), each case the built binary against a fresh
/// FakeClusterTCP (auto.create.topics.enable on) filled as KgoExitStatusTests fills it:
/// t/0 offsets 0-3 at timestamps 1000-1003, u/1 one record "v5".
@Suite struct KgoKcatTests {
    struct Case: CustomTestStringConvertible, Sendable {
        var name: String
        /// "$B" becomes the bootstrap list and "$D" a fresh directory, anywhere in an argument,
        /// an environment value or a file.
        var arguments: [String]
        var status: Int32
        var contains: [String] = []
        var excludes: [String] = []
        /// The whole output (stdout and stderr together), when it is known exactly.
        var output: String? = nil
        var stdin: String? = nil
        var environment: [String: String] = [:]
        /// Files written under $D first: name and bytes.
        var files: [String: [UInt8]] = [:]
        /// A `kgo` run (arguments, standard input) that must succeed first.
        var before: ([String], String)? = nil
        /// Arm a fetch error on this partition before running.
        var fetchError: TopicPartition? = nil
        var testDescription: String { name }
    }

    static let consumeT = ["-b", "$B", "-t", "t"]

    static let cases: [Case] = [
        // Modes and settings.
        Case(name: "-C is consume", arguments: ["-C"] + consumeT + ["-e", "-c", "2"], status: 0, output: "v1\nv2\n"),
        Case(name: "-C after other options", arguments: ["-b", "$B", "-C", "-t", "u", "-e"], status: 0, output: "v5\n"),
        Case(name: "-P is produce, -L -J is metadata as JSON", arguments: ["-L", "-b", "$B", "-t", "made", "-J"], status: 0,
             contains: [#""topic":"made","partitions":[{"partition":0,"leader":1,"#, #""controllerid":1"#, #""replicas":[{"id":1}]"#],
             before: (["-P", "-b", "$B", "-t", "made", "-p", "0"], "a")),
        Case(name: "metadata -J names a missing topic's error", arguments: ["metadata", "-b", "$B", "-J", "nope"], status: 0,
             contains: [#"{"topic":"nope","error":"UNKNOWN_TOPIC_OR_PARTITION","partitions":[]}"#]),
        Case(name: "two modes are a usage error", arguments: ["-C", "-P", "-b", "$B", "-t", "t"], status: 64,
             output: "kgo: error: -C, -P and -L are exclusive: give one\n"),
        Case(name: "-V is the version", arguments: ["-V"], status: 0, contains: ["kgo 0."]),
        Case(name: "-X list", arguments: ["-X", "list"], status: 0, contains: ["allow.auto.create.topics", "bootstrap.servers", "metadata.broker.list (bootstrap.servers)"]),
        Case(name: "-X unknown key is a usage error", arguments: ["-C"] + consumeT + ["-X", "nope=1"], status: 64,
             contains: ["unknown client setting nope", "Usage:"]),
        Case(name: "-X bad value is a usage error", arguments: ["-P", "-b", "$B", "-t", "t", "-X", "acks=7"], status: 64,
             contains: ["acks=7: want all, -1, 1 or 0", "Usage:"]),
        Case(name: "-X SASL without a password is a usage error", arguments: ["-L", "-b", "$B", "-X", "security.protocol=sasl_plaintext", "-X", "sasl.username=u"],
             status: 64, contains: ["-X SASL needs sasl.username and sasl.password", "Usage:"]),
        Case(name: "-X sasl.* with plaintext is a usage error", arguments: ["-L", "-b", "$B", "-X", "security.protocol=plaintext", "-X", "sasl.username=u", "-X", "sasl.password=p"],
             status: 64, contains: ["sasl.* settings need security.protocol sasl_plaintext or sasl_ssl"]),
        Case(name: "-X SASL is used", arguments: ["-L", "-b", "$B", "-X", "security.protocol=sasl_plaintext", "-X", "sasl.mechanism=SCRAM-SHA-256",
                                                  "-X", "sasl.username=u", "-X", "sasl.password=p", "--timeout", "2"],
             status: 1, contains: ["kgo: error: SASL mechanism SCRAM-SHA-256 not enabled"]),
        Case(name: "-X bootstrap.servers", arguments: ["-C", "-X", "bootstrap.servers=$B", "-t", "u", "-e"], status: 0, output: "v5\n"),
        Case(name: "-X applies after the verb's options", arguments: ["-P", "-b", "$B", "-t", "absent", "-X", "allow.auto.create.topics=false"], status: 1,
             contains: ["unknown topic absent"], stdin: "a"),

        // Brokers and settings from a config file.
        Case(name: "-F file", arguments: ["-C", "-F", "$D/kgo.conf", "-t", "u", "-e"], status: 0, output: "v5\n",
             files: ["kgo.conf": Array("# kcat style\n\nmetadata.broker.list = $B\nclient.id=x\n".utf8)]),
        Case(name: "$KGO_CONFIG", arguments: ["-C", "-t", "u", "-e"], status: 0, output: "v5\n",
             environment: ["KGO_CONFIG": "$D/c"], files: ["c": Array("bootstrap.servers=$B\n".utf8)]),
        Case(name: "~/.config/kgo.conf", arguments: ["-C", "-t", "u", "-e"], status: 0, output: "v5\n",
             environment: ["HOME": "$D"], files: [".config/kgo.conf": Array("bootstrap.servers=$B\n".utf8)]),
        Case(name: "-b wins over the config file", arguments: ["-C", "-b", "$B", "-t", "u", "-e"], status: 0, output: "v5\n",
             environment: ["HOME": "$D"], files: [".config/kgo.conf": Array("bootstrap.servers=127.0.0.1:1\n".utf8)]),
        Case(name: "-F missing file", arguments: ["-C", "-F", "$D/none", "-t", "u", "-e"], status: 1, contains: ["kgo: error: cannot read config file "]),
        Case(name: "config file bad line", arguments: ["-C", "-F", "$D/bad", "-t", "u", "-e"], status: 1,
             contains: ["/bad:2: unknown client setting nope"], files: ["bad": Array("bootstrap.servers=$B\nnope=1\n".utf8)]),

        // Offsets by timestamp, -E.
        Case(name: "-o s@TS", arguments: ["-C"] + consumeT + ["-e", "-o", "s@1002", "-f", "%o\\n"], status: 0, output: "2\n3\n"),
        Case(name: "-o e@TS ends without -e", arguments: ["-C"] + consumeT + ["-o", "e@1002", "-f", "%o\\n"], status: 0, output: "0\n1\n"),
        Case(name: "-o s@TS -o e@TS", arguments: ["-C"] + consumeT + ["-o", "s@1001", "-o", "e@1003", "-f", "%o\\n"], status: 0, output: "1\n2\n"),
        Case(name: "-o -N still counts from the end", arguments: ["-C"] + consumeT + ["-e", "-o", "-1", "-f", "%o\\n"], status: 0, output: "3\n"),
        Case(name: "-o e@ twice is a usage error", arguments: ["-C"] + consumeT + ["-o", "e@1", "-o", "e@2"], status: 64, contains: ["e@TS wants one timestamp"]),
        Case(name: "-e -E reads the other partitions, status 1", arguments: ["-C", "-b", "$B", "-t", "u", "-e", "-E"], status: 1,
             contains: ["v5\n", "kgo: error: u [0] at offset 0: broker error TOPIC_AUTHORIZATION_FAILED"], fetchError: TopicPartition("u", 0)),

        // Produce.
        Case(name: "produce auto-creates the topic", arguments: ["-C", "-b", "$B", "-t", "fresh", "-e"], status: 0, output: "a\nb\n",
             before: (["-P", "-b", "$B", "-t", "fresh"], "a\nb")),
        Case(name: "--no-auto-create", arguments: ["-P", "-b", "$B", "-t", "absent", "--no-auto-create"], status: 1,
             output: "kgo: error: unknown topic absent (auto creation is off)\n", stdin: "a"),
        Case(name: "-k -c -p -1", arguments: ["-C", "-b", "$B", "-t", "keyed", "-e", "-f", "%k=%s\\n"], status: 0, contains: ["K=a\n", "K=b\n"],
             excludes: ["c"], before: (["-P", "-b", "$B", "-t", "keyed", "-k", "K", "-c", "2", "-p", "-1"], "a\nb\nc\n")),
        Case(name: "files are one message each, binary", arguments: ["-C", "-b", "$B", "-t", "files", "-e", "-f", "%S;"], status: 0, output: "3;2;",
             files: ["f1": Array("x\ny".utf8), "f2": [0, 1]], before: (["-P", "-b", "$B", "-t", "files", "-p", "0", "$D/f1", "$D/f2"], "")),
        Case(name: "-l splits files", arguments: ["-C", "-b", "$B", "-t", "split", "-e", "-f", "%s;"], status: 0, output: "x;y;z;",
             files: ["f1": Array("x\ny".utf8), "f2": Array("z\n".utf8)], before: (["-P", "-b", "$B", "-t", "split", "-p", "0", "-l", "$D/f1", "$D/f2"], "")),
        Case(name: "a missing file fails before connecting", arguments: ["-P", "-b", "127.0.0.1:1", "-t", "t", "$D/none"], status: 1,
             contains: ["kgo: error: cannot read ", "/none: No such file or directory"]),
        Case(name: "-k with -K is a usage error", arguments: ["-P", "-b", "$B", "-t", "t", "-k", "a", "-K", ":"], status: 64, contains: ["-k and -K", "Usage:"]),
        Case(name: "-l without files is a usage error", arguments: ["-P", "-b", "$B", "-t", "t", "-l"], status: 64, contains: ["-l needs FILEs"]),
        Case(name: "-p -2 is a usage error", arguments: ["-P", "-b", "$B", "-t", "t", "-p", "-2"], status: 64, contains: ["negative partition -2"]),
    ]

    @Test(arguments: cases)
    func kcat(_ c: Case) async throws {
        let server = try FakeClusterServer.start(FakeClusterConfig(brokers: [.init(nodeId: 1, port: 0)],
                                                                   topics: [.init(name: "t", partitions: 1), .init(name: "u", partitions: 2)]))
        defer { try? server.shutdown() }
        let bootstrap = KgoCommandTests.bootstrap(server)
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("kgo-kcat-\(UInt64.random(in: 0 ... .max))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        func fill(_ s: String) -> String { s.replacingOccurrences(of: "$B", with: bootstrap).replacingOccurrences(of: "$D", with: dir.path) }
        for (name, bytes) in c.files {
            let url = dir.appendingPathComponent(name)
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            let text = String(decoding: bytes, as: UTF8.self)
            try Data(text.contains("$B") ? Array(fill(text).utf8) : bytes).write(to: url)
        }
        try await KgoExitStatusTests.fill(server)
        if let tp = c.fetchError {
            try await server.withCluster { cluster, _ in
                cluster.pushError(.fetch, .topicAuthorizationFailed, partition: tp, count: 1)
                return ((), [])
            }.get()
        }
        // Neither the caller's brokers nor its config files: only what the case gives.
        let unset = ["KGO_BROKERS", "KGO_CONFIG"].filter { c.environment[$0] == nil }
        let environment = c.environment.merging(c.environment["HOME"] == nil ? ["HOME": dir.path + "/nohome"] : [:]) { a, _ in a }.mapValues(fill)
        if case let (arguments, stdin)? = c.before {
            let (status, output) = try await KgoCommandTests.kgo(arguments.map(fill), stdin: stdin, environment: environment, unsetting: unset, timeLimit: .seconds(30))
            #expect(status == 0, "\(output)")
        }
        let (status, output) = try await KgoCommandTests.kgo(c.arguments.map(fill), stdin: c.stdin, environment: environment, unsetting: unset, timeLimit: .seconds(30))
        #expect(status == c.status, "\(output)")
        for text in c.contains { #expect(output.contains(text), "\(output)") }
        for text in c.excludes { #expect(!output.contains(text), "\(output)") }
        if let expected = c.output { #expect(output == expected) }
        if c.status == 1 { #expect(!output.contains("Usage:"), "\(output)") }
    }
}
