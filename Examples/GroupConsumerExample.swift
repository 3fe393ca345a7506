import KafkaIO
import ServiceLifecycle
import Logging

/// Joins a consumer group and prints what it is assigned until SIGINT or SIGTERM; then it
/// commits what it printed and leaves the group.
enum GroupConsumerExample {
    static func run(broker: String, topic: String, group: String) async throws {
        let logger = Logger(label: "group-consumer-example")
        var membership = GroupConfiguration(groupId: group, topics: [topic])
        membership.onAssigned = { partitions in print("assigned \(partitions)") }
        let consumer = try KafkaGroupConsumer(configuration: try KafkaClientConfiguration(seedBrokers: [broker]), group: membership)
        let services = ServiceGroup(services: [consumer], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        async let running: Void = services.run()
        // Ends when the membership does (graceful shutdown); records are committed as read.
        for try await record in consumer.records() {
            print("\(record.topic)/\(record.partition)@\(record.offset): \(String(decoding: record.value ?? [], as: UTF8.self))")
        }
        try await running
    }
}
