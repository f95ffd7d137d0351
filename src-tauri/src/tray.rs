//! The tray icon and the window's life: closing the window only hides it (downloads keep
//! running); the tray menu has Show, Pause all, Resume all and Quit. Quit asks first, with a
//! native dialog, when downloads are running, then shuts the engine down so claimed work goes
//! back to the queue and partial files resume next time. The tooltip shows the active
//! downloads and the summed speed, refreshed from the task center events (no timer of its own);
//! finished or failed jobs raise one grouped desktop notification, as the `notify` setting asks.

use std::sync::{Arc, Mutex};

use catalog_sync_core::api::notifications::{self, FinishedJob, NotifyGroup};
use catalog_sync_core::api::{format_speed, Api, JobAction, JobStatus, TaskCenterView};
use tauri::menu::{Menu, MenuItem, PredefinedMenuItem};
use tauri::tray::{MouseButton, MouseButtonState, TrayIconBuilder, TrayIconEvent};
use tauri::{AppHandle, Manager, Runtime};
use tauri_plugin_dialog::{DialogExt, MessageDialogButtons, MessageDialogKind};
use tauri_plugin_notification::NotificationExt;

use crate::events::Shell;

/// Id of the tray icon.
pub const TRAY_ID: &str = "main";

/// Shows, unminimizes and focuses the main window.
pub fn show_main<R: Runtime>(app: &AppHandle<R>) {
    if let Some(w) = app.get_webview_window("main") {
        let _ = w.show();
        let _ = w.unminimize();
        let _ = w.set_focus();
    }
}

/// Tooltip text for the task center: `Catalog Sync: idle` or
/// `Catalog Sync: 3 downloads, 2.1 MB/s`.
pub fn tooltip(tc: &TaskCenterView) -> String {
    if tc.active_workers == 0 && tc.summary.running == 0 {
        let queued =
            if tc.summary.queued > 0 { format!(", {} queued", tc.summary.queued) } else { String::new() };
        return format!("Catalog Sync: idle{queued}");
    }
    let n = tc.active_workers;
    let s = if n == 1 { "" } else { "s" };
    format!("Catalog Sync: {n} active download{s}, {}", format_speed(tc.total_speed_bps))
}

/// Builds the tray icon with its menu.
pub fn build<R: Runtime>(app: &AppHandle<R>) -> tauri::Result<()> {
    let show = MenuItem::with_id(app, "show", "Show Catalog Sync", true, None::<&str>)?;
    let pause = MenuItem::with_id(app, "pause_all", "Pause all", true, None::<&str>)?;
    let resume = MenuItem::with_id(app, "resume_all", "Resume all", true, None::<&str>)?;
    let quit = MenuItem::with_id(app, "quit", "Quit", true, None::<&str>)?;
    let sep = PredefinedMenuItem::separator(app)?;
    let menu = Menu::with_items(app, &[&show, &pause, &resume, &sep, &quit])?;
    let icon = tauri::image::Image::from_bytes(include_bytes!("../../icons/tray.png"))?;
    TrayIconBuilder::with_id(TRAY_ID)
        .icon(icon)
        .tooltip("Catalog Sync")
        .menu(&menu)
        .show_menu_on_left_click(false)
        .on_menu_event(|app, event| match event.id().as_ref() {
            "show" => show_main(app),
            "pause_all" => command_all(app, JobAction::Pause),
            "resume_all" => command_all(app, JobAction::Resume),
            "quit" => request_quit(app),
            _ => {}
        })
        .on_tray_icon_event(|tray, event| {
            if let TrayIconEvent::Click {
                button: MouseButton::Left,
                button_state: MouseButtonState::Up,
                ..
            } = event
            {
                show_main(tray.app_handle());
            }
        })
        .build(app)?;
    Ok(())
}

fn command_all<R: Runtime>(app: &AppHandle<R>, action: JobAction) {
    let api = app.state::<Api>().inner().clone();
    tauri::async_runtime::spawn(async move {
        if let Err(e) = api.job_command_all(action).await {
            tracing::warn!(error = %e.message, "tray command failed");
        }
    });
}

/// Quits, asking first when downloads are running.
pub fn request_quit<R: Runtime>(app: &AppHandle<R>) {
    let api = app.state::<Api>().inner().clone();
    let running = api.running_jobs().unwrap_or(0);
    if running == 0 {
        quit(app.clone(), api);
        return;
    }
    let app2 = app.clone();
    let s = if running == 1 { "" } else { "s" };
    app.dialog()
        .message(format!("{running} job{s} still running. Quit anyway? Partial downloads are kept and resume at the next start."))
        .title("Quit Catalog Sync")
        .kind(MessageDialogKind::Warning)
        .buttons(MessageDialogButtons::OkCancelCustom("Quit".into(), "Keep running".into()))
        .show(move |quit_now| {
            if quit_now {
                quit(app2, api);
            }
        });
}

fn quit<R: Runtime>(app: AppHandle<R>, api: Api) {
    tauri::async_runtime::spawn(async move {
        api.shutdown(std::time::Duration::from_secs(10)).await;
        app.exit(0);
    });
}

/// The real app's [`Shell`]: tray tooltip and notifications. Finished jobs go into the core's
/// [`NotifyGroup`] (the `notify` setting decides which count); a timer per finished job wakes
/// at the group's due time and shows the group's one notification if it is due, so many jobs
/// ending together raise one notification.
#[derive(Default)]
pub struct TrayShell {
    group: Arc<Mutex<NotifyGroup>>,
}

impl<R: Runtime> Shell<R> for TrayShell {
    fn task_center(&mut self, app: &AppHandle<R>, tc: &TaskCenterView) {
        if let Some(tray) = app.tray_by_id(TRAY_ID) {
            let _ = tray.set_tooltip(Some(tooltip(tc)));
        }
    }

    fn job_finished(&mut self, app: &AppHandle<R>, job: u64, status: JobStatus) {
        let (api, app, group) = (app.state::<Api>().inner().clone(), app.clone(), self.group.clone());
        let mode = api.config().notify;
        if !notifications::counts(mode, status) {
            return; // paused, cancelled by the user, re-queued at shutdown, or not asked for
        }
        tauri::async_runtime::spawn(async move {
            let detail = api.job_detail(job).await.ok();
            let name = detail.as_ref().map_or("Job".to_string(), |d| d.job.display_name.clone());
            let error = detail
                .and_then(|d| d.runs.last().cloned())
                .and_then(|run| run.steps.iter().find_map(|s| s.error.as_ref().map(|e| e.message.clone())));
            let now = api.now_ms();
            let due = {
                let mut g = group.lock().expect("notify group lock");
                g.push(mode, FinishedJob { job, name, status, error }, now);
                g.due_ms()
            };
            if let Some(due) = due {
                tokio::time::sleep(std::time::Duration::from_millis(due.saturating_sub(now).max(0) as u64))
                    .await;
            }
            let notice = group.lock().expect("notify group lock").take(api.now_ms());
            if let Some(n) = notice {
                if app.try_state::<tauri_plugin_notification::Notification<R>>().is_some() {
                    let _ = app.notification().builder().title(n.title).body(n.body).show();
                }
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use catalog_sync_core::api::SummaryView;

    fn tc(running: u32, workers: u32, bps: u64, queued: u32) -> TaskCenterView {
        TaskCenterView {
            jobs: vec![],
            summary: SummaryView {
                total: running + queued,
                queued,
                queued_download_jobs: 0,
                running,
                paused: 0,
                failed: 0,
            },
            older: 0,
            total_speed_bps: bps,
            active_workers: workers,
        }
    }

    #[test]
    fn tooltip_says_downloads_and_speed() {
        assert_eq!(tooltip(&tc(0, 0, 0, 0)), "Catalog Sync: idle");
        assert_eq!(tooltip(&tc(0, 0, 0, 2)), "Catalog Sync: idle, 2 queued");
        assert_eq!(tooltip(&tc(1, 3, 2_100_000, 0)), "Catalog Sync: 3 active downloads, 2.1 MB/s");
        assert_eq!(tooltip(&tc(1, 1, 512_000, 0)), "Catalog Sync: 1 active download, 512.0 kB/s");
    }
}
