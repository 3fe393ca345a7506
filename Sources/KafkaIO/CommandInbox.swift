import NIOConcurrencyHelpers
import NIOCore

/// The calls waiting for the client's event loop, and when the loop will next take them.
///
/// Every call queues here; one hop to the loop takes everything queued. A call that needs
/// the engine now (a request, a flush, a close) makes the hop happen at once if none is
/// already coming. A produced record can wait a little: it would linger in its batch
/// anyway, so the first record after a hop schedules the next one `produceDelay` later and
/// the records produced meanwhile ride along, instead of each waking the loop (a wakeup
/// costs more than the record itself). Many records, or any call that cannot wait, bring
/// the hop forward.
final class CommandInbox: Sendable {
    enum Urgency {
        case now
        /// Fine to take within `produceDelay`.
        case soon
    }

    private enum Pending { case none, timed, immediate }
    private struct State {
        var commands: [KafkaClient.Command] = []
        var pending = Pending.none
    }
    private let state = NIOLockedValueBox(State())
    /// How long a produced record may wait for the hop; zero hops at once.
    let produceDelay: TimeAmount
    /// Queued calls that bring a timed hop forward.
    let eagerCount: Int

    init(produceDelay: TimeAmount, eagerCount: Int = 4096) {
        self.produceDelay = produceDelay
        self.eagerCount = eagerCount
    }

    var count: Int { state.withLockedValue { $0.commands.count } }

    /// Queues `command`; calls `hop` on `loop` when the loop should take the queue.
    func submit(_ command: KafkaClient.Command, urgency: Urgency, loop: any EventLoop, hop: @escaping @Sendable () -> Void) {
        enum Wake { case none, now, later }
        let wake: Wake = state.withLockedValue { s in
            s.commands.append(command)
            switch s.pending {
            case .immediate:
                return .none
            case .timed:
                guard urgency == .now || s.commands.count >= eagerCount else { return .none }
                s.pending = .immediate
                return .now
            case .none:
                if urgency == .soon && produceDelay > .zero && s.commands.count < eagerCount {
                    s.pending = .timed
                    return .later
                }
                s.pending = .immediate
                return .now
            }
        }
        switch wake {
        case .none: break
        case .now: loop.execute(hop)
        case .later: loop.scheduleTask(in: produceDelay, hop)
        }
    }

    /// Everything queued, in order; the next call schedules a new hop. A timed hop that
    /// fires after an immediate one took the queue finds it empty.
    func take() -> [KafkaClient.Command] {
        state.withLockedValue { s in
            s.pending = .none
            let taken = s.commands
            s.commands.removeAll(keepingCapacity: true)
            return taken
        }
    }
}
