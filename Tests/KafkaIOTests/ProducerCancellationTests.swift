import FakeCluster
import FakeClusterTCP
@testable import KafkaIO
import KafkaProtocol
import Testing

/// Every waiting producer call returns promptly when its task is cancelled, and the client
/// goes on working — against FakeCluster's TCP listener holding a Produce answer back.
@Suite struct ProducerCancellationTests {
    typealias Support = ConsumerCancellationTests
    typealias Lifecycle = ServiceLifecycleTests

    /// A server that holds its first Produce answer back until the test calls `release`,
    /// and a client of it. Nothing here races a timer: a wait that ignored its cancellation
    /// could only end with the answer, and the answer is not sent before the checks (a CI
    /// run on 2 cores once took over 30 s to get the first Produce out while the whole suite
    /// ran, so a 6 s delay could have been over before the cancel). The time bounds below
    /// are hang guards only.
    static func heldProduce(_ configure: (inout KafkaClientConfiguration) -> Void = { _ in }) async throws -> (FakeClusterServer, KafkaClient) {
        let server = try Lifecycle.server()
        try await server.withCluster { cluster, _ in
            cluster.delayResponses(.produce, milliseconds: 3_600_000, count: 1)
            return ((), [])
        }.get()
        var config = Support.configuration(server)
        configure(&config)
        return (server, try KafkaClient(configuration: config, logger: TestEnvironment.logger))
    }

    /// Returns once the broker has the first Produce request (and is holding its answer).
    static func untilHeld(_ server: FakeClusterServer) async throws {
        let clock = ContinuousClock()
        let start = clock.now
        while try await Lifecycle.requests(.produce, server) == 0 {
            if clock.now - start > .seconds(120) { Issue.record("no Produce reached the broker in 120 s"); return }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    /// Lets the held Produce answer go.
    static func release(_ server: FakeClusterServer) async throws {
        try await server.withCluster { cluster, now in ((), cluster.releaseDelayedResponses(now: now)) }.get()
    }

    static func produced(_ client: KafkaClient, _ value: UInt8) -> Task<Result<ProducedRecord, ProduceError>, Never> {
        Task {
            do throws(ProduceError) { return .success(try await client.produce(KafkaRecord(topic: "t", value: [value]))) } catch { return .failure(error) }
        }
    }

    @Test func cancellingAnAsyncProduceAwaitingItsAnswerThrowsCancelled() async throws {
        let (server, client) = try await Self.heldProduce()
        defer { try? server.shutdown() }
        let first = Self.produced(client, 0)
        try await Self.untilHeld(server)
        first.cancel()
        let result = await Support.value(of: first, within: .seconds(60))
        guard case .failure(.cancelled)? = result else {
            Issue.record("expected .cancelled, got \(String(describing: result))")
            await client.close()
            return
        }
        try await Self.release(server)
        // The cancelled record was queued already: it is still delivered (offset 0), so the
        // next lands after it.
        let next = try await client.produce(KafkaRecord(topic: "t", value: [1]))
        #expect(next.offset == 1)
        await client.close()
    }

    @Test func cancellingAProduceWaitingForBufferRoomQueuesNothing() async throws {
        let (server, client) = try await Self.heldProduce { $0.producer.maxBufferedRecords = 1 }
        defer { try? server.shutdown() }
        let firstDone = CancellableWait<Result<ProducedRecord, ProduceError>>()
        await client.produce(KafkaRecord(topic: "t", value: [0])) { firstDone.finish($0) }
        try await Self.untilHeld(server)
        let waiting = Self.produced(client, 1)
        let clock = ContinuousClock()
        let start = clock.now
        while client.producerGate.waiting == 0, clock.now - start < .seconds(60) { try await Task.sleep(for: .milliseconds(10)) }
        #expect(client.producerGate.waiting == 1, "the second produce never waited for room")
        waiting.cancel()
        let result = await Support.value(of: waiting, within: .seconds(60))
        guard case .failure(.cancelled)? = result else {
            Issue.record("expected .cancelled, got \(String(describing: result))")
            await client.close()
            return
        }
        #expect(client.producerGate.waiting == 0)
        #expect(client.bufferedRecords == 1)
        try await Self.release(server)
        // The held record completes; the cancelled one was never queued, so the next record
        // lands right after the first.
        _ = try await firstDone.value(cancelled: .failure(.cancelled)).get()
        let next = try await client.produce(KafkaRecord(topic: "t", value: [2]))
        #expect(next.offset == 1)
        await client.close()
    }

    @Test func cancellingProduceAndWaitReturnsEveryUnansweredRecordCancelled() async throws {
        let (server, client) = try await Self.heldProduce()
        defer { try? server.shutdown() }
        let batch = Task { await client.produceAndWait((0 ..< 3).map { KafkaRecord(topic: "t", value: [UInt8($0)]) }) }
        try await Self.untilHeld(server)
        batch.cancel()
        let results = await Support.value(of: batch, within: .seconds(60))
        #expect(results?.count == 3, "produceAndWait went on waiting after its task was cancelled")
        #expect(results?.allSatisfy { if case .failure(.cancelled) = $0 { return true } else { return false } } == true, "\(String(describing: results))")
        try await Self.release(server)
        let after = await client.produceAndWait([KafkaRecord(topic: "t", value: [9])])
        #expect(after.count == 1)
        #expect((try? after[0].get().offset) == 3, "\(after)")
        await client.close()
    }

    @Test func cancellingAFlushReturnsAtOnceAndTheFlushGoesOn() async throws {
        let (server, client) = try await Self.heldProduce()
        defer { try? server.shutdown() }
        let delivered = CancellableWait<Result<ProducedRecord, ProduceError>>()
        await client.produce(KafkaRecord(topic: "t", value: [0])) { delivered.finish($0) }
        try await Self.untilHeld(server)
        let flush = Task { () -> Int in
            await client.flush()
            return client.bufferedRecords
        }
        try await Task.sleep(for: .milliseconds(100))
        flush.cancel()
        // A flush that waited would see nothing buffered; a cancelled one returns before the answer.
        let buffered = await Support.value(of: flush, within: .seconds(60))
        #expect(buffered == 1, "flush went on waiting after its task was cancelled")
        try await Self.release(server)
        // A flush that is not cancelled waits for the held record.
        await client.flush()
        let result = await delivered.value(cancelled: .failure(.cancelled))
        #expect((try? result.get().offset) == 0, "\(result)")
        await client.close()
    }

    @Test func cancellingACloseReturnsAtOnceAndTheClientStillCloses() async throws {
        let (server, client) = try await Self.heldProduce { $0.closeTimeout = .seconds(120) }
        defer { try? server.shutdown() }
        let delivered = CancellableWait<Result<ProducedRecord, ProduceError>>()
        await client.produce(KafkaRecord(topic: "t", value: [0])) { delivered.finish($0) }
        try await Self.untilHeld(server)
        // The close waits for the held answer (released below, inside the close timeout).
        let close = Task { () -> Int in
            await client.close()
            return client.bufferedRecords
        }
        try await Task.sleep(for: .milliseconds(100))
        close.cancel()
        // A close that waited would see the record answered; a cancelled one returns before.
        let buffered = await Support.value(of: close, within: .seconds(60))
        #expect(buffered == 1, "close went on waiting after its task was cancelled")
        try await Self.release(server)
        // The client is closing: the held record is still answered, and a second close
        // returns once the client has closed.
        let result = await delivered.value(cancelled: .failure(.cancelled))
        #expect((try? result.get().offset) == 0, "\(result)")
        await client.close()
        do {
            _ = try await client.request(MetadataRequest())
            Issue.record("a request after close went through")
        } catch {
            #expect(error == .clientClosed)
        }
    }
}
