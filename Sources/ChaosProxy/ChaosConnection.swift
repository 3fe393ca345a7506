import NIOCore

/// One proxied connection: the client's channel, the upstream's once connected, and a lane
/// of timed chunks each way. Bytes read are queued with the time the faults give them and
/// written when it comes; the chunk that crosses the reset threshold ends the connection.
final class ChaosConnection: @unchecked Sendable {
    // @unchecked: everything is touched only on the proxy's loop.
    enum Side { case client, upstream }

    /// Chunks on their way in one direction, in order.
    struct Lane {
        var queue = CircularBuffer<(due: NIODeadline, bytes: ByteBuffer, reset: Bool)>()
        /// The due time of the last chunk queued: a later one never goes before it.
        var lastDue = NIODeadline.uptimeNanoseconds(0)
        var timer: Scheduled<Void>?
        /// The source closed: once the queue drains, the target is closed too.
        var sourceEnded = false
    }

    let id: Int
    let proxy: ChaosProxy
    let client: Channel
    var upstream: Channel?
    /// Bytes after which the connection is reset (drawn at accept); nil: never.
    let resetAfter: Int?
    var carried = 0
    let blackHoled: Bool
    var toUpstream = Lane()
    var toClient = Lane()
    /// The threshold was crossed: nothing more is read, what is queued up to the cut still goes.
    var cut = false
    /// Reset or closed: nothing more is read or written.
    var done = false
    var clientOpen = true
    var upstreamOpen = true

    init(id: Int, proxy: ChaosProxy, client: Channel, resetAfter: Int?, blackHoled: Bool) {
        self.id = id
        self.proxy = proxy
        self.client = client
        self.resetAfter = resetAfter
        self.blackHoled = blackHoled
    }

    func upstreamConnected(_ channel: Channel) {
        upstream = channel
        if done || !clientOpen && toUpstream.queue.isEmpty {
            channel.close(promise: nil)
            return
        }
        pump(.toUpstream)
    }

    /// Bytes read from `side`: counted against the threshold, timed, queued.
    func received(from side: Side, _ buffer: ByteBuffer) {
        guard !cut, !done, !blackHoled else { return }
        let direction: ChaosFaults.Direction = side == .client ? .toUpstream : .toClient
        let f = proxy.faults
        var bytes = buffer
        var reset = false
        if let limit = resetAfter, f.resetAfterBytes != nil, f.counts(direction) {
            let room = max(0, limit - carried)
            if bytes.readableBytes >= room {
                bytes = bytes.getSlice(at: bytes.readerIndex, length: room)!
                reset = true
                // Nothing after the cut is read or queued.
                cut = true
            }
            carried += bytes.readableBytes
        }
        let now = NIODeadline.now()
        var due = now + .nanoseconds(f.latency.chaosNanoseconds + proxy.draw(upTo: f.jitter.chaosNanoseconds))
        withLane(direction) { lane in
            due = max(due, lane.lastDue)
            if let bps = f.bytesPerSecond, bps > 0 {
                due = due + .nanoseconds(Int64(bytes.readableBytes) * 1_000_000_000 / Int64(bps))
            }
            lane.lastDue = due
            lane.queue.append((due, bytes, reset))
        }
        pump(direction)
    }

    /// `side` closed (or failed): the other side gets what is queued for it, then closes.
    func ended(_ side: Side) {
        switch side {
        case .client:
            clientOpen = false
            toUpstream.sourceEnded = true
            toClient.timer?.cancel()
            toClient.queue.removeAll()
        case .upstream:
            upstreamOpen = false
            toClient.sourceEnded = true
            toUpstream.timer?.cancel()
            toUpstream.queue.removeAll()
        }
        if blackHoled || upstream == nil && !done {
            // A black hole, or a client gone before the upstream answered.
            if !clientOpen { finish() }
            return
        }
        pump(.toUpstream)
        pump(.toClient)
        if !clientOpen && !upstreamOpen { finish() }
    }

    func pumpBoth() {
        pump(.toUpstream)
        pump(.toClient)
    }

    /// Writes every chunk that is due, unless stalled, and waits for the next.
    func pump(_ direction: ChaosFaults.Direction) {
        let target = direction == .toUpstream ? upstream : client
        let open = direction == .toUpstream ? upstreamOpen : clientOpen
        guard let target, open else { return }
        let f = proxy.faults
        withLane(direction) { lane in
            lane.timer?.cancel()
            lane.timer = nil
        }
        if f.stall { return }
        let now = NIODeadline.now()
        while let head = withLane(direction, { $0.queue.first }), head.due <= now {
            withLane(direction) { _ = $0.queue.removeFirst() }
            let written = write(head.bytes, to: target, singleBytes: f.singleByteWrites)
            let count = head.bytes.readableBytes
            proxy.record { s in
                if direction == .toUpstream { s.bytesToUpstream += count } else { s.bytesToClient += count }
            }
            if head.reset {
                proxy.record { $0.resets += 1 }
                written.whenComplete { _ in self.resetBoth() }
                return
            }
        }
        // Closing outside the lane's access: the close may call back into `ended` at once.
        let drained = withLane(direction) { lane -> Bool in
            if let next = lane.queue.first {
                lane.timer = proxy.loop.scheduleTask(deadline: next.due) { self.pump(direction) }
                return false
            }
            return lane.sourceEnded
        }
        if drained { target.close(promise: nil) }
    }

    /// Writes `bytes`, one byte a write and flush when asked; the future of the last write.
    private func write(_ bytes: ByteBuffer, to target: Channel, singleBytes: Bool) -> EventLoopFuture<Void> {
        guard singleBytes, bytes.readableBytes > 1 else { return target.writeAndFlush(bytes) }
        var rest = bytes
        var last = target.eventLoop.makeSucceededVoidFuture()
        while let one = rest.readSlice(length: 1) { last = target.writeAndFlush(one) }
        return last
    }

    /// Resets both sides at once (RST), dropping whatever is still queued.
    func resetBoth() {
        done = true
        toUpstream.timer?.cancel()
        toClient.timer?.cancel()
        toUpstream.queue.removeAll()
        toClient.queue.removeAll()
        ChaosProxy.reset(client)
        if let upstream { ChaosProxy.reset(upstream) }
        finish()
    }

    /// Closes both sides (the proxy shuts down).
    func closeAll() {
        done = true
        toUpstream.timer?.cancel()
        toClient.timer?.cancel()
        client.close(promise: nil)
        upstream?.close(promise: nil)
        finish()
    }

    private func finish() { proxy.finished(id) }

    private func withLane<T>(_ direction: ChaosFaults.Direction, _ body: (inout Lane) -> T) -> T {
        direction == .toUpstream ? body(&toUpstream) : body(&toClient)
    }
}
