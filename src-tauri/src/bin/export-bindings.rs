//! `export-bindings [PATH]`: writes the TypeScript bindings of the app's commands and events
//! (default `ui/src/bindings.ts` of the repository).

fn main() {
    let default = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../ui/src/bindings.ts");
    let path = std::env::args_os().nth(1).map(std::path::PathBuf::from).unwrap_or(default);
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).expect("creating the bindings folder");
    }
    match catalog_sync_desktop::export_bindings(&path) {
        Ok(()) => println!("wrote {}", path.display()),
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(1);
        }
    }
}
