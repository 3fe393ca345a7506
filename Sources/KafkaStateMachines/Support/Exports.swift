// The engine is written against the wire codec; users of the engine see it too.
@_exported import KafkaProtocol
