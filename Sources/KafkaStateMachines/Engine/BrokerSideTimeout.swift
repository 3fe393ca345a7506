import KafkaProtocol

/// The time a request may legitimately spend at the broker before answering (a generated
/// per-API fact); the engine adds its overhead to this for the request's deadline.
func brokerSideTimeout(of request: any KafkaRequest) -> Interval {
    .milliseconds(request.brokerTimeoutMilliseconds ?? 0)
}
