// Users of the client see the engine's vocabulary (requests, targets, errors) and the codec.
@_exported import KafkaStateMachines
