import FakeCluster
import FakeClusterTCP
import KafkaIO
import KafkaProtocol
import Testing

/// The group consumer against FakeCluster's TCP listener: a failed membership is thrown by
/// the record sequence, and commits carry the leader epoch of the last record consumed
/// (KIP-320) so the next owner can validate its start.
@Suite struct GroupConsumerFakeClusterTests {
    typealias Support = ConsumerCancellationTests

    /// How the consumer's record sequence ends: "threw …" or "ended without an error".
    static func recordsOutcome(_ consumer: KafkaGroupConsumer) -> Task<String, Never> {
        Task {
            do {
                for try await _ in consumer.records() {}
                return "ended without an error"
            } catch {
                return "threw \(error)"
            }
        }
    }

    @Test func aFailedMembershipIsThrownByTheRecordSequence() async throws {
        let server = try Support.server()
        defer { try? server.shutdown() }
        // Every JoinGroup of the group is refused as not authorized: fatal for the member.
        try await server.withCluster { cluster, _ in
            cluster.pushGroupError("denied", .joinGroup, .groupAuthorizationFailed, count: 100)
            return ((), [])
        }.get()
        var group = GroupConfiguration(groupId: "denied", topics: ["empty"])
        group.sessionTimeout = .seconds(6)
        let consumer = try KafkaGroupConsumer(configuration: Support.configuration(server), group: group, logger: TestEnvironment.logger)
        let run = Task { () -> String in
            do { try await consumer.run(); return "returned" } catch { return "\(error)" }
        }
        let records = Self.recordsOutcome(consumer)
        let thrown = await Support.value(of: records, within: .seconds(20))
        #expect(thrown?.contains("GROUP_AUTHORIZATION_FAILED") == true || thrown?.contains("groupAuthorizationFailed") == true,
                "records() gave \(thrown ?? "nothing within 20 s")")
        let ran = await Support.value(of: run, within: .seconds(20))
        #expect(ran != nil && ran != "returned", "run() gave \(ran ?? "nothing within 20 s")")
        #expect(consumer.failure != nil)
    }

    /// The consumer group protocol (KIP-848) on a broker without ConsumerGroupHeartbeat (an
    /// emulated 3.6): `run()` and `records()` throw the typed error; no classic fallback.
    @Test func theConsumerProtocolOnABrokerWithoutItFailsTyped() async throws {
        let server = try FakeClusterServer.start(FakeClusterConfig(brokers: [.init(nodeId: 1, port: 0)], release: KafkaRelease(3, 6),
                                                                   topics: [.init(name: "empty", partitions: 2)]))
        defer { try? server.shutdown() }
        var group = GroupConfiguration(groupId: "next", topics: ["empty"])
        group.groupProtocol = .consumer
        let consumer = try KafkaGroupConsumer(configuration: Support.configuration(server), group: group, logger: TestEnvironment.logger)
        let run = Task { () -> GroupError? in
            do { try await consumer.run(); return nil } catch { return error as? GroupError }
        }
        let records = Self.recordsOutcome(consumer)
        let ran = await Support.value(of: run, within: .seconds(20))
        guard case .groupProtocolUnsupported?? = ran else {
            Issue.record("run() gave \(String(describing: ran))")
            return
        }
        let thrown = await Support.value(of: records, within: .seconds(20))
        #expect(thrown?.contains("consumer group protocol is not available") == true, "records() gave \(thrown ?? "nothing")")
    }

    @Test func commitsCarryTheLeaderEpochOfTheLastRecordConsumed() async throws {
        let server = try Support.server(brokers: 2)
        defer { try? server.shutdown() }
        let producer = try KafkaClient(configuration: Support.configuration(server), logger: TestEnvironment.logger)
        let sent = await producer.produceAndWait((0 ..< 20).map { KafkaRecord(topic: "empty", partition: Int32($0 % 2), value: Array("v\($0)".utf8)) })
        #expect(sent.allSatisfy { if case .success = $0 { return true } else { return false } })
        // The leader moves after the first records: the epoch bumps; the records after it
        // are written under the new epoch.
        let moved = try await server.withCluster { cluster, now in
            let out = cluster.moveLeader(TopicPartition("empty", 0), now: now)
            return (cluster.partitionInfo(TopicPartition("empty", 0))?.epoch ?? -1, out)
        }.get()
        let later = await producer.produceAndWait((0 ..< 5).map { KafkaRecord(topic: "empty", partition: 0, value: Array("w\($0)".utf8)) })
        #expect(later.allSatisfy { if case .success = $0 { return true } else { return false } })

        var group = GroupConfiguration(groupId: "epochs", topics: ["empty"])
        group.sessionTimeout = .seconds(6)
        group.autocommitInterval = nil
        let consumer = try KafkaGroupConsumer(configuration: Support.configuration(server), group: group, logger: TestEnvironment.logger)
        consumer.join()
        var seen = 0
        let clock = ContinuousClock()
        let start = clock.now
        while seen < 25, clock.now - start < .seconds(20) {
            seen += await consumer.poll(timeout: .milliseconds(200)).recordCount
        }
        #expect(seen == 25)
        _ = await consumer.poll(timeout: .milliseconds(10))     // what was taken counts as consumed
        let committed = try await consumer.commit()
        #expect(committed[TopicPartition("empty", 0)] == CommitPosition(offset: 15, leaderEpoch: moved))
        #expect(committed[TopicPartition("empty", 1)]?.offset == 10)
        #expect((committed[TopicPartition("empty", 1)]?.leaderEpoch ?? -1) >= 0)

        // What the coordinator stored, read back as another client would.
        var f = OffsetFetchRequest()
        var g = OffsetFetchRequest.OffsetFetchRequestGroup()
        g.groupId = "epochs"
        g.topics = nil
        f.groups = [g]
        let r = try await producer.request(f, to: .groupCoordinator("epochs"))
        let p0 = r.groups.first?.topics.first { $0.name == "empty" }?.partitions.first { $0.partitionIndex == 0 }
        #expect(p0?.committedOffset == 15)
        #expect(p0?.committedLeaderEpoch == moved)
        await consumer.leave()
        await producer.close()
    }
}
