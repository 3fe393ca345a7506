import Testing
@testable import FakeCluster

@Suite struct FetchSessionCacheTests {
    typealias Req = FetchSessionCache.PartitionRequest
    typealias Res = FetchSessionCache.PartitionResult

    func req(_ p: Int32, offset: Int64 = 0) -> Req {
        Req(topicPartition: tp("t", p), fetchOffset: offset, partitionMaxBytes: 1 << 20)
    }

    func res(_ p: Int32, hw: Int64 = 10, bytes: Int = 0, error: KafkaErrorCode = .noError) -> Res {
        Res(topicPartition: tp("t", p), error: error, highWatermark: hw, lastStableOffset: hw, logStartOffset: 0, recordBytes: bytes)
    }

    @Test func sessionlessFetch() {
        var c = FetchSessionCache()
        var rng = SeededGenerator(seed: 1)
        let ctx = c.begin(sessionId: 0, epoch: -1, fetch: [req(0)], forgotten: [], now: .zero, using: &rng)
        #expect(ctx == .sessionless([req(0)]))
        #expect(ctx.responseSessionId == 0)
        #expect(c.sessions.isEmpty)
        #expect(c.finish(ctx, results: [res(0)]) == [res(0)])
    }

    @Test func fullThenIncremental() {
        var c = FetchSessionCache()
        var rng = SeededGenerator(seed: 1)
        let full = c.begin(sessionId: 0, epoch: 0, fetch: [req(0), req(1)], forgotten: [], now: .zero, using: &rng)
        guard case .full(let id, let parts) = full else { Issue.record("expected full"); return }
        #expect(id > 0 && parts.count == 2)
        #expect(c.finish(full, results: [res(0), res(1)]).count == 2)

        // Nothing changed: the incremental response is empty but lists every partition to read.
        let inc1 = c.begin(sessionId: id, epoch: 1, fetch: [], forgotten: [], now: ms(1), using: &rng)
        #expect(inc1 == .incremental(sessionId: id, [req(0), req(1)]))
        #expect(c.finish(inc1, results: [res(0), res(1)]).isEmpty)

        // Partition 1's high watermark moved; partition 0 has records.
        let inc2 = c.begin(sessionId: id, epoch: 2, fetch: [req(0, offset: 5)], forgotten: [], now: ms(2), using: &rng)
        #expect(inc2.partitions.first?.fetchOffset == 5)
        let sent = c.finish(inc2, results: [res(0, bytes: 100), res(1, hw: 11)])
        #expect(sent.map(\.topicPartition) == [tp("t", 0), tp("t", 1)])

        // Errors are always sent.
        let inc3 = c.begin(sessionId: id, epoch: 3, fetch: [], forgotten: [], now: ms(3), using: &rng)
        #expect(c.finish(inc3, results: [res(0), res(1, hw: 11, error: .notLeaderOrFollower)]).map(\.topicPartition) == [tp("t", 1)])
    }

    @Test func addAndForgetPartitions() {
        var c = FetchSessionCache()
        var rng = SeededGenerator(seed: 1)
        let full = c.begin(sessionId: 0, epoch: 0, fetch: [req(0), req(1)], forgotten: [], now: .zero, using: &rng)
        _ = c.finish(full, results: [res(0), res(1)])
        let id = full.responseSessionId
        let inc = c.begin(sessionId: id, epoch: 1, fetch: [req(2)], forgotten: [tp("t", 0)], now: ms(1), using: &rng)
        #expect(inc.partitions.map(\.topicPartition) == [tp("t", 1), tp("t", 2)])
        // The new partition has never been sent: included even without records.
        #expect(c.finish(inc, results: [res(1), res(2)]).map(\.topicPartition) == [tp("t", 2)])
    }

    @Test func sentPartitionsRotateToTheBack() {
        var c = FetchSessionCache()
        var rng = SeededGenerator(seed: 1)
        let full = c.begin(sessionId: 0, epoch: 0, fetch: [req(0), req(1), req(2)], forgotten: [], now: .zero, using: &rng)
        _ = c.finish(full, results: [res(0), res(1), res(2)])
        let id = full.responseSessionId
        let inc = c.begin(sessionId: id, epoch: 1, fetch: [], forgotten: [], now: ms(1), using: &rng)
        _ = c.finish(inc, results: [res(0, bytes: 5), res(1), res(2)])
        #expect(c.session(id)?.order == [tp("t", 1), tp("t", 2), tp("t", 0)])
    }

    @Test func sessionErrors() {
        var c = FetchSessionCache()
        var rng = SeededGenerator(seed: 1)
        #expect(c.begin(sessionId: 77, epoch: 1, fetch: [], forgotten: [], now: .zero, using: &rng) == .error(.fetchSessionIdNotFound))
        let full = c.begin(sessionId: 0, epoch: 0, fetch: [req(0)], forgotten: [], now: .zero, using: &rng)
        let id = full.responseSessionId
        #expect(c.begin(sessionId: id, epoch: 2, fetch: [], forgotten: [], now: .zero, using: &rng) == .error(.invalidFetchSessionEpoch))
        _ = c.begin(sessionId: id, epoch: 1, fetch: [], forgotten: [], now: .zero, using: &rng)
        // A replayed epoch is rejected too.
        #expect(c.begin(sessionId: id, epoch: 1, fetch: [], forgotten: [], now: .zero, using: &rng) == .error(.invalidFetchSessionEpoch))
        // Closing with the final epoch removes the session.
        #expect(c.begin(sessionId: id, epoch: -1, fetch: [req(0)], forgotten: [], now: .zero, using: &rng) == .sessionless([req(0)]))
        #expect(c.session(id) == nil)
    }

    @Test func newFullFetchReplacesOldSession() {
        var c = FetchSessionCache()
        var rng = SeededGenerator(seed: 1)
        let a = c.begin(sessionId: 0, epoch: 0, fetch: [req(0)], forgotten: [], now: .zero, using: &rng).responseSessionId
        let b = c.begin(sessionId: a, epoch: 0, fetch: [req(0)], forgotten: [], now: .zero, using: &rng).responseSessionId
        #expect(a != b)
        #expect(c.session(a) == nil && c.session(b) != nil)
    }

    @Test func leastRecentlyUsedIsEvicted() {
        var c = FetchSessionCache(maxSessions: 2)
        var rng = SeededGenerator(seed: 1)
        let a = c.begin(sessionId: 0, epoch: 0, fetch: [req(0)], forgotten: [], now: ms(0), using: &rng).responseSessionId
        let b = c.begin(sessionId: 0, epoch: 0, fetch: [req(0)], forgotten: [], now: ms(1), using: &rng).responseSessionId
        _ = c.begin(sessionId: a, epoch: 1, fetch: [], forgotten: [], now: ms(2), using: &rng) // a is now fresher
        let d = c.begin(sessionId: 0, epoch: 0, fetch: [req(0)], forgotten: [], now: ms(3), using: &rng).responseSessionId
        #expect(c.session(b) == nil)
        #expect(c.session(a) != nil && c.session(d) != nil)
        #expect(c.begin(sessionId: b, epoch: 1, fetch: [], forgotten: [], now: ms(4), using: &rng) == .error(.fetchSessionIdNotFound))
    }

    @Test func noSlotsMeansSessionIdZero() {
        var c = FetchSessionCache(maxSessions: 0)
        var rng = SeededGenerator(seed: 1)
        #expect(c.begin(sessionId: 0, epoch: 0, fetch: [req(0)], forgotten: [], now: .zero, using: &rng) == .full(sessionId: 0, [req(0)]))
    }

    @Test func sessionIdsFollowTheSeed() {
        var c1 = FetchSessionCache(), c2 = FetchSessionCache()
        var r1 = SeededGenerator(seed: 5), r2 = SeededGenerator(seed: 5)
        #expect(c1.begin(sessionId: 0, epoch: 0, fetch: [], forgotten: [], now: .zero, using: &r1)
            == c2.begin(sessionId: 0, epoch: 0, fetch: [], forgotten: [], now: .zero, using: &r2))
    }
}
