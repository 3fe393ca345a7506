/// One client connection's state: the frame splitter, the response queue that keeps
/// responses in request order, and its SASL session.
struct Connection: Sendable {
    enum SlotState: Sendable {
        case waiting
        /// No response goes out (Produce with acks=0).
        case nothing
        case ready([UInt8])
        /// Close the connection when this slot reaches the head (a drop-after fault).
        case close(String)
    }

    struct Slot: Sendable {
        var slot: UInt64
        var state: SlotState
    }

    var broker: Int32
    var splitter: FrameSplitter
    var queue: [Slot] = []
    var sasl = SaslSession()
    /// KIP-219: a throttled connection is not read until this instant.
    var mutedUntil: Instant?

    init(broker: Int32, maxFrameSize: Int) {
        self.broker = broker
        splitter = FrameSplitter(maxFrameSize: maxFrameSize)
    }
}

/// A request whose response is held back, and what it waits for.
struct Parked: Sendable {
    enum Work: Sendable {
        /// JoinGroup / SyncGroup waiting for the group coordinator (see `groupTokens`).
        case group(ParkedToken)
        /// A Fetch below min bytes, waiting for data or its max wait.
        case fetch(FetchWait)
        /// A Produce with acks=all waiting for the high watermark, or its timeout.
        case produce(ProduceWait)
        /// A finished response held back by a delay fault.
        case delayed(Connection.SlotState)
        /// A Heartbeat held by a stall fault until the deadline: then handled (or, with
        /// `drop`, its connection closed).
        case stalledHeartbeat(HeartbeatRequest, drop: Bool)
        /// The same for a KIP-848 ConsumerGroupHeartbeat.
        case stalledConsumerHeartbeat(ConsumerGroupHeartbeatRequest, drop: Bool)
    }

    var connection: FakeConnectionID
    var broker: Int32
    var apiKey: ApiKey
    var version: Int16
    var correlationId: Int32
    var deadline: Instant?
    var work: Work
    /// A Produce or Fetch charged to its client's byte-rate quota when it is answered.
    var quota: QuotaCharge? = nil
}

/// A decoded request or response, for tests that assert on traffic.
public struct FakeEvent: Sendable {
    public enum Message: Sendable {
        case request(any KafkaRequest)
        case response(any KafkaResponse)
    }

    public var connection: FakeConnectionID
    public var broker: Int32
    public var apiKey: ApiKey
    public var version: Int16
    public var correlationId: Int32
    public var message: Message
}
