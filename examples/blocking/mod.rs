//! A blocking MQTT client: mqttwire's sans-IO [`Client`] session driven over a
//! [`std::net::TcpStream`], with no async runtime and no threads.
//!
//! It follows the session's run loop to the letter: after every input (a decoded packet, a
//! passed deadline, a lost connection, a command) it sends everything `poll_transmit_into`
//! yields with one `write_all`, then moves everything `poll_event` yields into its own
//! queue; it waits for bytes with a read timeout that ends at `poll_timeout` (or at the
//! caller's deadline, whichever comes first) and then calls `handle_timeout`; a read error
//! or end of stream is `handle_connection_lost`. When the session reports
//! [`Event::Disconnected`] the transport is closed once the last packets (a DISCONNECT)
//! are written.
//!
//! Shared by the `client` example (`mod blocking;`) and the interop tests
//! (`#[path = "../examples/blocking/mod.rs"] mod blocking;`), which also use its test
//! hooks: a trace of every packet on the wire ([`BlockingClient::enable_trace`]), a link
//! that loses what we send ([`BlockingClient::set_output_lost`]), raw bytes
//! ([`BlockingClient::send_raw`]) and an abrupt end without DISCONNECT
//! ([`BlockingClient::drop_connection`]).
//!
//! With [`BlockingClient::persist_to`] the session state survives a crash of the process:
//! it is saved to a file, atomically, after every input that changed it and before the
//! packets that input produced are written ([`SessionState::save`] says why that order);
//! [`load_session`] reads it back for [`BlockingClient::with_session`].
//!
//! ```ignore
//! use blocking::BlockingClient;
//! use mqttwire::session::SessionConfig;
//! use mqttwire::{Connect, MqttString, ProtocolVersion, Publish, QoS, TopicName};
//!
//! let mut client = BlockingClient::new(SessionConfig::default());
//! let id = MqttString::new("sensor-17").unwrap();
//! client.connect("127.0.0.1:1883", Connect::new(ProtocolVersion::V5, id)).unwrap();
//! let message = Publish::new(TopicName::new("sensors/17").unwrap(), "21.5");
//! client.publish_and_wait(QoS::AtLeastOnce, message).unwrap();
//! client.disconnect().unwrap();
//! ```

#![allow(dead_code)]

use bytes::{Bytes, BytesMut};
use mqttwire::properties::{SubscribeProperties, UnsubscribeProperties};
use mqttwire::session::{
    Client, Connected, DisconnectCause, Event, Instant, RestoreError, SessionConfig, SessionError,
    SessionState,
};
use mqttwire::{
    ConnAck, Connect, Decoder, Disconnect, DisconnectReasonCode, EncodeError, Packet, PacketId,
    Publish, QoS, SubAck, Subscription, TopicFilter, UnsubAck,
};
use std::collections::VecDeque;
use std::ffi::OsString;
use std::fmt;
use std::fs::{self, File};
use std::io::{self, Read as _, Write as _};
use std::net::{Shutdown, SocketAddr, TcpStream, ToSocketAddrs};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Why a [`BlockingClient`] call failed.
#[derive(Debug)]
pub enum Error {
    /// The TCP connection could not be opened (or the address resolved).
    Io(io::Error),
    /// The session refused the command; nothing was sent.
    Session(SessionError),
    /// A packet the session handed over could not be encoded.
    Encode(EncodeError),
    /// The connection ended (the session's [`Event::Disconnected`] cause): refused by the
    /// server ([`DisconnectCause::Refused`]), closed by either side, or lost.
    Closed(Box<DisconnectCause>),
    /// There is no connection.
    NotConnected,
    /// Nothing of what was waited for arrived in time.
    Timeout(&'static str),
    /// The session state could not be saved to this file
    /// ([`BlockingClient::persist_to`]); the packets of that input were not written and
    /// the connection was closed.
    Save(PathBuf, io::Error),
    /// The saved session in this file could not be read or restored ([`load_session`]).
    Load(PathBuf, LoadError),
}

/// Why [`load_session`] failed.
#[derive(Debug)]
pub enum LoadError {
    /// The file exists but could not be read.
    Io(io::Error),
    /// The file does not hold a whole, unchanged saved session.
    Restore(RestoreError),
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LoadError::Io(e) => write!(f, "{e}"),
            LoadError::Restore(e) => write!(f, "{e}"),
        }
    }
}

impl Error {
    /// The CONNACK of a refused connection.
    pub fn refused(&self) -> Option<&ConnAck> {
        match self {
            Error::Closed(cause) => match cause.as_ref() {
                DisconnectCause::Refused(ack) => Some(ack),
                _ => None,
            },
            _ => None,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Io(e) => write!(f, "network: {e}"),
            Error::Session(e) => write!(f, "refused by the session: {e}"),
            Error::Encode(e) => write!(f, "cannot encode a packet: {e}"),
            Error::Closed(cause) => match cause.as_ref() {
                DisconnectCause::Refused(ack) => {
                    write!(f, "the server refused the connection: {}", ack.reason_code)
                }
                DisconnectCause::Peer(d) => {
                    write!(f, "the server closed the connection: {}", d.reason_code)?;
                    if let Some(why) = &d.properties.reason_string() {
                        write!(f, " ({why})")?;
                    }
                    Ok(())
                }
                DisconnectCause::ProtocolViolation(e) => {
                    write!(f, "the server broke the protocol: {e}")
                }
                DisconnectCause::KeepAliveTimeout => {
                    write!(f, "the server stopped answering (keep alive timeout)")
                }
                DisconnectCause::ConnectionLost => write!(f, "connection lost"),
                DisconnectCause::Local(code) => {
                    write!(f, "the connection was closed locally ({code})")
                }
                other => write!(f, "the connection ended: {other:?}"),
            },
            Error::NotConnected => write!(f, "not connected"),
            Error::Timeout(what) => write!(f, "timed out waiting for {what}"),
            Error::Save(path, e) => write!(f, "cannot save the session to {}: {e}", path.display()),
            Error::Load(path, e) => {
                write!(
                    f,
                    "cannot restore the session saved in {}: {e}",
                    path.display()
                )
            }
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Io(e) => Some(e),
            Error::Session(e) => Some(e),
            Error::Encode(e) => Some(e),
            Error::Save(_, e) => Some(e),
            Error::Load(_, LoadError::Io(e)) => Some(e),
            Error::Load(_, LoadError::Restore(e)) => Some(e),
            _ => None,
        }
    }
}

impl From<io::Error> for Error {
    fn from(e: io::Error) -> Self {
        Error::Io(e)
    }
}

impl From<SessionError> for Error {
    fn from(e: SessionError) -> Self {
        Error::Session(e)
    }
}

impl From<EncodeError> for Error {
    fn from(e: EncodeError) -> Self {
        Error::Encode(e)
    }
}

/// Which way a traced packet went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// Written to the socket.
    Sent,
    /// Read from the socket and handed to the session.
    Received,
    /// Handed over by the session while the output was lost
    /// ([`BlockingClient::set_output_lost`]): never written.
    Lost,
}

/// One packet on the wire, as the trace records it.
#[derive(Debug, Clone)]
pub struct Traced {
    /// Which way it went.
    pub direction: Direction,
    /// When it was read, or written (for [`Direction::Lost`], when it would have been).
    pub at: std::time::Instant,
    /// The packet (a sent one decoded back from the bytes written).
    pub packet: Packet,
    /// Its size on the wire.
    pub size: usize,
}

/// One save of the session state, as the trace records it
/// ([`BlockingClient::take_saves`]).
#[derive(Debug, Clone)]
pub struct Saved {
    /// When the file was in place: before the packets of the same input were written.
    pub at: std::time::Instant,
    /// The size of the file.
    pub size: usize,
    /// [`SessionState::unacknowledged`] of what was saved.
    pub unacknowledged: usize,
    /// [`SessionState::incomplete_incoming`] of what was saved.
    pub incomplete_incoming: usize,
}

/// Where the session state is saved, and the last bytes saved there.
#[derive(Debug)]
struct Persist {
    path: PathBuf,
    /// `path` with `.tmp` appended: written, synced, then renamed over `path`.
    tmp: PathBuf,
    /// What `path` holds now. A state that saves to the same bytes is not written again,
    /// so inputs that change nothing (PINGRESP, a QoS 0 message, SUBACK) cost a copy of
    /// the state in memory and no disk write.
    saved: BytesMut,
    /// The state being compared with `saved`; swapped with it after a write.
    scratch: BytesMut,
}

/// A blocking MQTT client over TCP. See the [module documentation](self).
#[derive(Debug)]
pub struct BlockingClient {
    session: Client,
    stream: Option<TcpStream>,
    decoder: Decoder,
    rx: BytesMut,
    tx: BytesMut,
    events: VecDeque<Event>,
    addr: Option<SocketAddr>,
    last_connect: Option<Connect>,
    last_cause: Option<DisconnectCause>,
    trace: Option<Vec<Traced>>,
    output_lost: bool,
    max_in_flight: usize,
    timeout: Duration,
    persist: Option<Persist>,
    saves: Vec<Saved>,
}

fn now() -> Instant {
    Instant::from(std::time::Instant::now())
}

impl BlockingClient {
    /// A client with an empty session.
    pub fn new(config: SessionConfig) -> Self {
        Self::with_session(config, SessionState::default())
    }

    /// A client that resumes `state` on its next connection with Clean Start 0.
    pub fn with_session(config: SessionConfig, state: SessionState) -> Self {
        let decoder = config.client_decoder(mqttwire::ProtocolVersion::V5);
        Self {
            session: Client::with_session(config, state),
            stream: None,
            decoder,
            rx: BytesMut::with_capacity(8 * 1024),
            tx: BytesMut::with_capacity(8 * 1024),
            events: VecDeque::new(),
            addr: None,
            last_connect: None,
            last_cause: None,
            trace: None,
            output_lost: false,
            max_in_flight: 0,
            timeout: Duration::from_secs(10),
            persist: None,
            saves: Vec::new(),
        }
    }

    /// From now on saves the session state to `path` after every input that changed it
    /// (a publish, an acknowledgement, a received QoS 2 PUBLISH or PUBREL, `ack`, the start
    /// or end of a connection), before writing the packets that input produced, as
    /// [`SessionState::save`] requires: so a process killed at any point resumes from the
    /// file without losing or duplicating a message. Each save writes `path.tmp`, syncs
    /// it to disk, renames it over `path` and syncs the directory, so `path` always holds
    /// one whole state, the old or the new. The first input saves in any case, so the
    /// file exists from the first `connect` on.
    ///
    /// A failed save is [`Error::Save`]: nothing of that input is written, and the
    /// connection is closed as lost, so the session resends it on the next connection.
    pub fn persist_to(&mut self, path: impl Into<PathBuf>) {
        let path = path.into();
        let mut tmp = OsString::from(path.as_os_str());
        tmp.push(".tmp");
        self.persist = Some(Persist {
            path,
            tmp: PathBuf::from(tmp),
            saved: BytesMut::new(),
            scratch: BytesMut::new(),
        });
    }

    /// The saves made since the last call, recorded while the trace is on
    /// ([`enable_trace`](Self::enable_trace)); their `at` orders them among the trace's
    /// packets.
    pub fn take_saves(&mut self) -> Vec<Saved> {
        std::mem::take(&mut self.saves)
    }

    /// How long `connect`, `subscribe`, `unsubscribe` and `publish_and_wait` wait for
    /// their answer (default 10 s).
    pub fn set_timeout(&mut self, timeout: Duration) {
        self.timeout = timeout;
    }

    /// Starts recording every packet sent and received (see [`trace`](Self::trace)).
    pub fn enable_trace(&mut self) {
        self.trace.get_or_insert_with(Vec::new);
    }

    /// The packets recorded since [`enable_trace`](Self::enable_trace), in wire order.
    pub fn trace(&self) -> &[Traced] {
        self.trace.as_deref().unwrap_or(&[])
    }

    /// Takes the recorded packets out, leaving the trace on and empty.
    pub fn take_trace(&mut self) -> Vec<Traced> {
        self.trace.as_mut().map(std::mem::take).unwrap_or_default()
    }

    /// The session engine.
    pub fn session(&self) -> &Client {
        &self.session
    }

    /// Whether the session is connected and the socket open.
    pub fn is_connected(&self) -> bool {
        self.stream.is_some() && self.session.is_connected()
    }

    /// How many of our QoS 1 and 2 messages await their acknowledgement now.
    pub fn in_flight(&self) -> usize {
        self.session.in_flight()
    }

    /// The largest [`in_flight`](Self::in_flight) seen after any input so far.
    pub fn max_in_flight_seen(&self) -> usize {
        self.max_in_flight
    }

    /// Why the last connection ended, if one did.
    pub fn last_disconnect(&self) -> Option<&DisconnectCause> {
        self.last_cause.as_ref()
    }

    /// The events received and not taken yet, oldest first.
    pub fn pending_events(&self) -> &VecDeque<Event> {
        &self.events
    }

    /// Opens a TCP connection to `addr` (the first of its addresses that accepts), sends `connect` and waits for CONNACK. A refusal
    /// is `Err(Error::Closed(cause))` with `DisconnectCause::Refused(connack)`; the session's
    /// `Event::Connected` or `Event::Disconnected` is returned, not queued.
    pub fn connect(
        &mut self,
        addr: impl ToSocketAddrs,
        connect: Connect,
    ) -> Result<Connected, Error> {
        if self.stream.is_some() && !self.session.is_connected() {
            self.stream = None;
        }
        // Every address the name resolves to, in order (`localhost` may be `::1` first
        // while the broker listens on IPv4 only).
        let mut last = io::Error::new(io::ErrorKind::InvalidInput, "no address to connect to");
        let mut opened = None;
        for addr in addr.to_socket_addrs()? {
            match TcpStream::connect_timeout(&addr, self.timeout) {
                Ok(stream) => {
                    opened = Some((addr, stream));
                    break;
                }
                Err(e) => last = e,
            }
        }
        let (addr, stream) = opened.ok_or(last)?;
        stream.set_nodelay(true)?;
        let version = connect.protocol_version;
        let start = self.events.len();
        self.session.connect(now(), connect.clone())?;
        self.decoder = self.session.config().client_decoder(version);
        self.rx.clear();
        self.stream = Some(stream);
        self.addr = Some(addr);
        self.last_connect = Some(connect);
        self.after_input()?;
        let wanted = |e: &Event| matches!(e, Event::Connected(_) | Event::Disconnected(_));
        match self.wait_from(start, wanted, self.timeout, "CONNACK")? {
            Event::Connected(connected) => Ok(connected),
            Event::Disconnected(cause) => Err(Error::Closed(Box::new(cause))),
            _ => unreachable!("filtered above"),
        }
    }

    /// Connects again to the same address with the same CONNECT, Clean Start 0, so the
    /// broker and the session resume the session (resending what is unacknowledged).
    pub fn reconnect(&mut self) -> Result<Connected, Error> {
        let (Some(addr), Some(mut connect)) = (self.addr, self.last_connect.clone()) else {
            return Err(Error::NotConnected);
        };
        connect.clean_start = false;
        self.connect(addr, connect)
    }

    /// Publishes `message` at `qos` (queued behind the broker's Receive Maximum if need be)
    /// and returns its packet identifier; the outcome arrives later as an event.
    pub fn publish(&mut self, qos: QoS, message: Publish) -> Result<Option<PacketId>, Error> {
        let id = self.session.publish(qos, message)?;
        self.after_input()?;
        Ok(id)
    }

    /// Publishes and, for QoS 1 and 2, waits for the outcome: `PublishAcknowledged`,
    /// `PublishCompleted`, `PublishFailed` or `PublishDropped`. `None` for QoS 0.
    pub fn publish_and_wait(&mut self, qos: QoS, message: Publish) -> Result<Option<Event>, Error> {
        let Some(id) = self.publish(qos, message)? else {
            return Ok(None);
        };
        self.wait_for_publish(id).map(Some)
    }

    /// Waits for the outcome of our QoS 1 or 2 message `id`.
    pub fn wait_for_publish(&mut self, id: PacketId) -> Result<Event, Error> {
        self.wait_for(
            |e| match e {
                Event::PublishAcknowledged { packet_id, .. }
                | Event::PublishCompleted { packet_id }
                | Event::PublishFailed { packet_id, .. }
                | Event::PublishDropped { packet_id, .. } => *packet_id == id,
                _ => false,
            },
            self.timeout,
        )
    }

    /// Subscribes and waits for the SUBACK.
    pub fn subscribe(
        &mut self,
        subscriptions: Vec<Subscription>,
        properties: SubscribeProperties,
    ) -> Result<SubAck, Error> {
        let id = self.session.subscribe(subscriptions, properties)?;
        self.after_input()?;
        let wanted = |e: &Event| matches!(e, Event::Subscribed(ack) if ack.packet_id == id);
        match self.wait_for(wanted, self.timeout)? {
            Event::Subscribed(ack) => Ok(ack),
            _ => unreachable!("filtered above"),
        }
    }

    /// Subscribes to one filter at `qos` with default options and waits for the SUBACK.
    pub fn subscribe_to(&mut self, filter: TopicFilter, qos: QoS) -> Result<SubAck, Error> {
        self.subscribe(
            vec![Subscription::new(filter, qos)],
            SubscribeProperties::default(),
        )
    }

    /// Unsubscribes and waits for the UNSUBACK.
    pub fn unsubscribe(&mut self, filters: Vec<TopicFilter>) -> Result<UnsubAck, Error> {
        let id = self
            .session
            .unsubscribe(filters, UnsubscribeProperties::default())?;
        self.after_input()?;
        let wanted = |e: &Event| matches!(e, Event::Unsubscribed(ack) if ack.packet_id == id);
        match self.wait_for(wanted, self.timeout)? {
            Event::Unsubscribed(ack) => Ok(ack),
            _ => unreachable!("filtered above"),
        }
    }

    /// Releases the acknowledgement of a received message (with
    /// [`SessionConfig::manual_acks`]).
    pub fn ack(&mut self, id: PacketId) -> Result<(), Error> {
        self.session.ack(id)?;
        self.after_input()
    }

    /// The next event, waiting up to `timeout` for one; `None` when none came, or when
    /// there is no connection and nothing is queued.
    pub fn next_event(&mut self, timeout: Duration) -> Result<Option<Event>, Error> {
        let deadline = std::time::Instant::now() + timeout;
        loop {
            if let Some(event) = self.events.pop_front() {
                return Ok(Some(event));
            }
            if self.stream.is_none() || std::time::Instant::now() >= deadline {
                return Ok(None);
            }
            self.step(Some(deadline))?;
        }
    }

    /// The first event (queued or arriving within `timeout`) that `wanted` accepts; the
    /// others stay queued, in order. Fails with [`Error::Closed`] when the connection ends
    /// without one, and [`Error::Timeout`] when `timeout` passes.
    pub fn wait_for(
        &mut self,
        wanted: impl FnMut(&Event) -> bool,
        timeout: Duration,
    ) -> Result<Event, Error> {
        self.wait_from(0, wanted, timeout, "an event")
    }

    /// The next application message, keeping other events queued.
    pub fn next_message(&mut self, timeout: Duration) -> Result<Publish, Error> {
        match self.wait_from(0, |e| matches!(e, Event::Message(_)), timeout, "a message")? {
            Event::Message(m) => Ok(m),
            _ => unreachable!("filtered above"),
        }
    }

    /// Takes every queued application message out, keeping the other events.
    pub fn take_messages(&mut self) -> Vec<Publish> {
        let mut messages = Vec::new();
        self.events.retain(|e| match e {
            Event::Message(m) => {
                messages.push(m.clone());
                false
            }
            _ => true,
        });
        messages
    }

    /// Services the connection for `duration` (keep alive, incoming messages, which are
    /// queued).
    pub fn run_for(&mut self, duration: Duration) -> Result<(), Error> {
        let deadline = std::time::Instant::now() + duration;
        while self.stream.is_some() && std::time::Instant::now() < deadline {
            self.step(Some(deadline))?;
        }
        Ok(())
    }

    /// Ends the connection with a normal DISCONNECT and waits (briefly) for the server to
    /// close its side.
    pub fn disconnect(&mut self) -> Result<(), Error> {
        self.disconnect_with(Disconnect::new(DisconnectReasonCode::NormalDisconnection))
    }

    /// Ends the connection with `disconnect` (MQTT 5.0; 3.1.1 sends its empty DISCONNECT).
    pub fn disconnect_with(&mut self, disconnect: Disconnect) -> Result<(), Error> {
        if self.stream.is_none() {
            return Err(Error::NotConnected);
        }
        self.session.disconnect(disconnect)?;
        self.after_input()
    }

    /// The link dies without DISCONNECT: whatever was written still reaches the server
    /// (our side shuts down its output after it, and the server sees the end of the
    /// stream), but nothing more from the server reaches the session, which is told the
    /// connection is lost. The server treats it as an abrupt close (it publishes the
    /// will); what the session has unacknowledged waits for [`reconnect`](Self::reconnect).
    pub fn drop_connection(&mut self) {
        if let Some(stream) = self.stream.take() {
            drain_and_close(stream, Duration::from_secs(2));
        }
        self.session.handle_connection_lost();
        // No transport: nothing can be written, so this cannot fail.
        let _ = self.after_input();
    }

    /// While `lost`, the packets the session hands over are recorded as
    /// [`Direction::Lost`] and never written, as on a link that drops our output.
    pub fn set_output_lost(&mut self, lost: bool) {
        self.output_lost = lost;
    }

    /// Writes `bytes` to the socket as they are, behind the session's back.
    pub fn send_raw(&mut self, bytes: &[u8]) -> Result<(), Error> {
        let Some(stream) = self.stream.as_mut() else {
            return Err(Error::NotConnected);
        };
        stream.write_all(bytes)?;
        if let Some(trace) = self.trace.as_mut() {
            let version = self.session.protocol_version();
            if let Ok((packet, size)) = Packet::decode(&Bytes::copy_from_slice(bytes), version) {
                trace.push(Traced {
                    direction: Direction::Sent,
                    at: std::time::Instant::now(),
                    packet,
                    size,
                });
            }
        }
        Ok(())
    }

    /// Waits for the first event at or after queue position `start` that `wanted` takes.
    fn wait_from(
        &mut self,
        start: usize,
        mut wanted: impl FnMut(&Event) -> bool,
        timeout: Duration,
        what: &'static str,
    ) -> Result<Event, Error> {
        let deadline = std::time::Instant::now() + timeout;
        let mut checked = start.min(self.events.len());
        loop {
            while checked < self.events.len() {
                if wanted(&self.events[checked]) {
                    return Ok(self.events.remove(checked).expect("index checked"));
                }
                checked += 1;
            }
            if self.stream.is_none() {
                return Err(match &self.last_cause {
                    Some(cause) => Error::Closed(Box::new(cause.clone())),
                    None => Error::NotConnected,
                });
            }
            if std::time::Instant::now() >= deadline {
                return Err(Error::Timeout(what));
            }
            self.step(Some(deadline))?;
        }
    }

    /// One turn of the run loop: waits for bytes until the session's next deadline or
    /// `until`, whichever is first, feeds what arrived to the session, and calls
    /// `handle_timeout`.
    fn step(&mut self, until: Option<std::time::Instant>) -> Result<(), Error> {
        let Some(stream) = self.stream.as_mut() else {
            return Ok(());
        };
        let mut wake = until;
        if let Some(deadline) = self.session.poll_timeout() {
            let deadline = std::time::Instant::from(deadline);
            wake = Some(wake.map_or(deadline, |w| w.min(deadline)));
        }
        let wait = wake.map(|w| w.saturating_duration_since(std::time::Instant::now()));
        let mut buf = [0u8; 16 * 1024];
        let read = if wait == Some(Duration::ZERO) {
            Err(io::ErrorKind::TimedOut.into())
        } else {
            // A zero timeout is an error for set_read_timeout: wait at least 1 ms.
            stream.set_read_timeout(wait.map(|w| w.max(Duration::from_millis(1))))?;
            stream.read(&mut buf)
        };
        match read {
            Ok(0) => return self.lost(),
            Ok(n) => {
                self.rx.extend_from_slice(&buf[..n]);
                self.decode_all()?;
            }
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock
                        | io::ErrorKind::TimedOut
                        | io::ErrorKind::Interrupted
                ) => {}
            Err(_) => return self.lost(),
        }
        // Early calls do nothing, so this needs no check of its own.
        self.session.handle_timeout(now());
        self.after_input()
    }

    /// Hands every complete packet in the receive buffer to the session.
    fn decode_all(&mut self) -> Result<(), Error> {
        while self.stream.is_some() {
            match self.decoder.decode(&mut self.rx) {
                Ok(Some(packet)) => {
                    if let Some(trace) = self.trace.as_mut() {
                        let size = packet
                            .encoded_len(self.session.protocol_version())
                            .unwrap_or(0);
                        trace.push(Traced {
                            direction: Direction::Received,
                            at: std::time::Instant::now(),
                            packet: packet.clone(),
                            size,
                        });
                    }
                    // A violation is also reported as Event::Disconnected.
                    let _ = self.session.handle_incoming(now(), packet);
                    self.after_input()?;
                }
                Ok(None) => break,
                Err(e) => {
                    self.session.handle_decode_error(&e);
                    self.after_input()?;
                    break;
                }
            }
        }
        Ok(())
    }

    /// The transport failed or reached its end.
    fn lost(&mut self) -> Result<(), Error> {
        self.stream = None;
        self.session.handle_connection_lost();
        self.after_input()
    }

    /// Steps 1 and 2 of the run loop: write what the session has to send, queue its
    /// events; close the transport when the connection is over.
    fn after_input(&mut self) -> Result<(), Error> {
        self.flush()?;
        let mut ended = false;
        while let Some(event) = self.session.poll_event() {
            if let Event::Disconnected(cause) = &event {
                self.last_cause = Some(cause.clone());
                ended = true;
            }
            self.events.push_back(event);
        }
        self.max_in_flight = self.max_in_flight.max(self.session.in_flight());
        if ended {
            if let Some(stream) = self.stream.take() {
                drain_and_close(stream, Duration::from_secs(2));
            }
        }
        Ok(())
    }

    /// Saves the state if it changed ([`persist_to`](Self::persist_to)), then writes every
    /// packet the session has to send, in one `write_all`.
    fn flush(&mut self) -> Result<(), Error> {
        let now = now();
        self.tx.clear();
        let version = self.session.protocol_version();
        // Traced once written, so that a save shows up before the packets it covers.
        let mut traced = Vec::new();
        loop {
            let start = self.tx.len();
            let Some(size) = self.session.poll_transmit_into(now, &mut self.tx)? else {
                break;
            };
            if self.trace.is_some() {
                let frame = Bytes::copy_from_slice(&self.tx[start..start + size]);
                if let Ok((packet, _)) = Packet::decode(&frame, version) {
                    traced.push((packet, size));
                }
            }
        }
        // After taking the packets: a message taken for the first time now counts as sent,
        // so that a resend from the saved state carries DUP.
        if let Err(e) = self.save() {
            self.stream = None;
            self.session.handle_connection_lost();
            return Err(e);
        }
        if let Some(trace) = self.trace.as_mut() {
            let at = std::time::Instant::now();
            let direction = if self.output_lost {
                Direction::Lost
            } else {
                Direction::Sent
            };
            trace.extend(traced.into_iter().map(|(packet, size)| Traced {
                direction,
                at,
                packet,
                size,
            }));
        }
        if self.tx.is_empty() || self.output_lost {
            return Ok(());
        }
        let Some(stream) = self.stream.as_mut() else {
            return Ok(());
        };
        if stream.write_all(&self.tx).is_err() {
            self.stream = None;
            self.session.handle_connection_lost();
        }
        Ok(())
    }

    /// Writes the session state to the file of [`persist_to`](Self::persist_to) unless it
    /// is what the file holds already.
    fn save(&mut self) -> Result<(), Error> {
        let Some(persist) = self.persist.as_mut() else {
            return Ok(());
        };
        let state = self.session.session();
        persist.scratch.clear();
        state.save(&mut persist.scratch)?;
        if persist.scratch == persist.saved {
            return Ok(());
        }
        write_atomically(&persist.tmp, &persist.path, &persist.scratch)
            .map_err(|e| Error::Save(persist.path.clone(), e))?;
        std::mem::swap(&mut persist.saved, &mut persist.scratch);
        if self.trace.is_some() {
            self.saves.push(Saved {
                at: std::time::Instant::now(),
                size: persist.saved.len(),
                unacknowledged: state.unacknowledged(),
                incomplete_incoming: state.incomplete_incoming(),
            });
        }
        Ok(())
    }
}

/// Reads a session saved by [`BlockingClient::persist_to`]: `Ok(None)` when `path` does
/// not exist (nothing was ever saved there), [`Error::Load`] when it cannot be read or
/// restored.
pub fn load_session(path: &Path) -> Result<Option<SessionState>, Error> {
    let load = |e| Error::Load(path.to_owned(), e);
    match fs::read(path) {
        Ok(bytes) => SessionState::restore(&bytes)
            .map(Some)
            .map_err(|e| load(LoadError::Restore(e))),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(load(LoadError::Io(e))),
    }
}

/// Replaces `path` with `bytes` so that a crash or a power loss at any point leaves either
/// the old or the new content: write `tmp`, sync it, rename it over `path`, sync the
/// directory (which makes the rename itself durable).
fn write_atomically(tmp: &Path, path: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut file = File::create(tmp)?;
    file.write_all(bytes)?;
    file.sync_all()?;
    drop(file);
    fs::rename(tmp, path)?;
    #[cfg(unix)]
    {
        let dir = match path.parent() {
            Some(dir) if !dir.as_os_str().is_empty() => dir,
            _ => Path::new("."),
        };
        File::open(dir)?.sync_all()?;
    }
    Ok(())
}

/// Closes our side after everything written, then reads (and discards) until the peer
/// closes its side or `limit` passes, so that neither side resets the connection.
fn drain_and_close(mut stream: TcpStream, limit: Duration) {
    let _ = stream.shutdown(Shutdown::Write);
    let deadline = std::time::Instant::now() + limit;
    let mut buf = [0u8; 4096];
    loop {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        if left.is_zero() || stream.set_read_timeout(Some(left)).is_err() {
            break;
        }
        match stream.read(&mut buf) {
            Ok(0) => break,
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(_) => break,
        }
    }
}
