//! The commands: each calls the core's application API (`catalog_sync_core::api::Api`, the
//! same functions the desktop app calls) and prints the result. Job commands (`sync`,
//! `download`, `run`) queue a job and run the engine until the queue is empty, which also
//! finishes work an interrupted earlier run left queued. While another process owns the
//! catalog, the commands it can answer go to its control socket (`control`).

use std::sync::Arc;

use anyhow::{bail, Context};
use catalog_sync_core::api::{
    AddKind, Api, AutoSyncView, CatalogStatus, ErrorCode, JobAction, JobCommand, JobKind, ListedItem,
    MediaChoice, PlaylistListing, WireError,
};
use catalog_sync_core::config::{Config, Overrides};

use crate::args::{Args, Command, ListWhat};
use crate::progress::Progress;

fn load_config(args: &Args) -> anyhow::Result<Config> {
    let overrides = Overrides {
        database: args.database.clone(),
        library: args.library.clone(),
        parallel_downloads: args.parallel,
    };
    Ok(Config::load_with(args.config.clone().or_else(Config::default_path).as_deref(), &overrides)?)
}

/// Runs the command; `Ok(false)` when something it tried failed (already reported).
pub async fn run(args: Args) -> anyhow::Result<bool> {
    let config = load_config(&args)?;
    #[cfg(feature = "serve")]
    if let Command::Serve { listen } = &args.command {
        let path = args.config.clone().or_else(Config::path_from_env);
        return crate::serve::serve(config, path, *listen).await.map(|()| true);
    }
    let api = match Api::open_system(config.clone(), None) {
        Ok(api) => api,
        Err(e) if e.code == ErrorCode::InUse && remote_capable(&args.command) => {
            return remote(&args.command, &config).await
        }
        Err(e) => return Err(e.into()),
    };
    match &args.command {
        Command::Add { urls, kind, format } => {
            for input in urls {
                let added = api.add_playlists_as(vec![input.clone()], (*kind).into(), *format).await?;
                let verb = if added.created > 0 { "added" } else { "already in the catalog:" };
                for id in added.ids {
                    let p = api.playlist(id).await?;
                    let via = if p.format.as_deref() == Some("ytdlp") { ", listed by yt-dlp" } else { "" };
                    println!("{verb} playlist {id} {} ({} items{via})", p.url, p.item_count);
                }
            }
            Ok(true)
        }
        Command::Format { playlist, format } => {
            let id = api.find_playlist(playlist.clone()).await?;
            let p = api.set_playlist_media(id, *format).await?;
            println!("playlist {id} {}: downloads {}", p.title, media_words(*format));
            Ok(true)
        }
        Command::Clean { playlists, dry_run } => crate::retention_cmd::clean(&api, playlists, *dry_run).await,
        Command::Keep { item, unkeep } => crate::retention_cmd::keep(&api, *item, !*unkeep).await,
        Command::Retention { playlist, rule } => crate::retention_cmd::set_rule(&api, playlist, *rule).await,
        Command::Tags { playlist, setting } => {
            let id = api.find_playlist(playlist.clone()).await?;
            let p = api.set_playlist_tagging(id, setting.enabled()).await?;
            let state = if p.tagging { "on" } else { "off" };
            println!("playlist {id} {}: tags and cover art {state}", p.title);
            Ok(true)
        }
        Command::Ytdlp { update: false } => {
            let s = api.ytdlp_status().await?;
            match (s.path, s.version, s.error) {
                (Some(path), Some(version), _) => println!("yt-dlp {version} at {path}"),
                (path, _, error) => {
                    let at = path.map(|p| format!(" at {p}")).unwrap_or_default();
                    println!("yt-dlp{at}: {}", error.unwrap_or_default());
                    return Ok(false);
                }
            }
            if let Some(install) = s.install {
                let how = if install.update_command.is_some() { "" } else { " (not updatable here)" };
                println!("{}{how}", install.note);
            }
            Ok(true)
        }
        Command::Ytdlp { update: true } => {
            let u = api.update_ytdlp().await?;
            if !u.output.is_empty() {
                println!("{}", u.output);
            }
            let v = |v: Option<String>| v.unwrap_or_else(|| "unknown".into());
            match (&u.before, &u.after) {
                (before, after) if before == after => {
                    println!("yt-dlp {} is up to date ({})", v(u.after), u.command)
                }
                _ => println!("yt-dlp updated from {} to {} ({})", v(u.before), v(u.after), u.command),
            }
            Ok(true)
        }
        Command::Import { source } => import(&api, source).await.map(|_| true),
        Command::ExportOpml { output } => {
            match output {
                Some(path) => api
                    .export_opml_to(path.display().to_string())
                    .await
                    .with_context(|| format!("writing {}", path.display()))?,
                None => print!("{}", api.export_opml().await?),
            }
            Ok(true)
        }
        Command::List { what, playlist } => {
            list(&api.listing(playlist.clone(), *what == ListWhat::Items).await?, *what);
            Ok(true)
        }
        Command::Sync { playlists } => run_job(&api, JobKind::SyncOnly, playlists, None, args.quiet).await,
        Command::Download { playlists } => {
            run_job(&api, JobKind::DownloadOnly, playlists, None, args.quiet).await
        }
        Command::Run { playlists } => run_job(&api, JobKind::SyncDownload, playlists, None, args.quiet).await,
        Command::Upload { playlists, target, download } => {
            let kind = if *download { JobKind::DownloadUpload } else { JobKind::UploadOnly };
            run_job(&api, kind, playlists, Some(target.clone()), args.quiet).await
        }
        Command::Targets { test } => targets(&api, *test).await,
        Command::Assign { playlist, targets } => {
            let id = api.find_playlist(playlist.clone()).await?;
            let set = api.set_playlist_targets(id, targets.clone()).await?;
            match set.is_empty() {
                true => println!("playlist {id}: no upload targets"),
                false => println!("playlist {id}: uploads to {}", set.join(", ")),
            }
            Ok(true)
        }
        Command::Status => {
            status(&api.catalog_status(20).await?, &config);
            Ok(true)
        }
        Command::Jobs { once } => crate::jobs_view::jobs(&api, *once).await.map(|_| true),
        Command::Schedule => {
            println!("{}", schedule_text(&api.auto_sync_status().await?));
            Ok(true)
        }
        Command::Organize { dry_run: true } => {
            let plan = api.organize_preview().await?;
            for r in &plan.renames {
                println!("{} -> {}", r.from, r.to);
            }
            println!(
                "{} to rename, {} already named after {:?}, {} missing from disk",
                plan.renames.len(),
                plan.unchanged,
                plan.template,
                plan.missing
            );
            for line in &plan.errors {
                println!("cannot name {line}");
            }
            Ok(plan.errors.is_empty())
        }
        Command::Organize { dry_run: false } => run_job(&api, JobKind::Organize, &[], None, args.quiet).await,
        Command::Log { job } => {
            crate::jobs_view::log(&api.job_history(*job).await?);
            Ok(true)
        }
        Command::Pause { job } => command(&api, *job, JobCommand::Pause).await,
        Command::Resume { job } => command(&api, *job, JobCommand::Resume).await,
        Command::Cancel { job } => command(&api, *job, JobCommand::Cancel).await,
        Command::Retry { job } => command(&api, *job, JobCommand::RetryFailed).await,
        Command::Want { playlists } => set_wanted(&api, playlists, true, false).await,
        Command::Unwant { playlists, delete } => set_wanted(&api, playlists, false, *delete).await,
        #[cfg(feature = "serve")]
        Command::Serve { .. } => unreachable!("handled before the catalog opens"),
    }
}

/// Selects or unselects playlists for download (see `Api::set_wanted`).
async fn set_wanted(api: &Api, selectors: &[String], wanted: bool, delete: bool) -> anyhow::Result<bool> {
    for selector in selectors {
        print!("{}", crate::control::set_wanted(api, selector, wanted, delete).await?);
    }
    Ok(true)
}

/// Commands a run that owns the catalog can answer over its control socket.
fn remote_capable(command: &Command) -> bool {
    matches!(
        command,
        Command::Jobs { .. }
            | Command::Pause { .. }
            | Command::Resume { .. }
            | Command::Cancel { .. }
            | Command::Retry { .. }
            | Command::Want { .. }
            | Command::Unwant { .. }
    )
}

/// Sends `command` to the run that owns the catalog (see `control`).
async fn remote(command: &Command, config: &Config) -> anyhow::Result<bool> {
    let socket = crate::control::socket_path(&config.database);
    let selection = match command {
        Command::Want { playlists } => Some((playlists, true, false)),
        Command::Unwant { playlists, delete } => Some((playlists, false, *delete)),
        _ => None,
    };
    if let Some((playlists, wanted, delete)) = selection {
        // the running engine stops transfers nobody wants any more
        let mut ok = true;
        for selector in playlists {
            let line = crate::control::selection_line(wanted, delete, selector);
            let reply = crate::control::request(&socket, &line).await.with_context(|| {
                format!(
                    "catalog {} is in use by another process, which does not answer at {}",
                    config.database.display(),
                    socket.display()
                )
            })?;
            print!("{reply}");
            ok &= !reply.starts_with("error:");
        }
        return Ok(ok);
    }
    let line = match command {
        Command::Jobs { .. } => "jobs".to_string(),
        Command::Pause { job } => crate::control::command_line(JobCommand::Pause, *job),
        Command::Resume { job } => crate::control::command_line(JobCommand::Resume, *job),
        Command::Cancel { job } => crate::control::command_line(JobCommand::Cancel, *job),
        Command::Retry { job } => crate::control::command_line(JobCommand::RetryFailed, *job),
        _ => unreachable!("remote_capable"),
    };
    let refresh = matches!(command, Command::Jobs { once: false })
        && std::io::IsTerminal::is_terminal(&std::io::stdout());
    let mut shown = false;
    loop {
        let reply = match crate::control::request(&socket, &line).await {
            Ok(reply) => reply,
            Err(_) if shown => {
                println!("(the run ended)");
                return Ok(true);
            }
            Err(e) => {
                return Err(e).with_context(|| {
                    format!(
                        "catalog {} is in use by another process, which does not answer at {}",
                        config.database.display(),
                        socket.display()
                    )
                })
            }
        };
        shown = true;
        if refresh {
            print!("\x1b[2J\x1b[H{reply}");
        } else {
            print!("{reply}");
            return Ok(!reply.starts_with("error:"));
        }
        tokio::select! {
            _ = tokio::time::sleep(std::time::Duration::from_secs(1)) => {}
            _ = tokio::signal::ctrl_c() => return Ok(true),
        }
    }
}

/// Sends a job command (see `Api::job_command`): it takes effect at once for a job no runner
/// holds (queued, paused, failed); a running job's runner applies it on its next tick.
async fn command(api: &Api, job: u64, cmd: JobCommand) -> anyhow::Result<bool> {
    println!(
        "{}",
        crate::control::command_reply(api.job_command(job, JobAction::from(cmd)).await, job, cmd)?
    );
    Ok(true)
}

/// Imports `source` by content (see `Api::import`) and prints what it did. Returns the ids of
/// the playlists it names (new or already known).
async fn import(api: &Api, source: &str) -> anyhow::Result<Vec<u64>> {
    let out = api.import(source.to_string()).await?;
    if out.subscription_list {
        println!(
            "imported {} playlists from {} ({} already in the catalog)",
            out.created,
            out.url,
            out.ids.len() as u32 - out.created
        );
    } else {
        let verb = if out.created > 0 { "added" } else { "already in the catalog:" };
        println!("{verb} playlist {} {} ({} items)", out.ids[0], out.url, out.items);
    }
    Ok(out.ids)
}

/// A format choice in words.
fn media_words(m: MediaChoice) -> String {
    match m {
        MediaChoice::BestAudio => "the best audio".into(),
        MediaChoice::AudioM4a => "the best audio as .m4a".into(),
        MediaChoice::AudioOpus => "the best audio as .opus".into(),
        MediaChoice::Video { max_height: Some(h) } => format!("the best video up to {h}p"),
        MediaChoice::Video { max_height: None } => "the best video".into(),
    }
}

/// Playlist ids for the selectors of a job command. With `add_unknown`, a selector that names
/// no playlist but is a URL or an existing path is imported first (`run <url>`); a web page
/// yt-dlp reads as a channel or playlist is added as a yt-dlp playlist.
async fn scope(api: &Api, selectors: &[String], add_unknown: bool) -> anyhow::Result<Vec<u64>> {
    let mut ids = Vec::new();
    for selector in selectors {
        match api.find_playlist(selector.clone()).await {
            Ok(id) => ids.push(id),
            Err(e)
                if e.code == ErrorCode::NotFound
                    && add_unknown
                    && (selector.contains("://") || std::path::Path::new(selector).exists()) =>
            {
                match import(api, selector).await {
                    Ok(found) => ids.extend(found),
                    // a web page: a channel or playlist yt-dlp lists, else both reasons
                    Err(e)
                        if e.downcast_ref::<WireError>().is_some_and(|w| w.code == ErrorCode::Unparsable) =>
                    {
                        let added = api.add_playlists_as(vec![selector.clone()], AddKind::Auto, None).await?;
                        println!("added playlist {} {selector} (listed by yt-dlp)", added.ids[0]);
                        ids.extend(added.ids);
                    }
                    Err(e) => return Err(e),
                }
            }
            Err(e) => return Err(e.into()),
        }
    }
    Ok(ids)
}

/// Queues a job of `kind` and runs the engine until nothing is left to run, rendering its
/// events as progress bars and serving the control socket meanwhile.
/// Prints the upload targets (`targets`), testing each with `test`; `Ok(false)` when a test
/// failed.
async fn targets(api: &Api, test: bool) -> anyhow::Result<bool> {
    let targets = api.list_targets().await?;
    if targets.is_empty() {
        println!("no upload targets; add [[upload_targets]] to the config file");
    }
    let mut all_ok = true;
    for t in targets {
        let secret = if t.has_password { ", password set" } else { "" };
        let mirror = if t.mirror { ", mirror" } else { "" };
        println!(
            "{}  {} {}{}{secret}{mirror}  playlists: {:?}",
            t.name, t.kind, t.location, t.root, t.playlists
        );
        if test {
            let r = api.test_target(t.name.clone()).await?;
            println!("  test: {} {}", if r.ok { "ok:" } else { "FAILED:" }, r.message);
            all_ok &= r.ok;
        }
    }
    Ok(all_ok)
}

async fn run_job(
    api: &Api,
    kind: JobKind,
    selectors: &[String],
    targets: Option<Vec<String>>,
    quiet: bool,
) -> anyhow::Result<bool> {
    let scope = scope(api, selectors, kind == JobKind::SyncDownload).await?;
    if api.catalog_is_empty().await? {
        bail!("the catalog has no playlists yet; add some with `catalog-sync add <url>` or `catalog-sync import <opml>`");
    }
    let progress = Arc::new(Progress::new(quiet));
    let library = api.config().library;
    let socket = crate::control::socket_path(api.database_path());
    let _control = crate::control::serve(socket, api.clone())
        .map_err(|e| tracing::warn!(error = %e, "no control socket"))
        .ok();
    let mut events = api.take_events().context("the event stream was taken already")?;
    match targets {
        Some(targets) => api.enqueue_upload(kind, scope, targets).await?,
        None if kind == JobKind::Organize => api.organize().await?,
        None => api.enqueue(kind, scope).await?,
    };
    let stopper = api.clone();
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            eprintln!("\ninterrupted: stopping; run the command again to resume");
            stopper.shutdown(std::time::Duration::ZERO).await;
        }
    });
    let started = std::time::Instant::now();
    let run = api.run_until_idle();
    tokio::pin!(run);
    let ran = loop {
        tokio::select! {
            biased;
            Some(event) = events.recv() => progress.on_event(&event),
            ran = &mut run => {
                // every event was sent before the run returned
                while let Ok(event) = events.try_recv() {
                    progress.on_event(&event);
                }
                break ran?;
            }
        }
    };
    Ok(progress.summary(&ran, started.elapsed(), &library))
}

fn list(listing: &[PlaylistListing], what: ListWhat) {
    for PlaylistListing { id, playlist: p, wanted, item_count, downloaded_count, items } in listing {
        if what == ListWhat::Playlists {
            let mut state = p.last_error.as_deref().map(|e| format!("  error: {e}")).unwrap_or_default();
            if *wanted {
                state.insert_str(0, "  [wanted]");
            }
            println!(
                "{id:>5}  {:<50}  {:>5} items  {:>5} downloaded  {}{state}",
                p.display_title(),
                item_count,
                downloaded_count,
                p.url
            );
            continue;
        }
        println!("{id:>5}  {}", p.display_title());
        for ListedItem { entry, failure, last_error, keep, removed } in items {
            let date = entry.item.published.map(format_date).unwrap_or_else(|| "undated   ".into());
            let mut state = match (&entry.file, &entry.item.enclosure, failure, last_error) {
                (Some(f), _, _, _) => format!("downloaded {}", f.path),
                (None, _, _, _) if *removed => "deleted by retention".into(),
                // the sources tried follow, each with its attempt, class and reason
                (None, _, Some(_), _) => "failed".into(),
                // e.g. `failed: attempt 3/3, transient: HTTP 503 Service Unavailable from <url>`
                (None, _, None, Some(error)) => format!("failed: {error}"),
                (None, Some(_), None, None) => "pending".into(),
                (None, None, None, None) => "no enclosure".into(),
            };
            if *keep {
                state.push_str(", keep");
            }
            println!(
                "{:>7}  {date}  {}  [{state}]",
                entry.id,
                entry.item.title.as_deref().unwrap_or("(untitled)")
            );
            // every source the resolver cascade tried, one per line
            if let Some(failed) = failure {
                for tried in &failed.sources_tried {
                    println!("{:>9}{:<10} {}", "", tried.source, tried.outcome);
                }
                if let Some(message) = &failed.agent_message {
                    println!("{:>9}{:<10} says: {message}", "", "agent");
                }
            }
        }
    }
}

/// `YYYY-MM-DD` (UTC) of Unix seconds, `?` for dates outside years 1..=9999.
pub fn format_date(secs: i64) -> String {
    catalog_sync_core::api::format_date(secs).unwrap_or_else(|| "?".into())
}

/// `YYYY-MM-DD HH:MM UTC` of Unix milliseconds.
pub fn format_time_ms(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let day = secs.rem_euclid(86_400);
    format!("{} {:02}:{:02} UTC", format_date(secs), day / 3600, day % 3600 / 60)
}

/// What `schedule` prints of the auto-sync schedule.
pub fn schedule_text(v: &AutoSyncView) -> String {
    let Some(every) = v.every_hours else {
        return "auto-sync is off (set auto_sync_hours in the settings)".into();
    };
    let next = match v.next_run_ms {
        Some(ms) => format!("next run {}", format_time_ms(ms)),
        None => "next run set when the app or `serve` starts".into(),
    };
    let last = match (v.last_run_ms, v.last_job) {
        (Some(ms), Some(job)) => format!("; last run {} (job {job})", format_time_ms(ms)),
        (Some(ms), None) => format!("; last run {} (skipped: a sync was still going)", format_time_ms(ms)),
        _ => String::new(),
    };
    format!("auto-sync every {every} h; {next}{last}")
}

fn status(st: &CatalogStatus, config: &Config) {
    println!("catalog  {}  ({} bytes)", st.database.display(), st.database_bytes);
    println!("library  {}", config.library.display());
    println!(
        "{} playlists ({} with sync errors), {} items, {} downloaded ({} bytes)",
        st.playlists, st.failing, st.items, st.files, st.bytes
    );
    if st.jobs.is_empty() {
        println!("no jobs yet");
    }
    for (id, job, counts) in &st.jobs {
        let scope = if job.scope.is_empty() {
            "all playlists".to_string()
        } else {
            format!("{} playlists", job.scope.len())
        };
        println!(
            "job {id:<4} {:<14} {:<10} {scope}, run {} time(s)",
            job.kind.as_str(),
            job.status.as_str(),
            job.runs
        );
        for (stage, c) in job.stages.iter().zip(counts) {
            let error = stage.error.as_deref().map(|e| format!("  ({e})")).unwrap_or_default();
            let cancelled =
                if c.cancelled > 0 { format!(", {} cancelled", c.cancelled) } else { String::new() };
            println!(
                "    {:<9} {:<8} {}/{} done, {} failed, {} skipped{cancelled}, {} queued{error}",
                stage.kind.as_str(),
                stage.status.as_str(),
                c.done,
                c.total(),
                c.failed,
                c.skipped,
                c.queued + c.running
            );
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn schedule_text_names_the_next_and_last_run() {
        use catalog_sync_core::api::AutoSyncView;
        let off = AutoSyncView { every_hours: None, next_run_ms: None, last_run_ms: None, last_job: None };
        assert!(super::schedule_text(&off).contains("off"));
        let on = AutoSyncView {
            every_hours: Some(6),
            next_run_ms: Some(1_710_288_000_000 + 3_723_000),
            last_run_ms: Some(1_710_288_000_000),
            last_job: Some(4),
        };
        assert_eq!(
            super::schedule_text(&on),
            "auto-sync every 6 h; next run 2024-03-13 01:02 UTC; last run 2024-03-13 00:00 UTC (job 4)"
        );
    }

    #[test]
    fn format_date_is_civil_utc() {
        assert_eq!(super::format_date(0), "1970-01-01");
        assert_eq!(super::format_date(1_710_288_000), "2024-03-13");
        assert_eq!(super::format_date(951_782_400), "2000-02-29");
    }
}
