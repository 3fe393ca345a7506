/// A partition of a topic: the one name for it in the engine, FakeCluster and the
/// simulation. Ordered by topic, then partition (FakeCluster walks partitions in this order).
public struct TopicPartition: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var topic: String
    public var partition: Int32
    public init(_ topic: String, _ partition: Int32) {
        self.topic = topic
        self.partition = partition
    }
    public init(topic: String, partition: Int32) { self.init(topic, partition) }
    public static func < (a: TopicPartition, b: TopicPartition) -> Bool {
        (a.topic, a.partition) < (b.topic, b.partition)
    }
    public var description: String { "\(topic)[\(partition)]" }
}
