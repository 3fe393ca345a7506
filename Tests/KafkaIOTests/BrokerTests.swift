@testable import KafkaIO
import KafkaProtocol
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// The client against a real broker (Tansu on loopback), in plaintext and through the
/// stunnel TLS proxy: every test runs over both transports.
@Suite struct BrokerTests {
    enum Transport: String, CaseIterable, CustomTestStringConvertible {
        case plaintext, tls
        var testDescription: String { rawValue }
    }

    static func client(_ transport: Transport) throws -> KafkaClient {
        switch transport {
        case .plaintext:
            return try KafkaClient(configuration: TestEnvironment.configuration([try TestEnvironment.broker()]),
                                   logger: TestEnvironment.logger)
        case .tls:
            let (address, ca) = try TestEnvironment.tlsBroker()
            var config = TestEnvironment.configuration([address])
            config.tls = try .files(caFile: ca)
            return try KafkaClient(configuration: config, logger: TestEnvironment.logger)
        }
    }

    @Test(arguments: Transport.allCases)
    func metadataListsTheBrokerAtTheAddressWeDialed(_ transport: Transport) async throws {
        let client = try Self.client(transport)
        var request = MetadataRequest()
        request.topics = nil
        let response = try await client.request(request)
        await client.close()
        #expect(response.brokers.count == 1)
        // Tansu advertises the address clients must use: the TLS port behind the proxy.
        let dialed = transport == .tls ? try TestEnvironment.tlsBroker().0 : try TestEnvironment.broker()
        #expect(response.brokers.first.map { Int($0.port) } == dialed.port)
    }

    @Test(arguments: Transport.allCases)
    func apiVersionsListsMetadataAndProduce(_ transport: Transport) async throws {
        let client = try Self.client(transport)
        let response = try await client.request(ApiVersionsRequest(), to: .anyBroker)
        await client.close()
        #expect(response.errorCode == 0)
        let keys = Set(response.apiKeys.map(\.apiKey))
        #expect(keys.isSuperset(of: [ApiKey.metadata.rawValue, ApiKey.produce.rawValue, ApiKey.fetch.rawValue]))
    }

    /// CreateTopics, Produce and Fetch as raw requests: the records we produce come back.
    @Test(arguments: Transport.allCases)
    func createProduceFetchRoundTrip(_ transport: Transport) async throws {
        let client = try Self.client(transport)
        let topic = "kafkaio-\(transport.rawValue)-\(UInt32.random(in: 0 ... .max))"

        var create = CreateTopicsRequest()
        var creatable = CreateTopicsRequest.CreatableTopic()
        creatable.name = topic
        creatable.numPartitions = 1
        creatable.replicationFactor = 1
        create.topics = [creatable]
        let created = try await client.request(create)
        #expect(created.topics.map(\.errorCode) == [0])

        let values: [[UInt8]] = [Array("one".utf8), Array("two".utf8), Array("three".utf8)]
        var writer = ByteWriter()
        try RecordBatchEncoder.encode(values.map { EncodableRecord(value: $0, timestamp: 1_700_000_000_000) },
                                      contexts: CompressionContexts(), into: &writer)
        var produce = ProduceRequest()
        produce.acks = -1
        produce.timeoutMs = 5000
        var partition = ProduceRequest.PartitionProduceData()
        partition.index = 0
        partition.records = writer.bytes
        var topicData = ProduceRequest.TopicProduceData()
        topicData.name = topic
        topicData.partitionData = [partition]
        produce.topicData = [topicData]
        let produced = try await client.request(produce)
        let answer = try #require(produced.responses.first?.partitionResponses.first)
        #expect(answer.errorCode == 0)
        #expect(answer.baseOffset == 0)

        var fetch = FetchRequest()
        fetch.maxWaitMs = 500
        fetch.minBytes = 1
        var fetchPartition = FetchRequest.FetchPartition()
        fetchPartition.partition = 0
        fetchPartition.fetchOffset = 0
        fetchPartition.partitionMaxBytes = 1 << 20
        var fetchTopic = FetchRequest.FetchTopic()
        fetchTopic.topic = topic
        fetchTopic.partitions = [fetchPartition]
        fetch.topics = [fetchTopic]
        // Fetch v13+ names topics by id only; the name-based versions keep this test simple.
        let fetched = try await client.request(fetch, pin: 4...12)
        await client.close()
        let data = try #require(fetched.responses.first?.partitions.first)
        #expect(data.errorCode == 0)
        #expect(data.highWatermark == 3)
        let batches = try RecordsReader.decodeAll(data.records ?? [], contexts: CompressionContexts()).batches
        let got = batches.flatMap(\.records).map { $0.value.map(Array.init) }
        #expect(got == values.map { Optional($0) })
    }

    /// Many concurrent calls share one connection and all complete.
    @Test func concurrentRequestsAllComplete() async throws {
        let client = try Self.client(.plaintext)
        let counts = try await withThrowingTaskGroup(of: Int.self) { group in
            for _ in 0..<200 {
                group.addTask { try await client.request(ApiVersionsRequest(), to: .anyBroker).apiKeys.count }
            }
            var all: [Int] = []
            for try await c in group { all.append(c) }
            return all
        }
        await client.close()
        #expect(counts.count == 200)
        #expect(Set(counts).count == 1)
    }

    @Test func requestsAfterCloseFailWithClientClosed() async throws {
        let client = try Self.client(.plaintext)
        _ = try await client.request(ApiVersionsRequest(), to: .anyBroker)
        await client.close()
        await #expect(throws: KafkaClientError.clientClosed) {
            try await client.request(ApiVersionsRequest(), to: .anyBroker)
        }
    }

    /// Close is graceful: a request already sent finishes instead of failing.
    @Test func closeLetsOutstandingRequestsFinish() async throws {
        let client = try Self.client(.plaintext)
        // Queued before the close (the callback form queues it before returning; a child
        // task given 20 ms was not always queued in time on a loaded machine).
        let answer = CancellableWait<Result<any KafkaResponse, KafkaClientError>>()
        client.request(any: MetadataRequest()) { answer.finish($0) }
        await client.close()
        let result = await answer.value(cancelled: .failure(.cancelled))
        #expect((try? result.get() as? MetadataResponse)?.brokers.count == 1, "\(result)")
    }

    /// close() returns only after every socket it opened is closed.
    @Test(arguments: Transport.allCases)
    func closeClosesEveryConnection(_ transport: Transport) async throws {
        let channels = NIOLockedValueBox<[any Channel]>([])
        var config = try Self.client(transport).configuration
        // A loaded run can take longer than the 20 s idle timeout, which would reap a
        // connection before the check below and fail it for the wrong reason.
        config.connectionIdleTimeout = .seconds(600)
        config.dialer = KafkaDialer { host, port, loop, timeout in
            KafkaDialer.tcp.dial(host, port, loop, timeout).map { channel in
                channels.withLockedValue { $0.append(channel) }
                return channel
            }
        }
        let client = try KafkaClient(configuration: config, logger: TestEnvironment.logger)
        _ = try await client.request(MetadataRequest())
        #expect(channels.withLockedValue { $0.allSatisfy(\.isActive) })
        await client.close()
        let all = channels.withLockedValue { $0 }
        #expect(!all.isEmpty)
        #expect(all.allSatisfy { !$0.isActive })
    }

    /// Calls made while the loop is busy reach the engine together, in one hop.
    @Test func callsHopToTheLoopInBatches() async throws {
        // A loop of its own: holding the shared one would stall the other tests' clients.
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        defer { group.shutdownGracefully { _ in } }
        var config = TestEnvironment.configuration([try TestEnvironment.broker()])
        config.eventLoopGroup = group
        let client = try KafkaClient(configuration: config, logger: TestEnvironment.logger)
        _ = try await client.request(ApiVersionsRequest(), to: .anyBroker)
        let hops = NIOLockedValueBox((hops: 0, calls: 0))
        try await client.observeHops { calls in hops.withLockedValue { $0.hops += 1; $0.calls += calls } }.get()
        // Hold the loop until all the calls below are queued (or 30 s pass), so they pile up
        // in the inbox whatever the test process's load.
        // Told it started by a continuation, not a future: awaiting a future registers its
        // callback through the loop, behind the busy task, so the calls below would only be
        // made after it gave up (and arriving at a free loop, they took hops of their own).
        await withCheckedContinuation { (started: CheckedContinuation<Void, Never>) in
            client.loop.execute {
                started.resume()
                let clock = ContinuousClock()
                let deadline = clock.now + .seconds(30)
                while client.queuedCommands() < 100, clock.now < deadline { usleep(1000) }
            }
        }
        // Submitted from this task through the callback form, not from 100 child tasks that
        // a loaded test process might not schedule before the loop's deadline.
        let answered = NIOLockedValueBox((count: 0, failures: 0, done: nil as CheckedContinuation<Void, Never>?))
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            answered.withLockedValue { $0.done = c }
            for _ in 0..<100 {
                client.request(any: ApiVersionsRequest(), to: .anyBroker) { result in
                    let done = answered.withLockedValue { a -> CheckedContinuation<Void, Never>? in
                        a.count += 1
                        if case .failure = result { a.failures += 1 }
                        return a.count == 100 ? a.done : nil
                    }
                    done?.resume()
                }
            }
        }
        #expect(answered.withLockedValue { $0.failures } == 0)
        await client.close()
        let seen = hops.withLockedValue { $0 }
        // The 100 calls, then close's own hop.
        #expect(seen.calls == 101)
        // One hop per call would be 100; the calls queued behind the busy loop share one.
        #expect(seen.hops == 2, "\(seen.hops - 1) hops for 100 calls")
    }
}
