import KafkaIO
import Logging

/// The README's `groupProtocol` example, compiled with the tests so it cannot rot (it is not
/// run: it consumes until the membership ends).
enum ReadmeConsumerProtocolExample {
    static func main() async throws {
        let logger = Logger(label: "billing")
        let client = try KafkaClientConfiguration(seedBrokers: ["127.0.0.1:19092"])
        var group = GroupConfiguration(groupId: "billing", topics: ["orders"])
        group.groupProtocol = .consumer       // KIP-848: the coordinator assigns
        group.serverAssignor = "range"        // or "uniform"; nil: the group's default
        let consumer = try KafkaGroupConsumer(configuration: client, group: group, logger: logger)
        do {
            try await consumer.run()          // as with .classic: joins, consumes, commits, leaves
        } catch GroupError.groupProtocolUnsupported(let why) {
            logger.error("the broker predates KIP-848 (\(why)): use .classic there")
        }
    }
}
