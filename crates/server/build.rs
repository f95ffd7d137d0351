//! The server embeds the built UI: fail early, with the command to run, when it is missing.

fn main() {
    let dist = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../ui/dist");
    println!("cargo:rerun-if-changed={}", dist.display());
    if !dist.join("index.html").exists() {
        panic!(
            "catalog-sync-server embeds the web UI, but {} has no index.html: build it first with \
             `npm --prefix ui ci && npm --prefix ui run build` (scripts/serve.sh does both)",
            dist.display()
        );
    }
}
