/// From one request frame to its handler: header, version checks against the emulated
/// release, authentication gate, faults, then the handler's result into the response queue.
extension FakeCluster {
    struct RequestContext {
        var connection: FakeConnectionID
        var broker: Int32
        var apiKey: ApiKey
        var version: Int16
        var correlationId: Int32
        var clientId: String
        var now: Instant
    }

    enum HandlerResult {
        case respond(any KafkaResponse)
        /// No response at all (Produce with acks=0).
        case noResponse
        case park(Parked.Work, deadline: Instant?)
        /// Close the connection (Kafka's answer to requests it cannot process).
        case close(String)
    }

    mutating func handleFrame(_ id: FakeConnectionID, _ frame: [UInt8], now: Instant, into out: inout [FakeOutput]) {
        let broker = connections[id]!.broker
        if connections[id]!.sasl.rawTokens { return handleRawSaslToken(id, frame, now: now, into: &out) }
        // The header's first fields are the same in every version: check the API before parsing further.
        guard frame.count >= 8 else { return close(id, "request frame of \(frame.count) bytes is too short", into: &out) }
        let key = ApiKey(Int16(bitPattern: UInt16(frame[0]) << 8 | UInt16(frame[1])))
        let version = Int16(bitPattern: UInt16(frame[2]) << 8 | UInt16(frame[3]))
        let correlationId = Int32(bitPattern: UInt32(frame[4]) << 24 | UInt32(frame[5]) << 16 | UInt32(frame[6]) << 8 | UInt32(frame[7]))
        let supported = servedVersions(key, broker: broker)
        if key == .apiVersions, release(of: broker).hasApiVersions, supported?.contains(version) != true {
            // KIP-511: an unknown ApiVersions version gets a v0 answer with UNSUPPORTED_VERSION
            // and the key list, so the client can retry with a version we know.
            var r = apiVersionsResponse(broker: broker)
            r.errorCode = 35
            enqueue(id, encodeFrame(r, version: 0, correlationId: correlationId))
            return
        }
        guard let supported, supported.contains(version) else {
            return answerUnsupported(id, frame, key: key, version: version, broker: broker, now: now, into: &out)
        }
        let parsed: ParsedRequestHeader
        let request: any KafkaRequest
        do {
            parsed = try parseRequestHeader(frame)
            request = try parsed.decodeBody()
        } catch {
            return close(id, "malformed \(key.name) v\(version) request: \(error)", into: &out)
        }
        let ctx = RequestContext(connection: id, broker: broker, apiKey: key, version: version, correlationId: correlationId,
                                 clientId: parsed.clientId ?? "", now: now)
        if let reason = saslGate(ctx) { return close(id, reason, into: &out) }
        record(ctx, .request(request))
        let fault = faults.take(key, broker: broker)
        if fault?.dropBefore == true { return close(id, "fault: dropped before handling \(key.name)", into: &out) }

        var result: HandlerResult
        if let code = authorizationError(request, ctx), let refused = errorResponse(request, code: code, ctx) {
            result = refused
        } else if fault?.error == nil, let code = takeGroupError(request, key) {
            result = errorResponse(request, code: code, ctx) ?? dispatch(request, ctx)
        } else if let code = fault?.error {
            result = errorResponse(request, code: code, ctx) ?? dispatch(request, ctx)
        } else {
            result = dispatch(request, ctx)
        }
        if fault?.dropAfter == true {
            if case .park = result {} // the state change happened; the response is lost with the connection
            return close(id, "fault: dropped after handling \(key.name)", into: &out)
        }
        if let delay = fault?.delayMs, case .respond(let r) = result {
            result = .park(.delayed(encodeFrame(r, version: version, correlationId: correlationId)),
                           deadline: now.adding(milliseconds: delay))
        }
        if case .respond(let r) = result { result = .respond(applyThrottle(r, ctx)) }
        let quota = quotaCharge(request, ctx, requestBytes: frame.count)
        if let quota, case .respond(let r) = result {
            switch enforceQuota(r, quota, connection: id, broker: broker, apiKey: key, version: version,
                                correlationId: correlationId, now: now) {
            case .send(let sent):
                result = .respond(sent)
            case .hold(let held, let until):
                record(ctx, .response(held))
                result = .park(.delayed(encodeFrame(held, version: version, correlationId: correlationId)), deadline: until)
            }
        }
        switch result {
        case .respond(let r):
            record(ctx, .response(r))
            enqueue(id, encodeFrame(r, version: version, correlationId: correlationId))
        case .noResponse:
            if let quota { enforceQuotaWithoutAnswer(quota, connection: id, broker: broker, now: now) }
        case .close(let reason):
            close(id, reason, into: &out)
        case .park(let work, let deadline):
            let slot = nextSlot
            nextSlot += 1
            connections[id]!.queue.append(Connection.Slot(slot: slot, state: .waiting))
            var charged: QuotaCharge?
            switch work {
            case .produce, .fetch: charged = quota
            default: charged = nil
            }
            parked[slot] = Parked(connection: id, broker: broker, apiKey: key, version: version,
                                  correlationId: correlationId, deadline: deadline, work: work, quota: charged)
            if case .group(let token) = work { groupTokens[token] = slot }
        }
    }

    mutating func enqueue(_ id: FakeConnectionID, _ state: Connection.SlotState) {
        let slot = nextSlot
        nextSlot += 1
        connections[id]?.queue.append(Connection.Slot(slot: slot, state: state))
    }

    mutating func record(_ ctx: RequestContext, _ m: FakeEvent.Message) {
        guard config.recordEvents else { return }
        events.append(FakeEvent(connection: ctx.connection, broker: ctx.broker, apiKey: ctx.apiKey, version: ctx.version,
                                correlationId: ctx.correlationId, message: m))
    }

    enum Retry { case wait, respond(any KafkaResponse), ready(Connection.SlotState) }

    /// A held request re-evaluated: whether it is done now.
    mutating func retry(_ p: Parked, now: Instant) -> Retry {
        let expired = p.deadline.map { $0 <= now } ?? false
        switch p.work {
        case .group: return .wait
        case .delayed(let state): return expired ? .ready(state) : .wait
        case .stalledHeartbeat(let r, let drop):
            guard expired else { return .wait }
            if drop { return .ready(.close("fault: stalled heartbeat of \(r.memberId) dropped")) }
            let ctx = RequestContext(connection: p.connection, broker: p.broker, apiKey: p.apiKey, version: p.version,
                                     correlationId: p.correlationId, clientId: "", now: now)
            return .respond(heartbeatResponse(r, ctx))
        case .stalledConsumerHeartbeat(let r, let drop):
            guard expired else { return .wait }
            if drop { return .ready(.close("fault: stalled heartbeat of \(r.memberId) dropped")) }
            let ctx = RequestContext(connection: p.connection, broker: p.broker, apiKey: p.apiKey, version: p.version,
                                     correlationId: p.correlationId, clientId: "", now: now)
            return .respond(consumerGroupHeartbeatResponse(r, ctx))
        case .fetch(let w): return finishFetch(w, p, expired: expired, now: now).map { .respond($0) } ?? .wait
        case .produce(let w): return finishProduce(w, p, expired: expired).map { .respond($0) } ?? .wait
        }
    }
}
