//! `eventide-wasmtime`: runs an Eventide app's WASI 0.2 component on the wasmtime crate (48.0.8, the release the
//! current `wasmtime` CLI line is pinned to), with the guest's wait in `wasi:io/poll` done in the guest's own thread.
//!
//! Why not only the CLI: `wasmtime run` (47 and newer) executes the guest inside a multi-thread tokio runtime's
//! `block_on`, where only tokio's worker threads drive epoll. Every poll that finds nothing ready parks the
//! guest's thread until a worker wakes it (a futex and a context switch each time), which costs an evented server
//! about twice the CPU per request of wasmtime 36's preview1 (bench/what-we-tried.md). Here the guest runs in a
//! current-thread runtime: when a poll must wait, this thread waits in epoll itself, as libuv's loop does.
//!
//! Grants are exactly what the flags name (docs/cli.md, SECURITY.md): TCP on the addresses the user may use (the
//! same all-or-nothing network grant as the CLI's `-S inherit-network -S tcp`), no UDP, no name lookup; the
//! variables given with `--env`; the directories given with `--dir`, read-only unless marked writable.
use clap::Parser;
use std::future::Future;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};
use wasmtime::component::{Component, Linker, Resource, ResourceTable};
use wasmtime::{Cache, Config, Engine, Store, StoreLimits, StoreLimitsBuilder, Trap};
use wasmtime_wasi::{FsPerms, I32Exit, WasiCtx, WasiCtxBuilder, WasiCtxView, WasiView};
use wasmtime_wasi_io::poll::DynPollable;

#[derive(Parser)]
#[command(name = "eventide-wasmtime", version = concat!(env!("CARGO_PKG_VERSION"), " (wasmtime 48.0.8)"), about = "Runs an Eventide app's WASI 0.2 component")]
struct Args {
    /// An environment variable for the app (repeatable); nothing else of this process's environment is passed.
    #[arg(long = "env", value_name = "NAME=VALUE", value_parser = parse_env)]
    env: Vec<(String, String)>,
    /// A directory the app may read, as HOST::GUEST (repeatable).
    #[arg(long = "dir", value_name = "HOST::GUEST", value_parser = parse_dir)]
    dirs: Vec<(PathBuf, String)>,
    /// A directory the app may read and write, as HOST::GUEST (repeatable).
    #[arg(long = "dir-rw", value_name = "HOST::GUEST", value_parser = parse_dir)]
    writable_dirs: Vec<(PathBuf, String)>,
    /// The most linear memory the app may have, in bytes; a grow past it fails (memory.grow returns -1).
    #[arg(long = "max-memory-size", value_name = "BYTES")]
    max_memory_size: Option<usize>,
    /// The app's component (X.component.wasm, as `eventide build` writes it).
    component: PathBuf,
    /// The app's arguments (process.argv after the component's name).
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    args: Vec<String>,
}

fn parse_env(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((name, value)) if !name.is_empty() => Ok((name.to_string(), value.to_string())),
        _ => Err(format!("'{s}' is not NAME=VALUE")),
    }
}

fn parse_dir(s: &str) -> Result<(PathBuf, String), String> {
    match s.split_once("::") {
        Some((host, guest)) if !host.is_empty() && !guest.is_empty() => Ok((PathBuf::from(host), guest.to_string())),
        _ => Err(format!("'{s}' is not HOST::GUEST")),
    }
}

/// How stale tokio's readiness may be when a wasi:io/poll answers from it without running the I/O driver first.
/// Readiness comes from tokio's cache, which only the driver updates, and in this thread the driver runs only
/// when the guest waits (or yields). A poll that finds something ready in the cache never waits, so under load
/// the driver would not run and connections whose data came since would starve (p90 of 195 ms at 50
/// connections, measured); a driver turn at every poll (a yield: a fiber switch, an epoll_wait, a wake) cost 8%
/// more CPU per request. So a poll runs the driver first when it last ran this long ago: a guest busy in a
/// handler (a listener closing after it, whose queued connections must be seen) always gets a fresh look.
const DRIVER_REFRESH: Duration = Duration::from_micros(500);

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

struct Host {
    /// When tokio's I/O driver last ran: when a poll waited, or when one ran it first (see DRIVER_REFRESH).
    driver_turn: Instant,
    wasi: WasiCtx,
    table: ResourceTable,
    limits: StoreLimits,
}

impl WasiView for Host {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView { ctx: &mut self.wasi, table: &mut self.table }
    }
}

fn main() -> ExitCode {
    let args = Args::parse();
    let runtime = match tokio::runtime::Builder::new_current_thread().enable_io().enable_time().build() {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("Error: cannot start the event loop: {e}");
            return ExitCode::FAILURE;
        }
    };
    // Unconstrained: tokio's co-operative budget (128 ready results per task poll) would otherwise count every
    // readiness the guest's calls find, and the guest is one task: past 128 in one loop iteration, ready streams
    // read as empty and `check-write` as full, and a poll's later pollables as pending — the connections late in
    // the guest's poll list starved (p99 of 57 ms at 50 connections, ~44k req/s at 1,000).
    match runtime.block_on(tokio::task::unconstrained(run(args))) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // The app's wasi:cli/exit code, as the CLI passes it on.
            if let Some(exit) = e.downcast_ref::<I32Exit>() {
                return ExitCode::from(exit.0 as u8);
            }
            eprintln!("Error: {e:?}");
            // A trap exits as an abort would (128 + SIGABRT), as the wasmtime CLI's does.
            if e.is::<Trap>() { ExitCode::from(134) } else { ExitCode::FAILURE }
        }
    }
}

async fn run(args: Args) -> wasmtime::Result<()> {
    let mut config = Config::new();
    config.wasm_component_model(true);
    // The same compiled-code cache as the wasmtime CLI's (its default configuration), so a restart doesn't compile.
    config.cache(Some(Cache::from_file(None)?));
    let engine = Engine::new(&config)?;
    let component = Component::from_file(&engine, &args.component)
        .map_err(|e| e.context(format!("failed to load {}", args.component.display())))?;

    let mut wasi = WasiCtxBuilder::new();
    wasi.inherit_stdio();
    let name = args.component.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    wasi.arg(name);
    wasi.args(&args.args);
    for (name, value) in &args.env {
        wasi.env(name, value);
    }
    let dirs = args.dirs.iter().map(|d| (d, FsPerms::ReadOnly));
    for ((host, guest), perms) in dirs.chain(args.writable_dirs.iter().map(|d| (d, FsPerms::ReadWrite))) {
        wasi.preopened_dir(host, guest, perms)
            .map_err(|e| e.context(format!("failed to open directory {}", host.display())))?;
    }
    wasi.inherit_network().allow_tcp(true).allow_udp(false).allow_ip_name_lookup(false);

    let mut limits = StoreLimitsBuilder::new();
    if let Some(max) = args.max_memory_size {
        limits = limits.memory_size(max);
    }
    let host = Host { driver_turn: Instant::now(), wasi: wasi.build(), table: ResourceTable::new(), limits: limits.build() };
    let mut store = Store::new(&engine, host);
    store.limiter(|host| &mut host.limits);

    let mut linker: Linker<Host> = Linker::new(&engine);
    wasmtime_wasi::p2::add_to_linker_async(&mut linker)?;
    linker.allow_shadowing(true);
    linker.instance("wasi:io/poll@0.2.12")?.func_wrap_async("poll", |mut store: wasmtime::StoreContextMut<'_, Host>, (pollables,): (Vec<Resource<DynPollable>>,)| {
        Box::new(async move {
            if store.data().driver_turn.elapsed() >= DRIVER_REFRESH {
                tokio::task::yield_now().await;
                store.data_mut().driver_turn = Instant::now();
            }
            let (ready, waited) = {
                let table = &mut store.data_mut().table;
                let mut poll = std::pin::pin!(wasmtime_wasi_io::bindings::wasi::io::poll::Host::poll(table, pollables));
                let mut waited = false;
                let ready = std::future::poll_fn(|cx| {
                    let result = poll.as_mut().poll(cx);
                    waited |= result.is_pending();
                    result
                })
                .await?;
                (ready, waited)
            };
            if waited {
                store.data_mut().driver_turn = Instant::now(); // the runtime parked in the driver to wake this poll
            }
            Ok((ready,))
        })
    })?;
    let command = wasmtime_wasi::p2::bindings::Command::instantiate_async(&mut store, &component, &linker).await?;
    match command.wasi_cli_run().call_run(&mut store).await? {
        Ok(()) => Ok(()),
        Err(()) => Err(I32Exit(1).into()),
    }
}
