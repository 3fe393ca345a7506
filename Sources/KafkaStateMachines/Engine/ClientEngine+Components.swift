import KafkaProtocol

/// Something done to one component, whichever it is (the core's calls in EngineComponent).
protocol ComponentOperation {
    mutating func apply<C: EngineComponent>(to component: inout C)
}

/// Something read from one component.
protocol ComponentInspection {
    mutating func read<C: EngineComponent>(_ component: C)
}

/// How the core drives its components (EngineComponent.swift), the same way for each. The
/// two switches here are the only places that name them: adding a component means a stored
/// property, a `ComponentID` case and a line in each.
extension ClientEngine {
    mutating func perform<O: ComponentOperation>(_ op: inout O, on id: ComponentID) {
        switch id {
        case .fetcher: op.apply(to: &fetcher)
        case .producer: if producer != nil { op.apply(to: &producer!) }
        case .group: if group != nil { op.apply(to: &group!) }
        }
    }

    func inspect<I: ComponentInspection>(_ op: inout I, _ id: ComponentID) {
        switch id {
        case .fetcher: op.read(fetcher)
        case .producer: if let producer { op.read(producer) }
        case .group: if let group { op.read(group) }
        }
    }

    var componentContext: ComponentContext {
        ComponentContext(metadata: metadata, brokerVersions: brokerVersions, isClosed: isClosed, lastTick: lastTickAt, coordinators: coordinators)
    }

    /// The answer to a component's request, then a run.
    mutating func componentAnswered(_ id: ComponentID, tag: UInt64, _ result: Result<any KafkaResponse, KafkaClientError>, now: Instant) {
        var op = Answer(tag: tag, result: result, context: componentContext, now: now)
        perform(&op, on: id)
        runComponent(id, now: now)
    }

    mutating func componentsMetadataUpdated(now: Instant) {
        for id in ComponentID.allCases {
            var op = MetadataUpdated(context: componentContext, now: now)
            perform(&op, on: id)
            runComponent(id, now: now)
        }
    }

    mutating func componentsTick(now: Instant) {
        for id in ComponentID.allCases {
            var op = Tick(context: componentContext, now: now)
            perform(&op, on: id)
            if op.due { runComponent(id, now: now) }
        }
    }

    mutating func componentsClose(now: Instant) {
        for id in ComponentID.allCases {
            var op = Close(context: componentContext, now: now)
            perform(&op, on: id)
            runComponent(id, now: now)
        }
    }

    func componentsNextDeadline() -> Instant? {
        var op = Deadline(floor: lastTickAt)
        for id in ComponentID.allCases { inspect(&op, id) }
        return op.earliest
    }

    /// Lets a component do what it may and carries out its outputs in order. Re-entered
    /// (an answer arriving while its outputs are carried out), it only notes that the
    /// component must run again; the outer call does that once the outputs are done.
    mutating func runComponent(_ id: ComponentID, now: Instant) {
        let bit: UInt8 = 1 << UInt8(id.rawValue)
        if componentsRunning & bit != 0 {
            componentsRerun |= bit
            return
        }
        componentsRunning |= bit
        defer { componentsRunning &= ~bit }
        var op = Run(context: componentContext, now: now, outputs: componentScratch.take() ?? [])
        while true {
            componentsRerun &= ~bit
            op.context = componentContext
            perform(&op, on: id)
            for output in op.outputs { carryOut(output, from: id, now: now) }
            op.outputs.removeAll(keepingCapacity: true)
            if componentsRerun & bit == 0 { break }
        }
        componentScratch = op.outputs
        if id == .group, !offsetsAwaitingGeneration.isEmpty { releaseOffsetsAwaitingGeneration(now: now) }
    }

    private mutating func carryOut(_ output: ComponentOutput, from id: ComponentID, now: Instant) {
        switch output {
        case .send(let r):
            let rid = takeRequestId()
            pending[rid] = PendingRequest(owner: .component(id, tag: r.tag), request: r.request, target: r.target, pin: r.pin,
                                          firstAttempt: now, maxRetries: r.maxRetries ?? config.maxRetries,
                                          orderedPerBroker: r.orderedPerBroker)
            route(rid, now: now)
        case .metadata(let topics, let ask):
            let urgent = ask == .urgent
            guard let topics else {
                metadata.wantsAllTopics = true
                if ask != .notNeeded && !isClosed { requestMetadataRefresh(now: now, urgent: urgent) }
                return
            }
            // A topic never asked about is new information, not a repeat: no minimum age.
            let new = !topics.allSatisfy { metadata.interest.contains($0) }
            metadata.addInterest(topics)
            guard ask != .notNeeded, !isClosed else { return }
            if new && refresh.inFlight == nil {
                startMetadataRefresh(now: now)
            } else if new {
                refresh.nextSkipsMinAge = true
                requestMetadataRefresh(now: now, urgent: urgent)
            } else {
                requestMetadataRefresh(now: now, urgent: urgent)
            }
        case .brokerAddress(let node, let address):
            learnedAddresses[node] = address
        case .action(let a):
            actions.append(a)
        case .input(let input):
            handle(input, now: now)
        case .coordinatorMoved(let key):
            coordinators.invalidate(key)
        case .observation(let o):
            observations.append(o)
        case .decision(let d):
            if config.reportDecisions { decisions.append(d) }
        }
    }
}

private struct Answer: ComponentOperation {
    var tag: UInt64
    var result: Result<any KafkaResponse, KafkaClientError>
    var context: ComponentContext
    var now: Instant
    mutating func apply<C: EngineComponent>(to c: inout C) { c.answered(tag, result, context: context, now: now) }
}

private struct MetadataUpdated: ComponentOperation {
    var context: ComponentContext
    var now: Instant
    mutating func apply<C: EngineComponent>(to c: inout C) { c.metadataUpdated(context: context, now: now) }
}

private struct Tick: ComponentOperation {
    var context: ComponentContext
    var now: Instant
    var due = false
    mutating func apply<C: EngineComponent>(to c: inout C) { due = c.tick(context: context, now: now) }
}

private struct Close: ComponentOperation {
    var context: ComponentContext
    var now: Instant
    mutating func apply<C: EngineComponent>(to c: inout C) { c.close(context: context, now: now) }
}

private struct Run: ComponentOperation {
    var context: ComponentContext
    var now: Instant
    var outputs: [ComponentOutput]
    mutating func apply<C: EngineComponent>(to c: inout C) { c.run(context: context, now: now, into: &outputs) }
}

private struct Deadline: ComponentInspection {
    var floor: Instant?
    var earliest: Instant?
    mutating func read<C: EngineComponent>(_ c: C) {
        guard let d = c.nextDeadline(after: floor) else { return }
        earliest = earliest.map { min($0, d) } ?? d
    }
}
