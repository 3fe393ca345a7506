/// One TCP connection to one broker: dial timeout, ApiVersions negotiation, SASL (initial
/// and KIP-368 re-authentication), pipelined requests matched by correlation id, request
/// timeouts and KIP-219 throttling. Pure: each input returns the events it caused.
struct ConnectionStateMachine {
    let id: ConnectionID
    let broker: BrokerID
    let purpose: ConnectionPurpose
    private let config: EngineConfig

    private enum Phase {
        case connecting(deadline: Instant)
        case negotiating
        case authenticating
        case ready
        case closed
    }

    /// Where a SASL exchange stands (initial or re-authentication).
    private enum Auth {
        case idle
        /// OAUTHBEARER: the driver is fetching a token; it must answer before `deadline`.
        case awaitingToken(deadline: Instant)
        case handshaking(session: any SaslSession)
        /// Legacy (SaslHandshake v0) exchanges carry raw size-prefixed tokens, no headers.
        case exchanging(session: any SaslSession, legacy: Bool)
    }

    private enum InFlightKind {
        case user(token: UInt64)
        case apiVersions
        case saslHandshake
        case saslAuthenticate
        /// A raw legacy SASL token: the next frame answers it, with no correlation id.
        case legacySaslToken
        /// A user request the engine no longer wants (cancelled): its answer is read, to
        /// keep the stream in step, and dropped.
        case abandoned

        var isApiVersions: Bool { if case .apiVersions = self { return true } else { return false } }
    }

    private struct InFlight {
        var correlationId: Int32
        var apiKey: ApiKey
        var version: Int16
        var kind: InFlightKind
        var deadline: Instant
        /// For observers: when it was written (time on the wire runs from here).
        var writtenAt: Instant
    }

    private var phase: Phase
    private var auth = Auth.idle
    private var splitter: FrameSplitter
    private var nextCorrelationId: Int32 = 0
    private var inFlight: [InFlight] = []
    private var queued: [OutboundRequest] = []
    private(set) var versions: BrokerVersions?
    private var throttledUntil = Instant.zero
    private var reauthenticateAt: Instant?
    private(set) var lastActivity: Instant
    private var rng: SeededGenerator
    private var apiVersionsAttempts = 0
    /// SCRAM salted passwords known so far (the engine's when this connection was made, plus
    /// what this connection derived), so re-authentication skips PBKDF2.
    private var saltedPasswords: ScramSaltedPasswords

    /// The release assumed instead of asking ApiVersions (configured, or learned when the
    /// broker refused ApiVersions before).
    private let assumedRelease: KafkaRelease?

    init(id: ConnectionID, broker: BrokerID, purpose: ConnectionPurpose, config: EngineConfig, rng: SeededGenerator, now: Instant,
         assumedRelease: KafkaRelease? = nil, saltedPasswords: ScramSaltedPasswords = ScramSaltedPasswords()) {
        self.assumedRelease = assumedRelease ?? config.pinnedBrokerRelease
        self.saltedPasswords = saltedPasswords
        self.id = id
        self.broker = broker
        self.purpose = purpose
        self.config = config
        self.rng = rng
        self.splitter = FrameSplitter(maxFrameSize: config.maxResponseBytes)
        self.phase = .connecting(deadline: now + config.connectTimeout)
        self.lastActivity = now
    }

    var isReady: Bool { if case .ready = phase { return true } else { return false } }
    var isClosed: Bool { if case .closed = phase { return true } else { return false } }
    /// Nothing sent and unanswered, nothing waiting: the connection may be reaped.
    var isIdle: Bool { isReady && inFlight.isEmpty && queued.isEmpty && !isAuthenticating }
    private var isAuthenticating: Bool { if case .idle = auth { return false } else { return true } }
    var outstandingCount: Int { inFlight.count + queued.count }

    /// The earliest instant at which `tick` has something to do.
    func nextDeadline() -> Instant? {
        var d: Instant?
        func consider(_ t: Instant) { d = d.map { min($0, t) } ?? t }
        switch phase {
        case .connecting(let deadline): consider(deadline)
        case .closed: return nil
        default: break
        }
        for f in inFlight { consider(f.deadline) }
        // Zero once the throttle has been waited out (see `flush`), so a past instant never
        // comes back as a deadline.
        if !queued.isEmpty, throttledUntil != .zero { consider(throttledUntil) }
        if !pipelineFull { for q in queued { consider(queuedDeadline(q)) } }
        if let r = reauthenticateAt, isReady { consider(r) }
        if case .awaitingToken(let deadline) = auth { consider(deadline) }
        return d
    }

    // MARK: inputs

    mutating func enqueue(_ request: OutboundRequest, now: Instant) -> [ConnectionEvent] {
        guard !isClosed else { return [.failed(.connectionClosed(broker: broker), tokens: [request.token], timedOut: [], closeNeeded: false)] }
        queued.append(request)
        return flush(now: now)
    }

    mutating func opened(now: Instant) -> [ConnectionEvent] {
        guard case .connecting = phase else { return [] }
        lastActivity = now
        if let release = assumedRelease {
            versions = release.brokerVersions
            return afterVersionsKnown(now: now)
        }
        phase = .negotiating
        return sendApiVersions(version: ApiVersionsRequest.validVersions.upperBound, now: now)
    }

    mutating func failedToOpen(reason: ConnectionFailure, now: Instant) -> [ConnectionEvent] {
        fail(.connectionFailed(broker: broker, reason: reason), notifyDriver: false)
    }

    /// Why a close in answer to ApiVersions usually happens, and what to do.
    static let closedOnApiVersions = "in answer to ApiVersions, as brokers before Kafka 0.10 do (name their release: "
        + "apiVersionsFallbackRelease, kgo --broker-version X.Y.Z) and TLS listeners spoken to without TLS do"

    mutating func closedByPeer(now: Instant) -> [ConnectionEvent] {
        guard !isClosed else { return [] }
        if case .exchanging(let session, true) = auth {
            // A legacy SASL server reports bad credentials by closing the connection.
            return fail(.saslAuthenticationFailed(mechanism: session.mechanism, message: "connection closed during authentication"), notifyDriver: false)
        }
        if case .negotiating = phase, inFlight.first?.kind.isApiVersions == true {
            if config.apiVersionsFallbackRelease != nil {
                return [.apiVersionsRefused] + fail(.connectionClosed(broker: broker), notifyDriver: false)
            }
            // Nothing of the user's was written yet; say what such a close usually means.
            return fail(.connectionFailed(broker: broker, reason: .closed(Self.closedOnApiVersions)), notifyDriver: false)
        }
        return fail(.connectionClosed(broker: broker), notifyDriver: false)
    }

    mutating func received(_ bytes: [UInt8], now: Instant) -> [ConnectionEvent] {
        bytes.withUnsafeBytes { received(lending: $0, now: now) }
    }

    /// `received` of bytes lent in place: they are copied only into the splitter's frames.
    mutating func received(lending bytes: UnsafeRawBufferPointer, now: Instant) -> [ConnectionEvent] {
        guard !isClosed else { return [] }
        if case .connecting = phase { return fail(.protocolViolation("bytes before the connection opened"), notifyDriver: true) }
        lastActivity = now
        splitter.append(bytes)
        var events: [ConnectionEvent] = []
        while !isClosed {
            var frame: [UInt8]
            do {
                guard let f = try splitter.nextFrame() else { break }
                frame = f
            } catch {
                switch error {
                case .frameSizeOutOfRange(let size, let max):
                    let e: KafkaClientError = size < 0 ? .protocolViolation("negative frame size \(size)") : .responseTooLarge(size: Int(size), max: max)
                    return events + fail(e, notifyDriver: true)
                }
            }
            events += handleFrame(frame, now: now)
            // Decoded (responses copy what they keep): the storage carries the next frame.
            splitter.keep(&frame)
        }
        return events + (isClosed ? [] : flush(now: now))
    }

    mutating func tick(now: Instant) -> [ConnectionEvent] {
        switch phase {
        case .closed: return []
        case .connecting(let deadline):
            return now >= deadline ? fail(.connectTimeout(broker: broker), notifyDriver: true) : []
        default: break
        }
        // Responses come back in order, so a request that timed out poisons everything
        // behind it: the connection is closed and every request on it fails (retriably).
        if let late = inFlight.first(where: { $0.deadline <= now }) {
            switch late.kind {
            case .user(let token):
                return fail(.connectionClosed(broker: broker), notifyDriver: true, timedOut: [(token, late.apiKey)])
            case .abandoned:
                return fail(.connectionClosed(broker: broker), notifyDriver: true)
            default:
                return fail(.requestTimeout(apiKey: late.apiKey, broker: broker), notifyDriver: true)
            }
        }
        if case .awaitingToken(let deadline) = auth, now >= deadline {
            return fail(.saslAuthenticationFailed(mechanism: "OAUTHBEARER", message: "the token provider did not answer within the connect timeout"),
                        notifyDriver: true)
        }
        var events: [ConnectionEvent] = []
        if let r = reauthenticateAt, now >= r, isReady, !isAuthenticating {
            reauthenticateAt = nil
            events += startSasl(now: now)
        }
        // Send what can go first: a request whose throttle lifts as its deadline passes is sent.
        events += flush(now: now)
        return events + expireQueued(now: now)
    }

    /// Queued requests wait for a free slot: the in-flight ones' deadlines bound that wait.
    private var pipelineFull: Bool { inFlight.count >= config.maxInFlightPerConnection }

    /// When a queued request gives up: the deadline it would have had if written at once.
    private func queuedDeadline(_ q: OutboundRequest) -> Instant {
        q.queuedAt + q.brokerTimeout + config.requestTimeoutOverhead
    }

    /// Requests that waited in the queue past their deadline (a throttle, a connection that
    /// never becomes usable) fail with a timeout; never written, they leave the connection usable.
    private mutating func expireQueued(now: Instant) -> [ConnectionEvent] {
        guard !pipelineFull, queued.contains(where: { queuedDeadline($0) <= now }) else { return [] }
        let overhead = config.requestTimeoutOverhead
        let expired = queued.filter { $0.queuedAt + $0.brokerTimeout + overhead <= now }
        queued.removeAll { $0.queuedAt + $0.brokerTimeout + overhead <= now }
        return expired.map { .response(token: $0.token, .failure(.requestTimeout(apiKey: type(of: $0.request).apiKey, broker: broker))) }
    }

    /// The engine no longer wants the answer to `token`: unsent, it is never sent; sent, its
    /// response will be read and ignored. No events: the engine completes the request itself.
    mutating func abandon(token: UInt64) {
        queued.removeAll { $0.token == token }
        for i in inFlight.indices {
            if case .user(let t) = inFlight[i].kind, t == token { inFlight[i].kind = .abandoned }
        }
    }

    /// Another connection to the same broker was throttled: the quota is the broker's.
    mutating func throttle(until: Instant) {
        throttledUntil = max(throttledUntil, until)
    }

    /// Closes on the engine's behalf (idle reaping, client close); returns what it held.
    mutating func close(with error: KafkaClientError) -> [ConnectionEvent] {
        fail(error, notifyDriver: true)
    }

    // MARK: handshake

    private mutating func sendApiVersions(version: Int16, now: Instant) -> [ConnectionEvent] {
        apiVersionsAttempts += 1
        var request = ApiVersionsRequest()
        if version >= 3 {
            request.clientSoftwareName = config.clientSoftwareName
            request.clientSoftwareVersion = config.clientSoftwareVersion
        }
        return sendInternal(request, version: version, kind: .apiVersions, now: now)
    }

    private mutating func handleApiVersions(_ frame: [UInt8], sentVersion: Int16, now: Instant) -> [ConnectionEvent] {
        let parsed: ApiVersionsResponse
        do {
            parsed = try parseApiVersionsResponse(version: sentVersion, frame: frame).response
        } catch {
            return fail(.malformedResponse(error), notifyDriver: true)
        }
        let code = KafkaErrorCode(parsed.errorCode)
        if code == .unsupportedVersion, apiVersionsAttempts < 2 {
            // KIP-511: the broker lists its own ApiVersions range; retry within it (v0
            // when it lists nothing), on the same connection.
            let theirs = BrokerVersions(parsed).range(for: .apiVersions)
            let retry = theirs.flatMap { negotiateVersion(ours: ApiVersionsRequest.validVersions, broker: $0, pin: nil) } ?? 0
            return sendApiVersions(version: min(retry, sentVersion > 0 ? sentVersion - 1 : 0), now: now)
        }
        guard code == .noError else { return fail(.brokerError(code, message: nil), notifyDriver: true) }
        versions = BrokerVersions(parsed)
        var events: [ConnectionEvent] = []
        if parsed.throttleTimeMs > 0 {
            events += noteThrottle(parsed.throttleTimeMs, hold: sentVersion >= ApiKey.apiVersions.clientThrottlesFrom, now: now)
        }
        return events + afterVersionsKnown(now: now)
    }

    private mutating func afterVersionsKnown(now: Instant) -> [ConnectionEvent] {
        if config.sasl != nil {
            phase = .authenticating
            return startSasl(now: now)
        }
        phase = .ready
        return [.ready(versions!)] + flush(now: now)
    }

    // MARK: SASL

    private mutating func startSasl(now: Instant) -> [ConnectionEvent] {
        guard let sasl = config.sasl else { return [] }
        guard let session = sasl.makeSession(nonce: makeNonce(), known: saltedPasswords) else {
            // OAUTHBEARER: the token comes from the driver (`oauthTokenArrived`).
            auth = .awaitingToken(deadline: now + config.connectTimeout)
            return [.needsOAuthToken]
        }
        return startHandshake(session, now: now)
    }

    /// The driver's answer to `.needsOAuthToken`. An answer nobody waits for (the connection
    /// failed or closed meanwhile) is ignored.
    mutating func oauthTokenArrived(_ result: Result<OAuthBearerToken, OAuthTokenFailure>, now: Instant) -> [ConnectionEvent] {
        guard !isClosed, case .awaitingToken = auth else { return [] }
        switch result {
        case .success(let token):
            return startHandshake(OAuthBearerSession(token: token), now: now)
        case .failure(let failure):
            return fail(.saslAuthenticationFailed(mechanism: "OAUTHBEARER", message: "token provider failed: \(failure.message)"), notifyDriver: true)
        }
    }

    private mutating func startHandshake(_ session: any SaslSession, now: Instant) -> [ConnectionEvent] {
        auth = .handshaking(session: session)
        var request = SaslHandshakeRequest()
        request.mechanism = session.mechanism
        // v1 promises SaslAuthenticate framing (KIP-152); v0 means raw tokens.
        let useV1 = versions?.range(for: .saslAuthenticate) != nil && (versions?.range(for: .saslHandshake)?.upperBound ?? 0) >= 1
        return sendInternal(request, version: useV1 ? 1 : 0, kind: .saslHandshake, now: now)
    }

    private mutating func makeNonce() -> String {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789".utf8)
        var out: [UInt8] = []
        for _ in 0 ..< 24 { out.append(alphabet[Int(rng.next() % UInt64(alphabet.count))]) }
        return String(decoding: out, as: UTF8.self)
    }

    private mutating func handleSaslHandshake(_ frame: [UInt8], version: Int16, now: Instant) -> [ConnectionEvent] {
        guard case .handshaking(var session) = auth else { return fail(.protocolViolation("unexpected SaslHandshake response"), notifyDriver: true) }
        let response: SaslHandshakeResponse
        do {
            response = try parseResponse(for: SaslHandshakeResponse.self, version: version, frame: frame).response
        } catch {
            return fail(.malformedResponse(error), notifyDriver: true)
        }
        let code = KafkaErrorCode(response.errorCode)
        if code == .unsupportedSaslMechanism {
            return fail(.saslMechanismUnsupported(mechanism: session.mechanism, enabled: response.mechanisms), notifyDriver: true)
        }
        guard code == .noError else { return fail(.brokerError(code, message: nil), notifyDriver: true) }
        let legacy = version == 0
        do {
            switch try session.step(nil) {
            case .done:
                return finishSasl(lifetimeMs: 0, now: now)
            case .send(let bytes):
                auth = .exchanging(session: session, legacy: legacy)
                return sendSaslToken(bytes, legacy: legacy, now: now)
            }
        } catch {
            return fail(error, notifyDriver: true)
        }
    }

    private mutating func sendSaslToken(_ bytes: [UInt8], legacy: Bool, now: Instant) -> [ConnectionEvent] {
        if legacy {
            var w = ByteWriter(capacity: bytes.count + 4)
            w.writeInt32(Int32(bytes.count))
            w.writeRaw(bytes)
            inFlight.append(InFlight(correlationId: -1, apiKey: .saslAuthenticate, version: 0, kind: .legacySaslToken,
                                     deadline: now + config.requestTimeoutOverhead, writtenAt: now))
            return [.write(OutboundFrame(w.bytes))]
        }
        var request = SaslAuthenticateRequest()
        request.authBytes = bytes
        let version = negotiateVersion(ours: SaslAuthenticateRequest.validVersions, broker: versions?.range(for: .saslAuthenticate), pin: nil) ?? 0
        return sendInternal(request, version: version, kind: .saslAuthenticate, now: now)
    }

    private mutating func handleSaslToken(_ serverBytes: [UInt8], lifetimeMs: Int64, legacy: Bool, now: Instant) -> [ConnectionEvent] {
        guard case .exchanging(var session, _) = auth else { return fail(.protocolViolation("unexpected SASL message"), notifyDriver: true) }
        do {
            let step = try session.step(serverBytes)
            var events: [ConnectionEvent] = []
            if let scram = session as? ScramSession, let entry = scram.derived, saltedPasswords.lookup(entry.key) == nil {
                saltedPasswords.remember(entry)
                events.append(.saltedPasswordDerived(entry))
            }
            switch step {
            case .done:
                return events + finishSasl(lifetimeMs: lifetimeMs, now: now)
            case .send(let bytes):
                auth = .exchanging(session: session, legacy: legacy)
                return events + sendSaslToken(bytes, legacy: legacy, now: now)
            }
        } catch {
            return fail(error, notifyDriver: true)
        }
    }

    private mutating func handleSaslAuthenticate(_ frame: [UInt8], version: Int16, now: Instant) -> [ConnectionEvent] {
        guard case .exchanging(let session, _) = auth else { return fail(.protocolViolation("unexpected SaslAuthenticate response"), notifyDriver: true) }
        let response: SaslAuthenticateResponse
        do {
            response = try parseResponse(for: SaslAuthenticateResponse.self, version: version, frame: frame).response
        } catch {
            return fail(.malformedResponse(error), notifyDriver: true)
        }
        let code = KafkaErrorCode(response.errorCode)
        guard code == .noError else {
            let message = response.errorMessage.flatMap { $0.isEmpty ? nil : $0 } ?? code.message
            return fail(.saslAuthenticationFailed(mechanism: session.mechanism, message: message), notifyDriver: true)
        }
        return handleSaslToken(response.authBytes, lifetimeMs: response.sessionLifetimeMs, legacy: false, now: now)
    }

    private mutating func finishSasl(lifetimeMs: Int64, now: Instant) -> [ConnectionEvent] {
        auth = .idle
        if lifetimeMs > 0 {
            // KIP-368: re-authenticate at a random 85–95 % of the lifetime, so connections
            // opened together do not all re-authenticate at once, and well before expiry.
            let fraction = 0.85 + 0.10 * (Double(rng.next() >> 11) / Double(UInt64(1) << 53))
            reauthenticateAt = now + Interval(nanoseconds: UInt64(Double(lifetimeMs) * fraction * 1_000_000))
        } else {
            reauthenticateAt = nil
        }
        if case .authenticating = phase {
            phase = .ready
            return [.ready(versions!)] + flush(now: now)
        }
        return flush(now: now)
    }

    // MARK: frames

    private mutating func handleFrame(_ frame: [UInt8], now: Instant) -> [ConnectionEvent] {
        guard let head = inFlight.first else {
            return fail(.protocolViolation("a response with no request outstanding"), notifyDriver: true)
        }
        if case .legacySaslToken = head.kind {
            inFlight.removeFirst()
            return handleSaslToken(frame, lifetimeMs: 0, legacy: true, now: now)
        }
        let correlationId: Int32
        do {
            correlationId = try peekCorrelationId(frame)
        } catch {
            return fail(.malformedResponse(error), notifyDriver: true)
        }
        guard correlationId == head.correlationId else {
            return fail(.protocolViolation("response correlation id \(correlationId), expected \(head.correlationId)"), notifyDriver: true)
        }
        inFlight.removeFirst()
        // The handshake's own answers, observed with no throttle (KIP-219 throttles of
        // ApiVersions still come as a throttle observation).
        let observed: [ConnectionEvent] = config.observe
            ? [.observed(.responseRead(broker: broker, apiKey: head.apiKey, version: head.version, bytes: frame.count + 4,
                                       onWire: now - head.writtenAt, throttleMs: 0))]
            : []
        switch head.kind {
        case .apiVersions: return observed + handleApiVersions(frame, sentVersion: head.version, now: now)
        case .saslHandshake: return observed + handleSaslHandshake(frame, version: head.version, now: now)
        case .saslAuthenticate: return observed + handleSaslAuthenticate(frame, version: head.version, now: now)
        case .legacySaslToken, .abandoned: return observed
        case .user(let token):
            let response: any KafkaResponse
            do {
                response = try decodeResponseFrame(apiKey: head.apiKey, version: head.version, frame: frame)
            } catch {
                // The stream is no longer trustworthy: close it, and report the decoding
                // failure on the request it belonged to.
                return [.response(token: token, .failure(.malformedResponse(error)))] + fail(.malformedResponse(error), notifyDriver: true)
            }
            var events: [ConnectionEvent] = [.response(token: token, .success(response))]
            if config.observe {
                // The frame plus its 4-byte size prefix: what came over the wire.
                events.append(.observed(.responseRead(broker: broker, apiKey: head.apiKey, version: head.version, bytes: frame.count + 4,
                                                      onWire: now - head.writtenAt, throttleMs: response.throttleMilliseconds ?? 0)))
            }
            if let ms = response.throttleMilliseconds, ms > 0 {
                events += noteThrottle(ms, hold: head.version >= head.apiKey.clientThrottlesFrom, now: now)
            }
            return events
        }
    }

    /// A throttle time in an answer: observed always, held back only when `hold` (KIP-219:
    /// at older versions the broker already delayed the answer by it).
    private mutating func noteThrottle(_ ms: Int32, hold: Bool, now: Instant) -> [ConnectionEvent] {
        var events: [ConnectionEvent] = []
        if hold {
            let until = now + min(.milliseconds(ms), config.maxHonouredThrottle)
            throttledUntil = max(throttledUntil, until)
            events.append(.throttled(until: until))
        }
        if config.observe { events.append(.observed(.throttled(broker: broker, .milliseconds(ms)))) }
        return events
    }

    // MARK: sending

    /// Sends queued requests while the connection is ready, authenticated, unthrottled and
    /// under its in-flight limit.
    private mutating func flush(now: Instant) -> [ConnectionEvent] {
        if throttledUntil != .zero, now >= throttledUntil { throttledUntil = .zero }
        guard isReady, !isAuthenticating, throttledUntil == .zero, let versions else { return [] }
        var events: [ConnectionEvent] = []
        while !queued.isEmpty, inFlight.count < config.maxInFlightPerConnection {
            let out = queued.removeFirst()
            let key = type(of: out.request).apiKey
            let ours = type(of: out.request).validVersions
            guard let version = negotiateVersion(ours: ours, broker: versions.range(for: key), pin: out.pin ?? config.versionPins[key]) else {
                events.append(.response(token: out.token, .failure(.unsupportedVersion(apiKey: key, brokerRange: versions.range(for: key)))))
                continue
            }
            let request = adaptForVersion(out.request, version: version)
            let correlationId = takeCorrelationId()
            let frame: OutboundFrame
            do {
                frame = try encodeFrame(request, version: version, correlationId: correlationId, clientId: config.clientId)
            } catch {
                events.append(.response(token: out.token, .failure(.encodingFailed(error))))
                continue
            }
            events.append(.write(frame))
            lastActivity = now
            if config.observe {
                events.append(.observed(.requestWritten(broker: broker, apiKey: key, version: version, bytes: frame.count,
                                                        queued: now - out.queuedAt)))
            }
            if let produce = request as? ProduceRequest, produce.acks == 0 {
                // acks=0: the broker never answers, so the request is done once written.
                events.append(.response(token: out.token, .success(ProduceResponse())))
                continue
            }
            inFlight.append(InFlight(correlationId: correlationId, apiKey: key, version: version, kind: .user(token: out.token),
                                     deadline: now + out.brokerTimeout + config.requestTimeoutOverhead, writtenAt: now))
        }
        return events
    }

    private mutating func sendInternal<R: KafkaRequest>(_ request: R, version: Int16, kind: InFlightKind, now: Instant) -> [ConnectionEvent] {
        let correlationId = takeCorrelationId()
        do {
            let frame = try encodeRequestFrame(request, version: version, correlationId: correlationId, clientId: config.clientId,
                                               splicingFrom: frameSpliceFrom)
            inFlight.append(InFlight(correlationId: correlationId, apiKey: R.apiKey, version: version, kind: kind,
                                     deadline: now + config.requestTimeoutOverhead, writtenAt: now))
            lastActivity = now
            guard config.observe else { return [.write(frame)] }
            return [.write(frame), .observed(.requestWritten(broker: broker, apiKey: R.apiKey, version: version, bytes: frame.count, queued: .zero))]
        } catch {
            return fail(.encodingFailed(error), notifyDriver: true)
        }
    }

    private mutating func takeCorrelationId() -> Int32 {
        let id = nextCorrelationId
        nextCorrelationId = nextCorrelationId == .max ? 0 : nextCorrelationId + 1
        return id
    }

    /// Ends the connection: every request it held fails with `error` (or with a timeout).
    private mutating func fail(_ error: KafkaClientError, notifyDriver: Bool, timedOut: [(UInt64, ApiKey)] = []) -> [ConnectionEvent] {
        guard !isClosed else { return [] }
        phase = .closed
        auth = .idle
        let timedOutTokens = timedOut.map(\.0)
        var tokens: [UInt64] = []
        for f in inFlight { if case .user(let t) = f.kind, !timedOutTokens.contains(t) { tokens.append(t) } }
        tokens += queued.map(\.token)
        inFlight.removeAll()
        queued.removeAll()
        return [.failed(error, tokens: tokens, timedOut: timedOut, closeNeeded: notifyDriver)]
    }
}

// MARK: - helpers over type-erased messages

/// BYTES fields this long (produce batches) are spliced into a frame, not copied into it.
let frameSpliceFrom = 4096

private func encodeFrame(_ request: any KafkaRequest, version: Int16, correlationId: Int32, clientId: String?) throws(KafkaEncodingError) -> OutboundFrame {
    func open<R: KafkaRequest>(_ r: R) throws(KafkaEncodingError) -> OutboundFrame {
        try encodeRequestFrame(r, version: version, correlationId: correlationId, clientId: clientId, splicingFrom: frameSpliceFrom)
    }
    return try open(request)
}

/// Decodes a response frame whose API key and version the request fixed.
func decodeResponseFrame(apiKey: ApiKey, version: Int16, frame: [UInt8]) throws(KafkaDecodingError) -> any KafkaResponse {
    guard let headerVersion = HeaderVersions.response(apiKey: apiKey, version: version) else {
        throw KafkaDecodingError(message: "ResponseHeader", field: "", offset: 0, kind: .unknownApiKey(apiKey.rawValue))
    }
    var r = ByteReader(frame)
    _ = try ResponseHeader(from: &r, version: headerVersion)
    let response = try decodeResponse(apiKey: apiKey, version: version, from: &r)
    if !r.isAtEnd {
        throw KafkaDecodingError(message: "\(apiKey.name)Response v\(version)", field: "", offset: r.offset, kind: .trailingBytes(r.remaining))
    }
    return response
}

/// Rewrites requests whose shape changed across versions in a way one value cannot carry
/// (FindCoordinator v4 batches its keys; Metadata before v4 has no say over auto-creation
/// and before v1 no null topic list).
func adaptForVersion(_ request: any KafkaRequest, version: Int16) -> any KafkaRequest {
    if var metadata = request as? MetadataRequest {
        // Before v4 the broker auto-creates by its own configuration whatever we ask: the
        // field cannot be sent, so it is left at the default the encoder accepts.
        if version < 4 { metadata.allowAutoTopicCreation = true }
        // v0 asks for every topic with an empty list.
        if version < 1, metadata.topics == nil { metadata.topics = [] }
        return metadata
    }
    if var find = request as? FindCoordinatorRequest {
        if version >= 4, find.coordinatorKeys.isEmpty {
            find.coordinatorKeys = [find.key]
            find.key = ""
        } else if version < 4, find.key.isEmpty, let first = find.coordinatorKeys.first {
            find.key = first
            find.coordinatorKeys = []
        }
        return find
    }
    return request
}
