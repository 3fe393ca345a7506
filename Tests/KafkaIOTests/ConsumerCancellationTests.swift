import FakeCluster
import FakeClusterTCP
import KafkaIO
import KafkaProtocol
import Testing

/// Waiting for records ends when the waiting task is cancelled — against FakeCluster's TCP
/// listener with an empty topic, so nothing but the cancel can end the wait.
@Suite struct ConsumerCancellationTests {
    static func server(brokers: Int32 = 1) throws -> FakeClusterServer {
        try FakeClusterServer.start(FakeClusterConfig(brokers: (1 ... brokers).map { .init(nodeId: $0, port: 0) },
                                                      topics: [.init(name: "empty", partitions: 2)]))
    }

    static func configuration(_ server: FakeClusterServer) -> KafkaClientConfiguration {
        let broker = server.brokers[0]
        var c = TestEnvironment.configuration([BrokerAddress(host: broker.host, port: Int(broker.port))])
        c.consumer.maxWait = .milliseconds(100)
        return c
    }

    /// Waits for `task` up to `limit`; nil if it has not finished by then.
    static func value<T: Sendable>(of task: Task<T, Never>, within limit: Duration) async -> T? {
        await withTaskGroup(of: T?.self) { g in
            g.addTask { await task.value }
            g.addTask { try? await Task.sleep(for: limit); return nil }
            let first = await g.next()!
            g.cancelAll()
            return first
        }
    }

    @Test func cancellingTheTaskEndsAPollAndTheRecordSequence() async throws {
        let server = try Self.server()
        defer { try? server.shutdown() }
        let client = try KafkaClient(configuration: Self.configuration(server), logger: TestEnvironment.logger)
        try client.consume(topics: ["empty"])
        // The first answers report each partition at its end (no records); after that a
        // poll has nothing to return until a record arrives.
        var atEnd = 0
        while atEnd < 2 {
            let p = await client.poll(timeout: .seconds(5))
            #expect(p.partitions.allSatisfy { $0.records.isEmpty })
            atEnd += p.partitions.filter(\.atEnd).count
            if p.isEmpty { break }
        }
        #expect(atEnd == 2)

        let poll = Task { await client.poll() }               // no timeout: only the cancel ends it
        let sequence = Task { () -> Int in
            var n = 0
            for await _ in client.records() { n += 1 }
            return n
        }
        try await Task.sleep(for: .milliseconds(300))          // both are waiting by now
        poll.cancel()
        sequence.cancel()
        let polled = await Self.value(of: poll, within: .seconds(10))
        let count = await Self.value(of: sequence, within: .seconds(10))
        #expect(polled != nil, "poll went on waiting after its task was cancelled")
        #expect(polled?.isEmpty == true, "\(String(describing: polled))")
        #expect(polled?.closed == false)
        #expect(count == 0, "the record sequence went on waiting after its task was cancelled")
        await client.close()
    }

    @Test func cancellingACommitThrowsCancelledAndTheNextCommitGoesThrough() async throws {
        let server = try ServiceLifecycleTests.server()
        defer { try? server.shutdown() }
        let producer = try KafkaClient(configuration: Self.configuration(server), logger: TestEnvironment.logger)
        _ = try await producer.produce(KafkaRecord(topic: "t", value: [1]))
        await producer.close()
        let consumer = try KafkaGroupConsumer(configuration: Self.configuration(server),
                                              group: GroupConfiguration(groupId: "cancel", topics: ["t"]), logger: TestEnvironment.logger)
        consumer.join()
        var received = 0
        let clock = ContinuousClock()
        let start = clock.now
        while received == 0, clock.now - start < .seconds(20) { received += await consumer.poll(timeout: .seconds(1)).recordCount }
        #expect(received == 1)
        _ = await consumer.poll(timeout: .milliseconds(50))   // marks the record consumed
        // The next OffsetCommit answer is held until released below (an uncancelled commit
        // could only end with it, returning nil, not .cancelled).
        let before = try await ServiceLifecycleTests.requests(.offsetCommit, server)
        try await server.withCluster { cluster, _ in
            cluster.delayResponses(.offsetCommit, milliseconds: 3_600_000, count: 1)
            return ((), [])
        }.get()
        let commit = Task { () -> GroupError? in
            do throws(GroupError) { try await consumer.commit(); return nil } catch { return error }
        }
        let sent = clock.now
        while try await ServiceLifecycleTests.requests(.offsetCommit, server) == before {
            if clock.now - sent > .seconds(120) { Issue.record("no OffsetCommit reached the broker in 120 s"); break }
            try await Task.sleep(for: .milliseconds(20))
        }
        commit.cancel()
        let outcome = await Self.value(of: commit, within: .seconds(60))
        #expect(outcome == .some(.some(.cancelled)), "\(String(describing: outcome))")
        try await server.withCluster { cluster, now in ((), cluster.releaseDelayedResponses(now: now)) }.get()
        // The client goes on: a commit after the late answer succeeds.
        let committed = try await consumer.commit()
        #expect(committed[TopicPartition("t", 0)]?.offset == 1, "\(committed)")
        await consumer.leave()
    }
}
