import Testing
@testable import FakeCluster

@Suite struct DelayedOperationsTests {
    @Test func parkTouchExpire() {
        var q = DelayedOperations<Int>()
        q.park(2, until: ms(500), watching: [tp("a", 0)])
        q.park(1, until: ms(100), watching: [tp("a", 0), tp("b", 0)])
        q.park(3, until: ms(100), watching: [tp("c", 0)])
        #expect(q.nextDeadline == ms(100))
        #expect(q.touched([tp("a", 0)]) == [1, 2])
        #expect(q.touched([tp("z", 0)]).isEmpty)
        #expect(q.expire(now: ms(99)).isEmpty)
        #expect(q.expire(now: ms(100)).map(\.token) == [1, 3])
        #expect(q.complete(2)?.deadline == ms(500))
        #expect(q.isEmpty && q.nextDeadline == nil)
    }
}
