import KafkaProtocol

/// The time a request may legitimately spend at the broker before answering; the engine
/// adds its overhead to this for the request's deadline.
func brokerSideTimeout(of request: any KafkaRequest) -> Interval {
    switch request {
    case let r as ProduceRequest: return .milliseconds(r.timeoutMs)
    case let r as FetchRequest: return .milliseconds(r.maxWaitMs)
    case let r as JoinGroupRequest: return .milliseconds(r.rebalanceTimeoutMs)
    case let r as CreateTopicsRequest: return .milliseconds(r.timeoutMs)
    case let r as DeleteTopicsRequest: return .milliseconds(r.timeoutMs)
    case let r as CreatePartitionsRequest: return .milliseconds(r.timeoutMs)
    case let r as DeleteRecordsRequest: return .milliseconds(r.timeoutMs)
    case let r as ListOffsetsRequest: return .milliseconds(r.timeoutMs)
    default: return .zero
    }
}
