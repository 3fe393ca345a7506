// What `import KafkaIO` gives besides the client: the vocabulary its API speaks, each type
// re-exported by name. The wire codec (raw requests and responses for
// `KafkaClient.request`) is a separate `import KafkaProtocol`, as franz-go keeps kmsg apart
// from kgo; the engine (KafkaStateMachines) is internal to this package.
@_exported import enum KafkaProtocol.CompressionCodec
@_exported import enum KafkaStateMachines.BrokerID
@_exported import enum KafkaStateMachines.ConnectionFailure
@_exported import enum KafkaStateMachines.ConsumerPartitionError
@_exported import enum KafkaStateMachines.IsolationLevel
@_exported import enum KafkaStateMachines.KafkaClientError
@_exported import enum KafkaStateMachines.GroupError
@_exported import enum KafkaStateMachines.GroupProtocol
@_exported import enum KafkaStateMachines.GroupProtocolError
@_exported import enum KafkaStateMachines.OffsetResetPolicy
@_exported import enum KafkaStateMachines.PartitionerKind
@_exported import enum KafkaStateMachines.ProduceError
@_exported import enum KafkaStateMachines.ProducerAcks
@_exported import enum KafkaStateMachines.ProducerConfigError
@_exported import enum KafkaStateMachines.RequestTarget
@_exported import enum KafkaStateMachines.SaslConfig
@_exported import enum KafkaStateMachines.ScramAlgorithm
@_exported import enum KafkaStateMachines.StartOffset
@_exported import enum KafkaStateMachines.TransactionError
@_exported import struct KafkaProtocol.ApiKey
@_exported import struct KafkaProtocol.KafkaErrorCode
@_exported import struct KafkaProtocol.KafkaRelease
@_exported import struct KafkaProtocol.KafkaUUID
@_exported import struct KafkaProtocol.Record
@_exported import struct KafkaProtocol.RecordHeader
@_exported import struct KafkaProtocol.TopicPartition
@_exported import struct KafkaStateMachines.BackoffPolicy
@_exported import struct KafkaStateMachines.BalanceInput
@_exported import struct KafkaStateMachines.BrokerAddress
@_exported import struct KafkaStateMachines.CommitPosition
@_exported import struct KafkaStateMachines.CommitReport
@_exported import struct KafkaStateMachines.CooperativeStickyBalancer
@_exported import struct KafkaStateMachines.DataLoss
@_exported import struct KafkaStateMachines.GroupSubscription
@_exported import struct KafkaStateMachines.OAuthBearerToken
@_exported import struct KafkaStateMachines.RangeBalancer
@_exported import struct KafkaStateMachines.RoundRobinBalancer
@_exported import struct KafkaStateMachines.StickyBalancer
@_exported import struct KafkaStateMachines.VersionPins
@_exported import protocol KafkaStateMachines.GroupBalancer
@_exported import typealias KafkaStateMachines.BalancePlan
@_exported import enum KafkaStateMachines.BuiltInBalancers
