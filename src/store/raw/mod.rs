//! The store's memory: items, each in one heap allocation
//! ([`item_box`]), and the hash index that owns them ([`index`]). All of
//! the store's `unsafe` code is in this module; the rest of the store is
//! safe code over the API here, which stays sound whatever it is called
//! with (a slot that holds no item panics rather than being read).
//!
//! Ownership: an item belongs to exactly one of an [`ItemBox`] or a slot of
//! the [`Index`]; it moves between them by address (`into_addr`,
//! `from_addr`) and is freed once, when its `ItemBox` drops: after a
//! removal, a flush, or with the index.

#![allow(unsafe_code)]
#![warn(clippy::undocumented_unsafe_blocks)]

mod index;
mod item_box;

pub(super) use index::{Index, SlotId, Vacancy};
pub(super) use item_box::{
    bits, block_size, collect_free_pages, is_long, Header, ItemBox, ItemRef, ValueChange,
    EXTENSION_BYTES, HEADER_BYTES,
};
