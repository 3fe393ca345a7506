import FakeCluster
import FakeClusterTCP
import KafkaIO
import KafkaProtocol
import Testing

/// `allowAutoTopicCreation`: off (the default) a record for a topic the cluster lacks fails
/// as unknown; on, the broker (whose auto.create.topics.enable FakeCluster has on) creates it.
@Suite struct AutoTopicCreationTests {
    func produce(autoCreate: Bool) async throws -> (Result<ProducedRecord, ProduceError>, Int32?) {
        let server = try FakeClusterServer.start(FakeClusterConfig(brokers: [.init(nodeId: 1, port: 0)]))
        defer { try? server.shutdown() }
        var config = TestEnvironment.configuration(server.brokers.map { BrokerAddress(host: $0.host, port: Int($0.port)) })
        config.allowAutoTopicCreation = autoCreate
        config.metadataMinAge = .milliseconds(50)
        config.producer.unknownTopicRetries = 1
        let client = try KafkaClient(configuration: config, logger: TestEnvironment.logger)
        let result: Result<ProducedRecord, ProduceError>
        do { result = .success(try await client.produce(KafkaRecord(topic: "fresh", value: Array("v".utf8)))) } catch { result = .failure(error) }
        await client.close()
        let partitions = try await server.withCluster { cluster, _ in (cluster.partitionCount("fresh"), []) }.get()
        return (result, partitions)
    }

    @Test func offByDefaultAnUnknownTopicFails() async throws {
        #expect(!KafkaClientConfiguration(seedBrokers: [BrokerAddress]()).allowAutoTopicCreation)
        let (result, partitions) = try await produce(autoCreate: false)
        guard case .failure(.unknownTopic("fresh")) = result else { Issue.record("\(result)"); return }
        #expect(partitions == nil)
    }

    @Test func onTheBrokerCreatesTheTopic() async throws {
        let (result, partitions) = try await produce(autoCreate: true)
        guard case .success(let r) = result else { Issue.record("\(result)"); return }
        #expect(r.offset == 0)
        #expect(partitions != nil)
    }
}
