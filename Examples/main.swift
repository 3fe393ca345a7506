// Runnable examples of the KafkaIO library, one file each. With no broker given they run
// against a three-broker FakeCluster started in this process on loopback, so
//
//   swift run kgo-examples                  runs every example but group-consumer, no broker needed
//
// and each one alone, against a broker or (without one) the in-process cluster:
//
//   swift run kgo-examples producer           [BROKER TOPIC]
//   swift run kgo-examples consumer           [BROKER TOPIC]
//   swift run kgo-examples group-consumer     [BROKER TOPIC GROUP]   (until SIGINT or SIGTERM)
//   swift run kgo-examples transactional-copy [BROKER INPUT OUTPUT]
//   swift run kgo-examples fake-cluster                              (always in-process)
//
// They are kept short on purpose and built with the package (the debug build CI runs), and
// ExamplesTests runs them, so they stay in step with the API.
import FakeCluster
import FakeClusterTCP
import Foundation
import KafkaIO

let arguments = Array(CommandLine.arguments.dropFirst())
let usage = """
    usage: kgo-examples [producer|consumer [BROKER TOPIC] | group-consumer [BROKER TOPIC GROUP]
                        | transactional-copy [BROKER INPUT OUTPUT] | fake-cluster]

    """

func run(_ body: @escaping @Sendable () async throws -> Void) -> Never {
    let done = DispatchSemaphore(value: 0)
    let failure = FailureBox()
    Task.detached {
        do { try await body() } catch { failure.error = error }
        done.signal()
    }
    done.wait()
    if let error = failure.error {
        FileHandle.standardError.write(Data("error: \(error)\n".utf8))
        exit(1)
    }
    exit(0)
}

final class FailureBox: @unchecked Sendable { var error: (any Error)? }

/// Runs `body` with `given` as its arguments, or with a FakeCluster's first broker and
/// `defaults` when none are given (the cluster stops afterwards).
func withBroker(_ given: [String], defaults: [String], _ body: @escaping @Sendable ([String]) async throws -> Void) -> Never {
    run {
        if !given.isEmpty { return try await body(given) }
        let server = try LocalCluster.start()
        defer { try? server.shutdown() }
        try await body([LocalCluster.bootstrap(server)] + defaults)
    }
}

/// The in-process cluster the examples use when no broker is named.
enum LocalCluster {
    static func start() throws -> FakeClusterServer {
        let server = try FakeClusterServer.start(FakeClusterConfig(
            brokers: FakeClusterConfig.brokers(3, firstPort: 0),
            topics: ["demo", "in", "out"].map { .init(name: $0, partitions: 3, replicationFactor: 3) }))
        print("FakeCluster listening on \(bootstrap(server)) (3 brokers)")
        return server
    }

    static func bootstrap(_ server: FakeClusterServer) -> String { "\(server.brokers[0].host):\(server.brokers[0].port)" }
}

let example = arguments.first
let rest = Array(arguments.dropFirst())
switch (example, rest.count) {
case (nil, _):
    // Everything that ends by itself, in order, on one in-process cluster.
    run {
        let server = try LocalCluster.start()
        defer { try? server.shutdown() }
        let broker = LocalCluster.bootstrap(server)
        print("== producer"); try await ProducerExample.run(broker: broker, topic: "demo")
        print("== consumer"); try await ConsumerExample.run(broker: broker, topic: "demo")
        print("== transactional-copy"); try await TransactionalCopyExample.run(broker: broker, input: "in", output: "out")
        print("== fake-cluster"); try await FakeClusterExample.run()
        print("all examples ran")
    }
case ("producer", 0), ("producer", 2):
    withBroker(rest, defaults: ["demo"]) { a in try await ProducerExample.run(broker: a[0], topic: a[1]) }
case ("consumer", 0), ("consumer", 2):
    // Without a broker there is nothing to read yet: produce first.
    withBroker(rest, defaults: ["demo"]) { a in
        if rest.isEmpty { try await ProducerExample.run(broker: a[0], topic: a[1]) }
        try await ConsumerExample.run(broker: a[0], topic: a[1])
    }
case ("group-consumer", 0), ("group-consumer", 3):
    withBroker(rest, defaults: ["demo", "example-group"]) { a in
        try await GroupConsumerExample.run(broker: a[0], topic: a[1], group: a[2])
    }
case ("transactional-copy", 0), ("transactional-copy", 3):
    withBroker(rest, defaults: ["in", "out"]) { a in try await TransactionalCopyExample.run(broker: a[0], input: a[1], output: a[2]) }
case ("fake-cluster", 0):
    run { try await FakeClusterExample.run() }
default:
    FileHandle.standardError.write(Data(usage.utf8))
    exit(64)
}
