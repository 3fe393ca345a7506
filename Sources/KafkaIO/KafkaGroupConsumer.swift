import KafkaProtocol
import KafkaStateMachines
import Logging
import NIOConcurrencyHelpers
import ServiceLifecycle

/// A member of a consumer group: joins, consumes what the group assigns, commits, and
/// leaves — a ServiceLifecycle `Service`.
///
/// ```swift
/// let consumer = try KafkaGroupConsumer(configuration: client, group: GroupConfiguration(groupId: "billing", topics: ["orders"]))
/// let group = ServiceGroup(services: [consumer], gracefulShutdownSignals: [.sigterm], logger: logger)
/// async let running: Void = group.run()
/// for try await record in consumer.records() { try await handle(record) }
/// ```
///
/// `run()` joins and keeps the membership (heartbeats go on while the caller is busy);
/// graceful shutdown (or `leave()`) commits what was consumed, leaves the group (a static
/// member stays until its session times out) and closes the client. What was consumed is
/// what `poll` or `records()` handed out before the caller asked for more: the records of
/// the last poll are committed only once the next poll begins.
public final class KafkaGroupConsumer: Service, Sendable {
    /// The client underneath (requests, metadata; do not `assign` or `consume` on it).
    public let client: KafkaClient
    /// The group's settings (with the consumer's rack filled in when the group had none).
    public let group: GroupConfiguration
    /// Membership events in order; finishes when the membership ends.
    public let events: AsyncStream<GroupConsumerEvent>
    private let eventSink: AsyncStream<GroupConsumerEvent>.Continuation

    private struct State {
        var joined = false
        var ended = false
        var error: GroupError?
        var waiters: [CheckedContinuation<Void, Never>] = []
    }
    private let state = NIOLockedValueBox(State())
    private let logger: Logger
    /// Runs first when leaving (a transact session aborts its open transaction there, so
    /// the next owner of its partitions does not wait for the transaction's timeout).
    private let beforeLeave: (@Sendable (KafkaClient) async -> Void)?

    /// A member of `group` on a client of its own made from `configuration`; nothing is sent
    /// until `run()` or `join()`. Throws when either configuration is invalid.
    public convenience init(configuration: KafkaClientConfiguration, group: GroupConfiguration,
                            logger: Logger = Logger(label: "kgo-swift.group")) throws(KafkaConfigurationError) {
        try self.init(configuration: configuration, group: group, logger: logger, beforeLeave: nil)
    }

    init(configuration: KafkaClientConfiguration, group: GroupConfiguration, logger: Logger,
         beforeLeave: (@Sendable (KafkaClient) async -> Void)?) throws(KafkaConfigurationError) {
        self.beforeLeave = beforeLeave
        try group.validate()
        // The engine's group lines and this consumer's own name the group too.
        var logger = logger
        logger[metadataKey: KafkaLogMetadata.group] = .string(group.groupId)
        client = try KafkaClient(configuration: configuration, logger: logger)
        var group = group
        // The consumer's rack (KIP-392's closest replica) is the member's rack too (KIP-881).
        if group.rack == nil { group.rack = configuration.consumer.rack }
        self.group = group
        logger[metadataKey: KafkaLogMetadata.clientId] = .string(configuration.clientId ?? "")
        self.logger = logger
        (events, eventSink) = AsyncStream.makeStream(of: GroupConsumerEvent.self, bufferingPolicy: .unbounded)
    }

    /// Joins the group and returns once the membership has ended: left gracefully (graceful
    /// shutdown, task cancellation or `leave()`), or failed for good (thrown).
    public func run() async throws {
        join()
        await withTaskCancellationHandler {
            await cancelWhenGracefulShutdown {
                await withGracefulShutdownHandler {
                    await self.waitForEnd()
                } onGracefulShutdown: {
                    Task { await self.leave() }
                }
            }
        } onCancel: {
            Task { await self.leave() }
        }
        if let error = state.withLockedValue({ $0.error }), error != .clientClosed { throw error }
    }

    /// Starts the membership without awaiting it (`run()` does this itself).
    public func join() {
        let first = state.withLockedValue { s -> Bool in
            defer { s.joined = true }
            return !s.joined
        }
        guard first else { return }
        let sink = eventSink
        let hooks = GroupHooks(event: { [weak self] e in
            sink.yield(e)
            if case .failed(let error) = e { self?.end(error) }
        }, onRevoked: group.onRevoked, onAssigned: group.onAssigned, onLost: group.onLost, revocationTimeout: group.revocationTimeout)
        client.submit(.group(.join(group.engineConfig, hooks, client.fetchBuffer)))
    }

    /// Flushes what was produced, commits what was consumed, leaves the group (unless
    /// static), and closes the client; all but the close within the configuration's
    /// `shutdownTimeout` (past it the client closes anyway, and the coordinator drops the
    /// member when its session times out).
    public func leave() async {
        let already = state.withLockedValue { $0.ended }
        if !already {
            let client = self.client
            let beforeLeave = self.beforeLeave
            // Not the caller's task: leaving is often what a cancelled task does.
            await Task {
                let inTime = await Deadline.run(within: client.configuration.shutdownTimeout) {
                    if let beforeLeave { await beforeLeave(client) }
                    await client.flush()
                    let left = CancellableWait<Void>()
                    client.submit(.group(.leave({ left.finish(()) })))
                    await left.value()
                }
                if !inTime { self.logger.warning("leaving took longer than the shutdown timeout; closing") }
            }.value
        }
        await client.close()
        end(nil)
    }

    /// Records as they arrive, with backpressure (see `KafkaClient.records`). The sequence
    /// ends when the consumer has left (or the iterating task is cancelled) and throws the
    /// `GroupError` that ended the membership if it failed (fenced, not authorized, …).
    public func records(onIssue: (@Sendable (ConsumerIssue) -> Void)? = nil) -> GroupConsumerRecords {
        GroupConsumerRecords(records: client.records(onIssue: onIssue), failure: { [state] in
            state.withLockedValue { s in s.error.flatMap { $0 == .clientClosed ? nil : $0 } }
        })
    }

    /// Why the membership failed, once it has (nil while it lasts or after a clean leave).
    public var failure: GroupError? {
        state.withLockedValue { s in s.error.flatMap { $0 == .clientClosed ? nil : $0 } }
    }

    /// Fetched records, decoded (see `KafkaClient.poll`).
    public func poll(timeout: Duration? = nil) async -> ConsumerPoll {
        await client.poll(timeout: timeout)
    }

    /// Commits everything consumed so far; returns what was committed. Cancelling the calling
    /// task throws `.cancelled` at once (a commit already sent may still take effect).
    @discardableResult
    public func commit() async throws(GroupError) -> [TopicPartition: CommitPosition] {
        try await commit(nil)
    }

    /// Commits these offsets (the next offset to consume, per partition).
    public func commit(_ offsets: [TopicPartition: CommitPosition]) async throws(GroupError) {
        _ = try await commit(Optional(offsets))
    }

    private func commit(_ offsets: [TopicPartition: CommitPosition]?) async throws(GroupError) -> [TopicPartition: CommitPosition] {
        let wait = CancellableWait<CommitReport>()
        client.submit(.group(.commit(offsets, { wait.finish($0) })))
        let report = await wait.value(cancelled: CommitReport(promise: nil, offsets: [:], failed: [:], error: .cancelled))
        if let e = report.error { throw e }
        if let (_, e) = report.failed.min(by: { $0.key < $1.key }) { throw e }
        return report.offsets
    }

    /// Commits these offsets (or, nil, everything consumed) without waiting; `completion`
    /// runs on the client's event loop with the outcome (keep it short).
    public func commitAsync(_ offsets: [TopicPartition: CommitPosition]? = nil,
                            completion: @escaping @Sendable (Result<[TopicPartition: CommitPosition], GroupError>) -> Void = { _ in }) {
        client.submit(.group(.commit(offsets, { report in
            if let e = report.error ?? report.failed.min(by: { $0.key < $1.key })?.value {
                completion(.failure(e))
            } else {
                completion(.success(report.offsets))
            }
        })))
    }

    /// Stops fetching these partitions (still owned) and holds back their buffered records.
    public func pause(_ partitions: [TopicPartition]) { client.pause(partitions) }
    /// Fetches paused partitions again.
    public func resume(_ partitions: [TopicPartition]) { client.resume(partitions) }

    private func end(_ error: GroupError?) {
        let waiters = state.withLockedValue { s -> [CheckedContinuation<Void, Never>] in
            guard !s.ended else { return [] }
            s.ended = true
            s.error = error
            defer { s.waiters = [] }
            return s.waiters
        }
        if !waiters.isEmpty || error != nil { eventSink.finish() }
        for w in waiters { w.resume() }
        if error != nil { Task { await client.close() } }
    }

    private func waitForEnd() async {
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            let done = state.withLockedValue { s -> Bool in
                if s.ended { return true }
                s.waiters.append(c)
                return false
            }
            if done { c.resume() }
        }
        eventSink.finish()
    }
}

/// A group consumer's records (see `KafkaGroupConsumer.records`): ends when the consumer
/// has left, throws the `GroupError` that ended a failed membership.
public struct GroupConsumerRecords: AsyncSequence, Sendable {
    /// Each record with its topic and partition.
    public typealias Element = ConsumerRecord
    let records: ConsumerRecords
    let failure: @Sendable () -> GroupError?

    /// Iterates the consumer's records, then reports how the membership ended.
    public struct AsyncIterator: AsyncIteratorProtocol {
        var inner: ConsumerRecords.AsyncIterator
        let failure: @Sendable () -> GroupError?

        /// The next record; nil once the consumer has left, or the error that ended the membership.
        public mutating func next() async throws(GroupError) -> ConsumerRecord? {
            if let record = await inner.next() { return record }
            if let error = failure() { throw error }
            return nil
        }
    }

    /// An iterator over the consumer's records.
    public func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(inner: records.makeAsyncIterator(), failure: failure)
    }
}
