import KafkaProtocol
import KafkaStateMachines
import NIOCore
import NIOSSL
import NIOTLS

/// The last handler of a broker channel: turns channel events into calls on the driver.
/// It lives on the driver's loop, so it calls the driver directly.
final class BrokerChannelHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    let id: ConnectionID
    /// Weak: the driver owns the channel, and the channel's pipeline owns this handler.
    weak var driver: EngineDriver?

    init(id: ConnectionID, driver: EngineDriver) {
        self.id = id
        self.driver = driver
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let buffer = unwrapInboundIn(data)
        driver?.received(id, buffer)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case TLSUserEvent.handshakeCompleted = event { driver?.tlsHandshakeCompleted(id) }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        driver?.lost(id, reason: DialFailure.classify(error))
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        driver?.lost(id, reason: .closed("closed by peer"))
        context.fireChannelInactive()
    }
}
