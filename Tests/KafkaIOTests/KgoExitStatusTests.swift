import FakeCluster
import FakeClusterTCP
import Foundation
import KafkaIO
import KafkaProtocol
import Testing

/// `kgo`'s exit statuses and kcat output, each case the built binary against a fresh
/// FakeClusterTCP: 0 success; 1 a runtime failure, one line on standard error and no usage
/// text; 64 with usage text only for argument errors.
@Suite struct KgoExitStatusTests {
    struct Case: CustomTestStringConvertible, Sendable {
        var name: String
        /// "$B" is replaced by the fake cluster's bootstrap list.
        var arguments: [String]
        var status: Int32
        /// Every one must appear in the output (stdout and stderr together).
        var contains: [String]
        /// The whole output, when it is known exactly.
        var output: String? = nil
        var environment: [String: String] = [:]
        /// Arm a fetch error on t/0 before running.
        var fetchError = false
        /// A `kgo produce` (arguments, standard input) that must succeed before running.
        var produce: ([String], String)? = nil
        var testDescription: String { name }
    }

    static let cases: [Case] = [
        Case(name: "usage error", arguments: ["consume", "-b", "$B"], status: 64, contains: ["name a topic", "Usage:"]),
        Case(name: "bad -f escape is a usage error", arguments: ["consume", "-b", "$B", "-t", "t", "-f", "\\xZ1"], status: 64,
             contains: ["\\x wants two hex digits", "Usage:"]),
        Case(name: "missing -b", arguments: ["metadata"], status: 1, contains: [],
             output: "kgo: error: name at least one broker with -b HOST:PORT, KGO_BROKERS or bootstrap.servers in a config file\n"),
        Case(name: "connection refused", arguments: ["metadata", "-b", "127.0.0.1:1", "--timeout", "0.5"], status: 1,
             contains: ["kgo: error: "]),
        Case(name: "topic creation refused", arguments: ["topic", "create", "-b", "$B", "t"], status: 1, contains: ["TOPIC_ALREADY_EXISTS"]),
        Case(name: "unknown topic", arguments: ["consume", "-b", "$B", "-t", "nope", "-e"], status: 1, contains: [],
             output: "kgo: error: unknown topic nope\n"),
        Case(name: "unknown topic without -e", arguments: ["consume", "-b", "$B", "-t", "nope"], status: 1, contains: [],
             output: "kgo: error: unknown topic nope\n"),
        Case(name: "regex matching nothing", arguments: ["consume", "-b", "$B", "-r", "zz.*", "-e"], status: 1, contains: [],
             output: "kgo: error: no topic matches -r zz.*\n"),
        Case(name: "partition error ends -e", arguments: ["consume", "-b", "$B", "-t", "t", "-e"], status: 1,
             contains: ["kgo: error: t [0] at offset 0: broker error TOPIC_AUTHORIZATION_FAILED"], fetchError: true),
        Case(name: "-e ends at the end of every partition", arguments: ["consume", "-b", "$B", "-t", "t", "-e", "-f", "%t/%p/%o %k=%s %K %S\\t%h\\r\\x21\\n"],
             status: 0, contains: [],
             output: "t/0/0 k1=v1 2 2\th=x\r!\nt/0/1 =v2 -1 2\t\r!\nt/0/2 k3= 2 -1\t\r!\nt/0/3 k4= 2 0\t\r!\n"),
        Case(name: "-Z prints null as NULL, empty as empty", arguments: ["consume", "-b", "$B", "-t", "t", "-e", "-Z", "-f", "[%k|%s]"],
             status: 0, contains: [], output: "[k1|v1][NULL|v2][k3|NULL][k4|]"),
        Case(name: "%R is the value length in 4 big-endian bytes", arguments: ["consume", "-b", "$B", "-t", "u", "-e", "-f", "%R"],
             status: 0, contains: [], output: "\0\0\0\u{2}"),
        Case(name: "-J is kcat's envelope", arguments: ["consume", "-b", "$B", "-t", "t", "-e", "-c", "2", "-J"], status: 0, contains: [],
             output: #"{"topic":"t","partition":0,"offset":0,"tstype":"create","ts":1000,"broker":-1,"headers":["h","x"],"key":"k1","payload":"v1"}"#
                 + "\n" + #"{"topic":"t","partition":0,"offset":1,"tstype":"create","ts":1001,"broker":-1,"key":null,"payload":"v2"}"# + "\n"),
        Case(name: "brokers from KGO_BROKERS", arguments: ["consume", "-t", "u", "-e"], status: 0, contains: [], output: "v5\n",
             environment: ["KGO_BROKERS": "$B"]),
        Case(name: "--version", arguments: ["--version"], status: 0, contains: ["kgo 0."]),
        Case(name: "--help is the help text", arguments: ["--help"], status: 0, contains: ["USAGE: kgo <subcommand>", "SUBCOMMANDS:"]),
        Case(name: "-h on a nested verb", arguments: ["sim", "run", "-h"], status: 0, contains: ["USAGE: kgo sim run"]),
        Case(name: "the help verb", arguments: ["help", "produce"], status: 0, contains: ["USAGE: kgo produce"]),
        Case(name: "produce -D -K -H -Z, binary input", arguments: ["consume", "-b", "$B", "-t", "u", "-p", "0", "-e", "-Z", "-f", "%k|%s|%S|%h;"],
             status: 0, contains: [], output: "k|\u{1}\n\u{2}|3|a=1,b=;NULL|NULL|-1|a=1,b=;NULL|v|1|a=1,b=;",
             produce: (["produce", "-b", "$B", "-t", "u", "-p", "0", "-D", "\\x00", "-K", ":", "-H", "a=1", "-H", "b", "-Z"],
                       "k:\u{1}\n\u{2}\0:\0:v\0")),
        Case(name: "bad produce option is a usage error", arguments: ["produce", "-b", "$B", "-t", "u", "-z", "brotli"], status: 64,
             contains: ["unknown codec brotli", "Usage:"]),
    ]

    @Test(arguments: cases)
    func exitStatus(_ c: Case) async throws {
        let server = try FakeClusterServer.start(FakeClusterConfig(brokers: [.init(nodeId: 1, port: 0)],
                                                                   topics: [.init(name: "t", partitions: 1), .init(name: "u", partitions: 2)]))
        defer { try? server.shutdown() }
        let bootstrap = KgoCommandTests.bootstrap(server)
        try await Self.fill(server)
        if c.fetchError {
            try await server.withCluster { cluster, _ in
                cluster.pushError(.fetch, .topicAuthorizationFailed, partition: TopicPartition("t", 0), count: 1)
                return ((), [])
            }.get()
        }
        if case let (produce, stdin)? = c.produce {
            let (status, output) = try await KgoCommandTests.kgo(produce.map { $0 == "$B" ? bootstrap : $0 }, stdin: stdin)
            #expect(status == 0, "\(output)")
        }
        let arguments = c.arguments.map { $0 == "$B" ? bootstrap : $0 }
        let environment = c.environment.mapValues { $0 == "$B" ? bootstrap : $0 }
        let (status, output) = try await KgoCommandTests.kgo(arguments, environment: environment, unsetting: c.environment.isEmpty ? ["KGO_BROKERS"] : [])
        #expect(status == c.status, "\(output)")
        for text in c.contains { #expect(output.contains(text), "\(output)") }
        if let expected = c.output { #expect(output == expected) }
        if c.status == 1 {
            #expect(!output.contains("Usage:"), "\(output)")
            #expect(output.split(separator: "\n").count == 1, "\(output)")
        }
    }

    /// t/0: keyed with a header, null key, null value, empty value; u/1: one record.
    static func fill(_ server: FakeClusterServer) async throws {
        let config = TestEnvironment.configuration(server.brokers.map { BrokerAddress(host: $0.host, port: Int($0.port)) })
        let client = try KafkaClient(configuration: config, logger: TestEnvironment.logger)
        let records = [
            KafkaRecord(topic: "t", partition: 0, key: Array("k1".utf8), value: Array("v1".utf8), headers: [RecordHeader(key: "h", value: Array("x".utf8))], timestamp: 1000),
            KafkaRecord(topic: "t", partition: 0, key: nil, value: Array("v2".utf8), timestamp: 1001),
            KafkaRecord(topic: "t", partition: 0, key: Array("k3".utf8), value: nil, timestamp: 1002),
            KafkaRecord(topic: "t", partition: 0, key: Array("k4".utf8), value: [], timestamp: 1003),
            KafkaRecord(topic: "u", partition: 1, key: nil, value: Array("v5".utf8), timestamp: 1004),
        ]
        for r in records { _ = try await client.produce(r) }
        await client.close()
    }
}
