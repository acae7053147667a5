//! The simulator itself: a QoS 2 message crosses and completes.
mod session_util;

use mqttwire::session::Event;
use mqttwire::{PacketType, ProtocolVersion, QoS};
use session_util::{message, Dir, Pair};

#[test]
fn qos2_message_completes_over_the_simulated_link() {
    for version in [ProtocolVersion::V3_1_1, ProtocolVersion::V5] {
        let mut pair = Pair::new(version);
        pair.connect(true);
        let id = pair
            .client
            .publish(QoS::ExactlyOnce, message("a/b", "hello"))
            .unwrap()
            .unwrap();
        pair.run();
        assert_eq!(pair.server_messages(), ["hello"]);
        assert!(pair
            .client_events
            .contains(&Event::PublishCompleted { packet_id: id }));
        assert_eq!(pair.crossed(Dir::ToServer, PacketType::PubRel).len(), 1);
        assert_eq!(pair.crossed(Dir::ToClient, PacketType::PubComp).len(), 1);
    }
}
