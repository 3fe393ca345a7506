// The SwiftNIO driver and the public async client (issue 4 onwards) live here.
@_exported import KafkaStateMachines
