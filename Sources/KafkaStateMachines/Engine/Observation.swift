import KafkaProtocol

/// What the engine saw that only observers (the driver's hooks) care about: never an
/// instruction, so the engine's actions and the simulation's action hashes do not change
/// with them. Built only when `EngineConfig.observe` is on; the driver drains them with
/// `ClientEngine.takeObservations()` after its turn and calls its hooks there.
package enum Observation: Sendable, Equatable {
    /// A request frame was handed to the driver to write: `queued` is how long it waited in
    /// the connection's queue (throttle, in-flight limit, handshake) before that.
    case requestWritten(broker: BrokerID, apiKey: ApiKey, version: Int16, bytes: Int, queued: Interval)
    /// A response frame was read: `onWire` runs from the request's write to this read.
    case responseRead(broker: BrokerID, apiKey: ApiKey, version: Int16, bytes: Int, onWire: Interval, throttleMs: Int32)
    /// The broker asked us to hold back (KIP-219) for this long.
    case throttled(broker: BrokerID, Interval)
    /// A producer batch went into a Produce request for `broker`.
    case produceBatchWritten(broker: Int32, topic: String, partition: Int32, records: Int, bytes: Int, compressedBytes: Int,
                             codec: CompressionCodec)
}
