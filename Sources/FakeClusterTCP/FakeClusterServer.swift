import FakeCluster
import NIOCore
import NIOPosix
import NIOSSL

/// PEM files for TLS listeners (every broker uses the same certificate); the listeners
/// terminate TLS themselves with swift-nio-ssl.
public struct FakeClusterTLSFiles: Sendable {
    public var certificateChain: String
    public var privateKey: String
    public init(certificateChain: String, privateKey: String) {
        self.certificateChain = certificateChain
        self.privateKey = privateKey
    }
}

/// FakeCluster over TCP: one listener per broker on the loopback (or any) interface, all
/// driven on one event loop, with the wall clock (monotonic, since start) as virtual time.
/// The cluster itself stays pure; this type only moves bytes and time in and out.
public final class FakeClusterServer: @unchecked Sendable {
    // @unchecked: every mutable field is touched only on `loop` (checked with preconditions).
    public let group: MultiThreadedEventLoopGroup
    let loop: EventLoop
    var cluster: FakeCluster
    var channels: [FakeConnectionID: Channel] = [:]
    var listeners: [Channel] = []
    var timer: Scheduled<Void>?
    let start = NIODeadline.now()
    let log: @Sendable (String) -> Void

    /// The brokers as Metadata advertises them: as they listen (ports resolved when the
    /// config asked for port 0), unless `start` was told to advertise other addresses.
    public let brokers: [FakeClusterConfig.Broker]

    /// Binds every broker (port 0: any free port), then builds the cluster with the bound
    /// ports so that Metadata advertises them. `advertising` may replace a bound broker's
    /// address with another (a proxy in front of it), called once per broker in order.
    public static func start(_ config: FakeClusterConfig, tls: FakeClusterTLSFiles? = nil,
                             log: @escaping @Sendable (String) -> Void = { _ in },
                             advertising: (FakeClusterConfig.Broker) throws -> FakeClusterConfig.Broker = { $0 }) throws -> FakeClusterServer {
        let sslContext = try tls.map { try Self.serverContext($0) }
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let loop = group.next()
        let holder = ServerHolder()
        var bound: [(FakeClusterConfig.Broker, Channel)] = []
        do {
            for b in config.brokers {
                let nodeId = b.nodeId
                let channel = try ServerBootstrap(group: group)
                    .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
                    .childChannelOption(ChannelOptions.socketOption(.tcp_nodelay), value: 1)
                    .childChannelInitializer { child in
                        child.eventLoop.makeCompletedFuture {
                            guard let server = holder.server else { throw ChannelError.ioOnClosedChannel }
                            if let sslContext {
                                try child.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: sslContext))
                            }
                            try child.pipeline.syncOperations.addHandler(BrokerConnectionHandler(server: server, broker: nodeId))
                        }
                    }
                    .bind(host: b.host, port: Int(b.port)).wait()
                var resolved = b
                resolved.port = Int32(channel.localAddress?.port ?? Int(b.port))
                bound.append((resolved, channel))
                bound[bound.count - 1].0 = try advertising(resolved)
            }
        } catch {
            for (_, c) in bound { try? c.close().wait() }
            try? group.syncShutdownGracefully()
            throw error
        }
        var resolvedConfig = config
        resolvedConfig.brokers = bound.map(\.0)
        let server = FakeClusterServer(group: group, loop: loop, config: resolvedConfig, log: log)
        server.listeners = bound.map(\.1)
        holder.server = server
        return server
    }

    /// The listeners' TLS: the PEM chain and key, no client certificates asked for.
    static func serverContext(_ files: FakeClusterTLSFiles) throws -> NIOSSLContext {
        let chain = try NIOSSLCertificate.fromPEMFile(files.certificateChain).map { NIOSSLCertificateSource.certificate($0) }
        let key = try NIOSSLPrivateKey(file: files.privateKey, format: .pem)
        return try NIOSSLContext(configuration: .makeServerConfiguration(certificateChain: chain, privateKey: .privateKey(key)))
    }

    private init(group: MultiThreadedEventLoopGroup, loop: EventLoop, config: FakeClusterConfig, log: @escaping @Sendable (String) -> Void) {
        self.group = group
        self.loop = loop
        self.log = log
        brokers = config.brokers
        cluster = FakeCluster(config)
    }

    /// Runs `body` on the cluster's loop with the cluster (for control operations and
    /// assertions from tests), then applies whatever outputs it returns.
    public func withCluster<T: Sendable>(_ body: @escaping @Sendable (inout FakeCluster, Instant) -> (T, [FakeOutput])) -> EventLoopFuture<T> {
        loop.submit {
            let (value, outputs) = body(&self.cluster, self.now)
            self.apply(outputs)
            return value
        }
    }

    public func shutdown() throws {
        try? loop.submit {
            for c in self.channels.values { c.close(promise: nil) }
            for l in self.listeners { l.close(promise: nil) }
            self.timer?.cancel()
        }.wait()
        try group.syncShutdownGracefully()
    }

    /// Wall-clock time since start as the cluster's virtual time.
    var now: Instant {
        Instant(nanoseconds: UInt64(max(0, (NIODeadline.now() - start).nanoseconds)))
    }

    // MARK: on the loop

    func accepted(_ channel: Channel, broker: Int32) -> FakeConnectionID? {
        loop.preconditionInEventLoop()
        guard cluster.isReachable(broker: broker), let id = cluster.connect(broker: broker) else { return nil }
        channels[id] = channel
        return id
    }

    func received(_ id: FakeConnectionID, _ bytes: [UInt8]) {
        loop.preconditionInEventLoop()
        apply(cluster.receive(id, bytes, now: now))
    }

    func closed(_ id: FakeConnectionID) {
        loop.preconditionInEventLoop()
        guard channels.removeValue(forKey: id) != nil else { return }
        cluster.disconnect(id)
    }

    func apply(_ outputs: [FakeOutput]) {
        for o in outputs {
            switch o {
            case .send(let id, let bytes):
                guard let c = channels[id] else { continue }
                var buf = c.allocator.buffer(capacity: bytes.count)
                buf.writeBytes(bytes)
                c.writeAndFlush(buf, promise: nil)
            case .close(let id, let reason):
                log("fake-cluster: closing \(id): \(reason)")
                if let c = channels.removeValue(forKey: id) { c.close(promise: nil) }
            }
        }
        rearm()
    }

    /// Schedules the next tick at the cluster's next deadline.
    func rearm() {
        timer?.cancel()
        timer = nil
        guard let d = cluster.nextDeadline else { return }
        let delay = Int64(d.nanoseconds) - Int64(now.nanoseconds)
        timer = loop.scheduleTask(in: .nanoseconds(max(0, delay))) { [self] in
            timer = nil
            apply(cluster.tick(now: now))
        }
    }
}

/// Lets child channels find the server that is created after the listeners are bound.
private final class ServerHolder: @unchecked Sendable {
    var server: FakeClusterServer?
}

final class BrokerConnectionHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    let server: FakeClusterServer
    let broker: Int32
    var id: FakeConnectionID?

    init(server: FakeClusterServer, broker: Int32) {
        self.server = server
        self.broker = broker
    }

    func channelActive(context: ChannelHandlerContext) {
        id = server.accepted(context.channel, broker: broker)
        if id == nil { context.close(promise: nil) }
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard let id else { return }
        var buf = unwrapInboundIn(data)
        server.received(id, buf.readBytes(length: buf.readableBytes) ?? [])
    }

    func channelInactive(context: ChannelHandlerContext) {
        if let id { server.closed(id) }
        context.fireChannelInactive()
    }

    /// A failed TLS handshake or a reset: that connection closes, with the reason logged.
    func errorCaught(context: ChannelHandlerContext, error: Error) {
        server.log("fake-cluster: connection error on broker \(broker): \(error)")
        context.close(promise: nil)
    }
}
