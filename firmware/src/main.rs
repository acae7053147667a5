//! Boots an emulated Cortex-M, runs the codec checks of `vectors.rs` and reports pass or
//! fail to QEMU through semihosting (QEMU's exit code: 0 pass, 1 fail).
//!
//! Features choose the codec part: `owned` (default) checks mqttwire's owned API on a
//! heap; `borrowed` checks its allocation-free core, with no heap at all; `size-probe` runs
//! `probe.rs`, the part of the core a small client needs (every packet decoded, PUBLISH and
//! acknowledgements encoded); with none of them, the firmware only boots and exits, the
//! baseline of the size report.
//! Nothing here formats with `core::fmt`, so that the size report measures the codec and
//! not the formatting machinery (core's own panic messages still bring in about 1.8 KB).

// Bare metal: no standard library, and cortex-m-rt's reset handler calls `main`.
#![no_std]
#![no_main]

#[cfg(feature = "owned")]
extern crate alloc;

#[cfg(all(feature = "owned", feature = "borrowed"))]
compile_error!(
    "choose one codec API: `owned` (the default) or `borrowed` (with --no-default-features)"
);
#[cfg(all(feature = "codec", feature = "size-probe"))]
compile_error!("`size-probe` is a firmware of its own: build it with --no-default-features");

use core::panic::PanicInfo;
use cortex_m_rt::entry;
use cortex_m_semihosting::{debug, hio};

#[cfg(feature = "size-probe")]
mod probe;
#[cfg(any(feature = "codec", feature = "size-probe"))]
mod vectors;

/// The owned API's packets live on this heap (linked-list first fit).
#[cfg(feature = "owned")]
#[global_allocator]
static HEAP: embedded_alloc::LlffHeap = embedded_alloc::LlffHeap::empty();

/// Bytes of RAM for the heap. The checks pass with 256 and fail with 128 (measured on the
/// Cortex-M3): 1 KiB leaves room for vectors to come.
#[cfg(feature = "owned")]
const HEAP_SIZE: usize = 1024;

/// Writes to the host's standard output; output is best effort, the exit code is the verdict.
pub fn print(text: &str) {
    if let Ok(mut out) = hio::hstdout() {
        let _ = out.write_all(text.as_bytes());
    }
}

/// Writes `n` in decimal, without `core::fmt`, and without an index that could panic (the
/// size probe links no panic code at all).
pub fn print_number(mut n: u32) {
    let mut digits = [0u8; 10];
    let mut used = 0;
    // Least significant first, from the end: ten digits hold any u32.
    for digit in digits.iter_mut().rev() {
        *digit = b'0' + (n % 10) as u8;
        used += 1;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    let digits = digits.get(digits.len() - used..).unwrap_or_default();
    // Only ASCII digits were written.
    print(core::str::from_utf8(digits).unwrap_or("?"));
}

/// Ends the emulation: exit code 0 for a pass, 1 for a failure.
fn exit(pass: bool) -> ! {
    debug::exit(if pass {
        debug::EXIT_SUCCESS
    } else {
        debug::EXIT_FAILURE
    });
    // Only reached without a debugger or emulator to stop us.
    loop {
        cortex_m::asm::bkpt();
    }
}

#[entry]
fn main() -> ! {
    #[cfg(feature = "owned")]
    // SAFETY: called once, first thing, before anything allocates; the macro's static buffer
    // is used by nothing else.
    unsafe {
        embedded_alloc::init!(HEAP, HEAP_SIZE);
    }
    #[cfg(feature = "codec")]
    {
        #[allow(unused_mut)] // without a heap to check
        let mut pass = vectors::run();
        // Every packet has been dropped by now: what is still allocated leaked.
        #[cfg(feature = "owned")]
        if HEAP.used() != 0 {
            print("FAIL: heap bytes still in use at the end: ");
            print_number(HEAP.used() as u32);
            print("\n");
            pass = false;
        }
        exit(pass);
    }
    #[cfg(feature = "size-probe")]
    exit(probe::run());
    #[cfg(not(any(feature = "codec", feature = "size-probe")))]
    {
        print("mqttwire firmware without a codec: PASS\n");
        exit(true);
    }
}

/// A panic is a failure: say where, then exit with failure so that CI sees it.
#[panic_handler]
fn panic(info: &PanicInfo) -> ! {
    print("FAIL: panic");
    if let Some(message) = info.message().as_str() {
        print(": ");
        print(message);
    }
    if let Some(location) = info.location() {
        print(" at ");
        print(location.file());
        print(":");
        print_number(location.line());
    }
    print("\n");
    exit(false)
}
