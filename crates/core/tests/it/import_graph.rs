//! The import graph of `src/` has no cycle (issue 11, part 4), at every level: between the
//! crate's top-level modules (`store` <-> `download` was one), and between the sibling
//! modules of every folder (`jobs::runner` <-> the stages was one). It also holds the layering
//! ARCHITECTURE.md draws: `store` depends on nothing above it (only on `catalog`'s parsed model
//! and the leaf modules `clock`, `config` and `error_chain`); `catalog` only on the leaves
//! `clock`, `error_chain` and `net_guard`, which import nothing.
//!
//! How: every `.rs` file under `src/` is a module (`a/b.rs` and `a/b/mod.rs` are `a::b`). Every
//! path written in code (comments skipped) that starts with `crate::`, `super::` or `self::`,
//! brace groups included (`super::{a, b::C}`), is resolved to the longest known module it
//! names; a name a folder's `mod.rs` re-exports (`pub use child::{Name}`) resolves to that
//! child. At each folder the nodes are its children (a child folder counts with everything
//! under it) and an edge `A -> B` means code in `A` names something in `B`; the folder's own
//! `mod.rs` (declaring and re-exporting its children) is not a node. Test code counts too.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

type ModPath = Vec<String>;

/// Module path of a source file under `src`.
fn module_of(src: &Path, file: &Path) -> ModPath {
    let rel = file.strip_prefix(src).unwrap();
    let mut parts: Vec<String> = rel.iter().map(|c| c.to_string_lossy().into_owned()).collect();
    let last = parts.pop().unwrap();
    match last.as_str() {
        "lib.rs" | "main.rs" | "mod.rs" => {}
        name => parts.push(name.trim_end_matches(".rs").to_string()),
    }
    parts
}

fn rs_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rs_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The code of a file with `//` comments (and doc comments) removed; string contents stay
/// (no path in a string literal starts with `crate::` in this crate).
fn code_of(text: &str) -> String {
    text.lines()
        .map(|l| match l.find("//") {
            Some(i) if !l[..i].contains('"') => &l[..i],
            _ => l,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn ident_at(s: &[u8], mut i: usize) -> (String, usize) {
    let start = i;
    while i < s.len() && (s[i].is_ascii_alphanumeric() || s[i] == b'_') {
        i += 1;
    }
    (String::from_utf8_lossy(&s[start..i]).into_owned(), i)
}

/// Parses the path tail after `prefix::` at `i`: `a::b::C`, `{a, b::{c, D}}`, `*`. Pushes
/// each full path (segments after the prefix) into `out`; returns the index after it.
fn parse_tail(s: &[u8], mut i: usize, base: &[String], out: &mut Vec<ModPath>) -> usize {
    let mut path = base.to_vec();
    loop {
        while i < s.len() && s[i].is_ascii_whitespace() {
            i += 1;
        }
        if i < s.len() && s[i] == b'{' {
            i += 1;
            loop {
                i = parse_tail(s, i, &path, out);
                while i < s.len() && (s[i].is_ascii_whitespace() || s[i] == b',') {
                    i += 1;
                }
                if i >= s.len() || s[i] == b'}' {
                    return i + 1;
                }
            }
        }
        let (ident, next) = ident_at(s, i);
        if ident.is_empty() {
            out.push(path);
            return i;
        }
        path.push(ident);
        i = next;
        if s[i..].starts_with(b"::") {
            i += 2;
        } else {
            out.push(path);
            return i;
        }
    }
}

/// Every module path the code of module `me` names (absolute, unresolved).
fn referenced_paths(me: &ModPath, code: &str) -> Vec<ModPath> {
    let s = code.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < s.len() {
        let boundary = i == 0 || !(s[i - 1].is_ascii_alphanumeric() || s[i - 1] == b'_' || s[i - 1] == b':');
        let (word, next) = ident_at(s, i);
        if word.is_empty() {
            i += 1;
            continue;
        }
        if boundary && s[next..].starts_with(b"::") && matches!(word.as_str(), "crate" | "super" | "self") {
            let mut base: ModPath = match word.as_str() {
                "crate" => Vec::new(),
                "self" => me.clone(),
                _ => me[..me.len().saturating_sub(1)].to_vec(),
            };
            let mut j = next + 2;
            while s[j..].starts_with(b"super::") {
                base.pop();
                j += "super::".len();
            }
            i = parse_tail(s, j, &base, &mut out);
        } else {
            i = next;
        }
    }
    out
}

struct Crate {
    /// Module -> its code.
    modules: BTreeMap<ModPath, String>,
    /// (module, re-exported name) -> child module it comes from.
    reexports: BTreeMap<(ModPath, String), ModPath>,
}

impl Crate {
    fn load() -> Crate {
        // `IMPORT_GRAPH_SRC` points the check at another tree (e.g. an older checkout)
        let src = std::env::var_os("IMPORT_GRAPH_SRC")
            .map(PathBuf::from)
            .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("src"));
        let mut files = Vec::new();
        rs_files(&src, &mut files);
        let modules: BTreeMap<ModPath, String> = files
            .iter()
            .map(|f| (module_of(&src, f), code_of(&std::fs::read_to_string(f).unwrap())))
            .collect();
        let mut reexports = BTreeMap::new();
        for (m, code) in &modules {
            for line in code.split(';').map(str::trim).filter(|l| l.starts_with("pub use ")) {
                let tail = &line["pub use ".len()..];
                let mut paths = Vec::new();
                parse_tail(tail.as_bytes(), 0, &[], &mut paths);
                for p in paths {
                    let mut child = m.clone();
                    child.push(p[0].clone());
                    if p.len() > 1 && modules.contains_key(&child) {
                        reexports.insert((m.clone(), p.last().unwrap().clone()), child);
                    }
                }
            }
        }
        Crate { modules, reexports }
    }

    /// The module `path` lands in: its longest known prefix, following re-exports.
    fn resolve(&self, path: &ModPath) -> ModPath {
        let mut n = path.len();
        while n > 0 && !self.modules.contains_key(&path[..n]) {
            n -= 1;
        }
        let found = path[..n].to_vec();
        match path.get(n).and_then(|name| self.reexports.get(&(found.clone(), name.clone()))) {
            Some(child) => child.clone(),
            None => found,
        }
    }

    /// Edges between the children of folder `parent` (module docs).
    fn edges_under(&self, parent: &ModPath) -> BTreeMap<String, BTreeSet<String>> {
        let child_of = |m: &ModPath| -> Option<String> {
            (m.len() > parent.len() && m[..parent.len()] == parent[..]).then(|| m[parent.len()].clone())
        };
        let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for (m, code) in &self.modules {
            let Some(from) = child_of(m) else { continue };
            edges.entry(from.clone()).or_default();
            for target in referenced_paths(m, code).iter().map(|p| self.resolve(p)) {
                if let Some(to) = child_of(&target) {
                    if to != from {
                        edges.entry(from.clone()).or_default().insert(to);
                    }
                }
            }
        }
        edges
    }
}

/// A cycle of `edges`, if any, as the list of nodes walked.
fn find_cycle(edges: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        node: &str,
        edges: &BTreeMap<String, BTreeSet<String>>,
        state: &mut BTreeMap<String, u8>,
        stack: &mut Vec<String>,
    ) -> Option<Vec<String>> {
        state.insert(node.to_string(), 1);
        stack.push(node.to_string());
        for next in edges.get(node).into_iter().flatten() {
            match state.get(next.as_str()) {
                Some(1) => {
                    let start = stack.iter().position(|n| n == next).unwrap();
                    let mut cycle = stack[start..].to_vec();
                    cycle.push(next.clone());
                    return Some(cycle);
                }
                Some(_) => {}
                None => {
                    if let Some(c) = visit(next, edges, state, stack) {
                        return Some(c);
                    }
                }
            }
        }
        stack.pop();
        state.insert(node.to_string(), 2);
        None
    }
    let mut state = BTreeMap::new();
    for node in edges.keys() {
        if !state.contains_key(node.as_str()) {
            if let Some(c) = visit(node, edges, &mut state, &mut Vec::new()) {
                return Some(c);
            }
        }
    }
    None
}

#[test]
fn no_module_cycle_at_any_level() {
    let krate = Crate::load();
    let folders: BTreeSet<ModPath> =
        krate.modules.keys().filter(|m| !m.is_empty()).map(|m| m[..m.len() - 1].to_vec()).collect();
    let mut cycles = Vec::new();
    for folder in &folders {
        let mut edges = krate.edges_under(folder);
        // every cycle, one at a time: report it, cut its first edge, look again
        while let Some(cycle) = find_cycle(&edges) {
            cycles.push(format!("crate::{}: {}", folder.join("::"), cycle.join(" -> ")));
            edges.get_mut(&cycle[0]).unwrap().remove(&cycle[1]);
        }
    }
    assert!(cycles.is_empty(), "import cycles:\n{}", cycles.join("\n"));
}

#[test]
fn store_depends_on_nothing_above_it() {
    let krate = Crate::load();
    let top = krate.edges_under(&Vec::new());
    let allowed: BTreeSet<String> = ["catalog", "clock", "config", "error_chain"].map(String::from).into();
    let above: Vec<&String> = top["store"].iter().filter(|m| !allowed.contains(*m)).collect();
    assert!(above.is_empty(), "store imports {above:?}");
    // catalog may use the leaf helpers only; the leaves import nothing
    let leaves: BTreeSet<String> = ["clock", "error_chain", "net_guard"].map(String::from).into();
    let catalog_above: Vec<&String> = top["catalog"].iter().filter(|m| !leaves.contains(*m)).collect();
    assert!(catalog_above.is_empty(), "catalog imports {catalog_above:?}");
    for leaf in &leaves {
        assert!(top[leaf].is_empty(), "{leaf} imports {:?}", top[leaf]);
    }
}

#[test]
fn the_check_sees_a_cycle() {
    let me: ModPath = vec!["jobs".into(), "runner".into()];
    let paths =
        referenced_paths(&me, "use super::{job_task, context::{Context, JobCtx}};\nuse crate::store::X;");
    let expected: Vec<ModPath> = vec![
        vec!["jobs".into(), "job_task".into()],
        vec!["jobs".into(), "context".into(), "Context".into()],
        vec!["jobs".into(), "context".into(), "JobCtx".into()],
        vec!["store".into(), "X".into()],
    ];
    assert_eq!(paths, expected);
    let edges: BTreeMap<String, BTreeSet<String>> = [
        ("a".to_string(), BTreeSet::from(["b".to_string()])),
        ("b".to_string(), BTreeSet::from(["a".to_string()])),
    ]
    .into();
    assert_eq!(find_cycle(&edges), Some(vec!["a".to_string(), "b".to_string(), "a".to_string()]));
}
