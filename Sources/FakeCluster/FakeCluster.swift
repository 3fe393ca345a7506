// The in-process deterministic Kafka cluster (issue 3) lives here.
@_exported import KafkaProtocol
