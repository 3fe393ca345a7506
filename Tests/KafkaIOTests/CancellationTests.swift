import FakeCluster
import FakeClusterTCP
import KafkaIO
import NIOPosix
import Testing

/// Cancelling the task that awaits `KafkaClient.request` cancels the request, against
/// FakeCluster's TCP listener (whose control API can hold a response back).
@Suite struct CancellationTests {
    static func metadataRequests(_ server: FakeClusterServer) async throws -> Int {
        try await server.withCluster { cluster, _ in
            (cluster.events.filter { e in
                if case .request = e.message { return e.apiKey == .metadata } else { return false }
            }.count, [])
        }.get()
    }

    @Test func cancellingTheTaskFailsTheRequestAtOnceAndIgnoresItsLateAnswer() async throws {
        let server = try FakeClusterServer.start(FakeClusterConfig(brokers: [.init(nodeId: 1, port: 0)], recordEvents: true))
        defer { try? server.shutdown() }
        // The first Metadata answer is held back until the test releases it, so a wait that
        // ignored the cancel could not end before the checks, however loaded the machine.
        try await server.withCluster { cluster, _ in
            cluster.delayResponses(.metadata, milliseconds: 3_600_000, count: 1)
            return ((), [])
        }.get()
        let broker = server.brokers[0]
        var config = TestEnvironment.configuration([BrokerAddress(host: broker.host, port: Int(broker.port))])
        config.requestTimeoutOverhead = .seconds(10)
        let client = try KafkaClient(configuration: config, logger: TestEnvironment.logger)

        let clock = ContinuousClock()
        let start = clock.now
        let task = Task { () -> Result<MetadataResponse, KafkaClientError> in
            do throws(KafkaClientError) { return .success(try await client.request(MetadataRequest())) } catch { return .failure(error) }
        }
        // Wait until the broker holds the request, then cancel.
        while try await Self.metadataRequests(server) == 0 {
            try await Task.sleep(for: .milliseconds(20))
            if clock.now - start > .seconds(120) { Issue.record("the request never reached the broker"); break }
        }
        task.cancel()
        // A hang guard only: the answer is still held, so only the cancel can end the wait.
        let result = await ConsumerCancellationTests.value(of: task, within: .seconds(60))
        guard case .failure(.cancelled)? = result else {
            Issue.record("expected .cancelled, got \(String(describing: result))")
            await client.close()
            return
        }
        try await server.withCluster { cluster, now in ((), cluster.releaseDelayedResponses(now: now)) }.get()

        // The same connection carries on: the next request's answer follows the late one,
        // which the client reads and drops instead of mistaking it for this one.
        let next = try await client.request(MetadataRequest())
        #expect(next.brokers.map(\.nodeId) == [1])
        #expect(try await Self.metadataRequests(server) == 2)
        await client.close()
    }

    @Test func aTaskCancelledBeforeTheCallSendsNothing() async throws {
        let server = try FakeClusterServer.start(FakeClusterConfig(brokers: [.init(nodeId: 1, port: 0)], recordEvents: true))
        defer { try? server.shutdown() }
        let broker = server.brokers[0]
        let client = try KafkaClient(configuration: TestEnvironment.configuration([BrokerAddress(host: broker.host, port: Int(broker.port))]),
                                     logger: TestEnvironment.logger)
        let task = Task { () -> Result<MetadataResponse, KafkaClientError> in
            // Busy until cancelled, without suspending (a sleep would throw on cancel).
            while !Task.isCancelled { await Task.yield() }
            do throws(KafkaClientError) { return .success(try await client.request(MetadataRequest())) } catch { return .failure(error) }
        }
        task.cancel()
        guard case .failure(.cancelled) = await task.value else {
            Issue.record("expected .cancelled")
            return
        }
        // A request after it goes through, and is the only one the broker saw.
        _ = try await client.request(MetadataRequest())
        #expect(try await Self.metadataRequests(server) == 1)
        await client.close()
    }
}
