@testable import KafkaIO
import KafkaProtocol
@testable import KafkaStateMachines
import Testing

/// The group consumer commits what the user consumed with the leader epoch of the last batch
/// handed out (KIP-320), so a member taking the partition over can validate the position;
/// found by GroupInteropTests (commits reached the broker with epoch -1).
struct FetchBufferPositionTests {
    @Test func consumedPositionsCarryTheLastBatchsLeaderEpoch() {
        let buffer = FetchBuffer()
        buffer.trackPositions(true)
        let tp = TopicPartition("t", 0)
        var first = FetchedPartition(topicPartition: tp, fetchOffset: 0, nextOffset: 10)
        first.lastEpoch = 3
        buffer.push(FetchBatch(broker: 1, partitions: [first]))
        _ = buffer.take(FetchBufferTests.decoding(budget: 1 << 20))
        #expect(buffer.takeConsumedChanges().isEmpty, "still in hand until the next take")
        var second = FetchedPartition(topicPartition: tp, fetchOffset: 10, nextOffset: 15)
        second.lastEpoch = 4
        buffer.push(FetchBatch(broker: 1, partitions: [second]))
        _ = buffer.take(FetchBufferTests.decoding(budget: 1 << 20))
        #expect(buffer.takeConsumedChanges() == [tp: CommitPosition(offset: 10, leaderEpoch: 3)])
        buffer.finishAll()
        #expect(buffer.releasePositions([tp]) == [tp: CommitPosition(offset: 15, leaderEpoch: 4)])
    }
}
