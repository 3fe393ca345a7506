import KafkaStateMachines
import Logging
import ServiceLifecycle

/// Exactly-once consume-transform-produce: a consumer group member and a transactional
/// producer on one client, whose consumed offsets are committed inside the producer's
/// transaction (KIP-98, with KIP-447's member fields so a zombie member is fenced).
///
/// ```swift
/// var client = try KafkaClientConfiguration(seedBrokers: ["127.0.0.1:9092"])
/// client.producer.transactionalId = "copier-\(instance)"
/// let session = try KafkaTransactSession(configuration: client, group: GroupConfiguration(groupId: "copier", topics: ["in"]))
/// async let running: Void = session.run()
/// while true {
///     let poll = await session.poll()
///     if poll.closed { break }
///     if poll.isEmpty { continue }
///     try await session.begin()
///     for r in poll.records { await session.client.produce(KafkaRecord(topic: "out", key: r.key, value: r.value)) { _ in } }
///     try await session.end(commit: true)   // false: aborted, and the records come again
/// }
/// ```
///
/// The rules that keep it exactly once:
/// - Its consumer reads `read_committed`, commits only inside transactions (no autocommit,
///   no commit on revoke or leave), and fetches committed offsets with require-stable.
/// - `end(commit: true)` sends the positions of everything polled since the last commit into
///   the transaction, then commits it. If any part fails in a way that allows it, it aborts
///   instead and returns false. During a cooperative rejoin that keeps this member's
///   partitions it waits for the new generation rather than abort.
/// - A rebalance that revokes or loses partitions while a transaction is open makes it
///   abort ("if we might have to abort, abort"): what was consumed may already belong to
///   another member. One between transactions makes the next one abort: records polled
///   before it may be in hand, and another member may own them now.
/// - After an abort every owned partition starts again from its committed offset, so the
///   aborted records are polled again. Use `poll`, and process everything a poll returned
///   within one transaction.
public final class KafkaTransactSession: Service, Sendable {
    /// The group member underneath (events, pause/resume; commit only through `end`).
    public let consumer: KafkaGroupConsumer
    /// The client: produce with it inside a transaction.
    public var client: KafkaClient { consumer.client }

    /// `configuration.producer.transactionalId` must be set (unique per instance of the
    /// application that may run at once; a static `group.instanceId` pairs well with it).
    /// The consumer's isolation is set to read_committed; the group's autocommit and commit
    /// on revoke are turned off.
    public init(configuration: KafkaClientConfiguration, group: GroupConfiguration,
                logger: Logger = Logger(label: "kgo-swift.transact")) throws(KafkaConfigurationError) {
        guard configuration.producer.transactionalId != nil else {
            throw .invalidSetting("producer.transactionalId", "a transact session needs a transactional id")
        }
        var c = configuration
        c.consumer.isolation = .readCommitted
        var g = group
        g.autocommitInterval = nil
        g.commitOnRevoke = false
        g.transactional = true
        let settleWithin = configuration.producer.transactionTimeout
        consumer = try KafkaGroupConsumer(configuration: c, group: g, logger: logger, beforeLeave: { client in
            await Self.settleTransaction(client, within: settleWithin)
        })
    }

    /// Before leaving: an open transaction is aborted (left open, the offsets it sent would
    /// hold the next owner's OffsetFetch, require-stable, until its timeout). A commit or abort
    /// still running (its caller was cancelled; the engine finishes it anyway) answers the
    /// abort with `.endInProgress`: it is waited for, or leaving would close the client under
    /// it and leave the transaction open on the coordinator. Bounded by the transaction
    /// timeout, past which the coordinator aborts it itself.
    static func settleTransaction(_ client: KafkaClient, within limit: Duration) async {
        let clock = ContinuousClock()
        let deadline = clock.now + limit
        while true {
            do {
                try await client.abortTransaction()
                return
            } catch {
                // .noTransaction: none open; anything else: nothing more to do here.
                guard case .endInProgress = error, clock.now < deadline else { return }
            }
            try? await Task.sleep(for: .milliseconds(20))
        }
    }

    /// Joins the group and returns when the membership ends (see `KafkaGroupConsumer.run`);
    /// graceful shutdown aborts a transaction left open, then leaves.
    public func run() async throws { try await consumer.run() }

    /// Records fetched since the last poll (read_committed).
    public func poll(timeout: Duration? = nil) async -> ConsumerPoll { await consumer.poll(timeout: timeout) }

    /// Opens a transaction (the first also registers the transactional id, fencing an older
    /// instance with the same id).
    public func begin() async throws(TransactionError) { try await client.beginTransaction() }

    /// Ends the open transaction. With `commit`, the consumed positions go into it and it is
    /// committed: returns true. If it cannot commit (a record failed, a rebalance took
    /// partitions, the group fenced this member) it is aborted instead: returns false, and
    /// the consumed records are polled again. Without `commit` it aborts: returns false.
    /// A commit settled as `.commitUncertain` (KIP-588: the coordinator had aborted it on its
    /// timeout) returns false too. Throws only what leaves no transaction to retry: fatal
    /// (fenced, not authorized), closed, or cancelled.
    @discardableResult
    public func end(commit: Bool) async throws(TransactionError) -> Bool {
        if commit {
            do {
                try await client.transactionCall(.sendGroupOffsets)
                try await client.commitTransaction()
                return true
            } catch {
                switch error {
                case .mustAbort, .notInGroup: break
                // Over already, not committed (the coordinator aborted it on its timeout):
                // the consumed records are polled again.
                case .commitUncertain: return false
                default: throw error
                }
            }
        }
        try await client.abortTransaction()
        return false
    }

    /// Aborts a transaction left open (after a commit or abort still running, cancelled by
    /// its caller, has finished), leaves the group and closes the client.
    public func leave() async { await consumer.leave() }
}
