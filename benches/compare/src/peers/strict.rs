//! The strict floor: the least work a codec must do under mqttwire's contract, checks
//! included, written as one straight-line function with no packet type, error value or
//! general decoder around it. It answers whether a target below mqttwire is reachable at all
//! by a codec that makes the checks mqttwire makes (and some peers skip).
//!
//! - Decoding, every packet: a Remaining Length of at most four bytes, minimally encoded,
//!   and the packet's size compared with a maximum packet size, as mqttwire's decoder does.
//! - Decoding a single PUBLISH: the first byte's QoS and DUP (3.1.1 and 5.0
//!   [MQTT-3.3.1-4], [MQTT-3.3.1-2]), the Remaining Length against the input, the topic's
//!   length within the packet, its bytes well-formed UTF-8 without U+0000 (3.1.1
//!   [MQTT-1.5.3-1], [MQTT-1.5.3-2]; 5.0 [MQTT-1.5.4-1], [MQTT-1.5.4-2]) or wildcards
//!   ([MQTT-3.3.2-2]), a non-empty topic (3.1.1 [MQTT-4.7.3-1]; at 5.0 an empty one needs a
//!   Topic Alias, which an empty property block does not hold), a non-zero packet
//!   identifier at QoS 1 and 2, and at 5.0 the Property Length. Topic and payload come out
//!   as `Bytes` slices of the input, as mqttwire's do.
//! - Decoding a 3.1.1 CONNECT: the first byte's flags (3.1.1 [MQTT-2.2.2-1]), the
//!   Protocol Name and Level, the reserved Connect Flag ([MQTT-3.1.2-3]), the will flags
//!   (3.1.1 [MQTT-3.1.2-11], [MQTT-3.1.2-13], [MQTT-3.1.2-14], [MQTT-3.1.2-15]), a password
//!   only with a user name (3.1.1 [MQTT-3.1.2-22]), the strings checked as above (the will
//!   topic non-empty and free of wildcards too), and the payload filling the packet exactly.
//!   The five fields come out as `Bytes` slices. (A zero-length client identifier without
//!   CleanSession is left to the server, which answers it with return code 2, as
//!   mqttwire's decoder does.)
//! - Encoding a PUBLISH from its parts into the reused `BytesMut`: DUP only with QoS 1 or 2,
//!   a non-empty topic, the Remaining Length computed and within its limit, then room
//!   reserved once and the fixed header, topic, packet identifier, property block and
//!   payload appended.
//! - Encoding a PUBACK from its parts: below 5.0 only a Success without properties (the
//!   rest cannot be said there), then the shortest form (Remaining Length 2 for a Success,
//!   3 with the reason code otherwise).
//! - Encoding a 3.1.1 CONNACK from its parts: Session Present only on an accepted
//!   connection (3.1.1 [MQTT-3.2.2-4]), the reason code mapped to one of the six return
//!   codes (or refused), then four bytes.
//! - Encoding the mixed stream: each PUBLISH and PUBACK as above; the other packets (the
//!   CONNECT, SUBSCRIBE, PINGREQ and DISCONNECT, 4 of 114) copied whole from bytes encoded
//!   beforehand, less than any encoder can do for them.
//!
//! - The borrowed strict floor (`strict_ref`): the same decoding checks, the fields handed
//!   out as `&[u8]` slices of the input, as mqttwire's borrowed core hands them out; and the
//!   same encodings written into a reused slice, as the borrowed core writes them.
//!
//! Other cases: not measured.

use crate::cases::{Case, Op, Workload};
use crate::harness::{batch_for, encode_job, encode_stream_job, job, NotApplicable, Spec};
use bytes::{Bytes, BytesMut};
use mqttwire::Packet;
use std::hint::black_box;
use std::ops::Range;

/// Encodes the case's one packet `k` times per batch into `$buf`, through the function for
/// its type (no dispatch on the type: a floor does not pay for one); `$out` makes the
/// writer from the buffer `$b` for each packet.
macro_rules! single {
    ($case:expr, $name:expr, $buf:expr, |$b:ident| $out:expr) => {{
        let case: &Case = $case;
        let piece = pieces(case)?.pop().unwrap();
        // `pieces` checked that the same parts give the same answer every time.
        match (case.workload, piece) {
            (Workload::Publish(_), Piece::Publish(p)) => encode_job(
                $name,
                &case.packet,
                case.version,
                p,
                $buf,
                |p, $b| encode_publish(p, $out).unwrap_or(0),
                |b, n| &b[..n],
            ),
            (
                Workload::PubAck,
                Piece::PubAck {
                    v5,
                    packet_id,
                    reason,
                    properties,
                },
            ) => encode_job(
                $name,
                &case.packet,
                case.version,
                (v5, packet_id, reason, properties),
                $buf,
                |&mut (v5, id, reason, props), $b| {
                    encode_puback(v5, id, reason, props, $out).unwrap_or(0)
                },
                |b, n| &b[..n],
            ),
            (
                Workload::Connack,
                Piece::ConnAck {
                    session_present,
                    reason,
                },
            ) => encode_job(
                $name,
                &case.packet,
                case.version,
                (session_present, reason),
                $buf,
                |&mut (sp, reason), $b| encode_connack(sp, reason, $out).unwrap_or(0),
                |b, n| &b[..n],
            ),
            _ => Err("not a case the strict floor encodes".into()),
        }
    }};
}

pub fn spec(case: &Case) -> Result<Spec, NotApplicable> {
    match (case.op, case.workload) {
        (Op::Decode, Workload::Publish(size)) => {
            let v5 = case.version.is_v5();
            let (topic, payload) = publish(&case.bytes, v5, |r| case.bytes.slice(r))
                .ok_or("the strict floor refused the PUBLISH")?;
            assert_eq!((topic.len(), payload.len()), (20, size));
            Ok(decode_job(case, move |bytes| {
                publish(bytes, v5, |r| bytes.slice(r)).is_some()
            }))
        }
        (Op::Decode, Workload::Connect) if !case.version.is_v5() => {
            let fields = connect(&case.bytes, |r| case.bytes.slice(r))
                .ok_or("the strict floor refused the CONNECT")?;
            assert!(fields.iter().all(Option::is_some));
            Ok(decode_job(case, |bytes| {
                connect(bytes, |r| bytes.slice(r)).is_some()
            }))
        }
        (Op::Encode, Workload::Stream) => encode_stream_job(
            "strict floor",
            &case.packets,
            case.version,
            pieces(case)?,
            BytesMut::with_capacity(128 * 1024),
            BytesMut::clear,
            |piece, out, _| {
                // Checked before measuring: the same parts give the same answer every time.
                piece.encode(out).unwrap_or(0);
                out.len()
            },
            |out, _| &out[..],
        ),
        (Op::Encode, _) => single!(case, "strict floor", BytesMut::with_capacity(128 * 1024), |b| {
            b.clear();
            b
        }),
        _ => Err("the strict floor is for a single PUBLISH and a 3.1.1 CONNECT, and encodes PUBLISH, PUBACK, a 3.1.1 CONNACK and the mixed stream".into()),
    }
}

/// The borrowed strict floor: the same checks, the fields handed out as slices of the input
/// (as mqttwire's borrowed core does), decoding only.
pub fn spec_borrowed(case: &Case) -> Result<Spec, NotApplicable> {
    match (case.op, case.workload) {
        (Op::Decode, Workload::Publish(size)) => {
            let v5 = case.version.is_v5();
            let (topic, payload) = publish(&case.bytes, v5, |r| &case.bytes[r])
                .ok_or("the strict floor refused the PUBLISH")?;
            assert_eq!((topic.len(), payload.len()), (20, size));
            Ok(decode_job(case, move |bytes| {
                black_box(publish(bytes, v5, |r| &bytes[r])).is_some()
            }))
        }
        (Op::Decode, Workload::Connect) if !case.version.is_v5() => {
            let fields = connect(&case.bytes, |r| &case.bytes[r])
                .ok_or("the strict floor refused the CONNECT")?;
            assert!(fields.iter().all(Option::is_some));
            Ok(decode_job(case, |bytes| {
                black_box(connect(bytes, |r| &bytes[r])).is_some()
            }))
        }
        (Op::Encode, Workload::Stream) => encode_stream_job(
            "strict floor (borrowed)",
            &case.packets,
            case.version,
            pieces(case)?,
            vec![0u8; 128 * 1024],
            |_| {},
            |piece, out, at| at + piece.encode(&mut SliceOut(&mut out[at..])).unwrap_or(0),
            |out, n| &out[..n],
        ),
        (Op::Encode, _) => single!(case, "strict floor (borrowed)", vec![0u8; 128 * 1024], |b| {
            &mut SliceOut(&mut b[..])
        }),
        _ => Err("the borrowed strict floor decodes a single PUBLISH and a 3.1.1 CONNECT, and encodes what the strict floor encodes".into()),
    }
}

/// Decodes the case's bytes `k` times per batch with `decode`, which must accept them.
fn decode_job(case: &Case, decode: impl Fn(&Bytes) -> bool + 'static) -> Spec {
    let k = batch_for(case.bytes.len());
    Spec {
        job: job(
            case.bytes.clone(),
            |_| {},
            move |bytes| {
                for _ in 0..k {
                    assert!(decode(black_box(&*bytes)));
                }
            },
        ),
        packets_per_run: k as u64,
        bytes_per_packet: case.bytes.len() as f64,
        note: None,
    }
}

/// The topic and payload of the PUBLISH at the front of `input`, or `None` if it breaks a
/// rule listed at the top, each cut out of `input` by `cut`.
#[inline(always)]
fn publish<T>(input: &[u8], v5: bool, cut: impl Fn(Range<usize>) -> T) -> Option<(T, T)> {
    let first = *input.first()?;
    let qos = (first >> 1) & 0b11;
    if first >> 4 != 3 || qos == 3 || (qos == 0 && first & 0b1000 != 0) {
        return None;
    }
    let (mut pos, total) = frame(input)?;
    let n = usize::from(u16::from_be_bytes([*input.get(pos)?, *input.get(pos + 1)?]));
    let topic = pos + 2..pos + 2 + n;
    if n == 0 || topic.end > total {
        return None;
    }
    let name = &input[topic.clone()];
    // Anything outside 0x01..=0x7F sends the topic to the full UTF-8 check.
    let (plain, wild) = scan(name);
    if wild || (!plain && (std::str::from_utf8(name).is_err() || name.contains(&0))) {
        return None;
    }
    pos = topic.end;
    if qos > 0 {
        let id = u16::from_be_bytes([*input.get(pos)?, *input.get(pos + 1)?]);
        if id == 0 || pos + 2 > total {
            return None;
        }
        pos += 2;
    }
    if v5 {
        // An empty property block is one zero byte; anything else is more than a floor.
        if pos >= total || input[pos] != 0 {
            return None;
        }
        pos += 1;
    }
    Some((cut(topic), cut(pos..total)))
}

/// Whether `bytes` are all in 0x01..=0x7F, and whether any is `+` or `#`: sixteen bytes at a
/// time with no early exit, so that each block is a few vector instructions, the last block
/// overlapping the one before and a short string padded to one block. The fastest way we
/// know; mqttwire's reader does the same.
#[inline(always)]
fn scan(bytes: &[u8]) -> (bool, bool) {
    const N: usize = 16;
    #[inline(always)]
    fn block(b: &[u8; N]) -> (bool, bool) {
        let (mut odd, mut wild) = (0u8, 0u8);
        for &c in b {
            odd |= u8::from(c.wrapping_sub(1) >= 0x7F);
            wild |= u8::from(c == b'+') | u8::from(c == b'#');
        }
        (odd == 0, wild != 0)
    }
    if bytes.len() < N {
        let mut padded = [b'a'; N];
        padded[..bytes.len()].copy_from_slice(bytes);
        return block(&padded);
    }
    let (mut plain, mut wild) = (true, false);
    let starts = (0..bytes.len() - N).step_by(N).chain([bytes.len() - N]);
    for at in starts {
        let (p, w) = block(bytes[at..at + N].try_into().unwrap());
        plain &= p;
        wild |= w;
    }
    (plain, wild)
}

/// Checks the string at `at`: where it ends, if it is well-formed and (for a topic)
/// non-empty and free of wildcards.
#[inline(always)]
fn string(input: &[u8], at: usize, end: usize, topic: bool) -> Option<usize> {
    let (range, next) = field(input, at, end)?;
    let s = &input[range];
    let (plain, wild) = scan(s);
    if (topic && (wild || s.is_empty()))
        || (!plain && (std::str::from_utf8(s).is_err() || s.contains(&0)))
    {
        return None;
    }
    Some(next)
}

/// The bytes of the length-prefixed field at `at`, and where the next one starts.
#[inline(always)]
fn field(input: &[u8], at: usize, end: usize) -> Option<(std::ops::Range<usize>, usize)> {
    let n = usize::from(u16::from_be_bytes([*input.get(at)?, *input.get(at + 1)?]));
    let next = at + 2 + n;
    (next <= end).then_some((at + 2..next, next))
}

/// The client identifier, will topic, will payload, user name and password of the 3.1.1
/// CONNECT at the front of `input`, or `None` if it breaks a rule listed at the top, each
/// cut out of `input` by `cut`.
#[inline(always)]
fn connect<T>(input: &[u8], cut: impl Fn(Range<usize>) -> T) -> Option<[Option<T>; 5]> {
    if *input.first()? != 0x10 {
        return None;
    }
    let (at, total) = frame(input)?;
    if input.get(at..at + 7)? != b"\x00\x04MQTT\x04" {
        return None;
    }
    let flags = *input.get(at + 7)?;
    let mut pos = at + 10; // after the flags and Keep Alive
    let (will, will_qos, will_retain) = (flags & 0x04 != 0, (flags >> 3) & 0b11, flags & 0x20);
    let (user, password) = (flags & 0x80 != 0, flags & 0x40 != 0);
    if flags & 1 != 0
        || will_qos == 3
        || (!will && (will_qos != 0 || will_retain != 0))
        || (password && !user)
        || pos > total
    {
        return None;
    }
    let mut out: [Option<T>; 5] = [None, None, None, None, None];
    let id = pos;
    pos = string(input, pos, total, false)?;
    out[0] = Some(cut(id + 2..pos));
    if will {
        let topic = pos;
        pos = string(input, pos, total, true)?;
        out[1] = Some(cut(topic + 2..pos));
        let (payload, next) = field(input, pos, total)?;
        out[2] = Some(cut(payload));
        pos = next;
    }
    if user {
        let name = pos;
        pos = string(input, pos, total, false)?;
        out[3] = Some(cut(name + 2..pos));
    }
    if password {
        let (bytes, next) = field(input, pos, total)?;
        out[4] = Some(cut(bytes));
        pos = next;
    }
    (pos == total).then_some(out)
}

/// A packet as its parts, prepared outside the measured loop.
enum Piece {
    Publish(Parts),
    PubAck {
        v5: bool,
        packet_id: u16,
        reason: u8,
        properties: bool,
    },
    /// A 3.1.1 CONNACK.
    ConnAck {
        session_present: bool,
        reason: u8,
    },
    /// A packet no strict floor encodes, as its finished bytes.
    Bytes(Bytes),
}

/// A PUBLISH as its parts.
struct Parts {
    first: u8,
    topic: String,
    packet_id: Option<u16>,
    v5: bool,
    payload: Bytes,
}

/// The case's packets as pieces, each checked to encode as mqttwire encodes it.
fn pieces(case: &Case) -> Result<Vec<Piece>, NotApplicable> {
    let v5 = case.version.is_v5();
    let with_properties = |p: &Packet| match p {
        Packet::Publish(p) => !p.properties.is_empty(),
        Packet::PubAck(a) => !a.properties.is_empty(),
        _ => false,
    };
    if case.packets.iter().any(with_properties) {
        return Err("the strict floor writes no properties".into());
    }
    let pieces: Vec<Piece> = case
        .packets
        .iter()
        .map(|packet| match packet {
            Packet::Publish(p) => Piece::Publish(Parts {
                first: 0x30 | u8::from(p.dup) << 3 | (p.qos.qos() as u8) << 1 | u8::from(p.retain),
                topic: p.topic.as_str().to_owned(),
                packet_id: p.qos.packet_id().map(|id| id.get()),
                v5,
                payload: p.payload.clone(),
            }),
            Packet::PubAck(a) => Piece::PubAck {
                v5,
                packet_id: a.packet_id.get(),
                reason: a.reason_code.code(),
                properties: !a.properties.is_empty(),
            },
            Packet::ConnAck(c) if !v5 => Piece::ConnAck {
                session_present: c.session_present,
                reason: c.reason_code.code(),
            },
            other => Piece::Bytes(crate::fixtures::encode_one(other, case.version)),
        })
        .collect();
    for (piece, packet) in pieces.iter().zip(&case.packets) {
        let mut out = BytesMut::new();
        piece
            .encode(&mut out)
            .ok_or("the strict floor refused a packet")?;
        if out != crate::fixtures::encode_one(packet, case.version) {
            return Err(format!("the strict floor encodes {packet:?} differently"));
        }
    }
    Ok(pieces)
}

impl Piece {
    /// Appends the packet to `out`, or `None` if it breaks a rule listed at the top.
    #[inline(always)]
    fn encode(&self, out: &mut impl Out) -> Option<usize> {
        match self {
            Piece::Publish(p) => encode_publish(p, out),
            &Piece::PubAck {
                v5,
                packet_id,
                reason,
                properties,
            } => encode_puback(v5, packet_id, reason, properties, out),
            &Piece::ConnAck {
                session_present,
                reason,
            } => encode_connack(session_present, reason, out),
            Piece::Bytes(bytes) => out.put_all(bytes),
        }
    }
}

/// Appends a PUBACK, or `None` if it breaks a rule listed at the top.
#[inline(always)]
fn encode_puback(
    v5: bool,
    packet_id: u16,
    reason: u8,
    properties: bool,
    out: &mut impl Out,
) -> Option<usize> {
    // Reason codes and properties cannot be said below 5.0; the floor writes no property.
    if properties || (!v5 && reason != 0) {
        return None;
    }
    let [hi, lo] = packet_id.to_be_bytes();
    if reason == 0 {
        out.put_all(&[0x40, 2, hi, lo])
    } else {
        out.put_all(&[0x40, 3, hi, lo, reason])
    }
}

/// Appends a 3.1.1 CONNACK, or `None` if it breaks a rule listed at the top.
#[inline(always)]
fn encode_connack(session_present: bool, reason: u8, out: &mut impl Out) -> Option<usize> {
    let code = match reason {
        0x00 => 0,
        0x84 => 1,
        0x85 => 2,
        0x88 => 3,
        0x86 => 4,
        0x87 => 5,
        _ => return None,
    };
    if session_present && code != 0 {
        return None;
    }
    out.put_all(&[0x20, 2, u8::from(session_present), code])
}

/// Where a strict floor writes: the reused `BytesMut`, or the rest of a reused slice.
trait Out {
    /// Makes room for a packet of `total` bytes whose first `head` bytes are written from
    /// an eight-byte array, or says there is none.
    fn room(&mut self, total: usize, head: usize) -> bool;
    /// Appends the first `n` of the eight bytes of `head`.
    fn head(&mut self, head: &[u8; 8], n: usize);
    /// Appends `bytes`, room for which was made.
    fn put(&mut self, bytes: &[u8]);
    /// Appends a whole packet.
    #[inline(always)]
    fn put_all(&mut self, bytes: &[u8]) -> Option<usize> {
        if !self.room(bytes.len(), 0) {
            return None;
        }
        self.put(bytes);
        Some(bytes.len())
    }
}

impl Out for BytesMut {
    #[inline(always)]
    fn room(&mut self, total: usize, head: usize) -> bool {
        self.reserve(total.max(head + 8));
        true
    }

    /// A constant eight bytes, cut back: a few moves, where a copy of variable length is a
    /// call.
    #[inline(always)]
    fn head(&mut self, head: &[u8; 8], n: usize) {
        let start = self.len();
        self.extend_from_slice(head);
        self.truncate(start + n);
    }

    #[inline(always)]
    fn put(&mut self, bytes: &[u8]) {
        self.extend_from_slice(bytes);
    }
}

/// The room of a slice not yet written.
struct SliceOut<'a>(&'a mut [u8]);

impl Out for SliceOut<'_> {
    #[inline(always)]
    fn room(&mut self, total: usize, _: usize) -> bool {
        total <= self.0.len()
    }

    #[inline(always)]
    fn head(&mut self, head: &[u8; 8], n: usize) {
        self.put(&head[..n]);
    }

    #[inline(always)]
    fn put(&mut self, bytes: &[u8]) {
        let (dst, rest) = std::mem::take(&mut self.0).split_at_mut(bytes.len());
        dst.copy_from_slice(bytes);
        self.0 = rest;
    }
}

/// Appends the PUBLISH to `out`, or `None` if it breaks a rule listed at the top.
#[inline(always)]
fn encode_publish(p: &Parts, out: &mut impl Out) -> Option<usize> {
    let topic = p.topic.as_bytes();
    let qos = (p.first >> 1) & 0b11;
    if topic.is_empty() || (qos == 0 && p.first & 0b1000 != 0) {
        return None;
    }
    let tail = if p.packet_id.is_some() { 2 } else { 0 } + usize::from(p.v5);
    let body = 2 + topic.len() + tail + p.payload.len();
    if body > 268_435_455 {
        return None;
    }
    // The fixed header and topic length, at most seven bytes.
    let mut head = [0u8; 8];
    head[0] = p.first;
    let mut n = 1;
    let mut rest = body;
    loop {
        let byte = (rest & 0x7F) as u8;
        rest >>= 7;
        head[n] = byte | if rest > 0 { 0x80 } else { 0 };
        n += 1;
        if rest == 0 {
            break;
        }
    }
    head[n..n + 2].copy_from_slice(&(topic.len() as u16).to_be_bytes());
    n += 2;
    let total = n + body - 2;
    if !out.room(total, n) {
        return None;
    }
    out.head(&head, n);
    out.put(topic);
    if let Some(id) = p.packet_id {
        out.put(&id.to_be_bytes());
    }
    if p.v5 {
        out.put(&[0]);
    }
    if !p.payload.is_empty() {
        out.put(&p.payload);
    }
    Some(total)
}

/// The largest packet the decoder takes, compared as mqttwire's decoder compares its
/// maximum packet size (here the protocol's own limit).
const MAX_PACKET_SIZE: usize = 268_435_460;

/// The fixed header's length and the packet's, if the packet is all in `buf`: a Remaining
/// Length of at most four bytes (3.1.1 section 2.2.3, 5.0 section 1.5.5), minimally encoded
/// (no last byte of zero after the first), within the maximum packet size.
#[inline(always)]
fn frame(buf: &[u8]) -> Option<(usize, usize)> {
    let mut len = 0usize;
    for i in 0..4 {
        let byte = *buf.get(1 + i)?;
        len |= usize::from(byte & 0x7F) << (7 * i);
        if byte & 0x80 == 0 {
            let total = 2 + i + len;
            let minimal = i == 0 || byte != 0;
            return (minimal && total <= MAX_PACKET_SIZE && buf.len() >= total)
                .then_some((2 + i, total));
        }
    }
    None
}
