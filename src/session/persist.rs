//! Saving a [`SessionState`] to bytes and restoring it, so that unacknowledged messages
//! and the exactly-once memory survive a process restart.
//!
//! # Format (version 1)
//!
//! All integers are big-endian.
//!
//! | bytes | field |
//! |---|---|
//! | 4 | magic `MQSS` |
//! | 1 | format version, 1 |
//! | 8 | length of the records that follow |
//! | n | records |
//! | 4 | CRC-32 (IEEE 802.3, as zlib computes it) of everything before it |
//!
//! Each record starts with its kind:
//!
//! - `0x01`, a QoS 2 message of ours past PUBREC, awaiting PUBCOMP: its packet identifier
//!   (2 bytes) and a flags byte (bit 0: the application was already told it was dropped).
//!   In the order the PUBRECs arrived.
//! - `0x02`, a QoS 1 or 2 message of ours awaiting PUBACK or PUBREC: a flags byte (bit 0:
//!   sent before, so a resend carries DUP) and the PUBLISH packet itself in its MQTT 5.0
//!   encoding, which holds its QoS and packet identifier. In publish order.
//! - `0x03`, a QoS 2 message received and awaiting its PUBREL: its packet identifier and a
//!   flags byte (bit 0: the application acknowledged it).
//!
//! Flag bits not listed are 0. A restore checks everything (the checksum first, then each
//! record, each PUBLISH with the codec's full validation, no identifier twice) and yields
//! the whole state or an error, never part of one.

use super::outgoing::{List, Stage};
use super::state::{SessionState, ACKED, RECEIVED};
use crate::error::{DecodeError, EncodeError};
use crate::packet::{encoded_len_of, Packet, Publish};
use crate::types::{ProtocolVersion, QosPid};
use bytes::{BufMut, Bytes, BytesMut};

const MAGIC: &[u8; 4] = b"MQSS";
const FORMAT: u8 = 1;
const HEADER: usize = 4 + 1 + 8;
const CRC: usize = 4;

const RELEASED: u8 = 0x01;
const PUBLISH: u8 = 0x02;
const INCOMING: u8 = 0x03;

/// Why saved session bytes could not be restored. Nothing was restored.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RestoreError {
    /// The bytes do not start with the format's magic number: not a saved session.
    #[error("not a saved mqttwire session (no MQSS magic number)")]
    NotASession,
    /// Saved by a newer format version than this crate reads.
    #[error("saved session format version {0} is not supported (this crate reads 1)")]
    UnsupportedFormat(u8),
    /// The bytes end before the saved session does.
    #[error("saved session truncated: {expected} bytes expected, {actual} present")]
    Truncated {
        /// The size the header announces.
        expected: u64,
        /// The bytes given.
        actual: usize,
    },
    /// Bytes follow the saved session.
    #[error("{0} unexpected bytes after the saved session")]
    TrailingBytes(usize),
    /// The checksum does not match: the bytes were changed after saving.
    #[error("saved session corrupted: checksum mismatch")]
    ChecksumMismatch,
    /// A record is invalid (found only in bytes not written by [`SessionState::save`]).
    #[error("invalid saved session record at byte {offset}: {what}")]
    InvalidRecord {
        /// Where the record starts.
        offset: usize,
        /// What is wrong with it.
        what: &'static str,
    },
    /// A saved PUBLISH does not decode.
    #[error("invalid saved PUBLISH at byte {offset}: {error}")]
    InvalidPublish {
        /// Where the record starts.
        offset: usize,
        /// The codec's verdict.
        error: DecodeError,
    },
}

impl SessionState {
    /// Appends the state to `buf` in the documented, versioned format (see
    /// [`restore`](Self::restore)) and returns the bytes written. The cost is a copy of the
    /// messages held: O(size of the state).
    ///
    /// # When to save
    ///
    /// The state changes when a call hands the session something: `publish` (a new
    /// message), `handle_incoming` (an acknowledgement, or a received QoS 2 PUBLISH or
    /// PUBREL), `ack`, and the end or start of a connection. Save after such a call and
    /// before writing the packets it queued to the network; then a crash at any point
    /// loses nothing and duplicates nothing:
    ///
    /// - a QoS 1 or 2 message is in the saved state before its PUBLISH can reach the peer,
    ///   so after a restart it is resent (with DUP) rather than forgotten;
    /// - a QoS 2 message of ours is saved past PUBREC before its PUBREL leaves, so a restart
    ///   never sends its PUBLISH again once the peer may have been released ([MQTT-4.3.3-6]
    ///   in 5.0);
    /// - a received QoS 2 message is saved before its PUBREC leaves, so the peer's
    ///   retransmission after a restart is recognised and not delivered twice. (Handle the
    ///   delivered message before saving, or use manual acknowledgement and save after
    ///   `ack`, for the application's own side of exactly once.)
    ///
    /// Saving less often is safe in one direction only: after PUBACK and PUBCOMP the
    /// state shrinks, and a stale save resends a QoS 1 message (a duplicate QoS 1 allows)
    /// or a PUBREL (answered as unknown).
    ///
    /// ```
    /// use bytes::BytesMut;
    /// use mqttwire::session::SessionState;
    ///
    /// let mut saved = BytesMut::new();
    /// SessionState::default().save(&mut saved).unwrap();
    /// let restored = SessionState::restore(&saved).unwrap();
    /// assert!(restored.is_empty());
    /// ```
    ///
    /// # Errors
    ///
    /// [`EncodeError`] if a message cannot be encoded at MQTT 5.0 (only one within a few
    /// bytes of the protocol's 256 MiB limit); nothing is written then.
    pub fn save(&self, buf: &mut BytesMut) -> Result<usize, EncodeError> {
        let start = buf.len();
        let mut body = 4 * (self.out.len(List::Released) + self.received.len());
        for id in self.out.iter(List::Sent).chain(self.out.iter(List::Queued)) {
            if let Some(Stage::Qos1(p) | Stage::Qos2(p)) = self.out.stage(id) {
                body += 2 + encoded_len_of(&p.as_view(), ProtocolVersion::V5)?;
            }
        }
        buf.reserve(HEADER + body + CRC);
        buf.put_slice(MAGIC);
        buf.put_u8(FORMAT);
        buf.put_u64(body as u64);
        for id in self.out.iter(List::Released) {
            let reported = matches!(self.out.stage(id), Some(Stage::Released { reported: true }));
            buf.put_u8(RELEASED);
            buf.put_u16(id.get());
            buf.put_u8(u8::from(reported));
        }
        for id in self.out.iter(List::Sent).chain(self.out.iter(List::Queued)) {
            if let Some(Stage::Qos1(p) | Stage::Qos2(p)) = self.out.stage(id) {
                buf.put_u8(PUBLISH);
                buf.put_u8(u8::from(self.out.ever_sent(id)));
                let packet = Packet::Publish(Publish::clone(p));
                if let Err(e) = packet.encode(ProtocolVersion::V5, buf) {
                    buf.truncate(start);
                    return Err(e);
                }
            }
        }
        for (id, flags) in self.received.iter() {
            buf.put_u8(INCOMING);
            buf.put_u16(id);
            buf.put_u8(u8::from(flags & ACKED != 0));
        }
        let crc = crc32(&buf[start..]);
        buf.put_u32(crc);
        Ok(buf.len() - start)
    }

    /// Rebuilds a state from bytes written by [`save`](Self::save): the same messages with
    /// the same packet identifiers, stages and order, and the same received QoS 2 messages,
    /// so a session resumed from it behaves exactly like the saved one. Hand it to
    /// [`Client::with_session`](super::Client::with_session) or
    /// [`Server::accept`](super::Server::accept).
    ///
    /// The saved messages share one copy of `bytes`.
    ///
    /// # Errors
    ///
    /// [`RestoreError`] for bytes that are not a whole saved session, were changed since, or
    /// hold an invalid record; nothing is restored then.
    pub fn restore(bytes: &[u8]) -> Result<Self, RestoreError> {
        if bytes.len() < MAGIC.len() || &bytes[..MAGIC.len()] != MAGIC {
            return Err(RestoreError::NotASession);
        }
        let version = *bytes.get(4).ok_or(RestoreError::Truncated {
            expected: HEADER as u64,
            actual: bytes.len(),
        })?;
        if version != FORMAT {
            return Err(RestoreError::UnsupportedFormat(version));
        }
        let length = bytes
            .get(5..HEADER)
            .and_then(|b| <[u8; 8]>::try_from(b).ok())
            .map(u64::from_be_bytes)
            .ok_or(RestoreError::Truncated {
                expected: HEADER as u64,
                actual: bytes.len(),
            })?;
        let total = length.saturating_add((HEADER + CRC) as u64);
        if (bytes.len() as u64) < total {
            return Err(RestoreError::Truncated {
                expected: total,
                actual: bytes.len(),
            });
        }
        // `total` fits: it is at most `bytes.len()`.
        let total = total as usize;
        if bytes.len() > total {
            return Err(RestoreError::TrailingBytes(bytes.len() - total));
        }
        let (signed, crc) = bytes.split_at(total - CRC);
        if crc32(signed) != u32::from_be_bytes([crc[0], crc[1], crc[2], crc[3]]) {
            return Err(RestoreError::ChecksumMismatch);
        }
        let records = Bytes::copy_from_slice(&signed[HEADER..]);
        let mut state = SessionState::default();
        let mut at = 0;
        while at < records.len() {
            let offset = HEADER + at;
            let invalid = |what| RestoreError::InvalidRecord { offset, what };
            let kind = records[at];
            match kind {
                RELEASED | INCOMING => {
                    let record = records
                        .get(at + 1..at + 4)
                        .ok_or(invalid("record cut short"))?;
                    let id = u16::from_be_bytes([record[0], record[1]]);
                    let flag = match record[2] {
                        0 => false,
                        1 => true,
                        _ => return Err(invalid("unknown flag bits")),
                    };
                    let fresh = if kind == RELEASED {
                        let stage = Stage::Released { reported: flag };
                        state.out.restore(id, stage, List::Released, true)
                    } else {
                        id != 0 && state.received.get(id) == 0
                    };
                    if !fresh {
                        return Err(invalid("packet identifier 0 or used twice"));
                    }
                    if kind == INCOMING {
                        let flags = if flag { RECEIVED | ACKED } else { RECEIVED };
                        state.received.set(id, flags);
                    }
                    at += 4;
                }
                PUBLISH => {
                    let ever_sent = match records.get(at + 1) {
                        Some(0) => false,
                        Some(1) => true,
                        Some(_) => return Err(invalid("unknown flag bits")),
                        None => return Err(invalid("record cut short")),
                    };
                    let packet = records.slice(at + 2..);
                    let (packet, used) = Packet::decode(&packet, ProtocolVersion::V5)
                        .map_err(|error| RestoreError::InvalidPublish { offset, error })?;
                    let Packet::Publish(publish) = packet else {
                        return Err(invalid("not a PUBLISH"));
                    };
                    if publish.dup {
                        return Err(invalid("DUP set in a saved PUBLISH"));
                    }
                    let (id, stage) = match publish.qos {
                        QosPid::AtMostOnce => return Err(invalid("QoS 0 message")),
                        QosPid::AtLeastOnce(id) => (id, Stage::Qos1(publish)),
                        QosPid::ExactlyOnce(id) => (id, Stage::Qos2(publish)),
                    };
                    if !state.out.restore(id.get(), stage, List::Queued, ever_sent) {
                        return Err(invalid("packet identifier used twice"));
                    }
                    at += 2 + used;
                }
                _ => return Err(invalid("unknown record kind")),
            }
        }
        state.out.rebuild_free();
        Ok(state)
    }
}

/// CRC-32 as zlib, PNG and Ethernet compute it (reflected polynomial 0xEDB88320).
fn crc32(bytes: &[u8]) -> u32 {
    !bytes.iter().fold(!0u32, |crc, &b| {
        CRC_TABLE[usize::from((crc as u8) ^ b)] ^ (crc >> 8)
    })
}

const CRC_TABLE: [u32; 256] = {
    let mut table = [0u32; 256];
    let mut i = 0;
    while i < 256 {
        let mut c = i as u32;
        let mut k = 0;
        while k < 8 {
            c = if c & 1 == 1 {
                0xEDB8_8320 ^ (c >> 1)
            } else {
                c >> 1
            };
            k += 1;
        }
        table[i] = c;
        i += 1;
    }
    table
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc32_matches_the_standard_check_value() {
        // The CRC-32 check value of "123456789".
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
    }

    #[test]
    fn an_empty_state_saves_to_header_and_checksum_only() {
        let mut buf = BytesMut::new();
        assert_eq!(SessionState::default().save(&mut buf), Ok(HEADER + CRC));
        assert_eq!(&buf[..5], b"MQSS\x01");
        assert!(SessionState::restore(&buf).unwrap().is_empty());
    }
}
