import Testing
@testable import KafkaStateMachines

/// `cancel(promise:)`: the request completes at once with `.cancelled`; unsent, it is never
/// sent; sent, its late answer is read (the stream stays in step) and dropped.
@Suite struct CancellationTests {
    mutating func cancel(_ h: inout Harness, _ promise: UInt64) -> [Action] {
        h.engine.cancel(promise: PromiseID(promise), now: h.now)
        return h.drain()
    }

    @Test mutating func queuedRequestIsNeverSent() {
        var h = Harness(Harness.config())
        #expect(opens(h.request(MetadataRequest(), to: .anyBroker, promise: 1)).count == 1)
        let cancelled = cancel(&h, 1)
        #expect(failure(cancelled, 1) == .cancelled)
        #expect(completions(cancelled).count == 1)
        // The handshake goes on (the connection is useful), but nothing else is written.
        #expect(decodeWrites(h.handshake(1)).isEmpty)
        #expect(completions(h.log).count == 1)
    }

    @Test mutating func sentRequestsLateAnswerIsIgnoredAndTheConnectionKeepsWorking() {
        var h = Harness(Harness.config())
        _ = h.request(MetadataRequest(), to: .anyBroker, promise: 1)
        let sent = decodeWrites(h.handshake(1))
        #expect(sent.map(\.apiKey) == [.metadata])
        #expect(failure(cancel(&h, 1), 1) == .cancelled)
        // A second request pipelined behind the cancelled one.
        let second = decodeWrites(h.request(ListGroupsRequest(), to: .anyBroker, promise: 2))
        #expect(second.map(\.apiKey) == [.listGroups] && second[0].connection == ConnectionID(1))
        let late = h.receive(1, respond(sent[0], metadataResponse(brokers: [1])))
        #expect(late.isEmpty, "\(late)")
        let done = h.receive(1, respond(second[0], ListGroupsResponse()))
        #expect(success(done, 2, as: ListGroupsResponse.self) != nil)
        #expect(closes(h.log).isEmpty)
        #expect(completions(h.log).map(\.0) == [PromiseID(1), PromiseID(2)])
        // The cancelled request's answer was not applied as metadata either.
        #expect(h.engine.metadata.brokers.isEmpty)
    }

    @Test mutating func cancelledSplitRequestCompletesOnceAndDropsItsShards() {
        var h = Harness(Harness.config())
        var lo = ListOffsetsRequest()
        lo.replicaId = -1
        var topic = ListOffsetsRequest.ListOffsetsTopic()
        topic.name = "t"
        topic.partitions = [Int32(0), 1].map { p in
            var x = ListOffsetsRequest.ListOffsetsPartition()
            x.partitionIndex = p
            x.timestamp = -1
            return x
        }
        lo.topics = [topic]
        _ = h.request(lo, promise: 1)
        let meta = decodeWrites(h.handshake(1))
        _ = h.receive(1, respond(meta[0], metadataResponse(brokers: [1, 2], topics: [("t", [(0, 1), (1, 2)])])))
        let shardToNode1 = decodeWrites(h.handshake(2))
        #expect(shardToNode1.map(\.apiKey) == [.listOffsets])
        // Node 2's shard is still waiting for its connection.
        let cancelled = cancel(&h, 1)
        #expect(failure(cancelled, 1) == .cancelled)
        #expect(decodeWrites(h.handshake(3)).isEmpty)
        #expect(h.receive(2, respond(shardToNode1[0], ListOffsetsResponse())).isEmpty)
        #expect(completions(h.log).count == 1)
    }

    @Test mutating func cancellingACompletedOrUnknownPromiseDoesNothing() {
        var h = Harness(Harness.config())
        _ = h.request(MetadataRequest(), to: .anyBroker, promise: 1)
        let sent = decodeWrites(h.handshake(1))
        _ = h.receive(1, respond(sent[0], metadataResponse(brokers: [1])))
        #expect(cancel(&h, 1).isEmpty)
        #expect(cancel(&h, 99).isEmpty)
    }

    /// A cancelled request that is never answered still holds its place in the pipeline:
    /// past its deadline the connection is closed (nothing behind it can arrive), and the
    /// request behind it fails retriably, not as the cancelled one's timeout.
    @Test mutating func unansweredCancelledRequestStillTimesTheConnectionOut() {
        var config = Harness.config()
        config.maxRetries = 0
        var h = Harness(config)
        _ = h.request(MetadataRequest(), to: .anyBroker, promise: 1)
        _ = h.handshake(1)
        _ = cancel(&h, 1)
        _ = h.request(ListGroupsRequest(), to: .anyBroker, promise: 2)
        let after = h.advance(to: 10_000)
        #expect(closes(after) == [ConnectionID(1)])
        #expect(failure(after, 2) == .connectionClosed(broker: .seed(0)))
    }
}
