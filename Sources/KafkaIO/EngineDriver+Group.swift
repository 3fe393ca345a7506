import KafkaProtocol
import KafkaStateMachines

/// The group member's events on the driver's side. The public group consumer API is not
/// built yet (issue 15): for now a revocation drops what the buffer holds of the
/// partitions and is answered at once, and the other events are logged.
extension EngineDriver {
    func groupEvent(_ event: GroupEvent) {
        switch event {
        case .revoking(let id, let partitions):
            if let fetchBuffer {
                let dropped = fetchBuffer.drop(Set(partitions))
                if dropped > 0 { feed(.fetchConsumed(dropped), now: now) }
            }
            feed(.groupRevocationHandled(id), now: now)
        case .lost(let partitions):
            if let fetchBuffer {
                let dropped = fetchBuffer.drop(Set(partitions))
                if dropped > 0 { feed(.fetchConsumed(dropped), now: now) }
            }
            logger.info("group partitions lost", metadata: ["event": "\(event)"])
        case .failed, .warning:
            logger.warning("group", metadata: ["event": "\(event)"])
        default:
            logger.debug("group", metadata: ["event": "\(event)"])
        }
    }
}
