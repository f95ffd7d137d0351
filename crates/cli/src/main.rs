//! `catalog-sync`: the headless front of Catalog Sync. Parses the command line (clap), opens
//! the catalog and runs the same core operations as the desktop app, rendering engine events
//! as progress bars (indicatif). Exit status: 0 when everything asked for succeeded, 1 when
//! any playlist or item failed (each is named in the summary), 2 on a usage or fatal error.

mod args;
mod commands;
mod control;
mod jobs_view;
mod progress;
mod retention_cmd;
#[cfg(feature = "serve")]
mod serve;

use clap::Parser;

fn main() -> std::process::ExitCode {
    catalog_sync_core::allocator::tune();
    let args = args::Args::parse();
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_env("CATALOG_SYNC_LOG"))
        .with_writer(std::io::stderr)
        .init();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return std::process::ExitCode::from(2);
        }
    };
    // on a worker thread, not this one: the command's event loop wakes per engine event, and a
    // task on the runtime wakes without a thread hand-off (a futex wake of this parked thread)
    let ran = runtime.block_on(async { tokio::spawn(commands::run(args)).await });
    match ran.unwrap_or_else(|e| Err(anyhow::anyhow!("the command's task failed: {e}"))) {
        Ok(true) => std::process::ExitCode::SUCCESS,
        Ok(false) => std::process::ExitCode::from(1),
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::from(2)
        }
    }
}
