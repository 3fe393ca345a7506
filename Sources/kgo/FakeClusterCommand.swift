import ArgumentParser
import FakeCluster
import FakeClusterTCP
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `kgo fake-cluster`: an in-process fake Kafka cluster on consecutive loopback ports,
/// until SIGINT/SIGTERM.
struct FakeClusterCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fake-cluster",
        abstract: "Run a fake Kafka cluster (brokers on consecutive ports of 127.0.0.1).")

    @Option(help: "Number of brokers (node ids 1…N).") var brokers: Int = 3
    @Option(help: "Port of the first broker; the others follow.") var port: Int = 19092
    @Option(name: .customLong("as-version"),
            help: "Behave like this Kafka release (e.g. 2.8, 0.10.2; default 3.9). 4.0 also serves KIP-848 consumer groups.")
    var asVersion: String?
    @Option(help: "MECHANISM:user:password (PLAIN, SCRAM-SHA-256, SCRAM-SHA-512); repeatable.")
    var sasl: [String] = []
    @Option(help: "name:partitions; repeatable.") var topic: [String] = []
    @Option(name: .customLong("tls-cert")) var tlsCert: String?
    @Option(name: .customLong("tls-key")) var tlsKey: String?
    @Option(help: "Seed of the cluster's generator.") var seed: UInt64 = 1
    @Option(name: .customLong("transaction-version"),
            help: "The finalized transaction.version feature (KIP-890 part 2; 2 needs --as-version 4.0 or later).")
    var transactionVersion: Int16 = 0
    @Option(name: .customLong("consumer-session-timeout-ms"),
            help: "group.consumer.session.timeout.ms for KIP-848 consumer groups (4.0).")
    var consumerSessionTimeoutMs: Int32 = 45_000
    @Option(name: .customLong("consumer-heartbeat-interval-ms"),
            help: "group.consumer.heartbeat.interval.ms for KIP-848 consumer groups (4.0).")
    var consumerHeartbeatIntervalMs: Int32 = 5_000

    func validate() throws {
        if (tlsCert == nil) != (tlsKey == nil) {
            throw ValidationError("--tls-cert and --tls-key go together")
        }
        guard (1 ... 64).contains(brokers) else { throw ValidationError("--brokers must be 1…64") }
        guard (0 ... 2).contains(transactionVersion) else { throw ValidationError("--transaction-version must be 0, 1 or 2") }
        guard consumerSessionTimeoutMs > 0, consumerHeartbeatIntervalMs > 0 else {
            throw ValidationError("--consumer-session-timeout-ms and --consumer-heartbeat-interval-ms must be positive")
        }
    }

    func run() throws {
        var config = FakeClusterConfig(brokers: FakeClusterConfig.brokers(brokers, firstPort: Int32(port)), seed: seed)
        if let v = asVersion {
            guard let r = KafkaRelease(v) else { throw ValidationError("--as-version: cannot parse \(v)") }
            config.release = r
        }
        config.transactionVersion = transactionVersion
        config.consumerGroupSessionTimeoutMs = consumerSessionTimeoutMs
        config.consumerGroupHeartbeatIntervalMs = consumerHeartbeatIntervalMs
        for s in sasl {
            let parts = s.split(separator: ":", maxSplits: 2).map(String.init)
            guard parts.count == 3, let m = FakeClusterConfig.SaslMechanism(rawValue: parts[0].uppercased()) else {
                throw ValidationError("--sasl wants MECHANISM:user:password, got \(s)")
            }
            config.users.append(.init(mechanism: m, name: parts[1], password: parts[2]))
        }
        for t in topic {
            let parts = t.split(separator: ":").map(String.init)
            guard parts.count == 2, let n = Int32(parts[1]), n > 0 else { throw ValidationError("--topic wants name:partitions, got \(t)") }
            config.topics.append(.init(name: parts[0], partitions: n))
        }
        // SIGINT/SIGTERM are blocked before any thread starts (threads inherit the mask), then
        // taken with sigwait below, so shutdown runs (closing every listener).
        var set = sigset_t()
        sigemptyset(&set)
        sigaddset(&set, SIGINT)
        sigaddset(&set, SIGTERM)
        pthread_sigmask(SIG_BLOCK, &set, nil)
        let tls = tlsCert.map { FakeClusterTLSFiles(certificateChain: $0, privateKey: tlsKey!) }
        let server = try FakeClusterServer.start(config, tls: tls) { line in
            let text = line + "\n"
            _ = text.withCString { write(2, $0, strlen($0)) }
        }
        let ports = server.brokers.map { "\($0.nodeId)@\($0.host):\($0.port)" }.joined(separator: " ")
        print("ready \(ports) (Kafka \(config.release)\(tls == nil ? "" : ", TLS"))")
        fflush(nil)
        var sig: Int32 = 0
        sigwait(&set, &sig)
        try server.shutdown()
        print("stopped (signal \(sig))")
        fflush(nil)
    }
}
