//! The workloads, built from the main crate's fixtures (tests/fixtures/mod.rs): mqttwire
//! encodes them, every codec decodes those very bytes and encodes its own equivalent.

use crate::fixtures;
use crate::harness::Summary;
use bytes::Bytes;
use mqttwire::{Packet, PacketId, ProtocolVersion, PubAck};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Decode,
    Encode,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Workload {
    /// QoS 0 PUBLISH on the 20-byte topic with this many payload bytes.
    Publish(usize),
    /// QoS 1 PUBLISH (5.0) with Message Expiry, Content Type and two User Properties.
    PublishQos1Props,
    Connect,
    Connack,
    PubAck,
    /// The mixed stream, whole in one receive buffer.
    Stream,
    /// The mixed stream arriving in 7-byte chunks.
    Chunks7,
}

pub struct Case {
    #[allow(dead_code)]
    pub id: &'static str,
    pub op: Op,
    pub workload: Workload,
    pub version: ProtocolVersion,
    /// The packet (single-packet cases; the first packet of the stream otherwise).
    pub packet: Packet,
    /// Every packet of the case: the one packet, or the whole stream in order.
    pub packets: Vec<Packet>,
    /// mqttwire's encoding of the packet, or of the whole stream.
    pub bytes: Bytes,
    /// What decoding `bytes` must give, packet by packet.
    pub want: Vec<Summary>,
}

impl Case {
    pub fn from_id(id: &'static str) -> Case {
        let mut parts = id.split('_');
        let (op, workload, version) = (
            parts.next().unwrap(),
            parts.next().unwrap(),
            parts.next().unwrap(),
        );
        let op = match op {
            "decode" => Op::Decode,
            "encode" => Op::Encode,
            _ => panic!("{id}"),
        };
        let version = match version {
            "v311" => ProtocolVersion::V3_1_1,
            "v5" => ProtocolVersion::V5,
            _ => panic!("{id}"),
        };
        let workload = match workload {
            "publish0" => Workload::Publish(0),
            "publish64" => Workload::Publish(64),
            "publish1k" => Workload::Publish(1024),
            "publish64k" => Workload::Publish(64 * 1024),
            "publishqos1props" => Workload::PublishQos1Props,
            "connect" => Workload::Connect,
            "connack" => Workload::Connack,
            "puback" => Workload::PubAck,
            "stream" => Workload::Stream,
            "chunks7" => Workload::Chunks7,
            _ => panic!("{id}"),
        };
        let packets = match workload {
            Workload::Publish(size) => vec![fixtures::publish_qos0(size)],
            Workload::PublishQos1Props => vec![fixtures::publish_qos1_props()],
            Workload::Connect => vec![fixtures::connect(version)],
            Workload::Connack => vec![fixtures::connack(version)],
            Workload::PubAck => vec![PubAck::new(PacketId::new(7).unwrap()).into()],
            Workload::Stream | Workload::Chunks7 => fixtures::mixed_stream(version),
        };
        Case {
            id,
            op,
            workload,
            version,
            bytes: fixtures::encode_all(&packets, version),
            want: packets.iter().map(|p| Summary::of(p, version)).collect(),
            packet: packets[0].clone(),
            packets,
        }
    }

    /// The label in the tables.
    pub fn label(&self) -> String {
        let op = match self.op {
            Op::Decode => "decode",
            Op::Encode => "encode",
        };
        let v = if self.version.is_v5() { "5.0" } else { "3.1.1" };
        let what = match self.workload {
            Workload::Publish(0) => "PUBLISH QoS 0, 0 B".to_owned(),
            Workload::Publish(1024) => "PUBLISH QoS 0, 1 KiB".to_owned(),
            Workload::Publish(65536) => "PUBLISH QoS 0, 64 KiB".to_owned(),
            Workload::Publish(n) => format!("PUBLISH QoS 0, {n} B"),
            Workload::PublishQos1Props => "PUBLISH QoS 1 + properties".to_owned(),
            Workload::Connect => "CONNECT".to_owned(),
            Workload::Connack => "CONNACK".to_owned(),
            Workload::PubAck => "PUBACK".to_owned(),
            // Encoded back to back into one buffer: no "whole" or "chunks" to tell apart.
            Workload::Stream if self.op == Op::Encode => "mixed stream".to_owned(),
            Workload::Stream => "mixed stream, whole".to_owned(),
            Workload::Chunks7 => "mixed stream, 7-byte chunks".to_owned(),
        };
        format!("{op} {v} {what}")
    }
}
