//! Rendering of the core's task-center projection and job logs, as `Api::task_center` and
//! `Api::job_history` return them; this module only lays them out as a table.

use std::io::IsTerminal;
use std::time::Duration;

use catalog_sync_core::api::{run_id, Api, JobHistory, JobStatus, TaskCenterView};

/// The task center as a text table.
pub fn render(tc: &TaskCenterView) -> String {
    let s = &tc.summary;
    let mut out = format!(
        "{} jobs: {} running, {} queued ({} download), {} paused, {} failed\n",
        s.total, s.running, s.queued, s.queued_download_jobs, s.paused, s.failed
    );
    out.push_str(&format!(
        "{:>4}  {:<20} {:<16} {:<9} {:<10} {:<14} {:<36} {:>3} {}\n",
        "id", "job", "status", "lane", "queue", "scope", "progress", "wk", "actions"
    ));
    for j in &tc.jobs {
        let actions: Vec<&str> = [
            (j.can_pause, "pause"),
            (j.can_resume, "resume"),
            (j.can_cancel, "cancel"),
            (j.can_retry, "retry"),
        ]
        .into_iter()
        .filter_map(|(ok, name)| ok.then_some(name))
        .collect();
        out.push_str(&format!(
            "{:>4}  {:<20} {:<16} {:<9} {:<10} {:<14} {:<36} {:>3} {}\n",
            j.id,
            j.display_name,
            j.status.as_str(),
            j.lane.as_str(),
            j.queue_label.as_deref().unwrap_or(""),
            j.scope_summary,
            j.progress_text,
            j.active_workers,
            actions.join(",")
        ));
        if let Some(error) = &j.last_error {
            out.push_str(&format!("      last error: {error}\n"));
        }
    }
    out
}

/// `catalog-sync jobs`: prints the task center; on a terminal, refreshes it every second
/// while any job is running or queued, unless `once`.
pub async fn jobs(api: &Api, once: bool) -> anyhow::Result<()> {
    let refresh = !once && std::io::stdout().is_terminal();
    loop {
        let tc = api.task_center().await?;
        let text = render(&tc);
        if refresh {
            print!("\x1b[2J\x1b[H{text}");
        } else {
            print!("{text}");
        }
        let active = tc.summary.running + tc.summary.queued > 0;
        if !refresh || !active {
            return Ok(());
        }
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_secs(1)) => {}
            _ = tokio::signal::ctrl_c() => return Ok(()),
        }
    }
}

/// `catalog-sync log <job>`: the job's runs, newest first, then its event log.
pub fn log(history: &JobHistory) {
    let row = &history.job;
    println!("job {} {} {}", history.id, row.kind.as_str(), row.status.as_str());
    for run in &history.runs {
        let outcome = run.outcome.map(|o| format!("{o:?}").to_lowercase()).unwrap_or_else(|| "open".into());
        println!("  {}  {outcome}", run_id(run.job, run.n));
        for step in &run.steps {
            let outcome =
                step.outcome.map(|o| format!("{o:?}").to_lowercase()).unwrap_or_else(|| "open".into());
            let error =
                step.error.as_ref().map(|e| format!("  [{}] {}", e.code, e.message)).unwrap_or_default();
            println!("    {:<9} {outcome}{error}", step.kind.as_str());
        }
    }
    for (_, line) in &history.log {
        println!("  {}  {:?}  {}", crate::commands::format_date(line.at_ms / 1000), line.kind, line.text);
    }
    if row.status == JobStatus::Running {
        println!("(running)");
    }
}
