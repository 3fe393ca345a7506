import Dispatch
import FakeClusterTCP
@testable import KafkaIO
import KafkaProtocol
import NIOConcurrencyHelpers
import Testing

/// Records queued before and after another command land in one hop as two runs; each run
/// must reach the engine whole. (A soak run crashed on "produce tokens out of step": the
/// first run was cut to nothing, so the records between never reached the engine.)
@Suite struct ProducerRecordRunsTests {
    @Test func eachRunEndsWhereTheNextBegins() {
        let flush = KafkaClient.Command.flush {}
        #expect(EngineDriver.recordRunEnds([.records(from: 0)], recordCount: 4) == [4])
        #expect(EngineDriver.recordRunEnds([.records(from: 0), flush, .records(from: 5)], recordCount: 8) == [5, 8])
        #expect(EngineDriver.recordRunEnds([flush, .records(from: 0), flush, .records(from: 2), flush, .records(from: 3)], recordCount: 7) == [2, 3, 7])
        #expect(EngineDriver.recordRunEnds([flush], recordCount: 0) == [])
    }

    /// The same through a real client: its loop is held while a record, a request and a
    /// second record are queued, so one hop takes them as two runs; both records are
    /// delivered, in order.
    @Test func aRequestBetweenRecordsInOneHopLosesNothing() async throws {
        let server = try ServiceLifecycleTests.server()
        defer { try? server.shutdown() }
        let client = try KafkaClient(configuration: ConsumerCancellationTests.configuration(server), logger: TestEnvironment.logger)
        _ = try await client.produce(KafkaRecord(topic: "t", value: [0]))   // metadata and producer id first
        let results = NIOLockedValueBox<[Int: Int64]>([:])
        let answered = NIOLockedValueBox(false)
        let held = DispatchSemaphore(value: 0)
        let holding = DispatchSemaphore(value: 0)
        client.loop.execute {
            holding.signal()
            held.wait()
        }
        holding.wait()
        // The synchronous overloads: queued in this order, none waiting.
        let queue: () -> Void = {
            client.produce(KafkaRecord(topic: "t", value: [1])) { r in results.withLockedValue { $0[1] = (try? r.get())?.offset ?? -1 } }
            client.request(any: MetadataRequest()) { _ in answered.withLockedValue { $0 = true } }
            client.produce(KafkaRecord(topic: "t", value: [2])) { r in results.withLockedValue { $0[2] = (try? r.get())?.offset ?? -1 } }
        }
        queue()
        held.signal()
        let clock = ContinuousClock()
        let start = clock.now
        while results.withLockedValue({ $0.count }) < 2 || !answered.withLockedValue({ $0 }), clock.now - start < .seconds(60) {
            try await Task.sleep(for: .milliseconds(10))
        }
        #expect(results.withLockedValue { $0 } == [1: 1, 2: 2])
        #expect(answered.withLockedValue { $0 })
        await client.close()
    }
}
