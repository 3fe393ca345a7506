import KafkaProtocol
import KafkaStateMachines
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// A Kafka client: sends any request to the right broker (routing, splitting by partition,
/// retries and version negotiation are the engine's), over SwiftNIO connections.
///
/// Calls from any task are queued and handed to the engine's event loop in batches: one
/// hop serves every call queued since the previous one.
public final class KafkaClient: Sendable {
    enum Command: Sendable {
        case request(any KafkaRequest, RequestTarget, ClosedRange<Int16>?, EngineDriver.Completion)
        case close((@Sendable () -> Void)?)
        /// A request that a later `.cancel` with the same handle may cancel.
        case cancellableRequest(any KafkaRequest, RequestTarget, ClosedRange<Int16>?, UInt64, EngineDriver.Completion)
        case cancel(UInt64)
        /// A consumer input (assign, seek, pause, fetchConsumed …) and the buffer its data goes to.
        case consumer(EngineInput, FetchBuffer)
        /// Produced records (KafkaClient+Produce.swift) queued from this index of the hop's
        /// records up to the next marker (CommandInbox): consecutive ones reach the engine together.
        case records(from: Int)
        case flush(@Sendable () -> Void)
        /// The group consumer's commands (EngineDriver+Group.swift).
        case group(GroupCommand)
        /// A transactional producer's begin / commit / abort (KafkaClient+Transactions.swift).
        case transaction(TransactionCommand, @Sendable (TransactionError?) -> Void)
    }

    /// The configuration the client was created with (validated).
    public let configuration: KafkaClientConfiguration
    /// The loop that runs the engine and every connection of this client.
    let loop: any EventLoop
    private let driver: NIOLoopBoundBox<EngineDriver>
    let inbox: CommandInbox
    private let hop: @Sendable () -> Void
    private let nextHandle = NIOLockedValueBox<UInt64>(0)
    /// Fetched data waiting for `poll` (KafkaClient+Consume.swift).
    let fetchBuffer = FetchBuffer()
    /// Producer buffer accounting on the callers' side, for backpressure.
    let producerGate: ProducerGate
    /// For the client's own lines (shutdown); the engine's go through the driver's.
    let logger: Logger

    /// Starts no connection yet: the first request dials a seed.
    public init(configuration: KafkaClientConfiguration, logger: Logger = Logger(label: "kgo-swift")) throws(KafkaConfigurationError) {
        try configuration.validate()
        // Every line of this client names it, so several clients share one log handler.
        var logger = logger
        logger[metadataKey: KafkaLogMetadata.clientId] = .string(configuration.clientId ?? "")
        let tlsContext = try configuration.tls?.makeContext()
        self.configuration = configuration
        self.logger = logger
        self.producerGate = ProducerGate(maxRecords: configuration.producer.maxBufferedRecords, maxBytes: configuration.producer.maxBufferedBytes)
        // A record may wait for the loop up to 1 ms, never longer than it would linger.
        self.inbox = CommandInbox(produceDelay: TimeAmount(configuration.producer.inboxDelay))
        let group = configuration.eventLoopGroup ?? MultiThreadedEventLoopGroup.singleton
        self.loop = group.next()
        let seed = configuration.randomSeed ?? UInt64.random(in: .min ... .max)
        let recorder = try configuration.flightRecorder.map { (c) throws(KafkaConfigurationError) in
            try FlightRecorder(configuration: c, engineConfig: configuration.engineConfig, seed: seed, logger: logger)
        }
        self.driver = NIOLoopBoundBox.makeBoxSendingValue(
            EngineDriver(loop: loop, configuration: configuration, tlsContext: tlsContext, logger: logger, seed: seed,
                         producerGate: producerGate, inbox: inbox, recorder: recorder),
            as: EngineDriver.self, eventLoop: loop)
        self.hop = Self.makeHop(inbox: inbox, driver: driver)
    }

    deinit {
        // Nothing can await here; closing still releases the connections.
        let loop = self.loop
        let driver = self.driver
        loop.execute {
            var closing = CommandInbox.Taken(commands: [.close(nil)], records: [], callbacks: [])
            driver.value.run(&closing)
        }
    }

    /// Sends `request` and returns its typed response. `to` overrides the routing the
    /// request type implies; `pin` narrows the versions tried.
    public func request<R: KafkaRequest>(_ request: R, to target: RequestTarget = .automatic,
                                         pin: ClosedRange<Int16>? = nil) async throws(KafkaClientError) -> R.Response {
        let response = try await self.request(any: request, to: target, pin: pin)
        guard let typed = response as? R.Response else {
            throw .protocolViolation("expected \(R.Response.messageName), got \(type(of: response).messageName)")
        }
        return typed
    }

    /// Sends a request known only by its protocol type (e.g. one built from a key number).
    /// Cancelling the calling task cancels the request: it throws `.cancelled` at once, is
    /// never sent if it was not yet, and its answer is ignored if it was (the broker may
    /// still have acted on it).
    public func request(any request: any KafkaRequest, to target: RequestTarget = .automatic,
                        pin: ClosedRange<Int16>? = nil) async throws(KafkaClientError) -> any KafkaResponse {
        let handle = nextHandle.withLockedValue { $0 += 1; return $0 }
        // Orders the submission against the cancellation: whichever comes second sees the
        // first, so a cancel never reaches the engine ahead of its request.
        let state = NIOLockedValueBox((submitted: false, cancelled: false))
        let result = await withTaskCancellationHandler {
            await withCheckedContinuation { (c: CheckedContinuation<Result<any KafkaResponse, KafkaClientError>, Never>) in
                let cancelledAlready = state.withLockedValue { s -> Bool in
                    if s.cancelled { return true }
                    s.submitted = true
                    submit(.cancellableRequest(request, target, pin, handle, { c.resume(returning: $0) }))
                    return false
                }
                if cancelledAlready { c.resume(returning: .failure(.cancelled)) }
            }
        } onCancel: {
            state.withLockedValue { s in
                s.cancelled = true
                if s.submitted { submit(.cancel(handle)) }
            }
        }
        return try result.get()
    }

    /// Sends `request` and calls `completion` on the client's event loop with the outcome:
    /// for callers that must not wait for a task to be scheduled (timing, bridging).
    public func request(any request: any KafkaRequest, to target: RequestTarget = .automatic,
                        pin: ClosedRange<Int16>? = nil,
                        completion: @escaping @Sendable (Result<any KafkaResponse, KafkaClientError>) -> Void) {
        submit(.request(request, target, pin, completion))
    }

    /// Lets outstanding requests finish (up to `closeTimeout`), fails anything later with
    /// `.clientClosed`, and returns once every connection is closed. Cancelling the calling
    /// task returns at once; the client still closes.
    public func close() async {
        let wait = CancellableWait<Void>()
        submit(.close({ wait.finish(()) }))
        await wait.value()
    }

    /// A test seam: `observer` is told of each later hop from user calls and the calls it
    /// carried (how well they are batched); the future completes once it is in place.
    func observeHops(_ observer: @escaping @Sendable (_ calls: Int) -> Void) -> EventLoopFuture<Void> {
        let driver = self.driver
        return loop.submit { driver.value.hopObserver = observer }
    }

    /// Commands and records waiting for the next hop.
    func queuedCommands() -> Int { inbox.count }

    /// Queues a command for the loop; one hop takes everything queued.
    func submit(_ command: Command) {
        inbox.submit(command, loop: loop, hop: hop)
    }

    /// Queues a produced record and its callback for the loop.
    /// True when an async caller should `inbox.waitForTake()` (see `CommandInbox.handOffLimit`).
    @discardableResult
    func submit(_ record: consuming ProducerRecord, _ callback: ProduceCompletions.Entry) -> Bool {
        inbox.submit(consume record, callback, loop: loop, hop: hop)
    }

    /// What one hop to the loop runs: everything queued. Made once (a closure built per
    /// call would allocate per produced record).
    private static func makeHop(inbox: CommandInbox, driver: NIOLoopBoundBox<EngineDriver>) -> @Sendable () -> Void {
        {
            var taken = inbox.take()
            driver.value.run(&taken)
            inbox.recycle(&taken)
        }
    }
}
