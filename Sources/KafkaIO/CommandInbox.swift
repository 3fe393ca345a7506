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
/// wakeup costs more than the record). `eagerCount` queued records, or any call that cannot
/// wait, bring the hop forward.
final class CommandInbox: Sendable {
    private enum Pending { case none, timed, immediate }
    private struct State {
        var commands: [KafkaClient.Command] = []
        var records: [ProducerRecord] = []
        var callbacks: [ProduceCompletions.Entry] = []
        /// The token of the next record: tokens run 1, 2, 3, … in queue order, as
        /// ProduceCompletions expects.
        var nextToken: UInt64 = 1
        /// Records the engine is done with and callbacks already called, dropped by the
        /// next producing caller (see `recycle`).
        var spent: [ProducerRecord] = []
        var spentRunCallbacks: [ProduceCompletions.Entry] = []
        var spentCallbacks: [ProduceCompletions.Entry?] = []
        /// A run's arrays once emptied by a producing caller, for a later run to fill: an
        /// array allocated per hop is fresh memory, each page zero-filled by the kernel on
        /// first touch (a fault per 4 KiB, a million records make ~25,000 of them).
        var spareRecords: [ProducerRecord] = []
        var spareCallbacks: [ProduceCompletions.Entry] = []
        /// The last command is the marker of the records being added.
        var recordsOpen = false
        var pending = Pending.none
    }
    private let state = FastLockedBox(State())
    /// How long a produced record may wait for the hop; zero hops at once.
    let produceDelay: TimeAmount
    /// Queued records that bring a timed hop forward.
    let eagerCount: Int

    init(produceDelay: TimeAmount, eagerCount: Int = 4096) {
        self.produceDelay = produceDelay
        self.eagerCount = eagerCount
    }

    var count: Int { state.withLockedValue { $0.commands.count + $0.records.count } }

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

    /// Queues a produced record (its token is set here) and its callback.
    func submit(_ record: consuming ProducerRecord, _ callback: ProduceCompletions.Entry, loop: any EventLoop,
                hop: @escaping @Sendable () -> Void) {
        // Moved into the queue, not copied (a copy retains and later releases each field).
        var pending: ProducerRecord? = consume record
        var spent: [ProducerRecord] = []
        var spentRunCallbacks: [ProduceCompletions.Entry] = []
        var spentCallbacks: [ProduceCompletions.Entry?] = []
        let wake: Wake = state.withLockedValue { s in
            if !s.spent.isEmpty {
                swap(&spent, &s.spent)
                swap(&spentRunCallbacks, &s.spentRunCallbacks)
            }
            if !s.spentCallbacks.isEmpty { swap(&spentCallbacks, &s.spentCallbacks) }
            if !s.recordsOpen {
                s.commands.append(.records(from: s.records.count))
                s.recordsOpen = true
            }
            var record = pending.take()!
            record.token = s.nextToken
            s.nextToken += 1
            s.records.append(consume record)
            s.callbacks.append(callback)
            switch s.pending {
            case .immediate:
                return .none
            case .timed:
                guard s.records.count >= eagerCount else { return .none }
                s.pending = .immediate
                return .now
            case .none:
                if produceDelay > .zero && s.records.count < eagerCount {
                    s.pending = .timed
                    return .later
                }
                s.pending = .immediate
                return .now
            }
        }
        perform(wake, loop: loop, hop: hop)
        // `spent` and `spentCallbacks` are freed here, on a producing thread (see `recycle`);
        // the run's emptied arrays become the spares.
        if !spent.isEmpty { keepAsSpares(&spent, &spentRunCallbacks) }
    }

    /// Arrays holding more than this many records are not kept as spares.
    private static let spareLimit = 65_536

    private func keepAsSpares(_ records: inout [ProducerRecord], _ callbacks: inout [ProduceCompletions.Entry]) {
        guard records.capacity <= Self.spareLimit else { return }
        records.removeAll(keepingCapacity: true)
        callbacks.removeAll(keepingCapacity: true)
        state.withLockedValue { s in
            if s.spareRecords.capacity == 0 { swap(&s.spareRecords, &records) }
            if s.spareCallbacks.capacity == 0 { swap(&s.spareCallbacks, &callbacks) }
        }
    }

    /// Takes back records the engine has encoded, so that their keys and values are freed
    /// by the next producing caller rather than on the loop. The caller's thread allocated
    /// them; glibc frees a block into its own thread's cache but must lock the allocating
    /// thread's arena to free it from another, and a caller allocating a million records a
    /// second while the loop frees them fights over that lock on every record. The run's
    /// emptied arrays then carry a later run (`spareRecords`).
    func recycle(_ taken: inout Taken) {
        guard !taken.records.isEmpty else { return }
        // Swapped, not copied: the last reference must leave this thread's hands here.
        state.withLockedValue { s in
            if s.spent.isEmpty {
                swap(&s.spent, &taken.records)
                swap(&s.spentRunCallbacks, &taken.callbacks)
            }
        }
    }

    /// As `recycle(_:)`, for callbacks (their captured contexts) once called.
    func recycle(callbacks: inout [ProduceCompletions.Entry?]) {
        guard !callbacks.isEmpty else { return }
        state.withLockedValue { s in
            if s.spentCallbacks.isEmpty {
                swap(&s.spentCallbacks, &callbacks)
            } else if s.spentCallbacks.count < 65_536 {
                // Copies share the contexts, so freeing `callbacks` here frees none of them.
                s.spentCallbacks.append(contentsOf: callbacks)
            }
        }
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
        state.withLockedValue { s in
            s.pending = .none
            s.recordsOpen = false
            let taken = Taken(commands: s.commands, records: s.records, callbacks: s.callbacks)
            s.commands = []
            // The spares when there are (empty, with an earlier run's room), else new arrays.
            s.records = []
            swap(&s.records, &s.spareRecords)
            s.callbacks = []
            swap(&s.callbacks, &s.spareCallbacks)
            s.records.reserveCapacity(taken.records.count)
            s.callbacks.reserveCapacity(taken.records.count)
            return taken
        }
    }

    struct Taken {
        var commands: [KafkaClient.Command]
        var records: [ProducerRecord]
        var callbacks: [ProduceCompletions.Entry]
    }
}
