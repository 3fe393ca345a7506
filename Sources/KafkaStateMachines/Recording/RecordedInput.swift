/// One input to a `ClientEngine`, as the flight recorder stores it: replaying the inputs of
/// a recording in order, each at its `now`, drives a fresh engine (same config, same seed)
/// through the same actions.
public enum RecordedInput: Sendable, Equatable {
    case connectionOpened(ConnectionID)
    case connectionFailed(ConnectionID, reason: ConnectionFailure)
    case connectionClosed(ConnectionID)
    case bytesReceived(ConnectionID, [UInt8])
    /// A user request, stored as its body encoded at `version` (the highest version that
    /// decodes back to the same value, so nothing the request carried is lost).
    case request(RecordedRequest)
    /// The user gave up on a request (task cancellation).
    case cancel(PromiseID)
    /// The direct consumer's commands (ClientEngine+Fetcher), in sorted partition order.
    case assign([TopicPartition: StartOffset])
    case unassign([TopicPartition])
    case subscribe(TopicSubscription)
    case seek(TopicPartition, StartOffset)
    case skip(TopicPartition)
    case stopPartition(TopicPartition, offset: Int64, error: ConsumerPartitionError, skipTo: Int64)
    case pause([TopicPartition])
    case resume([TopicPartition])
    /// Records for the producer, and a flush that completes with `.producer(.flushed(promise))`.
    case produce([ProducerRecord])
    case flush(PromiseID)
    /// Fetched bytes the user polled (or the driver dropped), handed back for backpressure.
    case fetchConsumed(Int)
    case tick
    case close
    /// What the OAUTHBEARER token provider returned when the engine called it during the
    /// previous input (a provider is code, not data, so its answers are recorded instead).
    case oauthToken(OAuthBearerToken)
    case oauthTokenFailed(String)
}

/// A user request with everything `ClientEngine.request` was given.
public struct RecordedRequest: Sendable, Equatable {
    public var promise: PromiseID
    public var apiKey: ApiKey
    public var version: Int16
    public var body: [UInt8]
    public var target: RequestTarget
    public var pin: ClosedRange<Int16>?
    public var maxRetries: Int?

    public init(promise: PromiseID, apiKey: ApiKey, version: Int16, body: [UInt8], target: RequestTarget,
                pin: ClosedRange<Int16>?, maxRetries: Int?) {
        self.promise = promise
        self.apiKey = apiKey
        self.version = version
        self.body = body
        self.target = target
        self.pin = pin
        self.maxRetries = maxRetries
    }

    /// Captures `request`, or nil when no version of its schema carries it faithfully.
    public init?(_ request: any KafkaRequest, promise: PromiseID, target: RequestTarget, pin: ClosedRange<Int16>?, maxRetries: Int?) {
        guard let (version, body) = Self.faithfulEncoding(of: request) else { return nil }
        self.init(promise: promise, apiKey: type(of: request).apiKey, version: version, body: body, target: target,
                  pin: pin, maxRetries: maxRetries)
    }

    /// The request value again.
    public func decodeRequest() throws(KafkaDecodingError) -> any KafkaRequest {
        var r = ByteReader(body)
        return try KafkaProtocol.decodeRequest(apiKey: apiKey, version: version, from: &r)
    }

    /// Tries versions from the newest down: fields that only old versions have (and fields
    /// newer versions dropped) make the newest encoding lossy for some values.
    static func faithfulEncoding(of request: any KafkaRequest) -> (Int16, [UInt8])? {
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
