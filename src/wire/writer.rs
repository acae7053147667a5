//! Write helpers. Callers check lengths before writing: every limit is validated while
//! computing the encoded length, so writing cannot fail.

use crate::types::MqttStr;
#[cfg(feature = "alloc")]
use alloc::vec::Vec;
#[cfg(feature = "alloc")]
use bytes::{BufMut, BytesMut};

/// Where encoded bytes go. The packet writers are generic over it so that encoding can
/// stage its many small writes ([`Staged`]) instead of making a buffer call for each.
pub(crate) trait Sink {
    fn put_slice(&mut self, bytes: &[u8]);

    #[inline]
    fn put_u8(&mut self, value: u8) {
        self.put_slice(&[value]);
    }

    #[inline]
    fn put_u16(&mut self, value: u16) {
        self.put_slice(&value.to_be_bytes());
    }

    #[inline]
    fn put_u32(&mut self, value: u32) {
        self.put_slice(&value.to_be_bytes());
    }
}

/// Writes into room made beforehand: one length check per write, no buffer call.
pub(crate) struct Cursor<'a> {
    /// The room not yet written.
    rest: &'a mut [u8],
    /// The length of the room at the start.
    len: usize,
}

impl<'a> Cursor<'a> {
    pub(crate) fn new(out: &'a mut [u8]) -> Self {
        Self {
            len: out.len(),
            rest: out,
        }
    }

    /// Bytes written.
    pub(crate) fn position(&self) -> usize {
        self.len - self.rest.len()
    }
}

// The room was sized by the same computation that wrote `encoded_len`; a shortfall would be
// a bug in this crate, which the tests compare byte for byte (and `position` then shows).
impl Sink for Cursor<'_> {
    #[inline]
    fn put_slice(&mut self, bytes: &[u8]) {
        if bytes.len() <= self.rest.len() {
            // Checked again (and folded away), because `split_at_mut` asserts, out of line
            // where it is not inlined.
            let rest = core::mem::take(&mut self.rest);
            if let Some((dst, rest)) = rest.split_at_mut_checked(bytes.len()) {
                copy(dst, bytes);
                self.rest = rest;
            }
        }
    }

    #[inline]
    fn put_u8(&mut self, value: u8) {
        if let Some((dst, rest)) = core::mem::take(&mut self.rest).split_first_mut() {
            *dst = value;
            self.rest = rest;
        }
    }
}

/// Copies `src` into `dst`, of the same length: one `memcpy`, the length check folded away.
#[cfg(not(target_os = "none"))]
#[inline(always)]
fn copy(dst: &mut [u8], src: &[u8]) {
    dst.copy_from_slice(src);
}

/// [`copy`] on bare metal, where at opt-level "s" and "z" `copy_from_slice` may keep its
/// length assertion out of line, which links core's panic machinery (and `core::fmt`) into
/// the firmware. Two and four bytes (a fixed header, an integer), whose length is known once
/// inlined, are stored as one value; anything else is copied by a loop.
#[cfg(target_os = "none")]
#[inline(always)]
fn copy(dst: &mut [u8], src: &[u8]) {
    if let (Ok(d), Ok(s)) = (
        <&mut [u8; 2]>::try_from(&mut *dst),
        <&[u8; 2]>::try_from(src),
    ) {
        *d = *s;
    } else if let (Ok(d), Ok(s)) = (
        <&mut [u8; 4]>::try_from(&mut *dst),
        <&[u8; 4]>::try_from(src),
    ) {
        *d = *s;
    } else {
        copy_bytes(dst, src);
    }
}

/// The loop of [`copy`], once for all its callers.
#[cfg(target_os = "none")]
#[inline(never)]
fn copy_bytes(dst: &mut [u8], src: &[u8]) {
    for (d, s) in dst.iter_mut().zip(src) {
        *d = *s;
    }
}

#[cfg(feature = "alloc")]
impl Sink for BytesMut {
    #[inline]
    fn put_slice(&mut self, bytes: &[u8]) {
        self.extend_from_slice(bytes);
    }
}

#[cfg(feature = "alloc")]
impl Sink for Vec<u8> {
    #[inline]
    fn put_slice(&mut self, bytes: &[u8]) {
        self.extend_from_slice(bytes);
    }
}

#[cfg(feature = "alloc")]
const STAGE: usize = 64;

#[cfg(feature = "alloc")]
/// Collects small writes in a stack buffer and hands them to the destination in large
/// pieces: a `BufMut` call per header byte costs more than the byte. Large slices (a
/// payload) go straight through. Call [`finish`](Self::finish) to write what is staged.
pub(crate) struct Staged<'a, B: BufMut + ?Sized> {
    out: &'a mut B,
    len: usize,
    stage: [u8; STAGE],
}

#[cfg(feature = "alloc")]
impl<'a, B: BufMut + ?Sized> Staged<'a, B> {
    pub(crate) fn new(out: &'a mut B) -> Self {
        Self {
            out,
            len: 0,
            stage: [0; STAGE],
        }
    }

    #[inline]
    fn flush(&mut self) {
        if self.len > 0 {
            self.out.put_slice(&self.stage[..self.len]);
            self.len = 0;
        }
    }

    pub(crate) fn finish(mut self) {
        self.flush();
    }
}

#[cfg(feature = "alloc")]
impl<B: BufMut + ?Sized> Sink for Staged<'_, B> {
    #[inline]
    fn put_u8(&mut self, value: u8) {
        if self.len == STAGE {
            self.flush();
        }
        self.stage[self.len] = value;
        self.len += 1;
    }

    #[inline]
    fn put_slice(&mut self, bytes: &[u8]) {
        if bytes.len() > STAGE - self.len {
            self.flush();
            if bytes.len() > STAGE / 2 {
                self.out.put_slice(bytes);
                return;
            }
        }
        self.stage[self.len..self.len + bytes.len()].copy_from_slice(bytes);
        self.len += bytes.len();
    }
}

pub(crate) fn put_str<S: Sink + ?Sized>(buf: &mut S, s: MqttStr<'_>) {
    buf.put_u16(s.len() as u16);
    buf.put_slice(s.as_bytes());
}

pub(crate) fn put_binary<S: Sink + ?Sized>(buf: &mut S, b: &[u8]) {
    buf.put_u16(b.len() as u16);
    buf.put_slice(b);
}
