//! Item identity (placeholder until the catalog module lands).
use super::ParsedItem;
/// Identity of an item.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ItemKey {
    /// guid
    Guid(String),
    /// enclosure url
    EnclosureUrl(String),
    /// hash
    TitleDate(String),
}
impl ItemKey {
    /// prefixed string
    pub fn as_string(&self) -> String {
        match self {
            ItemKey::Guid(g) => format!("guid:{g}"),
            ItemKey::EnclosureUrl(u) => format!("url:{u}"),
            ItemKey::TitleDate(h) => format!("hash:{h}"),
        }
    }
}
/// key
pub fn item_key(item: &ParsedItem) -> ItemKey {
    if let Some(g) = &item.guid { return ItemKey::Guid(g.clone()); }
    if let Some(e) = &item.enclosure { return ItemKey::EnclosureUrl(e.url.clone()); }
    ItemKey::TitleDate(format!("{:?}{:?}", item.title, item.published))
}
