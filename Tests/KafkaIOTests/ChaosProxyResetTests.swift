import ChaosProxy
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import Testing

/// ChaosProxy's own semantics, on bare sockets: a connection is cut at its drawn byte
/// count (the crossing chunk forwarded only up to it) and both sides see it end; a refused
/// connection ends at once and is never joined upstream.
@Suite struct ChaosProxyResetTests {
    /// Counts what it reads and echoes it back.
    final class Echo: ChannelInboundHandler, Sendable {
        typealias InboundIn = ByteBuffer
        typealias OutboundOut = ByteBuffer
        let received: NIOLockedValueBox<Int>
        let connections: NIOLockedValueBox<Int>
        init(received: NIOLockedValueBox<Int>, connections: NIOLockedValueBox<Int>) {
            self.received = received
            self.connections = connections
        }
        func channelActive(context: ChannelHandlerContext) {
            connections.withLockedValue { $0 += 1 }
        }
        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            let buf = unwrapInboundIn(data)
            received.withLockedValue { $0 += buf.readableBytes }
            context.writeAndFlush(wrapOutboundOut(buf), promise: nil)
        }
        func errorCaught(context: ChannelHandlerContext, error: Error) { context.close(promise: nil) }
    }

    /// Counts what the client reads back.
    final class Reader: ChannelInboundHandler, Sendable {
        typealias InboundIn = ByteBuffer
        let received = NIOLockedValueBox(0)
        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            let n = unwrapInboundIn(data).readableBytes
            received.withLockedValue { $0 += n }
        }
        func errorCaught(context: ChannelHandlerContext, error: Error) { context.close(promise: nil) }
    }

    struct Upstream {
        let group: MultiThreadedEventLoopGroup
        let channel: Channel
        let received = NIOLockedValueBox(0)
        let connections = NIOLockedValueBox(0)

        init() throws {
            group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
            let received = self.received, connections = self.connections
            channel = try ServerBootstrap(group: group)
                .childChannelInitializer { child in
                    child.eventLoop.makeCompletedFuture {
                        try child.pipeline.syncOperations.addHandler(Echo(received: received, connections: connections))
                    }
                }
                .bind(host: "127.0.0.1", port: 0).wait()
        }

        var port: Int { channel.localAddress!.port! }

        func shutdown() {
            try? channel.close().wait()
            try? group.syncShutdownGracefully()
        }
    }

    /// Connects to the proxy, writes `bytes`, and waits up to 5 s for the connection to end;
    /// what the client read back, or nil if it did not end. A reset can beat the connect's
    /// completion: then the connection ended with nothing read.
    static func exchange(_ proxy: ChaosProxy, _ group: EventLoopGroup, bytes: Int) async throws -> Int? {
        let reader = Reader()
        guard let channel = try? await ClientBootstrap(group: group)
            .channelInitializer({ ch in ch.eventLoop.makeCompletedFuture { try ch.pipeline.syncOperations.addHandler(reader) } })
            .connect(host: proxy.host, port: proxy.port).get() else { return 0 }
        var buf = channel.allocator.buffer(capacity: bytes)
        buf.writeRepeatingByte(7, count: bytes)
        channel.writeAndFlush(buf, promise: nil)
        let timedOut = NIOLockedValueBox(false)
        let deadline = channel.eventLoop.scheduleTask(in: .seconds(5)) {
            timedOut.withLockedValue { $0 = true }
            channel.close(promise: nil)
        }
        try? await channel.closeFuture.get()
        deadline.cancel()
        return timedOut.withLockedValue { $0 } ? nil : reader.received.withLockedValue { $0 }
    }

    /// Synchronous, so that `defer` in an async test can call it.
    static func shutdown(_ group: MultiThreadedEventLoopGroup) {
        try? group.syncShutdownGracefully()
    }

    static func waitFor(_ condition: () -> Bool) async throws {
        for _ in 0 ..< 100 where !condition() { try await Task.sleep(for: .milliseconds(20)) }
    }

    @Test(arguments: [ChaosFaults.Direction.toUpstream, .both])
    func aConnectionIsCutAtItsThreshold(counting direction: ChaosFaults.Direction) async throws {
        let upstream = try Upstream()
        defer { upstream.shutdown() }
        let proxy = try ChaosProxy.start(upstreamPort: upstream.port,
                                         faults: ChaosFaults(resetAfterBytes: 1_000 ... 1_000, resetCounts: direction), random: ChaosRandom(seed: 1))
        defer { try? proxy.shutdown() }
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        defer { Self.shutdown(group) }
        // Counting only what goes up, 5,000 bytes are cut at 1,000; counting both ways, 600
        // go up and their echo is cut after 400.
        let sent = direction == .toUpstream ? 5_000 : 600
        let readBack = try await Self.exchange(proxy, group, bytes: sent)
        #expect(readBack != nil, "the client's connection did not end")
        try await Self.waitFor { upstream.received.withLockedValue { $0 } >= min(sent, 1_000) }
        let stats = proxy.stats
        #expect(stats.resets == 1, "\(stats)")
        if direction == .toUpstream {
            #expect(stats.bytesToUpstream == 1_000 && stats.bytesToClient == 0, "\(stats)")
            // An RST may overtake bytes still in flight: at most the threshold arrives.
            #expect(upstream.received.withLockedValue { $0 } <= 1_000)
            #expect(readBack.map { $0 == 0 } != false)
        } else {
            #expect(stats.bytesToUpstream == 600 && stats.bytesToClient == 400, "\(stats)")
            #expect(readBack.map { $0 <= 400 } != false)
        }
    }

    @Test func aRefusedConnectionEndsAtOnceAndNeverReachesUpstream() async throws {
        let upstream = try Upstream()
        defer { upstream.shutdown() }
        let proxy = try ChaosProxy.start(upstreamPort: upstream.port, faults: ChaosFaults(refuseConnections: true), random: ChaosRandom(seed: 1))
        defer { try? proxy.shutdown() }
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        defer { Self.shutdown(group) }
        let readBack = try await Self.exchange(proxy, group, bytes: 100)
        #expect(readBack == 0)
        #expect(proxy.stats.refused == 1 && proxy.stats.accepted == 1, "\(proxy.stats)")
        #expect(upstream.connections.withLockedValue { $0 } == 0)
        // Lifted: the next connection is joined and echoed (it stays open; the test closes it).
        proxy.setFaults(.none)
        let reader = Reader()
        let channel = try await ClientBootstrap(group: group)
            .channelInitializer { ch in ch.eventLoop.makeCompletedFuture { try ch.pipeline.syncOperations.addHandler(reader) } }
            .connect(host: proxy.host, port: proxy.port).get()
        var buf = channel.allocator.buffer(capacity: 100)
        buf.writeRepeatingByte(7, count: 100)
        try await channel.writeAndFlush(buf).get()
        try await Self.waitFor { reader.received.withLockedValue { $0 } >= 100 }
        #expect(reader.received.withLockedValue { $0 } == 100)
        #expect(upstream.connections.withLockedValue { $0 } == 1)
        try await channel.close().get()
    }
}
