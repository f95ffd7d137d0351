//! Every OPML file in the corpus against its manifest notes, the broken one, and an
//! export/import round trip of real subscription lists.

use crate::catalog_common::{manifest, number_after, parse};
use catalog_sync_core::catalog::{export_opml, parse_opml, Document, ParseError, Subscription};

fn subs(path: &str) -> Vec<Subscription> {
    match parse(path) {
        Ok(Document::Subscriptions(s)) => s,
        other => panic!("{path}: {other:?}"),
    }
}

/// Expected subscriptions from the notes: `feeds(xmlUrl)=N`, minus `(K empty)` ones.
fn expected(notes: &str) -> Option<usize> {
    let n = number_after(notes, "feeds(xmlUrl)=")?;
    let empty = notes
        .split("feeds(xmlUrl)=")
        .nth(1)
        .and_then(|rest| rest.split(';').next())
        .and_then(|seg| number_after(seg, "("))
        .unwrap_or(0);
    Some(n - empty)
}

#[test]
fn subscription_counts_match_the_manifest() {
    let mut checked = 0;
    for row in manifest().into_iter().filter(|r| r.kind == "opml") {
        let got = subs(&row.path);
        if row.name() == "rome__opml_1.0_links.xml" {
            // No xmlUrl at all: 49 outlines, 9 folders, 40 `type="link"` outlines with `url`.
            assert_eq!(expected(&row.notes), Some(0));
            assert_eq!(got.len(), 40);
            checked += 1;
            continue;
        }
        let want = expected(&row.notes).unwrap_or_else(|| panic!("{}: no count in notes", row.path));
        assert_eq!(got.len(), want, "{}", row.path);
        assert!(got.iter().all(|s| s.url.contains("://")), "{}", row.path);
        checked += 1;
    }
    assert!(checked >= 12, "{checked}");
}

#[test]
fn folders_titles_and_html_urls() {
    let s = subs("opml/rome__opml_2.0.xml");
    assert!(s.iter().any(|x| !x.folders.is_empty()));
    let s = subs("opml/rsparser__SubsNoTitleAttributes.opml");
    assert!(s.iter().all(|x| x.title.is_some()), "text is the title fallback");
    assert!(s.iter().any(|x| x.folders.len() == 1));
    let s = subs("opml/castero__subscriptions_valid_no_head.xml");
    assert_eq!(s.len(), 2);
    let s = subs("opml/gnomepod__export_test.opml");
    assert!(s.iter().any(|x| x.title.as_deref().is_some_and(|t| t.contains('\''))), "&apos; decoded");
    let s = subs("opml/alpiepho__overcast.opml");
    assert!(s.iter().any(|x| x.html_url.is_some()));
}

#[test]
fn broken_opml_errs() {
    let row = manifest().into_iter().find(|r| r.kind == "opml(malformed)").unwrap();
    assert_eq!(number_after(&row.notes, "with xmlUrl="), Some(2));
    let err = parse(&row.path).unwrap_err();
    assert!(matches!(err, ParseError::Malformed(_)), "{err:?}");
    assert!(err.to_string().starts_with("malformed opml: "), "{err}");
}

#[test]
fn export_import_round_trip() {
    for path in [
        "opml/rsparser__Subs.opml",
        "opml/rome__opml_2.0.xml",
        "opml/gnomepod__export_test.opml",
        "opml/alpiepho__overcast.opml",
    ] {
        let original = subs(path);
        let text = export_opml("Catalog Sync & friends", &original);
        let back = parse_opml(&text).unwrap_or_else(|e| panic!("{path}: {e}\n{text}"));
        // Folder order in the export groups by folder; compare as sets of equal records.
        let mut a = original.clone();
        let mut b = back.clone();
        a.sort_by(|x, y| x.url.cmp(&y.url));
        b.sort_by(|x, y| x.url.cmp(&y.url));
        assert_eq!(a, b, "{path}");
        assert!(text.contains("<opml version=\"2.0\">") && text.contains("type=\"rss\""));
    }
}
