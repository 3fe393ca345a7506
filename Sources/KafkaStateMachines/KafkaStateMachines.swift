// The client engine (issue 4 onwards) lives here: pure state machines fed bytes and ticks.
@_exported import KafkaProtocol
