//! The session engine's cost per message with many messages in flight: 16, 4,096 and
//! 65,535 at once. Sessions are driven directly, packets handed in as values with
//! `handle_incoming` (no encoding or decoding: this measures the engine, not the codec),
//! and after every input the packets to send and the events are drained as a run loop
//! does. All at MQTT 5.0.
//!
//! One iteration is one batch of N messages on a freshly connected session (built outside
//! the timing); the time reported is per message (`Throughput::Elements(N)`):
//!
//! - `qos1-out/acks-in-order`, `qos1-out/acks-newest-first`: a client publishes N QoS 1
//!   messages (the server's Receive Maximum is 65,535), then their PUBACKs arrive oldest
//!   first, or newest first. Per message: one publish and its PUBACK.
//! - `qos2-out/in-order`: a client publishes N QoS 2 messages, a PUBREC arrives for each
//!   in order (the client answers PUBREL), then a PUBCOMP for each in order.
//! - `manual-acks/{qos1,qos2}-{in-order,reverse}`: a client with manual acknowledgement
//!   and a Receive Maximum of N receives N QoS 1 or QoS 2 messages (identifiers 1 to N),
//!   then the application calls `ack` for each, in arrival order or in reverse.
//! - `qos2-in/{descending,ascending}-ids`: a client receives N QoS 2 messages with
//!   identifiers from 65,535 down (or from 1 up), then a PUBREL for each in arrival order.
//! - `subscribe-batch/suback-{in-order,newest-first}`: a server receives N SUBSCRIBEs
//!   (identifiers 1 to N), then the application answers each with `suback`. Per request.
//!
//! One case is a steady state rather than a batch: `ids-in-use/qos1-cycle` publishes one
//! QoS 1 message and hands its PUBACK back while N - 1 others stay unacknowledged (at
//! 65,535, all identifiers but one are in use). Per iteration: one publish and its PUBACK.
//!
//! `cargo bench --bench session`; criterion's filter picks cases, e.g.
//! `cargo bench --bench session -- manual-acks/qos2`. Each selected case and size is first
//! run once on a plain clock, printing its time and heap allocations per message; criterion
//! then samples it (10 samples, flat sampling, short warm-up and measurement) unless that
//! one batch took more than a second, so that cases whose batch takes many seconds (an
//! engine that is O(n) per packet, at 65,535) are reported from one batch and the whole run
//! stays within minutes.
//!
//! Environment:
//!
//! - `MQTTWIRE_SESSION_BENCH_SIZES=16,4096`: the sizes N to measure, each 1 to 65,535
//!   (default `16,4096,65535`).
//! - `MQTTWIRE_SESSION_BENCH_MAX_BATCH=SECONDS`: the longest batch criterion samples
//!   (default 1). `0` reports every case from its one plain-clock batch, without criterion:
//!   a quick sweep; `inf` samples everything, however long it takes.

#[path = "../tests/fixtures/alloc_counter.rs"]
mod alloc_counter;

use bytes::Bytes;
use criterion::{BatchSize, BenchmarkId, Criterion, SamplingMode, Throughput};
use mqttwire::properties::{AckProperties, ConnAckProperties};
use mqttwire::session::{
    Client, ClientRole, Event, Instant, Server, ServerRole, Session, SessionConfig,
};
use mqttwire::{
    ConnAck, Connect, ConnectReasonCode, MqttString, Packet, PacketId, ProtocolVersion, PubAck,
    PubComp, PubRec, PubRel, Publish, QoS, QosPid, SubAckReasonCode, Subscribe, Subscription,
    TopicFilter, TopicName,
};
use std::hint::black_box;
use std::num::NonZeroU16;
use std::time::Duration;

const DEFAULT_SIZES: [u16; 3] = [16, 4_096, u16::MAX];
const NOW: Instant = Instant::from_millis(1_000);
const VERSION: ProtocolVersion = ProtocolVersion::V5;
/// A 20-byte topic and a 64-byte payload, as in the codec bench.
const TOPIC: &str = "sensors/site-17/temp";
const PAYLOAD: &[u8; 64] = &[0x5A; 64];
/// Batches that take longer are timed once, not sampled by criterion.
const DEFAULT_MAX_BATCH: Duration = Duration::from_secs(1);
/// Cycles timed by the plain clock for `ids-in-use`.
const PROBE_CYCLES: u32 = 1_000;

fn pid(n: u16) -> PacketId {
    PacketId::new(n).expect("packet identifiers start at 1")
}

fn message() -> Publish {
    Publish::new(
        TopicName::from_static(TOPIC).unwrap(),
        Bytes::from_static(PAYLOAD),
    )
}

fn client_id() -> MqttString {
    MqttString::from_static("bench-client-0001").unwrap()
}

/// What the application saw, counted so that each batch can check it did what it claims.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Tally {
    /// Packets `poll_transmit` yielded.
    sent: u32,
    /// `Event::Message`.
    messages: u32,
    /// `Event::PublishAcknowledged`.
    acknowledged: u32,
    /// `Event::PublishCompleted`.
    completed: u32,
    /// `Event::Subscribe`.
    subscribes: u32,
    /// Any other event: never expected once connected.
    other: u32,
}

impl Tally {
    /// Sends and handles everything `session` has, as a run loop does after each input.
    fn drain<R>(&mut self, session: &mut Session<R>) {
        while let Some(packet) = session.poll_transmit(NOW) {
            self.sent += 1;
            black_box(packet);
        }
        while let Some(event) = session.poll_event() {
            match &event {
                Event::Message(_) => self.messages += 1,
                Event::PublishAcknowledged { .. } => self.acknowledged += 1,
                Event::PublishCompleted { .. } => self.completed += 1,
                Event::Subscribe(_) => self.subscribes += 1,
                _ => self.other += 1,
            }
            black_box(event);
        }
    }
}

/// A connected session and what one batch needs, prepared outside the timing.
struct Batch<R> {
    session: Session<R>,
    /// Room for the identifiers the batch publishes.
    ids: Vec<PacketId>,
    message: Publish,
    tally: Tally,
}

impl<R> Batch<R> {
    fn new(session: Session<R>, n: u16) -> Self {
        Self {
            session,
            ids: Vec::with_capacity(usize::from(n)),
            message: message(),
            tally: Tally::default(),
        }
    }

    /// Checks the batch's tally against `expected`, `other` always 0.
    fn check(&self, expected: Tally) {
        assert_eq!(self.tally, expected, "the batch did not do what it claims");
    }
}

/// A client connected at 5.0 (clean start; the server's CONNACK announces no limits, so
/// its Receive Maximum is 65,535), with `max_outgoing` room for every identifier.
fn connected_client(mut config: SessionConfig) -> Client {
    config.max_outgoing = usize::from(u16::MAX);
    let mut client = Client::new(config);
    client
        .connect(NOW, Connect::new(VERSION, client_id()))
        .unwrap();
    let mut tally = Tally::default();
    tally.drain(&mut client);
    let connack = ConnAck::new(ConnectReasonCode::Success);
    client
        .handle_incoming(NOW, Packet::ConnAck(connack))
        .unwrap();
    tally.drain(&mut client);
    assert!(client.is_connected());
    client
}

/// A server whose client connected at 5.0 and was accepted.
fn connected_server() -> Server {
    let mut server = Server::new(SessionConfig::default());
    let connect = Packet::from(Connect::new(VERSION, client_id()));
    server.handle_incoming(NOW, connect).unwrap();
    match server.poll_event() {
        Some(Event::ConnectRequest(_)) => {}
        other => panic!("expected a ConnectRequest, got {other:?}"),
    }
    server
        .accept(None, ConnAckProperties::default())
        .expect("the server accepts the connection");
    let mut tally = Tally::default();
    tally.drain(&mut server);
    assert!(server.is_connected());
    server
}

fn client_batch(n: u16) -> Batch<ClientRole> {
    Batch::new(connected_client(SessionConfig::default()), n)
}

/// A client with manual acknowledgement and a Receive Maximum of `n`.
fn manual_ack_batch(n: u16) -> Batch<ClientRole> {
    let mut config = SessionConfig::default();
    config.manual_acks = true;
    config.receive_maximum = NonZeroU16::new(n).expect("sizes are at least 1");
    Batch::new(connected_client(config), n)
}

fn server_batch(n: u16) -> Batch<ServerRole> {
    Batch::new(connected_server(), n)
}

/// The client publishes `n` messages at `qos`, draining after each; their identifiers go
/// to `b.ids`.
fn publish_n(b: &mut Batch<ClientRole>, n: u16, qos: QoS) {
    for _ in 0..n {
        let id = b.session.publish(qos, b.message.clone()).unwrap();
        b.ids
            .push(id.expect("QoS 1 and 2 messages get an identifier"));
        b.tally.drain(&mut b.session);
    }
}

/// Cases 1 and 2: N QoS 1 messages out, then their PUBACKs.
fn qos1_out(b: &mut Batch<ClientRole>, n: u16, newest_first: bool) {
    publish_n(b, n, QoS::AtLeastOnce);
    if newest_first {
        b.ids.reverse();
    }
    for &id in &b.ids {
        let ack = Packet::PubAck(PubAck::new(id));
        b.session.handle_incoming(NOW, ack).unwrap();
        b.tally.drain(&mut b.session);
    }
    b.check(Tally {
        sent: n.into(),
        acknowledged: n.into(),
        ..Tally::default()
    });
}

/// Case 3: N QoS 2 messages out, a PUBREC for each (answered with PUBREL), then a PUBCOMP
/// for each, all in order.
fn qos2_out(b: &mut Batch<ClientRole>, n: u16) {
    publish_n(b, n, QoS::ExactlyOnce);
    for &id in &b.ids {
        let rec = Packet::PubRec(PubRec::new(id));
        b.session.handle_incoming(NOW, rec).unwrap();
        b.tally.drain(&mut b.session);
    }
    for &id in &b.ids {
        let comp = Packet::PubComp(PubComp::new(id));
        b.session.handle_incoming(NOW, comp).unwrap();
        b.tally.drain(&mut b.session);
    }
    b.check(Tally {
        sent: 2 * u32::from(n),
        completed: n.into(),
        ..Tally::default()
    });
}

/// Case 5: N messages in with identifiers 1 to N under manual acknowledgement, then the
/// application's `ack` for each.
fn manual_acks(b: &mut Batch<ClientRole>, n: u16, qos: QoS, reverse: bool) {
    for i in 1..=n {
        let mut publish = b.message.clone();
        publish.qos = match qos {
            QoS::AtLeastOnce => QosPid::AtLeastOnce(pid(i)),
            _ => QosPid::ExactlyOnce(pid(i)),
        };
        b.session
            .handle_incoming(NOW, Packet::Publish(publish))
            .unwrap();
        b.tally.drain(&mut b.session);
    }
    let mut ack = |i: u16| {
        b.session.ack(pid(i)).unwrap();
        b.tally.drain(&mut b.session);
    };
    if reverse {
        (1..=n).rev().for_each(&mut ack);
    } else {
        (1..=n).for_each(&mut ack);
    }
    b.check(Tally {
        sent: n.into(),
        messages: n.into(),
        ..Tally::default()
    });
}

/// Case 6: N QoS 2 messages in, identifiers from 65,535 down (or from 1 up), then a
/// PUBREL for each in arrival order.
fn qos2_in(b: &mut Batch<ClientRole>, n: u16, descending: bool) {
    let id = |i: u16| pid(if descending { u16::MAX - i } else { i + 1 });
    for i in 0..n {
        let mut publish = b.message.clone();
        publish.qos = QosPid::ExactlyOnce(id(i));
        b.session
            .handle_incoming(NOW, Packet::Publish(publish))
            .unwrap();
        b.tally.drain(&mut b.session);
    }
    for i in 0..n {
        let rel = Packet::PubRel(PubRel::new(id(i)));
        b.session.handle_incoming(NOW, rel).unwrap();
        b.tally.drain(&mut b.session);
    }
    b.check(Tally {
        sent: 2 * u32::from(n),
        messages: n.into(),
        ..Tally::default()
    });
}

/// Case 7: N SUBSCRIBEs in (identifiers 1 to N, one filter each), then a SUBACK for each.
fn subscribe_batch(b: &mut Batch<ServerRole>, n: u16, newest_first: bool) {
    let filter = TopicFilter::from_static("sensors/+/temp").unwrap();
    for i in 1..=n {
        let subscription = Subscription::new(filter.clone(), QoS::AtLeastOnce);
        let subscribe = Subscribe::new(pid(i), vec![subscription]);
        b.session
            .handle_incoming(NOW, Packet::Subscribe(subscribe))
            .unwrap();
        b.tally.drain(&mut b.session);
    }
    let mut answer = |i: u16| {
        let codes = vec![SubAckReasonCode::GrantedQoS1];
        b.session
            .suback(pid(i), codes, AckProperties::default())
            .unwrap();
        b.tally.drain(&mut b.session);
    };
    if newest_first {
        (1..=n).rev().for_each(&mut answer);
    } else {
        (1..=n).for_each(&mut answer);
    }
    b.check(Tally {
        sent: n.into(),
        subscribes: n.into(),
        ..Tally::default()
    });
}

/// Case 4: a client with `n - 1` QoS 1 messages sent and unacknowledged.
fn ids_in_use(n: u16) -> Batch<ClientRole> {
    let mut b = client_batch(n);
    publish_n(&mut b, n - 1, QoS::AtLeastOnce);
    b.tally = Tally::default();
    b
}

/// One publish and its PUBACK while the others stay in flight.
fn qos1_cycle(b: &mut Batch<ClientRole>) {
    let id = b.session.publish(QoS::AtLeastOnce, b.message.clone());
    let id = id.unwrap().expect("QoS 1 messages get an identifier");
    b.tally.drain(&mut b.session);
    b.session
        .handle_incoming(NOW, Packet::PubAck(PubAck::new(id)))
        .unwrap();
    b.tally.drain(&mut b.session);
}

type Routine<R> = Box<dyn Fn(&mut Batch<R>, u16)>;

/// A named variant of a case.
fn variant<R>(
    name: &'static str,
    routine: impl Fn(&mut Batch<R>, u16) + 'static,
) -> (&'static str, Routine<R>) {
    (name, Box::new(routine))
}

/// The benchmarks the command line selects, as criterion reads its filter argument
/// (a plain substring here, where criterion takes a regular expression).
enum Filter {
    All,
    Contains(String),
    Exact(String),
}

impl Filter {
    fn from_args() -> Self {
        // Criterion's options that take a value, whose value is not the filter.
        const WITH_VALUE: [&str; 17] = [
            "-c",
            "--color",
            "-s",
            "--save-baseline",
            "-b",
            "--baseline",
            "--baseline-lenient",
            "--format",
            "--profile-time",
            "--load-baseline",
            "--sample-size",
            "--warm-up-time",
            "--measurement-time",
            "--nresamples",
            "--noise-threshold",
            "--confidence-level",
            "--significance-level",
        ];
        let args: Vec<String> = std::env::args().skip(1).collect();
        let mut filter = None;
        let mut i = 0;
        while i < args.len() {
            let arg = &args[i];
            if WITH_VALUE.contains(&arg.as_str())
                || arg == "--plotting-backend"
                || arg == "--output-format"
            {
                i += 1;
            } else if !arg.starts_with('-') && filter.is_none() {
                filter = Some(arg.clone());
            }
            i += 1;
        }
        match filter {
            None => Self::All,
            Some(f) if args.iter().any(|a| a == "--exact") => Self::Exact(f),
            Some(f) => Self::Contains(f),
        }
    }

    fn selects(&self, id: &str) -> bool {
        match self {
            Self::All => true,
            Self::Contains(f) => id.contains(f.as_str()),
            Self::Exact(f) => id == f,
        }
    }
}

/// Runs the cases: each selected case and size is first timed on one batch with a plain
/// clock (reporting time and heap allocations per message), then sampled by criterion
/// unless that batch took longer than `max_batch`.
struct Runner {
    sizes: Vec<u16>,
    max_batch: Duration,
    /// Whether this is a measuring run (`cargo bench`), not criterion's `--list`, `--test`
    /// or `--profile-time`, which go straight to criterion.
    probe: bool,
    filter: Filter,
    criterion: Criterion,
}

impl Runner {
    fn from_env() -> Self {
        let sizes = match std::env::var("MQTTWIRE_SESSION_BENCH_SIZES") {
            Ok(list) => list
                .split(',')
                .map(|s| {
                    s.trim()
                        .parse::<u16>()
                        .ok()
                        .filter(|&n| n > 0)
                        .unwrap_or_else(|| {
                            panic!("MQTTWIRE_SESSION_BENCH_SIZES: {s:?} is not 1 to 65535")
                        })
                })
                .collect(),
            Err(_) => DEFAULT_SIZES.to_vec(),
        };
        let max_batch = match std::env::var("MQTTWIRE_SESSION_BENCH_MAX_BATCH") {
            Ok(secs) => secs
                .trim()
                .parse::<f64>()
                .ok()
                .filter(|s| *s >= 0.0)
                .map(|s| Duration::from_secs_f64(s.min(1e9)))
                .unwrap_or_else(|| {
                    panic!("MQTTWIRE_SESSION_BENCH_MAX_BATCH: {secs:?} is not a number of seconds")
                }),
            Err(_) => DEFAULT_MAX_BATCH,
        };
        let args: Vec<String> = std::env::args().collect();
        let has = |flag: &str| args.iter().any(|a| a == flag);
        let probe = has("--bench") && !has("--list") && !has("--test") && !has("--profile-time");
        let criterion = Criterion::default()
            .sample_size(10)
            .warm_up_time(Duration::from_secs(1))
            .measurement_time(Duration::from_secs(3))
            .configure_from_args();
        Self {
            sizes,
            max_batch,
            probe,
            filter: Filter::from_args(),
            criterion,
        }
    }

    /// Each variant of `group` at each size: one batch of N per iteration.
    fn batches<R>(
        &mut self,
        group: &str,
        setup: fn(u16) -> Batch<R>,
        variants: Vec<(&'static str, Routine<R>)>,
    ) {
        let mut sampled = Vec::new();
        for (variant, routine) in &variants {
            for &n in &self.sizes {
                if self.probe {
                    let id = format!("{group}/{variant}/{n}");
                    if !self.filter.selects(&id) {
                        continue;
                    }
                    let mut batch = setup(n);
                    let (allocations, elapsed) = alloc_counter::count(|| {
                        let start = std::time::Instant::now();
                        routine(&mut batch, n);
                        start.elapsed()
                    });
                    let sampled = elapsed <= self.max_batch;
                    let over = !sampled && !self.max_batch.is_zero();
                    report(&id, elapsed, allocations, n.into(), over);
                    if !sampled {
                        continue;
                    }
                }
                sampled.push((*variant, routine, n));
            }
        }
        if sampled.is_empty() {
            return;
        }
        let mut g = self.criterion.benchmark_group(group);
        g.sampling_mode(SamplingMode::Flat);
        for (variant, routine, n) in sampled {
            g.throughput(Throughput::Elements(n.into()));
            g.bench_with_input(BenchmarkId::new(variant, n), &n, |b, &n| {
                b.iter_batched_ref(
                    || setup(n),
                    |batch| routine(batch, n),
                    BatchSize::LargeInput,
                )
            });
        }
        g.finish();
    }

    /// Case 4: one publish and PUBACK per iteration with N - 1 messages in flight.
    fn ids_in_use(&mut self) {
        let (group, variant) = ("ids-in-use", "qos1-cycle");
        let mut sampled = Vec::new();
        for &n in &self.sizes {
            if self.probe {
                let id = format!("{group}/{variant}/{n}");
                if !self.filter.selects(&id) {
                    continue;
                }
                let mut batch = ids_in_use(n);
                let (allocations, elapsed) = alloc_counter::count(|| {
                    let start = std::time::Instant::now();
                    (0..PROBE_CYCLES).for_each(|_| qos1_cycle(&mut batch));
                    start.elapsed()
                });
                batch.check(Tally {
                    sent: PROBE_CYCLES,
                    acknowledged: PROBE_CYCLES,
                    ..Tally::default()
                });
                // The limit is on one iteration, here one cycle.
                let sampled = elapsed / PROBE_CYCLES <= self.max_batch;
                let over = !sampled && !self.max_batch.is_zero();
                report(&id, elapsed, allocations, PROBE_CYCLES, over);
                if !sampled {
                    continue;
                }
            }
            sampled.push(n);
        }
        if sampled.is_empty() {
            return;
        }
        let mut g = self.criterion.benchmark_group(group);
        g.sampling_mode(SamplingMode::Flat);
        g.throughput(Throughput::Elements(1));
        for n in sampled {
            g.bench_with_input(BenchmarkId::new(variant, n), &n, |b, &n| {
                // Built here, not before: only when the filter selects this size.
                let mut batch = ids_in_use(n);
                b.iter(|| qos1_cycle(&mut batch));
                assert_eq!(batch.tally.sent, batch.tally.acknowledged);
                assert_eq!(batch.tally.other, 0);
                assert_eq!(batch.session.in_flight(), usize::from(n - 1));
            });
        }
        g.finish();
    }
}

/// Prints the plain-clock timing of `elements` messages, and whether it was too long for
/// criterion to sample the case.
fn report(id: &str, elapsed: Duration, allocations: u64, elements: u32, over_limit: bool) {
    let per = elapsed.as_secs_f64() / f64::from(elements);
    let (value, unit) = if per >= 1e-3 {
        (per * 1e3, "ms")
    } else if per >= 1e-6 {
        (per * 1e6, "µs")
    } else {
        (per * 1e9, "ns")
    };
    println!(
        "{id:<44} plain clock: {value:>8.3} {unit}/message, {:.3} allocations/message, \
         {:.3} s in all{}",
        allocations as f64 / f64::from(elements),
        elapsed.as_secs_f64(),
        if over_limit {
            "; over MQTTWIRE_SESSION_BENCH_MAX_BATCH, not sampled by criterion"
        } else {
            ""
        },
    );
}

fn main() {
    let mut r = Runner::from_env();
    r.batches(
        "qos1-out",
        client_batch,
        vec![
            variant("acks-in-order", |b, n| qos1_out(b, n, false)),
            variant("acks-newest-first", |b, n| qos1_out(b, n, true)),
        ],
    );
    r.batches(
        "qos2-out",
        client_batch,
        vec![variant("in-order", qos2_out)],
    );
    r.ids_in_use();
    r.batches(
        "manual-acks",
        manual_ack_batch,
        vec![
            variant("qos2-in-order", |b, n| {
                manual_acks(b, n, QoS::ExactlyOnce, false)
            }),
            variant("qos2-reverse", |b, n| {
                manual_acks(b, n, QoS::ExactlyOnce, true)
            }),
            variant("qos1-in-order", |b, n| {
                manual_acks(b, n, QoS::AtLeastOnce, false)
            }),
            variant("qos1-reverse", |b, n| {
                manual_acks(b, n, QoS::AtLeastOnce, true)
            }),
        ],
    );
    r.batches(
        "qos2-in",
        client_batch,
        vec![
            variant("descending-ids", |b, n| qos2_in(b, n, true)),
            variant("ascending-ids", |b, n| qos2_in(b, n, false)),
        ],
    );
    r.batches(
        "subscribe-batch",
        server_batch,
        vec![
            variant("suback-in-order", |b, n| subscribe_batch(b, n, false)),
            variant("suback-newest-first", |b, n| subscribe_batch(b, n, true)),
        ],
    );
    r.criterion.final_summary();
}
