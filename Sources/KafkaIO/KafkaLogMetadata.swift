/// The swift-log metadata keys the client's log lines carry, for filtering and for log
/// handlers that index them. Every line has `clientId`; lines about one connection have
/// `broker`, lines about one partition `partition` (topic/partition).
public enum KafkaLogMetadata {
    /// The configuration's `clientId` (empty when none is set).
    public static let clientId = "kafka.client_id"
    /// The group id, on a group consumer's own lines (the engine's carry the client id).
    public static let group = "kafka.group"
    /// The broker's node id and address, as the engine knows it.
    public static let broker = "broker"
    /// The topic-partition a line is about.
    public static let partition = "partition"
}
