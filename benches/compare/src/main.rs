//! Side-by-side comparison of mqttwire with other Rust MQTT codecs on the workloads of
//! benches/codec.rs. See README.md.
//!
//! `cargo run --release` prints the wall-time table and, when valgrind is installed, the
//! instructions-per-packet table (it runs itself under callgrind), then the targets.
//! Options: `--filter SUBSTRING` (on `case__codec`), `--quick` (shorter runs),
//! `--no-callgrind`, `--callgrind-only`, `--run-ms N`, `--runs N`.

#[path = "../../../tests/fixtures/alloc_counter.rs"]
mod alloc_counter;
#[path = "../../../tests/fixtures/mod.rs"]
mod fixtures;

mod cases;
mod harness;
mod names;
mod peers;

#[allow(dead_code)]
mod callgrind_fns {
    include!(concat!(env!("OUT_DIR"), "/measured.rs"));
}

use callgrind_fns::{Measured, MEASURED};
use cases::{Case, Op, Workload};
use harness::{Job, Spec};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

struct Config {
    filter: Option<String>,
    run: Duration,
    runs: usize,
    warmup: Duration,
    wall: bool,
    callgrind: bool,
    child: Option<PathBuf>,
}

fn parse_args() -> Config {
    let mut c = Config {
        filter: None,
        run: Duration::from_millis(200),
        runs: 5,
        warmup: Duration::from_millis(50),
        wall: true,
        callgrind: true,
        child: None,
    };
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--filter" => c.filter = args.next(),
            "--quick" => {
                c.run = Duration::from_millis(40);
                c.runs = 3;
                c.warmup = Duration::from_millis(10);
            }
            "--run-ms" => c.run = Duration::from_millis(args.next().unwrap().parse().unwrap()),
            "--runs" => c.runs = args.next().unwrap().parse().unwrap(),
            "--no-callgrind" => c.callgrind = false,
            "--callgrind-only" => c.wall = false,
            "--callgrind-child" => c.child = args.next().map(PathBuf::from),
            "--help" | "-h" => {
                println!(
                    "{}",
                    include_str!("main.rs")
                        .lines()
                        .take(8)
                        .collect::<Vec<_>>()
                        .join("\n")
                );
                std::process::exit(0);
            }
            other => panic!("unknown argument {other}"),
        }
    }
    c
}

/// `peers::spec`, with a panic while building or checking the job (a codec that fails on
/// the workload) turned into the reason it is not applicable.
fn try_spec(codec: &str, case: &Case) -> Result<Spec, String> {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let result =
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| peers::spec(codec, case)));
    std::panic::set_hook(previous);
    match result {
        Ok(r) => r,
        Err(payload) => Err(format!(
            "{codec} fails on this workload: {}",
            harness::panic_message(payload)
        )),
    }
}

fn measured_fn(case: &str, codec: &str) -> Measured {
    MEASURED
        .iter()
        .find(|(c, k, _)| *c == case && *k == codec)
        .map(|m| m.2)
        .expect("every case and codec has a measured function")
}

/// Every (case, codec) the filter selects, in table order.
fn selection(filter: &Option<String>) -> Vec<(&'static str, &'static str)> {
    let mut out = Vec::new();
    for case in names::CASES {
        for codec in names::CODECS {
            let key = format!("{case}__{codec}");
            if filter.as_ref().is_none_or(|f| key.contains(f.as_str())) {
                out.push((*case, *codec));
            }
        }
    }
    out
}

#[derive(Default, Clone)]
struct Cell {
    ns: Option<f64>,
    mbps: Option<f64>,
    allocs: Option<f64>,
    ir: Option<f64>,
    /// Not applicable (reason) or a remark on the measurement.
    note: Option<String>,
    na: bool,
}

/// Wall time of one batch through `measured`, calibrated: what timing an empty batch costs.
fn timer_overhead() -> f64 {
    struct Nothing;
    impl Job for Nothing {
        fn setup(&mut self) {}
        fn run(&mut self) {}
    }
    let f = MEASURED[0].2;
    let mut job = Nothing;
    let mut samples: Vec<f64> = (0..2001)
        .map(|_| {
            let t = Instant::now();
            f(&mut job);
            t.elapsed().as_nanos() as f64
        })
        .collect();
    samples.sort_by(f64::total_cmp);
    samples[samples.len() / 2]
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// ns per packet (median of `runs` runs of about `run` measured time each, after a warm-up)
/// and heap allocations per packet (counted around the measured batches only).
fn measure_wall(spec: &mut Spec, f: Measured, cfg: &Config, overhead: f64) -> (f64, f64) {
    let job = &mut *spec.job;
    let start = Instant::now();
    while start.elapsed() < cfg.warmup {
        job.setup();
        f(job);
    }
    let mut per_run = Vec::new();
    for _ in 0..cfg.runs {
        let mut total = Duration::ZERO;
        let mut batches = 0u64;
        while total < cfg.run {
            job.setup();
            let t = Instant::now();
            f(job);
            total += t.elapsed();
            batches += 1;
        }
        let ns = (total.as_nanos() as f64 - overhead * batches as f64).max(0.0);
        per_run.push(ns / (batches * spec.packets_per_run) as f64);
    }
    let mut allocs = 0;
    const ALLOC_BATCHES: u64 = 4;
    for _ in 0..ALLOC_BATCHES {
        job.setup();
        allocs += alloc_counter::count(|| f(job)).0;
    }
    (
        median(per_run),
        allocs as f64 / (ALLOC_BATCHES * spec.packets_per_run) as f64,
    )
}

/// Batches measured under callgrind: at least 1000 packets, at least 3 batches.
fn callgrind_batches(packets_per_run: u64) -> u64 {
    1000u64.div_ceil(packets_per_run).max(3)
}

/// Under valgrind: runs every selected case a fixed number of times through its measured
/// function (collection is on only inside those), and writes how many packets each did.
fn callgrind_child(cfg: &Config, out: &PathBuf) {
    let mut tsv = String::new();
    let mut cases: BTreeMap<&str, Case> = BTreeMap::new();
    for (case_id, codec) in selection(&cfg.filter) {
        let case = cases
            .entry(case_id)
            .or_insert_with(|| Case::from_id(case_id));
        let Ok(mut spec) = try_spec(codec, case) else {
            continue;
        };
        let f = measured_fn(case_id, codec);
        for _ in 0..2 {
            spec.job.setup();
            spec.job.run(); // warm-up, not collected: not inside a measured_* function
        }
        let batches = callgrind_batches(spec.packets_per_run);
        for _ in 0..batches {
            spec.job.setup();
            f(&mut *spec.job);
        }
        writeln!(
            tsv,
            "{case_id}\t{codec}\t{}",
            batches * spec.packets_per_run
        )
        .unwrap();
    }
    std::fs::write(out, tsv).unwrap();
}

fn command_output(cmd: &str, args: &[&str]) -> Option<String> {
    let out = Command::new(cmd).args(args).output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

/// Runs this program under callgrind and returns instructions per packet per (case, codec).
fn run_callgrind(cfg: &Config) -> Result<BTreeMap<(String, String), f64>, String> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/callgrind");
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let out_file = dir.join("callgrind.out");
    let tsv = dir.join("packets.tsv");
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let mut cmd = Command::new("valgrind");
    // glibc copies (and zero-fills) blocks of a few KiB and more with `rep movsb` /
    // `rep stosb`, which valgrind counts as one instruction per byte, and whether it does
    // depends on the distance between source and destination. Raising the thresholds makes
    // every copy use the vector loop, so copies count the same for every codec.
    cmd.env(
        "GLIBC_TUNABLES",
        "glibc.cpu.x86_rep_movsb_threshold=0xffffffffffffffff:glibc.cpu.x86_rep_stosb_threshold=0xffffffffffffffff",
    );
    cmd.arg("--tool=callgrind")
        .arg("--collect-atstart=no")
        .arg("--toggle-collect=*measured_*")
        .arg(format!("--callgrind-out-file={}", out_file.display()))
        .arg(&exe)
        .arg("--callgrind-child")
        .arg(&tsv);
    if let Some(f) = &cfg.filter {
        cmd.arg("--filter").arg(f);
    }
    let started = Instant::now();
    let status = cmd
        .stdout(std::process::Stdio::null())
        .stderr(std::fs::File::create(dir.join("valgrind.log")).map_err(|e| e.to_string())?)
        .status()
        .map_err(|e| e.to_string())?;
    if !status.success() {
        return Err(format!(
            "valgrind failed ({status}); see {}",
            dir.join("valgrind.log").display()
        ));
    }
    eprintln!("callgrind run: {:.0} s", started.elapsed().as_secs_f64());
    let ir = inclusive_costs(&std::fs::read_to_string(&out_file).map_err(|e| e.to_string())?);
    let mut per_packet = BTreeMap::new();
    for line in std::fs::read_to_string(&tsv)
        .map_err(|e| e.to_string())?
        .lines()
    {
        let mut f = line.split('\t');
        let (case, codec, packets) = (f.next().unwrap(), f.next().unwrap(), f.next().unwrap());
        let packets: f64 = packets.parse().unwrap();
        let key = (case.to_owned(), codec.to_owned());
        let total = ir.get(&key).copied().ok_or_else(|| {
            format!(
                "no callgrind cost for measured_{case}__{codec} in {}",
                out_file.display()
            )
        })?;
        per_packet.insert(key, total / packets);
    }
    Ok(per_packet)
}

/// Inclusive Ir of every `measured_{case}__{codec}` function in a callgrind output file:
/// the sum of all cost lines in its `fn=` blocks, which are its own instructions plus, on
/// the line after each `calls=`, the inclusive cost of that call. Collection was on only
/// inside these functions, so this is exactly what each case executed.
fn inclusive_costs(text: &str) -> BTreeMap<(String, String), f64> {
    let mut names: BTreeMap<String, String> = BTreeMap::new();
    let mut resolve = |spec: &str| -> String {
        let spec = spec.trim();
        if let Some(rest) = spec.strip_prefix('(') {
            let (id, name) = rest.split_once(')').unwrap();
            let name = name.trim();
            if name.is_empty() {
                names.get(id).cloned().unwrap_or_default()
            } else {
                names.insert(id.to_owned(), name.to_owned());
                name.to_owned()
            }
        } else {
            spec.to_owned()
        }
    };
    let mut current: Option<(String, String)> = None;
    let mut out: BTreeMap<(String, String), f64> = BTreeMap::new();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("fn=") {
            let name = resolve(rest);
            current = name.find("measured_").and_then(|at| {
                let tail: String = name[at + "measured_".len()..]
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                tail.split_once("__")
                    .map(|(a, b)| (a.to_owned(), b.to_owned()))
            });
        } else if let Some(rest) = line.strip_prefix("cfn=") {
            resolve(rest);
        } else if line.starts_with(|c: char| c.is_ascii_digit() || c == '+' || c == '-' || c == '*')
        {
            if let Some(key) = &current {
                if let Some(ir) = line
                    .split_whitespace()
                    .nth(1)
                    .and_then(|t| t.parse::<f64>().ok())
                {
                    *out.entry(key.clone()).or_default() += ir;
                }
            }
        }
    }
    out
}

fn fmt_num(x: f64) -> String {
    let digits = if x >= 100.0 {
        0
    } else if x >= 10.0 {
        1
    } else {
        2
    };
    let s = format!("{x:.digits$}");
    // Thousands separators on the integer part.
    let (int, frac) = s
        .split_once('.')
        .map_or((s.as_str(), None), |(i, f)| (i, Some(f)));
    let mut out = String::new();
    for (i, ch) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(ch);
    }
    if let Some(f) = frac {
        out.push('.');
        out.push_str(f);
    }
    out
}

fn main() {
    let cfg = parse_args();
    if let Some(out) = &cfg.child {
        callgrind_child(&cfg, out);
        return;
    }
    let started = Instant::now();
    let sel = selection(&cfg.filter);
    let case_ids: Vec<&str> = names::CASES
        .iter()
        .copied()
        .filter(|c| sel.iter().any(|s| s.0 == *c))
        .collect();
    let codecs: Vec<&str> = names::CODECS
        .iter()
        .copied()
        .filter(|c| sel.iter().any(|s| s.1 == *c))
        .collect();
    let cases: BTreeMap<&str, Case> = case_ids.iter().map(|id| (*id, Case::from_id(id))).collect();

    // Header.
    let valgrind = command_output("valgrind", &["--version"]);
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, m)| m.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown".into());
    let loadavg = || {
        std::fs::read_to_string("/proc/loadavg")
            .unwrap_or_default()
            .split_whitespace()
            .take(3)
            .collect::<Vec<_>>()
            .join(" ")
    };
    println!("# mqttwire vs other Rust MQTT codecs\n");
    println!(
        "- date: {}",
        command_output("date", &["-u", "+%Y-%m-%d %H:%M UTC"]).unwrap_or_default()
    );
    println!("- rustc: {}", env!("COMPARE_RUSTC_VERSION"));
    println!(
        "- CPU: {cpu}, {} logical CPUs",
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    println!(
        "- valgrind: {}",
        valgrind.as_deref().unwrap_or("not installed")
    );
    println!("- load average at start: {}", loadavg());
    println!(
        "- wall time: median of {} runs of {} ms measured time each, after {} ms of warm-up",
        cfg.runs,
        cfg.run.as_millis(),
        cfg.warmup.as_millis()
    );

    let mut cells: BTreeMap<(String, String), Cell> = BTreeMap::new();
    // Build every spec once up front (this checks every codec on every workload).
    let overhead = timer_overhead();
    for (case_id, codec) in &sel {
        let case = &cases[case_id];
        let mut cell = Cell::default();
        match try_spec(codec, case) {
            Err(why) => {
                cell.na = true;
                cell.note = Some(why);
            }
            Ok(mut spec) => {
                cell.note = spec.note.take();
                if cfg.wall {
                    eprint!("{case_id} {codec} …");
                    let (ns, allocs) =
                        measure_wall(&mut spec, measured_fn(case_id, codec), &cfg, overhead);
                    eprintln!(" {ns:.1} ns");
                    cell.ns = Some(ns);
                    cell.mbps = Some(spec.bytes_per_packet / ns * 1e3);
                    cell.allocs = Some(allocs);
                }
            }
        }
        cells.insert((case_id.to_string(), codec.to_string()), cell);
    }
    println!("- timer overhead subtracted per batch: {overhead:.0} ns");

    let mut callgrind_error = None;
    if cfg.callgrind && valgrind.is_some() {
        match run_callgrind(&cfg) {
            Ok(ir) => {
                for ((case, codec), v) in ir {
                    if let Some(c) = cells.get_mut(&(case, codec)) {
                        c.ir = Some(v);
                    }
                }
            }
            Err(e) => callgrind_error = Some(e),
        }
    }
    println!("- load average at end: {}", loadavg());
    println!();

    // Footnotes, numbered in order of appearance.
    let mut notes: Vec<String> = Vec::new();
    let mut mark = |cell: &Cell| -> String {
        match &cell.note {
            None => String::new(),
            Some(n) => {
                let i = notes.iter().position(|x| x == n).unwrap_or_else(|| {
                    notes.push(n.clone());
                    notes.len() - 1
                });
                format!(" [{}]", i + 1)
            }
        }
    };
    let header = |first: &str| {
        let mut h = format!("| {first} |");
        let mut sep = String::from("|---|");
        for c in &codecs {
            write!(h, " {} |", peers::display(c)).unwrap();
            sep.push_str("---:|");
        }
        (h, sep)
    };

    if cfg.wall {
        println!("## Wall time: ns per packet · MB/s · heap allocations per packet\n");
        let (h, sep) = header("case");
        println!("{h}\n{sep}");
        for id in &case_ids {
            let mut row = format!("| {} |", cases[id].label());
            for codec in &codecs {
                let cell = &cells[&(id.to_string(), codec.to_string())];
                let m = mark(cell);
                let text = match (cell.na, cell.ns) {
                    (true, _) if is_floor(codec) => "—".to_owned(),
                    (true, _) => format!("n/a{m}"),
                    (false, Some(ns)) => format!(
                        "{} ns · {} MB/s · {}{m}",
                        fmt_num(ns),
                        fmt_num(cell.mbps.unwrap()),
                        fmt_num(cell.allocs.unwrap())
                    ),
                    (false, None) => String::new(),
                };
                write!(row, " {text} |").unwrap();
            }
            println!("{row}");
        }
        println!();
    }

    let have_ir = cells.values().any(|c| c.ir.is_some());
    if have_ir {
        println!(
            "## Instructions per packet (callgrind, collection only inside the measured loop)\n"
        );
        let (mut h, mut sep) = header("case");
        h.push_str(" best peer | mqttwire ÷ best peer |");
        sep.push_str("---|---:|");
        println!("{h}\n{sep}");
        for id in &case_ids {
            let mut row = format!("| {} |", cases[id].label());
            for codec in &codecs {
                let cell = &cells[&(id.to_string(), codec.to_string())];
                let m = mark(cell);
                let text = match (cell.na, cell.ir) {
                    (true, _) if is_floor(codec) => "—".to_owned(),
                    (true, _) => format!("n/a{m}"),
                    (false, Some(ir)) => format!("{}{m}", fmt_num(ir)),
                    (false, None) => String::new(),
                };
                write!(row, " {text} |").unwrap();
            }
            let (best, ratio) = best_peer(&cells, id, |c| c.ir)
                .map(|(peer, ir)| {
                    let mine = cells
                        .get(&(id.to_string(), "mqttwire".into()))
                        .and_then(|c| c.ir);
                    (
                        peers::display(&peer).to_owned(),
                        mine.map_or(String::new(), |m| format!("{:.2}", m / ir)),
                    )
                })
                .unwrap_or_default();
            write!(row, " {best} | {ratio} |").unwrap();
            println!("{row}");
        }
        println!();
    } else if let Some(e) = &callgrind_error {
        println!("Instruction counts unavailable: {e}\n");
    } else if cfg.callgrind {
        println!("Instruction counts unavailable: valgrind is not installed.\n");
    }

    if !notes.is_empty() {
        println!("Notes:\n");
        for (i, n) in notes.iter().enumerate() {
            println!("{}. {n}", i + 1);
        }
        println!();
    }

    print_targets(&cells, &case_ids, &cases, cfg.wall, have_ir);
    eprintln!("total: {:.0} s", started.elapsed().as_secs_f64());
}

/// Whether `codec` is one of the floors rather than a codec.
fn is_floor(codec: &str) -> bool {
    matches!(codec, "framing" | "strict" | "strict_ref")
}

/// The best (lowest) value among the peers (not mqttwire, not the floor) for a case.
fn best_peer(
    cells: &BTreeMap<(String, String), Cell>,
    case: &str,
    value: impl Fn(&Cell) -> Option<f64>,
) -> Option<(String, f64)> {
    cells
        .iter()
        .filter(|((c, k), cell)| {
            c == case && !k.starts_with("mqttwire") && !is_floor(k) && !cell.na
        })
        .filter_map(|((_, k), cell)| value(cell).map(|v| (k.clone(), v)))
        .min_by(|a, b| a.1.total_cmp(&b.1))
}

fn print_targets(
    cells: &BTreeMap<(String, String), Cell>,
    case_ids: &[&str],
    cases: &BTreeMap<&str, Case>,
    wall: bool,
    have_ir: bool,
) {
    let get = |case: &str, codec: &str| cells.get(&(case.to_owned(), codec.to_owned()));
    let mine = |case: &str, f: &dyn Fn(&Cell) -> Option<f64>| get(case, "mqttwire").and_then(f);
    println!("## Targets\n");
    println!("| target | case | mqttwire | reference | ratio | limit | holds |\n|---|---|---:|---:|---:|---:|---|");
    // A target that even a floor misses is out of reach under mqttwire's contract: the
    // highest of `floors` (the owned floors for the owned API, the borrowed strict floor for
    // the borrowed core; none where no floor bounds the target).
    let floor = |case: &str, floors: &[&str]| {
        floors
            .iter()
            .filter_map(|k| get(case, k).and_then(|c| c.ir))
            .reduce(f64::max)
    };
    const OWNED: &[&str] = &["framing", "strict"];
    const BORROWED: &[&str] = &["strict_ref"];
    let row =
        |target: &str, case: &str, m: f64, r: f64, rname: &str, limit: f64, floors: &[&str]| {
            let ratio = m / r;
            let holds = match floor(case, floors) {
                _ if ratio <= limit => "yes".to_owned(),
                // A floor above mqttwire's own count would bound nothing.
                Some(f) if f <= m && f / r > limit => {
                    format!("no: floor {} is {:.2}×", fmt_num(f), f / r)
                }
                _ => "**no**".to_owned(),
            };
            println!(
                "| {target} | {} | {} | {} ({rname}) | {ratio:.2} | {limit} | {holds} |",
                cases[case].label(),
                fmt_num(m),
                fmt_num(r),
            );
        };
    if have_ir {
        for id in case_ids {
            let case = &cases[id];
            let limit = match case.op {
                Op::Decode => 0.5,
                Op::Encode => 0.8,
            };
            let target = match case.op {
                Op::Decode => "(1) decode Ir ≤ 0.5× best peer",
                Op::Encode => "(2) encode Ir ≤ 0.8× best peer",
            };
            let best = best_peer(cells, id, |c| c.ir);
            if let (Some(m), Some((peer, r))) = (mine(id, &|c| c.ir), &best) {
                row(target, id, m, *r, peers::display(peer), limit, OWNED);
            }
            // The borrowed core against the same peers, bounded by the borrowed strict
            // floor (which writes into a slice, as the borrowed core does).
            let borrowed = get(id, "mqttwire_ref").and_then(|c| c.ir);
            if let (Some(m), Some((peer, r))) = (borrowed, &best) {
                let target = match case.op {
                    Op::Decode => "(1b) borrowed decode Ir ≤ 0.5× best peer",
                    Op::Encode => "(2b) borrowed encode Ir ≤ 0.8× best peer",
                };
                row(target, id, m, *r, peers::display(peer), limit, BORROWED);
            }
        }
        for (v, limit) in [("v311", 150.0), ("v5", 160.0)] {
            let id = format!("decode_publish64_{v}");
            if let Some(m) = get(&id, "mqttwire_ref").and_then(|c| c.ir) {
                row(
                    "(6) borrowed decode of a 64 B PUBLISH, Ir",
                    &id,
                    m,
                    limit,
                    "the target",
                    1.0,
                    BORROWED,
                );
            }
        }
        for v in ["v311", "v5"] {
            let big = format!("decode_publish64k_{v}");
            let small = format!("decode_publish64_{v}");
            if let (Some(b), Some(s)) = (mine(&big, &|c| c.ir), mine(&small, &|c| c.ir)) {
                row(
                    "(3) Ir 64 KiB ≤ 2× Ir 64 B",
                    &big,
                    b,
                    s,
                    "64 B PUBLISH",
                    2.0,
                    &[],
                );
            }
            let chunks = format!("decode_chunks7_{v}");
            if let (Some(m), Some(f)) = (
                mine(&chunks, &|c| c.ir),
                get(&chunks, "framing").and_then(|c| c.ir),
            ) {
                row(
                    "(4) chunked Ir ≤ 1.3× framing loop",
                    &chunks,
                    m,
                    f,
                    "framing only",
                    1.3,
                    &[],
                );
            }
        }
    }
    if wall {
        for v in ["v311", "v5"] {
            let chunks = format!("decode_chunks7_{v}");
            if let (Some(m), Some(f)) = (
                mine(&chunks, &|c| c.ns),
                get(&chunks, "framing").and_then(|c| c.ns),
            ) {
                row(
                    "(4, wall time, for reference) chunked ns ≤ 1.3× framing loop",
                    &chunks,
                    m,
                    f,
                    "framing only",
                    1.3,
                    &[],
                );
            }
        }
        for id in case_ids {
            if let (Some(m), Some((peer, r))) =
                (mine(id, &|c| c.ns), best_peer(cells, id, |c| c.ns))
            {
                row(
                    "(5) wall time ahead of every peer",
                    id,
                    m,
                    r,
                    peers::display(&peer),
                    1.0,
                    &[],
                );
            }
        }
    }
    println!();
    let _ = Workload::Stream;
}
