import Testing
@testable import KafkaStateMachines

/// Transcripts of the fetcher on a topic deleted and created again under its name: metadata
/// gives the name a new topic ID, and the partitions start over as a new topic's (reset
/// policy or the subscription's start, no epoch), never through KIP-320 validation with an
/// epoch the new topic never had.
@Suite struct FetcherRecreatedTopicTests {
    typealias F = FetcherTests
    static let old = KafkaUUID(high: 1, low: 1)
    static let new = KafkaUUID(high: 2, low: 2)

    static func metadata(id: KafkaUUID, epoch: Int32) -> MetadataCache {
        var r = MetadataResponse()
        var b = MetadataResponse.MetadataResponseBroker()
        b.nodeId = 1
        b.host = "b1"
        b.port = 9092
        r.brokers = [b]
        var t = MetadataResponse.MetadataResponseTopic()
        t.name = "t"
        t.topicId = id
        var p = MetadataResponse.MetadataResponsePartition()
        p.partitionIndex = 0
        p.leaderId = 1
        p.leaderEpoch = epoch
        t.partitions = [p]
        r.topics = [t]
        var m = MetadataCache()
        m.apply(r, now: .zero)
        return m
    }

    typealias Sent = (tag: UInt64, request: any KafkaRequest, broker: Int32)

    /// Consumes offsets 0-3 of the old topic at leader epoch 5: position (4, 5); returns the
    /// tag of the next fetch, already out.
    static func consumedOld(_ run: inout F.Run, subscribe: Bool = false) -> UInt64? {
        if subscribe {
            run.f.subscribe(TopicSubscription(topics: ["t"], start: .exact(0)), metadata: run.md)
        } else {
            run.f.assign([F.tp0: .exact(0)])
        }
        let s = F.sends(run.step())
        let after = F.sends(run.answer(s[0].tag, F.fetchResponse([(F.tp0, F.batch(["a", "b", "c", "d"], base: 0, epoch: 5), .noError)])))
        #expect(run.f.position(of: F.tp0)! == (4, 5))
        let pending = after.first { $0.request is FetchRequest }?.tag
        #expect(pending != nil)
        return pending
    }

    static func run(_ config: FetcherConfig = FetcherConfig()) -> F.Run {
        F.Run(config, md: metadata(id: old, epoch: 5))
    }

    /// New metadata (`id`, `epoch`), then the fetch still out on the old topic answers
    /// empty at its end; what is sent after.
    static func refresh(_ run: inout F.Run, pending: UInt64?, id: KafkaUUID, epoch: Int32, before: (inout F.Run) -> Void = { _ in }) -> [Sent] {
        run.md = metadata(id: id, epoch: epoch)
        run.f.metadataUpdated(run.md)
        before(&run)
        run.now = .milliseconds(1)
        var out = F.sends(run.step())
        if let pending { out += F.sends(run.answer(pending, F.fetchResponse([(F.tp0, nil, .noError)], hw: 4))) }
        return out
    }

    /// The new topic's epochs start below the old position's: without the reset the
    /// partition would fetch at offset 4 of a topic that may have no such offset. With
    /// reset policy start it lists the new topic's start and fetches from there, no epoch.
    @Test func anAssignedPartitionStartsOverByTheResetPolicy() {
        var run = Self.run()
        let pending = Self.consumedOld(&run)
        let out = Self.refresh(&run, pending: pending, id: Self.new, epoch: 0)
        #expect(!out.contains { $0.request is OffsetForLeaderEpochRequest })
        let list = out.first { $0.request is ListOffsetsRequest }
        #expect((list?.request as? ListOffsetsRequest)?.topics.first?.partitions.first?.timestamp == -2, "\(out.map(\.request))")
        guard let list else { return }
        let next = F.sends(run.answer(list.tag, F.listResponse([(F.tp0, 0)], epoch: 0)))
        let fetch = next.first { $0.request is FetchRequest }?.request as? FetchRequest
        #expect(fetch?.topics.first?.partitions.first?.fetchOffset == 0)
        #expect(fetch?.topics.first?.partitions.first?.currentLeaderEpoch == 0)
    }

    /// The new topic's leader epoch is above the old one's: that is no leader change of the
    /// old topic, so no OffsetForLeaderEpoch with the old epoch; reset policy end lists the end.
    @Test func aHigherEpochOnTheNewTopicIsNoValidation() {
        var config = FetcherConfig()
        config.resetPolicy = .end
        var run = Self.run(config)
        let pending = Self.consumedOld(&run)
        let out = Self.refresh(&run, pending: pending, id: Self.new, epoch: 9)
        #expect(!out.contains { $0.request is OffsetForLeaderEpochRequest }, "validated the old epoch against the new topic: \(out.map(\.request))")
        let list = out.first { $0.request is ListOffsetsRequest }?.request as? ListOffsetsRequest
        #expect(list?.topics.first?.partitions.first?.timestamp == -1)
        #expect(list?.topics.first?.partitions.first?.currentLeaderEpoch == 9)
    }

    /// A subscribed partition starts where the subscription starts new partitions.
    @Test func aSubscribedPartitionStartsWhereTheSubscriptionStarts() {
        var run = Self.run()
        let pending = Self.consumedOld(&run, subscribe: true)
        let out = Self.refresh(&run, pending: pending, id: Self.new, epoch: 0)
        #expect(!out.contains { $0.request is OffsetForLeaderEpochRequest })
        let fetch = out.first { $0.request is FetchRequest }?.request as? FetchRequest
        #expect(fetch?.topics.first?.partitions.first?.fetchOffset == 0, "\(out.map(\.request))")
        #expect(run.f.position(of: F.tp0).map { $0.epoch } == -1)
    }

    /// The same topic ID again (an ordinary refresh) changes nothing; a leader epoch bump of
    /// the same topic still validates.
    @Test func theSameTopicIdKeepsThePositionAndValidatesEpochBumps() {
        var run = Self.run()
        let pending = Self.consumedOld(&run)
        let out = Self.refresh(&run, pending: pending, id: Self.old, epoch: 6)
        let v = out.first { $0.request is OffsetForLeaderEpochRequest }?.request as? OffsetForLeaderEpochRequest
        #expect(v?.topics.first?.partitions.first?.leaderEpoch == 5, "\(out.map(\.request))")
        #expect(!out.contains { $0.request is ListOffsetsRequest })
    }

    /// A user's seek after the recreation is kept: the start is for the topic as it is now.
    @Test func aSeekAfterTheRecreationIsKept() {
        var run = Self.run()
        let pending = Self.consumedOld(&run)
        let out = Self.refresh(&run, pending: pending, id: Self.new, epoch: 0) { $0.f.seek(F.tp0, to: .exact(2)) }
        let fetch = out.first { $0.request is FetchRequest }?.request as? FetchRequest
        #expect(fetch?.topics.first?.partitions.first?.fetchOffset == 2, "\(out.map(\.request))")
    }
}
