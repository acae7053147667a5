//! PINGREQ and PINGRESP: keep-alive probes (MQTT 5.0 sections 3.12 and 3.13, 3.1.1 the
//! same). Both are the fixed header alone: `C0 00` and `D0 00`. A body is malformed.
//!
//! They carry no fields, so [`Packet::PingReq`](crate::Packet::PingReq) and
//! [`Packet::PingResp`](crate::Packet::PingResp) are unit variants; the trailing-bytes
//! check every packet goes through refuses a body.
