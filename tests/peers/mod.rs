//! Independent MQTT peers for the interop tests: a throwaway mosquitto broker per test.
//!
//! [`Mosquitto::start`] finds the broker, writes a config into a fresh directory under the
//! system temp dir, starts `mosquitto -c CONFIG` as a foreground child on two free loopback
//! ports and waits until both listeners accept connections:
//!
//! - `127.0.0.1:port`: anonymous;
//! - `127.0.0.1:auth_port`: user name and password only ([`Mosquitto::USER`],
//!   [`Mosquitto::PASS`], from a `mosquitto_passwd` file).
//!
//! Dropping the [`Mosquitto`] kills and reaps the broker and removes its directory (kept,
//! and named on stderr, when the test is panicking: its `mosquitto.log` has every packet).
//!
//! # Peer policy
//!
//! When mosquitto cannot be found or started, `start` returns `None` after printing a skip
//! message that names the install command, and the test returns early, so `cargo test`
//! stays green on a machine without mosquitto. With `MQTTWIRE_REQUIRE_PEERS=1` (CI) it
//! panics instead: there a missing peer is a failure, never a skip.
//!
//! The broker is looked up as `$MOSQUITTO` (an explicit path that does not exist counts as
//! missing), then `mosquitto` on `PATH`, then `/usr/sbin/mosquitto` (Debian's location,
//! outside a normal user's `PATH`). `mosquitto_passwd` is looked up next to it, then on
//! `PATH`. The config follows what `MOSQUITTO.md` records about mosquitto 2.0: `user root`
//! when running as root (mosquitto would otherwise drop privileges before it writes its
//! log into our directory), `persistence false`, and the limits that become the CONNACK
//! properties: `max_inflight_messages` (Receive Maximum), `max_packet_size` (Maximum
//! Packet Size), `max_topic_alias` (Topic Alias Maximum).

#![allow(dead_code)]

use std::fmt::Write as _;
use std::fs;
use std::io::{Read as _, Write as _};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

/// The environment variable that turns a missing peer into a failure.
pub const REQUIRE_PEERS: &str = "MQTTWIRE_REQUIRE_PEERS";

/// How long a broker may take to open its listeners.
const START_TIMEOUT: Duration = Duration::from_secs(10);

/// Attempts with fresh ports when a port was taken between picking and binding it.
const START_ATTEMPTS: usize = 5;

/// Whether `MQTTWIRE_REQUIRE_PEERS` asks for missing peers to fail the tests.
pub fn peers_required() -> bool {
    std::env::var(REQUIRE_PEERS).is_ok_and(|v| !v.is_empty() && v != "0")
}

/// Applies the peer policy to a peer that is not there: panics under
/// `MQTTWIRE_REQUIRE_PEERS=1`, otherwise prints a skip message to stderr.
pub fn peer_missing(peer: &str, install: &str, why: &str) {
    let test = std::thread::current()
        .name()
        .unwrap_or("this test")
        .to_owned();
    if peers_required() {
        panic!(
            "{test}: {peer} is required ({REQUIRE_PEERS} is set) but unusable: {why}\n\
             install it with `{install}`"
        );
    }
    // Straight to the process's stderr: the test harness captures `eprintln!` of passing
    // tests, and a skip must be seen.
    let _ = writeln!(
        std::io::stderr(),
        "SKIPPED {test}: {peer} unusable: {why}; install it with `{install}` \
         (set {REQUIRE_PEERS}=1 to make this a failure)"
    );
}

/// Broker settings. The defaults are mosquitto's own where they show up in CONNACK
/// (Receive Maximum 20, Topic Alias Maximum 10) and 1 MiB for the Maximum Packet Size.
#[derive(Debug, Clone)]
pub struct Options {
    /// `max_inflight_messages`: the CONNACK Receive Maximum (MQTT 5.0).
    pub max_inflight: u16,
    /// `max_packet_size`: the CONNACK Maximum Packet Size (at least 20); `None`: no limit.
    pub max_packet_size: Option<u32>,
    /// `max_topic_alias` on both listeners: the CONNACK Topic Alias Maximum.
    pub max_topic_alias: u16,
    /// Extra global config lines.
    pub extra: Vec<String>,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            max_inflight: 20,
            max_packet_size: Some(1 << 20),
            max_topic_alias: 10,
            extra: Vec::new(),
        }
    }
}

/// A running mosquitto, killed when dropped.
#[derive(Debug)]
pub struct Mosquitto {
    child: Child,
    dir: PathBuf,
    /// The anonymous listener's port on 127.0.0.1.
    pub port: u16,
    /// The password listener's port on 127.0.0.1.
    pub auth_port: u16,
    /// The settings it runs with.
    pub options: Options,
}

impl Mosquitto {
    /// The user name accepted on [`auth_port`](Self::auth_port).
    pub const USER: &'static str = "mqttwire";
    /// Its password.
    pub const PASS: &'static str = "s3cret-pass";
    /// How to install it, for the skip and failure messages.
    pub const INSTALL: &'static str = "apt-get install mosquitto";

    /// Starts a broker with `options`; `None` (after the skip message) when mosquitto is
    /// missing or does not start, a panic instead under `MQTTWIRE_REQUIRE_PEERS=1`.
    pub fn start(options: Options) -> Option<Mosquitto> {
        match Self::try_start(options) {
            Ok(broker) => Some(broker),
            Err(why) => {
                peer_missing("mosquitto", Self::INSTALL, &why);
                None
            }
        }
    }

    /// Starts a broker with the default options.
    pub fn start_default() -> Option<Mosquitto> {
        Self::start(Options::default())
    }

    /// Starts a broker, or says why it could not.
    pub fn try_start(options: Options) -> Result<Mosquitto, String> {
        let binary = find_mosquitto()?;
        let passwd = find_passwd(&binary)?;
        let dir = make_dir()?;
        let result = (|| {
            let password_file = dir.join("passwd");
            make_password_file(&passwd, &password_file)?;
            let mut last = String::new();
            for _ in 0..START_ATTEMPTS {
                let (port, auth_port) = (free_port()?, free_port()?);
                if port == auth_port {
                    continue;
                }
                let config = config(&dir, port, auth_port, &options);
                fs::write(dir.join("mosquitto.conf"), config)
                    .map_err(|e| format!("cannot write the config into {}: {e}", dir.display()))?;
                match launch(&binary, &dir, port, auth_port)? {
                    Ok(child) => {
                        return Ok(Mosquitto {
                            child,
                            dir: dir.clone(),
                            port,
                            auth_port,
                            options: options.clone(),
                        })
                    }
                    Err(why) => last = why,
                }
            }
            Err(format!(
                "{} did not start in {START_ATTEMPTS} attempts: {last}",
                binary.display()
            ))
        })();
        if result.is_err() {
            let _ = fs::remove_dir_all(&dir);
        }
        result
    }

    /// The anonymous listener.
    pub fn addr(&self) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], self.port))
    }

    /// The password listener.
    pub fn auth_addr(&self) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], self.auth_port))
    }

    /// The broker's directory (config, password file, log).
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The broker's log so far (`log_type all`: one line per packet in and out).
    pub fn log(&self) -> String {
        fs::read_to_string(self.dir.join("mosquitto.log")).unwrap_or_default()
    }

    /// The version the broker announced in its log ("mosquitto version 2.0.11 running"),
    /// for assertions that pin one version's behaviour.
    pub fn version(&self) -> Option<String> {
        let log = self.log();
        let line = log.lines().find(|l| l.ends_with(" running"))?;
        let rest = &line[line.find("mosquitto version ")? + "mosquitto version ".len()..];
        rest.split_whitespace().next().map(str::to_owned)
    }
}

impl Drop for Mosquitto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if std::thread::panicking() {
            eprintln!(
                "mosquitto on ports {}/{}: config and log kept in {}",
                self.port,
                self.auth_port,
                self.dir.display()
            );
        } else {
            let _ = fs::remove_dir_all(&self.dir);
        }
    }
}

/// `$MOSQUITTO`, else `mosquitto` on `PATH`, else `/usr/sbin/mosquitto`.
fn find_mosquitto() -> Result<PathBuf, String> {
    if let Some(explicit) = std::env::var_os("MOSQUITTO").filter(|v| !v.is_empty()) {
        let path = PathBuf::from(&explicit);
        return if is_executable(&path) {
            Ok(path)
        } else {
            Err(format!(
                "MOSQUITTO={} is not an executable file",
                path.display()
            ))
        };
    }
    if let Some(path) = on_path("mosquitto") {
        return Ok(path);
    }
    let debian = PathBuf::from("/usr/sbin/mosquitto");
    if is_executable(&debian) {
        return Ok(debian);
    }
    Err("mosquitto not found ($MOSQUITTO unset, not on PATH, no /usr/sbin/mosquitto)".into())
}

/// `mosquitto_passwd` next to the broker (or in `../bin`, for an `sbin` broker), else on
/// `PATH`.
fn find_passwd(mosquitto: &Path) -> Result<PathBuf, String> {
    let dir = mosquitto.parent().unwrap_or(Path::new("."));
    let candidates = [
        dir.join("mosquitto_passwd"),
        dir.join("../bin/mosquitto_passwd"),
    ];
    candidates
        .into_iter()
        .find(|p| is_executable(p))
        .or_else(|| on_path("mosquitto_passwd"))
        .ok_or_else(|| {
            format!(
                "mosquitto_passwd not found next to {} nor on PATH",
                mosquitto.display()
            )
        })
}

fn on_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|p| is_executable(p))
}

fn is_executable(path: &Path) -> bool {
    let Ok(meta) = fs::metadata(path) else {
        return false;
    };
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        meta.is_file() && meta.permissions().mode() & 0o111 != 0
    }
    #[cfg(not(unix))]
    {
        meta.is_file()
    }
}

/// A new directory under the system temp dir, unique to this process and call.
fn make_dir() -> Result<PathBuf, String> {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let name = format!(
        "mqttwire-mosquitto-{}-{}-{nanos:09}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    );
    let dir = std::env::temp_dir().join(name);
    fs::create_dir(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    Ok(dir)
}

fn make_password_file(passwd: &Path, file: &Path) -> Result<(), String> {
    let out = Command::new(passwd)
        .arg("-b")
        .arg("-c")
        .arg(file)
        .arg(Mosquitto::USER)
        .arg(Mosquitto::PASS)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run {}: {e}", passwd.display()))?;
    if !out.status.success() {
        return Err(format!(
            "{} failed ({}): {}",
            passwd.display(),
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    Ok(())
}

/// A port that was free a moment ago (the listener is dropped: a race with other
/// processes is possible, and `start` retries with new ports when the bind fails).
fn free_port() -> Result<u16, String> {
    let listener =
        TcpListener::bind(("127.0.0.1", 0)).map_err(|e| format!("cannot pick a port: {e}"))?;
    listener
        .local_addr()
        .map(|a| a.port())
        .map_err(|e| format!("cannot pick a port: {e}"))
}

/// Whether this process runs as root, from the real uid on the `Uid:` line of
/// `/proc/self/status` (no `/proc`: assume not).
fn running_as_root() -> bool {
    fs::read_to_string("/proc/self/status").is_ok_and(|status| {
        status
            .lines()
            .find_map(|l| l.strip_prefix("Uid:"))
            .and_then(|ids| ids.split_whitespace().next())
            == Some("0")
    })
}

fn config(dir: &Path, port: u16, auth_port: u16, options: &Options) -> String {
    let mut c = String::new();
    let _ = writeln!(
        c,
        "# written by mqttwire's tests/peers/mod.rs; mosquitto >= 2.0"
    );
    if running_as_root() {
        // Otherwise mosquitto switches to user `mosquitto`, which cannot write here.
        let _ = writeln!(c, "user root");
    }
    let _ = writeln!(c, "per_listener_settings true");
    let _ = writeln!(c, "persistence false");
    let _ = writeln!(c, "log_dest file {}", dir.join("mosquitto.log").display());
    let _ = writeln!(c, "log_type all");
    let _ = writeln!(c, "connection_messages true");
    let _ = writeln!(c, "set_tcp_nodelay true");
    let _ = writeln!(c, "max_inflight_messages {}", options.max_inflight);
    let _ = writeln!(c, "max_queued_messages 1000");
    if let Some(size) = options.max_packet_size {
        let _ = writeln!(c, "max_packet_size {size}");
    }
    for line in &options.extra {
        let _ = writeln!(c, "{line}");
    }
    let _ = writeln!(c, "\nlistener {port} 127.0.0.1");
    let _ = writeln!(c, "allow_anonymous true");
    let _ = writeln!(c, "allow_zero_length_clientid true");
    let _ = writeln!(c, "max_topic_alias {}", options.max_topic_alias);
    let _ = writeln!(c, "\nlistener {auth_port} 127.0.0.1");
    let _ = writeln!(c, "allow_anonymous false");
    let _ = writeln!(c, "password_file {}", dir.join("passwd").display());
    let _ = writeln!(c, "allow_zero_length_clientid true");
    let _ = writeln!(c, "max_topic_alias {}", options.max_topic_alias);
    c
}

/// Starts the broker and waits until it is ready. `Err` is a setup failure (give up),
/// `Ok(Err)` a failed start worth retrying with other ports.
fn launch(
    binary: &Path,
    dir: &Path,
    port: u16,
    auth_port: u16,
) -> Result<Result<Child, String>, String> {
    let log = dir.join("mosquitto.log");
    let _ = fs::remove_file(&log);
    let stderr = fs::File::create(dir.join("stderr.log"))
        .map_err(|e| format!("cannot create a file in {}: {e}", dir.display()))?;
    let mut child = Command::new(binary)
        .arg("-c")
        .arg(dir.join("mosquitto.conf"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(stderr)
        .spawn()
        .map_err(|e| format!("cannot run {}: {e}", binary.display()))?;
    let started = Instant::now();
    loop {
        if let Ok(Some(status)) = child.try_wait() {
            let mut why = tail(&log);
            if why.is_empty() {
                why = tail(&dir.join("stderr.log"));
            }
            return Ok(Err(format!("mosquitto exited ({status}): {why}")));
        }
        // mosquitto logs "running" once every listener is open; the TCP probes make sure
        // the ports answer (and the log line that they are ours, not a neighbour's).
        let running = fs::read_to_string(&log).is_ok_and(|l| l.contains(" running"));
        if running && accepts(port) && accepts(auth_port) {
            return Ok(Ok(child));
        }
        if started.elapsed() > START_TIMEOUT {
            let _ = child.kill();
            let _ = child.wait();
            return Ok(Err(format!(
                "not ready after {START_TIMEOUT:?}: {}",
                tail(&log)
            )));
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn accepts(port: u16) -> bool {
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok()
}

/// The last lines of a log, on one line.
fn tail(path: &Path) -> String {
    let mut text = String::new();
    if let Ok(mut f) = fs::File::open(path) {
        let _ = f.read_to_string(&mut text);
    }
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(4)..].join(" | ")
}
