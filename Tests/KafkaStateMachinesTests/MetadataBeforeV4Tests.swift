import Testing
@testable import KafkaStateMachines

/// Metadata before v4 (Kafka before 0.11) has no allowAutoTopicCreation field and, at v0,
/// no null topic list. Our refreshes ask for no auto-creation; to such a broker they must
/// still go out (the broker auto-creates by its own configuration), else every refresh
/// fails encoding and a producer or consumer waits for metadata forever.
@Suite struct MetadataBeforeV4Tests {
    static func pinned(_ release: String) -> Harness {
        var config = Harness.config()
        config.pinnedBrokerRelease = KafkaRelease.named(release)
        return Harness(config)
    }

    @Test(arguments: ["0.8.2", "0.9.0", "0.10.0", "0.10.2"])
    func noAutoCreationIsSentAtTheReleasesVersion(release: String) throws {
        var h = Self.pinned(release)
        var request = MetadataRequest()
        request.allowAutoTopicCreation = false
        var t = MetadataRequest.MetadataRequestTopic()
        t.name = "t"
        request.topics = [t]
        _ = h.request(request, to: .anyBroker, promise: 1)
        let sent = decodeWrites(h.opened(1))
        let max = try #require(KafkaRelease.named(release)?.versions(.metadata)?.upperBound)
        #expect(max < 4)
        #expect(sent.count == 1 && sent[0].apiKey == .metadata && sent[0].version == max, "\(sent.map { ($0.apiKey, $0.version) })")
        #expect((sent.first?.body as? MetadataRequest)?.topics?.map(\.name) == ["t"])
        let done = h.receive(1, respond(sent[0], metadataResponse(brokers: [1], topics: [("t", [(0, 1)])])))
        #expect(success(done, 1, as: MetadataResponse.self)?.topics.first?.name == "t")
        #expect(failure(done, 1) == nil)
    }

    /// Every topic at v0 is an empty list (null cannot be written there).
    @Test func everyTopicAtV0IsAnEmptyList() {
        var h = Self.pinned("0.8.2")
        var request = MetadataRequest()
        request.topics = nil
        request.allowAutoTopicCreation = false
        _ = h.request(request, to: .anyBroker, promise: 1)
        let sent = decodeWrites(h.opened(1))
        #expect(sent.count == 1 && sent[0].version == 0)
        #expect((sent.first?.body as? MetadataRequest)?.topics?.isEmpty == true)
    }

    /// From v4 the field goes as asked.
    @Test func fromV4TheFieldIsSent() {
        var h = Self.pinned("0.11.0")
        var request = MetadataRequest()
        request.allowAutoTopicCreation = false
        _ = h.request(request, to: .anyBroker, promise: 1)
        let sent = decodeWrites(h.opened(1))
        #expect(sent.count == 1 && sent[0].version >= 4)
        #expect((sent.first?.body as? MetadataRequest)?.allowAutoTopicCreation == false)
    }

    /// The engine's own refresh (no auto-creation) to a pinned 0.10.2: the producer learns
    /// the leader and its records are delivered with Produce v2.
    @Test func producerReachesA0_10_2Broker() {
        var w = ProducerWorld({ $0.idempotent = false; $0.acks = .all }, engine: { $0.pinnedBrokerRelease = KafkaRelease.named("0.10.2") })
        w.topics["t"] = [.init(leader: 1)]
        #expect(w.produce("t", 0, [1, 2]) == [nil, nil])
        w.flush(9)
        // (A batch sealed before the leader's versions were known is refused locally and
        // resent as a legacy message set after the backoff.)
        w.run(until: 2_000)
        #expect(!w.metadataRequests.isEmpty)
        #expect(w.held.map(\.seen.version) == [2], "\(w.h.log)")
        w.answerAll()
        #expect(w.deliveredTokens == [1, 2])
        #expect(w.failedTokens.isEmpty)
    }
}
