import KafkaIO

/// The README's admin example, compiled with the tests so it cannot rot (not run: it needs
/// a cluster at the address).
enum ReadmeAdminExample {
    static func main() async throws {
        let admin = KafkaAdmin(client: try KafkaClient(configuration: KafkaClientConfiguration(seedBrokers: ["127.0.0.1:19092"])))
        for r in try await admin.createTopics([NewTopic("orders", partitions: 6, replicationFactor: 3, configs: ["retention.ms": "86400000"])]) {
            if let error = r.error { print("\(r.name): \(error)") }
        }
        _ = try await admin.alterConfigs([ConfigChange(.topic("orders"), [.set("cleanup.policy", "compact")])])
        for p in try await admin.lag(group: "billing") {
            print(p.topicPartition, p.committed, p.end ?? -1, p.lag ?? -1)
        }
    }
}
