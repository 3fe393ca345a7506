import Foundation
import KafkaIO
import Logging
import ServiceLifecycle

/// The README's group consumer example, compiled with the tests so it cannot rot (it is
/// not run: it consumes until a signal).
enum ReadmeGroupExample {
    static func main() async throws {
        let logger = Logger(label: "billing")
        var client = try KafkaClientConfiguration(seedBrokers: ["127.0.0.1:19092"])
        client.clientId = "billing"
        var group = GroupConfiguration(groupId: "billing", topics: ["orders"])
        group.instanceId = ProcessInfo.processInfo.environment["POD_NAME"]  // static member, optional
        group.onRevoked = { partitions in
            // Finish and commit work of these partitions before they move (the rebalance waits).
            _ = partitions
        }
        let consumer = try KafkaGroupConsumer(configuration: client, group: group, logger: logger)

        let services = ServiceGroup(services: [consumer], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await services.run() }    // joins; on SIGTERM commits and leaves
            tasks.addTask {
                for try await record in consumer.records() {    // ends when it has left; throws if the membership failed
                    print(record.topic, record.partition, record.offset)
                }
            }
            try await tasks.waitForAll()
        }
    }
}
