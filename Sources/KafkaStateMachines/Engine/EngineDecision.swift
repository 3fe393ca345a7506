import KafkaProtocol

/// A choice the engine made that an operator wants in the log: never an instruction, so the
/// engine's actions and the simulation's action hashes do not change with them. Built only
/// when `EngineConfig.reportDecisions` is on (the driver turns it on and logs them after its
/// turn, EngineDriver+Decisions.swift); every one is rare (per refresh, retry, reset or
/// bump, never per record), so building them costs nothing on the hot path.
package enum EngineDecision: Sendable, Equatable {
    /// A metadata answer named a broker we did not know (or at a new address).
    case brokerAdded(node: Int32, BrokerAddress)
    /// A metadata answer no longer names a broker we knew.
    case brokerRemoved(node: Int32)
    /// A topic we knew answered with another partition count.
    case partitionCountChanged(topic: String, from: Int32, to: Int32)
    /// A partition we knew has another leader broker (a new epoch on the same leader is not
    /// reported), at the new leader's epoch.
    case leaderMoved(TopicPartition, from: Int32, to: Int32, epoch: Int32)
    /// A request failed and goes again: `attempt` is the attempt about to be made; `delay`
    /// nil when it waits for a metadata refresh instead of a backoff.
    case retrying(apiKey: ApiKey, attempt: Int, reason: KafkaClientError, delay: Interval?)
    /// A partition's produce batch failed and goes again after `delay`.
    case produceRetrying(TopicPartition, reason: ProduceError, delay: Interval)
    /// A fetch answered OFFSET_OUT_OF_RANGE at `offset`: the position resets per `policy`.
    case offsetReset(TopicPartition, offset: Int64, policy: OffsetResetPolicy)
    /// The producer bumped its epoch (KIP-360) after a sequence error, or recovered.
    case producerEpochBumped(producerId: Int64, epoch: Int16)
    /// The broker refused an epoch bump: the producer starts over with a new id.
    case producerIdReset(previous: Int64, code: KafkaErrorCode)
}
