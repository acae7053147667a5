//! Write helpers. Callers check lengths before writing: every limit is validated while
//! computing the encoded length, so writing cannot fail.

use crate::types::MqttString;
use bytes::{BufMut, Bytes};

pub(crate) fn put_str<B: BufMut + ?Sized>(buf: &mut B, s: &MqttString) {
    buf.put_u16(s.len() as u16);
    buf.put_slice(s.as_bytes());
}

pub(crate) fn put_binary<B: BufMut + ?Sized>(buf: &mut B, b: &Bytes) {
    buf.put_u16(b.len() as u16);
    buf.put_slice(b);
}
