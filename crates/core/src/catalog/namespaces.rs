//! The XML namespaces the feed readers tell apart ([`Ns`]): by URI, or, for a prefix a feed
//! forgot to declare, by the prefix it usually stands for.

/// Podcasting 2.0 namespace URIs: current and legacy.
pub const PODCAST_NS: [&str; 2] = [
    "https://podcastindex.org/namespace/1.0",
    "https://github.com/Podcastindex-org/podcast-namespace/blob/main/docs/1.0.md",
];
/// The iTunes podcast namespace (compared case-insensitively: some feeds uppercase it).
pub const ITUNES_NS: &str = "http://www.itunes.com/dtds/podcast-1.0.dtd";
/// Dublin Core elements 1.1.
const DC_NS: &str = "http://purl.org/dc/elements/1.1/";
/// Media RSS.
pub(crate) const MEDIA_NS: &str = "http://search.yahoo.com/mrss/";
/// Atom 1.0.
const ATOM_NS: &str = "http://www.w3.org/2005/Atom";
/// RSS 1.0.
const RSS1_NS: &str = "http://purl.org/rss/1.0/";
/// RSS `content:` module.
const CONTENT_NS: &str = "http://purl.org/rss/1.0/modules/content/";
/// Well-Formed Web comments (`wfw:commentRss`).
pub(crate) const WFW_NS: &str = "http://wellformedweb.org/CommentAPI/";

/// An element's namespace, as the extras pass and the plain-RSS check tell them apart.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Ns {
    /// No namespace (RSS 2.0 itself).
    None,
    Atom,
    Media,
    Wfw,
    Content,
    Dc,
    Itunes,
    Podcast,
    Rss1,
    Other,
    /// For the plain-RSS check only: a prefix nothing declares, or no prefix in a default
    /// namespace.
    Doubtful,
}

impl Ns {
    /// The namespace named by `uri`.
    pub(crate) fn of_uri(uri: &str) -> Ns {
        match uri {
            _ if PODCAST_NS.contains(&uri) => Ns::Podcast,
            _ if uri.eq_ignore_ascii_case(ITUNES_NS) => Ns::Itunes,
            DC_NS => Ns::Dc,
            MEDIA_NS => Ns::Media,
            ATOM_NS => Ns::Atom,
            RSS1_NS => Ns::Rss1,
            CONTENT_NS => Ns::Content,
            WFW_NS => Ns::Wfw,
            _ => Ns::Other,
        }
    }

    /// The namespace an undeclared prefix usually stands for (`podcast`, `itunes`, `dc`,
    /// `media`), else [`Ns::Other`].
    pub(crate) fn of_prefix(prefix: &str) -> Ns {
        match prefix {
            "podcast" => Ns::Podcast,
            "itunes" => Ns::Itunes,
            "dc" => Ns::Dc,
            "media" => Ns::Media,
            _ => Ns::Other,
        }
    }

    /// One of the extensions the extras pass reads (Podcasting 2.0, iTunes, Dublin Core,
    /// Media RSS); the others hold the feed format's own elements as far as it is concerned.
    pub(crate) fn is_extension(self) -> bool {
        matches!(self, Ns::Podcast | Ns::Itunes | Ns::Dc | Ns::Media)
    }
}
