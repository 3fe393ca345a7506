import KafkaProtocol
import KafkaStateMachines
import Logging
import NIOCore
import NIOSSL

/// Runs one `ClientEngine` on one event loop: maps channel events and user commands to
/// engine inputs, performs the engine's actions, and ticks it at its next deadline.
/// Confined to `loop`: every method runs there (the client reaches it through a loop-bound box).
final class EngineDriver {
    /// Called on the loop with the request's outcome.
    typealias Completion = @Sendable (Result<any KafkaResponse, KafkaClientError>) -> Void

    let loop: any EventLoop
    var engine: ClientEngine
    /// Where `.fetched` actions go (set by the first consumer command).
    var fetchBuffer: FetchBuffer?
    let configuration: KafkaClientConfiguration
    private let tlsContext: NIOSSLContext?
    let logger: Logger
    /// Instants are nanoseconds since this point of the monotonic clock.
    private let start: NIODeadline

    private enum Slot {
        case connecting
        case handshaking(any Channel)
        case open(any Channel)
    }
    private var slots: [ConnectionID: Slot] = [:]
    /// Send buffers of large frames, back from the channel once written (see `write`).
    private var sendBuffers: [ByteBuffer] = []
    var brokers: [ConnectionID: BrokerID] = [:]

    private var completions: [PromiseID: Completion] = [:]
    /// Producer state (EngineDriver+Produce.swift).
    var produceCompletions = ProduceCompletions()
    /// The client's buffer accounting: room comes back here when records complete.
    let producerGate: ProducerGate
    /// Where called callbacks go to be freed by a producing thread (CommandInbox.recycle).
    let inbox: CommandInbox
    var flushWaiters: [PromiseID: @Sendable () -> Void] = [:]
    /// Begins, commits and aborts waiting for the engine's answer (EngineDriver+Produce).
    var transactionWaiters: [PromiseID: @Sendable (TransactionError?) -> Void] = [:]
    var nextPromise: UInt64 = 1
    /// Requests the caller may cancel, by the client's handle, and back.
    private var cancellable: [UInt64: PromiseID] = [:]
    private var handleOfPromise: [PromiseID: UInt64] = [:]

    private var scheduledTick: (at: Instant, task: Scheduled<Void>)?
    private var lastTick: Instant?
    private var draining = false

    enum Lifecycle { case running, closing, closed }
    /// The group consumer's side (EngineDriver+Group.swift), once one joined.
    var group: GroupDriverState?
    private(set) var lifecycle = Lifecycle.running
    private var closeWaiters: [@Sendable () -> Void] = []
    private var closeTimer: Scheduled<Void>?
    /// Records every input for `kgo sim replay` when configured.
    let recorder: FlightRecorder?
    /// The user's hooks (KafkaHooks.swift); empty: no event is built, here or in the engine.
    let clientHooks: [any KafkaHook]
    /// When each dial started, kept only with hooks (their connect time).
    var dialStarts: [ConnectionID: Instant] = [:]

    init(loop: any EventLoop, configuration: KafkaClientConfiguration, tlsContext: NIOSSLContext?, logger: Logger, seed: UInt64,
         producerGate: ProducerGate, inbox: CommandInbox, recorder: FlightRecorder? = nil) {
        self.loop = loop
        self.producerGate = producerGate
        self.inbox = inbox
        self.configuration = configuration
        var engineConfig = configuration.engineConfig
        // Decisions are logged at debug to warning: none are built for a quieter logger.
        if logger.logLevel > .warning { engineConfig.reportDecisions = false }
        self.clientHooks = configuration.hooks
        self.engine = ClientEngine(config: engineConfig, seed: seed)
        self.recorder = recorder
        self.tlsContext = tlsContext
        self.logger = logger
        self.start = .now()
    }

    var now: Instant {
        let n = NIODeadline.now().uptimeNanoseconds
        return Instant(nanoseconds: n >= start.uptimeNanoseconds ? n - start.uptimeNanoseconds : 0)
    }

    // MARK: user commands (drained from the client's inbox in one hop)

    /// A test seam: told of every hop from user calls with the calls it carried (how well
    /// calls are batched); nil, as in production, costs one check per hop.
    var hopObserver: (@Sendable (_ calls: Int) -> Void)?

    /// Where each run of records of one hop ends, in command order: at the next run's
    /// start, the last at the end. (Records queued before and after another command in one
    /// hop make two runs; each must end where the next begins, or the records between are
    /// never handed to the engine and the next run's tokens are out of step.)
    static func recordRunEnds(_ commands: [KafkaClient.Command], recordCount: Int) -> [Int] {
        var ends: [Int] = []
        var nextStart = recordCount
        for command in commands.reversed() {
            if case .records(let from) = command {
                ends.append(nextStart)
                nextStart = from
            }
        }
        return ends.reversed()
    }

    func run(_ taken: inout CommandInbox.Taken) {
        loop.preconditionInEventLoop()
        // The records are not bound to a local: a second reference to their array would make
        // the engine's in-place lending copy it.
        let commands = taken.commands
        let recordCount = taken.records.count
        hopObserver?(commands.count + recordCount)
        let now = self.now
        let recordRunEnds = Self.recordRunEnds(commands, recordCount: recordCount)
        var runIndex = 0
        for command in commands {
            switch command {
            case .request(let request, let target, let pin, let completion):
                guard lifecycle == .running else {
                    completion(.failure(.clientClosed))
                    continue
                }
                let promise = PromiseID(nextPromise)
                nextPromise += 1
                completions[promise] = completion
                feed(.request(UserRequest(request, to: target, pin: pin, promise: promise)), now: now)
            case .cancellableRequest(let request, let target, let pin, let handle, let completion):
                guard lifecycle == .running else {
                    completion(.failure(.clientClosed))
                    continue
                }
                let promise = PromiseID(nextPromise)
                nextPromise += 1
                completions[promise] = completion
                cancellable[handle] = promise
                handleOfPromise[promise] = handle
                feed(.request(UserRequest(request, to: target, pin: pin, promise: promise)), now: now)
            case .cancel(let handle):
                // A request that already completed has no handle left: nothing to do.
                if let promise = cancellable[handle] {
                    feed(.cancel(promise), now: now)
                }
            case .close(let waiter):
                beginClose(waiter)
            case .consumer(let input, let buffer):
                runConsumer(input, buffer: buffer, now: now)
            case .records(let from):
                let end = recordRunEnds[runIndex]
                runIndex += 1
                produce(&taken.records, range: from ..< end, callbacks: &taken.callbacks, now: now)
            case .group(let command):
                runGroup(command, now: now)
            case .transaction(let command, let done):
                runTransaction(command, done: done, now: now)
            case .flush(let done):
                guard lifecycle == .running else {
                    done()
                    continue
                }
                let promise = PromiseID(nextPromise)
                nextPromise += 1
                flushWaiters[promise] = done
                feed(.flush(promise), now: now)
            }
        }
        drain()
    }

    private func beginClose(_ waiter: (@Sendable () -> Void)?) {
        switch lifecycle {
        case .closed:
            waiter?()
            return
        case .closing:
            if let waiter { closeWaiters.append(waiter) }
            return
        case .running:
            if let waiter { closeWaiters.append(waiter) }
            lifecycle = .closing
        }
        logger.debug("closing", metadata: ["outstanding": "\(completions.count)"])
        // Graceful: outstanding requests get until the close timeout to finish.
        let deadline = NIODeadline.now() + TimeAmount(configuration.closeTimeout)
        closeTimer = loop.assumeIsolated().scheduleTask(deadline: deadline) { [weak self] in
            self?.finishClose()
        }
    }

    private func finishClose() {
        guard lifecycle == .closing else { return }
        lifecycle = .closed
        closeTimer?.cancel()
        closeTimer = nil
        // Taken before the engine's close actions forget the channels, so close() returns
        // only once every socket is closed. Channels still dialing are closed by `dialed`.
        var closing: [EventLoopFuture<Void>] = []
        for (_, slot) in slots {
            if case .handshaking(let ch) = slot { closing.append(ch.closeFuture) }
            if case .open(let ch) = slot { closing.append(ch.closeFuture) }
        }
        let closedAt = now
        feed(.close, now: closedAt)
        drain()
        recorder?.finish(now: closedAt)
        fetchBuffer?.close()
        // The engine answered these while closing unless its answer is still queued (this
        // may run inside a drain); nothing answers them after this.
        let unanswered = transactionWaiters
        transactionWaiters = [:]
        for (_, done) in unanswered.sorted(by: { $0.key.rawValue < $1.key.rawValue }) { done(.clientClosed) }
        scheduledTick?.task.cancel()
        scheduledTick = nil
        for (id, slot) in slots {
            if case .handshaking(let ch) = slot { ch.close(promise: nil) }
            if case .open(let ch) = slot {
                ch.close(promise: nil)
                if !clientHooks.isEmpty, let broker = brokers[id] { for h in clientHooks { h.brokerDisconnected(KafkaHookBroker(broker)) } }
            }
        }
        slots.removeAll()
        let waiters = closeWaiters
        closeWaiters = []
        EventLoopFuture.andAllComplete(closing, on: loop).whenComplete { _ in
            for w in waiters { w() }
        }
        logger.debug("closed")
    }

    /// Gives the engine one input, recording it first when a flight recorder is on. Every
    /// input but the producer's lent records (EngineDriver+Produce) goes through here.
    /// A promise id for a driver-made input.
    func makePromise() -> PromiseID {
        defer { nextPromise += 1 }
        return PromiseID(nextPromise)
    }

    func feed(_ input: EngineInput, now: Instant) {
        recorder?.record(input, now: now)
        engine.handle(input, now: now)
    }

    // MARK: channel events

    private func dialed(_ id: ConnectionID, host: String, tls: Bool, _ result: Result<any Channel, any Error>) {
        guard case .connecting? = slots[id] else {
            // The engine gave up on this dial (timeout, close) while it was in flight.
            if case .success(let ch) = result { ch.close(promise: nil) }
            return
        }
        switch result {
        case .failure(let error):
            fail(id, reason: DialFailure.classify(error))
        case .success(let channel):
            guard channel.eventLoop.inEventLoop else {
                channel.close(promise: nil)
                fail(id, reason: .other("dialer returned a channel on another event loop"))
                return
            }
            do {
                let ops = channel.pipeline.syncOperations
                try ops.addHandler(BrokerChannelHandler(id: id, driver: self))
                if tls, let tlsContext {
                    let name = configuration.tls?.serverName ?? (Self.isIPAddress(host) ? nil : host)
                    slots[id] = .handshaking(channel)
                    // Added in front of ours after it, so handshake events find our handler.
                    try ops.addHandler(NIOSSLClientHandler(context: tlsContext, serverHostname: name), position: .first)
                } else {
                    slots[id] = .open(channel)
                }
                guard channel.isActive else {
                    channel.close(promise: nil)
                    fail(id, reason: .closed("closed by peer while connecting"))
                    return
                }
                if !tls {
                    logger.debug("connected", metadata: ["connection": "\(id)", "broker": "\(brokers[id].map { "\($0)" } ?? "?")"])
                    let openedAt = now
                    if !clientHooks.isEmpty { hookConnected(id, at: openedAt) }
                    feed(.connectionOpened(id), now: openedAt)
                    drain()
                }
            } catch {
                channel.close(promise: nil)
                fail(id, reason: DialFailure.classify(error))
            }
        }
    }

    private func fail(_ id: ConnectionID, reason: ConnectionFailure) {
        slots[id] = nil
        logger.debug("connection failed", metadata: ["connection": "\(id)", "broker": "\(brokers[id].map { "\($0)" } ?? "?")", "reason": "\(reason)"])
        if !clientHooks.isEmpty, let broker = brokers[id] {
            dialStarts[id] = nil
            for h in clientHooks { h.brokerConnectFailed(KafkaHookBroker(broker), reason: reason) }
        }
        brokers[id] = nil
        let failedAt = now
        feed(.connectionFailed(id, reason: reason), now: failedAt)
        drain()
    }

    func tlsHandshakeCompleted(_ id: ConnectionID) {
        guard case .handshaking(let ch)? = slots[id] else { return }
        slots[id] = .open(ch)
        logger.debug("connected (TLS)", metadata: ["connection": "\(id)", "broker": "\(brokers[id].map { "\($0)" } ?? "?")"])
        let openedAt = now
        if !clientHooks.isEmpty { hookConnected(id, at: openedAt) }
        feed(.connectionOpened(id), now: openedAt)
        drain()
    }

    /// Frames this large go through pooled send buffers (smaller ones are not worth a promise).
    private static let pooledFrame = 64 << 10
    /// Buffers kept for reuse, at most this many and this large (an idle client's memory).
    private static let sendBufferPool = (count: 4, bytes: 2 << 20)

    /// Copies a frame into a send buffer and writes it: the frame's head and its spliced
    /// batches go straight into the buffer, one copy each. A large frame's buffer comes from
    /// the pool and goes back to it once the channel has written it: allocated per frame,
    /// each produce frame (up to a megabyte, above glibc's mmap threshold) was fresh memory,
    /// faulted in page by page (a quarter of kgo bench produce's page faults). A buffer the
    /// channel still holds is not reused in place: `clear` copies on write.
    private func write(_ frame: OutboundFrame, to ch: any Channel) {
        guard frame.count >= Self.pooledFrame else {
            var buffer = ch.allocator.buffer(capacity: frame.count)
            frame.forEachRun { buffer.writeBytes($0) }
            ch.write(buffer, promise: nil)
            return
        }
        var buffer = sendBuffers.popLast() ?? ch.allocator.buffer(capacity: frame.count)
        buffer.clear(minimumCapacity: frame.count)
        frame.forEachRun { buffer.writeBytes($0) }
        let written = ch.eventLoop.makePromise(of: Void.self)
        ch.write(buffer, promise: written)
        written.futureResult.assumeIsolated().whenComplete { [weak self] _ in
            guard let self, self.sendBuffers.count < Self.sendBufferPool.count,
                  buffer.capacity <= Self.sendBufferPool.bytes else { return }
            self.sendBuffers.append(buffer)
        }
    }

    /// A socket read: its bytes go to the engine in place (an array of them only for the
    /// flight recorder). Copying each read into an array first was a third of the CPU of
    /// consuming large records.
    func received(_ id: ConnectionID, _ buffer: ByteBuffer) {
        guard case .open? = slots[id] else { return }
        let receivedAt = now
        if let recorder { recorder.record(.bytesReceived(id, Array(buffer.readableBytesView)), now: receivedAt) }
        buffer.withUnsafeReadableBytes { engine.received(id, lending: $0, now: receivedAt) }
        drain()
    }

    /// An error or end of stream; reported once, as a failed dial or a closed connection.
    func lost(_ id: ConnectionID, reason: ConnectionFailure) {
        switch slots[id] {
        case nil:
            return
        case .connecting, .handshaking:
            fail(id, reason: reason)
        case .open(let ch):
            slots[id] = nil
            if !clientHooks.isEmpty, let broker = brokers[id] { for h in clientHooks { h.brokerDisconnected(KafkaHookBroker(broker)) } }
            logger.debug("connection lost", metadata: ["connection": "\(id)", "broker": "\(brokers[id].map { "\($0)" } ?? "?")", "reason": "\(reason)"])
            brokers[id] = nil
            ch.close(promise: nil)
            let closedAt = now
            feed(.connectionClosed(id), now: closedAt)
            drain()
        }
    }

    /// Awaits the OAUTHBEARER provider off the loop and feeds its answer back; the engine
    /// bounds the wait (connect timeout) and ignores an answer for a connection gone meanwhile.
    private func fetchOAuthToken(for id: ConnectionID) {
        guard case .oauthBearer(let provider)? = configuration.engineConfig.sasl else { return }
        let loop = self.loop
        let driver = NIOLoopBound(self, eventLoop: loop)
        Task {
            let result: Result<OAuthBearerToken, OAuthTokenFailure>
            do { result = .success(try await provider()) } catch { result = .failure(OAuthTokenFailure("\(error)")) }
            loop.execute {
                let d = driver.value
                guard d.lifecycle != .closed else { return }
                d.feed(.oauthToken(id, result), now: d.now)
                d.drain()
            }
        }
    }

    // MARK: actions

    /// Performs every queued action. Re-entrant calls (a close firing channelInactive
    /// synchronously) only feed the engine; the outer loop picks up their actions.
    func drain() {
        guard !draining else { return }
        draining = true
        defer { draining = false }
        var toFlush: [ConnectionID: any Channel] = [:]
        while true {
            while let action = engine.pollAction() {
                recorder?.observe(action)
                perform(action, toFlush: &toFlush)
            }
            // After the engine's turn, on this loop: a hook delays only our next turn.
            if !clientHooks.isEmpty { callHooks(engine.takeObservations()) }
            if engine.config.reportDecisions { logDecisions(engine.takeDecisions()) }
            if toFlush.isEmpty { break }
            let channels = toFlush
            toFlush = [:]
            for (_, ch) in channels { ch.flush() }
        }
        rescheduleTick()
        recorder?.flushIfIdle()
        // A commit or abort under way may finish within the close timeout too.
        if lifecycle == .closing, completions.isEmpty, produceCompletions.isEmpty, transactionWaiters.isEmpty { finishClose() }
    }

    private func perform(_ action: Action, toFlush: inout [ConnectionID: any Channel]) {
        switch action {
        case .open(let id, let broker, let host, let port, let tls):
            slots[id] = .connecting
            brokers[id] = broker
            if !clientHooks.isEmpty { dialStarts[id] = now }
            logger.debug("dialing", metadata: ["connection": "\(id)", "broker": "\(broker)", "address": "\(host):\(port)"])
            let timeout = TimeAmount(configuration.connectTimeout)
            configuration.dialer.dial(host, port, loop, timeout)
                .hop(to: loop)
                .assumeIsolated()
                .whenComplete { [weak self] result in self?.dialed(id, host: host, tls: tls, result) }
        case .write(let id, let bytes):
            guard case .open(let ch)? = slots[id] else {
                logger.warning("engine wrote to a connection that is not open", metadata: ["connection": "\(id)"])
                return
            }
            write(bytes, to: ch)
            toFlush[id] = ch
        case .close(let id):
            toFlush[id] = nil
            let broker = brokers.removeValue(forKey: id)
            dialStarts[id] = nil
            switch slots.removeValue(forKey: id) {
            case .open(let ch)?:
                ch.close(promise: nil)
                if !clientHooks.isEmpty, let broker { for h in clientHooks { h.brokerDisconnected(KafkaHookBroker(broker)) } }
            case .handshaking(let ch)?: ch.close(promise: nil)
            case .connecting?, nil: break
            }
        case .fetchOAuthToken(let id):
            fetchOAuthToken(for: id)
        case .delivery(let report):
            deliver(report)
        case .producer(let notice):
            producerNotice(notice)
        case .complete(let promise, let result):
            if case .failure(let e) = result { logger.debug("request failed", metadata: ["error": "\(e)"]) }
            if let handle = handleOfPromise.removeValue(forKey: promise) { cancellable[handle] = nil }
            completions.removeValue(forKey: promise)?(result)
        case .fetched(let batch):
            deliver(batch)
        case .group(let event):
            groupEvent(event)
        }
    }

    private func rescheduleTick() {
        guard lifecycle != .closed, var at = engine.nextDeadline() else {
            scheduledTick?.task.cancel()
            scheduledTick = nil
            return
        }
        // The engine never reports a deadline its last tick handled (components report only
        // later ones, ClientEngine+Components); this belt keeps a bug there from spinning a
        // production loop (the simulation, which has no belt, flags such a spin).
        if let lastTick, at <= lastTick { at = lastTick + .milliseconds(1) }
        if let scheduledTick, scheduledTick.at == at { return }
        scheduledTick?.task.cancel()
        let deadline = start + .nanoseconds(Int64(clamping: min(at.nanoseconds, UInt64(Int64.max / 2))))
        let task = loop.assumeIsolated().scheduleTask(deadline: deadline) { [weak self] in
            guard let self else { return }
            self.scheduledTick = nil
            let now = self.now
            self.lastTick = now
            // Autocommit (due at this tick, maybe) commits what the user consumed by now.
            self.reportConsumedPositions(now: now)
            self.feed(.tick, now: now)
            self.drain()
        }
        scheduledTick = (at, task)
    }

    private static func isIPAddress(_ host: String) -> Bool {
        (try? SocketAddress(ipAddress: host, port: 0)) != nil
    }
}
