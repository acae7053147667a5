//! `inspect`: an MQTT packet inspector for debugging captures, learning the wire format,
//! and checking mqttwire against independent implementations.
//!
//! ```text
//! cargo run --example inspect -- [--level 3|4|5] [--max-packet-size N] [--explain]
//! ```
//!
//! It reads one packet per line from stdin, as hexadecimal digits; whitespace anywhere in
//! a line is ignored, so `c0 00` and `c000` are the same packet (a PINGREQ). A line that is
//! empty once whitespace is removed is skipped and produces no output; every other line
//! produces exactly one unindented result line:
//!
//! - `ok <TYPE> <hex>`: the first packet of the line decoded; `<TYPE>` is its upper-case
//!   name (`PUBLISH`, ...) and `<hex>` the packet as mqttwire encodes it again (lower-case,
//!   no separators). That can differ from the input where MQTT allows two spellings:
//!   mqttwire writes properties in a fixed order and uses the short forms of the
//!   acknowledgements. ` trailing=<n>` follows when `n` bytes come after the first packet.
//! - `err 0x<rc> <message>`: the packet is invalid; `<rc>` is the MQTT 5.0 reason code to
//!   close the connection with (two lower-case hex digits) and `<message>` says why, with
//!   the normative statement in brackets where there is one. A line that is not hex (a
//!   character other than 0-9, a-f, A-F, or an odd number of digits) gives
//!   `err 0x81 invalid hex input: <why>`. A packet that decodes but cannot be encoded again
//!   gives `err 0x83 <message>`.
//! - `incomplete <n>`: the line ends `n` bytes before the packet does; `incomplete ?` when
//!   the Remaining Length itself is cut short, so the size is unknown.
//!
//! A CONNECT is decoded at the protocol level its own bytes declare; every other packet at
//! `--level` (default 5). No size limit applies unless `--max-packet-size N` is given: then
//! a packet larger than `N` bytes (fixed header included) is `err 0x95 ...`, found from the
//! fixed header alone, as a receiver would.
//!
//! `--explain` follows each `ok` line with a dissection of the input packet's bytes, one
//! field per line, indented by two spaces: offset (hexadecimal), the field's bytes (at most
//! eight shown, then `..`), and what they mean. Tools should read only unindented lines.
//!
//! The exit code is 0 whatever the packets were (2 for bad arguments, 1 if stdin cannot be
//! read).

mod dissect;

use bytes::{Bytes, BytesMut};
use dissect::dissect;
use mqttwire::{DecodeError, DecodeErrorKind, Decoder, Packet, ProtocolVersion};
use std::fmt::Write as _;
use std::io::{self, BufRead, Write};
use std::process::ExitCode;

const USAGE: &str = "\
usage: inspect [--level 3|4|5] [--max-packet-size N] [--explain]
       inspect --help

Reads one MQTT packet per line from stdin as hex (whitespace ignored, blank lines
skipped) and prints one line for each:
  ok <TYPE> <hex re-encoded by mqttwire>[ trailing=<n>]
  err 0x<reason code> <message>
  incomplete <bytes still needed, or ? when the Remaining Length is cut short>

  --level 3|4|5          protocol level for packets other than CONNECT, which is
                         decoded at the level it declares (default 5)
  --max-packet-size N    refuse packets larger than N bytes (err 0x95); default: no limit
  --explain              after each ok line, dissect the packet field by field on
                         lines indented by two spaces (tools should read only
                         unindented lines)
  -h, --help             show this help
";

/// What the command line asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Options {
    /// The level of every packet but CONNECT.
    level: ProtocolVersion,
    /// The largest packet accepted, when limited.
    max_packet_size: Option<usize>,
    /// Dissect each decoded packet.
    explain: bool,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            level: ProtocolVersion::V5,
            max_packet_size: None,
            explain: false,
        }
    }
}

#[derive(Debug, PartialEq, Eq)]
enum Command {
    Inspect(Options),
    Help,
}

/// Parses the arguments after the program name; `Err` holds what is wrong with them.
fn parse_args<I: IntoIterator<Item = String>>(args: I) -> Result<Command, String> {
    let mut opts = Options::default();
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        // Both `--flag value` and `--flag=value`.
        let (flag, inline) = match arg.split_once('=') {
            Some((flag, value)) if flag.starts_with("--") => (flag.to_owned(), Some(value.into())),
            _ => (arg.clone(), None),
        };
        let mut value = |flag: &str| -> Result<String, String> {
            inline
                .clone()
                .or_else(|| args.next())
                .ok_or_else(|| format!("{flag} needs a value"))
        };
        match flag.as_str() {
            "-h" | "--help" if inline.is_none() => return Ok(Command::Help),
            "--explain" if inline.is_none() => opts.explain = true,
            "--level" => {
                let v = value("--level")?;
                opts.level = v
                    .parse::<u8>()
                    .ok()
                    .and_then(ProtocolVersion::from_level)
                    .ok_or_else(|| format!("--level must be 3, 4 or 5, not {v:?}"))?;
            }
            "--max-packet-size" => {
                let v = value("--max-packet-size")?;
                let n = v
                    .parse::<usize>()
                    .map_err(|_| format!("--max-packet-size needs a byte count, not {v:?}"))?;
                opts.max_packet_size = Some(n);
            }
            _ => return Err(format!("unknown argument {arg:?}")),
        }
    }
    Ok(Command::Inspect(opts))
}

fn main() -> ExitCode {
    let opts = match parse_args(
        std::env::args_os()
            .skip(1)
            .map(|a| a.to_string_lossy().into_owned()),
    ) {
        Ok(Command::Inspect(opts)) => opts,
        Ok(Command::Help) => {
            print!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(msg) => {
            eprint!("inspect: {msg}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let mut input = io::stdin().lock();
    let mut out = io::stdout().lock();
    let mut raw = Vec::new();
    loop {
        raw.clear();
        match input.read_until(b'\n', &mut raw) {
            Ok(0) => return ExitCode::SUCCESS,
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => {
                eprintln!("inspect: cannot read stdin: {e}");
                return ExitCode::FAILURE;
            }
        }
        // Not UTF-8 is not hex either: the replacement characters make it an `err` line.
        let line = String::from_utf8_lossy(&raw);
        if let Some(report) = inspect_line(&line, &opts) {
            // Flushed per line so that a program can feed packets and read answers in turn.
            if writeln!(out, "{report}")
                .and_then(|()| out.flush())
                .is_err()
            {
                // The reader has gone (a closed pipe): nobody is left to answer.
                return ExitCode::SUCCESS;
            }
        }
    }
}

/// The report for one input line, without a final newline (several lines with
/// `--explain`); `None` for a line with nothing but whitespace.
fn inspect_line(line: &str, opts: &Options) -> Option<String> {
    let digits: String = line.chars().filter(|c| !c.is_whitespace()).collect();
    if digits.is_empty() {
        return None;
    }
    Some(match parse_hex(&digits) {
        Ok(bytes) => inspect_bytes(&Bytes::from(bytes), opts),
        Err(why) => format!("err 0x81 invalid hex input: {why}"),
    })
}

/// Hex digits (no whitespace left) to bytes.
fn parse_hex(digits: &str) -> Result<Vec<u8>, String> {
    if let Some((i, c)) = digits
        .chars()
        .enumerate()
        .find(|(_, c)| !c.is_ascii_hexdigit())
    {
        return Err(format!("{c:?} at digit {} is not a hex digit", i + 1));
    }
    // All ASCII from here on, so every byte is one digit.
    let digits = digits.as_bytes();
    if digits.len() % 2 != 0 {
        return Err(format!("odd number of hex digits ({})", digits.len()));
    }
    let nibble = |d: u8| char::from(d).to_digit(16).unwrap_or(0) as u8;
    Ok(digits
        .chunks_exact(2)
        .map(|pair| nibble(pair[0]) << 4 | nibble(pair[1]))
        .collect())
}

/// The report for one packet's bytes.
fn inspect_bytes(input: &Bytes, opts: &Options) -> String {
    let (packet, used) = match decode_first(input, opts) {
        Ok(decoded) => decoded,
        Err(e) => return error_line(&e),
    };
    let mut encoded = BytesMut::new();
    // A CONNECT is encoded at its own level whatever the level passed here.
    if let Err(e) = packet.encode(opts.level, &mut encoded) {
        return format!("err 0x83 {e}");
    }
    let mut out = format!("ok {} {}", packet.packet_type().name(), hex(&encoded));
    if used < input.len() {
        let _ = write!(out, " trailing={}", input.len() - used);
    }
    if opts.explain {
        let version = match &packet {
            Packet::Connect(connect) => connect.protocol_version,
            _ => opts.level,
        };
        for line in dissect(input.get(..used).unwrap_or(input), version) {
            out.push('\n');
            out.push_str(&line);
        }
    }
    out
}

/// Decodes the first packet of `input`, under the size limit if there is one.
fn decode_first(input: &Bytes, opts: &Options) -> Result<(Packet, usize), DecodeError> {
    if let Some(max) = opts.max_packet_size {
        // The streaming decoder checks the size at the fixed header, as a receiver would;
        // it only answers "need more" for a short input, which the one-shot decode below
        // then turns into an Incomplete error that says how much.
        let mut buf = BytesMut::from(&input[..]);
        let mut decoder = Decoder::new(opts.level).with_max_packet_size(max);
        if let Some(packet) = decoder.decode(&mut buf)? {
            return Ok((packet, input.len() - buf.len()));
        }
    }
    Packet::decode(input, opts.level)
}

fn error_line(e: &DecodeError) -> String {
    match e.kind() {
        DecodeErrorKind::Incomplete { needed: Some(n) } => format!("incomplete {n}"),
        DecodeErrorKind::Incomplete { needed: None } => "incomplete ?".to_owned(),
        _ => format!("err 0x{:02x} {e}", e.reason_code().0),
    }
}

fn hex(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use dissect::walk;

    fn opts(level: u8) -> Options {
        Options {
            level: ProtocolVersion::from_level(level).expect("test levels are 3, 4 or 5"),
            ..Options::default()
        }
    }

    fn run_with(o: &Options, line: &str) -> String {
        inspect_line(line, o).expect("test lines are not blank")
    }

    fn run(level: u8, line: &str) -> String {
        run_with(&opts(level), line)
    }

    fn explain(level: u8, line: &str) -> Vec<String> {
        let o = Options {
            explain: true,
            ..opts(level)
        };
        run_with(&o, line).lines().map(str::to_owned).collect()
    }

    fn limited(max: usize, line: &str) -> String {
        let o = Options {
            max_packet_size: Some(max),
            ..opts(5)
        };
        run_with(&o, line)
    }

    fn compact(hex: &str) -> String {
        hex.chars().filter(|c| !c.is_whitespace()).collect()
    }

    /// Each row: input, expected line.
    fn check(level: u8, rows: &[(&str, &str)]) {
        for (input, expected) in rows {
            assert_eq!(run(level, input), *expected, "level {level}, input {input}");
        }
    }

    /// Each row: input, packet type; the packet re-encodes to exactly its own bytes.
    fn round_trips(level: u8, rows: &[(&str, &str)]) {
        for (input, name) in rows {
            let expected = format!("ok {name} {}", compact(input));
            assert_eq!(run(level, input), expected, "level {level}, input {input}");
        }
    }

    // Hand-built from the MQTT 3.1.1 and 5.0 packet layouts; the comments say what each is.
    const V3_CONNECT: &str = "10 0f 00 06 4d 51 49 73 64 70 03 02 00 3c 00 01 63";

    const V4: &[(&str, &str)] = &[
        // "MQTT", level 4, flags 02 (clean session), keep alive 60, client id "c".
        ("10 0d 00 04 4d 51 54 54 04 02 00 3c 00 01 63", "CONNECT"),
        // Accepted; session present and accepted; refused with return code 5.
        ("20 02 00 00", "CONNACK"),
        ("20 02 01 00", "CONNACK"),
        ("20 02 00 05", "CONNACK"),
        // QoS 1 to "a", packet id 1, payload "x".
        ("32 06 00 01 61 00 01 78", "PUBLISH"),
        // QoS 0, RETAIN, empty payload.
        ("31 03 00 01 61", "PUBLISH"),
        // QoS 2, DUP, topic "a/b", packet id 0x1234, payload "hi".
        ("3c 09 00 03 61 2f 62 12 34 68 69", "PUBLISH"),
        ("40 02 00 07", "PUBACK"),
        ("50 02 00 07", "PUBREC"),
        ("62 02 00 07", "PUBREL"),
        ("70 02 00 07", "PUBCOMP"),
        // Packet id 1, "a" at QoS 1, "b/#" at QoS 2.
        ("82 0c 00 01 00 01 61 01 00 03 62 2f 23 02", "SUBSCRIBE"),
        // Granted QoS 1, then Failure.
        ("90 04 00 01 01 80", "SUBACK"),
        ("a2 05 00 02 00 01 61", "UNSUBSCRIBE"),
        ("b0 02 00 02", "UNSUBACK"),
        ("c0 00", "PINGREQ"),
        ("d0 00", "PINGRESP"),
        ("e0 00", "DISCONNECT"),
    ];

    const V5: &[(&str, &str)] = &[
        // Level 5 CONNECT: as above plus an empty property block.
        ("10 0e 00 04 4d 51 54 54 05 02 00 3c 00 00 01 63", "CONNECT"),
        // Will (QoS 1, retained), user name, password, clean start, keep alive 10,
        // Session Expiry Interval 60, Will Delay Interval 5, client id "c", will topic
        // "t", will payload "p", user name "u", password "pw".
        (
            "10 26 00 04 4d 51 54 54 05 ee 00 0a 05 11 00 00 00 3c 00 01 63 \
             05 18 00 00 00 05 00 01 74 00 01 70 00 01 75 00 02 70 77",
            "CONNECT",
        ),
        // CONNACK always has a Property Length in 5.0; refused with 0x87 Not authorized;
        // Receive Maximum 10, Maximum QoS 1, Retain Available 0.
        ("20 03 00 00 00", "CONNACK"),
        ("20 03 00 87 00", "CONNACK"),
        ("20 0a 00 00 07 21 00 0a 24 01 25 00", "CONNACK"),
        ("32 07 00 01 61 00 01 00 78", "PUBLISH"),
        // Payload Format Indicator 1, Message Expiry Interval 60, payload "hi".
        (
            "30 0f 00 03 61 2f 62 07 01 01 02 00 00 00 3c 68 69",
            "PUBLISH",
        ),
        // Empty Topic Name standing for Topic Alias 1.
        ("30 06 00 00 03 23 00 01", "PUBLISH"),
        // Short forms: packet id only; with a reason code; with properties.
        ("40 02 00 07", "PUBACK"),
        ("40 03 00 07 10", "PUBACK"),
        // 0x10, Reason String "x", User Property "k" = "v".
        (
            "40 0f 00 07 10 0b 1f 00 01 78 26 00 01 6b 00 01 76",
            "PUBACK",
        ),
        ("50 03 00 07 80", "PUBREC"),
        ("62 03 00 07 92", "PUBREL"),
        ("70 02 00 07", "PUBCOMP"),
        // Options 0x2d: Retain Handling 2, Retain As Published, No Local, QoS 1.
        ("82 07 00 01 00 00 01 61 2d", "SUBSCRIBE"),
        // Subscription Identifier 200, a two-byte Variable Byte Integer (c8 01).
        ("82 0a 00 01 03 0b c8 01 00 01 61 2d", "SUBSCRIBE"),
        ("90 04 00 01 00 01", "SUBACK"),
        // Reason String "x", then 0x80 Unspecified error.
        ("90 08 00 01 04 1f 00 01 78 80", "SUBACK"),
        ("a2 06 00 02 00 00 01 61", "UNSUBSCRIBE"),
        // 0x11 No subscription existed.
        ("b0 04 00 02 00 11", "UNSUBACK"),
        ("c0 00", "PINGREQ"),
        ("d0 00", "PINGRESP"),
        ("e0 00", "DISCONNECT"),
        // 0x8e Session taken over without properties; 0x04 with Reason String "x".
        ("e0 01 8e", "DISCONNECT"),
        ("e0 06 04 04 1f 00 01 78", "DISCONNECT"),
        ("f0 00", "AUTH"),
        // 0x18 Continue authentication, Authentication Method "ab".
        ("f0 07 18 05 15 00 02 61 62", "AUTH"),
    ];

    #[test]
    fn every_packet_type_at_level_4() {
        round_trips(4, V4);
        // MQTT 3.1.1 reserves packet type 15.
        check(4, &[("f0 00", "err 0x81 packet type 15 is reserved")]);
    }

    #[test]
    fn every_packet_type_at_level_5() {
        round_trips(5, V5);
    }

    #[test]
    fn level_3() {
        round_trips(3, &[(V3_CONNECT, "CONNECT")]);
        // MQTT 3.1 has no Session Present (the CONNACK's first byte is reserved there) and
        // no SUBACK failure code (0x80 came with 3.1.1).
        let session_present = "20 02 01 00";
        let failure = "90 04 00 01 01 80";
        let rest: Vec<_> = V4[1..]
            .iter()
            .copied()
            .filter(|(input, _)| *input != session_present && *input != failure)
            .collect();
        assert_eq!(rest.len(), V4.len() - 3, "both rows are in V4");
        round_trips(3, &rest);
        check(
            3,
            &[
                ("f0 00", "err 0x81 packet type 15 is reserved"),
                (
                    "20 02 01 00",
                    "err 0x81 CONNACK: CONNACK flags 0x01 have reserved bits set",
                ),
                (
                    "90 04 00 01 01 80",
                    "err 0x82 SUBACK: reason code 0x80 is not allowed here [MQTT-3.9.3-2]",
                ),
            ],
        );
    }

    #[test]
    fn re_encoding_is_canonical() {
        check(
            5,
            &[
                // Message Expiry Interval before Payload Format Indicator: mqttwire writes
                // them in its own order, and both orders are valid.
                (
                    "30 0f 00 03 61 2f 62 07 02 00 00 00 3c 01 01 68 69",
                    "ok PUBLISH 300f0003612f62070101020000003c6869",
                ),
                // Empty property blocks give way to the short forms.
                ("40 04 00 07 10 00", "ok PUBACK 4003000710"),
                ("40 04 00 07 00 00", "ok PUBACK 40020007"),
                ("40 03 00 07 00", "ok PUBACK 40020007"),
                ("e0 02 00 00", "ok DISCONNECT e000"),
                ("e0 01 00", "ok DISCONNECT e000"),
            ],
        );
    }

    #[test]
    fn connect_decodes_at_its_own_level() {
        // Whatever --level says, including a 3.1.1 CONNECT while --level is 5.
        for level in [3, 4, 5] {
            round_trips(level, &[(V3_CONNECT, "CONNECT"), V4[0], V5[0], V5[1]]);
        }
        check(
            5,
            &[
                // "MQIsdp" with level 4 is no valid pairing.
                (
                    "10 0f 00 06 4d 51 49 73 64 70 04 02 00 3c 00 01 63",
                    "err 0x84 CONNECT: protocol name does not match protocol level 4 [MQTT-3.1.2-1]",
                ),
                (
                    "10 0d 00 04 4d 51 54 54 06 02 00 3c 00 01 63",
                    "err 0x84 CONNECT: protocol level 6 is not supported [MQTT-3.1.2-2]",
                ),
            ],
        );
    }

    #[test]
    fn trailing_bytes() {
        assert_eq!(run(5, "c0 00 d0 00"), "ok PINGREQ c000 trailing=2");
        assert_eq!(run(4, "40 02 00 07 ff"), "ok PUBACK 40020007 trailing=1");
    }

    #[test]
    fn incomplete_input() {
        // 8 bytes announced, 5 present.
        assert_eq!(run(5, "32 06 00 01 61"), "incomplete 3");
        // Remaining Length 128 (80 01), nothing of the body yet.
        assert_eq!(run(4, "30 80 01"), "incomplete 128");
        // The Remaining Length is cut short: the size is unknown.
        assert_eq!(run(5, "30"), "incomplete ?");
        assert_eq!(run(5, "30 ff"), "incomplete ?");
        assert_eq!(run(5, "30 ff ff ff"), "incomplete ?");
    }

    #[test]
    fn every_truncation_of_a_valid_packet_is_incomplete() {
        for (level, rows) in [(4, V4), (5, V5)] {
            for (input, _) in rows {
                let bytes = parse_hex(&compact(input)).expect("vectors are hex");
                // All vectors have a Remaining Length below 128: a 2-byte fixed header.
                assert_eq!(run(level, &hex(&bytes[..1])), "incomplete ?", "{input}");
                for n in 2..bytes.len() {
                    let expected = format!("incomplete {}", bytes.len() - n);
                    assert_eq!(
                        run(level, &hex(&bytes[..n])),
                        expected,
                        "{input} cut at {n}"
                    );
                }
            }
        }
    }

    #[test]
    fn errors_carry_reason_codes() {
        check(
            5,
            &[
                (
                    "36 06 00 01 61 00 01 00",
                    "err 0x81 PUBLISH: QoS is 3, a reserved QoS value [MQTT-3.3.1-4]",
                ),
                (
                    "38 03 00 01 61",
                    "err 0x81 PUBLISH: DUP flag set on a QoS 0 PUBLISH [MQTT-3.3.1-2]",
                ),
                // Packet identifier 0 in a PUBLISH: mqttwire answers Protocol Error.
                (
                    "32 05 00 01 61 00 00",
                    "err 0x82 PUBLISH: packet identifier is 0 [MQTT-2.2.1-3]",
                ),
                // SUBSCRIBE flags 0000 instead of 0010.
                (
                    "80 07 00 01 00 00 01 61 00",
                    "err 0x81 SUBSCRIBE: fixed header flags 0b0000 are invalid [MQTT-3.8.1-1]",
                ),
                // Remaining Length 0 spelt in two bytes.
                (
                    "c0 80 00",
                    "err 0x81 PINGREQ: remaining length is not minimally encoded [MQTT-1.5.5-1]",
                ),
                ("00 00", "err 0x81 packet type 0 is reserved"),
                // A 5.0 CONNACK must carry a Property Length.
                (
                    "20 02 00 00",
                    "err 0x81 CONNACK: property length runs past the end of the packet",
                ),
                // Retain Handling 3 is a Protocol Error.
                (
                    "82 07 00 01 00 00 01 61 30",
                    "err 0x82 SUBSCRIBE: subscription options byte 0x30 is invalid",
                ),
                // Receive Maximum (0x21) twice.
                (
                    "10 14 00 04 4d 51 54 54 05 02 00 3c 06 21 00 01 21 00 01 00 01 63",
                    "err 0x82 CONNECT: property 0x21 appears more than once",
                ),
                // Property 0x00 does not exist.
                (
                    "40 06 00 07 10 02 00 00",
                    "err 0x81 PUBACK: unknown property identifier 0x00",
                ),
            ],
        );
        check(
            4,
            &[
                (
                    "32 05 00 01 61 00 00",
                    "err 0x82 PUBLISH: packet identifier is 0 [MQTT-2.3.1-1]",
                ),
                // A 3.1.1 PUBACK is exactly the packet identifier.
                (
                    "40 03 00 07 00",
                    "err 0x81 PUBACK: 1 byte left over after the last field",
                ),
            ],
        );
    }

    #[test]
    fn invalid_hex_and_blank_lines() {
        check(
            5,
            &[
                (
                    "c0 0",
                    "err 0x81 invalid hex input: odd number of hex digits (3)",
                ),
                (
                    "c0 0g",
                    "err 0x81 invalid hex input: 'g' at digit 4 is not a hex digit",
                ),
                (
                    "0xc000",
                    "err 0x81 invalid hex input: 'x' at digit 2 is not a hex digit",
                ),
                ("C0 00", "ok PINGREQ c000"),
                ("\tc 0 0 0\r\n", "ok PINGREQ c000"),
            ],
        );
        assert_eq!(inspect_line("", &opts(5)), None);
        assert_eq!(inspect_line(" \t\r\n", &opts(5)), None);
    }

    #[test]
    fn max_packet_size() {
        let publish = "32 07 00 01 61 00 01 00 78"; // 9 bytes
        assert_eq!(limited(9, publish), "ok PUBLISH 320700016100010078");
        let too_large =
            "err 0x95 PUBLISH: packet of 9 bytes exceeds the maximum packet size of 8 bytes";
        assert_eq!(limited(8, publish), too_large);
        // Found from the fixed header alone, before the body arrives.
        assert_eq!(limited(8, "32 07"), too_large);
        assert_eq!(limited(9, "32 07 00 01"), "incomplete 5");
        assert_eq!(limited(9, "32"), "incomplete ?");
        assert_eq!(limited(2, "c0 00 d0 00"), "ok PINGREQ c000 trailing=2");
        assert_eq!(
            limited(9, "36 06 00 01 61 00 01 00"),
            "err 0x81 PUBLISH: QoS is 3, a reserved QoS value [MQTT-3.3.1-4]"
        );
        // The limit counts the fixed header: Remaining Length 128 makes 131 bytes.
        let long = format!("30 80 01 00 01 61 00{}", " 78".repeat(124));
        let ok = format!("ok PUBLISH 30800100016100{}", "78".repeat(124));
        assert_eq!(run(5, &long), ok);
        assert_eq!(limited(131, &long), ok);
        assert_eq!(
            limited(130, &long),
            "err 0x95 PUBLISH: packet of 131 bytes exceeds the maximum packet size of 130 bytes"
        );
    }

    #[test]
    fn re_encoding_failure_is_0x83() {
        // 3.1.1 CONNECT with an empty client id and clean session 0. It is well-formed (a
        // server answers it with CONNACK return code 2, [MQTT-3.1.3-8]), but mqttwire will
        // not encode what a client may not send ([MQTT-3.1.3-7]).
        assert_eq!(
            run(4, "10 0c 00 04 4d 51 54 54 04 00 00 3c 00 00"),
            "err 0x83 empty client identifier without clean session [MQTT-3.1.3-7]"
        );
    }

    #[test]
    fn arguments() {
        let args = |a: &[&str]| parse_args(a.iter().map(|s| s.to_string()));
        assert_eq!(args(&[]), Ok(Command::Inspect(Options::default())));
        assert_eq!(
            args(&["--level", "4", "--explain", "--max-packet-size=100"]),
            Ok(Command::Inspect(Options {
                level: ProtocolVersion::V3_1_1,
                max_packet_size: Some(100),
                explain: true,
            }))
        );
        assert_eq!(
            args(&["--level=3", "--max-packet-size", "0"]),
            Ok(Command::Inspect(Options {
                level: ProtocolVersion::V3_1,
                max_packet_size: Some(0),
                explain: false,
            }))
        );
        assert_eq!(args(&["--help"]), Ok(Command::Help));
        assert_eq!(args(&["--explain", "-h"]), Ok(Command::Help));
        for bad in [
            &["--level"][..],
            &["--level", "6"],
            &["--level", "MQTT"],
            &["--max-packet-size", "-1"],
            &["--max-packet-size"],
            &["--explain=yes"],
            &["--help=1"],
            &["--verbose"],
            &["extra"],
        ] {
            assert!(args(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn explain_publish() {
        assert_eq!(
            explain(5, "32 07 00 01 61 00 01 00 78"),
            [
                "ok PUBLISH 320700016100010078",
                "  0000  32        fixed header: PUBLISH, flags 0010 (DUP 0, QoS 1, RETAIN 0)",
                "  0001  07        remaining length: 7",
                "  0002  00 01 61  topic name: \"a\"",
                "  0005  00 01     packet identifier: 1",
                "  0007  00        property length: 0",
                "  0008  78        payload (1 byte)",
            ]
        );
        // 3.1.1, DUP, QoS 1, RETAIN, empty payload, then two more bytes.
        assert_eq!(
            explain(4, "3b 05 00 01 61 00 02 c0 00"),
            [
                "ok PUBLISH 3b050001610002 trailing=2",
                "  0000  3b        fixed header: PUBLISH, flags 1011 (DUP 1, QoS 1, RETAIN 1)",
                "  0001  05        remaining length: 5",
                "  0002  00 01 61  topic name: \"a\"",
                "  0005  00 02     packet identifier: 2",
                "  0007            payload (0 bytes)",
            ]
        );
        // A 3-byte fixed header; long fields show their first 8 bytes.
        let long = format!("30 80 01 00 01 61 00{}", " 78".repeat(124));
        assert_eq!(
            explain(5, &long)[1..],
            [
                "  0000  30                          fixed header: PUBLISH, flags 0000 (DUP 0, QoS 0, RETAIN 0)",
                "  0001  80 01                       remaining length: 128",
                "  0003  00 01 61                    topic name: \"a\"",
                "  0006  00                          property length: 0",
                "  0007  78 78 78 78 78 78 78 78 ..  payload (124 bytes)",
            ]
        );
        // Two properties.
        assert_eq!(
            explain(5, "30 0f 00 03 61 2f 62 07 01 01 02 00 00 00 3c 68 69")[1..],
            [
                "  0000  30              fixed header: PUBLISH, flags 0000 (DUP 0, QoS 0, RETAIN 0)",
                "  0001  0f              remaining length: 15",
                "  0002  00 03 61 2f 62  topic name: \"a/b\"",
                "  0007  07              property length: 7",
                "  0008  01 01           property 0x01 Payload Format Indicator: 1",
                "  000a  02 00 00 00 3c  property 0x02 Message Expiry Interval: 60",
                "  000f  68 69           payload (2 bytes)",
            ]
        );
    }

    #[test]
    fn explain_connect() {
        assert_eq!(
            explain(5, V3_CONNECT),
            [
                "ok CONNECT 100f00064d51497364700302003c000163",
                "  0000  10                       fixed header: CONNECT, flags 0000 (reserved)",
                "  0001  0f                       remaining length: 15",
                "  0002  00 06 4d 51 49 73 64 70  protocol name: \"MQIsdp\"",
                "  000a  03                       protocol level: 3 (MQTT 3.1)",
                "  000b  02                       connect flags: 00000010 (user name 0, password 0, will retain 0, will QoS 0, will flag 0, clean session 1, reserved 0)",
                "  000c  00 3c                    keep alive: 60 seconds",
                "  000e  00 01 63                 client identifier: \"c\"",
            ]
        );
        assert_eq!(
            explain(4, V5[1].0)[1..],
            [
                "  0000  10                 fixed header: CONNECT, flags 0000 (reserved)",
                "  0001  26                 remaining length: 38",
                "  0002  00 04 4d 51 54 54  protocol name: \"MQTT\"",
                "  0008  05                 protocol level: 5 (MQTT 5.0)",
                "  0009  ee                 connect flags: 11101110 (user name 1, password 1, will retain 1, will QoS 1, will flag 1, clean start 1, reserved 0)",
                "  000a  00 0a              keep alive: 10 seconds",
                "  000c  05                 property length: 5",
                "  000d  11 00 00 00 3c     property 0x11 Session Expiry Interval: 60",
                "  0012  00 01 63           client identifier: \"c\"",
                "  0015  05                 will property length: 5",
                "  0016  18 00 00 00 05     property 0x18 Will Delay Interval: 5",
                "  001b  00 01 74           will topic: \"t\"",
                "  001e  00 01 70           will payload (1 byte)",
                "  0021  00 01 75           user name: \"u\"",
                "  0024  00 02 70 77        password (2 bytes)",
            ]
        );
        assert_eq!(
            explain(5, "20 0a 00 00 07 21 00 0a 24 01 25 00")[1..],
            [
                "  0000  20        fixed header: CONNACK, flags 0000 (reserved)",
                "  0001  0a        remaining length: 10",
                "  0002  00        acknowledge flags: 00000000 (session present 0)",
                "  0003  00        reason code: 0x00 Success",
                "  0004  07        property length: 7",
                "  0005  21 00 0a  property 0x21 Receive Maximum: 10",
                "  0008  24 01     property 0x24 Maximum QoS: 1",
                "  000a  25 00     property 0x25 Retain Available: 0",
            ]
        );
        assert_eq!(
            explain(4, "20 02 01 00")[1..],
            [
                "  0000  20  fixed header: CONNACK, flags 0000 (reserved)",
                "  0001  02  remaining length: 2",
                "  0002  01  acknowledge flags: 00000001 (session present 1)",
                "  0003  00  return code: 0 (Connection Accepted)",
            ]
        );
    }

    #[test]
    fn explain_acknowledgements_and_short_forms() {
        assert_eq!(
            explain(5, "40 02 00 07")[1..],
            [
                "  0000  40     fixed header: PUBACK, flags 0000 (reserved)",
                "  0001  02     remaining length: 2",
                "  0002  00 07  packet identifier: 7",
                "  0004         reason code omitted, meaning 0x00 Success",
            ]
        );
        assert_eq!(
            explain(4, "40 02 00 07")[1..],
            [
                "  0000  40     fixed header: PUBACK, flags 0000 (reserved)",
                "  0001  02     remaining length: 2",
                "  0002  00 07  packet identifier: 7",
            ]
        );
        assert_eq!(
            explain(5, "62 03 00 07 92")[1..],
            [
                "  0000  62     fixed header: PUBREL, flags 0010 (reserved)",
                "  0001  03     remaining length: 3",
                "  0002  00 07  packet identifier: 7",
                "  0004  92     reason code: 0x92 Packet Identifier not found",
                "  0005         properties omitted, meaning none",
            ]
        );
        assert_eq!(
            explain(5, "40 0f 00 07 10 0b 1f 00 01 78 26 00 01 6b 00 01 76")[1..],
            [
                "  0000  40                    fixed header: PUBACK, flags 0000 (reserved)",
                "  0001  0f                    remaining length: 15",
                "  0002  00 07                 packet identifier: 7",
                "  0004  10                    reason code: 0x10 No matching subscribers",
                "  0005  0b                    property length: 11",
                "  0006  1f 00 01 78           property 0x1f Reason String: \"x\"",
                "  000a  26 00 01 6b 00 01 76  property 0x26 User Property: \"k\" = \"v\"",
            ]
        );
        assert_eq!(
            explain(5, "e0 00")[1..],
            [
                "  0000  e0  fixed header: DISCONNECT, flags 0000 (reserved)",
                "  0001  00  remaining length: 0",
                "  0002      reason code omitted, meaning 0x00 Normal disconnection",
            ]
        );
        assert_eq!(
            explain(5, "e0 01 8e")[1..],
            [
                "  0000  e0  fixed header: DISCONNECT, flags 0000 (reserved)",
                "  0001  01  remaining length: 1",
                "  0002  8e  reason code: 0x8e Session taken over",
                "  0003      properties omitted, meaning none",
            ]
        );
        assert_eq!(
            explain(5, "f0 07 18 05 15 00 02 61 62")[1..],
            [
                "  0000  f0              fixed header: AUTH, flags 0000 (reserved)",
                "  0001  07              remaining length: 7",
                "  0002  18              reason code: 0x18 Continue authentication",
                "  0003  05              property length: 5",
                "  0004  15 00 02 61 62  property 0x15 Authentication Method: \"ab\"",
            ]
        );
        assert_eq!(
            explain(5, "f0 00")[1..],
            [
                "  0000  f0  fixed header: AUTH, flags 0000 (reserved)",
                "  0001  00  remaining length: 0",
                "  0002      reason code omitted, meaning 0x00 Success",
            ]
        );
        assert_eq!(
            explain(5, "c0 00"),
            [
                "ok PINGREQ c000",
                "  0000  c0  fixed header: PINGREQ, flags 0000 (reserved)",
                "  0001  00  remaining length: 0",
            ]
        );
    }

    #[test]
    fn explain_subscriptions() {
        assert_eq!(
            explain(5, "82 0a 00 01 03 0b c8 01 00 01 61 2d")[1..],
            [
                "  0000  82        fixed header: SUBSCRIBE, flags 0010 (reserved)",
                "  0001  0a        remaining length: 10",
                "  0002  00 01     packet identifier: 1",
                "  0004  03        property length: 3",
                "  0005  0b c8 01  property 0x0b Subscription Identifier: 200",
                "  0008  00 01 61  topic filter: \"a\"",
                "  000b  2d        subscription options: 00101101 (QoS 1, no local 1, retain as published 1, retain handling 2)",
            ]
        );
        assert_eq!(
            explain(4, "82 0c 00 01 00 01 61 01 00 03 62 2f 23 02")[1..],
            [
                "  0000  82              fixed header: SUBSCRIBE, flags 0010 (reserved)",
                "  0001  0c              remaining length: 12",
                "  0002  00 01           packet identifier: 1",
                "  0004  00 01 61        topic filter: \"a\"",
                "  0007  01              subscription options: 00000001 (QoS 1)",
                "  0008  00 03 62 2f 23  topic filter: \"b/#\"",
                "  000d  02              subscription options: 00000010 (QoS 2)",
            ]
        );
        assert_eq!(
            explain(4, "90 04 00 01 01 80")[1..],
            [
                "  0000  90     fixed header: SUBACK, flags 0000 (reserved)",
                "  0001  04     remaining length: 4",
                "  0002  00 01  packet identifier: 1",
                "  0004  01     return code: 0x01 (Success - Maximum QoS 1)",
                "  0005  80     return code: 0x80 (Failure)",
            ]
        );
        assert_eq!(
            explain(5, "90 04 00 01 00 00")[1..],
            [
                "  0000  90     fixed header: SUBACK, flags 0000 (reserved)",
                "  0001  04     remaining length: 4",
                "  0002  00 01  packet identifier: 1",
                "  0004  00     property length: 0",
                "  0005  00     reason code: 0x00 Granted QoS 0",
            ]
        );
        assert_eq!(
            explain(4, "a2 05 00 02 00 01 61")[1..],
            [
                "  0000  a2        fixed header: UNSUBSCRIBE, flags 0010 (reserved)",
                "  0001  05        remaining length: 5",
                "  0002  00 02     packet identifier: 2",
                "  0004  00 01 61  topic filter: \"a\"",
            ]
        );
        assert_eq!(
            explain(5, "b0 04 00 02 00 11")[1..],
            [
                "  0000  b0     fixed header: UNSUBACK, flags 0000 (reserved)",
                "  0001  04     remaining length: 4",
                "  0002  00 02  packet identifier: 2",
                "  0004  00     property length: 0",
                "  0005  11     reason code: 0x11 No subscription existed",
            ]
        );
    }

    /// The fields of the packet the decoder accepts at the front of `input` cover its
    /// bytes exactly once, in order, and nothing is left unparsed: the decoder and the
    /// dissection, written apart, agree on where each field is.
    fn assert_walks_to_the_end(input: &[u8], level: ProtocolVersion) {
        let (packet, used) = Packet::decode(&Bytes::copy_from_slice(input), level)
            .unwrap_or_else(|e| panic!("{}: {e}", hex(input)));
        let version = match packet {
            Packet::Connect(connect) => connect.protocol_version,
            _ => level,
        };
        let frame = &input[..used];
        let mut next = 0;
        for field in walk(frame, version) {
            assert_eq!(field.offset, next, "{}: {}", hex(frame), field.text);
            let t = &field.text;
            let leftover = t.starts_with("unparsed") || t.ends_with("after the last field");
            assert!(
                !leftover && !t.starts_with("input ends"),
                "{}: {t}",
                hex(frame)
            );
            next += field.len;
        }
        assert_eq!(next, frame.len(), "{}", hex(frame));
    }

    #[test]
    fn dissection_of_valid_packets_covers_every_byte() {
        let mut rows: Vec<(u8, &str)> = vec![(3, V3_CONNECT)];
        rows.extend(V4.iter().map(|(input, _)| (4, *input)));
        rows.extend(V5.iter().map(|(input, _)| (5, *input)));
        for (level, input) in rows {
            let bytes = parse_hex(&compact(input)).expect("vectors are hex");
            assert_walks_to_the_end(&bytes, ProtocolVersion::from_level(level).expect("valid"));
        }
    }

    #[test]
    fn dissection_of_broken_bytes_says_what_is_left() {
        let v5 = ProtocolVersion::V5;
        assert_eq!(
            dissect(&[0x30, 0x05, 0x00, 0x09, 0x61], ProtocolVersion::V3_1_1),
            [
                "  0000  30        fixed header: PUBLISH, flags 0000 (DUP 0, QoS 0, RETAIN 0)",
                "  0001  05        remaining length: 5",
                "  0002  00 09 61  unparsed (3 bytes)",
                "  0005            input ends 2 bytes early",
            ]
        );
        assert_eq!(
            dissect(&[0x00, 0x01], v5),
            [
                "  0000  00  fixed header: reserved packet type 0, flags 0000",
                "  0001  01  unparsed (1 byte)",
            ]
        );
        assert_eq!(
            dissect(&[0x30, 0x80], v5),
            [
                "  0000  30  fixed header: PUBLISH, flags 0000 (DUP 0, QoS 0, RETAIN 0)",
                "  0001      remaining length: cut short or longer than 4 bytes",
                "  0001  80  unparsed (1 byte)",
            ]
        );
        // Property Length 5 with nothing after it.
        assert_eq!(
            dissect(&[0x40, 0x04, 0x00, 0x07, 0x10, 0x05], v5)[3..],
            [
                "  0004  10     reason code: 0x10 No matching subscribers",
                "  0005  05     unparsed (1 byte)",
            ]
        );
        // Property 0x7f does not exist.
        assert_eq!(
            dissect(&[0x40, 0x05, 0x00, 0x07, 0x10, 0x01, 0x7f], v5)[4..],
            [
                "  0005  01     property length: 1",
                "  0006  7f     unparsed property (1 byte)",
            ]
        );
        assert_eq!(
            dissect(&[0xc0, 0x01, 0x00], v5)[2..],
            ["  0002  00  1 byte after the last field"]
        );
    }

    /// A tiny deterministic xorshift generator (no dependencies).
    struct XorShift(u64);

    impl XorShift {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }

        fn below(&mut self, n: usize) -> usize {
            (self.next() % n as u64) as usize
        }
    }

    /// Runs every mode over `bytes`: no panic, and exactly one unindented line.
    fn exercise(bytes: &[u8]) {
        for level in [3, 4, 5] {
            for max_packet_size in [None, Some(8)] {
                let o = Options {
                    level: ProtocolVersion::from_level(level).expect("valid level"),
                    max_packet_size,
                    explain: true,
                };
                if let Some(report) = inspect_line(&hex(bytes), &o) {
                    let top = report.lines().filter(|l| !l.starts_with("  ")).count();
                    assert_eq!(top, 1, "{}: {report}", hex(bytes));
                    if let Some(ok) = report.lines().next().and_then(|l| l.strip_prefix("ok ")) {
                        assert_walks_to_the_end(bytes, o.level);
                        // What mqttwire encodes, it decodes to the same encoding.
                        let mut words = ok.split(' ');
                        let (name, encoded) = (words.next(), words.next().unwrap_or_default());
                        let again = run_with(
                            &Options {
                                explain: false,
                                max_packet_size: None,
                                ..o
                            },
                            encoded,
                        );
                        assert_eq!(
                            again,
                            format!("ok {} {encoded}", name.unwrap_or_default()),
                            "{}",
                            hex(bytes)
                        );
                    }
                }
            }
            let _ = dissect(
                bytes,
                ProtocolVersion::from_level(level).expect("valid level"),
            );
        }
    }

    #[test]
    fn explain_never_panics() {
        let mut vectors: Vec<Vec<u8>> = V4
            .iter()
            .chain(V5)
            .map(|(input, _)| parse_hex(&compact(input)).expect("vectors are hex"))
            .collect();
        vectors.push(parse_hex(&compact(V3_CONNECT)).expect("vectors are hex"));
        // Every truncation of every valid vector.
        for v in &vectors {
            for n in 0..=v.len() {
                exercise(&v[..n]);
            }
        }
        let mut rng = XorShift(0x2545_f491_4f6c_dd1d);
        // Random bytes, which mostly fail to decode...
        for _ in 0..400 {
            let len = rng.below(40);
            let bytes: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
            exercise(&bytes);
        }
        // ...and valid packets with one or two bytes changed, of which some still decode
        // and so get dissected.
        for _ in 0..1000 {
            let mut bytes = vectors[rng.below(vectors.len())].clone();
            for _ in 0..1 + rng.below(2) {
                let at = rng.below(bytes.len());
                bytes[at] = rng.next() as u8;
            }
            exercise(&bytes);
        }
    }
}
