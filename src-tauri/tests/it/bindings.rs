//! `ui/src/bindings.ts` is what the generator writes now (ARCHITECTURE.md, convention 12).

#[test]
fn committed_bindings_are_up_to_date() {
    let fresh = catalog_sync_desktop::bindings_text().expect("export bindings");
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../ui/src/bindings.ts");
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == fresh,
        "{} is stale: run `cargo run -p catalog-sync-desktop --bin export-bindings` and commit it",
        path.display()
    );
    for name in [
        "listPlaylists",
        "jobDetail",
        "saveSettings",
        "taskCenterChanged",
        "jobFinished",
        "WireError",
        "ErrorCode",
    ] {
        assert!(fresh.contains(name), "bindings lack {name}");
    }
}
