//! Value encoding of store rows: serde structs serialized with `postcard` (a compact, stable
//! binary format, <https://postcard.jamesmunns.com/wire-format>). [`Row<T>`] is the redb
//! `Value` for any such struct; its redb type name carries `T`'s [`RowType::NAME`], so opening
//! a table with a different row type fails loudly instead of misreading bytes.

use std::fmt::Debug;
use std::marker::PhantomData;

use serde::de::DeserializeOwned;
use serde::Serialize;

/// A row type stored through [`Row`]. `NAME` is unique per layout, e.g. `"ItemRow_v1"`.
pub trait RowType: Serialize + DeserializeOwned + Debug {
    /// Type name recorded by redb for tables holding this row.
    const NAME: &'static str;
}

/// Bytes reserved for a row's encoding before it is written, enough for a typical item row
/// (title, guid, enclosure URL and type); a bigger row grows the buffer as before.
const ROW_CAPACITY: usize = 256;

/// redb `Value` adapter for a [`RowType`].
#[derive(Debug)]
pub struct Row<T>(PhantomData<T>);

impl<T: RowType> redb::Value for Row<T> {
    type SelfType<'a>
        = T
    where
        Self: 'a;
    type AsBytes<'a>
        = Vec<u8>
    where
        Self: 'a;

    fn fixed_width() -> Option<usize> {
        None
    }

    fn from_bytes<'a>(data: &'a [u8]) -> T
    where
        Self: 'a,
    {
        // Bytes in a table were written by `as_bytes` of the same layout (the type name is
        // checked by redb on open), so a decode failure means a corrupt file: a bug, not input.
        postcard::from_bytes(data).unwrap_or_else(|e| panic!("corrupt {} row: {e}", T::NAME))
    }

    fn as_bytes<'a, 'b: 'a>(value: &'a T) -> Vec<u8>
    where
        Self: 'b,
    {
        // sized for a typical row up front: grown from empty, an item row reallocated 5-6 times
        postcard::to_extend(value, Vec::with_capacity(ROW_CAPACITY))
            .expect("postcard serialization of a row cannot fail")
    }

    fn type_name() -> redb::TypeName {
        redb::TypeName::new(T::NAME)
    }
}
