import Foundation
import KafkaIO
import Logging
import ServiceLifecycle

/// The README's exactly-once copy example, compiled with the tests so it cannot rot (it is
/// not run: it copies until a signal; TransactSessionTests runs the same loop).
enum ReadmeTransactExample {
    static func main() async throws {
        let logger = Logger(label: "copier")
        var client = try KafkaClientConfiguration(seedBrokers: ["127.0.0.1:19092"])
        // One transactional id per running instance: a restarted instance fences its zombie.
        client.producer.transactionalId = "copier-" + (ProcessInfo.processInfo.environment["POD_NAME"] ?? "0")
        let session = try KafkaTransactSession(configuration: client, group: GroupConfiguration(groupId: "copier", topics: ["A"]),
                                               logger: logger)
        let services = ServiceGroup(services: [session], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await services.run() }    // joins; on SIGTERM aborts what is open and leaves
            tasks.addTask {
                while true {
                    let poll = await session.poll()
                    if poll.closed { return }
                    if poll.isEmpty { continue }
                    try await session.begin()
                    for r in poll.records {
                        await session.client.produce(KafkaRecord(topic: "B", key: r.key.map(Array.init), value: r.value.map(Array.init))) { _ in }
                    }
                    // Offsets of everything polled go into the transaction. false: it was aborted
                    // (a rebalance took partitions, a record failed) and the records come again.
                    _ = try await session.end(commit: true)
                }
            }
            try await tasks.waitForAll()
        }
    }
}
