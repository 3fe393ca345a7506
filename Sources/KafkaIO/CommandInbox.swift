import KafkaProtocol
import KafkaStateMachines
import NIOConcurrencyHelpers
import NIOCore

/// The calls waiting for the client's event loop, and when the loop will next take them.
///
/// Every call queues here; one hop to the loop takes everything queued. Produced records
/// queue apart from other calls (the hot path: no enum payload per record, and the engine
/// takes the records straight from this array): each gets its token here, its callback
/// goes to `callbacks` at the same index, and a `.records(from:)` marker among the commands
/// keeps their order relative to the other calls.
///
/// A call that needs the engine now (a request, a flush, a close) makes the hop happen at
/// once if none is already coming. A produced record can wait a little: it would linger in
/// its batch anyway, so the first record after a hop schedules the next hop `produceDelay`
/// later and the records produced meanwhile ride along, instead of each waking the loop (a
/// wakeup costs more than the record). `eagerCount` queued records (or `eagerBytes`), or
/// any call that cannot wait, bring the hop forward.
final class CommandInbox: Sendable {
    private enum Pending { case none, timed, immediate }
    private struct State {
        var commands: [KafkaClient.Command] = []
        var records: [ProducerRecord] = []
        var callbacks: [ProduceCompletions.Entry] = []
        /// The buffer charge of the records queued (their bytes, roughly).
        var queuedBytes = 0
        /// The token of the next record: tokens run 1, 2, 3, … in queue order, as
        /// ProduceCompletions expects.
        var nextToken: UInt64 = 1
        /// Records the engine is done with, freed by producing callers one or two a call,
        /// and callbacks already called, dropped by the next producing caller (see `recycle`).
        var spent: SpentRecords
        var spentCallbacks: [ProduceCompletions.Entry?] = []
        /// Whether a record was queued since the last delivery report (see `recycle(callbacks:)`).
        var producedSinceReport = false
        /// A run's arrays once emptied by a producing caller, for a later run to fill: an
        /// array allocated per hop is fresh memory, each page zero-filled by the kernel on
        /// first touch (a fault per 4 KiB, a million records make ~25,000 of them).
        var spareRecords: [ProducerRecord] = []
        var spareCallbacks: [ProduceCompletions.Entry] = []
        /// The last command is the marker of the records being added.
        var recordsOpen = false
        var pending = Pending.none
        /// Async producers waiting for the loop to take the queued records (see `handOffLimit`).
        var takeWaiters: [CheckedContinuation<Void, Never>] = []
    }
    private let state: FastLockedBox<State>
    /// How long a produced record may wait for the hop; zero hops at once.
    let produceDelay: TimeAmount
    /// Queued records that bring a timed hop forward.
    let eagerCount: Int

    /// Queued records above which an async producer waits for the loop's next take
    /// (`waitForTake`). A producer faster than the loop otherwise piles records up here
    /// (each with its key and value arrays, its callback and its place in the arrays,
    /// which grow by doubling) until the buffer limit: a million records of 100 B came to
    /// 200 MB, and the kernel's page faults for that memory cost more CPU than anything
    /// the producer did with the records.
    let handOffLimit: Int
    /// The same limits in the records' bytes (buffer charge): large records reach them long
    /// before the counts. 16,384 queued records of 10 KB were 160 MB of values waiting for
    /// the loop, on top of the batches it had already encoded them into (340 MB peak RSS
    /// and 81,000 page faults producing 200 MB, librdkafka 180 MB and 47,000).
    let eagerBytes: Int
    let handOffBytes: Int

    init(produceDelay: TimeAmount, eagerCount: Int = 4096, handOffLimit: Int = 16_384,
         eagerBytes: Int = 1 << 20, handOffBytes: Int = 4 << 20) {
        self.produceDelay = produceDelay
        self.eagerCount = eagerCount
        self.handOffLimit = max(handOffLimit, eagerCount)
        self.eagerBytes = eagerBytes
        self.handOffBytes = max(handOffBytes, eagerBytes)
        self.state = FastLockedBox(State(spent: SpentRecords(maxBytes: 2 * max(handOffBytes, eagerBytes))))
    }

    /// Whether an async producer should wait for the loop's next take.
    @inline(__always)
    private func isFull(_ records: Int, _ bytes: Int) -> Bool { records >= handOffLimit || bytes >= handOffBytes }

    /// Whether a timed hop should come now.
    @inline(__always)
    private func isEager(_ records: Int, _ bytes: Int) -> Bool { records >= eagerCount || bytes >= eagerBytes }

    var count: Int { state.withLockedValue { $0.commands.count + $0.records.count } }

    /// Spent records whose keys and values producing callers have not freed yet.
    var spentWaiting: Int { state.withLockedValue { $0.spent.waiting } }

    private enum Wake { case none, now, later }

    /// Queues `command`, a call that needs the engine now.
    func submit(_ command: KafkaClient.Command, loop: any EventLoop, hop: @escaping @Sendable () -> Void) {
        let wake: Wake = state.withLockedValue { s in
            s.commands.append(command)
            s.recordsOpen = false
            guard s.pending != .immediate else { return .none }
            s.pending = .immediate
            return .now
        }
        perform(wake, loop: loop, hop: hop)
    }

    /// Queues a produced record (its token is set here) and its callback. True when the
    /// queue holds `handOffLimit` records or `handOffBytes` or more: an async caller then
    /// `waitForTake`s.
    @discardableResult
    func submit(_ record: consuming ProducerRecord, _ callback: ProduceCompletions.Entry, loop: any EventLoop,
                hop: @escaping @Sendable () -> Void) -> Bool {
        // Moved into the queue, not copied (a copy retains and later releases each field).
        var pending: ProducerRecord? = consume record
        // A spent record goes for each record that comes (two while a run waits behind):
        // its blocks go to this thread's cache for the next record's to come from.
        let (wake, full, chores): (Wake, Bool, Bool) = state.withLockedValue { s in
            if s.spent.freeNext(), s.spent.isBacklogged { s.spent.freeNext() }
            let chores = !s.spent.emptied.isEmpty || !s.spentCallbacks.isEmpty
            s.producedSinceReport = true
            if !s.recordsOpen {
                s.commands.append(.records(from: s.records.count))
                s.recordsOpen = true
            }
            var record = pending.take()!
            record.token = s.nextToken
            s.nextToken += 1
            s.records.append(consume record)
            s.queuedBytes += callback.charge
            s.callbacks.append(callback)
            let full = isFull(s.records.count, s.queuedBytes)
            switch s.pending {
            case .immediate:
                return (.none, full, chores)
            case .timed:
                guard isEager(s.records.count, s.queuedBytes) else { return (.none, full, chores) }
                s.pending = .immediate
                return (.now, full, chores)
            case .none:
                if produceDelay > .zero && !isEager(s.records.count, s.queuedBytes) {
                    s.pending = .timed
                    return (.later, full, chores)
                }
                s.pending = .immediate
                return (.now, full, chores)
            }
        }
        perform(wake, loop: loop, hop: hop)
        if chores { doChores() }
        return full
    }

    /// Now and then, not per record: frees the callbacks already called, here on a producing
    /// thread (see `recycle`), and keeps an emptied run's array as the spare.
    @inline(never)
    private func doChores() {
        var spentCallbacks: [ProduceCompletions.Entry?] = []
        var emptiedRun: [ProducerRecord] = []
        state.withLockedValue { s in
            swap(&spentCallbacks, &s.spentCallbacks)
            s.spent.takeEmptied(into: &emptiedRun)
        }
        if !emptiedRun.isEmpty { keepAsSpare(&emptiedRun) }
    }

    /// Returns once the loop has taken the records queued (at once if it already has, or
    /// fewer than `handOffLimit` records and `handOffBytes` are queued). A hop is always on
    /// its way while records are queued (`submit` schedules one, immediate at `eagerCount`
    /// or `eagerBytes`), so the wait is one hop's work at most; cancellation does not cut
    /// it short.
    func waitForTake() async {
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            let now = state.withLockedValue { s -> Bool in
                guard isFull(s.records.count, s.queuedBytes) else { return true }
                s.takeWaiters.append(c)
                return false
            }
            if now { c.resume() }
        }
    }

    /// Arrays holding more than this many records are not kept as spares.
    private static let spareLimit = 65_536

    private func keepAsSpare(_ records: inout [ProducerRecord]) {
        guard records.capacity <= Self.spareLimit else { return }
        records.removeAll(keepingCapacity: true)
        state.withLockedValue { s in
            if s.spareRecords.capacity == 0 { swap(&s.spareRecords, &records) }
        }
    }

    /// Takes back records the engine has encoded, so that their keys and values are freed
    /// by producing callers, one or two with each record they queue (`SpentRecords`), rather
    /// than on the loop. The caller's thread allocated them; glibc frees a block into its
    /// own thread's cache but must lock the allocating thread's arena to free it from
    /// another, and a caller allocating a million records a second while the loop frees
    /// them fights over that lock on every record. A run's emptied array then carries a
    /// later run (`spareRecords`), as does the run's array of callbacks (placeholders by
    /// now: their entries moved to the driver's ring).
    func recycle(_ taken: inout Taken) {
        guard !taken.records.isEmpty else { return }
        taken.callbacks.removeAll(keepingCapacity: true)
        // Swapped, not copied: the last reference must leave this thread's hands here.
        // Past `SpentRecords`' limits (runs, bytes) this one is freed here, on the loop.
        state.withLockedValue { s in
            _ = s.spent.offer(&taken.records, bytes: taken.bytes)
            if s.spareCallbacks.capacity == 0, taken.callbacks.capacity <= Self.spareLimit {
                swap(&s.spareCallbacks, &taken.callbacks)
            }
        }
    }

    /// As `recycle(_:)`, for callbacks (their captured contexts) once called.
    /// A report that finds no record queued since the one before frees the spent records
    /// here, on the loop: the producer has gone quiet, and they would otherwise wait for its
    /// next record (or `flush`, or the client's close).
    func recycle(callbacks: inout [ProduceCompletions.Entry?]) {
        guard !callbacks.isEmpty else { return }
        var quiet: [[ProducerRecord]] = []
        state.withLockedValue { s in
            if s.spentCallbacks.isEmpty {
                swap(&s.spentCallbacks, &callbacks)
            } else if s.spentCallbacks.count < 65_536 {
                // Copies share the contexts, so freeing `callbacks` here frees none of them.
                s.spentCallbacks.append(contentsOf: callbacks)
            }
            if !s.producedSinceReport, !s.spent.isEmpty { quiet = s.spent.takeAll() }
            s.producedSinceReport = false
        }
        quiet.removeAll()  // freed here, after the lock
    }

    /// Frees every spent record now, on the calling thread (`KafkaClient.flush`: the end of
    /// a burst, often the last call for a while).
    func dropSpent() {
        var all: [[ProducerRecord]] = []
        var callbacks: [ProduceCompletions.Entry?] = []
        state.withLockedValue { s in
            all = s.spent.takeAll()
            swap(&callbacks, &s.spentCallbacks)
        }
        all.removeAll()  // freed here, after the lock
        callbacks.removeAll()
    }

    private func perform(_ wake: Wake, loop: any EventLoop, hop: @escaping @Sendable () -> Void) {
        switch wake {
        case .none: break
        case .now: loop.execute(hop)
        case .later: loop.scheduleTask(in: produceDelay, hop)
        }
    }

    /// Everything queued, in order; the next call schedules a new hop. A timed hop that
    /// fires after an immediate one took the queue finds it empty.
    func take() -> Taken {
        var waiters: [CheckedContinuation<Void, Never>] = []
        let taken = state.withLockedValue { s in
            swap(&waiters, &s.takeWaiters)
            s.pending = .none
            s.recordsOpen = false
            let taken = Taken(commands: s.commands, records: s.records, callbacks: s.callbacks, bytes: s.queuedBytes)
            s.queuedBytes = 0
            s.commands = []
            // The spares when there are (empty, with an earlier run's room), else new arrays
            // with room for twice this run: hops come at uneven times, and each doubling
            // of a filling array copies every record in it.
            s.records = []
            swap(&s.records, &s.spareRecords)
            s.callbacks = []
            swap(&s.callbacks, &s.spareCallbacks)
            let room = min(2 * taken.records.count, handOffLimit)
            if s.records.capacity == 0 { s.records.reserveCapacity(room) }
            if s.callbacks.capacity == 0 { s.callbacks.reserveCapacity(room) }
            return taken
        }
        for c in waiters { c.resume() }
        return taken
    }

    struct Taken {
        var commands: [KafkaClient.Command]
        var records: [ProducerRecord]
        var callbacks: [ProduceCompletions.Entry]
        /// The records' buffer charge.
        var bytes = 0
    }
}
