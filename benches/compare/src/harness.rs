//! What every codec shares: the job a case becomes, the receive buffers, the framing
//! helper, and the summaries that check a codec decoded (or encoded) the right thing.

use bytes::{Bytes, BytesMut};
use mqttwire::{Packet, ProtocolVersion};
use std::hint::black_box;

/// One case for one codec, ready to run.
pub trait Job {
    /// Puts the input back (a refilled receive buffer). Never measured.
    fn setup(&mut self);
    /// One measured batch of [`Spec::packets_per_run`] packets.
    fn run(&mut self);
}

struct FnJob<S, A, R> {
    state: S,
    setup: A,
    run: R,
}

impl<S, A: FnMut(&mut S), R: FnMut(&mut S)> Job for FnJob<S, A, R> {
    fn setup(&mut self) {
        (self.setup)(&mut self.state)
    }
    fn run(&mut self) {
        (self.run)(&mut self.state)
    }
}

/// A job from its state, its (unmeasured) setup and its (measured) batch.
pub fn job<S: 'static>(
    state: S,
    setup: impl FnMut(&mut S) + 'static,
    run: impl FnMut(&mut S) + 'static,
) -> Box<dyn Job> {
    Box::new(FnJob { state, setup, run })
}

/// A runnable case: the job, how many packets one batch handles, and the bytes per packet
/// (for MB/s).
pub struct Spec {
    pub job: Box<dyn Job>,
    pub packets_per_run: u64,
    pub bytes_per_packet: f64,
    /// Something the reader should know about this cell (shown under the tables).
    pub note: Option<String>,
}

/// Why a codec has no number for a case.
pub type NotApplicable = String;

/// Packets per batch for a packet of `len` bytes: batches of about 512 KiB of input, at
/// least 8 and at most 1000 packets.
pub fn batch_for(len: usize) -> usize {
    ((512 * 1024) / len.max(1)).clamp(8, 1000)
}

/// A receive buffer holding `copies` back-to-back copies of a packet (or one copy of a
/// stream), for decoders that consume a `BytesMut`. [`Refill::reset`] puts the content back
/// without copying it: once every packet decoded from it is dropped, the buffer is the only
/// owner of its allocation again, `try_reclaim` moves it back to the start, and the bytes
/// there are still the ones written at creation (decoders only read them). If the
/// allocation cannot be reclaimed, the content is copied in again.
/// Spare capacity at the end of every receive buffer, as a real one has (decoders such as
/// rmqtt-codec's `reserve` a few bytes after each packet, which copies the rest of an
/// exactly-sized buffer).
pub const SLACK: usize = 4096;

pub struct Refill {
    pub buf: BytesMut,
    content: Bytes,
    base: *const u8,
}

impl Refill {
    pub fn new(one: &[u8], copies: usize) -> Self {
        let mut buf = BytesMut::with_capacity(one.len() * copies + SLACK);
        for _ in 0..copies {
            buf.extend_from_slice(one);
        }
        let content = Bytes::copy_from_slice(&buf);
        let base = buf.as_ptr();
        Refill { buf, content, base }
    }

    pub fn reset(&mut self) {
        let len = self.content.len();
        if self.buf.as_ptr() == self.base && self.buf.len() == len {
            return;
        }
        self.buf.clear();
        if self.buf.try_reclaim(len) && self.buf.as_ptr() == self.base {
            // SAFETY: the allocation is the one filled in `new` (same base pointer), at
            // least `len` bytes long, initialised then and only read since.
            unsafe { self.buf.set_len(len) };
        } else {
            self.buf = BytesMut::with_capacity(len + SLACK);
            self.buf.extend_from_slice(&self.content);
            self.base = self.buf.as_ptr();
        }
    }

    /// The reset buffer holds exactly the original content (checked once per job).
    pub fn check(&mut self) {
        self.reset();
        assert_eq!(
            &self.buf[..],
            &self.content[..],
            "Refill::reset restored other bytes"
        );
    }
}

/// `(fixed header length, total length)` of the first frame of `buf`, if it is complete.
/// The framing the harness does for codecs that have no stream decoder (mqttrs,
/// mqtt-protocol-core); the same loop as the floor's.
#[inline(always)]
pub fn frame(buf: &[u8]) -> Option<(usize, usize)> {
    let mut len = 0usize;
    for i in 0..4 {
        let byte = *buf.get(1 + i)?;
        len |= usize::from(byte & 0x7F) << (7 * i);
        if byte & 0x80 == 0 {
            let total = 2 + i + len;
            return (buf.len() >= total).then_some((2 + i, total));
        }
    }
    panic!("malformed Remaining Length")
}

/// The bare cost of framing, as in benches/codec.rs: the Remaining Length read and the
/// frame split off, nothing decoded.
#[inline(always)]
pub fn frame_only(rx: &mut BytesMut) -> Option<Bytes> {
    let mut len = 0usize;
    for i in 0..4 {
        let byte = *rx.get(1 + i)?;
        len |= usize::from(byte & 0x7F) << (7 * i);
        if byte & 0x80 == 0 {
            let total = 2 + i + len;
            return (rx.len() >= total).then(|| rx.split_to(total).freeze());
        }
    }
    None
}

/// What a decoded packet must contain, the same for every codec: enough to tell that the
/// codec decoded the workload rather than failed or skipped part of it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Summary {
    pub kind: &'static str,
    /// PUBLISH: the topic; CONNECT: the will topic.
    pub topic: String,
    /// PUBLISH: payload length; CONNECT: will payload length.
    pub payload_len: usize,
    /// Packet identifier, 0 if none.
    pub pid: u16,
    /// CONNECT: client identifier; CONNACK: assigned client identifier.
    pub id: String,
    /// MQTT 5.0 User Properties (CONNECT, CONNACK, PUBLISH), or SUBSCRIBE's filter count.
    pub count: usize,
    /// CONNECT: user name; PUBLISH: content type.
    pub text: String,
}

impl Summary {
    pub fn new(kind: &'static str) -> Self {
        Summary {
            kind,
            ..Default::default()
        }
    }

    /// The summary of mqttwire's packet, the reference every codec is checked against.
    pub fn of(packet: &Packet, version: ProtocolVersion) -> Self {
        let v5 = version.is_v5();
        match packet {
            Packet::Publish(p) => Summary {
                topic: p.topic.as_str().to_owned(),
                payload_len: p.payload.len(),
                pid: p.qos.packet_id().map_or(0, |id| id.get()),
                count: if v5 {
                    p.properties.user_properties().len()
                } else {
                    0
                },
                text: if v5 {
                    p.properties
                        .content_type()
                        .as_ref()
                        .map_or(String::new(), |s| s.as_str().to_owned())
                } else {
                    String::new()
                },
                ..Summary::new("publish")
            },
            Packet::Connect(c) => Summary {
                topic: c
                    .will
                    .as_ref()
                    .map_or(String::new(), |w| w.topic.as_str().to_owned()),
                payload_len: c.will.as_ref().map_or(0, |w| w.payload.len()),
                id: c.client_id.as_str().to_owned(),
                count: if v5 {
                    c.properties.user_properties().len()
                } else {
                    0
                },
                text: c
                    .user_name
                    .as_ref()
                    .map_or(String::new(), |s| s.as_str().to_owned()),
                ..Summary::new("connect")
            },
            Packet::ConnAck(c) => Summary {
                id: c
                    .properties
                    .assigned_client_identifier()
                    .as_ref()
                    .map_or(String::new(), |s| s.as_str().to_owned()),
                count: if v5 {
                    c.properties.user_properties().len()
                } else {
                    0
                },
                ..Summary::new("connack")
            },
            Packet::PubAck(a) => Summary {
                pid: a.packet_id.get(),
                ..Summary::new("puback")
            },
            Packet::Subscribe(s) => Summary {
                pid: s.packet_id.get(),
                count: s.subscriptions.len(),
                ..Summary::new("subscribe")
            },
            Packet::PingReq => Summary::new("pingreq"),
            Packet::Disconnect(_) => Summary::new("disconnect"),
            other => panic!("no summary for {other:?}"),
        }
    }
}

/// Checks a codec's summaries of the workload against mqttwire's.
pub fn check_summaries(codec: &str, got: &[Summary], want: &[Summary]) -> Result<(), String> {
    if got.len() != want.len() {
        return Err(format!(
            "{codec} decoded {} packets, expected {}",
            got.len(),
            want.len()
        ));
    }
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        if g != w {
            return Err(format!("{codec} packet #{i}: got {g:?}, expected {w:?}"));
        }
    }
    Ok(())
}

/// Checks that a codec's own encoding of the case's packet means the same packet: mqttwire
/// decodes it back and compares. Returns a note when it differs (the encoding is still
/// measured, and the note says how it differs).
pub fn check_encoding(
    codec: &str,
    encoded: &[u8],
    want: &Packet,
    version: ProtocolVersion,
) -> Result<Option<String>, String> {
    let (got, used) = Packet::decode(&Bytes::copy_from_slice(encoded), version)
        .map_err(|e| format!("{codec}'s encoding does not decode: {e}"))?;
    if used != encoded.len() {
        return Err(format!(
            "{codec} wrote {} bytes, the packet has {used}",
            encoded.len()
        ));
    }
    if &got == want {
        Ok(None)
    } else {
        Ok(Some(format!(
            "{codec} encodes a different packet: {}",
            diff(&format!("{want:?}"), &format!("{got:?}"))
        )))
    }
}

/// Checks that a codec's encoding of a whole stream means the same packets: mqttwire
/// decodes it back packet by packet and compares each with the fixture's, as
/// [`check_encoding`] does for one packet. Returns a note when some packets differ (the
/// encoding is still measured): for each packet type that differs, how many of its packets
/// do and how the first one differs.
pub fn check_stream_encoding(
    codec: &str,
    encoded: &[u8],
    want: &[Packet],
    version: ProtocolVersion,
) -> Result<Option<String>, String> {
    let bytes = Bytes::copy_from_slice(encoded);
    let mut at = 0;
    // Per packet type, in order of first appearance: (kind, differing, of that kind, diff).
    let mut differs: Vec<(&'static str, usize, usize, String)> = Vec::new();
    for (i, w) in want.iter().enumerate() {
        let kind = Summary::of(w, version).kind;
        if at == bytes.len() {
            return Err(format!(
                "{codec} wrote {i} of the stream's {} packets",
                want.len()
            ));
        }
        let (got, used) = Packet::decode(&bytes.slice(at..), version).map_err(|e| {
            format!(
                "{codec}'s encoding of the stream's packet #{} (a {kind}) does not decode: {e}",
                i + 1
            )
        })?;
        at += used;
        let entry = match differs.iter().position(|d| d.0 == kind) {
            Some(k) => &mut differs[k],
            None => {
                differs.push((kind, 0, 0, String::new()));
                differs.last_mut().unwrap()
            }
        };
        entry.2 += 1;
        if &got != w {
            if entry.1 == 0 {
                entry.3 = diff(&format!("{w:?}"), &format!("{got:?}"));
            }
            entry.1 += 1;
        }
    }
    if at != bytes.len() {
        return Err(format!(
            "{codec} wrote {} bytes after the stream's {} packets",
            bytes.len() - at,
            want.len()
        ));
    }
    let notes: Vec<String> = differs
        .iter()
        .filter(|d| d.1 > 0)
        .map(|(kind, n, of, d)| format!("{kind} ({n} of {of} differ): {d}"))
        .collect();
    Ok((!notes.is_empty()).then(|| {
        format!(
            "{codec} encodes different packets in the stream: {}",
            notes.join("; ")
        )
    }))
}

/// The first place two debug strings differ, with some context.
fn diff(want: &str, got: &str) -> String {
    let at = want
        .bytes()
        .zip(got.bytes())
        .position(|(a, b)| a != b)
        .unwrap_or(want.len().min(got.len()));
    let start = want[..at].rfind([',', '{']).unwrap_or(0);
    let w_end = (at + 60).min(want.len());
    let g_end = (at + 60).min(got.len());
    format!(
        "expected `…{}…`, got `…{}…`",
        &want[start..w_end],
        &got[start.min(got.len())..g_end]
    )
}

/// Decodes back-to-back copies of `bytes` from a receive buffer with `fast`, which decodes
/// one packet and drops it (through `black_box`); `next` is the same decoder handing the
/// packet's summary to its sink, for the check before measuring. The generic single-packet decode
/// job for codecs whose decoder consumes a `BytesMut`.
pub fn bytesmut_decode_job<D: 'static>(
    codec: &str,
    bytes: &Bytes,
    want: Summary,
    mut state: D,
    next: fn(&mut D, &mut BytesMut, &mut dyn FnMut(Summary)) -> bool,
    fast: impl Fn(&mut D, &mut BytesMut) -> bool + 'static,
) -> Result<Spec, NotApplicable> {
    // Verification, not measured: one packet, through the same decoder.
    let mut check = Refill::new(bytes, 1);
    let mut got = Vec::new();
    if !next(&mut state, &mut check.buf, &mut |s| got.push(s)) {
        return Err(format!("{codec}: incomplete on a whole packet"));
    }
    check_summaries(codec, &got, &[want])?;
    if !check.buf.is_empty() {
        return Err(format!("{codec} left {} bytes", check.buf.len()));
    }
    let k = batch_for(bytes.len());
    let mut refill = Refill::new(bytes, k);
    refill.check();
    Ok(Spec {
        job: job(
            (state, refill),
            |(_, r)| r.reset(),
            move |(d, r)| {
                for _ in 0..k {
                    assert!(fast(d, &mut r.buf));
                }
            },
        ),
        packets_per_run: k as u64,
        bytes_per_packet: bytes.len() as f64,
        note: None,
    })
}

/// The message of a caught panic.
pub fn panic_message(payload: Box<dyn std::any::Any + Send>) -> String {
    payload
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_else(|| "panicked".into())
}

/// Decodes `stream` (whole, or in 7-byte chunks) with `next` and compares with `want`.
/// On failure: the index of the packet it failed at, and why.
fn verify_stream<D: Clone>(
    codec: &str,
    stream: &Bytes,
    want: &[Summary],
    state: &D,
    next: fn(&mut D, &mut BytesMut, &mut dyn FnMut(Summary)) -> bool,
    chunked: bool,
) -> Result<(), (usize, String)> {
    let mut got = Vec::new();
    let mut d = state.clone();
    let mut rx = BytesMut::with_capacity(stream.len() + SLACK);
    let run = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        if chunked {
            for chunk in stream.chunks(7) {
                rx.extend_from_slice(chunk);
                while next(&mut d, &mut rx, &mut |s| got.push(s)) {}
            }
        } else {
            rx.extend_from_slice(stream);
            while next(&mut d, &mut rx, &mut |s| got.push(s)) {}
        }
    }));
    if let Err(payload) = run {
        return Err((got.len(), panic_message(payload)));
    }
    if !rx.is_empty() {
        return Err((
            got.len(),
            format!("{codec} left {} bytes of the stream", rx.len()),
        ));
    }
    check_summaries(codec, &got, want).map_err(|e| (got.len().min(want.len()), e))
}

/// Checks a codec on a stream. A codec that rejects only the stream's last packet is
/// measured on the stream without it, with a note; any other failure is not applicable.
fn stream_input<D: Clone>(
    codec: &str,
    stream: &Bytes,
    want: &[Summary],
    state: &D,
    next: fn(&mut D, &mut BytesMut, &mut dyn FnMut(Summary)) -> bool,
    chunked: bool,
) -> Result<(Bytes, usize, Option<String>), NotApplicable> {
    match verify_stream(codec, stream, want, state, next, chunked) {
        Ok(()) => Ok((stream.clone(), want.len(), None)),
        Err((i, why)) if i + 1 == want.len() && i > 0 => {
            let mut at = 0;
            for _ in 0..i {
                at += frame(&stream[at..]).unwrap().1;
            }
            let shorter = stream.slice(..at);
            verify_stream(codec, &shorter, &want[..i], state, next, chunked).map_err(|(_, e)| e)?;
            Ok((
                shorter,
                i,
                Some(format!(
                    "{codec} rejects the stream's last packet, a {} ({:02X?}, valid MQTT): {why}; \
                     measured on the first {i} of {} packets",
                    want[i].kind,
                    &stream[at..],
                    want.len()
                )),
            ))
        }
        Err((i, why)) => Err(format!(
            "{codec} fails on packet #{} of {} (a {}): {why}",
            i + 1,
            want.len(),
            want.get(i).map_or("?", |w| w.kind)
        )),
    }
}

/// Decodes a whole stream from one receive buffer, packet by packet, with `fast`.
pub fn stream_decode_job<D: Clone + 'static>(
    codec: &str,
    stream: &Bytes,
    want: &[Summary],
    state: D,
    next: fn(&mut D, &mut BytesMut, &mut dyn FnMut(Summary)) -> bool,
    fast: impl Fn(&mut D, &mut BytesMut) -> bool + 'static,
) -> Result<Spec, NotApplicable> {
    let (stream, n, note) = stream_input(codec, stream, want, &state, next, false)?;
    let mut refill = Refill::new(&stream, 1);
    refill.check();
    Ok(Spec {
        job: job(
            (state, refill),
            |(_, r)| r.reset(),
            move |(d0, r)| {
                // A fresh decoder per connection, as in benches/codec.rs.
                let mut d = d0.clone();
                let mut count = 0;
                while fast(&mut d, &mut r.buf) {
                    count += 1;
                }
                assert_eq!(count, n);
            },
        ),
        packets_per_run: n as u64,
        bytes_per_packet: stream.len() as f64 / n as f64,
        note,
    })
}

/// The same stream arriving in 7-byte chunks: each chunk is appended to the receive
/// buffer and every complete packet decoded with `fast`.
pub fn chunked_decode_job<D: Clone + 'static>(
    codec: &str,
    stream: &Bytes,
    want: &[Summary],
    state: D,
    next: fn(&mut D, &mut BytesMut, &mut dyn FnMut(Summary)) -> bool,
    fast: impl Fn(&mut D, &mut BytesMut) -> bool + 'static,
) -> Result<Spec, NotApplicable> {
    let (stream, n, note) = stream_input(codec, stream, want, &state, next, true)?;
    let bytes_per_packet = stream.len() as f64 / n as f64;
    Ok(Spec {
        job: job(
            (state, BytesMut::with_capacity(stream.len() + SLACK)),
            |_| {},
            move |(d0, rx)| {
                let mut d = d0.clone();
                let mut count = 0;
                for chunk in stream.chunks(7) {
                    rx.extend_from_slice(chunk);
                    while fast(&mut d, rx) {
                        count += 1;
                    }
                }
                assert_eq!(count, n);
            },
        ),
        packets_per_run: n as u64,
        bytes_per_packet,
        note,
    })
}

/// Encodes `packet` into a reused output buffer `k` times per batch.
pub fn encode_job<P: 'static, B: 'static>(
    codec: &str,
    want: &Packet,
    version: ProtocolVersion,
    packet: P,
    mut out: B,
    encode: impl Fn(&mut P, &mut B) -> usize + 'static,
    written: fn(&B, usize) -> &[u8],
) -> Result<Spec, NotApplicable> {
    let mut packet = packet;
    let n = encode(&mut packet, &mut out);
    let note = check_encoding(codec, written(&out, n), want, version)?;
    let k = batch_for(n);
    Ok(Spec {
        job: job(
            (packet, out),
            |_| {},
            move |(p, out)| {
                for _ in 0..k {
                    black_box(encode(black_box(&mut *p), out));
                }
            },
        ),
        packets_per_run: k as u64,
        bytes_per_packet: n as f64,
        note,
    })
}

/// Encodes every packet of a stream back to back into a reused output buffer, cleared
/// (`clear`) at the start of each batch. `encode` writes one packet at offset `at` of the
/// output (an appending writer ignores it) and returns where the packet ends; `written`
/// gives the first `n` bytes of the output. The packets are the codec's own, converted once
/// from the fixture's `want`; before measuring, mqttwire decodes the stream back and
/// compares ([`check_stream_encoding`]).
#[allow(clippy::too_many_arguments)]
pub fn encode_stream_job<P: 'static, B: 'static>(
    codec: &str,
    want: &[Packet],
    version: ProtocolVersion,
    packets: Vec<P>,
    out: B,
    clear: fn(&mut B),
    encode: impl Fn(&mut P, &mut B, usize) -> usize + 'static,
    written: fn(&B, usize) -> &[u8],
) -> Result<Spec, NotApplicable> {
    assert_eq!(packets.len(), want.len());
    let (mut packets, mut out) = (packets, out);
    let run = move |packets: &mut Vec<P>, out: &mut B| {
        clear(out);
        let mut at = 0;
        for p in packets.iter_mut() {
            at = encode(black_box(p), out, at);
        }
        black_box(at)
    };
    let n = run(&mut packets, &mut out);
    let note = check_stream_encoding(codec, written(&out, n), want, version)?;
    let count = want.len();
    Ok(Spec {
        job: job(
            (packets, out),
            |_| {},
            move |(packets, out)| {
                run(packets, out);
            },
        ),
        packets_per_run: count as u64,
        bytes_per_packet: n as f64 / count as f64,
        note,
    })
}
