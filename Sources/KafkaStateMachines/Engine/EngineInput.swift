import KafkaProtocol

/// Every input a `ClientEngine` takes, listed once. The driver, the simulation, the flight
/// recorder (which stores these values) and its replay all speak this type; `handle(_:now:)`
/// is the engine's one entry point. Adding an input means adding a case here, its handling
/// in `ClientEngine.handle`, and its encoding in RecordingFormat.
///
/// One exception keeps the producer's hot path fast: the driver hands runs of records to
/// `produce(lending:range:now:)`, which lends them in place from its inbox array. It records
/// them as a `.produce` input, and a replay feeds that input to `handle`.
package enum EngineInput: Sendable, Equatable {
    case connectionOpened(ConnectionID)
    case connectionFailed(ConnectionID, reason: ConnectionFailure)
    case connectionClosed(ConnectionID)
    case bytesReceived(ConnectionID, [UInt8])
    /// The OAUTHBEARER token provider's answer to `Action.fetchOAuthToken`.
    case oauthToken(ConnectionID, Result<OAuthBearerToken, OAuthTokenFailure>)
    /// A user request; the engine answers with one `.complete(promise, …)`.
    case request(UserRequest)
    /// The user gave up on a request (task cancellation).
    case cancel(PromiseID)
    /// The direct consumer's commands (ClientEngine+Fetcher).
    case assign([TopicPartition: StartOffset])
    case unassign([TopicPartition])
    case subscribe(TopicSubscription)
    case seek(TopicPartition, StartOffset)
    /// Resumes a partition stopped by a bad batch, after that batch.
    case skip(TopicPartition)
    /// The user could not decode a batch at `offset`: stop the partition there.
    case stopPartition(TopicPartition, offset: Int64, error: ConsumerPartitionError, skipTo: Int64)
    case pause([TopicPartition])
    case resume([TopicPartition])
    /// Fetched bytes the user polled (or the driver dropped), handed back for backpressure.
    case fetchConsumed(Int)
    /// The group consumer's commands (ClientEngine+Group): join a group (subscribe through
    /// it), leave it gracefully, commit, report what the user consumed, answer a revocation.
    case joinGroup(GroupConfig)
    case leaveGroup(PromiseID)
    /// Commits these offsets, or (nil) everything consumed; answered by `.group(.committed)`.
    case commitOffsets([TopicPartition: CommitPosition]?, PromiseID)
    case groupConsumed([TopicPartition: CommitPosition])
    case groupRevocationHandled(UInt64)
    /// Records for the producer, and a flush that completes with `.producer(.flushed(promise))`.
    case produce([ProducerRecord])
    case flush(PromiseID)
    /// The transactional producer's calls, each answered by `.producer(.transactionDone(promise, error))`.
    case beginTransaction(PromiseID)
    case endTransaction(commit: Bool, PromiseID)
    /// Consumed offsets committed with the open transaction (AddOffsetsToTxn, TxnOffsetCommit),
    /// answered by `.transactionDone`; nil: the engine's group member's uncommitted positions
    /// of the partitions it owns, with its generation and member id (a group transact session).
    case sendOffsetsToTransaction(TransactionOffsets?, PromiseID)
    /// From the producer: the transaction ended, with the offsets it carried by group (the
    /// group member takes them as committed, or rewinds after an abort).
    case transactionEnded(committed: Bool, offsets: [String: [TopicPartition: CommitPosition]])
    /// From a transactional group member: partitions were revoked or lost, so the open
    /// transaction must abort.
    case transactionRebalanced
    /// Time has advanced: the driver calls this at `nextDeadline()`.
    case tick
    /// Fails everything outstanding with `.clientClosed` and closes every connection.
    case close
}

/// A user request with everything the engine needs to route and answer it.
package struct UserRequest: Sendable, Equatable {
    public var request: any KafkaRequest
    /// `.automatic` routes as the request's API requires.
    public var target: RequestTarget
    /// Narrows the versions for this request.
    public var pin: ClosedRange<Int16>?
    /// Overrides the configured retry count.
    public var maxRetries: Int?
    public var promise: PromiseID

    public init(_ request: any KafkaRequest, to target: RequestTarget = .automatic, pin: ClosedRange<Int16>? = nil,
                maxRetries: Int? = nil, promise: PromiseID) {
        self.request = request
        self.target = target
        self.pin = pin
        self.maxRetries = maxRetries
        self.promise = promise
    }

    public static func == (a: UserRequest, b: UserRequest) -> Bool {
        a.target == b.target && a.pin == b.pin && a.maxRetries == b.maxRetries && a.promise == b.promise
            && a.request.isEqual(to: b.request)
    }

    /// The request encoded at the newest version that decodes back to the same value (fields
    /// only old versions have, or that newer versions dropped, make the newest lossy for some
    /// values); nil when no version carries it faithfully, and then it cannot be recorded.
    public var faithfulEncoding: (version: Int16, body: [UInt8])? {
        func attempt<R: KafkaRequest>(_ r: R) -> (Int16, [UInt8])? {
            for v in R.validVersions.reversed() {
                guard let body = try? r.encoded(version: v), let back = try? R.decode(body, version: v), back == r else { continue }
                return (v, body)
            }
            return nil
        }
        return attempt(request)
    }
}

extension KafkaMessage {
    /// Value equality across existentials.
    func isEqual(to other: any KafkaMessage) -> Bool {
        guard let o = other as? Self else { return false }
        return self == o
    }
}
