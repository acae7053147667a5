//! The annotated dissection of one MQTT packet's bytes, field by field, shared by the
//! `inspect` example (`--explain`) and the `broker` example (`-d`).
//!
//! It walks the raw bytes itself rather than the decoded packet, so that it shows what was
//! on the wire (property order, short forms) and cross-checks the decoder. It is written
//! for any bytes: every read is bounded, and what cannot be walked is shown as unparsed.

use mqttwire::{PacketType, ProtocolVersion};

/// The data type of a property value (MQTT 5.0 section 2.2.2.2, Table 2-4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ValueType {
    Byte,
    TwoByte,
    FourByte,
    VarInt,
    String,
    Binary,
    StringPair,
}

/// The value type of property `id`; `None` if MQTT 5.0 does not define it.
fn property_type(id: u8) -> Option<ValueType> {
    use ValueType::*;
    Some(match id {
        0x01 | 0x17 | 0x19 | 0x24 | 0x25 | 0x28 | 0x29 | 0x2A => Byte,
        0x13 | 0x21 | 0x22 | 0x23 => TwoByte,
        0x02 | 0x11 | 0x18 | 0x27 => FourByte,
        0x0B => VarInt,
        0x03 | 0x08 | 0x12 | 0x15 | 0x1A | 0x1C | 0x1F => String,
        0x09 | 0x16 => Binary,
        0x26 => StringPair,
        _ => return None,
    })
}

/// One line of a dissection: `len` bytes at `offset`, and what they mean.
pub struct Field {
    /// Where the field starts in the packet.
    pub offset: usize,
    /// How many bytes it takes (0 for a note about something left out).
    pub len: usize,
    /// What the bytes mean.
    pub text: String,
}

/// A bounded walk over one packet's bytes.
struct Walker<'a> {
    frame: &'a [u8],
    pos: usize,
    /// Where reads must stop: the packet's end, a property block's end, or the input's end.
    limit: usize,
    /// Where the Remaining Length says the packet ends (may be past the input's end).
    packet_end: usize,
    version: ProtocolVersion,
    fields: Vec<Field>,
}

/// The dissection of one packet (`frame`, its first byte first) at `version`, as lines
/// indented by two spaces. Any bytes are accepted: a walk that cannot go on says so.
pub fn dissect(frame: &[u8], version: ProtocolVersion) -> Vec<String> {
    render(frame, &walk(frame, version))
}

/// The fields of one packet, in order.
pub fn walk(frame: &[u8], version: ProtocolVersion) -> Vec<Field> {
    let mut w = Walker {
        frame,
        pos: 0,
        limit: frame.len(),
        packet_end: frame.len(),
        version,
        fields: Vec::new(),
    };
    let walked = w.packet();
    if w.pos < w.limit {
        let n = w.limit - w.pos;
        let text = match walked {
            Some(()) => format!("{} after the last field", count(n, "byte")),
            None => format!("unparsed ({})", count(n, "byte")),
        };
        w.field(w.pos, n, text);
    }
    if w.packet_end > frame.len() {
        let missing = w.packet_end - frame.len();
        w.field(
            frame.len(),
            0,
            format!("input ends {} early", count(missing, "byte")),
        );
    }
    w.fields
}

fn render(frame: &[u8], fields: &[Field]) -> Vec<String> {
    const SHOWN: usize = 8;
    let columns: Vec<String> = fields
        .iter()
        .map(|f| {
            let bytes = frame.get(f.offset..f.offset + f.len).unwrap_or_default();
            let mut col = bytes
                .iter()
                .take(SHOWN)
                .map(|b| format!("{b:02x}"))
                .collect::<Vec<_>>()
                .join(" ");
            if bytes.len() > SHOWN {
                col.push_str(" ..");
            }
            col
        })
        .collect();
    let width = columns.iter().map(String::len).max().unwrap_or(0);
    fields
        .iter()
        .zip(columns)
        .map(|(f, col)| format!("  {:04x}  {col:<width$}  {}", f.offset, f.text))
        .collect()
}

/// `n` and the noun, singular or plural.
fn count(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

/// A string's value for a human: quoted and escaped, shortened if long.
fn quoted(bytes: &[u8]) -> String {
    const SHOWN: usize = 64;
    match std::str::from_utf8(bytes) {
        Ok(s) if s.chars().count() > SHOWN => {
            format!(
                "{:?}... ({})",
                s.chars().take(SHOWN).collect::<String>(),
                count(bytes.len(), "byte")
            )
        }
        Ok(s) => format!("{s:?}"),
        Err(_) => format!("<{}, not UTF-8>", count(bytes.len(), "byte")),
    }
}

fn bits8(b: u8) -> String {
    format!("{b:08b}")
}

/// The name of reason code `code` in a packet of `packet_type` (MQTT 5.0 section 2.4).
fn reason(code: u8, packet_type: PacketType) -> String {
    let name = match (packet_type, code) {
        // 0x00 has a different name in these packets.
        (PacketType::Disconnect, 0x00) => "Normal disconnection",
        (PacketType::SubAck, 0x00) => "Granted QoS 0",
        _ => mqttwire::ReasonCode(code).name(),
    };
    format!("0x{code:02x} {name}")
}

impl Walker<'_> {
    fn field(&mut self, offset: usize, len: usize, text: String) {
        self.fields.push(Field { offset, len, text });
    }

    /// A line for something the packet leaves out (a short form), at the current offset.
    fn note(&mut self, text: &str) {
        self.field(self.pos, 0, text.to_owned());
    }

    fn remaining(&self) -> usize {
        self.limit.saturating_sub(self.pos)
    }

    fn at_packet_end(&self) -> bool {
        self.pos >= self.packet_end
    }

    /// The next `n` bytes, consumed; `None` (consuming nothing) if they are not all there.
    fn take(&mut self, n: usize) -> Option<&[u8]> {
        if n > self.remaining() {
            return None;
        }
        let start = self.pos;
        self.pos += n;
        self.frame.get(start..start + n)
    }

    fn u8_raw(&mut self) -> Option<u8> {
        self.take(1)?.first().copied()
    }

    fn u16_raw(&mut self) -> Option<u16> {
        let b = self.take(2)?;
        Some(u16::from_be_bytes([*b.first()?, *b.get(1)?]))
    }

    fn u32_raw(&mut self) -> Option<u32> {
        let b = self.take(4)?;
        Some(u32::from_be_bytes([
            *b.first()?,
            *b.get(1)?,
            *b.get(2)?,
            *b.get(3)?,
        ]))
    }

    /// A Variable Byte Integer of at most four bytes (MQTT 5.0 section 1.5.5).
    fn varint_raw(&mut self) -> Option<u32> {
        let start = self.pos;
        let mut value = 0u32;
        for i in 0..4 {
            let Some(b) = self.u8_raw() else {
                self.pos = start;
                return None;
            };
            value |= u32::from(b & 0x7F) << (7 * i);
            if b & 0x80 == 0 {
                return Some(value);
            }
        }
        self.pos = start;
        None
    }

    /// A two-byte length and that many bytes.
    fn prefixed_raw(&mut self) -> Option<&[u8]> {
        let start = self.pos;
        let len = usize::from(self.u16_raw()?);
        if len > self.remaining() {
            self.pos = start;
            return None;
        }
        self.take(len)
    }

    fn byte(&mut self, text: impl FnOnce(u8) -> String) -> Option<u8> {
        let start = self.pos;
        let b = self.u8_raw()?;
        self.field(start, 1, text(b));
        Some(b)
    }

    fn two_byte(&mut self, label: &str) -> Option<u16> {
        let start = self.pos;
        let v = self.u16_raw()?;
        self.field(start, 2, format!("{label}: {v}"));
        Some(v)
    }

    fn string(&mut self, label: &str) -> Option<()> {
        let start = self.pos;
        let text = format!("{label}: {}", quoted(self.prefixed_raw()?));
        self.field(start, self.pos - start, text);
        Some(())
    }

    fn binary(&mut self, label: &str) -> Option<()> {
        let start = self.pos;
        let n = self.prefixed_raw()?.len();
        self.field(
            start,
            self.pos - start,
            format!("{label} ({})", count(n, "byte")),
        );
        Some(())
    }

    fn packet_id(&mut self) -> Option<u16> {
        self.two_byte("packet identifier")
    }

    /// The fixed header, then the rest by packet type.
    fn packet(&mut self) -> Option<()> {
        let first = self.u8_raw()?;
        let (bits, flags) = (first >> 4, first & 0x0F);
        let Some(packet_type) = PacketType::from_bits(bits) else {
            self.field(
                0,
                1,
                format!("fixed header: reserved packet type 0, flags {flags:04b}"),
            );
            return None;
        };
        let meaning = match packet_type {
            PacketType::Publish => format!(
                "DUP {}, QoS {}, RETAIN {}",
                flags >> 3,
                (flags >> 1) & 0b11,
                flags & 1
            ),
            _ => "reserved".to_owned(),
        };
        self.field(
            0,
            1,
            format!(
                "fixed header: {}, flags {flags:04b} ({meaning})",
                packet_type.name()
            ),
        );
        let Some(remaining_len) = self.varint_raw() else {
            self.note("remaining length: cut short or longer than 4 bytes");
            return None;
        };
        self.field(
            1,
            self.pos - 1,
            format!("remaining length: {remaining_len}"),
        );
        self.packet_end = self.pos + remaining_len as usize;
        self.limit = self.packet_end.min(self.frame.len());
        match packet_type {
            PacketType::Connect => self.connect(),
            PacketType::ConnAck => self.connack(),
            PacketType::Publish => self.publish(flags),
            PacketType::PubAck | PacketType::PubRec | PacketType::PubRel | PacketType::PubComp => {
                self.ack(packet_type)
            }
            PacketType::Subscribe => self.subscribe(),
            PacketType::SubAck | PacketType::UnsubAck => self.sub_unsub_ack(packet_type),
            PacketType::Unsubscribe => self.unsubscribe(),
            PacketType::PingReq | PacketType::PingResp => Some(()),
            PacketType::Disconnect | PacketType::Auth => self.disconnect_or_auth(packet_type),
        }
    }

    /// A Property Length and the properties it covers (MQTT 5.0 section 2.2.2).
    fn properties(&mut self, label: &str) -> Option<()> {
        let start = self.pos;
        let len = self.varint_raw()? as usize;
        if len > self.remaining() {
            self.pos = start;
            return None;
        }
        self.field(start, self.pos - start, format!("{label} length: {len}"));
        let outer = self.limit;
        self.limit = self.pos + len;
        while self.pos < self.limit {
            if self.property().is_none() {
                let n = self.limit - self.pos;
                self.field(
                    self.pos,
                    n,
                    format!("unparsed property ({})", count(n, "byte")),
                );
                self.pos = self.limit;
            }
        }
        self.limit = outer;
        Some(())
    }

    /// One property; `None`, consuming nothing, if it is unknown or runs past its block.
    fn property(&mut self) -> Option<()> {
        let start = self.pos;
        let value = self
            .u8_raw()
            .and_then(|id| Some((id, self.property_value(id)?)));
        let Some((id, value)) = value else {
            self.pos = start;
            return None;
        };
        let name = mqttwire::properties::name(id);
        self.field(
            start,
            self.pos - start,
            format!("property 0x{id:02x} {name}{value}"),
        );
        Some(())
    }

    /// The value of property `id`, as text to follow its name.
    fn property_value(&mut self, id: u8) -> Option<String> {
        Some(match property_type(id)? {
            ValueType::Byte => format!(": {}", self.u8_raw()?),
            ValueType::TwoByte => format!(": {}", self.u16_raw()?),
            ValueType::FourByte => format!(": {}", self.u32_raw()?),
            ValueType::VarInt => format!(": {}", self.varint_raw()?),
            ValueType::String => format!(": {}", quoted(self.prefixed_raw()?)),
            ValueType::Binary => format!(" ({})", count(self.prefixed_raw()?.len(), "byte")),
            ValueType::StringPair => {
                let key = quoted(self.prefixed_raw()?);
                format!(": {key} = {}", quoted(self.prefixed_raw()?))
            }
        })
    }

    /// MQTT 5.0 section 3.1; 3.1.1 section 3.1; 3.1 section 3.1.
    fn connect(&mut self) -> Option<()> {
        let v5 = self.version.is_v5();
        self.string("protocol name")?;
        self.byte(|level| match ProtocolVersion::from_level(level) {
            Some(v) => format!("protocol level: {level} ({v})"),
            None => format!("protocol level: {level} (unknown)"),
        })?;
        let flags = self.byte(|f| {
            format!(
                "connect flags: {} (user name {}, password {}, will retain {}, will QoS {}, \
                 will flag {}, {} {}, reserved {})",
                bits8(f),
                f >> 7,
                (f >> 6) & 1,
                (f >> 5) & 1,
                (f >> 3) & 0b11,
                (f >> 2) & 1,
                if v5 { "clean start" } else { "clean session" },
                (f >> 1) & 1,
                f & 1
            )
        })?;
        let keep_alive = self.u16_raw()?;
        self.field(self.pos - 2, 2, format!("keep alive: {keep_alive} seconds"));
        if v5 {
            self.properties("property")?;
        }
        self.string("client identifier")?;
        if flags & 0x04 != 0 {
            if v5 {
                self.properties("will property")?;
            }
            self.string("will topic")?;
            self.binary("will payload")?;
        }
        if flags & 0x80 != 0 {
            self.string("user name")?;
        }
        if flags & 0x40 != 0 {
            self.binary("password")?;
        }
        Some(())
    }

    /// MQTT 5.0 section 3.2; 3.1.1 section 3.2.
    fn connack(&mut self) -> Option<()> {
        self.byte(|f| {
            format!(
                "acknowledge flags: {} (session present {})",
                bits8(f),
                f & 1
            )
        })?;
        if self.version.is_v5() {
            self.byte(|c| format!("reason code: {}", reason(c, PacketType::ConnAck)))?;
            self.properties("property")?;
        } else {
            self.byte(|c| {
                let meaning = match c {
                    0 => "Connection Accepted",
                    1 => "Connection Refused, unacceptable protocol version",
                    2 => "Connection Refused, identifier rejected",
                    3 => "Connection Refused, Server unavailable",
                    4 => "Connection Refused, bad user name or password",
                    5 => "Connection Refused, not authorized",
                    _ => "reserved",
                };
                format!("return code: {c} ({meaning})")
            })?;
        }
        Some(())
    }

    /// MQTT 5.0 section 3.3; 3.1.1 section 3.3.
    fn publish(&mut self, flags: u8) -> Option<()> {
        self.string("topic name")?;
        if (flags >> 1) & 0b11 != 0 {
            self.packet_id()?;
        }
        if self.version.is_v5() {
            self.properties("property")?;
        }
        let n = self.remaining();
        self.field(self.pos, n, format!("payload ({})", count(n, "byte")));
        self.pos += n;
        Some(())
    }

    /// PUBACK, PUBREC, PUBREL and PUBCOMP: MQTT 5.0 sections 3.4 to 3.7, where a Remaining
    /// Length of 2 leaves out the reason code (Success) and one below 4 the properties.
    fn ack(&mut self, packet_type: PacketType) -> Option<()> {
        self.packet_id()?;
        if !self.version.is_v5() {
            return Some(());
        }
        if self.at_packet_end() {
            self.note("reason code omitted, meaning 0x00 Success");
            return Some(());
        }
        self.byte(|c| format!("reason code: {}", reason(c, packet_type)))?;
        if self.at_packet_end() {
            self.note("properties omitted, meaning none");
            return Some(());
        }
        self.properties("property")
    }

    /// MQTT 5.0 section 3.8; 3.1.1 section 3.8.
    fn subscribe(&mut self) -> Option<()> {
        let v5 = self.version.is_v5();
        self.packet_id()?;
        if v5 {
            self.properties("property")?;
        }
        while self.remaining() > 0 {
            self.string("topic filter")?;
            self.byte(|o| {
                let meaning = if v5 {
                    format!(
                        "QoS {}, no local {}, retain as published {}, retain handling {}",
                        o & 0b11,
                        (o >> 2) & 1,
                        (o >> 3) & 1,
                        (o >> 4) & 0b11
                    )
                } else {
                    format!("QoS {}", o & 0b11)
                };
                format!("subscription options: {} ({meaning})", bits8(o))
            })?;
        }
        Some(())
    }

    /// SUBACK (MQTT 5.0 section 3.9) and UNSUBACK (section 3.11): one reason code per
    /// topic filter; a 3.1.1 UNSUBACK has none.
    fn sub_unsub_ack(&mut self, packet_type: PacketType) -> Option<()> {
        let v5 = self.version.is_v5();
        self.packet_id()?;
        if v5 {
            self.properties("property")?;
        } else if packet_type == PacketType::UnsubAck {
            return Some(());
        }
        while self.remaining() > 0 {
            self.byte(|c| match (v5, c) {
                (true, _) => format!("reason code: {}", reason(c, packet_type)),
                (false, 0..=2) => format!("return code: 0x{c:02x} (Success - Maximum QoS {c})"),
                (false, 0x80) => "return code: 0x80 (Failure)".to_owned(),
                (false, _) => format!("return code: 0x{c:02x} (reserved)"),
            })?;
        }
        Some(())
    }

    /// MQTT 5.0 section 3.10; 3.1.1 section 3.10.
    fn unsubscribe(&mut self) -> Option<()> {
        self.packet_id()?;
        if self.version.is_v5() {
            self.properties("property")?;
        }
        while self.remaining() > 0 {
            self.string("topic filter")?;
        }
        Some(())
    }

    /// DISCONNECT (MQTT 5.0 section 3.14) and AUTH (section 3.15): a Remaining Length of 0
    /// leaves out the reason code, and one of 1 the properties. Empty in 3.1.1.
    fn disconnect_or_auth(&mut self, packet_type: PacketType) -> Option<()> {
        if !self.version.is_v5() {
            return Some(());
        }
        if self.at_packet_end() {
            let meaning = reason(0, packet_type);
            self.field(
                self.pos,
                0,
                format!("reason code omitted, meaning {meaning}"),
            );
            return Some(());
        }
        self.byte(|c| format!("reason code: {}", reason(c, packet_type)))?;
        if self.at_packet_end() {
            self.note("properties omitted, meaning none");
            return Some(());
        }
        self.properties("property")
    }
}

/// The size of the packet at the start of `buf`, fixed header included, from its Remaining
/// Length (MQTT 5.0 section 2.1.4); `None` while that is cut short or longer than 4 bytes.
// The broker copies a received packet's bytes with it before decoding; `inspect` has the
// whole packet already.
#[allow(dead_code)]
pub fn frame_len(buf: &[u8]) -> Option<usize> {
    let mut remaining = 0;
    for (i, &b) in buf.iter().skip(1).take(4).enumerate() {
        remaining |= usize::from(b & 0x7F) << (7 * i);
        if b & 0x80 == 0 {
            return Some(2 + i + remaining);
        }
    }
    None
}
