/// Client byte-rate quotas enforced as Kafka enforces them: Produce request bytes against
/// producer_byte_rate and Fetch response bytes against consumer_byte_rate, per broker, for
/// the user (the SASL user, else ANONYMOUS) and client id of the request, measured when
/// the answer is ready (after an acks=all produce or a min-bytes fetch waited).
///
/// A client over its quota is not refused: its answer carries throttle_time_ms and its
/// connection is muted — nothing more is read from it — for that long (KIP-219), the
/// same mute the test-armed throttles use (Throttle.swift). Requests it pipelined meanwhile
/// wait unread and are handled when the mute ends, as in a broker's socket buffer; they are
/// never answered early or refused. Versions before KIP-219 (Produce v0-5, Fetch v0-7)
/// have clients that do not hold back, so the broker holds the answer itself for the
/// throttle time (with the connection muted) and only then sends it. A throttled Fetch
/// answers with no records (its bytes are taken back off the meter), as Kafka's does; an
/// acks=0 Produce has no answer, so only its connection is muted.
///
/// request_percentage (KIP-124) is stored but not enforced: it meters the broker threads'
/// time spent on a client's requests, and the fake handles every request in no virtual time.
struct QuotaCharge: Sendable {
    var user: String
    var clientId: String
    /// The request's size (header and body), what a Produce is charged.
    var requestBytes: Int
}

extension FakeCluster {
    /// What a request of `ctx` is charged to, when it is a Produce or a Fetch (consumers'
    /// fetches only: a follower's replica fetches are not client traffic).
    func quotaCharge(_ request: any KafkaRequest, _ ctx: RequestContext, requestBytes: Int) -> QuotaCharge? {
        guard !state.quotas.entries.isEmpty else { return nil }
        switch request {
        case is ProduceRequest: break
        case let r as FetchRequest where (ctx.version >= 15 ? r.replicaState.replicaId : r.replicaId) < 0: break
        default: return nil
        }
        let user = connections[ctx.connection]?.sasl.user ?? "ANONYMOUS"
        return QuotaCharge(user: user, clientId: ctx.clientId, requestBytes: requestBytes)
    }

    /// The most a Fetch may return for a client with a consumer quota: what the quota
    /// allows over the measured windows but the current one (Kafka's
    /// getMaxValueInQuotaWindow), so a single answer is never throttled for more than that.
    func quotaFetchBound(_ charge: QuotaCharge?) -> Int? {
        guard let charge, let limit = state.quotas.limit(QuotaMeters.Kind.fetch.rawValue, user: charge.user, clientId: charge.clientId)
        else { return nil }
        let bound = limit.value * Double(WindowedRate.samples - 1) * Double(WindowedRate.windowMs) / 1000
        return bound >= Double(Int.max) ? nil : Int(bound)
    }

    /// Whether clients of this API version hold back themselves when told to (KIP-219).
    static func clientHoldsBack(_ key: ApiKey, version: Int16) -> Bool { version >= key.clientThrottlesFrom }

    enum QuotaOutcome {
        /// Send it now (its throttle, if any, set and the connection muted).
        case send(any KafkaResponse)
        /// Hold it until the instant (an old client over its quota), connection muted.
        case hold(any KafkaResponse, until: Instant)
    }

    /// Charges a ready answer to its client's quota and throttles it when over.
    mutating func enforceQuota(_ response: any KafkaResponse, _ charge: QuotaCharge, connection: FakeConnectionID, broker: Int32,
                               apiKey: ApiKey, version: Int16, correlationId: Int32, now: Instant) -> QuotaOutcome {
        let nowMs = now.milliseconds
        var answer = response
        let ms: Int32
        if var fetch = response as? FetchResponse {
            let bytes = (try? encodeResponseFrame(fetch, version: version, correlationId: correlationId).count - 4) ?? 0
            ms = state.quotaMeters.record(.fetch, broker: broker, user: charge.user, clientId: charge.clientId, bytes: bytes,
                                          nowMs: nowMs, quotas: state.quotas)
            if ms > 0 {
                state.quotaMeters.unrecord(.fetch, broker: broker, user: charge.user, clientId: charge.clientId, bytes: bytes,
                                           nowMs: nowMs, quotas: state.quotas)
                fetch.responses = []
                fetch.nodeEndpoints = []
                answer = fetch
            }
        } else {
            ms = state.quotaMeters.record(.produce, broker: broker, user: charge.user, clientId: charge.clientId,
                                          bytes: charge.requestBytes, nowMs: nowMs, quotas: state.quotas)
        }
        guard ms > 0 else { return .send(answer) }
        let throttle = max(ms, answer.throttleMilliseconds ?? 0)
        _ = answer.setThrottleMilliseconds(throttle)
        let until = now.adding(milliseconds: Int64(throttle))
        mute(connection, until: until)
        guard Self.clientHoldsBack(apiKey, version: version) else { return .hold(answer, until: until) }
        throttledResponses[ThrottledResponseKey(connection: connection, correlationId: correlationId)] = throttle
        return .send(answer)
    }

    /// An acks=0 Produce over its quota: no answer to carry the throttle, so only the mute.
    mutating func enforceQuotaWithoutAnswer(_ charge: QuotaCharge, connection: FakeConnectionID, broker: Int32, now: Instant) {
        let ms = state.quotaMeters.record(.produce, broker: broker, user: charge.user, clientId: charge.clientId,
                                          bytes: charge.requestBytes, nowMs: now.milliseconds, quotas: state.quotas)
        if ms > 0 { mute(connection, until: now.adding(milliseconds: Int64(ms))) }
    }

    mutating func mute(_ connection: FakeConnectionID, until: Instant) {
        guard connections[connection] != nil else { return }
        connections[connection]!.mutedUntil = max(connections[connection]!.mutedUntil ?? until, until)
    }
}
