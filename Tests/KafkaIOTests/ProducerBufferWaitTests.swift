import Foundation
import FakeClusterTCP
@testable import KafkaIO
import Testing

/// How each callback form of `produce` waits for buffer room: the async one suspends (and a
/// cancelled wait completes its record `.cancelled`, never queued), the synchronous one blocks
/// a thread of its own but never a Swift concurrency thread. Against FakeCluster's TCP
/// listener holding the first Produce answer back until the test releases it, with room for
/// one record.
@Suite struct ProducerBufferWaitTests {
    typealias Held = ProducerCancellationTests
    typealias Support = ConsumerCancellationTests

    /// A full buffer: one record queued whose answer the broker holds.
    static func fullBuffer() async throws -> (FakeClusterServerHandle, KafkaClient, CancellableWait<Result<ProducedRecord, ProduceError>>) {
        let (server, client) = try await Held.heldProduce { $0.producer.maxBufferedRecords = 1 }
        let first = CancellableWait<Result<ProducedRecord, ProduceError>>()
        await client.produce(KafkaRecord(topic: "t", value: [0])) { first.finish($0) }
        try await Held.untilHeld(server)
        return (FakeClusterServerHandle(server), client, first)
    }

    static func untilWaiting(_ client: KafkaClient) async throws {
        let clock = ContinuousClock()
        let start = clock.now
        while client.producerGate.waiting == 0, clock.now - start < .seconds(60) { try await Task.sleep(for: .milliseconds(10)) }
    }

    @Test func asyncCallbackProduceSuspendsForRoomThenQueues() async throws {
        let (server, client, first) = try await Self.fullBuffer()
        defer { server.shutdown() }
        let second = CancellableWait<Result<ProducedRecord, ProduceError>>()
        let call = Task { await client.produce(KafkaRecord(topic: "t", value: [1])) { second.finish($0) } }
        try await Self.untilWaiting(client)
        #expect(client.producerGate.waiting == 1, "the call did not wait for room")
        try await server.release()
        // Room comes back when the held record is answered; the waiting one is then queued.
        _ = try await first.value(cancelled: .failure(.cancelled)).get()
        await call.value
        let landed = try await second.value(cancelled: .failure(.cancelled)).get()
        #expect(landed.offset == 1)
        await client.close()
    }

    @Test func cancellingAnAsyncCallbackProduceWaitingForRoomCompletesItCancelled() async throws {
        let (server, client, first) = try await Self.fullBuffer()
        defer { server.shutdown() }
        let second = CancellableWait<Result<ProducedRecord, ProduceError>>()
        let call = Task { await client.produce(KafkaRecord(topic: "t", value: [1])) { second.finish($0) } }
        try await Self.untilWaiting(client)
        call.cancel()
        let returned = await Support.value(of: call, within: .seconds(60))
        #expect(returned != nil, "the cancelled call went on waiting")
        guard case .failure(.cancelled) = await second.value(cancelled: .failure(.bufferFull)) else {
            Issue.record("the cancelled record's completion was not .cancelled")
            await client.close()
            return
        }
        #expect(client.producerGate.waiting == 0)
        #expect(client.bufferedRecords == 1)
        // Never queued: the next record lands right after the held one.
        try await server.release()
        _ = try await first.value(cancelled: .failure(.cancelled)).get()
        #expect(try await client.produce(KafkaRecord(topic: "t", value: [2])).offset == 1)
        await client.close()
    }

    @Test func syncProduceInsideATaskAnswersBufferFullInsteadOfBlocking() async throws {
        let (server, client, first) = try await Self.fullBuffer()
        defer { server.shutdown() }
        let second = CancellableWait<Result<ProducedRecord, ProduceError>>()
        // Synchronous code running inside a task: the overload that cannot suspend.
        let produceNow: () -> Void = { client.produce(KafkaRecord(topic: "t", value: [1])) { second.finish($0) } }
        produceNow()
        guard case .failure(.bufferFull) = await second.value(cancelled: .failure(.cancelled)) else {
            Issue.record("a full buffer inside a task was not answered .bufferFull at once")
            await client.close()
            return
        }
        #expect(client.producerGate.waiting == 0)
        try await server.release()
        _ = try await first.value(cancelled: .failure(.cancelled)).get()
        await client.close()
    }

    @Test func syncProduceOnAThreadOfItsOwnBlocksForRoom() async throws {
        let (server, client, first) = try await Self.fullBuffer()
        defer { server.shutdown() }
        let second = CancellableWait<Result<ProducedRecord, ProduceError>>()
        let returned = CancellableWait<Void>()
        Thread.detachNewThread {
            client.produce(KafkaRecord(topic: "t", value: [1])) { second.finish($0) }
            returned.finish(())
        }
        try await Self.untilWaiting(client)
        #expect(client.producerGate.waiting == 1, "the thread did not block waiting for room")
        try await server.release()
        _ = try await first.value(cancelled: .failure(.cancelled)).get()
        await returned.value()
        let landed = try await second.value(cancelled: .failure(.cancelled)).get()
        #expect(landed.offset == 1)
        await client.close()
    }
}

/// Lets a test's `defer` shut the server down without `try`.
struct FakeClusterServerHandle {
    let server: FakeClusterServer
    init(_ server: FakeClusterServer) { self.server = server }
    func shutdown() { try? server.shutdown() }
    /// Lets the held Produce answer go (`ProducerCancellationTests.release`).
    func release() async throws { try await ProducerCancellationTests.release(server) }
}
