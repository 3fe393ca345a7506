import Dispatch
@testable import KafkaIO
import KafkaStateMachines
import NIOConcurrencyHelpers
import NIOCore
import NIOEmbedded
import Testing

/// The producer's path from the calling thread to the loop, without a broker: the inbox's
/// hop timing and ordering (on an embedded loop, whose time only moves when told), the
/// callback ring, and the buffer gate's waiting.
@Suite struct ProducerHandOffTests {
    final class Hops: @unchecked Sendable {
        var taken: [CommandInbox.Taken] = []
    }

    static func record(_ n: Int) -> ProducerRecord {
        ProducerRecord(topic: "t", value: [UInt8(n)], timestamp: Int64(n), token: 0)
    }

    static func callback(charge: Int = 1, _ body: @escaping ProduceCompletion = { _ in }) -> ProduceCompletions.Entry {
        .init(completion: body, timestamp: 0, charge: charge)
    }

    @Test func recordsWaitForTheTimedHopAndRideTogether() {
        let loop = EmbeddedEventLoop()
        let inbox = CommandInbox(produceDelay: .milliseconds(1))
        let hops = Hops()
        let hop: @Sendable () -> Void = { hops.taken.append(inbox.take()) }
        for n in 1 ... 3 { inbox.submit(Self.record(n), Self.callback(), loop: loop, hop: hop) }
        loop.run()
        #expect(hops.taken.isEmpty, "a record alone must not wake the loop at once")
        loop.advanceTime(by: .microseconds(999))
        #expect(hops.taken.isEmpty)
        loop.advanceTime(by: .microseconds(1))
        #expect(hops.taken.count == 1)
        #expect(hops.taken[0].records.map(\.token) == [1, 2, 3], "tokens are numbered in queue order")
        #expect(hops.taken[0].callbacks.count == 3)
        guard case .records(from: 0)? = hops.taken[0].commands.first else {
            Issue.record("expected one records marker, got \(hops.taken[0].commands.count) commands")
            return
        }
        #expect(hops.taken[0].commands.count == 1)
        // The next record starts a new timed hop, and tokens go on.
        inbox.submit(Self.record(4), Self.callback(), loop: loop, hop: hop)
        loop.advanceTime(by: .milliseconds(1))
        #expect(hops.taken.count == 2)
        #expect(hops.taken[1].records.map(\.token) == [4])
    }

    @Test func anUrgentCallBringsTheHopForwardAndKeepsOrder() {
        let loop = EmbeddedEventLoop()
        let inbox = CommandInbox(produceDelay: .milliseconds(1))
        let hops = Hops()
        let hop: @Sendable () -> Void = { hops.taken.append(inbox.take()) }
        inbox.submit(Self.record(1), Self.callback(), loop: loop, hop: hop)
        inbox.submit(Self.record(2), Self.callback(), loop: loop, hop: hop)
        inbox.submit(.flush({}), loop: loop, hop: hop)
        inbox.submit(Self.record(3), Self.callback(), loop: loop, hop: hop)
        loop.run()
        #expect(hops.taken.count == 1, "the flush must hop at once, taking the records queued before and after it")
        let commands = hops.taken.first?.commands ?? []
        guard commands.count == 3, case .records(from: 0) = commands[0], case .flush = commands[1], case .records(from: 2) = commands[2] else {
            Issue.record("expected records(0), flush, records(2); got \(commands.count) commands")
            return
        }
        // The timed hop scheduled by the first record still fires, and finds nothing.
        loop.advanceTime(by: .milliseconds(1))
        #expect(hops.taken.count == 2)
        #expect(hops.taken[1].commands.isEmpty && hops.taken[1].records.isEmpty)
    }

    @Test func manyQueuedRecordsHopWithoutWaiting() {
        let loop = EmbeddedEventLoop()
        let inbox = CommandInbox(produceDelay: .milliseconds(1), eagerCount: 4)
        let hops = Hops()
        let hop: @Sendable () -> Void = { hops.taken.append(inbox.take()) }
        for n in 1 ... 4 { inbox.submit(Self.record(n), Self.callback(), loop: loop, hop: hop) }
        loop.run()
        #expect(hops.taken.count == 1)
        #expect(hops.taken.first?.records.count == 4)
    }

    @Test func zeroDelayHopsAtOnce() {
        let loop = EmbeddedEventLoop()
        let inbox = CommandInbox(produceDelay: .zero)
        let hops = Hops()
        let hop: @Sendable () -> Void = { hops.taken.append(inbox.take()) }
        inbox.submit(Self.record(1), Self.callback(), loop: loop, hop: hop)
        loop.run()
        #expect(hops.taken.count == 1)
    }

    static func run(_ values: ClosedRange<Int>) -> CommandInbox.Taken {
        CommandInbox.Taken(commands: [], records: values.map { record($0) }, callbacks: values.map { _ in callback() })
    }

    @Test func spentRecordsWaitForProducersToFreeThemOneACall() {
        let loop = EmbeddedEventLoop()
        let inbox = CommandInbox(produceDelay: .zero)
        let hop: @Sendable () -> Void = {}
        var spent = Self.run(1 ... 2)
        inbox.recycle(&spent)
        #expect(spent.records.isEmpty && spent.callbacks.isEmpty, "the inbox takes the arrays themselves, not copies")
        #expect(inbox.spentWaiting == 2)
        // One record goes with each producing call (its blocks for the next record's).
        inbox.submit(Self.record(3), Self.callback(), loop: loop, hop: hop)
        #expect(inbox.spentWaiting == 1)
        // Runs queue up to `maxRuns`; past that their owner (the loop) frees them.
        for n in 10 ..< 10 + SpentRecords.maxRuns - 1 {
            var more = Self.run(n ... n)
            inbox.recycle(&more)
            #expect(more.records.isEmpty)
        }
        var past = Self.run(100 ... 100)
        inbox.recycle(&past)
        #expect(past.records.count == 1, "past maxRuns waiting, a run is freed by its owner")
        let waiting = inbox.spentWaiting
        #expect(waiting == SpentRecords.maxRuns)
        // So far behind, two go with each call.
        inbox.submit(Self.record(4), Self.callback(), loop: loop, hop: hop)
        #expect(inbox.spentWaiting == waiting - 2)
        var callbacks: [ProduceCompletions.Entry?] = [Self.callback(), nil]
        inbox.recycle(callbacks: &callbacks)
        #expect(callbacks.isEmpty)
    }

    @Test func spentRecordsGoWhenTheProducerGoesQuietOrFlushes() {
        let loop = EmbeddedEventLoop()
        let inbox = CommandInbox(produceDelay: .zero)
        let hop: @Sendable () -> Void = {}
        var spent = Self.run(1 ... 3)
        inbox.recycle(&spent)
        inbox.submit(Self.record(4), Self.callback(), loop: loop, hop: hop)
        #expect(inbox.spentWaiting == 2)
        // A delivery report after a record was queued leaves them to the producer ...
        var report: [ProduceCompletions.Entry?] = [Self.callback()]
        inbox.recycle(callbacks: &report)
        #expect(inbox.spentWaiting == 2)
        // ... the next with none queued since frees them on the loop.
        var quiet: [ProduceCompletions.Entry?] = [Self.callback()]
        inbox.recycle(callbacks: &quiet)
        #expect(inbox.spentWaiting == 0)

        var more = Self.run(5 ... 6)
        inbox.recycle(&more)
        #expect(inbox.spentWaiting == 2)
        inbox.dropSpent()
        #expect(inbox.spentWaiting == 0, "flush frees them on the caller's thread")
    }

    @Test func aSpentRunsArraysCarryALaterRun() {
        let loop = EmbeddedEventLoop()
        let inbox = CommandInbox(produceDelay: .zero)
        let hop: @Sendable () -> Void = {}
        var spent = Self.run(1 ... 8)
        let storage = spent.records.withUnsafeBufferPointer { $0.baseAddress }
        let callbackStorage = spent.callbacks.withUnsafeBufferPointer { $0.baseAddress }
        inbox.recycle(&spent)
        // These calls free the spent records, one each; the last keeps the emptied array as
        // the spare (and the run's callbacks' array was kept at once) ...
        for n in 9 ... 16 { inbox.submit(Self.record(n), Self.callback(), loop: loop, hop: hop) }
        #expect(inbox.spentWaiting == 0)
        #expect(inbox.take().records.map(\.value) == (9 ... 16).map { [UInt8($0)] })
        // ... which the queue fills next.
        inbox.submit(Self.record(17), Self.callback(), loop: loop, hop: hop)
        let next = inbox.take()
        #expect(next.records.map(\.value) == [[17]])
        #expect(next.records.withUnsafeBufferPointer { $0.baseAddress } == storage)
        #expect(next.callbacks.withUnsafeBufferPointer { $0.baseAddress } == callbackStorage)
        #expect(next.records.first?.token == 9, "tokens still run in queue order")
    }

    @Test func completionRingTakesTokensInAnyOrder() {
        var ring = ProduceCompletions()
        #expect(ring.nextToken == 1)
        ring.add(contentsOf: (1 ... 5).map { Self.callback(charge: $0) }[...], at: .zero)
        #expect(ring.count == 5 && ring.nextToken == 6)
        #expect(ring.remove(3)?.charge == 3)
        #expect(ring.remove(3) == nil, "a token completes once")
        #expect(ring.remove(1)?.charge == 1)
        #expect(ring.remove(9) == nil && ring.remove(0) == nil)
        #expect(ring.remove(2)?.charge == 2)
        #expect(ring.count == 2)
        #expect(ring.remove(5)?.charge == 5)
        #expect(ring.remove(4)?.charge == 4)
        #expect(ring.isEmpty && ring.nextToken == 6, "tokens go on after the ring empties")
        ring.add(contentsOf: [Self.callback(charge: 7)][...], at: .zero)
        #expect(ring.remove(6)?.charge == 7)
    }

    @Test func aProducerAheadOfTheLoopWaitsForItsNextTake() async {
        let loop = EmbeddedEventLoop()
        let inbox = CommandInbox(produceDelay: .milliseconds(1), eagerCount: 2, handOffLimit: 4)
        let full = (1 ... 4).map { inbox.submit(Self.record($0), Self.callback(), loop: loop, hop: {}) }
        #expect(full == [false, false, false, true], "the fourth queued record reaches the limit")
        let released = NIOLockedValueBox(false)
        let waiter = Task {
            await inbox.waitForTake()
            released.withLockedValue { $0 = true }
        }
        try? await Task.sleep(for: .milliseconds(100))
        #expect(released.withLockedValue { $0 } == false, "the loop has not taken the records yet")
        let taken = inbox.take()
        #expect(taken.records.count == 4)
        await waiter.value
        #expect(released.withLockedValue { $0 })
        // Below the limit (nothing queued now) the wait returns at once.
        await inbox.waitForTake()
        #expect(inbox.submit(Self.record(5), Self.callback(), loop: loop, hop: {}) == false)
    }

    /// Large records reach the hand-off's byte limits long before its counts: the hop comes
    /// at once past `eagerBytes`, and an async producer waits past `handOffBytes`.
    @Test func largeRecordsReachTheByteLimitsFirst() async {
        let loop = EmbeddedEventLoop()
        let hops = NIOLockedValueBox(0)
        let inbox = CommandInbox(produceDelay: .milliseconds(1), eagerCount: 100, handOffLimit: 100, eagerBytes: 25_000, handOffBytes: 50_000)
        let submit = { (n: Int) in inbox.submit(Self.record(n), Self.callback(charge: 10_000), loop: loop, hop: { hops.withLockedValue { $0 += 1 } }) }
        #expect(submit(1) == false && submit(2) == false)
        loop.run()
        #expect(hops.withLockedValue { $0 } == 0, "20,000 bytes queued: the timed hop is still to come")
        #expect(submit(3) == false)
        loop.run()
        #expect(hops.withLockedValue { $0 } == 1, "30,000 bytes: past eagerBytes, the hop comes at once")
        #expect(submit(4) == false && submit(5) == true, "50,000 bytes reach handOffBytes with 5 of 100 records")
        let released = NIOLockedValueBox(false)
        let waiter = Task {
            await inbox.waitForTake()
            released.withLockedValue { $0 = true }
        }
        try? await Task.sleep(for: .milliseconds(100))
        #expect(released.withLockedValue { $0 } == false)
        #expect(inbox.take().records.count == 5)
        await waiter.value
        // The count starts again from the take.
        #expect(submit(6) == false)
    }

    @Test func completionRingTakesAReportsTokensInOneCall() {
        var ring = ProduceCompletions()
        // Past the 1,024-slot storage's end first, so the tokens below wrap it.
        ring.add(contentsOf: (1 ... 1000).map { Self.callback(charge: $0) }[...], at: .zero)
        var drained: [ProduceCompletions.Entry?] = []
        #expect(ring.remove(Array(1 ... 1000), into: &drained) == (records: 1000, bytes: 500_500))
        ring.add(contentsOf: (1001 ... 1100).map { Self.callback(charge: $0) }[...], at: .zero)
        var entries: [ProduceCompletions.Entry?] = []
        // Out of order, a repeat, a token never handed out and one already taken.
        let (records, bytes) = ring.remove([1050, 1001, 1050, 5000, 7, 1002], into: &entries)
        #expect(records == 3 && bytes == 1050 + 1001 + 1002)
        #expect(entries.map { $0?.charge } == [1050, 1001, nil, nil, nil, 1002])
        #expect(ring.count == 97 && ring.nextToken == 1101)
        entries = []
        #expect(ring.remove(Array(1003 ... 1100), into: &entries).records == 97)
        #expect(ring.isEmpty && ring.nextToken == 1101, "the front moved past every taken token")
        ring.add(contentsOf: [Self.callback(charge: 9)][...], at: .zero)
        #expect(ring.remove(1101)?.charge == 9)
    }

    @Test func completionRingWrapsAndGrowsKeepingEveryToken() {
        var ring = ProduceCompletions()
        var next: UInt64 = 1
        func add(_ n: Int) {
            ring.add(contentsOf: (0 ..< n).map { Self.callback(charge: Int(next) + $0) }[...], at: .zero)
            next += UInt64(n)
        }
        var outstanding: [UInt64] = []
        // Rounds that leave a window behind, so the live span wraps the 1,024-slot storage;
        // removals go odd tokens first, then even ones (holes at the front).
        for _ in 0 ..< 30 {
            let from = next
            add(100)
            outstanding += Array(from ..< next)
            let old = outstanding.prefix(outstanding.count - 50)
            for t in old.filter({ $0 % 2 == 1 }) + old.filter({ $0 % 2 == 0 }) {
                #expect(ring.remove(t)?.charge == Int(t))
            }
            outstanding.removeFirst(old.count)
        }
        // Growth while the span wraps keeps every token's entry.
        let from = next
        add(5000)
        outstanding += Array(from ..< next)
        #expect(ring.count == outstanding.count && ring.nextToken == next)
        for t in outstanding.reversed() { #expect(ring.remove(t)?.charge == Int(t)) }
        #expect(ring.isEmpty && ring.nextToken == next)
    }

    @Test func blockingProduceWaitsForRoomWithoutPolling() async {
        let gate = ProducerGate(maxRecords: 1, maxBytes: 1 << 20)
        #expect(gate.tryAcquire(10))
        let done = NIOLockedValueBox(false)
        let finished = DispatchSemaphore(value: 0)
        DispatchQueue.global().async {
            gate.acquireBlocking(10)
            done.withLockedValue { $0 = true }
            finished.signal()
        }
        try? await Task.sleep(for: .milliseconds(100))
        #expect(done.withLockedValue { $0 } == false, "no room: the caller must still be waiting")
        #expect(gate.buffered.records == 1)
        gate.release(records: 1, bytes: 10)
        #expect(finished.wait(timeout: .now() + 10) == .success)
        #expect(done.withLockedValue { $0 })
        #expect(gate.buffered.records == 1, "the room went to the waiter")
    }

    @Test func waitersGetRoomInArrivalOrder() async {
        let gate = ProducerGate(maxRecords: 1, maxBytes: 1 << 20)
        #expect(gate.tryAcquire(1))
        let order = NIOLockedValueBox<[String]>([])
        let first = Task {
            await gate.acquire(1)
            order.withLockedValue { $0.append("async") }
        }
        while gate.waiting == 0 { try? await Task.sleep(for: .milliseconds(5)) }
        let finished = DispatchSemaphore(value: 0)
        DispatchQueue.global().async {
            gate.acquireBlocking(1)
            order.withLockedValue { $0.append("blocking") }
            finished.signal()
        }
        while gate.waiting < 2 { try? await Task.sleep(for: .milliseconds(5)) }
        #expect(!gate.tryAcquire(1), "a newcomer must not jump the queue")
        gate.release(records: 1, bytes: 1)
        await first.value
        #expect(order.withLockedValue { $0 } == ["async"])
        gate.release(records: 1, bytes: 1)
        #expect(finished.wait(timeout: .now() + 10) == .success)
        #expect(order.withLockedValue { $0 } == ["async", "blocking"])
    }
}
