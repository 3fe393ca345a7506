import KafkaProtocol

/// Connection inputs, the events connections return, and putting a request on one.
extension ClientEngine {
    mutating func connectionOpened(_ id: ConnectionID, now: Instant) {
        guard let events = pool.update(id, { $0.opened(now: now) }) else { return }
        apply(events, from: id, now: now)
    }

    mutating func connectionFailed(_ id: ConnectionID, reason: ConnectionFailure, now: Instant) {
        guard let events = pool.update(id, { $0.failedToOpen(reason: reason, now: now) }) else { return }
        apply(events, from: id, now: now)
    }

    mutating func connectionClosed(_ id: ConnectionID, now: Instant) {
        guard let events = pool.update(id, { $0.closedByPeer(now: now) }) else { return }
        apply(events, from: id, now: now)
    }

    mutating func bytesReceived(_ id: ConnectionID, _ bytes: [UInt8], now: Instant) {
        bytes.withUnsafeBytes { received(id, lending: $0, now: now) }
    }

    /// `.bytesReceived` for the driver's hot path: a socket read's bytes lent in place, not
    /// copied into an array first (the driver records them as a `.bytesReceived` input all
    /// the same). Only the frame splitter copies them, into the frame they belong to.
    public mutating func received(_ id: ConnectionID, lending bytes: UnsafeRawBufferPointer, now: Instant) {
        guard let events = pool.update(id, { $0.received(lending: bytes, now: now) }) else { return }
        apply(events, from: id, now: now)
    }

    mutating func oauthTokenArrived(_ id: ConnectionID, _ result: Result<OAuthBearerToken, OAuthTokenFailure>, now: Instant) {
        guard let events = pool.update(id, { $0.oauthTokenArrived(result, now: now) }) else { return }
        apply(events, from: id, now: now)
    }

    mutating func apply(_ events: [ConnectionEvent], from id: ConnectionID, now: Instant) {
        for event in events where !pool.absorb(event, from: id) {
            switch event {
            case .write(let bytes):
                actions.append(.write(id, bytes))
            case .response(let token, let result):
                handleResult(token, result, from: id, now: now)
            case .failed(let error, let tokens, let timedOut, let closeNeeded):
                guard let c = pool.remove(id) else { continue }
                if closeNeeded { actions.append(.close(id)) }
                for (token, key) in timedOut { handleResult(token, .failure(.requestTimeout(apiKey: key, broker: c.broker)), from: id, now: now) }
                for token in tokens { handleResult(token, .failure(error), from: id, now: now) }
            case .observed(let o):
                observations.append(o)
            case .needsOAuthToken:
                actions.append(.fetchOAuthToken(id))
            case .apiVersionsRefused, .ready, .saltedPasswordDerived, .throttled:
                break
            }
        }
    }

    /// Puts a pending request on the connection to `broker` for its purpose, opening one
    /// if there is none.
    mutating func send(_ id: UInt64, to broker: BrokerID, now: Instant) {
        guard let address = address(of: broker) else {
            finish(id, .failure(.unroutable("no address for \(broker)")), now: now)
            return
        }
        let request = pending[id]!.request
        let (cid, opened) = pool.connection(to: broker, purpose: ConnectionPurpose.of(type(of: request).apiKey), config: config,
                                            rng: &rng, now: now)
        if opened { actions.append(.open(cid, broker: broker, host: address.host, port: address.port, tls: config.tls)) }
        let pin = updatePending(id) { p in
            p.attempts += 1
            p.state = .sent(cid)
            return p.pin
        } ?? nil
        let outbound = OutboundRequest(token: id, request: request, pin: pin, brokerTimeout: brokerSideTimeout(of: request), queuedAt: now)
        let events = pool.update(cid) { $0.enqueue(outbound, now: now) } ?? []
        apply(events, from: cid, now: now)
    }
}
