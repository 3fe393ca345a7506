import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// A TCP proxy for tests that puts network faults between a client and a broker: it
/// listens on `host:port` (port 0: a free port, reported in `port`), joins each accepted
/// connection to `upstreamHost:upstreamPort`, and applies `ChaosFaults` to the bytes both
/// ways. Every random draw comes from the generator it is given. One event loop of its own
/// runs every connection; faults may be changed from any thread.
public final class ChaosProxy: @unchecked Sendable {
    // @unchecked: `random`, `connections`, `nextId` and `listener` are touched only on
    // `loop`; `state` is locked; `port` is set before the proxy is handed out.
    let group: MultiThreadedEventLoopGroup
    let loop: EventLoop
    public let upstreamHost: String
    public let upstreamPort: Int
    public let host: String
    /// The port the proxy listens on.
    public private(set) var port = 0
    private let state: NIOLockedValueBox<(faults: ChaosFaults, stats: ChaosStats)>
    private var random: AnyGenerator
    private var connections: [Int: ChaosConnection] = [:]
    private var nextId = 0
    private var listener: Channel?

    /// Binds the listener and starts accepting.
    public static func start(upstreamHost: String = "127.0.0.1", upstreamPort: Int, host: String = "127.0.0.1", port: Int = 0,
                             faults: ChaosFaults = .none, random: some RandomNumberGenerator & Sendable) throws -> ChaosProxy {
        let proxy = ChaosProxy(upstreamHost: upstreamHost, upstreamPort: upstreamPort, host: host, faults: faults, random: random)
        do {
            let listener = try ServerBootstrap(group: proxy.group)
                .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
                .childChannelOption(ChannelOptions.socketOption(.tcp_nodelay), value: 1)
                .childChannelInitializer { child in
                    child.eventLoop.makeCompletedFuture {
                        try child.pipeline.syncOperations.addHandler(ChaosSideHandler(proxy: proxy, side: .client))
                    }
                }
                .bind(host: host, port: port).wait()
            proxy.port = listener.localAddress?.port ?? port
            try proxy.loop.submit { proxy.listener = listener }.wait()
        } catch {
            try? proxy.group.syncShutdownGracefully()
            throw error
        }
        return proxy
    }

    private init(upstreamHost: String, upstreamPort: Int, host: String, faults: ChaosFaults, random: some RandomNumberGenerator & Sendable) {
        group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        loop = group.next()
        self.upstreamHost = upstreamHost
        self.upstreamPort = upstreamPort
        self.host = host
        self.random = AnyGenerator(base: random)
        state = NIOLockedValueBox((faults, ChaosStats()))
    }

    /// The faults in force.
    public var faults: ChaosFaults { state.withLockedValue { $0.faults } }

    /// Replaces the faults. Connections already open take the new shaping and stall at
    /// once (a lifted stall releases the bytes it held); see `ChaosFaults` for the rest.
    public func setFaults(_ faults: ChaosFaults) {
        state.withLockedValue { $0.faults = faults }
        loop.execute {
            for id in self.connections.keys.sorted() { self.connections[id]?.pumpBoth() }
        }
    }

    /// Changes the faults in force with `body`.
    public func updateFaults(_ body: (inout ChaosFaults) -> Void) {
        var f = faults
        body(&f)
        setFaults(f)
    }

    /// What the proxy has done so far.
    public var stats: ChaosStats { state.withLockedValue { $0.stats } }

    /// Connections open now (black-holed ones included).
    public func openConnections() async throws -> Int {
        try await loop.submit { self.connections.count }.get()
    }

    /// Closes the listener and every connection, then stops the event loop.
    public func shutdown() throws {
        try? loop.submit {
            self.listener?.close(promise: nil)
            for id in self.connections.keys.sorted() { self.connections[id]?.closeAll() }
        }.wait()
        try group.syncShutdownGracefully()
    }

    // MARK: on the loop

    func record(_ body: (inout ChaosStats) -> Void) {
        state.withLockedValue { body(&$0.stats) }
    }

    /// A client connected: refuse it, swallow it, or join it upstream, as the faults say.
    func accepted(_ channel: Channel) -> ChaosConnection? {
        loop.preconditionInEventLoop()
        let f = state.withLockedValue { s -> ChaosFaults in
            s.stats.accepted += 1
            if s.faults.refuseConnections { s.stats.refused += 1 } else if s.faults.blackHole { s.stats.blackHoled += 1 }
            return s.faults
        }
        if f.refuseConnections {
            Self.reset(channel)
            return nil
        }
        let id = nextId
        nextId += 1
        let threshold = f.resetAfterBytes.map { Int.random(in: $0, using: &random) }
        let connection = ChaosConnection(id: id, proxy: self, client: channel, resetAfter: threshold, blackHoled: f.blackHole)
        connections[id] = connection
        if f.blackHole { return connection }
        ClientBootstrap(group: loop)
            .channelOption(ChannelOptions.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { upstream in
                upstream.eventLoop.makeCompletedFuture {
                    try upstream.pipeline.syncOperations.addHandler(ChaosSideHandler(proxy: self, side: .upstream, connection: connection))
                }
            }
            .connect(host: upstreamHost, port: upstreamPort)
            .whenComplete { result in
                switch result {
                case .success(let upstream):
                    connection.upstreamConnected(upstream)
                case .failure:
                    self.record { $0.upstreamFailures += 1 }
                    connection.resetBoth()
                }
            }
        return connection
    }

    func finished(_ id: Int) {
        loop.preconditionInEventLoop()
        connections[id] = nil
    }

    /// A draw of up to `limit`, for jitter.
    func draw(upTo limit: Int64) -> Int64 {
        loop.preconditionInEventLoop()
        return limit > 0 ? Int64.random(in: 0 ... limit, using: &random) : 0
    }

    /// Closes `channel` with an RST: SO_LINGER on with a zero timeout drops what is unsent.
    static func reset(_ channel: Channel) {
        guard let provider = channel as? SocketOptionProvider else {
            channel.close(promise: nil)
            return
        }
        provider.setSoLinger(NIOLinger(l_onoff: 1, l_linger: 0)).whenComplete { _ in channel.close(promise: nil) }
    }
}

/// The generator handed in, as a concrete type the standard library's draws accept.
private struct AnyGenerator: RandomNumberGenerator {
    var base: any RandomNumberGenerator
    mutating func next() -> UInt64 { base.next() }
}

extension Duration {
    /// Whole nanoseconds, for NIO's deadlines.
    var chaosNanoseconds: Int64 {
        let (s, a) = components
        return s * 1_000_000_000 + a / 1_000_000_000
    }
}
