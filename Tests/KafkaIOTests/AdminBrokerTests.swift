import KafkaIO
import Testing

/// KafkaAdmin against Tansu (KGO_TEST_BROKER), only what Tansu serves
/// (/work/shared/broker/README.md): topics created, described, listed and deleted; topic
/// configs set and read back; a group's offsets set, fetched and the group deleted.
@Suite struct AdminBrokerTests {
    static func admin() throws -> KafkaAdmin {
        KafkaAdmin(client: try KafkaClient(configuration: TestEnvironment.configuration([try TestEnvironment.broker()]),
                                           logger: TestEnvironment.logger))
    }

    static func unique(_ prefix: String) -> String { "\(prefix)-\(UInt32.random(in: 0 ... .max))" }

    @Test func topicsAndConfigs() async throws {
        let admin = try Self.admin()
        defer { Task { [client = admin.client] in await client.close() } }
        let name = Self.unique("admin-topic")
        let created = try await admin.createTopics([NewTopic(name, partitions: 2, replicationFactor: 1, configs: ["retention.ms": "60000"]),
                                                    NewTopic("bad name", partitions: 1, replicationFactor: 1),
                                                    NewTopic(Self.unique("x"), partitions: 1, replicationFactor: 2)])
        #expect(created[0].error == nil, "\(created[0])")
        #expect(created[1].error == .invalidTopicName("bad name", reason: "only letters, digits, '.', '_' and '-' are allowed"))
        #expect(created[2].error == .replicationFactorAboveBrokerCount(topic: created[2].name, replicationFactor: 2, brokers: 1))
        let described = try await admin.describeTopics([name])
        #expect(described[0].value?.partitions.map(\.partition) == [0, 1])
        #expect(described[0].value?.partitions.allSatisfy { $0.leader != nil } == true)
        #expect(try await admin.listTopics().map(\.name).contains(name))

        let altered = try await admin.alterConfigs([ConfigChange(.topic(name), [.set("retention.ms", "120000")])])
        #expect(altered[0].error == nil, "\(altered[0])")
        let configs = try await admin.describeConfigs([.topic(name)])
        #expect(configs[0].value?.first { $0.name == "retention.ms" }?.value == "120000", "\(configs[0])")

        let deleted = try await admin.deleteTopics([name])
        #expect(deleted[0].error == nil, "\(deleted[0])")
        #expect(try await admin.listTopics().map(\.name).contains(name) == false)
        let cluster = try await admin.describeCluster()
        #expect(cluster.brokers.count == 1)
    }

    @Test func groupOffsets() async throws {
        let admin = try Self.admin()
        defer { Task { [client = admin.client] in await client.close() } }
        let topic = Self.unique("admin-group-topic")
        let group = Self.unique("admin-group")
        _ = try await admin.createTopics([NewTopic(topic, partitions: 1, replicationFactor: 1)])
        let set = try await admin.alterOffsets(group: group, [TopicPartition(topic, 0): 3])
        #expect(set[0].error == nil, "\(set[0])")
        let fetched = try await admin.fetchOffsets(group: group)
        #expect(fetched.map { "\($0.topicPartition)=\($0.offset)" } == ["\(topic)[0]=3"])
        #expect(try await admin.listGroups().groups.map(\.groupId).contains(group))
        let gone = try await admin.deleteGroups([group])
        #expect(gone[0].error == nil, "\(gone[0])")
        _ = try await admin.deleteTopics([topic])
    }
}
