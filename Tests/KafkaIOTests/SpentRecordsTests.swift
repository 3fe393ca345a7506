@testable import KafkaIO
import KafkaStateMachines
import Testing

/// The queue of records the engine is done with, whose keys and values producing callers
/// free one at a time (see `CommandInbox.recycle`).
@Suite struct SpentRecordsTests {
    static func run(_ count: Int, from first: Int = 0) -> [ProducerRecord] {
        (first ..< first + count).map {
            ProducerRecord(topic: "t", key: [UInt8(truncatingIfNeeded: $0)], value: [1, 2, 3], timestamp: Int64($0), token: UInt64($0))
        }
    }

    /// `freeNext` `n` times; the results.
    static func free(_ spent: inout SpentRecords, _ n: Int) -> [Bool] {
        (0 ..< n).map { _ in spent.freeNext() }
    }

    static func offer(_ spent: inout SpentRecords, _ run: inout [ProducerRecord], bytes: Int) -> Bool {
        spent.offer(&run, bytes: bytes)
    }

    @Test func freesOneRecordAtATimeOldestRunFirst() {
        var spent = SpentRecords(maxBytes: 1 << 20)
        var first = Self.run(2)
        var second = Self.run(3, from: 2)
        let took = (Self.offer(&spent, &first, bytes: 2), Self.offer(&spent, &second, bytes: 3))
        #expect(took == (true, true))
        #expect(first.isEmpty && second.isEmpty, "offered runs are taken, not copied")
        #expect(spent.waiting == 5)

        #expect(Self.free(&spent, 1) == [true])
        #expect(spent.waiting == 4 && spent.emptied.isEmpty)
        #expect(Self.free(&spent, 1) == [true])
        // The first run is done: it waits to be taken, its keys and values gone and the
        // rest of each record as it was.
        #expect(spent.waiting == 3)
        var emptied: [ProducerRecord] = []
        spent.takeEmptied(into: &emptied)
        #expect(emptied.map(\.token) == [0, 1])
        #expect(emptied.allSatisfy { $0.key == nil && $0.value == nil && $0.topic == "t" })
        #expect(spent.emptied.isEmpty)

        #expect(Self.free(&spent, 3) == [true, true, true])
        #expect(spent.waiting == 0)
        #expect(Self.free(&spent, 1) == [false], "nothing left to free")
        spent.takeEmptied(into: &emptied)
        #expect(emptied.map(\.token) == [2, 3, 4])
    }

    @Test func aRunDoneWhileAnotherWaitsToBeTakenIsDroppedNotLost() {
        var spent = SpentRecords(maxBytes: 1 << 20)
        var a = Self.run(1)
        var b = Self.run(1, from: 1)
        let took = (Self.offer(&spent, &a, bytes: 1), Self.offer(&spent, &b, bytes: 1))
        #expect(took == (true, true))
        #expect(Self.free(&spent, 2) == [true, true])
        #expect(spent.waiting == 0)
        var emptied: [ProducerRecord] = []
        spent.takeEmptied(into: &emptied)
        #expect(emptied.map(\.token) == [0], "the first emptied run is kept; the second was freed in place")
    }

    @Test func holdsAtMostMaxRunsAndMaxBytes() {
        var spent = SpentRecords(maxBytes: 100)
        // The first run goes in whatever its size: a single run past the limit must not be
        // left to the loop.
        var big = Self.run(1)
        #expect(Self.offer(&spent, &big, bytes: 150))
        var more = Self.run(1, from: 1)
        #expect(!Self.offer(&spent, &more, bytes: 10), "past maxBytes")
        #expect(more.count == 1, "a refused run stays with the caller")
        #expect(Self.free(&spent, 1) == [true])
        #expect(Self.offer(&spent, &more, bytes: 10))

        var spent4 = SpentRecords(maxBytes: 1 << 20)
        for i in 0 ..< SpentRecords.maxRuns {
            var r = Self.run(2, from: 2 * i)
            #expect(Self.offer(&spent4, &r, bytes: 2))
            #expect(spent4.isBacklogged == (i + 1 >= SpentRecords.catchUpRuns))
        }
        var fifth = Self.run(1, from: 100)
        #expect(!Self.offer(&spent4, &fifth, bytes: 1), "past maxRuns")
        var empty: [ProducerRecord] = []
        #expect(!Self.offer(&spent4, &empty, bytes: 0), "an empty run is not queued")
    }
}
