import FakeCluster
import FakeClusterTCP
import KafkaIO
import KafkaProtocol
import Logging
import NIOConcurrencyHelpers
import ServiceLifecycle
import Testing

/// The client and the group consumer run as ServiceLifecycle services against FakeCluster's
/// TCP listener: graceful shutdown flushes, commits, leaves and closes, within the
/// configured `shutdownTimeout`.
@Suite struct ServiceLifecycleTests {
    typealias Support = ConsumerCancellationTests

    static func server() throws -> FakeClusterServer {
        try FakeClusterServer.start(FakeClusterConfig(brokers: [.init(nodeId: 1, port: 0)],
                                                      topics: [.init(name: "t", partitions: 1)], recordEvents: true))
    }

    static func requests(_ api: ApiKey, _ server: FakeClusterServer) async throws -> Int {
        try await server.withCluster { cluster, _ in
            (cluster.events.filter { e in
                if case .request = e.message { return e.apiKey == api } else { return false }
            }.count, [])
        }.get()
    }

    /// Runs `group` in a task; the task's value says how `run()` ended.
    static func start(_ group: ServiceGroup) -> Task<String, Never> {
        Task {
            do { try await group.run(); return "returned" } catch { return "threw \(error)" }
        }
    }

    final class Results: Sendable {
        let box = NIOLockedValueBox<[Result<ProducedRecord, ProduceError>]>([])
        func add(_ r: Result<ProducedRecord, ProduceError>) { box.withLockedValue { $0.append(r) } }
        var all: [Result<ProducedRecord, ProduceError>] { box.withLockedValue { $0 } }
    }

    @Test func gracefulShutdownFlushesTheProducerAndClosesTheClient() async throws {
        let server = try Self.server()
        defer { try? server.shutdown() }
        var config = Support.configuration(server)
        // Nothing is sent until a flush: only the shutdown's flush can deliver these.
        config.producer.manualFlushing = true
        let client = try KafkaClient(configuration: config, logger: TestEnvironment.logger)
        let group = ServiceGroup(services: [client], gracefulShutdownSignals: [], logger: TestEnvironment.logger)
        let run = Self.start(group)

        let results = Results()
        for i in 0 ..< 5 { await client.produce(KafkaRecord(topic: "t", value: Array("r\(i)".utf8))) { results.add($0) } }
        try await Task.sleep(for: .milliseconds(200))
        #expect(results.all.isEmpty, "records went out before the shutdown's flush")
        #expect(client.bufferedRecords == 5)

        await group.triggerGracefulShutdown()
        let ran = await Support.value(of: run, within: .seconds(10))
        #expect(ran == "returned", "run() gave \(ran ?? "nothing within 10 s")")
        let offsets = results.all.compactMap { try? $0.get().offset }
        #expect(offsets.sorted() == [0, 1, 2, 3, 4], "\(results.all)")
        #expect(try await Self.requests(.produce, server) >= 1)
        // Closed: a later request fails at once.
        do {
            _ = try await client.request(MetadataRequest())
            Issue.record("a request after the shutdown went through")
        } catch {
            #expect(error == .clientClosed)
        }
    }

    @Test func theShutdownTimeoutBoundsAFlushThatCannotFinish() async throws {
        let server = try Self.server()
        defer { try? server.shutdown() }
        // Every Produce answer leaves 300 s late: an unbounded flush would wait that long.
        // (30 s was once outlasted by a CI run whose whole suite stalled for 100 s under
        // load: the answer arrived before the close and the record succeeded.)
        try await server.withCluster { cluster, _ in
            cluster.delayResponses(.produce, milliseconds: 300_000, count: 100)
            return ((), [])
        }.get()
        var config = Support.configuration(server)
        config.shutdownTimeout = .milliseconds(300)
        config.closeTimeout = .milliseconds(200)
        let client = try KafkaClient(configuration: config, logger: TestEnvironment.logger)
        let group = ServiceGroup(services: [client], gracefulShutdownSignals: [], logger: TestEnvironment.logger)
        let run = Self.start(group)
        let results = Results()
        await client.produce(KafkaRecord(topic: "t", value: [1])) { results.add($0) }
        // Shut down once the broker holds the record.
        let clock = ContinuousClock()
        let start = clock.now
        while try await Self.requests(.produce, server) == 0, clock.now - start < .seconds(5) {
            try await Task.sleep(for: .milliseconds(20))
        }
        let held = clock.now
        await group.triggerGracefulShutdown()
        let ran = await Support.value(of: run, within: .seconds(25))
        let elapsed = clock.now - held
        #expect(ran == "returned", "run() gave \(ran ?? "nothing within 25 s")")
        // Generous for a loaded machine (the whole suite at once), and far below the 300 s an
        // unbounded flush would take.
        #expect(elapsed < .seconds(10), "shutdown took \(elapsed) with a 300 ms shutdown timeout and a 200 ms close timeout")
        #expect(results.all.count == 1)
        #expect(results.all.allSatisfy { if case .failure = $0 { return true } else { return false } }, "\(results.all)")
    }

    @Test func aGroupConsumerServiceCommitsAndLeavesOnGracefulShutdown() async throws {
        let server = try Self.server()
        defer { try? server.shutdown() }
        let producer = try KafkaClient(configuration: Support.configuration(server), logger: TestEnvironment.logger)
        let sent = await producer.produceAndWait((0 ..< 10).map { KafkaRecord(topic: "t", value: Array("v\($0)".utf8)) })
        #expect(sent.allSatisfy { if case .success = $0 { return true } else { return false } })

        let consumer = try KafkaGroupConsumer(configuration: Support.configuration(server),
                                              group: GroupConfiguration(groupId: "svc", topics: ["t"]), logger: TestEnvironment.logger)
        let group = ServiceGroup(services: [consumer], gracefulShutdownSignals: [], logger: TestEnvironment.logger)
        let run = Self.start(group)
        var received = 0
        let clock = ContinuousClock()
        let start = clock.now
        // A hang guard: joining and the first fetch take well under a second unloaded, but a
        // CI run with the whole suite at once once took longer than 20 s.
        while received < 10, clock.now - start < .seconds(90) {
            received += await consumer.poll(timeout: .seconds(1)).recordCount
        }
        #expect(received == 10)
        // The next poll marks the records of the previous ones consumed.
        _ = await consumer.poll(timeout: .milliseconds(100))
        #expect(try await Self.requests(.leaveGroup, server) == 0)

        await group.triggerGracefulShutdown()
        let ran = await Support.value(of: run, within: .seconds(15))
        #expect(ran == "returned", "run() gave \(ran ?? "nothing within 15 s")")
        #expect(try await Self.requests(.leaveGroup, server) == 1)
        let committed = try await KafkaAdmin(client: producer).fetchOffsets(group: "svc")
        #expect(committed.map(\.offset) == [10], "\(committed)")
        await producer.close()
    }

    @Test func theShutdownTimeoutBoundsALeaveThatCannotFinish() async throws {
        let server = try Self.server()
        defer { try? server.shutdown() }
        // The LeaveGroup answer leaves 30 s late: an unbounded leave would wait that long.
        try await server.withCluster { cluster, _ in
            cluster.delayResponses(.leaveGroup, milliseconds: 30_000, count: 1)
            return ((), [])
        }.get()
        var config = Support.configuration(server)
        config.shutdownTimeout = .milliseconds(500)
        config.closeTimeout = .milliseconds(200)
        let consumer = try KafkaGroupConsumer(configuration: config, group: GroupConfiguration(groupId: "slow-leave", topics: ["t"]),
                                              logger: TestEnvironment.logger)
        let group = ServiceGroup(services: [consumer], gracefulShutdownSignals: [], logger: TestEnvironment.logger)
        let run = Self.start(group)
        // Joined once the first generation's assignment arrives.
        let assigned = Task { () -> Bool in
            for await event in consumer.events { if case .assigned = event { return true } }
            return false
        }
        let joined = await Support.value(of: assigned, within: .seconds(20))
        #expect(joined == true, "no assignment within 20 s")
        let clock = ContinuousClock()
        let start = clock.now
        await group.triggerGracefulShutdown()
        let ran = await Support.value(of: run, within: .seconds(25))
        let elapsed = clock.now - start
        #expect(ran == "returned", "run() gave \(ran ?? "nothing within 25 s")")
        #expect(try await Self.requests(.leaveGroup, server) == 1)
        #expect(elapsed < .seconds(10), "shutdown took \(elapsed) with a 500 ms shutdown timeout; the held LeaveGroup answer takes 30 s")
    }
}
